"""Satterthwaite df against lmerTest: the variance-parameter model and the coefficient table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from inference_cases import CASES, FIT_DIFFERS, fit_case
from inference_helpers import names, rel_err, vec

from interlace.inference import coef_table
from interlace.inference.satterthwaite import Satterthwaite, pooled_ddf
from interlace.inference.varpar import varpar_model

# the parity bar: df 1e-4 relative, p-values 1e-3 relative
DF_TOL, P_TOL = 1e-4, 1e-3


@pytest.mark.parametrize("case", list(CASES))
def test_varpar_model_at_r_estimates(case: str, reference: Any) -> None:
    """At lme4's θ and σ, lmerTest's vcov_varpar and Jacobian (numDeriv) to 1e-5."""
    ref = reference[case]
    fit, _ = fit_case(case)
    vp = varpar_model(fit.design, vec(ref["theta"]), ref["sigma"], vec(ref["beta"]), fit.REML)
    k = vec(ref["theta"]).size + 1
    p = vec(ref["beta"]).size
    a_r = np.asarray(ref["vcov_varpar"], dtype=float).reshape(k, k)
    assert np.max(np.abs(vp.vcov_varpar - a_r)) <= 1e-5 * np.max(np.abs(a_r))
    for i, jac in enumerate(ref["jac"]):
        j_r = np.asarray(jac, dtype=float).reshape(p, p)
        assert np.max(np.abs(vp.jacobian[i] - j_r)) <= 1e-6 * np.max(np.abs(j_r)) + 1e-8


@pytest.mark.parametrize("case", [c for c in CASES if c not in FIT_DIFFERS])
def test_coef_table_satterthwaite(case: str, reference: Any) -> None:
    ref = reference[case]["coef_satterthwaite"]
    fit, _ = fit_case(case)
    table = coef_table(fit, ddf="satterthwaite")
    assert list(table.columns) == ["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"]
    assert list(table.index) == names(ref["rownames"])
    assert rel_err(table["Estimate"], ref["Estimate"]) < 1e-5
    assert rel_err(table["Std. Error"], ref["Std. Error"]) < 1e-5
    assert rel_err(table["df"], ref["df"]) < DF_TOL
    assert rel_err(table["t value"], ref["t value"]) < 1e-5
    assert rel_err(table["Pr(>|t|)"], ref["Pr(>|t|)"]) < P_TOL


@pytest.mark.parametrize("case", sorted(FIT_DIFFERS))
def test_satterthwaite_tests_at_r_estimates(case: str, reference: Any) -> None:
    """Where the fits differ slightly, the t tests at lme4's estimates (df to 1e-6)."""
    ref = reference[case]
    fit, _ = fit_case(case)
    beta = vec(ref["beta"])
    vp = varpar_model(fit.design, vec(ref["theta"]), ref["sigma"], beta, fit.REML)
    tests = [Satterthwaite(vp).t_test(row) for row in np.eye(beta.size)]
    r = ref["coef_satterthwaite"]
    assert rel_err([t.se for t in tests], r["Std. Error"]) < 1e-8
    assert rel_err([t.df for t in tests], r["df"]) < 1e-6
    assert rel_err([t.p for t in tests], r["Pr(>|t|)"]) < 1e-6


def test_coef_table_none_is_lme4(reference: Any) -> None:
    ref = reference["sleepstudy"]["coef_lme4"]
    fit, _ = fit_case("sleepstudy")
    table = coef_table(fit, ddf="lme4")
    assert list(table.columns) == ["Estimate", "Std. Error", "t value"]
    assert rel_err(table["t value"], ref["t value"]) < 1e-6


def test_balanced_cake_df_are_integers() -> None:
    """In the balanced split-plot design the df are the stratum df: 42 and 210 (mathematics)."""
    fit, _ = fit_case("cake")
    df = coef_table(fit)["df"].to_numpy()
    assert np.allclose(df[:3], 42.0, rtol=1e-6)
    assert np.allclose(df[3:], 210.0, rtol=1e-6)


def test_pooled_ddf_rules() -> None:
    assert pooled_ddf(np.array([7.5])) == 7.5
    assert pooled_ddf(np.array([10.0, 10.0 + 1e-10])) == pytest.approx(10.0)
    assert pooled_ddf(np.array([1.5, 30.0])) == 2.0
    nu = np.array([10.0, 20.0])
    e = 10 / 8 + 20 / 18
    assert pooled_ddf(nu) == pytest.approx(2 * e / (e - 2))


def test_unknown_ddf_name_is_refused() -> None:
    fit, _ = fit_case("sleepstudy")
    with pytest.raises(ValueError, match="unknown ddf"):
        coef_table(fit, ddf="residual")
