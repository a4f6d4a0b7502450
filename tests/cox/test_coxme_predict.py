"""Predictions and residuals of coxme fits against survival (fixtures/R/coxme_predict.R).

The R script maximises the penalised partial likelihood at coxme's estimated variance with
``coxph(... + frailty(g, "gaussian", theta = v, method = "fixed"))`` and evaluates survival's
residuals and ``survfit`` for ``coxph(Surv ~ x + offset(Zb), init = beta, iter.max = 0)``.

* With R's ``beta`` and ``b`` put into a fit, interlace reproduces survival to rounding.
* interlace's own estimates are coxme's, whose final Newton fit stops at a relative change
  of 1e-8 in the penalised likelihood; R's fit is converged further, so the end-to-end
  comparison carries that difference (at most about 1e-5 in ``b``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from cox_data import dataset, fitted, predict_reference

from interlace.api.coxme import coxme
from interlace.errors import FormulaError, InterlaceError, NewLevelError
from interlace.results.coxme_result import CoxmeResult

PREDICT_CASES = list(predict_reference())


def _at_r_estimates(case_id: str) -> CoxmeResult:
    """The interlace fit with survival's ``beta`` and ``b`` in place of its own."""
    fit = fitted(case_id)
    ref = predict_reference()[case_id]
    by_level = dict(zip([str(lv) for lv in ref["levels"]], ref["ranef"], strict=True))
    (term,) = fit.design.layout.terms
    b = np.array([by_level[str(level)] for level in term.levels])
    beta = np.array(list(ref["coef"].values()))
    return replace(fit, fit=replace(fit.fit, beta=beta, b=b))


@pytest.mark.parametrize("case_id", PREDICT_CASES)
def test_rows_and_linear_predictor(case_id: str) -> None:
    ref = predict_reference()[case_id]
    exact = _at_r_estimates(case_id)
    assert list(exact.design.row_labels) == ref["rows"]
    np.testing.assert_allclose(exact.predict(), ref["lp"], rtol=0, atol=1e-12)
    pd.testing.assert_series_equal(exact.predict(type="link"), exact.predict())  # API.md name
    np.testing.assert_allclose(exact.predict(type="risk"), np.exp(ref["lp"]), rtol=1e-12)
    np.testing.assert_allclose(exact.fittedvalues, ref["lp"], rtol=0, atol=1e-12)


@pytest.mark.parametrize("case_id", PREDICT_CASES)
def test_residuals_at_r_estimates(case_id: str) -> None:
    ref = predict_reference()[case_id]
    exact = _at_r_estimates(case_id)
    np.testing.assert_allclose(exact.residuals(), ref["martingale"], rtol=0, atol=1e-11)
    np.testing.assert_allclose(exact.residuals("deviance"), ref["deviance"], rtol=0, atol=1e-11)
    score = exact.residuals("score")
    assert list(score.columns) == list(ref["coef"])
    np.testing.assert_allclose(score.to_numpy(), np.array(ref["score"]).T, rtol=0, atol=1e-10)


@pytest.mark.parametrize("case_id", PREDICT_CASES)
def test_survival_curves_at_r_estimates(case_id: str) -> None:
    ref = predict_reference()[case_id]
    exact = _at_r_estimates(case_id)
    frame = dataset(ref["data"])
    for curve in ref["survfit"]:
        got = exact.predict(frame.loc[[curve["row"]]], type="survival")
        at = got[got["time"].isin(curve["time"])]
        # R reports the censoring times too; the event times are the steps.
        np.testing.assert_array_equal(at["time"], curve["time"])
        assert set(got["row"]) == {curve["row"]}
        np.testing.assert_allclose(at["survival"], curve["survival"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(at["cumhaz"], curve["cumhaz"], rtol=1e-10)
        if curve.get("strata") is not None:
            assert set(got["strata"]) == {f"sex={curve['strata']}"}


@pytest.mark.parametrize("case_id", PREDICT_CASES)
def test_own_estimates_against_survival(case_id: str) -> None:
    """End to end: interlace's coxme estimates against R's fully converged penalised fit."""
    ref = predict_reference()[case_id]
    fit = fitted(case_id)
    (group,) = fit.random_effects
    ranef = fit.ranef()[group]["Intercept"]
    ranef.index = [str(level) for level in ranef.index]
    levels = [str(level) for level in ref["levels"]]
    np.testing.assert_allclose(ranef[levels], ref["ranef"], rtol=0, atol=2e-5)
    np.testing.assert_allclose(fit.residuals(), ref["martingale"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(fit.residuals("deviance"), ref["deviance"], rtol=0, atol=1e-5)
    np.testing.assert_allclose(
        fit.residuals("score").to_numpy(), np.array(ref["score"]).T, rtol=0, atol=1e-4
    )
    frame = dataset(ref["data"])
    for curve in ref["survfit"]:
        got = fit.predict(frame.loc[[curve["row"]]], type="survival")
        at = got[got["time"].isin(curve["time"])]
        np.testing.assert_allclose(at["survival"], curve["survival"], rtol=0, atol=5e-6)


def test_newdata_reproduces_the_fitted_rows() -> None:
    fit = fitted("lung_inst")
    lung = dataset("lung")
    own = fit.predict()
    again = fit.predict(lung)
    np.testing.assert_allclose(again[own.index], own, rtol=1e-13)
    assert again.index.equals(lung.index)
    # rows with a missing predictor are NaN
    assert again[lung["ph.ecog"].isna()].isna().all()


def test_population_level_is_the_fixed_part() -> None:
    fit = fitted("kidney_frailty")
    kidney = dataset("kidney")
    fixed = kidney[["age", "sex"]].to_numpy() @ fit.fe_params.to_numpy()
    np.testing.assert_allclose(fit.predict(re_form="NA"), fixed, rtol=1e-13)
    np.testing.assert_allclose(fit.predict(kidney, re_form="~0"), fixed, rtol=1e-13)
    np.testing.assert_allclose(fit.predict(kidney, re_form="~ (1 | id)"), fit.predict(kidney))
    with pytest.raises(FormulaError, match="not in the model"):
        fit.predict(kidney, re_form="~ (1 | sex)")


def test_new_levels() -> None:
    fit = fitted("kidney_frailty")
    new = dataset("kidney").iloc[:3].assign(id=[1, 999, 1000])
    with pytest.raises(NewLevelError, match="grouping factor id: 999, 1000") as err:
        fit.predict(new)
    assert err.value.remedy is not None and "allow_new_levels" in err.value.remedy
    got = fit.predict(new, allow_new_levels=True)
    fixed = fit.predict(new, re_form="NA")
    assert got.iloc[0] == pytest.approx(fit.predict().iloc[0], rel=1e-13)
    np.testing.assert_allclose(got.iloc[1:], fixed.iloc[1:], rtol=1e-13)


def test_survival_at_given_times_is_a_step_function() -> None:
    fit = fitted("lung_strata")
    lung = dataset("lung")
    base = fit.predict(lung.iloc[[0]], type="survival")
    times = [0.0, base["time"].iloc[0], base["time"].iloc[1] - 0.5, 1e6]
    got = fit.predict(lung.iloc[[0]], type="survival", times=times)
    assert list(got.columns) == ["row", "strata", "time", "cumhaz", "survival"]
    expected = [1.0, *base["survival"].iloc[[0, 0]], base["survival"].iloc[-1]]
    np.testing.assert_allclose(got["survival"], expected, rtol=1e-14)
    with pytest.raises(NewLevelError, match="strata"):
        fit.predict(lung.iloc[[0]].assign(sex=3), type="survival")


def test_invalid_arguments() -> None:
    fit = fitted("kidney_frailty")
    with pytest.raises(InterlaceError, match="type"):
        fit.predict(type="response")  # type: ignore[arg-type]
    with pytest.raises(InterlaceError, match="times"):
        fit.predict(times=[1.0])
    with pytest.raises(InterlaceError, match="type"):
        fit.residuals("schoenfeld")  # type: ignore[arg-type]


def test_martingale_residuals_sum_to_zero() -> None:
    """Without weights, sum_i e_i c_i equals the number of events."""
    assert abs(fitted("cgd_counting").resid.sum()) < 1e-10


def test_random_slopes_on_new_data() -> None:
    kidney = dataset("kidney")
    fit = coxme("Surv(time, status) ~ age + (1 + sex | disease)", kidney)
    np.testing.assert_allclose(fit.predict(kidney), fit.fittedvalues, rtol=1e-13)
    ranef = fit.ranef()["disease"]
    row = kidney.iloc[[0]]
    b = ranef.loc[str(row["disease"].iloc[0])]
    expected = (
        fit.fe_params["age"] * row["age"].iloc[0] + b["Intercept"] + b["sex"] * row["sex"].iloc[0]
    )
    assert fit.predict(row).iloc[0] == pytest.approx(expected, rel=1e-13)
    # re_form keeping the intercept only
    only = fit.predict(row, re_form="~ (1 | disease)").iloc[0]
    assert only == pytest.approx(expected - b["sex"] * row["sex"].iloc[0], rel=1e-13)
