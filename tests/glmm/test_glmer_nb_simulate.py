"""simulate() for glmer_nb fits, as lme4 1.1-31's simulate.merMod with MASS's negative binomial.

NumPy's random numbers are not R's, so the draws are compared by their moments:

* with the model's exact moments (mathematics, from interlace's own fit of
  ``TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)`` on grouseticks).
  Given ``μ``, ``y ~ NB(θ, μ)`` has ``E y = μ`` and ``Var y = μ + μ²/θ``.  Conditional on
  the fitted modes (``re_form=None``) ``μ`` is the fitted value; with new random effects
  (``re_form="NA"``, the default) ``μ = exp(η + b)``, ``b ~ N(0, s²)`` with ``s²`` the sum of
  the two intercept variances, so ``E y = exp(η + s²/2)`` and
  ``E y² = E μ + (1 + 1/θ) exp(2η + 2s²)``;
* with the moments of lme4's own draws (fixtures/glmm/nb_simulate.json, written by
  fixtures/R/glmer_nb_simulate.R: 4000 draws per row): the difference of the two sample
  means (variances) must be within 5 standard errors of that difference, the standard
  errors estimated from both samples (``Var/n`` for a mean, ``(m4 − Var²)/n`` for a
  variance).
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import interlace.datasets as ds
from interlace import glmer_nb
from interlace.errors import InterlaceWarning
from interlace.results.glmer_result import GlmerResult

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "glmm" / "nb_simulate.json"
FORMULA = "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)"
NSIM = 4000
#: Monte Carlo tolerance, in standard errors.
Z = 5.0


@cache
def reference() -> dict[str, Any]:
    with open(FIXTURE) as fh:
        out: dict[str, Any] = json.load(fh)
    return out


@pytest.fixture(scope="module")
def ticks() -> GlmerResult:
    return glmer_nb(FORMULA, ds.load("grouseticks"))


@pytest.fixture(scope="module")
def marginal(ticks: GlmerResult) -> np.ndarray:
    return ticks.simulate(NSIM, seed=11).to_numpy()


@pytest.fixture(scope="module")
def conditional(ticks: GlmerResult) -> np.ndarray:
    return ticks.simulate(NSIM, seed=12, re_form=None).to_numpy()


def _theta(fit: GlmerResult) -> float:
    theta = fit.nb_theta
    assert theta is not None
    return theta


def test_structure_and_seed(ticks: GlmerResult) -> None:
    sims = ticks.simulate(3, seed=42)
    assert list(sims.columns) == ["sim_1", "sim_2", "sim_3"]
    assert sims.shape == (ticks.nobs, 3)
    pd.testing.assert_index_equal(sims.index, ticks.fittedvalues.index)
    values = sims.to_numpy()
    assert np.all(values >= 0) and np.all(values % 1 == 0)
    pd.testing.assert_frame_equal(sims, ticks.simulate(3, seed=42))
    pd.testing.assert_frame_equal(sims, ticks.simulate(3, seed=np.random.default_rng(42)))
    assert not sims.equals(ticks.simulate(3, seed=43))
    assert list(ticks.simulate(seed=1).columns) == ["sim_1"]


def test_conditional_draws_have_the_negative_binomial_moments(
    ticks: GlmerResult, conditional: np.ndarray
) -> None:
    mu = ticks.fittedvalues.to_numpy()
    var = mu + mu**2 / _theta(ticks)
    z_mean = (conditional.mean(axis=1) - mu) / np.sqrt(var / NSIM)
    assert np.max(np.abs(z_mean)) < Z
    # pooled over rows: the sample variances average to the model's, well within 2 %
    np.testing.assert_allclose(conditional.var(axis=1, ddof=1).mean(), var.mean(), rtol=0.02)


def test_new_random_effects_give_the_marginal_moments(
    ticks: GlmerResult, marginal: np.ndarray
) -> None:
    eta = ticks.predict(re_form="NA").to_numpy()
    vc = ticks.variance_components
    s2 = float(vc["BROOD"]) + float(vc["LOCATION"])  # type: ignore[arg-type]
    mean = np.exp(eta + s2 / 2)
    second = mean + (1 + 1 / _theta(ticks)) * np.exp(2 * eta + 2 * s2)
    var = second - mean**2
    z_mean = (marginal.mean(axis=1) - mean) / np.sqrt(var / NSIM)
    assert np.max(np.abs(z_mean)) < Z
    # not the fixed part's μ = exp(η): new effects raise the mean by exp(s²/2) ≈ 1.52
    assert marginal.mean() > 1.3 * np.exp(eta).mean()


def _moments(x: np.ndarray) -> tuple[float, float, float]:
    centred = x - x.mean()
    return float(x.mean()), float(x.var(ddof=1)), float(np.mean(centred**4))


def _agree(ours: np.ndarray, theirs: dict[str, float], n_theirs: int) -> None:
    mean, var, m4 = _moments(ours)
    n = ours.size
    se_mean = np.sqrt(var / n + theirs["var"] / n_theirs)
    assert abs(mean - theirs["mean"]) < Z * se_mean, (mean, theirs["mean"], se_mean)
    se_var = np.sqrt((m4 - var**2) / n + (theirs["m4"] - theirs["var"] ** 2) / n_theirs)
    assert abs(var - theirs["var"]) < Z * se_var, (var, theirs["var"], se_var)


@pytest.mark.parametrize("case", ["na", "conditional"])
def test_moments_agree_with_lme4(
    ticks: GlmerResult, marginal: np.ndarray, conditional: np.ndarray, case: str
) -> None:
    ref = reference()
    assert ref["versions"]["lme4"] == "1.1.31"
    np.testing.assert_allclose(_theta(ticks), ref["nb_theta"], rtol=1e-3)
    sims = marginal if case == "na" else conditional
    for row in ref[case]["rows"]:
        _agree(sims[row["row"] - 1], row, ref["nsim"])
    _agree(sims.sum(axis=0), ref[case]["total"], ref["nsim"])


def test_prior_weights_are_ignored_with_a_warning() -> None:
    data = ds.load("grouseticks").assign(w=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = glmer_nb("TICKS ~ YEAR + (1 | LOCATION)", data, weights="w")
    with pytest.warns(InterlaceWarning, match="ignoring prior weights"):
        sims = fit.simulate(2000, seed=3, re_form=None).to_numpy()
    mu = fit.fittedvalues.to_numpy()
    var = mu + mu**2 / _theta(fit)  # weights change neither the mean nor the variance
    assert np.max(np.abs(sims.mean(axis=1) - mu) / np.sqrt(var / 2000)) < Z
