"""Type 1, 2 and 3 anova tables and contrast tests against lmerTest (Satterthwaite and KR)."""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from inference_cases import CASES, FIT_DIFFERS, NO_KENWARD_ROGER, fit_case
from inference_helpers import matrix, names, rel_err

from interlace import datasets
from interlace.api.lmer import lmer
from interlace.errors import InterlaceError, InterlaceWarning
from interlace.inference import anova_table, coef_table, contest, hypotheses
from interlace.inference.contrasts import doolittle_lower, zapsmall
from interlace.inference.fixed_terms import assign_by_names
from interlace.results.predict import formula_of

# the parity bar: df 1e-4, F 1e-5, p-values 1e-3 (relative)
DF_TOL, F_TOL, P_TOL = 1e-4, 1e-5, 1e-3

# intercept-only models have no terms to test
NO_TERMS = {"penicillin", "dyestuff2_singular", "dyestuff"}
ANOVA_CASES = [c for c in CASES if c not in NO_TERMS and c not in FIT_DIFFERS]


def _check_table(table: Any, ref: Any) -> None:
    assert list(table.columns) == ["Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)"]
    assert list(table.index) == names(ref["rownames"])
    assert rel_err(table["NumDF"], ref["NumDF"]) == 0.0
    assert rel_err(table["DenDF"], ref["DenDF"]) < DF_TOL
    assert rel_err(table["F value"], ref["F value"]) < F_TOL
    assert rel_err(table["Sum Sq"], ref["Sum Sq"]) < F_TOL
    assert rel_err(table["Pr(>F)"], ref["Pr(>F)"]) < P_TOL


@pytest.mark.parametrize("anova_type", [1, 2, 3])
@pytest.mark.parametrize("case", ANOVA_CASES)
def test_anova_satterthwaite(case: str, anova_type: int, reference: Any) -> None:
    fit, data = fit_case(case)
    ref = reference[case]["anova"]["satterthwaite"][str(anova_type)]
    table = anova_table(fit, type=anova_type, ddf="satterthwaite", data=data)
    _check_table(table, ref)
    assert table.attrs["heading"].startswith(f"Type {'I' * anova_type} Analysis of Variance")


@pytest.mark.parametrize("anova_type", [1, 2, 3])
@pytest.mark.parametrize(
    "case", [c for c in ANOVA_CASES if not c.endswith("_ml") and c not in NO_KENWARD_ROGER]
)
def test_anova_kenward_roger(case: str, anova_type: int, reference: Any) -> None:
    fit, data = fit_case(case)
    ref = reference[case]["anova"]["kenward-roger"][str(anova_type)]
    _check_table(anova_table(fit, type=anova_type, ddf="kenward-roger", data=data), ref)


@pytest.mark.parametrize("anova_type", [1, 2, 3])
@pytest.mark.parametrize("case", ["cake", "cake_sum", "cake_temp", "orthodont"])
def test_hypothesis_matrices_match_lmertest(case: str, anova_type: int, reference: Any) -> None:
    """The contrast matrices themselves (lmerTest rounds them to 7 digits: atol 1e-6)."""
    fit, data = fit_case(case)
    ref = reference[case]["anova"]["satterthwaite"][str(anova_type)]["hypotheses"]
    ours = hypotheses(fit, anova_type, data)
    assert list(ours) == list(ref)
    for term, L in ours.items():
        np.testing.assert_allclose(L, matrix(ref[term], L.shape[1]), atol=1e-6)


def test_type3_does_not_depend_on_the_coding() -> None:
    """Treatment and sum coding of recipe test the same type 3 hypotheses (mathematics)."""
    t_fit, data = fit_case("cake")
    s_fit, _ = fit_case("cake_sum")
    a = anova_table(t_fit, type=3, data=data)
    b = anova_table(s_fit, type=3, data=data)
    np.testing.assert_allclose(a["F value"], b["F value"], rtol=1e-5)


def test_type1_needs_no_data() -> None:
    fit, _ = fit_case("orthodont")
    table = anova_table(fit, type="I")
    assert list(table.index) == ["age", "Sex", "age:Sex"]


def test_type3_uses_the_designs_model_frame() -> None:
    fit, data = fit_case("cake")
    assert fit.design.frame is not None
    pd.testing.assert_frame_equal(anova_table(fit, type=3), anova_table(fit, type=3, data=data))


def test_type3_without_frame_or_data_says_what_to_do() -> None:
    fit, _ = fit_case("cake")
    frameless = replace(fit, design=replace(fit.design, frame=None))
    with pytest.raises(InterlaceError, match="data="):
        anova_table(frameless, type=3)


def test_single_row_contest_is_squared_t() -> None:
    fit, _ = fit_case("orthodont")
    ct = coef_table(fit)
    row = contest(fit, [0, 0, 0, 1])
    assert row["F value"].iloc[0] == pytest.approx(ct["t value"].iloc[3] ** 2, rel=1e-10)
    assert row["DenDF"].iloc[0] == pytest.approx(ct["df"].iloc[3], rel=1e-10)
    t = contest(fit, np.eye(4)[[1, 3]], joint=False)
    np.testing.assert_allclose(t["df"], ct["df"].iloc[[1, 3]], rtol=1e-10)


def test_contest_of_a_term_equals_its_anova_row() -> None:
    fit, data = fit_case("cake")
    hyp = hypotheses(fit, 3, data)["temperature"]
    joint = contest(fit, hyp)
    row = anova_table(fit, type=3, data=data).loc["temperature"]
    assert joint["F value"].iloc[0] == pytest.approx(row["F value"], rel=1e-12)
    assert joint["DenDF"].iloc[0] == pytest.approx(row["DenDF"], rel=1e-12)


def test_contest_rhs_shifts_the_hypothesis() -> None:
    fit, _ = fit_case("sleepstudy")
    est = fit.fe_params["Days"]
    res = contest(fit, [0, 1], rhs=est, joint=False)
    assert res["t value"].iloc[0] == pytest.approx(0.0, abs=1e-9)


def test_bad_anova_type_is_refused() -> None:
    fit, _ = fit_case("sleepstudy")
    with pytest.raises(ValueError, match="unknown anova type"):
        anova_table(fit, type=4)


def test_kenward_roger_needs_reml() -> None:
    fit, _ = fit_case("sleepstudy_ml")
    with pytest.raises(ValueError, match="REML"):
        anova_table(fit, type=1, ddf="kenward-roger")


def test_zapsmall_is_rs() -> None:
    # zapsmall(c(1.23456789, 1e-9)) == c(1.234568, 0) and the same scaled by 100
    np.testing.assert_array_equal(zapsmall(np.array([1.23456789, 1e-9])), [1.234568, 0.0])
    np.testing.assert_array_equal(zapsmall(np.array([123.456789, 1e-7])), [123.4568, 0.0])


def test_doolittle_factorises() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 4))
    a = x.T @ x
    low = doolittle_lower(a)
    upper = np.linalg.solve(low, a)
    assert np.allclose(np.diag(low), 1.0)
    assert np.allclose(np.tril(upper, -1), 0.0, atol=1e-10)


def test_assign_by_names_follows_terms() -> None:
    fit, _ = fit_case("orthodont")
    fixed = formula_of(fit).fixed
    assert assign_by_names(("(Intercept)", "age", "SexFemale", "age:SexFemale"), fixed) == (
        0,
        1,
        2,
        3,
    )


@pytest.mark.parametrize("case", ANOVA_CASES)
def test_lme4_anova(case: str, reference: Any) -> None:
    """ddf="none" is lme4's sequential table (npar, Sum Sq, Mean Sq, F value)."""
    fit, _ = fit_case(case)
    ref = reference[case]["anova_lme4"]
    table = anova_table(fit, type=3, ddf="lme4")
    assert list(table.columns) == ["npar", "Sum Sq", "Mean Sq", "F value"]
    assert list(table.index) == names(ref["rownames"])
    assert rel_err(table["npar"], ref["npar"]) == 0.0
    assert rel_err(table["Sum Sq"], ref["Sum Sq"]) < F_TOL
    assert rel_err(table["F value"], ref["F value"]) < F_TOL


def test_lme4_anova_ignores_type() -> None:
    """As lmerTest's anova(fit, ddf = "lme4"): always lme4's sequential table."""
    fit, _ = fit_case("orthodont")
    a = anova_table(fit, type=1, ddf="none")
    b = anova_table(fit, type=3, ddf="none")
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_type3_warns_about_missing_cells() -> None:
    data = datasets.load("cake")
    data = data[~((data["recipe"] == "C") & (data["temperature"] == "175"))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmer("angle ~ recipe * temperature + (1 | recipe:replicate)", data)
    with pytest.warns(InterlaceWarning, match="Missing cells for: recipeC:temperature175"):
        table = anova_table(fit, type=3, data=data)
    assert list(table["NumDF"]) == [2.0, 5.0, 9.0]
