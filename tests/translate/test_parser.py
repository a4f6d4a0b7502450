"""The R grammar: statements and newlines, assignments, indexing, calls, and syntax errors."""

from __future__ import annotations

import pytest

from interlace.formula import ast
from interlace.translate import ast as rast
from interlace.translate.errors import TranslationError, locate
from interlace.translate.parser import parse_script


def statements(code: str) -> tuple[ast.Node, ...]:
    return parse_script(code).statements


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("a\nb", 2),
        ("a; b", 2),
        ("a\n\n\nb\n", 2),
        ("f(a,\n  b)", 1),  # newline inside ( )
        ("x[a,\n ]", 1),  # inside [ ]
        ("a +\n b", 1),  # after an operator
        ("y ~\n x", 1),
        ("x <-\n 1", 1),
        ("a\n+ b", 2),  # R: two statements (the second is unary plus)
        ("if (a)\n b else c", 1),  # after an if header
        ("{\n a\n b\n}", 1),  # a block is one statement
        ("f <- function(x)\n  x + 1", 1),
        ("# only a comment\n", 0),
        ("x <- 1 # trailing comment\ny <- 2", 2),
    ],
)
def test_statement_separation(code: str, count: int) -> None:
    assert len(statements(code)) == count


@pytest.mark.parametrize(
    ("code", "op", "target", "value"),
    [
        ("x <- 1", "<-", "x", "1"),
        ("x = 1", "=", "x", "1"),
        ("1 -> x", "->", "x", "1"),
        ("x <<- 1", "<<-", "x", "1"),
    ],
)
def test_assignment_directions(code: str, op: str, target: str, value: str) -> None:
    (node,) = statements(code)
    assert isinstance(node, rast.Assign)
    assert node.op == op
    assert isinstance(node.target, ast.Name) and node.target.id == target
    assert isinstance(node.value, ast.Number) and node.value.text == value


def test_named_arguments_are_not_assignments() -> None:
    (node,) = statements("lmer(y ~ x + (1 | g), data = d, REML = FALSE)")
    assert isinstance(node, ast.Call)
    assert [a.name for a in node.args] == [None, "data", "REML"]
    assert isinstance(node.args[0].value, ast.Formula)
    assert isinstance(node.args[2].value, ast.Constant) and node.args[2].value.name == "FALSE"


def test_indexing_forms() -> None:
    single, double, nested = statements('df[df$x > 1, ]\ndf[["a"]]\nx[[y[1]]]')
    assert isinstance(single, rast.Index) and not single.double
    assert isinstance(single.args[1].value, rast.Empty)
    assert isinstance(double, rast.Index) and double.double
    assert isinstance(nested, rast.Index) and nested.double
    inner = nested.args[0].value
    assert isinstance(inner, rast.Index) and not inner.double


def test_dollar_and_namespaces() -> None:
    (dollar,) = statements("summary(fm)$coefficients")
    assert isinstance(dollar, ast.BinaryOp) and dollar.op == "$"
    (call,) = statements("lme4::lmer(y ~ 1 + (1 | g), d)")
    assert isinstance(call, ast.Call) and call.func == "lmer" and call.namespace == "lme4"


def test_pipe_and_constants() -> None:
    (pipe,) = statements("d |> subset(x > 1)")
    assert isinstance(pipe, ast.BinaryOp) and pipe.op == "|>"
    (call,) = statements("c(TRUE, T, F, NULL, NA, Inf)")
    assert isinstance(call, ast.Call)
    assert [a.value.name for a in call.args] == ["TRUE", "T", "F", "NULL", "NA", "Inf"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("code", "keyword"),
    [
        ("for (i in 1:3) print(i)", "for"),
        ("while (TRUE) break", "while"),
        ("repeat { next }", "repeat"),
        ("if (x) y else z", "if"),
        ("f <- \\(x) x", "function"),
    ],
)
def test_control_flow_is_parsed(code: str, keyword: str) -> None:
    (node,) = statements(code)
    if isinstance(node, rast.Assign):
        node = node.value
    assert isinstance(node, rast.Control) and node.keyword == keyword


def test_spans_point_into_the_script() -> None:
    code = "x <- 1\nfm <- lmer(y ~ x, d)"
    _, node = statements(code)
    assert code[node.span.start : node.span.end] == "fm <- lmer(y ~ x, d)"


@pytest.mark.parametrize(
    ("code", "line", "column", "words"),
    [
        ("x <- (1 + 2", 1, 12, "ends inside an unfinished expression"),
        ("fm <- lmer(y ~ x,, d))", 1, 22, "unexpected ')'"),
        ("a <- 1\nb <- 'open", 2, 6, "unterminated string"),
        ("x <- 1 $ 2", 1, 10, "unexpected '2'"),
        ("ok <- 1\n  y <- ? 2", 2, 8, "unexpected character '?'"),
    ],
)
def test_syntax_errors_have_a_caret(code: str, line: int, column: int, words: str) -> None:
    with pytest.raises(TranslationError) as info:
        parse_script(code, "analysis.R")
    err = info.value
    assert words in str(err)
    assert (err.location.line, err.location.column) == (line, column)
    assert str(err).startswith(f"analysis.R:{line}:{column}:")
    caret_line = str(err).splitlines()[-1]
    assert caret_line.index("^") == column - 1 + 2  # two spaces of indent
    assert isinstance(err, ValueError)


def test_locate_counts_lines_and_columns() -> None:
    loc = locate("ab\ncde\n", 4, "f.R")
    assert (loc.line, loc.column, loc.text) == (2, 2, "cde")
    assert str(loc) == "f.R:2:2"
