"""Parse an R script into a :class:`~interlace.translate.ast.Program`.

The grammar is ``grammar/rlang.lark`` (LALR, positions propagated).  A post-lexer applies
R's newline rule before the parser sees the tokens: a newline inside ``( )`` or ``[ ]``, after
an operator still waiting for its right operand, after the header of ``if``/``for``/``while``/
``function``, or before ``else`` continues the expression; any other newline (at top level or
inside ``{ }``) separates statements.  The parse tree becomes AST nodes in
:class:`ScriptTransformer`, which extends the formula transformer (same node types).
Syntax errors are :class:`~interlace.translate.errors.TranslationError` with a caret.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, v_args
from lark.lark import PostLex
from lark.tree import Meta

from interlace.formula import ast
from interlace.formula.transformer import FormulaTransformer
from interlace.translate import ast as rast
from interlace.translate.errors import TranslationError

#: A newline right after one of these tokens continues the expression.
_CONTINUES = frozenset(
    {
        "EQ_ASSIGN",
        "LEFT_ASSIGN",
        "RIGHT_ASSIGN",
        "TILDE",
        "OR_OP",
        "AND_OP",
        "BANG",
        "COMP_OP",
        "ADD_OP",
        "MUL_OP",
        "SPECIAL_OP",
        "PIPE",
        "COLON",
        "CARET",
        "DOLLAR",
        "NS_OP",
        "COMMA",
        "ELSE",
        "REPEAT",
        "IN",
        "LBRACE",
        "NEWLINE",
        "SEMICOLON",
    }
)
#: Keywords whose parenthesised header is followed by a body (a newline may come between).
_HEADERS = frozenset({"IF", "FOR", "WHILE", "FUNCTION", "LAMBDA"})
_OPENERS = frozenset({"LPAR", "LSQB", "LBRACE"})
_CLOSERS = frozenset({"RPAR", "RSQB", "RBRACE"})


class NewlinePostLexer(PostLex):
    """R's rule for which newlines end a statement (see the module docstring)."""

    always_accept = ("NEWLINE",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stack: list[tuple[str, bool]] = []  # opener type, whether it opens a keyword header
        previous: str | None = None
        after_header = False
        pending: Token | None = None
        for token in stream:
            if token.type == "NEWLINE":
                inside = bool(stack) and stack[-1][0] != "LBRACE"
                if not (inside or after_header or previous is None or previous in _CONTINUES):
                    pending = pending or token
                continue
            if pending is not None and token.type != "ELSE":
                yield pending
            pending = None
            after_header = False
            if token.type in _OPENERS:
                stack.append((token.type, previous in _HEADERS))
            elif token.type in _CLOSERS and stack:
                after_header = stack.pop()[1] and token.type == "RPAR"
            yield token
            previous = token.type


def _span(meta: Meta) -> ast.Span:
    if getattr(meta, "empty", True):
        return ast.NO_SPAN
    return ast.Span(meta.start_pos, meta.end_pos)


def _statements(items: tuple[Any, ...]) -> tuple[ast.Node, ...]:
    return tuple(item for item in items if not isinstance(item, Token))


@v_args(meta=True, inline=True)
class ScriptTransformer(FormulaTransformer):
    """Build AST nodes from the parse tree of ``rlang.lark``."""

    def start(self, meta: Meta, *items: Any) -> rast.Program:
        return rast.Program(_statements(items), "", span=_span(meta))

    def assign(self, meta: Meta, left: ast.Node, op: Token, right: ast.Node) -> rast.Assign:
        if op.type == "RIGHT_ASSIGN":
            left, right = right, left
        return rast.Assign(str(op), left, right, span=_span(meta))

    def dollar(self, meta: Meta, obj: ast.Node, op: Token, member: ast.Node) -> ast.BinaryOp:
        return ast.BinaryOp(str(op), obj, member, span=_span(meta))

    def call(  # type: ignore[override]
        self, meta: Meta, callee: ast.Node, _lpar: Token, arguments: Any, _rpar: Token
    ) -> ast.Node:
        args: tuple[ast.Argument, ...] = tuple(arguments)
        if len(args) == 1 and args[0].name is None and isinstance(args[0].value, rast.Empty):
            args = ()  # f()
        span = _span(meta)
        if isinstance(callee, ast.Name | ast.Constant):
            name = callee.id if isinstance(callee, ast.Name) else callee.name
            return ast.Call(name, args, span=span)
        if (
            isinstance(callee, ast.BinaryOp)
            and callee.op in ("::", ":::")
            and isinstance(callee.left, ast.Name)
            and isinstance(callee.right, ast.Name)
        ):
            return ast.Call(callee.right.id, args, callee.left.id, span=span)
        return rast.Apply(callee, args, span=span)

    def index1(self, meta: Meta, obj: ast.Node, _l: Token, arguments: Any, _r: Token) -> rast.Index:
        return rast.Index(obj, tuple(arguments), double=False, span=_span(meta))

    def index2(
        self, meta: Meta, obj: ast.Node, _l1: Token, _l2: Token, arguments: Any, *_r: Token
    ) -> rast.Index:
        return rast.Index(obj, tuple(arguments), double=True, span=_span(meta))

    def arguments(self, meta: Meta, *items: Any) -> tuple[ast.Argument, ...]:
        return tuple(item for item in items if isinstance(item, ast.Argument))

    def named(  # type: ignore[override]
        self, meta: Meta, name: ast.Node, _eq: Token, value: ast.Node
    ) -> ast.Argument:
        return ast.Argument(_name_text(name), value, span=_span(meta))

    def named_empty(self, meta: Meta, name: ast.Node, _eq: Token) -> ast.Argument:
        return ast.Argument(_name_text(name), rast.Empty(span=name.span), span=_span(meta))

    def empty(self, meta: Meta) -> ast.Argument:
        return ast.Argument(None, rast.Empty())

    def paren(  # type: ignore[override]
        self, meta: Meta, _l: Token, body: ast.Node, _r: Token
    ) -> ast.Paren:
        return ast.Paren(body, span=_span(meta))

    def block(self, meta: Meta, *items: Any) -> rast.Block:
        return rast.Block(_statements(items), span=_span(meta))

    def _control(self, meta: Meta, first: Token) -> rast.Control:
        keyword = "function" if first.type == "LAMBDA" else str(first)
        return rast.Control(keyword, span=_span(meta))

    def if_expr(self, meta: Meta, first: Token, *_rest: Any) -> rast.Control:
        return self._control(meta, first)

    for_expr = if_expr
    while_expr = if_expr
    repeat_expr = if_expr
    function_def = if_expr
    keyword = if_expr


def _name_text(node: ast.Node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Constant):
        return node.name
    return "."


@cache
def _parser() -> Lark:
    grammar = resources.files("interlace.translate").joinpath("grammar/rlang.lark").read_text()
    shared = resources.files("interlace.formula").joinpath("grammar")
    return Lark(
        grammar,
        import_paths=[str(shared)],
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=False,
        lexer="basic",
        postlex=NewlinePostLexer(),
    )


def _syntax_error(err: UnexpectedInput, source: str, filename: str) -> TranslationError:
    if isinstance(err, UnexpectedToken):
        token = err.token
        if token.type == "$END":
            return TranslationError(
                "R syntax error: the script ends inside an unfinished expression "
                "(a missing ')' or ']' or operand?)",
                source,
                len(source.rstrip()),
                filename=filename,
            )
        position = token.start_pos or 0
        return TranslationError(
            f"R syntax error: unexpected {str(token)!r}", source, position, filename=filename
        )
    if isinstance(err, UnexpectedCharacters):
        position = err.pos_in_stream or 0
        char = source[position] if position < len(source) else ""
        if char in "`\"'":
            message = f"R syntax error: unterminated {'name' if char == '`' else 'string'}"
        else:
            message = f"R syntax error: unexpected character {char!r}"
        return TranslationError(message, source, position, filename=filename)
    return TranslationError(f"R syntax error: {err}", source, 0, filename=filename)


def parse_script(source: str, filename: str = "<string>") -> rast.Program:
    """Parse R source code.

    Parameters
    ----------
    source
        One call or a whole script.
    filename
        Used in error messages (``file:line:column``).

    Returns
    -------
    Program
        The statements, with spans into ``source``.

    Raises
    ------
    TranslationError
        If ``source`` is not valid R syntax.
    """
    try:
        tree = _parser().parse(source)
    except UnexpectedInput as err:
        raise _syntax_error(err, source, filename) from None
    program = ScriptTransformer().transform(tree)
    assert isinstance(program, rast.Program)
    return rast.Program(program.statements, source, span=program.span)
