"""Responses simulated from a fitted mixed model, as lme4 1.1-31's ``simulate.merMod``.

For the fitted rows, with ``η_c`` the prediction that includes the random terms
of ``re_form`` (their fitted modes) and ``C`` the model's other random terms,
replicate ``s`` draws new effects for the terms in ``C``,

    u_s ~ N(0, I),   r_s = Σ_{i ∈ C} Z_i Λ_i u_{i,s},

and then

* LMM: ``y_s = η_c + σ (r_s + ε_s)``, ``ε_s ~ N(0, I)`` (lme4 ignores prior weights here);
* GLMM: ``μ_s = g⁻¹(η_c + r_s)`` and ``y_s`` from the family: binomial
  ``Bin(w, μ_s)/w`` with ``w`` the prior weights (trials; counts of successes and
  failures for a two-column response, the factor's levels for a factor
  response), Poisson ``Pois(μ_s)``, Gaussian ``N(μ_s, σ²)``, negative binomial
  (``glmer_nb``; MASS's family) ``NB(size = θ, mean μ_s)``, i.e. NumPy's
  ``negative_binomial(n=θ, p=θ/(θ + μ_s))`` (prior weights are ignored with a
  warning, as lme4 does).

``re_form="NA"`` (R's default, ``use.u = FALSE``) simulates every random term;
``None`` (``use.u = TRUE``) conditions on all of them.  The complement ``C``
is taken term by term, as lme4 does (``. ~ . - re.form``).  Random numbers
come from one NumPy ``Generator`` seeded by ``seed``; they are not R's.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.evaluate import FactorColumn
from interlace.errors import InterlaceError, InterlaceWarning
from interlace.results.predict import (
    frame_of,
    is_population,
    linear_predictor,
    random_terms,
)

if TYPE_CHECKING:
    from interlace.results.glmer_result import GlmerResult
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]


def simulate(
    result: LmerResult,
    nsim: int = 1,
    seed: int | np.random.Generator | None = None,
    *,
    re_form: str | None = "NA",
) -> pd.DataFrame:
    """Simulate ``nsim`` responses from a fitted LMM or GLMM (``simulate.merMod``).

    Parameters
    ----------
    result
        The fit.
    nsim
        Number of responses.
    seed
        Seed of ``numpy.random.default_rng`` (or a ``Generator``); the same seed
        gives the same responses.
    re_form
        Random terms to condition on: ``"NA"`` none (new effects for all,
        R's default), ``None`` all, or a formula naming some.

    Returns
    -------
    DataFrame
        Columns ``sim_1 .. sim_nsim``, one row per fitted row.  For a
        binomial ``cbind(s, f)`` response the columns are a MultiIndex
        ``(sim_i, column)`` holding the simulated counts.

    Raises
    ------
    InterlaceError
        ``nsim < 1``; a family without a simulator; non-integer binomial weights.
    """
    if int(nsim) != nsim or nsim < 1:
        raise InterlaceError(f"nsim must be a positive integer, not {nsim!r}")
    nsim = int(nsim)
    rng = np.random.default_rng(seed)
    eta, _ = linear_predictor(result, None, re_form, False)
    sim_reff = _new_effects(result, re_form, nsim, rng)
    names = [f"sim_{i}" for i in range(1, nsim + 1)]
    index = _fitted_index(result)
    response = getattr(result, "response", None)
    if response is None:
        noise = rng.standard_normal((eta.size, nsim))
        y = eta[:, None] + result.sigma * (sim_reff + noise)
        return pd.DataFrame(y, index=index, columns=names)
    return _glmm_draws(result, eta[:, None] + sim_reff, rng, names, index)  # type: ignore[arg-type]


def _fitted_index(result: LmerResult) -> pd.Index:
    labels = getattr(result.design, "row_labels", None)
    return labels if isinstance(labels, pd.Index) else pd.RangeIndex(result.nobs)


def _new_effects(
    result: LmerResult, re_form: str | None, nsim: int, rng: np.random.Generator
) -> FloatArray:
    """``n x nsim`` contributions of new random effects for the terms not in ``re_form``."""
    design = result.design
    out = np.zeros((result.nobs, nsim))
    if re_form is None:
        return out
    kept = set() if is_population(re_form) else {t.source for t in random_terms(result, re_form)}
    for term, lam in zip(design.terms, result.lambdas, strict=True):
        if getattr(term, "source", None) in kept:
            continue
        u = rng.standard_normal((nsim, len(term.levels), lam.shape[0]))
        b = u @ lam.T  # nsim x levels x k
        z = np.asarray(term.z, dtype=float)
        refs = np.asarray(term.refs)
        out += np.einsum("nk,snk->ns", z, b[:, refs, :])
    return out


def _glmm_draws(
    result: GlmerResult,
    eta: FloatArray,
    rng: np.random.Generator,
    names: list[str],
    index: pd.Index,
) -> pd.DataFrame:
    """Draws from the family at ``μ = g⁻¹(η)`` (``n x nsim``), shaped as lme4 returns them."""
    response = result.response
    family = response.family
    mu = family.linkinv(eta)
    if family.family == "binomial":
        weights = np.asarray(response.weights, dtype=float)
        if np.any(weights % 1 != 0):
            raise InterlaceError("cannot simulate from non-integer prior weights")
        trials = np.broadcast_to(weights.astype(np.int64)[:, None], mu.shape)
        successes = rng.binomial(trials, mu)
        y = np.asarray(result.design.y)
        if y.ndim == 2:
            colnames = _response_colnames(result)
            blocks = {
                (name, col): values
                for name, s in zip(names, successes.T, strict=True)
                for col, values in zip(colnames, (s, trials[:, 0] - s), strict=True)
            }
            return pd.DataFrame(blocks, index=index)
        factor = frame_of(result).response
        if isinstance(factor, FactorColumn) and factor.kind != "logical":
            levels = pd.Index(list(factor.levels))
            return pd.DataFrame(
                {
                    name: pd.Categorical.from_codes(np.minimum(s, 1), categories=levels)
                    for name, s in zip(names, successes.T, strict=True)
                },
                index=index,
            )
        return pd.DataFrame(successes / trials, index=index, columns=names)
    if family.family == "poisson":
        return pd.DataFrame(rng.poisson(mu).astype(float), index=index, columns=names)
    if family.family == "gaussian":
        return pd.DataFrame(rng.normal(mu, result.sigma), index=index, columns=names)
    if family.theta is not None:
        if np.any(np.asarray(response.weights, dtype=float) != 1.0):
            warnings.warn("ignoring prior weights", InterlaceWarning, stacklevel=4)
        theta = family.theta
        draws = rng.negative_binomial(theta, theta / (theta + mu)).astype(float)
        return pd.DataFrame(draws, index=index, columns=names)
    raise InterlaceError(
        f"simulation is not implemented for family {family.family}",
        remedy="families with a simulator: binomial, poisson, gaussian, negative binomial",
    )


def _response_colnames(result: LmerResult) -> tuple[str, str]:
    """Column names of a two-column response, as R's ``colnames(cbind(...))``."""
    column = frame_of(result).response
    names = getattr(column, "colnames", None) or ("", "")
    return str(names[0]), str(names[1])
