"""deparse() reproduces the labels R gives terms (fixtures/formula/deparse.json, from R)."""

from __future__ import annotations

import re

import pytest

from interlace.formula.deparse import deparse, format_number, is_syntactic
from interlace.formula.parser import parse_expression

from .conftest import load_cases


@pytest.mark.parametrize("case", load_cases("deparse"), ids=lambda c: c["input"])
def test_label_matches_r(case: dict[str, str]) -> None:
    # R: attr(terms(~ INPUT), "term.labels")
    assert deparse(parse_expression(case["input"])) == case["label"]


# R: deparse(<number>) / format(<number>, digits = 15), R 4.2.2
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.001, "0.001"),
        (1e-4, "1e-04"),
        (1e5, "1e+05"),
        (123456.0, "123456"),
        (0.5, "0.5"),
        (1e-300, "1e-300"),
        (1 / 3, "0.333333333333333"),
        (0.1 + 0.2, "0.3"),
        (100.0, "100"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


def test_integer_literals_print_plainly() -> None:
    # R: deparse(quote(f(1e5L)), control = NULL) is "f(100000)"
    assert format_number(1e5, integer=True) == "100000"


@pytest.mark.parametrize(
    ("name", "syntactic"),
    [
        ("x", True),
        (".x", True),
        ("x_1.b", True),
        (".", True),
        ("my var", False),
        ("1x", False),
        (".1x", False),
        ("_a", False),
        ("if", False),
        ("TRUE", False),
    ],
)
def test_syntactic_names(name: str, syntactic: bool) -> None:
    assert is_syntactic(name) is syntactic


# R's own output parses back to the same text (except integer literals, whose L suffix R
# drops: f(1e5L) is labelled f(100000), which as a double deparses to f(1e+05))
@pytest.mark.parametrize(
    "case",
    [c for c in load_cases("deparse") if not re.search(r"[0-9]L\b", c["input"])],
    ids=lambda c: c["input"],
)
def test_r_labels_are_fixed_points(case: dict[str, str]) -> None:
    assert deparse(parse_expression(case["label"])) == case["label"]
