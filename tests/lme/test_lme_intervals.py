"""``LmeResult.intervals`` against nlme's ``intervals.lme`` (R 4.2.2, nlme 3.1-162;
fixtures/R/lme_intervals.R).

Tolerances.

*Fixed effects* (``β̂ ± t · se``): a bound is compared with ``rtol`` and an ``atol`` of
the same size times the interval's half-width (bounds near 0 have no useful relative
error).  The bounds agree to 1e-5 wherever the fits do (Orthodont, Machines, ML fits:
at most 7e-6 of the half-width); the REML fit of Ovary + AR(1) stops about 1e-5 from
nlme's σ and φ (see tests/lme/test_lme_anova.py), which moves its standard errors and
bounds by up to 5e-5 of the half-width, so that case uses 1e-4.

*Variance parameters.*  nlme's ``apVar`` is a finite-difference Hessian with steps of
about 6e-6 relative (``.relStep = eps^(1/3)``), where the rounding noise of its
likelihood dominates: nlme's own default ``apVar`` differs from its ``apVar`` with
``.relStep = 1e-4`` (the fixture's ``fine`` records) by up to 5e-3 of the standard
errors' product on Orthodont and Machines, and by 6% on BodyWeight + CAR(1).
interlace uses central differences with larger steps (see
:mod:`interlace.results.lme_intervals`), so its variance-parameter bounds are compared
with nlme's ``fine`` bounds to 5e-4 relative (measured: at most 2.1e-4, Orthodont ML;
1.4e-4 BodyWeight; 1e-4 or less elsewhere), with nlme's default bounds to 5e-3
(measured: at most 2.9e-3) except on BodyWeight (3.5e-2, nlme's noise).  At nlme's own
estimates ψ, interlace's ``apVar`` is nlme's ``fine`` one to 1e-3 of the standard
errors' product (measured: at most 4.2e-4; ``fine`` itself has a truncation error of
order 1e-4 in its cross terms), which checks the likelihood and its parameterisation
independently of the fits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace.api.lme import lme
from interlace.correlation import corAR1, corCAR1, corCompSymm
from interlace.datasets import load
from interlace.errors import IdentifiabilityError, SingularFitWarning
from interlace.pdmat import pdDiag
from interlace.results.lme_intervals import (
    COLUMNS,
    NaturalLikelihood,
    approximate_vcov,
    central_hessian,
)
from interlace.results.lme_result import LmeResult
from tests.conftest import assert_r_fixture_current, load_json

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lme_intervals" / "intervals.json"
OVARY = "follicles ~ sin(2*pi*Time) + cos(2*pi*Time)"

#: fixture case -> (the fit, fixed-effect tolerance)
CASES: dict[str, tuple[Callable[[], LmeResult], float]] = {
    "orthodont_slope": (
        lambda: lme("distance ~ age", load("Orthodont"), random="~ age | Subject"),
        1e-5,
    ),
    "orthodont_slope_ml": (
        lambda: lme("distance ~ age", load("Orthodont"), random="~ age | Subject", method="ML"),
        1e-5,
    ),
    "orthodont_pddiag": (
        lambda: lme("distance ~ age", load("Orthodont"), random={"Subject": pdDiag("~ age")}),
        1e-5,
    ),
    "ovary_ar1": (
        lambda: lme(OVARY, load("Ovary"), random="~ 1 | Mare", correlation=corAR1()),
        1e-4,
    ),
    "ovary_ar1_ml": (
        lambda: lme(OVARY, load("Ovary"), random="~ 1 | Mare", correlation=corAR1(), method="ML"),
        1e-5,
    ),
    "machines_nested": (
        lambda: lme("score ~ Machine", load("Machines"), random="~ 1 | Worker/Machine"),
        1e-5,
    ),
    "bodyweight_car1": (
        lambda: lme(
            "weight ~ Time * Diet",
            load("BodyWeight"),
            random="~ Time | Rat",
            correlation=corCAR1(form="~ Time | Rat"),
        ),
        1e-5,
    ),
    "orthodont_fixed_ml": (
        lambda: lme("distance ~ age * Sex", load("Orthodont"), random="~ 1 | Subject", method="ML"),
        1e-5,
    ),
}
VARIANCE_CASES = [c for c in CASES if c != "orthodont_fixed_ml"]


@cache
def fixture() -> dict[str, Any]:
    data: dict[str, Any] = load_json(FIXTURE)
    return data


@cache
def fit_of(case: str) -> LmeResult:
    return CASES[case][0]()


@cache
def intervals_of(case: str) -> dict[str, pd.DataFrame]:
    rec = fixture()["cases"][case]
    return fit_of(case).intervals(level=rec["level"], which=rec["which"])


def _frame(table: dict[str, Any]) -> pd.DataFrame:
    """A fixture table (columns name, lower, est., upper) as a DataFrame."""
    return pd.DataFrame(
        {c: np.atleast_1d(table[c]) for c in COLUMNS}, index=np.atleast_1d(table["name"])
    )


def _variance_frames(record: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """nlme's reStruct (by level, nlme's order), corStruct and sigma tables."""
    out = {f"reStruct:{lv}": _frame(record["reStruct"][lv]) for lv in record["levels"]}
    out.update({part: _frame(record[part]) for part in ("corStruct", "sigma") if part in record})
    return out


def _got_variance_frames(ci: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    levels = list(dict.fromkeys(ci["reStruct"].index.get_level_values(0)))
    out = {f"reStruct:{lv}": ci["reStruct"].loc[lv] for lv in levels}
    out.update({part: ci[part] for part in ("corStruct", "sigma") if part in ci})
    return out


@pytest.mark.r
@pytest.mark.slow
def test_fixture_is_current(tmp_path: Path) -> None:
    """The committed fixture is what fixtures/R/lme_intervals.R writes with today's R and nlme."""
    assert_r_fixture_current("lme_intervals.R", FIXTURE, tmp_path)


def test_fixture_records_versions() -> None:
    versions = fixture()["versions"]
    assert versions["R"].startswith("R version 4.2.2")
    assert versions["packages"]["nlme"] == "3.1.162"


@pytest.mark.parametrize("case", list(CASES))
def test_fixed_effect_intervals_match_nlme(case: str) -> None:
    want = _frame(fixture()["cases"][case]["intervals"]["fixed"])
    got = intervals_of(case)["fixed"]
    assert list(got.columns) == list(COLUMNS)
    assert list(got.index) == list(want.index)
    tol = CASES[case][1]
    half = ((want["upper"] - want["lower"]) / 2).to_numpy()[:, None]
    expected = want.to_numpy()
    error = np.abs(got.to_numpy() - expected) / np.maximum(np.abs(expected), half)
    assert error.max() < tol, error


@pytest.mark.parametrize("case", VARIANCE_CASES)
def test_variance_intervals_match_nlme(case: str) -> None:
    rec = fixture()["cases"][case]
    got = _got_variance_frames(intervals_of(case))
    fine = _variance_frames(rec["fine"]["intervals"])
    default = _variance_frames(rec["intervals"])
    assert list(got) == list(fine) == list(default)
    for key, want in fine.items():
        assert list(got[key].index) == list(want.index), key
        assert list(got[key].columns) == list(COLUMNS)
        np.testing.assert_allclose(got[key], want, rtol=5e-4, err_msg=key)
        if case != "bodyweight_car1":
            np.testing.assert_allclose(got[key], default[key], rtol=5e-3, err_msg=key)


@pytest.mark.parametrize("case", VARIANCE_CASES)
def test_natural_parameters_match_nlme(case: str) -> None:
    """ψ at the fit is nlme's ``attr(apVar, "Pars")`` to the fits' agreement (1e-4)."""
    rec = fixture()["cases"][case]["apVar"]
    pars = NaturalLikelihood(fit_of(case)).pars
    assert list(pars.index) == rec["names"]
    np.testing.assert_allclose(pars, rec["Pars"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("case", VARIANCE_CASES)
def test_apvar_at_nlme_estimates(case: str) -> None:
    rec = fixture()["cases"][case]["fine"]["apVar"]
    likelihood = NaturalLikelihood(fit_of(case))
    got = approximate_vcov(likelihood, pd.Series(rec["Pars"], index=likelihood.pars.index))
    want = np.array(rec["matrix"], dtype=float).T
    sd = np.sqrt(np.diag(want))
    assert list(got.index) == rec["names"]
    scale = np.outer(sd, sd)
    np.testing.assert_allclose(got.to_numpy() / scale, want / scale, atol=1e-3)


def test_estimates_are_the_fit_s() -> None:
    """``est.`` holds the fit's own SDs, correlation, φ and σ."""
    fit = fit_of("ovary_ar1")
    ci = intervals_of("ovary_ar1")
    vc = fit.varcorr()
    assert ci["reStruct"].loc[("Mare", "sd((Intercept))"), "est."] == pytest.approx(
        vc["sdcor"].iloc[0], rel=1e-12
    )
    assert ci["corStruct"].loc["Phi", "est."] == pytest.approx(fit.phi, rel=1e-12)
    assert ci["sigma"].loc["sigma", "est."] == pytest.approx(fit.sigma, rel=1e-12)
    assert list(ci) == ["fixed", "reStruct", "corStruct", "sigma"]


def test_which_and_level() -> None:
    fit = fit_of("orthodont_slope")
    fixed = fit.intervals(which="fixed")
    assert list(fixed) == ["fixed"]
    var_cov = fit.intervals(which="var-cov")
    assert list(var_cov) == ["reStruct", "sigma"]
    narrow = fit.intervals(level=0.5, which="var-cov")["sigma"]
    wide = var_cov["sigma"]
    assert narrow["lower"].iloc[0] > wide["lower"].iloc[0]
    assert narrow["upper"].iloc[0] < wide["upper"].iloc[0]
    with pytest.raises(ValueError, match="which"):
        fit.intervals(which="random")
    with pytest.raises(ValueError, match="level"):
        fit.intervals(level=95)


def test_non_positive_definite_apvar_is_an_error() -> None:
    """nlme's "Non-positive definite approximate variance-covariance"; which="fixed" works.

    The model is nearly unidentified (a random intercept and compound symmetry), so
    the fits agree less closely: the fixed-effect bounds to 1.4e-5, checked to 1e-4.
    """
    rec = fixture()["errors"]["orthodont_compsymm"]
    assert rec["apVar"] == "Non-positive definite approximate variance-covariance"
    fit = lme(
        "distance ~ age + Sex",
        load("Orthodont"),
        random="~ age | Subject",
        correlation=corCompSymm(),
    )
    with pytest.raises(IdentifiabilityError, match=rec["apVar"]) as err:
        fit.intervals()
    assert 'which="fixed"' in str(err.value)
    want = _frame(rec["fixed"])
    np.testing.assert_allclose(fit.intervals(which="fixed")["fixed"], want, rtol=1e-4)


def test_central_hessian_of_a_cubic() -> None:
    """Central differences are exact for cubics (up to rounding)."""

    def f(x: np.ndarray) -> float:
        return float(x[0] ** 3 - 2.0 * x[0] * x[1] ** 2 + 3.0 * x[1] * x[2] + x[2] ** 2)

    x = np.array([0.7, -1.3, 2.0])
    want = np.array(
        [[6.0 * x[0], -4.0 * x[1], 0.0], [-4.0 * x[1], -4.0 * x[0], 3.0], [0.0, 3.0, 2.0]]
    )
    np.testing.assert_allclose(central_hessian(f, x, np.full(3, 1e-3)), want, atol=1e-7)


def test_boundary_fit_has_no_variance_intervals() -> None:
    """Group means all equal: the random-intercept SD is 0, whose log is not finite.

    nlme stops short of 0 on its log scale; interlace reaches θ = 0 and refuses.
    """
    data = pd.DataFrame(
        {
            "y": np.tile([1.0, -1.0, 2.0, -2.5], 6),
            "x": np.tile([0.0, 1.0, 2.0, 3.0], 6),
            "g": np.repeat([f"g{i}" for i in range(6)], 4),
        }
    )
    with pytest.warns(SingularFitWarning):
        fit = lme("y ~ x", data, random="~ 1 | g")
    with pytest.raises(IdentifiabilityError, match="boundary"):
        fit.intervals()
    assert list(fit.intervals(which="fixed")) == ["fixed"]
