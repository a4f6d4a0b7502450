"""``lme(weights = varIdent/varPower/varExp)`` against nlme 3.1-162 (R 4.2.2).

Reference numbers come from fixtures/R/lme_varfunc.R (fixtures/lme_varfunc/varfunc.json):
logLik, AIC, BIC, df, fixed effects, their standard errors, σ, the random
effects' standard deviations, the variance function's coefficients, the
standardized residuals, ``anova(fit)``, ``intervals(fit, which = "fixed")`` and
the printed summary.  The log-likelihood is flat along the variance
parameters, so the optimum's location (δ, σ) agrees less closely than logLik;
the tolerances below are what BOBYQA reaches with lme's default settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace import varExp, varIdent, varPower
from interlace.api.lme import lme
from interlace.datasets import load
from interlace.design.lformula import lformula
from interlace.engine.gaussian import GaussianObjective
from interlace.engine.variance_function import VarFuncObjective
from interlace.errors import DataError, FormulaError
from interlace.results.lme_result import LmeResult
from tests.conftest import assert_r_fixture_current, load_json

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lme_varfunc" / "varfunc.json"


def _orthodont_chr() -> pd.DataFrame:
    data = load("Orthodont")
    return data.assign(Subject=data["Subject"].astype(str))


#: case -> (fit, relative tolerance of the optimum's location: δ, σ, SDs, SEs)
CASES: dict[str, tuple[Callable[[], LmeResult], float]] = {
    "orthodont_ident": (
        lambda: lme(
            "distance ~ age * Sex",
            load("Orthodont"),
            random="~ 1 | Subject",
            weights=varIdent("~ 1 | Sex"),
            data_name="Orthodont",
        ),
        1e-5,
    ),
    "orthodont_ident_ml": (
        lambda: lme(
            "distance ~ age * Sex",
            load("Orthodont"),
            random="~ 1 | Subject",
            weights=varIdent("~ 1 | Sex"),
            method="ML",
            data_name="Orthodont",
        ),
        1e-5,
    ),
    "orthodont_ident_chr": (
        lambda: lme(
            "distance ~ age * Sex",
            _orthodont_chr(),
            random="~ 1 | Subject",
            weights=varIdent("~ 1 | Sex"),
            data_name="OrthodontChr",
        ),
        1e-5,
    ),
    "orthodont_power": (
        lambda: lme(
            "distance ~ age * Sex",
            load("Orthodont"),
            random="~ 1 | Subject",
            weights=varPower("~ age"),
            data_name="Orthodont",
        ),
        2e-5,
    ),
    "bodyweight_power": (
        lambda: lme(
            "weight ~ Time * Diet",
            load("BodyWeight"),
            random="~ Time | Rat",
            weights=varPower("~ Time"),
            method="ML",
            data_name="BodyWeight",
        ),
        2e-5,
    ),
    "orthodont_exp": (
        lambda: lme(
            "distance ~ age",
            load("Orthodont"),
            random="~ age | Subject",
            weights=varExp("~ age"),
            data_name="Orthodont",
        ),
        3e-4,
    ),
}


@cache
def fixture() -> dict[str, Any]:
    data: dict[str, Any] = load_json(FIXTURE)
    return data


@cache
def fit_of(case: str) -> LmeResult:
    return CASES[case][0]()


@pytest.mark.r
@pytest.mark.slow
def test_fixture_is_current(tmp_path: Path) -> None:
    """The committed fixture is what fixtures/R/lme_varfunc.R writes with today's R and nlme."""
    assert_r_fixture_current("lme_varfunc.R", FIXTURE, tmp_path)


def test_fixture_records_versions() -> None:
    versions = fixture()["versions"]
    assert versions["R"].startswith("R version 4.2.2")
    assert versions["packages"]["nlme"] == "3.1.162"


@pytest.mark.parametrize("case", list(CASES))
def test_likelihood_and_fixed_effects_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    fit = fit_of(case)
    assert fit.method == want["method"]
    assert fit.nobs == want["nobs"]
    assert fit.df_model == want["df"]
    np.testing.assert_allclose(fit.llf, want["logLik"], rtol=1e-9)
    np.testing.assert_allclose([fit.aic, fit.bic], [want["AIC"], want["BIC"]], rtol=1e-9)
    assert list(fit.fe_params.index) == want["fixef_names"]
    np.testing.assert_allclose(fit.fe_params, want["fixef"], rtol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_variance_parameters_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    fit = fit_of(case)
    rtol = CASES[case][1]
    params = fit.varfunc_params
    assert list(params.index) == want["varfunc_names"]
    np.testing.assert_allclose(params, want["varfunc"], rtol=rtol)
    assert fit.varfunc_delta is not None
    np.testing.assert_allclose(fit.varfunc_delta, want["varfunc_unconstrained"], rtol=rtol)
    np.testing.assert_allclose(fit.sigma, want["sigma"], rtol=rtol)
    sds = fit.varcorr().query("var2.isnull() and grp != 'Residual'")["sdcor"]
    np.testing.assert_allclose(sds, want["re_sd"], rtol=rtol)
    np.testing.assert_allclose(fit.bse, want["se"], rtol=rtol)
    np.testing.assert_allclose(fit.cov_params(), want["vcov"], rtol=2 * rtol, atol=1e-12)


def test_reference_stratum_follows_the_group_order() -> None:
    """nlme's reference stratum is the first met in the data sorted by the groups:
    Male with Orthodont's Subject factor (M16 first), Female with plain strings (F01 first)."""
    assert list(fit_of("orthodont_ident").varfunc_params.index) == ["Male", "Female"]
    assert list(fit_of("orthodont_ident_chr").varfunc_params.index) == ["Female", "Male"]
    ratio = fit_of("orthodont_ident").varfunc_params["Female"]
    np.testing.assert_allclose(
        fit_of("orthodont_ident_chr").varfunc_params["Male"], 1 / ratio, rtol=1e-5
    )


def test_row_order_does_not_matter() -> None:
    data = load("Orthodont")
    shuffled = data.iloc[np.random.default_rng(1).permutation(len(data))]
    before = shuffled.copy()
    fit = lme(
        "distance ~ age * Sex", shuffled, random="~ 1 | Subject", weights=varIdent("~ 1 | Sex")
    )
    pd.testing.assert_frame_equal(shuffled, before)
    want = fixture()["cases"]["orthodont_ident"]
    assert list(fit.varfunc_params.index) == ["Male", "Female"]
    np.testing.assert_allclose(fit.llf, want["logLik"], rtol=1e-9)


@pytest.mark.parametrize("case", list(CASES))
def test_standardized_residuals_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    got = fit_of(case).summary().residuals
    np.testing.assert_allclose(got, want["std_resid"], rtol=10 * CASES[case][1], atol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_anova_and_fixed_intervals_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    fit = fit_of(case)
    table = fit.anova()
    np.testing.assert_allclose(table["F-value"], want["anova_F"], rtol=1e-4)
    np.testing.assert_allclose(table["p-value"], want["anova_p"], rtol=1e-4, atol=1e-12)
    ci = fit.intervals(which="fixed")["fixed"]
    np.testing.assert_allclose(ci.to_numpy().T, want["intervals_fixed"], rtol=1e-5)


def test_variance_intervals_include_the_variance_function() -> None:
    # the estimates of the varStruct table are the fit's own ratios (reference stratum left out);
    # the bounds against nlme are in tests/lme/test_lme_intervals_varfunc.py
    fit = fit_of("orthodont_ident")
    ci = fit.intervals(which="var-cov")
    assert list(ci) == ["reStruct", "varStruct", "sigma"]
    ratios = fit.varfunc_params
    np.testing.assert_allclose(ci["varStruct"]["est."], ratios[ratios != 1.0], rtol=1e-12)
    assert (ci["varStruct"]["lower"] < ci["varStruct"]["est."]).all()


_NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]\d+)?$")


@pytest.mark.parametrize("case", list(CASES))
def test_summary_prints_like_nlme(case: str) -> None:
    """Same lines and words as nlme's print; numbers equal up to the optimum's precision."""
    want = fixture()["cases"][case]["printed"]
    got = str(fit_of(case).summary()).split("\n")
    assert len(got) == len(want)
    start = want.index("Variance function:")
    assert got[start : start + 4] == want[start : start + 4]
    for line_got, line_want in zip(got, want, strict=True):
        words_got, words_want = line_got.split(), line_want.split()
        assert len(words_got) == len(words_want), (line_got, line_want)
        for a, b in zip(words_got, words_want, strict=True):
            if _NUMBER.match(b):
                assert float(a) == pytest.approx(float(b), rel=1e-3, abs=2e-4), (line_got, b)
            else:
                assert a == b


def test_reweighting_equals_a_fresh_weighted_objective() -> None:
    """The in-place reweighting at a new δ gives the criterion of a freshly built weighted
    design (prior weights 1/g², log-determinant included)."""
    data = load("Orthodont")
    design = lformula("distance ~ age * Sex + (1 | Subject)", data)
    bound = varIdent("~ 1 | Sex").bind(data, np.arange(len(data)))
    objective = VarFuncObjective(design, bound, REML=True)
    theta, delta = np.array([0.8]), np.array([-0.7])
    fresh = GaussianObjective(replace(design, weights=bound.weights(delta)), REML=True)
    assert objective(np.r_[theta, delta]) == pytest.approx(fresh(theta), rel=1e-12)
    assert objective(np.r_[theta, 0.0]) == pytest.approx(
        GaussianObjective(design, REML=True)(theta), rel=1e-12
    )


def test_weights_of_varident_are_inverse_squared_ratios() -> None:
    data = load("Orthodont")
    bound = varIdent("~ 1 | Sex").bind(data, np.arange(len(data)))
    w = bound.weights(np.array([np.log(0.5)]))
    male = (data["Sex"] == "Male").to_numpy()
    np.testing.assert_allclose(w[male], 1.0)
    np.testing.assert_allclose(w[~male], 4.0)


def test_unweighted_fit_has_no_variance_function() -> None:
    fit = lme("distance ~ age", load("Orthodont"), random="~ 1 | Subject")
    assert fit.varfunc is None
    assert fit.varfunc_params.empty
    assert "Variance function:" not in str(fit.summary())


def test_likelihood_ratio_comparison_with_a_variance_function() -> None:
    # nlme compares fits with and without a variance function (its weights are part of
    # the model, not prior weights)
    data = load("Orthodont")
    plain = lme("distance ~ age * Sex", data, random="~ 1 | Subject", method="ML")
    ident = lme(
        "distance ~ age * Sex",
        data,
        random="~ 1 | Subject",
        weights=varIdent("~ 1 | Sex"),
        method="ML",
    )
    table = plain.anova(ident)
    ref = fixture()["comparison"]
    np.testing.assert_array_equal(table["df"], ref["df"])
    np.testing.assert_allclose(table["logLik"], ref["logLik"], rtol=1e-8)
    np.testing.assert_allclose(table["AIC"], ref["AIC"], rtol=1e-8)
    assert table["L.Ratio"].iloc[1] == pytest.approx(ref["L.Ratio"][1], rel=1e-6)
    assert table["p-value"].iloc[1] == pytest.approx(ref["p.value"][1], rel=1e-5)


def test_other_weights_are_refused() -> None:
    with pytest.raises(FormulaError, match="varIdent"):
        lme("distance ~ age", load("Orthodont"), random="~ 1 | Subject", weights="Sex")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("make", "form"),
    [
        (varIdent, None),
        (varIdent, "~ age"),
        (varIdent, "Sex"),
        (varPower, None),
        (varPower, "~ age | Sex"),
        (varPower, "~ fitted(.)"),
        (varExp, "~ 1"),
    ],
)
def test_unsupported_forms_are_refused(make: Callable[[str | None], Any], form: str) -> None:
    with pytest.raises(FormulaError):
        make(form)


def test_varpower_refuses_a_zero_covariate() -> None:
    data = load("Orthodont").assign(age0=lambda d: d["age"] - 8.0)
    with pytest.raises(DataError, match="0 in some rows"):
        lme("distance ~ age", data, random="~ 1 | Subject", weights=varPower("~ age0"))


def test_missing_stratum_variable() -> None:
    with pytest.raises(KeyError, match="Gender"):
        lme(
            "distance ~ age",
            load("Orthodont"),
            random="~ 1 | Subject",
            weights=varIdent("~ 1 | Gender"),
        )
