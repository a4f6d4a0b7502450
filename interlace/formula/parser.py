"""Parse R formula text into the AST of :mod:`interlace.formula.ast`.

The grammar is ``grammar/formula.lark`` (LALR, positions propagated); the parse tree is
turned into AST nodes by :class:`~interlace.formula.transformer.FormulaTransformer`.
Syntax errors become :class:`~interlace.errors.FormulaSyntaxError` with the 0-based
position of the offending token, shown with a caret.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from lark import Lark, Token, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from interlace.errors import FormulaSyntaxError
from interlace.formula import ast
from interlace.formula.transformer import FormulaTransformer


@cache
def _parser() -> Lark:
    grammar = resources.files("interlace.formula").joinpath("grammar/formula.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse_expression(text: str) -> ast.Node:
    """Parse any R expression of the formula language (with or without ``~``).

    Parameters
    ----------
    text
        R code such as ``"log(x, base = 2)"`` or ``"y ~ x + (1 | g)"``.

    Returns
    -------
    ast.Node
        The expression's AST (a :class:`~interlace.formula.ast.Formula` if it has ``~``).

    Raises
    ------
    FormulaSyntaxError
        If the text is not valid R syntax of the formula language.
    """
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as err:
        raise _syntax_error(text, err) from None
    node: ast.Node = FormulaTransformer().transform(tree)
    return node


def parse(text: str) -> ast.Formula:
    """Parse a model formula such as ``"y ~ x + (1 | g)"``.

    Parameters
    ----------
    text
        The formula as the user wrote it (one- or two-sided).

    Returns
    -------
    ast.Formula
        Its AST; ``Formula.text`` holds ``text``.

    Raises
    ------
    FormulaSyntaxError
        If the text is not valid R syntax, or has no top-level ``~``.
    """
    node = parse_expression(text)
    if not isinstance(node, ast.Formula):
        raise FormulaSyntaxError(
            "a model formula needs '~' between the response and the terms", text, node.span.start
        )
    return ast.Formula(node.lhs, node.rhs, text=text, span=node.span)


def _token_message(token: Token, expected: set[str]) -> str:
    """A short explanation of an unexpected token (lark's expected sets are too broad)."""
    if token.type == "$END":
        if "RPAR" in expected:
            return "missing ')': the formula ends inside parentheses"
        return "the formula ends too early: an operand is missing"
    if token.type == "TILDE":
        return "unexpected '~': a formula has one '~' between the response and the terms"
    if token.type == "RPAR":
        return "unexpected ')': it closes no '('"
    return f"unexpected {str(token)!r}"


def _syntax_error(text: str, err: UnexpectedInput) -> FormulaSyntaxError:
    """Turn a lark error into a FormulaSyntaxError pointing at the offending column."""
    if isinstance(err, UnexpectedToken):
        token = err.token
        position = len(text) if token.type == "$END" else (token.start_pos or 0)
        return FormulaSyntaxError(_token_message(token, set(err.expected)), text, position)
    if isinstance(err, UnexpectedCharacters):
        position = err.pos_in_stream or 0
        char = text[position]
        if char in "`\"'":
            message = f"unterminated {'name' if char == '`' else 'string'} starting here"
        elif char in "[]":
            message = "indexing with [ ] is not part of the formula language; make a column instead"
        else:
            message = f"unexpected character {char!r}"
        return FormulaSyntaxError(message, text, position)
    if isinstance(err, UnexpectedEOF):
        return FormulaSyntaxError("the formula ends too early", text, len(text))
    return FormulaSyntaxError(str(err), text, 0)  # pragma: no cover - lark has no other kinds
