"""Lark parse tree -> :mod:`interlace.formula.ast` nodes (construction only, no algebra).

Each rule or alias of ``grammar/formula.lark`` has one method here.  The methods only
build frozen AST nodes with their source :class:`~interlace.formula.ast.Span`; what the
operators mean in a model formula is decided in ``expand.py``.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Token, Transformer, v_args
from lark.tree import Meta

from interlace.formula import ast

#: Reserved words that are constants in R (``T`` and ``F`` included, as R users write them).
CONSTANTS = frozenset(
    {
        "TRUE",
        "FALSE",
        "T",
        "F",
        "NULL",
        "NA",
        "Inf",
        "NaN",
        "NA_integer_",
        "NA_real_",
        "NA_character_",
    }
)

#: R spells ``**`` as ``^``.
_OPERATOR_SPELLING = {"**": "^"}


def _span(meta: Meta) -> ast.Span:
    return ast.Span(meta.start_pos, meta.end_pos)


def _token_span(token: Token) -> ast.Span:
    start = token.start_pos if token.start_pos is not None else 0
    end = token.end_pos if token.end_pos is not None else start
    return ast.Span(start, end)


def number_value(text: str) -> float:
    """The numeric value of an R number literal (``1e-3``, ``.5``, ``2L``, ``0x10``).

    Parameters
    ----------
    text
        The literal as written.

    Returns
    -------
    float
        Its value.
    """
    body = text[:-1] if text.endswith("L") else text
    if body[:2].lower() == "0x":
        return float(int(body, 16))
    return float(body)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|.)", re.DOTALL)


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if len(code) > 1:  # \xhh, \uhhhh, \Uhhhhhhhh
        return chr(int(code[1:], 16))
    return _ESCAPES.get(code, code)  # \\ \" \' \` and unknown escapes give the character


def _unquote(text: str) -> str:
    """Resolve a quoted R string or backquoted name (R's backslash escapes)."""
    return _ESCAPE.sub(_unescape, text[1:-1])


@v_args(meta=True, inline=True)
class FormulaTransformer(Transformer[Token, ast.Node]):
    """Build AST nodes from the parse tree of ``formula.lark``."""

    def start(self, meta: Meta, expr: ast.Node) -> ast.Node:
        return expr

    def formula2(self, meta: Meta, lhs: ast.Node, _tilde: Token, rhs: ast.Node) -> ast.Formula:
        return ast.Formula(lhs, rhs, span=_span(meta))

    def formula1(self, meta: Meta, _tilde: Token, rhs: ast.Node) -> ast.Formula:
        return ast.Formula(None, rhs, span=_span(meta))

    def binop(self, meta: Meta, left: ast.Node, op: Token, right: ast.Node) -> ast.BinaryOp:
        spelling = _OPERATOR_SPELLING.get(str(op), str(op))
        return ast.BinaryOp(spelling, left, right, span=_span(meta))

    def unop(self, meta: Meta, op: Token, operand: ast.Node) -> ast.UnaryOp:
        return ast.UnaryOp(str(op), operand, span=_span(meta))

    def paren(self, meta: Meta, body: ast.Node) -> ast.Paren:
        return ast.Paren(body, span=_span(meta))

    def number(self, meta: Meta, token: Token) -> ast.Number:
        return ast.Number(number_value(str(token)), str(token), span=_token_span(token))

    def string(self, meta: Meta, token: Token) -> ast.String:
        return ast.String(_unquote(str(token)), span=_token_span(token))

    def symbol(self, meta: Meta, token: Token) -> ast.Node:
        text = str(token)
        span = _token_span(token)
        if token.type == "BACKQUOTED":
            return ast.Name(_unquote(text), backquoted=True, span=span)
        if text == ".":
            return ast.Dot(span=span)
        if text in CONSTANTS:
            return ast.Constant(text, span=span)
        return ast.Name(text, span=span)

    def namespaced(self, meta: Meta, pkg: ast.Node, op: Token, name: ast.Node) -> ast.BinaryOp:
        return ast.BinaryOp(str(op), pkg, name, span=_span(meta))

    def call(self, meta: Meta, callee: ast.Node, arguments: Any) -> ast.Call:
        args: tuple[ast.Argument, ...] = tuple(arguments) if arguments is not None else ()
        namespace: str | None = None
        if isinstance(callee, ast.BinaryOp):  # pkg::f(...)
            namespace = _symbol_text(callee.left)
            callee = callee.right
        return ast.Call(_symbol_text(callee), args, namespace, span=_span(meta))

    def arguments(self, meta: Meta, *args: ast.Argument) -> tuple[ast.Argument, ...]:
        return args

    def positional(self, meta: Meta, value: ast.Node) -> ast.Argument:
        return ast.Argument(None, value, span=_span(meta))

    def named(self, meta: Meta, name: ast.Node, value: ast.Node) -> ast.Argument:
        return ast.Argument(_symbol_text(name), value, span=_span(meta))


def _symbol_text(node: ast.Node) -> str:
    """The identifier spelled by a name-like node (function names, argument names)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return node.name
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Dot):
        return "."
    raise TypeError(f"not a symbol: {node!r}")  # unreachable: the grammar only allows symbols
