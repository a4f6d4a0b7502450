"""The Cox partial likelihood, its derivatives and survival's Newton-Raphson, against coxph.

Reference values: fixtures/R/coxph.R (survival 3.5-3), live when R is available.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cox_data import dataset

from interlace.cox.coxph import coxph_newton
from interlace.cox.partial import partial_likelihood
from interlace.cox.penalized import PenalizedProblem, newton
from interlace.cox.risksets import RiskSets, risk_sets

# The fixed parts of fixtures/R/coxph.R, as columns of the data frames.
RESPONSES = {
    "kidney": (None, "time", "status"),
    "lung": (None, "time", "dead"),
    "cgd": ("tstart", "tstop", "status"),
    "eortc": (None, "y", "uncens"),
}
COVARIATES = {
    "Surv(time, status) ~ age + sex": ["age", "sex"],
    "Surv(time, dead) ~ ph.ecog + age": ["ph.ecog", "age"],
    "Surv(time, dead) ~ age + strata(sex)": ["age"],
    "Surv(tstart, tstop, status) ~ treat": ["treatrIFN-g"],
    "Surv(y, uncens) ~ trt": ["trt"],
    "Surv(time, status) ~ age + sex + offset(off)": ["age", "sex"],
    "Surv(time, dead) ~ age + ph.ecog + strata(sex) + offset(off)": ["age", "ph.ecog"],
    "Surv(tstart, tstop, status) ~ treat + age + offset(off)": ["treatrIFN-g", "age"],
    "Surv(tstart, tstop, status) ~ treat + age": ["treatrIFN-g", "age"],
}


@pytest.fixture(scope="module")
def coxph_cases(r_outputs: Callable[[str, str], Any]) -> Any:
    return r_outputs("coxph.R", "coxph")["cases"]


def _frame(name: str) -> pd.DataFrame:
    df = dataset(name).copy()
    if name == "lung":
        df["dead"] = (df["status"] == 2).astype(float)
    if name == "cgd":
        df["treatrIFN-g"] = (df["treat"] == "rIFN-g").astype(float)
    df["off"] = 0.1 * np.sin(np.arange(1, len(df) + 1))
    return df


def _setup(case: dict[str, Any]) -> tuple[RiskSets, np.ndarray, pd.DataFrame]:
    df = _frame(case["data"])
    start, stop, status = RESPONSES[case["data"]]
    strata = df["sex"].to_numpy() - 1 if "strata(sex)" in case["formula"] else None
    rs = risk_sets(
        None if start is None else df[start].to_numpy(float),
        df[stop].to_numpy(float),
        df[status].to_numpy(float),
        strata,
    )
    X = df[COVARIATES[case["formula"]]].to_numpy(float)
    return rs, X, df


def test_coxph_fits(coxph_cases: Any) -> None:
    """Coefficients, log-likelihoods, iteration counts and vcov of coxph without random effects."""
    for key, case in coxph_cases["fits"].items():
        rs, X, df = _setup(case)
        n = len(df)
        fit = coxph_newton(rs, X, np.zeros(n), np.ones(n), case["ties"])
        np.testing.assert_allclose(fit.coef, list(case["coef"].values()), rtol=1e-7, err_msg=key)
        np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=1e-10, err_msg=key)
        assert fit.iter == case["iter"], key
        vcov = np.linalg.inv(fit.information)
        np.testing.assert_allclose(vcov, np.array(case["vcov"]), rtol=1e-6, err_msg=key)


def test_weighted_coxph_fits(coxph_cases: Any) -> None:
    """Case weights enter the risk scores and Efron's mean weight of tied events."""
    for ties, case in coxph_cases["weighted"].items():
        _, X, df = _setup(case)
        w = 1 + (np.arange(1, len(df) + 1) % 3) / 2
        rs = risk_sets(
            df["tstart"].to_numpy(float),
            df["tstop"].to_numpy(float),
            df["status"].to_numpy(float),
            weights=w,
        )
        fit = coxph_newton(rs, X, np.zeros(len(df)), w, ties)
        np.testing.assert_allclose(fit.coef, list(case["coef"].values()), rtol=1e-7, err_msg=ties)
        np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=1e-10, err_msg=ties)
        assert fit.iter == case["iter"], ties


def test_partial_likelihood_at_beta(coxph_cases: Any) -> None:
    """Log-likelihood and inverse information at a given beta, with an offset, strata and
    counting-process data, both tie methods."""
    for key, case in coxph_cases["at_beta"].items():
        rs, X, df = _setup(case)
        eta = df["off"].to_numpy() + X @ np.array(case["beta"])
        pl = partial_likelihood(rs, X, eta, np.ones(len(df)), case["ties"])
        assert pl.loglik == pytest.approx(case["loglik"], rel=1e-12), key
        np.testing.assert_allclose(
            np.linalg.inv(pl.information), np.array(case["vcov"]), rtol=1e-9, err_msg=key
        )


def test_score_is_the_gradient() -> None:
    """The score is the derivative of the log-likelihood (central differences), Efron ties."""
    df = _frame("cgd")
    rs = risk_sets(
        df["tstart"].to_numpy(float), df["tstop"].to_numpy(float), df["status"].to_numpy(float)
    )
    X = df[["treatrIFN-g", "age"]].to_numpy(float)
    w = np.linspace(0.5, 1.5, len(df))
    beta = np.array([-0.8, 0.01])
    pl = partial_likelihood(rs, X, X @ beta, w, "efron")
    h = 1e-6
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        up = partial_likelihood(rs, X, X @ (beta + e), w, "efron").loglik
        down = partial_likelihood(rs, X, X @ (beta - e), w, "efron").loglik
        assert pl.score[j] == pytest.approx((up - down) / (2 * h), rel=1e-6)


def test_penalized_fit_matches_coxph_gaussian_frailty(coxph_cases: Any) -> None:
    """At a fixed variance the penalised Newton-Raphson reaches coxph's gaussian frailty fit."""
    for key, case in coxph_cases["frailty"].items():
        rs, X, df = _setup(case)
        n = len(df)
        levels, refs = np.unique(df[case["group"]].to_numpy(), return_inverse=True)
        Z = np.zeros((n, levels.size))
        Z[np.arange(n), refs] = 1.0
        q = levels.size
        problem = PenalizedProblem(
            rs,
            np.hstack([Z, X]),
            q,
            np.zeros(n),
            np.ones(n),
            case["ties"],
            np.zeros(0, dtype=np.intp),
            [np.arange(q)],
        )
        precision = np.eye(q) / case["theta"]
        fit = newton(
            problem, precision, np.zeros(q + X.shape[1]), min_iter=0, max_iter=50, eps=1e-12
        )
        np.testing.assert_allclose(
            fit.gamma[q:], list(case["coef"].values()), rtol=1e-6, err_msg=key
        )
        # coxph stops its (sparse) iteration on the change of the log-likelihood, which
        # leaves its frailties about 1e-5 from the maximum.
        np.testing.assert_allclose(fit.gamma[:q], case["frail"], atol=3e-5, err_msg=key)
