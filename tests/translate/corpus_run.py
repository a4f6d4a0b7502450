"""Running a corpus script's translation (shared by the round-trip tests)."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path
from typing import Any

from interlace.errors import InterlaceWarning, TranslationWarning
from interlace.translate import translate

ROOT = Path(__file__).parents[2]
CORPUS = Path(__file__).parent / "corpus"


class Run:
    """A translated script after running: its namespace, the values it printed, and the
    number of statements left untranslated (``strict=False``)."""

    def __init__(self, script: str) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TranslationWarning)
            python = translate(
                (CORPUS / script).read_text(encoding="utf-8"), strict=False, filename=script
            )
        self.untranslated = python.count("# interlace: untranslated:")
        self.printed: list[Any] = []
        self.namespace: dict[str, Any] = {"print": self.printed.append}
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.chdir(ROOT),
        ):
            warnings.simplefilter("ignore", InterlaceWarning)
            exec(compile(python, script, "exec"), self.namespace)


_RUNS: dict[str, Run] = {}


def run(script: str) -> Run:
    """Each script is translated and run once per session."""
    if script not in _RUNS:
        _RUNS[script] = Run(script)
    return _RUNS[script]
