"""Fixed-part algebra against R's terms.formula (R_SEMANTICS table A and extra rows).

Expected values: fixtures/formula/terms.json, written by fixtures/R/formula_terms.R from
``terms(formula[, data])`` (labels, intercept, variables, offsets, response).
"""

from __future__ import annotations

from typing import Any

import pytest

from interlace.formula import formula_ir
from interlace.ir.terms import FIXED, Variable

from .conftest import load_cases


def _plain(variable: Variable) -> str:
    # R's attr(, "variables") deparses bare symbols without backquotes
    return variable.label.strip("`") if variable.label.startswith("`") else variable.label


@pytest.mark.parametrize("case", load_cases("terms"), ids=lambda c: f"{c['id']} {c['formula']}")
def test_terms_match_r(case: dict[str, Any]) -> None:
    ir = formula_ir(case["formula"], dialect=FIXED, columns=case.get("columns"))
    fixed = ir.fixed
    assert list(fixed.labels) == case["labels"]
    assert fixed.intercept == bool(case["intercept"])
    assert [_plain(v) for v in fixed.variables] == case["variables"]
    assert [v.label for v in fixed.offsets] == case["offsets"]
    response = None if ir.response is None else ir.response.label
    assert response == case["response"]
    assert fixed.response == ir.response


def test_table_a_is_covered() -> None:
    ids = {c["id"][:3] for c in load_cases("terms")}
    assert {f"A{i:02d}" for i in range(1, 37)} <= ids


def test_term_variables_follow_variable_order() -> None:
    ir = formula_ir("y ~ b:a + a", dialect=FIXED)
    assert [v.label for v in ir.fixed.terms[1].variables] == ["b", "a"]
    assert ir.fixed.terms[1].order == 2


def test_variables_keep_their_expressions() -> None:
    ir = formula_ir("y ~ log(x, base = 2)", dialect=FIXED)
    (variable,) = ir.fixed.terms[0].variables
    assert variable.label == "log(x, base = 2)"
    assert type(variable.expr).__name__ == "Call"


def test_dot_in_lme4_includes_the_grouping_column() -> None:
    # R_SEMANTICS table A note: lFormula(y ~ . + (1|g), d) puts g into X too
    ir = formula_ir("y ~ . - z + (1 | g)", columns=["y", "x", "z", "g"])
    assert ir.fixed.labels == ("x", "g")
    assert [r.source for r in ir.random] == ["1 | g"]
