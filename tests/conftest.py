"""Shared pytest set-up: is R here, the ``r`` marker, and R fixture outputs (live or stored).

Reference values come from R scripts in ``fixtures/R/`` (see ``scripts/regenerate_fixtures.sh``).
A test that compares against R asks for :func:`r_outputs` (or a fixture built on it) and gets
either

* **live** outputs: the script is run once per session into a temporary directory, or
* **stored** outputs: the JSON files committed under ``fixtures/``.

Mode selection (environment):

``INTERLACE_R_MODE``
    ``auto`` (default): live when :func:`r_available`, else stored. ``live``: live, and an error
    when R is missing. ``stored``: always the committed files.
``INTERLACE_REQUIRE_R=1``
    R must be present (CI): tests marked ``r`` and live-mode fixtures *fail* instead of
    skipping or falling back to the stored files.

Tests marked ``@pytest.mark.r`` need live R (for example, stored-versus-live checks); they are
skipped without R unless ``INTERLACE_REQUIRE_R=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "fixtures"
R_SCRIPTS = FIXTURES / "R"

Mode = Literal["live", "stored"]


@cache
def r_available() -> bool:
    """Whether ``Rscript`` is on PATH and can load lme4."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False
    try:
        done = subprocess.run(
            [rscript, "-e", "suppressPackageStartupMessages(library(lme4))"],
            capture_output=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def r_required() -> bool:
    """Whether the environment demands R (``INTERLACE_REQUIRE_R=1``)."""
    return os.environ.get("INTERLACE_REQUIRE_R", "") == "1"


def r_mode() -> Mode:
    """The fixture mode chosen by ``INTERLACE_R_MODE`` and the presence of R (see module doc)."""
    wanted = os.environ.get("INTERLACE_R_MODE", "auto").strip().lower()
    if wanted not in {"auto", "live", "stored"}:
        raise pytest.UsageError(f"INTERLACE_R_MODE must be auto, live or stored, not {wanted!r}")
    if wanted == "stored":
        return "stored"
    if r_available():
        return "live"
    if wanted == "live" or r_required():
        pytest.fail("R (Rscript with lme4) is required but not available", pytrace=False)
    return "stored"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or fail, under ``INTERLACE_REQUIRE_R=1``) ``r``-marked tests when R is missing."""
    if item.get_closest_marker("r") is None or r_available():
        return
    if r_required():
        pytest.fail(
            "INTERLACE_REQUIRE_R=1 but R (Rscript with lme4) is not available", pytrace=False
        )
    pytest.skip("R (Rscript with lme4) is not available")


@dataclass(frozen=True)
class ROutputs:
    """The JSON files written by one fixture script, by file stem.

    Attributes
    ----------
    mode : {"live", "stored"}
        Where the files come from.
    directory : Path
        The directory holding them.
    """

    mode: Mode
    directory: Path

    def __getitem__(self, stem: str) -> Any:
        path = self.directory / f"{stem}.json"
        if not path.is_file():
            raise KeyError(f"no R output {path} ({self.mode} mode); regenerate the fixtures")
        return load_json(path)

    def stems(self) -> list[str]:
        """Stems of all JSON files present."""
        return sorted(p.stem for p in self.directory.glob("*.json"))


def load_json(path: Path) -> Any:
    """Read a fixture JSON file (``Infinity``/``NaN`` tokens allowed, as the R writer emits)."""
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def run_r_script(script: str, out_dir: Path) -> None:
    """Run ``fixtures/R/<script>`` with ``--out out_dir``; raise with R's stderr on failure."""
    rscript = shutil.which("Rscript")
    assert rscript is not None
    done = subprocess.run(
        [rscript, str(R_SCRIPTS / script), "--out", str(out_dir)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO_ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"Rscript {script} failed ({done.returncode}):\n{done.stderr}")


def assert_r_fixture_current(script: str, fixture: Path, tmp_path: Path) -> None:
    """The committed ``fixture`` is byte for byte what ``fixtures/R/<script>`` writes today."""
    run_r_script(script, tmp_path)
    fresh = (tmp_path / fixture.name).read_text(encoding="utf-8")
    assert fresh == fixture.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def r_outputs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str, str], ROutputs]]:
    """Factory ``(script, stored_dir) -> ROutputs``; each script runs at most once per session.

    ``script`` is a file name in ``fixtures/R/``; ``stored_dir`` is the directory (relative to
    ``fixtures/``) where the committed outputs of that script live.
    """
    runs: dict[str, ROutputs] = {}

    def get(script: str, stored_dir: str) -> ROutputs:
        if script not in runs:
            if r_mode() == "live":
                out = tmp_path_factory.mktemp(Path(script).stem)
                run_r_script(script, out)
                runs[script] = ROutputs("live", out)
            else:
                runs[script] = ROutputs("stored", FIXTURES / stored_dir)
        return runs[script]

    yield get


@pytest.fixture(scope="session")
def design_reference(r_outputs: Callable[[str, str], ROutputs]) -> ROutputs:
    """R's outputs for ``fixtures/design_cases.json`` (``fixtures/R/design.R``)."""
    return r_outputs("design.R", "design")
