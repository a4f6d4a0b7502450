"""Each formula error kind: its class, the words of its message and the caret column."""

from __future__ import annotations

import re

import pytest

from interlace.errors import FormulaError, UnknownFunctionError
from interlace.formula import formula_ir, parse
from interlace.ir.terms import LME4

# (formula, error class, 0-based caret position, words the message must contain)
ERRORS = [
    ("y ~ x + 1 | g", FormulaError, 10, "R reads this as (x + 1) | g"),
    ("y ~ (1 | g) + x || h", FormulaError, 16, "outside parentheses"),
    ("y ~ x + (0 | g)", FormulaError, 9, "(0 | g) has no intercept"),
    ("y ~ x + (-1 | g)", FormulaError, 9, "needs something to vary"),
    ("y ~ x + (1 | g) + (1 | g)", FormulaError, 19, "(1 | g) appears twice"),
    ("y ~ (x || g) + (1 | g)", FormulaError, 16, "(1 | g) appears twice"),
    ("y ~ x + (g | g)", FormulaError, 9, "g is on both sides"),
    ("y ~ x + (1 + g | g/h)", FormulaError, 9, "both sides"),
    ("y ~ d$x + (1 | g)", FormulaError, 5, "name the data column"),
    ("y ~ x + (1 | d$g)", FormulaError, 14, "'$'"),
    ("y ~ stats::x + (1 | g)", FormulaError, 9, "namespace"),
    ("y ~ foo(x) + (1 | g)", UnknownFunctionError, 4, "unknown function foo()"),
    ("y ~ I(lg(x)) + (1 | g)", UnknownFunctionError, 6, "did you mean log()"),
    ("y ~ x + (lgg(x) | g)", UnknownFunctionError, 9, "lgg()"),
    ("y ~ x:(1 | g)", FormulaError, 4, "added to the model with '+'"),
    ("y ~ x + diag(x) + (1 | g)", FormulaError, 8, "diag() wraps one random-effect term"),
    ("y ~ x + ou(x | g)", FormulaError, 8, "ou() is not supported"),
    ("y ~ x + diag(x | g, foo = 1)", FormulaError, 20, "hom = TRUE"),
    ("y ~ x + 2 + (1 | g)", FormulaError, 8, "the number 2 is not a model term"),
    ("y ~ x^z + (1 | g)", FormulaError, 6, "positive whole number"),
    ("y ~ . + (1 | g)", FormulaError, 4, "pass the column names"),
    ("y ~ x + (1 | 2)", FormulaError, 13, "not a grouping factor"),
    ("y ~ 'x' + (1 | g)", FormulaError, 4, "not a model term"),
    ("y ~ x + (offset(w) | g)", FormulaError, 9, "offset() cannot be a random effect"),
    ("y ~ x + cbind(a, b) + (1 | g)", FormulaError, 8, "belongs on the left of '~'"),
    ("(1 | g) ~ x + (1 | g)", FormulaError, 1, "belongs on the right of '~'"),
    ("y ~ (1 | g) - 1", FormulaError, 4, "lme4 reads it as '+ 1'"),
    ("y ~ x - (1 | g)", FormulaError, 4, "added to the model with '+'"),
]


@pytest.mark.parametrize(("text", "kind", "position", "words"), ERRORS)
def test_error_message_and_column(
    text: str, kind: type[FormulaError], position: int, words: str
) -> None:
    with pytest.raises(kind) as info:
        formula_ir(text)
    message = str(info.value)
    assert words in message
    match = re.search(r"\(column (\d+)\)", message)
    assert match is not None
    assert int(match.group(1)) == position + 1
    lines = message.splitlines()
    assert lines[-2] == "  " + text
    assert lines[-1] == "  " + " " * position + "^"
    assert (info.value.formula, info.value.position) == (text, position)
    assert info.value.column_number == position + 1


def test_unknown_function_names_it() -> None:
    with pytest.raises(UnknownFunctionError) as info:
        formula_ir("y ~ pmax(x, 0) + (1 | g)")
    assert info.value.term == "pmax"


def test_missing_random_terms_for_lme4() -> None:
    with pytest.raises(FormulaError, match="no random-effect terms"):
        formula_ir("y ~ x", dialect=LME4)


def test_accepts_a_parsed_formula() -> None:
    tree = parse("y ~ x + (1 | g)")
    assert formula_ir(tree).fixed.labels == ("x",)


def test_multiline_formula_keeps_the_caret_aligned() -> None:
    with pytest.raises(FormulaError) as info:
        formula_ir("y ~ x +\n    foo(z) + (1 | g)")
    lines = str(info.value).splitlines()
    assert lines[-2] == "  y ~ x +     foo(z) + (1 | g)"
    assert lines[-1].index("^") - 2 == lines[-2].index("foo") - 2


def test_exp_is_a_function_unless_it_wraps_a_bar() -> None:
    ir = formula_ir("y ~ exp(x) + (1 | g)")
    assert ir.fixed.labels == ("exp(x)",)
    with pytest.raises(FormulaError, match=r"exp\(\) is not supported"):
        formula_ir("y ~ exp(x | g)")
