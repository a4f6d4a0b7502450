"""``translate(code)``: R source → Python source; ``r(code, **frames)``: fit one pasted R call.

>>> print(translate("fm1 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"))
import interlace.datasets
<BLANKLINE>
sleepstudy = interlace.datasets.load("sleepstudy")
fm1 = interlace.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)
<BLANKLINE>
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from interlace.errors import TranslationWarning
from interlace.formula import ast
from interlace.translate import mapping
from interlace.translate.core import UnsupportedError, strip_parens
from interlace.translate.emit import Translator
from interlace.translate.errors import FitterUnavailableError, TranslationError, locate
from interlace.translate.parser import parse_script
from interlace.translate.pycode import identifier


def _bundled_names() -> Collection[str]:
    from interlace import datasets

    return frozenset(datasets.names())


def translate(code: str, *, strict: bool = True, filename: str = "<string>") -> str:
    """Translate R code (one call or a whole script) into Python that uses interlace.

    Parameters
    ----------
    code
        R source: model calls (``lmer``, ``glmer``, ``glmer.nb``, ``glmmTMB``, ``clmm``,
        ``coxme``, ``lme``), their accessors, and the data loading and preparation around
        them.  See ``docs/translate.md`` for what is translated.
    strict
        ``True`` (default): raise on the first construct without a translation.  ``False``:
        write it as a ``# interlace: untranslated:`` comment and issue a
        :class:`~interlace.errors.TranslationWarning`.
    filename
        Shown in error locations (``file:line:column``).

    Returns
    -------
    str
        Python source.  R semantics that differ from a naive reading (REML defaults, ``||``,
        ``x^2`` in formulas, ...) are explained in ``# interlace: note:`` comments; the ones
        that probably change the model also raise a ``TranslationWarning``.

    Raises
    ------
    TranslationError
        For R syntax errors, and (``strict=True``) for untranslatable code; the message
        shows ``file:line:column`` and a caret.
    """
    program = parse_script(code, filename)
    translator = Translator(code, filename, strict, _bundled_names())
    return translator.run(program)


def _model_call(code: str) -> tuple[ast.Call, mapping.Fitter]:
    """The single model call in ``code`` (``library()`` lines and an assignment allowed)."""
    program = parse_script(code)
    calls = []
    for statement in program.statements:
        node = strip_parens(statement)
        if isinstance(node, ast.Call) and node.func in (
            "library",
            "require",
            "suppressPackageStartupMessages",
        ):
            continue
        value = getattr(node, "value", node)
        value = strip_parens(value)
        if not (isinstance(value, ast.Call) and value.func in mapping.FITTERS):
            raise TranslationError(
                "interlace.r() evaluates one model call (lmer, glmer, "
                "glmer.nb, glmmTMB, clmm, coxme or lme); use "
                "interlace.translate() for scripts",
                code,
                statement.span.start,
            )
        calls.append(value)
    if len(calls) != 1:
        raise TranslationError(
            f"interlace.r() needs exactly one model call, got {len(calls)}", code, 0
        )
    return calls[0], mapping.FITTERS[calls[0].func]


def r(code: str, **frames: pd.DataFrame) -> Any:
    """Fit one pasted R model call and return interlace's result.

    Parameters
    ----------
    code
        One model call, e.g. ``"lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)"``
        (it may be assigned, and preceded by ``library()`` lines).
    **frames
        The data frames the call names, by their R names (``sleepstudy=df``); names with dots
        can be passed as ``**{"my.data": df}``.  A name not given here may be a bundled
        dataset.  The frames are not modified.

    Returns
    -------
    The fitted result (``LmerResult`` for ``lmer``, ...).

    Raises
    ------
    TranslationError
        If the code is not one translatable model call.
    FitterUnavailableError
        If interlace has no fitter for this model class yet.
    """
    call, fitter = _model_call(code)
    try:
        module = importlib.import_module("interlace")
        function = getattr(module, fitter.python, None)
        if function is None:
            function = getattr(
                importlib.import_module(f"interlace.api.{fitter.python}"), fitter.python
            )
    except (ImportError, AttributeError):
        raise FitterUnavailableError(
            f"{fitter.r_name}() is translated to interlace.{fitter.python}(), which is not "
            "available in this version of interlace yet",
            remedy="use interlace.translate() to see the Python call",
        ) from None
    available = _bundled_names()
    translator = Translator(code, "<r>", True, available - frames.keys())
    for name in frames:
        translator.define(name, "frame")
    try:
        expression = translator.expr(call)
    except UnsupportedError as err:
        raise TranslationError(str(err), code, err.node.span.start, filename="<r>") from None
    for finding in translator.findings:
        if finding.level == "warning":
            where = locate(code, finding.position, "<r>")
            warnings.warn(f"{where}: {finding.message}", TranslationWarning, stacklevel=2)
    namespace: dict[str, Any] = {
        translator.symbols[name].python: frame.copy(deep=False) for name, frame in frames.items()
    }
    namespace["interlace"] = _InterlaceNamespace(module, fitter.python, function)
    namespace["pd"] = pd
    namespace["np"] = np
    for line in translator.before:  # bundled datasets named by the call
        exec(compile(line, "<interlace.r>", "exec"), namespace)
    try:
        return eval(compile(expression.text, "<interlace.r>", "eval"), namespace)
    except NameError as err:
        missing = _r_name(str(err.name), translator.symbols.keys(), code)
        raise TranslationError(
            f"interlace.r(): the call uses {missing!r}, which is neither a data frame passed "
            f"as r(code, {missing}=...) nor a bundled dataset",
            code,
            max(code.find(missing), 0),
        ) from None


def _r_name(python: str, known: Collection[str], code: str) -> str:
    """The R spelling of an undefined Python name (``my_data`` may be ``my.data``)."""
    for match in re.finditer(r"[A-Za-z.][\w.]*", code):
        if identifier(match.group()) == python and match.group() not in known:
            return match.group()
    return python


class _InterlaceNamespace:
    """``interlace`` as the evaluated call sees it: the package, with the fitter resolved."""

    def __init__(self, module: Any, name: str, function: Any) -> None:
        self._module = module
        self._name = name
        self._function = function

    def __getattr__(self, attr: str) -> Any:
        if attr == self._name:
            return self._function
        if attr in ("datasets", "families"):
            return importlib.import_module(f"interlace.{attr}")
        return getattr(self._module, attr)


__all__ = ["r", "translate"]
