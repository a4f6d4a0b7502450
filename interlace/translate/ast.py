"""Syntax-tree nodes of R scripts, on top of the formula AST.

Expressions reuse the nodes of :mod:`interlace.formula.ast` (``Name``, ``Number``,
``String``, ``Constant``, ``Dot``, ``Call``, ``Argument``, ``BinaryOp``, ``UnaryOp``,
``Paren``, ``Formula``), so a model formula found in a script is already a formula AST.
This module adds what scripts have and formulas do not: assignments, indexing, calls of
computed functions, empty arguments, blocks, control flow and function definitions.

Interface notes (for code that walks the tree)
----------------------------------------------
A :class:`Program` holds statements in source order.  ``$`` and ``@`` are
``BinaryOp("$" | "@", obj, Name | String)``.  ``x[i, j]`` is ``Index(x, args, double=False)``;
``x[[i]]`` is ``Index(x, args, double=True)``.  Every node has a ``span`` (0-based offsets
into the whole script).
"""

from __future__ import annotations

from dataclasses import dataclass

from interlace.formula.ast import Argument, Node


@dataclass(frozen=True)
class Empty(Node):
    """A missing argument, as in ``df[, 1]`` or ``alist(x = )``."""


@dataclass(frozen=True)
class Assign(Node):
    """An assignment; ``op`` is as written (``<-``, ``<<-``, ``=``, ``->``, ``->>``).

    ``target`` is always the assigned-to expression and ``value`` the assigned value,
    whatever the direction of the arrow.
    """

    op: str
    target: Node
    value: Node


@dataclass(frozen=True)
class Index(Node):
    """Indexing ``obj[args]`` (``double=False``) or ``obj[[args]]`` (``double=True``)."""

    obj: Node
    args: tuple[Argument, ...]
    double: bool


@dataclass(frozen=True)
class Apply(Node):
    """A call of a computed function, e.g. ``get("f")(x)`` or ``obj$method(x)``."""

    callee: Node
    args: tuple[Argument, ...]


@dataclass(frozen=True)
class Block(Node):
    """A braced block ``{ ... }``."""

    statements: tuple[Node, ...]


@dataclass(frozen=True)
class Control(Node):
    """A control-flow construct or function definition, kept only to be reported.

    ``keyword`` is ``if``, ``for``, ``while``, ``repeat``, ``function``, ``break`` or ``next``.
    """

    keyword: str


@dataclass(frozen=True)
class Program(Node):
    """A whole script: its statements in source order, and the source text."""

    statements: tuple[Node, ...]
    source: str
