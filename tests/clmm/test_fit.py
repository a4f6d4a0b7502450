"""clmm fits against ordinal::clmm (R 4.2.2, ordinal 2022.11-16; fixtures/R/clmm.R).

Parity bar: thresholds and β to 1e-4 relative (1e-5 absolute for the small
interaction of the cloglog case, whose relative error is 2e-4 while interlace's
log-likelihood is the higher one; 1e-4 absolute for soup_crossed, where ordinal
stops at max.grad 3e-3 on a flat ridge), random-effect SDs to 1e-3, log-likelihood
at least R's − 1e-4, standard errors to 2e-3 relative (both are central
differences of the objective with step 1e-4).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from clmm_fixtures import CASES, FIT_CASES, Case, fitted

from interlace.api.clmm import clmm
from interlace.datasets import load
from interlace.errors import InterlaceError, NewLevelError, RankDeficiencyWarning


@pytest.mark.parametrize("case", FIT_CASES)
def test_estimates_match_ordinal(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    assert list(fit.thresholds.index) == list(ref["alpha"]["names"])
    assert list(fit.fe_params.index) == list(ref["beta"]["names"])
    assert list(fit.threshold_values.index) == list(ref["Theta"]["names"])
    atol = case.atol
    np.testing.assert_allclose(fit.thresholds, ref["alpha"]["values"], rtol=1e-4, atol=atol)
    np.testing.assert_allclose(fit.fe_params, ref["beta"]["values"], rtol=1e-4, atol=atol)
    np.testing.assert_allclose(fit.threshold_values, ref["Theta"]["values"], rtol=1e-4, atol=atol)
    sds = np.concatenate([np.atleast_1d(v["stddev"]) for v in ref["varcorr"]])
    vc = fit.varcorr()
    vc = vc[vc["var2"].isna()]
    groups = [v["group"] for v in ref["varcorr"] for _ in np.atleast_1d(v["stddev"])]
    assert list(vc["grp"]) == groups
    np.testing.assert_allclose(vc["sdcor"], sds, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("case", FIT_CASES)
def test_loglik_and_information_criteria(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    assert fit.llf >= ref["logLik"] - 1e-4
    assert fit.llf == pytest.approx(ref["logLik"], abs=1e-4)
    assert fit.df_modelwc == ref["df"]
    assert fit.nobs == ref["nobs"]
    assert fit.aic == pytest.approx(ref["AIC"], abs=2e-4)


@pytest.mark.parametrize("case", FIT_CASES)
def test_vcov_as_ordinal_reports_it(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    vc = fit.cov_params()
    assert list(vc.index) == list(ref["vcov"]["names"])
    expected = np.array(ref["vcov"]["values"], dtype=float).T
    np.testing.assert_allclose(np.sqrt(np.diag(vc)), np.sqrt(np.diag(expected)), rtol=2e-3)
    table = np.array(ref["coefficients"]["values"], dtype=float).T
    np.testing.assert_allclose(fit.coef_table.to_numpy()[:, 1], table[:, 1], rtol=2e-3)
    p = len(fit.fe_params)
    np.testing.assert_allclose(fit.bse, table[-p:, 1] if p else [], rtol=2e-3)
    assert fit.converged


@pytest.mark.parametrize("case", FIT_CASES)
def test_summary_layout(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    ours = str(fit.summary()).split("\n")
    theirs = ref["summary"].split("\n")
    # the title, formula and data lines and the block headings are R's; numbers are checked above
    assert ours[: theirs.index("")] == theirs[: theirs.index("")]
    for heading in ("Random effects:", "Coefficients:", "Threshold coefficients:"):
        assert heading in ours
    assert [line for line in ours if line.startswith("Number of groups")] == [
        line for line in theirs if line.startswith("Number of groups")
    ]


@pytest.mark.parametrize("case", FIT_CASES)
def test_random_effects_are_conditional_modes(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    frames = fit.ranef(condVar=True)
    assert list(frames) == list(ref["ranef"])
    for group, frame in frames.items():
        assert list(frame.index) == list(ref["ranef"][group]["levels"])
        values = np.array(ref["ranef"][group]["values"], dtype=float).T
        np.testing.assert_allclose(frame.to_numpy(), values, rtol=2e-3, atol=1e-4)
        # ordinal's condVar: the diagonals of the conditional covariances
        variances = np.concatenate(
            [np.diagonal(pv, axis1=1, axis2=2) for pv in frame.attrs["postVar"]], axis=1
        )
        expected = np.array(ref["condvar"][group], dtype=float).T
        np.testing.assert_allclose(variances, expected, rtol=2e-3, atol=1e-6)


def test_integer_weights_equal_repeated_rows() -> None:
    wine = load("wine")
    twice = (wine["bottle"] == "1").to_numpy()
    weighted = clmm(
        "rating ~ temp + contact + (1 | judge)", wine, weights=np.where(twice, 2.0, 1.0)
    )
    repeated = clmm(
        "rating ~ temp + contact + (1 | judge)",
        wine.loc[np.r_[np.arange(len(wine)), np.flatnonzero(twice)]].reset_index(drop=True),
    )
    np.testing.assert_allclose(weighted.params, repeated.params, rtol=1e-5)
    assert weighted.llf == pytest.approx(repeated.llf, abs=1e-7)
    assert weighted.nobs == repeated.nobs == len(wine) + twice.sum()


def test_random_slope_covariance() -> None:
    case = next(c for c in CASES if c.name == "wine_slope")
    ref, fit = case.reference(), fitted(case)
    (expected,) = ref["varcorr"]
    cov = fit.variance_components["judge"]
    assert list(cov.columns) == list(expected["names"])
    np.testing.assert_allclose(cov.to_numpy(), np.array(expected["vcov"]).T, rtol=2e-3, atol=1e-5)


@pytest.mark.parametrize("case", CASES[:3], ids=lambda c: c.name)
def test_predicted_probabilities_of_observed_categories(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    prob = fit.predict(type="prob")
    assert isinstance(prob, pd.DataFrame)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, rtol=1e-12)
    observed = prob.to_numpy()[np.arange(len(prob)), fit.design.y]
    np.testing.assert_allclose(observed, ref["fitted"], rtol=2e-4)
    cum = fit.predict(type="cum.prob").to_numpy()
    np.testing.assert_allclose(np.cumsum(prob.to_numpy(), axis=1), cum, atol=1e-12)
    classes = fit.predict(type="class")
    assert isinstance(classes, pd.Series)
    assert list(classes.cat.categories) == list(ref["y_levels"])
    np.testing.assert_array_equal(classes.cat.codes, np.argmax(prob.to_numpy(), axis=1))


def test_predict_new_data_and_levels() -> None:
    fit = fitted(CASES[0])
    new = pd.DataFrame({"temp": ["cold", "warm"], "contact": ["no", "yes"], "judge": ["1", "99"]})
    with pytest.raises(NewLevelError, match="99"):
        fit.predict(new)
    both = fit.predict(new, allow_new_levels=True, type="linear.predictor")
    population = fit.predict(new, re_form="NA", type="linear.predictor")
    b1 = fit.ranef()["judge"].loc["1", "(Intercept)"]
    beta = fit.fe_params
    assert population.iloc[0] == pytest.approx(0.0)
    assert population.iloc[1] == pytest.approx(beta["tempwarm"] + beta["contactyes"])
    assert both.iloc[0] == pytest.approx(b1)
    assert both.iloc[1] == pytest.approx(population.iloc[1])
    with pytest.raises(InterlaceError, match="type must be"):
        fit.predict(type="response")


def test_rank_deficient_design_drops_ordinals_columns() -> None:
    """ordinal's drop.coef: the same columns dropped, its message, and the fit of the rest."""
    case = next(c for c in CASES if c.name == "wine_rankdef")
    ref = case.reference()
    (message,) = ref["messages"]  # "design is column rank deficient so dropping 3 coef"
    with pytest.warns(RankDeficiencyWarning) as record:
        fit = clmm(case.formula, load(case.data))
    (warning,) = [w for w in record if issubclass(w.category, RankDeficiencyWarning)]
    assert str(warning.message).startswith(message + ": ")
    assert str(warning.message).endswith("bottle6, bottle8, tempwarm:contactyes")
    assert list(fit.fe_params.index) == list(ref["beta"]["names"])
