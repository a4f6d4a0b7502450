"""Typed abstract syntax tree of R formulas.

The parser (``parser.py``) turns formula text into these frozen nodes and does
nothing else; all formula algebra lives in ``expand.py``.  The tree keeps R's
generic view of a formula: operators are :class:`BinaryOp`/:class:`UnaryOp`
nodes whatever their model meaning, so ``(x | g)`` is a :class:`Paren` around
a ``BinaryOp("|", ...)`` and ``us(x | g)`` is a :class:`Call`.  Every node has a
:class:`Span` into the source text so that errors can point at it.

Interface notes (for code that walks the tree)
----------------------------------------------
``Name`` (a variable or bare function argument), ``Number``, ``String``,
``Constant`` (``TRUE``, ``FALSE``, ``T``, ``F``, ``NULL``, ``NA``, ``Inf``, ``NaN``),
``Dot`` (``.``), ``Call``, ``BinaryOp``, ``UnaryOp``, ``Paren`` and ``Formula``.
``deparse.deparse(node)`` gives R's text for a node.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Span:
    """Half-open range ``[start, end)`` of 0-based character offsets in the source."""

    start: int
    end: int


NO_SPAN = Span(0, 0)


@dataclass(frozen=True)
class Node:
    """Base class of all AST nodes."""

    span: Span = field(default=NO_SPAN, compare=False, kw_only=True)


@dataclass(frozen=True)
class Name(Node):
    """A symbol: a variable name (backquotes removed) or a bare argument symbol.

    ``backquoted`` records that the source used backquotes, which R's deparse
    keeps only for non-syntactic names.
    """

    id: str
    backquoted: bool = False


@dataclass(frozen=True)
class Number(Node):
    """A numeric literal; ``text`` is the source spelling (``1e-3``, ``2L``)."""

    value: float
    text: str


@dataclass(frozen=True)
class String(Node):
    """A string literal (quotes removed, escapes resolved)."""

    value: str


@dataclass(frozen=True)
class Constant(Node):
    """A reserved constant: ``TRUE FALSE T F NULL NA Inf NaN`` (spelled as written)."""

    name: str


@dataclass(frozen=True)
class Dot(Node):
    """The bare ``.``: every data column not otherwise in the formula."""


@dataclass(frozen=True)
class Argument(Node):
    """One argument of a call; ``name`` is ``None`` for a positional argument."""

    name: str | None
    value: Node


@dataclass(frozen=True)
class Call(Node):
    """A function call ``func(args)``; ``namespace`` holds ``pkg`` of ``pkg::func``."""

    func: str
    args: tuple[Argument, ...]
    namespace: str | None = None


@dataclass(frozen=True)
class BinaryOp(Node):
    """A binary operator: ``+ - * / : ^ %in% %op% | || == != < > <= >= & && $ ~``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class UnaryOp(Node):
    """A prefix operator: ``-``, ``+`` or ``!``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Paren(Node):
    """Explicit parentheses in the source (kept: R's deparse prints them)."""

    body: Node


@dataclass(frozen=True)
class Formula(Node):
    """A formula ``lhs ~ rhs``; ``lhs`` is ``None`` for a one-sided formula."""

    lhs: Node | None
    rhs: Node
    text: str = field(default="", compare=False)
