"""nlme's ``intervals.lme`` of fits with a variance function (``weights=``), alone and with
a correlation structure, against nlme (R 4.2.2, nlme 3.1-162;
fixtures/R/lme_intervals_varfunc.R).

``apVar`` then includes the variance function's unconstrained parameters δ (after the
correlation parameter, before ``lSigma``) and ``intervals`` has a ``varStruct`` table
(SD ratios of ``varIdent``, the power of ``varPower``).

Tolerances (see also tests/lme/test_lme_intervals.py).  Besides nlme's default
``apVar`` and its ``.relStep = 1e-4`` one (``fine``), the fixture holds nlme's ``apVar``
with its ``fdHess`` replaced by numDeriv's Richardson-extrapolated Hessian of nlme's own
likelihood (``richardson``), nearly free of finite-difference error.  Variance-parameter
bounds agree with ``richardson`` to 5e-4 relative (measured: at most 2.6e-5), except
for ``varPower``: there δ and log σ are correlated at −0.999, which magnifies Hessian
errors about a thousandfold, and interlace's central differences (step 1e-3) are off by
1.7e-3, checked to 3e-3.  The same magnification puts nlme's ``fine`` ``varPower`` bounds
10% away (its cross terms have an error of order the step) and its default ones 2.6%,
so those are not compared for ``varPower``; for the other cases the bounds agree with
``fine`` to 5e-4 (measured: at most 1.5e-4) and with nlme's default to 5e-3 (measured:
at most 3.6e-3, varIdent + AR(1)).  ``apVar`` at nlme's estimates is ``richardson``'s to
2e-3 of the standard errors' product (measured: 1.5e-3 for ``varPower``, at most 6e-6
otherwise), ψ at the fit nlme's to 1e-4 (measured: at most 6e-6).

The intervals are computed by :func:`interlace.results.lme_intervals.intervals`, the
function :meth:`LmeResult.intervals` calls.
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
from interlace.correlation import corAR1
from interlace.datasets import load
from interlace.results.lme_intervals import (
    COLUMNS,
    NaturalLikelihood,
    approximate_vcov,
    intervals,
)
from interlace.results.lme_result import LmeResult
from interlace.varfunc import varIdent, varPower
from tests.conftest import assert_r_fixture_current, load_json

FIXTURE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "lme_intervals_varfunc" / "intervals.json"
)
ORTHODONT = "distance ~ age * Sex"

#: fixture case -> the fit
CASES: dict[str, Callable[[], LmeResult]] = {
    "orthodont_varident": lambda: lme(
        ORTHODONT, load("Orthodont"), random="~ 1 | Subject", weights=varIdent(form="~ 1 | Sex")
    ),
    "orthodont_varpower": lambda: lme(
        ORTHODONT, load("Orthodont"), random="~ 1 | Subject", weights=varPower(form="~ age")
    ),
    "orthodont_varident_ar1": lambda: lme(
        ORTHODONT,
        load("Orthodont"),
        random="~ 1 | Subject",
        weights=varIdent(form="~ 1 | Sex"),
        correlation=corAR1(),
    ),
    "machines_varident_ml": lambda: lme(
        "score ~ Machine",
        load("Machines"),
        random="~ 1 | Worker",
        weights=varIdent(form="~ 1 | Machine"),
        method="ML",
    ),
}


@cache
def fixture() -> dict[str, Any]:
    data: dict[str, Any] = load_json(FIXTURE)
    return data


@cache
def fit_of(case: str) -> LmeResult:
    return CASES[case]()


@cache
def intervals_of(case: str) -> dict[str, pd.DataFrame]:
    return intervals(fit_of(case), level=fixture()["cases"][case]["level"])


def _frame(table: dict[str, Any]) -> pd.DataFrame:
    """A fixture table (columns name, lower, est., upper) as a DataFrame."""
    return pd.DataFrame(
        {c: np.atleast_1d(table[c]) for c in COLUMNS}, index=np.atleast_1d(table["name"])
    )


def _variance_frames(record: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """nlme's reStruct (by level), corStruct, varStruct and sigma tables."""
    out = {f"reStruct:{lv}": _frame(record["reStruct"][lv]) for lv in record["levels"]}
    parts = ("corStruct", "varStruct", "sigma")
    out.update({part: _frame(record[part]) for part in parts if part in record})
    return out


def _got_variance_frames(ci: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    levels = list(dict.fromkeys(ci["reStruct"].index.get_level_values(0)))
    out = {f"reStruct:{lv}": ci["reStruct"].loc[lv] for lv in levels}
    out.update({part: ci[part] for part in ("corStruct", "varStruct", "sigma") if part in ci})
    return out


@pytest.mark.r
@pytest.mark.slow
def test_fixture_is_current(tmp_path: Path) -> None:
    """The committed fixture is what fixtures/R/lme_intervals_varfunc.R writes today."""
    assert_r_fixture_current("lme_intervals_varfunc.R", FIXTURE, tmp_path)


def test_fixture_records_versions() -> None:
    versions = fixture()["versions"]
    assert versions["R"].startswith("R version 4.2.2")
    assert versions["packages"]["nlme"] == "3.1.162"


@pytest.mark.parametrize("case", list(CASES))
def test_tables_are_nlme_s(case: str) -> None:
    """The same tables in nlme's order: fixed, reStruct, [corStruct,] varStruct, sigma."""
    assert list(intervals_of(case)) == fixture()["cases"][case]["intervals"]["parts"]


@pytest.mark.parametrize("case", list(CASES))
def test_variance_intervals_match_nlme(case: str) -> None:
    rec = fixture()["cases"][case]
    got = _got_variance_frames(intervals_of(case))
    accurate = _variance_frames(rec["richardson"]["intervals"])
    fine = _variance_frames(rec["fine"]["intervals"])
    default = _variance_frames(rec["intervals"])
    assert list(got) == list(accurate) == list(fine) == list(default)
    near_singular = case == "orthodont_varpower"
    for key, want in accurate.items():
        assert list(got[key].index) == list(want.index), key
        assert list(got[key].columns) == list(COLUMNS)
        np.testing.assert_allclose(
            got[key], want, rtol=3e-3 if near_singular else 5e-4, err_msg=key
        )
        if not near_singular:
            np.testing.assert_allclose(got[key], fine[key], rtol=5e-4, err_msg=key)
            np.testing.assert_allclose(got[key], default[key], rtol=5e-3, err_msg=key)


@pytest.mark.parametrize("case", list(CASES))
def test_fixed_effect_intervals_match_nlme(case: str) -> None:
    """To 1e-4 of the larger of the bound and the half-width (the fits' agreement)."""
    want = _frame(fixture()["cases"][case]["intervals"]["fixed"])
    got = intervals_of(case)["fixed"]
    assert list(got.index) == list(want.index)
    half = ((want["upper"] - want["lower"]) / 2).to_numpy()[:, None]
    expected = want.to_numpy()
    error = np.abs(got.to_numpy() - expected) / np.maximum(np.abs(expected), half)
    assert error.max() < 1e-4, error


@pytest.mark.parametrize("case", list(CASES))
def test_natural_parameters_match_nlme(case: str) -> None:
    """ψ at the fit, δ included, is nlme's ``attr(apVar, "Pars")`` with its names."""
    rec = fixture()["cases"][case]["apVar"]
    pars = NaturalLikelihood(fit_of(case)).pars
    assert list(pars.index) == rec["names"]
    np.testing.assert_allclose(pars, rec["Pars"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("case", list(CASES))
def test_apvar_at_nlme_estimates(case: str) -> None:
    rec = fixture()["cases"][case]["richardson"]["apVar"]
    likelihood = NaturalLikelihood(fit_of(case))
    got = approximate_vcov(likelihood, pd.Series(rec["Pars"], index=likelihood.pars.index))
    want = np.array(rec["matrix"], dtype=float).T
    sd = np.sqrt(np.diag(want))
    assert list(got.index) == rec["names"]
    scale = np.outer(sd, sd)
    np.testing.assert_allclose(got.to_numpy() / scale, want / scale, atol=2e-3)


@pytest.mark.parametrize("case", ["orthodont_varident_ar1", "machines_varident_ml"])
def test_estimates_are_the_fit_s(case: str) -> None:
    """``est.`` of ``varStruct`` is ``varfunc_params`` without the reference stratum."""
    fit = fit_of(case)
    est = intervals_of(case)["varStruct"]["est."]
    want = fit.varfunc_params.iloc[1:]
    assert list(est.index) == list(want.index)
    np.testing.assert_allclose(est, want, rtol=1e-12)
