"""Formula front-end: parse R model formulas, deparse them as R does, expand them to the IR.

Public functions: :func:`parse` (text -> AST), :func:`deparse` (AST -> R's text) and
:func:`formula_ir` (text or AST -> :class:`~interlace.ir.terms.FormulaIR`).

They are loaded on first use, so that ``interlace.ir.terms`` (which needs
``interlace.formula.ast``) and ``interlace.formula.expand`` (which needs
``interlace.ir.terms``) can import each other's modules in either order.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interlace.formula.deparse import deparse
    from interlace.formula.expand import formula_ir
    from interlace.formula.parser import parse

__all__ = ["deparse", "formula_ir", "parse"]

_HOMES = {
    "deparse": "interlace.formula.deparse",
    "formula_ir": "interlace.formula.expand",
    "parse": "interlace.formula.parser",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'interlace.formula' has no attribute {name!r}")
