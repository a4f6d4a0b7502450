"""simulate() as lme4's simulate.merMod: structure exactly, distribution by moments.

NumPy's random numbers are not R's, so the values are checked against the
model's moments (derived from the fitted parameters), with tolerances of
several Monte Carlo standard errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import interlace
from interlace import datasets
from interlace.errors import InterlaceError
from interlace.results.glmer_result import GlmerResult
from interlace.results.lmer_result import LmerResult


@pytest.fixture(scope="module")
def sleep() -> LmerResult:
    return interlace.lmer("Reaction ~ Days + (Days | Subject)", datasets.load("sleepstudy"))


@pytest.fixture(scope="module")
def cbpp() -> GlmerResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return interlace.glmer(
            "cbind(incidence, size - incidence) ~ period + (1 | herd)",
            datasets.load("cbpp"),
            family="binomial",
        )


def test_structure_and_seed(sleep: LmerResult) -> None:
    sims = sleep.simulate(3, seed=42)
    assert list(sims.columns) == ["sim_1", "sim_2", "sim_3"]
    assert sims.shape == (180, 3)
    pd.testing.assert_index_equal(sims.index, sleep.fittedvalues.index)
    pd.testing.assert_frame_equal(sims, sleep.simulate(3, seed=42))
    assert not sims.equals(sleep.simulate(3, seed=43))
    # an explicit Generator is used as given (no global state involved)
    pd.testing.assert_frame_equal(sleep.simulate(3, seed=np.random.default_rng(42)), sims)
    with pytest.raises(InterlaceError, match="nsim"):
        sleep.simulate(0)


def test_conditional_simulation_is_fitted_plus_residual_noise(sleep: LmerResult) -> None:
    sims = sleep.simulate(4000, seed=1, re_form=None).to_numpy()
    resid = sims - sleep.fittedvalues.to_numpy()[:, None]
    se_mean = sleep.sigma / np.sqrt(4000)
    assert np.max(np.abs(resid.mean(axis=1))) < 5 * se_mean
    np.testing.assert_allclose(resid.std(axis=1).mean(), sleep.sigma, rtol=0.01)


def test_unconditional_simulation_has_the_marginal_covariance(sleep: LmerResult) -> None:
    nsim = 4000
    sims = sleep.simulate(nsim, seed=2).to_numpy()
    population = sleep.predict(re_form="NA").to_numpy()
    subject = sleep.variance_components["Subject"]
    assert isinstance(subject, pd.DataFrame)
    cov_b = subject.to_numpy()
    days = datasets.load("sleepstudy")["Days"].to_numpy()
    z = np.column_stack([np.ones_like(days), days])
    var = np.einsum("ij,jk,ik->i", z, cov_b, z) + sleep.scale
    centred = sims - population[:, None]
    assert np.max(np.abs(centred.mean(axis=1)) / np.sqrt(var / nsim)) < 5
    np.testing.assert_allclose(centred.var(axis=1), var, rtol=0.12)
    # rows of one subject share its random effects: Days 0 and 9 correlate as the model says
    first = slice(0, 10)
    corr = np.corrcoef(centred[first][0], centred[first][9])[0, 1]
    model_corr = (z[0] @ cov_b @ z[9]) / np.sqrt(var[0] * var[9])
    assert abs(corr - model_corr) < 0.05
    # different subjects are independent
    assert abs(np.corrcoef(centred[0], centred[10])[0, 1]) < 0.06


def test_re_form_subset_simulates_only_the_other_terms() -> None:
    fit = interlace.lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", datasets.load("Penicillin"))
    sims = fit.simulate(3000, seed=3, re_form="~ (1 | plate)").to_numpy()
    conditional = fit.predict(re_form="~ (1 | plate)").to_numpy()
    var = fit.variance_components["sample"] + fit.scale
    centred = sims - conditional[:, None]
    np.testing.assert_allclose(centred.var(axis=1).mean(), var, rtol=0.05)
    assert np.max(np.abs(centred.mean(axis=1))) < 5 * np.sqrt(var / 3000)


def test_binomial_two_column_response_gives_counts(cbpp: GlmerResult) -> None:
    sims = cbpp.simulate(2, seed=5, re_form=None)
    assert isinstance(sims.columns, pd.MultiIndex)
    assert list(sims.columns) == [
        ("sim_1", "incidence"),
        ("sim_1", ""),
        ("sim_2", "incidence"),
        ("sim_2", ""),
    ]
    size = datasets.load("cbpp")["size"].to_numpy()
    for name in ("sim_1", "sim_2"):
        np.testing.assert_array_equal(sims[name].to_numpy().sum(axis=1), size)
        assert (sims[(name, "incidence")] >= 0).all()


def test_binomial_conditional_mean_is_fitted_mean(cbpp: GlmerResult) -> None:
    nsim = 4000
    sims = cbpp.simulate(nsim, seed=6, re_form=None)
    size = datasets.load("cbpp")["size"].to_numpy()
    successes = sims.xs("incidence", axis=1, level=1).to_numpy()
    mean = successes.mean(axis=1)
    mu = cbpp.mu
    se = np.sqrt(size * mu * (1 - mu) / nsim)
    assert np.max(np.abs(mean - size * mu) / se) < 5


def test_poisson_simulation_moments() -> None:
    fit = interlace.glmer(
        "incidence ~ period + (1 | herd)", datasets.load("cbpp"), family="poisson"
    )
    nsim = 4000
    sims = fit.simulate(nsim, seed=7, re_form=None).to_numpy()
    assert np.all(sims == np.round(sims))
    se = np.sqrt(fit.mu / nsim)
    assert np.max(np.abs(sims.mean(axis=1) - fit.mu) / se) < 5
    np.testing.assert_allclose(sims.var(axis=1).mean(), fit.mu.mean(), rtol=0.05)
