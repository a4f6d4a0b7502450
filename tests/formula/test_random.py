"""Random-effect terms against lme4's findbars/nobars/expandDoubleVerts (table C).

Expected values: fixtures/formula/findbars.json, written by fixtures/R/formula_terms.R
(lme4 1.1-31): for each bar, its deparse, the term labels and intercept of its left side,
and the grouping expression; plus terms(nobars(formula)).
"""

from __future__ import annotations

from typing import Any

import pytest

from interlace.formula import formula_ir
from interlace.ir.terms import COXME, GLMMTMB, LME4, ORDINAL, CovSpec

from .conftest import load_cases

# Rows where interlace follows reformulas (lme4 >= 1.1-36) rather than lme4 1.1-31:
# nested groupings are flattened, R_SEMANTICS table C13 [V reformulas 0.4.5].
REFORMULAS_GROUPS = {"C13": {"k:(h:g)": "k:h:g"}}


@pytest.mark.parametrize("case", load_cases("findbars"), ids=lambda c: f"{c['id']} {c['formula']}")
def test_random_terms_match_lme4(case: dict[str, Any]) -> None:
    ir = formula_ir(case["formula"])
    fixes = REFORMULAS_GROUPS.get(case["id"], {})
    expected_groups = [fixes.get(b["group"], b["group"]) for b in case["bars"]]
    assert [r.group_label for r in ir.random] == expected_groups
    assert [list(r.lhs.labels) for r in ir.random] == [b["lhs_labels"] for b in case["bars"]]
    assert [r.lhs.intercept for r in ir.random] == [bool(b["lhs_intercept"]) for b in case["bars"]]
    expected_sources = [b["source"] for b in case["bars"]]
    for old, new in fixes.items():
        expected_sources = [s.replace(old, new) for s in expected_sources]
    assert [r.source for r in ir.random] == expected_sources
    # the fixed part is R's terms(nobars(formula))
    assert list(ir.fixed.labels) == case["fixed_labels"]
    assert ir.fixed.intercept == bool(case["fixed_intercept"])
    assert [v.label for v in ir.fixed.offsets] == case["fixed_offsets"]


def test_nested_grouping_variables() -> None:
    (inner, outer) = formula_ir("y ~ (1 | g/h)").random
    assert [v.label for v in inner.group] == ["h", "g"]
    assert [v.label for v in outer.group] == ["g"]


# lme4 >= 1.1-36 (reformulas) expands crossed groupings; R_SEMANTICS C17/C18 [V reformulas 0.4.5].
# lme4 1.1-31 (installed here) stops with "Invalid grouping factor specification, g * h".
@pytest.mark.parametrize(
    ("formula", "groups"),
    [("y ~ (1 | g*h)", ["g", "h", "g:h"]), ("y ~ (1 | g+h)", ["g", "h"])],
)
def test_crossed_groupings_expand_like_reformulas(formula: str, groups: list[str]) -> None:
    assert [r.group_label for r in formula_ir(formula).random] == groups


def test_covariance_specials() -> None:
    ir = formula_ir("y ~ us(x | g) + diag(x | h, hom = TRUE) + cs(1 | k) + ar1(0 + f | s)")
    assert [r.covariance for r in ir.random] == [
        CovSpec("us"),
        CovSpec("diag", hom=True),
        CovSpec("cs"),
        CovSpec("ar1"),
    ]
    assert ir.random[3].lhs.intercept is False


def test_coxme_has_no_implicit_intercept() -> None:
    (term,) = formula_ir("Surv(time, status) ~ age + (x | g)", dialect=COXME).random
    assert term.lhs.intercept is False
    assert term.lhs.labels == ("x",)
    (explicit,) = formula_ir("Surv(time, status) ~ age + (1 + x | g)", dialect=COXME).random
    assert explicit.lhs.intercept is True


def test_glmmtmb_reads_double_bar_as_diag() -> None:
    (term,) = formula_ir("y ~ x + (cond || g)", dialect=GLMMTMB).random
    assert term.covariance == CovSpec("diag")
    assert term.lhs.intercept is True
    assert term.lhs.labels == ("cond",)


def test_lme4_splits_double_bar_by_term() -> None:
    # table C08: a factor term stays one (correlated) block
    terms = formula_ir("y ~ x + (cond || g)", dialect=ORDINAL).random
    assert [(t.lhs.intercept, t.lhs.labels) for t in terms] == [(True, ()), (False, ("cond",))]
    assert all(t.covariance == CovSpec() for t in terms)


def test_glmmtmb_allows_no_random_terms() -> None:
    assert formula_ir("y ~ x", dialect=GLMMTMB).random == ()


def test_random_term_spans() -> None:
    text = "y ~ x + (1 | g)"
    (term,) = formula_ir(text).random
    assert text[term.span.start : term.span.end] == "1 | g"


def test_dialect_is_recorded() -> None:
    assert formula_ir("y ~ (1 | g)").dialect is LME4


# glmmTMB 1.1.5's splitForm (fixtures/formula/glmmtmb.json): bars and covariance classes
@pytest.mark.parametrize("case", load_cases("glmmtmb"), ids=lambda c: f"{c['id']} {c['formula']}")
def test_glmmtmb_dialect_matches_splitform(case: dict[str, Any]) -> None:
    ir = formula_ir(case["formula"], dialect=GLMMTMB)
    assert [r.source for r in ir.random] == case["bars"]
    assert [r.covariance.kind for r in ir.random] == case["classes"]
