"""Parser: R's syntax tree (precedence, associativity, atoms) and syntax errors with columns.

Expected trees come from R itself: ``fixtures/R/formula_terms.R`` prints ``str2lang(input)``
as a parenthesised S-expression into ``fixtures/formula/parse.json``.
"""

from __future__ import annotations

import pytest

from interlace.errors import FormulaSyntaxError
from interlace.formula import ast, parse
from interlace.formula.deparse import deparse
from interlace.formula.parser import parse_expression

from .conftest import load_cases


def sexp(node: ast.Node) -> str:
    """The same S-expression as the R script's ``sexp()``."""
    if isinstance(node, ast.Formula):
        parts = ([] if node.lhs is None else [sexp(node.lhs)]) + [sexp(node.rhs)]
        return "(~ " + " ".join(parts) + ")"
    if isinstance(node, ast.BinaryOp):
        return f"({node.op} {sexp(node.left)} {sexp(node.right)})"
    if isinstance(node, ast.UnaryOp):
        return f"({node.op} {sexp(node.operand)})"
    if isinstance(node, ast.Paren):
        return f"(( {sexp(node.body)})"
    if isinstance(node, ast.Call):
        head = node.func if node.namespace is None else f"(:: {node.namespace} {node.func})"
        args = [sexp(a.value) if a.name is None else f"{a.name}={sexp(a.value)}" for a in node.args]
        return "(" + " ".join([head, *args]) + ")"
    if isinstance(node, ast.Name):
        return node.id
    return deparse(node)


@pytest.mark.parametrize("case", load_cases("parse"), ids=lambda c: c["input"])
def test_tree_matches_r(case: dict[str, str]) -> None:
    assert sexp(parse(case["input"])) == case["sexp"]


def test_spans_point_into_the_source() -> None:
    text = "log(y) ~ x + (1 + x | g)"
    tree = parse(text)
    assert tree.text == text
    assert tree.lhs is not None
    assert text[tree.lhs.span.start : tree.lhs.span.end] == "log(y)"
    rhs = tree.rhs
    assert isinstance(rhs, ast.BinaryOp)
    assert text[rhs.right.span.start : rhs.right.span.end] == "(1 + x | g)"


def test_atoms() -> None:
    call = parse_expression("f(`my var`, .5, 2L, 'a\\'b', T, NULL, ., x.y_1)")
    assert isinstance(call, ast.Call)
    values = [a.value for a in call.args]
    assert values[0] == ast.Name("my var", backquoted=True)
    assert values[1] == ast.Number(0.5, ".5")
    assert values[2] == ast.Number(2.0, "2L")
    assert values[3] == ast.String("a'b")
    assert values[4] == ast.Constant("T")
    assert values[5] == ast.Constant("NULL")
    assert values[6] == ast.Dot()
    assert values[7] == ast.Name("x.y_1")


def test_parser_is_cached() -> None:
    from interlace.formula.parser import _parser

    assert _parser() is _parser()


# (text, 0-based position of the caret, words the message must contain)
SYNTAX_ERRORS = [
    ("y ~ x +", 7, "ends too early"),
    ("y ~ (x | g", 10, "missing ')'"),
    ("y ~ x + * z", 8, "unexpected '*'"),
    ("y ~ x ? z", 6, "unexpected character '?'"),
    ('y ~ "abc', 4, "unterminated string"),
    ("y ~ `abc", 4, "unterminated name"),
    ("y ~ f(x,,)", 8, "unexpected ','"),
    ("y x", 2, "unexpected 'x'"),
    ("y ~ x ~ z", 6, "one '~'"),
    ("y ~ a < b < c", 10, "unexpected '<'"),
    ("y ~ x)", 5, "closes no '('"),
    ("y ~ x[1]", 5, "indexing"),
    ("x + z", 0, "needs '~'"),
    ("", 0, "ends too early"),
]


@pytest.mark.parametrize(("text", "position", "words"), SYNTAX_ERRORS)
def test_syntax_error_column(text: str, position: int, words: str) -> None:
    with pytest.raises(FormulaSyntaxError) as info:
        parse(text)
    err = info.value
    assert err.position == position
    assert err.column_number == position + 1
    message = str(err)
    assert words in message
    assert f"(column {position + 1})" in message
    caret_line = message.splitlines()[-1]
    assert caret_line == "  " + " " * position + "^"


def test_string_escapes() -> None:
    call = parse_expression(r"f('a\'b', `a\`b`, '\x41\u00e9\n')")
    assert isinstance(call, ast.Call)
    values = [a.value for a in call.args]
    assert values == [ast.String("a'b"), ast.Name("a`b", backquoted=True), ast.String("A\u00e9\n")]


def test_importing_the_ir_first_works() -> None:
    # interlace.ir.terms imports interlace.formula.ast; expand imports interlace.ir.terms
    import subprocess
    import sys

    code = (
        "import interlace.ir.terms; from interlace.formula import formula_ir; "
        "formula_ir('y ~ (1|g)')"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
