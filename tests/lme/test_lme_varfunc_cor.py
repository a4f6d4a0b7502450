"""``lme`` with a variance function (``weights=``) together with a correlation structure.

Reference numbers come from fixtures/R/lme_varfunc_cor.R (nlme 3.1-162, R 4.2.2;
fixtures/lme_varfunc_cor/varfunc_cor.json): logLik, AIC, BIC, df, fixed
effects, their standard errors, σ, the random effects' standard deviations,
the correlation parameter, the variance function's coefficients, the
standardized residuals, ``anova(fit)``, ``intervals(fit, which = "fixed")`` and
the printed summary.  logLik agrees to 1e-9 relative in every case; the
optimum's location to the per-case tolerance below, which is what BOBYQA's
default ``xtol_rel = 1e-4`` reaches on these flat likelihoods (a tighter
tolerance closes the gap, see :func:`test_tighter_tolerance_reaches_nlmes_optimum`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace import varExp, varIdent, varPower
from interlace.api.lme import lme
from interlace.correlation import corAR1, corCAR1, corCompSymm
from interlace.datasets import load
from interlace.design.lformula import lformula
from interlace.engine.residual_correlation import CorrelatedObjective, GroupLayout
from interlace.results.lme_result import LmeResult
from tests.conftest import assert_r_fixture_current, load_json

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lme_varfunc_cor" / "varfunc_cor.json"


def _bodyweight(method: str) -> LmeResult:
    return lme(
        "weight ~ Time * Diet",
        load("BodyWeight"),
        random="~ Time | Rat",
        weights=varPower("~ Time"),
        correlation=corCAR1(form="~ Time | Rat"),
        method=method,  # type: ignore[arg-type]
        data_name="BodyWeight",
    )


def _orthodont(random: str, correlation: Any, method: str) -> LmeResult:
    return lme(
        "distance ~ age * Sex",
        load("Orthodont"),
        random=random,
        weights=varIdent("~ 1 | Sex"),
        correlation=correlation,
        method=method,  # type: ignore[arg-type]
        data_name="Orthodont",
    )


#: case -> (fit, relative tolerance of the fixed effects, of the optimum's location: φ, δ, σ,
#: SDs, SEs)
CASES: dict[str, tuple[Callable[[], LmeResult], float, float]] = {
    "bodyweight_power_car1": (lambda: _bodyweight("REML"), 1e-5, 2e-5),
    "bodyweight_power_car1_ml": (lambda: _bodyweight("ML"), 2e-5, 3e-4),
    "orthodont_ident_ar1": (lambda: _orthodont("~ 1 | Subject", corAR1(), "REML"), 1e-5, 5e-5),
    "orthodont_ident_ar1_ml": (lambda: _orthodont("~ 1 | Subject", corAR1(), "ML"), 1e-5, 4e-4),
    "orthodont_ident_cs": (
        lambda: _orthodont("~ age - 1 | Subject", corCompSymm(), "REML"),
        1e-5,
        1e-5,
    ),
    "ovary_exp_ar1": (
        lambda: lme(
            "follicles ~ sin(2*pi*Time) + cos(2*pi*Time)",
            load("Ovary"),
            random="~ 1 | Mare",
            correlation=corAR1(),
            weights=varExp("~ Time"),
            data_name="Ovary",
        ),
        1e-5,
        3e-5,
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
    """The committed fixture is what fixtures/R/lme_varfunc_cor.R writes with today's R/nlme."""
    assert_r_fixture_current("lme_varfunc_cor.R", FIXTURE, tmp_path)


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
    np.testing.assert_allclose(fit.fe_params, want["fixef"], rtol=CASES[case][1])


@pytest.mark.parametrize("case", list(CASES))
def test_variance_and_correlation_parameters_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    fit = fit_of(case)
    rtol = CASES[case][2]
    assert list(fit.correlation_params.index) == [want["correlation_name"]]
    np.testing.assert_allclose(fit.correlation_params, [want["correlation"]], rtol=rtol)
    assert list(fit.varfunc_params.index) == want["varfunc_names"]
    np.testing.assert_allclose(fit.varfunc_params, want["varfunc"], rtol=rtol)
    assert fit.varfunc_delta is not None
    np.testing.assert_allclose(fit.varfunc_delta, want["varfunc_unconstrained"], rtol=rtol)
    np.testing.assert_allclose(fit.sigma, want["sigma"], rtol=rtol)
    sds = fit.varcorr().query("var2.isnull() and grp != 'Residual'")["sdcor"]
    np.testing.assert_allclose(sds, want["re_sd"], rtol=rtol)
    np.testing.assert_allclose(fit.bse, want["se"], rtol=rtol)
    np.testing.assert_allclose(fit.cov_params(), want["vcov"], rtol=5 * rtol, atol=1e-12)


def test_tighter_tolerance_reaches_nlmes_optimum() -> None:
    """The remaining gap of the ML BodyWeight fit is BOBYQA's stopping rule: with a tighter
    ``xtol_rel`` the fit moves onto nlme's optimum."""
    want = fixture()["cases"]["bodyweight_power_car1_ml"]
    fit = lme(
        "weight ~ Time * Diet",
        load("BodyWeight"),
        random="~ Time | Rat",
        weights=varPower("~ Time"),
        correlation=corCAR1(form="~ Time | Rat"),
        method="ML",
        control={"optCtrl": {"xtol_rel": 1e-8, "ftol_abs": 1e-12}},
    )
    np.testing.assert_allclose(fit.llf, want["logLik"], rtol=1e-11)
    np.testing.assert_allclose(fit.fe_params, want["fixef"], rtol=1e-6)
    np.testing.assert_allclose(fit.varfunc_params, want["varfunc"], rtol=1e-5)


@pytest.mark.parametrize("case", list(CASES))
def test_standardized_residuals_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    got = fit_of(case).summary().residuals
    np.testing.assert_allclose(got, want["std_resid"], rtol=10 * CASES[case][2], atol=1e-4)


@pytest.mark.parametrize("case", list(CASES))
def test_anova_and_fixed_intervals_match_nlme(case: str) -> None:
    want = fixture()["cases"][case]
    fit = fit_of(case)
    rtol = max(1e-4, CASES[case][2])
    table = fit.anova()
    np.testing.assert_allclose(table["F-value"], want["anova_F"], rtol=rtol)
    np.testing.assert_allclose(table["p-value"], want["anova_p"], rtol=10 * rtol, atol=1e-12)
    ci = fit.intervals(which="fixed")["fixed"]
    np.testing.assert_allclose(ci.to_numpy().T, want["intervals_fixed"], rtol=rtol)


def test_variance_intervals_have_both_structures() -> None:
    fit = fit_of("orthodont_ident_ar1")
    ci = fit.intervals()
    assert list(ci) == ["fixed", "reStruct", "corStruct", "varStruct", "sigma"]


_NUMBER = re.compile(r"^-?\d+(\.\d+)?(e[-+]\d+)?$")


@pytest.mark.parametrize("case", list(CASES))
def test_summary_prints_like_nlme(case: str) -> None:
    """Same lines and words as nlme's print, both blocks; numbers equal up to the optimum's
    precision."""
    want = fixture()["cases"][case]["printed"]
    got = str(fit_of(case).summary()).split("\n")
    assert len(got) == len(want)
    for block in ("Correlation Structure:", "Variance function:"):
        start = next(i for i, line in enumerate(want) if line.startswith(block))
        assert got[start : start + 3] == want[start : start + 3]
    rel = max(1e-3, 10 * CASES[case][2])
    for line_got, line_want in zip(got, want, strict=True):
        words_got, words_want = line_got.split(), line_want.split()
        assert len(words_got) == len(words_want), (line_got, line_want)
        for a, b in zip(words_got, words_want, strict=True):
            if _NUMBER.match(b):
                # one unit in the last printed place: a value near a rounding boundary
                last = 10.0 ** -len(b.split("e")[0].partition(".")[2])
                assert float(a) == pytest.approx(float(b), rel=rel, abs=1.01 * last), (line_got, b)
            else:
                assert a == b


def test_row_order_does_not_matter() -> None:
    """Subjects in another order (rows within a subject kept in time order, as AR(1) by
    position needs): the same fit and reference stratum."""
    data = load("Orthodont")
    subjects = data["Subject"].unique()
    order = np.random.default_rng(7).permutation(len(subjects))
    shuffled = pd.concat([data[data["Subject"] == subjects[i]] for i in order])
    before = shuffled.copy()
    fit = lme(
        "distance ~ age * Sex",
        shuffled,
        random="~ 1 | Subject",
        weights=varIdent("~ 1 | Sex"),
        correlation=corAR1(),
    )
    pd.testing.assert_frame_equal(shuffled, before)
    want = fixture()["cases"]["orthodont_ident_ar1"]
    assert list(fit.varfunc_params.index) == want["varfunc_names"]
    np.testing.assert_allclose(fit.llf, want["logLik"], rtol=1e-8)


def _position(data: pd.DataFrame) -> np.ndarray:
    """Position 1, 2, ... of every row within its subject."""
    return np.asarray(data.groupby("Subject", observed=True).cumcount() + 1, dtype=float)


def _objective(varfunc: bool) -> tuple[CorrelatedObjective, Any]:
    data = load("Orthodont")
    design = lformula("distance ~ age * Sex + (1 | Subject)", data)
    codes = np.asarray(data["Subject"].cat.codes.to_numpy(), dtype=np.intp)
    layout = GroupLayout.from_codes(codes, _position(data))
    bound = varPower("~ age").bind(data, np.arange(len(data))) if varfunc else None
    objective = CorrelatedObjective(
        design.terms,
        design.X,
        design.X_names,
        design.y,
        design.theta,
        design.lower,
        corAR1(),
        layout,
        design.REML,
        bound,
    )
    return objective, bound


def test_criterion_is_the_gaussian_log_likelihood() -> None:
    """−2ℓ(θ, φ, δ) of the whitened criterion equals the REML deviance computed directly from
    V = Z Λ Λ'Z' σ² + σ² G R G, profiled over σ (a dense check of the whitening order
    R^{-1/2} G^{-1} and of the log|G R G| term; varPower's g varies within a group, so the
    order matters)."""
    objective, bound = _objective(varfunc=True)
    theta, x, delta = 0.9, 0.4, np.array([-0.6])
    value = objective(np.r_[theta, x, delta])
    data = load("Orthodont")
    design = lformula("distance ~ age * Sex + (1 | Subject)", data)
    X, y = np.asarray(design.X), np.asarray(design.y)
    n, p = X.shape
    phi = objective.phi(x)
    subject = data["Subject"].to_numpy()
    t = _position(data)
    same = subject[:, None] == subject[None, :]
    R = np.where(same, phi ** np.abs(t[:, None] - t[None, :]), 0.0)
    g = np.exp(bound.log_g(delta))
    V = theta**2 * same + g[:, None] * R * g[None, :]
    Vi = np.linalg.inv(V)
    XtViX = X.T @ Vi @ X
    beta = np.linalg.solve(XtViX, X.T @ Vi @ y)
    r = y - X @ beta
    s2 = float(r @ Vi @ r) / (n - p)
    want = (
        np.linalg.slogdet(V)[1]
        + np.linalg.slogdet(XtViX)[1]
        + (n - p) * (1.0 + np.log(2.0 * np.pi * s2))
    )
    assert value == pytest.approx(want, rel=1e-10)


def test_without_variance_function_the_criterion_is_unchanged() -> None:
    """With δ = 0 (g = 1) the combined criterion equals the correlation-only one."""
    plain, _ = _objective(varfunc=False)
    combined, _ = _objective(varfunc=True)
    assert combined.lower.size == plain.lower.size + 1
    assert combined(np.r_[0.7, 0.3, 0.0]) == pytest.approx(plain(np.r_[0.7, 0.3]), rel=1e-13)
    assert combined(np.r_[0.7, 0.3, 0.5]) != pytest.approx(plain(np.r_[0.7, 0.3]), rel=1e-6)
