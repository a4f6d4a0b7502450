"""lme fits against nlme::lme (R 4.2.2, nlme 3.1-162; fixtures/R/lme.R).

Parity bar (the task's): log-likelihood at least R's − 1e-6 relative, fixed
effects 1e-4 relative, σ and random-effect SDs 1e-3 relative, the correlation
parameter 1e-3, standard errors 1e-3 relative, nlme's containment DF exactly.
The reference values come live from R when it is installed, else from the
committed fixtures/lme/*.json.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace.api.lme import lme
from interlace.correlation import corAR1, corCAR1, corCompSymm
from interlace.datasets import load
from interlace.pdmat import pdDiag
from interlace.results.lme_result import LmeResult

OVARY = "follicles ~ sin(2*pi*Time) + cos(2*pi*Time)"

#: case name (a fixture of fixtures/R/lme.R) -> the same call in interlace's spelling
CASES: dict[str, Callable[[], LmeResult]] = {
    "orthodont_slope": lambda: lme("distance ~ age", load("Orthodont"), random="~ age | Subject"),
    "orthodont_slope_ml": lambda: lme(
        "distance ~ age", load("Orthodont"), random="~ age | Subject", method="ML"
    ),
    "orthodont_sex": lambda: lme("distance ~ age + Sex", load("Orthodont"), random="~ 1 | Subject"),
    "pastes_nested": lambda: lme("strength ~ 1", load("Pastes"), random="~ 1 | batch/cask"),
    "machines_nested": lambda: lme(
        "score ~ Machine", load("Machines"), random="~ 1 | Worker/Machine"
    ),
    "machines_zero_df": lambda: lme(
        "score ~ Machine", load("Machines"), random="~ 1 | Machine/Worker"
    ),
    "orthodont_ar1": lambda: lme(
        "distance ~ age", load("Orthodont"), random="~ 1 | Subject", correlation=corAR1()
    ),
    "ovary_ar1": lambda: lme(
        OVARY,
        load("Ovary"),
        random={"Mare": pdDiag("~ sin(2*pi*Time)")},
        correlation=corAR1(),
    ),
    "ovary_ar1_ml": lambda: lme(
        OVARY,
        load("Ovary"),
        random="~ 1 | Mare",
        correlation=corAR1(form="~ 1 | Mare"),
        method="ML",
    ),
    "bodyweight_car1": lambda: lme(
        "weight ~ Time * Diet",
        load("BodyWeight"),
        random="~ Time | Rat",
        correlation=corCAR1(form="~ Time | Rat"),
    ),
    "machines_cs": lambda: lme(
        "score ~ Machine",
        load("Machines"),
        random="~ 1 | Worker",
        correlation=corCompSymm(form="~ 1 | Worker/Machine"),
    ),
}


#: Machine is both a fixed effect and the outer grouping: the REML likelihood does not depend on
#: the Machine variance (its random effects lie in the span of X), so that variance, and the
#: standard errors that depend on it, are wherever each optimiser stops.  The case checks
#: nlme's zero DF (p-values NaN), the likelihood and the fixed effects.
UNIDENTIFIED = {"machines_zero_df"}


@cache
def fitted(name: str) -> LmeResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return CASES[name]()


@pytest.fixture(scope="module")
def nlme(r_outputs: Any) -> Any:
    return r_outputs("lme.R", "lme")


@pytest.mark.parametrize("name", list(CASES))
def test_likelihood_and_fixed_effects(name: str, nlme: Any) -> None:
    ref, fit = nlme[name], fitted(name)
    assert fit.method == ref["method"]
    assert fit.llf >= ref["logLik"] - 1e-6 * abs(ref["logLik"])
    assert fit.llf <= ref["logLik"] + 1e-4  # the same optimum, not another model
    assert fit.df_model == ref["df"]
    assert fit.nobs == ref["nobs"]
    assert fit.aic == pytest.approx(ref["AIC"], abs=1e-4)
    assert fit.bic == pytest.approx(ref["BIC"], abs=1e-4)
    assert fit.deviance == pytest.approx(-2 * ref["logLik"], abs=1e-4)
    assert list(fit.fe_params.index) == list(ref["fixef"])
    np.testing.assert_allclose(fit.fe_params, list(ref["fixef"].values()), rtol=1e-4)
    if name in UNIDENTIFIED:
        return
    np.testing.assert_allclose(fit.bse, ref["se"], rtol=1e-3)
    vcov = np.array(ref["vcov"], dtype=float).T
    tiny = 1e-12 * np.abs(vcov).max()
    np.testing.assert_allclose(fit.cov_params(), vcov, rtol=2e-3, atol=tiny)
    assert fit.sigma == pytest.approx(ref["sigma"], rel=1e-3)


@pytest.mark.parametrize("name", list(CASES))
def test_coefficient_table(name: str, nlme: Any) -> None:
    ref, table = nlme[name]["tTable"], fitted(name).coef_table()
    assert list(table.columns) == ["Value", "Std.Error", "DF", "t-value", "p-value"]
    assert table["DF"].tolist() == ref["DF"]
    assert np.isnan(table["p-value"]).tolist() == [p is None or p != p for p in ref["p.value"]]
    if name in UNIDENTIFIED:
        return
    np.testing.assert_allclose(table["Std.Error"], ref["Std.Error"], rtol=1e-3)
    np.testing.assert_allclose(table["t-value"], ref["t.value"], rtol=1e-3)
    np.testing.assert_allclose(table["p-value"], ref["p.value"], rtol=5e-3, atol=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_random_effects(name: str, nlme: Any) -> None:
    ref, fit = nlme[name], fitted(name)
    vc = fit.varcorr()
    assert vc["grp"].iloc[-1] == "Residual"
    for level, cov in zip(fit.levels, ref["covariances"], strict=True):
        assert level.name == cov["group"]
        if name in UNIDENTIFIED and level.name == "Machine":
            continue
        names = list(np.atleast_1d(cov["names"]))
        want = np.array(cov["values"], dtype=float).reshape(len(names), len(names))
        got = fit.variance_components[level.name]
        got_m: np.ndarray = np.atleast_2d(got.to_numpy() if isinstance(got, pd.DataFrame) else got)
        np.testing.assert_allclose(np.sqrt(np.diag(got_m)), np.sqrt(np.diag(want)), rtol=1e-3)
        rows = vc[(vc["grp"] == level.name) & vc["var2"].isna()]
        assert rows["var1"].tolist() == names
        np.testing.assert_allclose(rows["sdcor"], np.sqrt(np.diag(want)), rtol=1e-3)
        sd = np.sqrt(np.diag(want))
        corr = want / np.outer(sd, sd)
        for _, row in vc[(vc["grp"] == level.name) & vc["var2"].notna()].iterrows():
            i, j = names.index(row["var1"]), names.index(row["var2"])
            assert row["sdcor"] == pytest.approx(corr[i, j], abs=1e-3)
    ranef = fit.ranef()
    assert list(ranef) == [lv.name for lv in fit.levels]
    for level, re_ref in ref["ranef"].items():
        if name in UNIDENTIFIED:
            break
        columns = list(np.atleast_1d(re_ref["columns"]))
        want = np.array(re_ref["values"], dtype=float).reshape(len(columns), -1).T
        got_re = ranef[level].loc[list(re_ref["levels"]), columns].to_numpy()
        np.testing.assert_allclose(got_re, want, atol=1e-3 * np.max(np.abs(want)))


@pytest.mark.parametrize("name", list(CASES))
def test_fitted_residuals_and_correlation(name: str, nlme: Any) -> None:
    ref, fit = nlme[name], fitted(name)
    scale = float(np.std(ref["fitted"]))
    np.testing.assert_allclose(fit.fittedvalues, ref["fitted"], atol=1e-4 * scale)
    np.testing.assert_allclose(fit.resid, ref["resid"], atol=1e-4 * scale)
    if ref["correlation"] is None:
        assert fit.correlation_params.empty
    else:
        assert list(fit.correlation_params.index) == list(ref["correlation"])
        np.testing.assert_allclose(
            fit.correlation_params, list(ref["correlation"].values()), rtol=1e-3, atol=1e-4
        )
    assert fit.n_groups == ref["ngroups"]
    assert fit.converged


_NUMBER = re.compile(r"-?\d+(\.\d+)?(e[-+]\d+)?")


@pytest.mark.parametrize("name", list(CASES))
def test_summary_prints_like_nlme(name: str, nlme: Any) -> None:
    """Line for line nlme's print, numbers aside (they agree to the fit's precision)."""
    ref = nlme[name]
    fit = replace(fitted(name), data_name=ref["summary"][1].split(": ")[1].strip())
    mine = str(fit.summary()).split("\n")
    theirs = ref["summary"]
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert _NUMBER.sub("#", a).split() == _NUMBER.sub("#", b).split(), (a, b)
