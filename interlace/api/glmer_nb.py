"""``glmer_nb``: negative binomial GLMMs with θ estimated as ``lme4::glmer.nb`` does.

For a known shape θ the model is a GLMM with MASS's negative binomial family
(``V(μ) = μ + μ²/θ``), fitted by :func:`~interlace.api.glmer.fit_glmer`.
θ itself maximises the Laplace log-likelihood profiled over the other
parameters,

    θ̂ = argmin_θ  D(θ),   D(θ) = −2 log L(θ_RE(θ), β(θ); θ),

found as lme4 1.1's ``glmer.nb`` finds it:

1. a Poisson GLMM on the same design;
2. a starting θ₀ from MASS's ``theta.ml`` on the Poisson fit's means and the
   observed counts (Newton steps on the score of the negative binomial
   log-likelihood in θ, at most ``limit`` iterations, stopping when a step is
   below ``eps``; lme4 uses ``limit = 20``, ``eps = 2 tol``);
3. a negative binomial GLMM at θ₀;
4. R's ``optimize`` (Brent's method, :func:`~interlace.optim.fmin.fmin`) of
   ``D`` over ``log θ`` in ``log θ₀ ± 3`` with ``tol = 5e-5``, each evaluation
   refitting the GLMM from the previous fit's parameters (lme4's ``refit``);
5. the fit at the minimiser (R evaluates the function once more there; that
   fit is the result), with the finite-difference Hessian and checks.

The refits inside the search skip the derivatives (they do not change ``D``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special

from interlace.api.glmer import GlmerControl, check_nagq, fit_glmer, glm_response
from interlace.api.steps import StartType, build_design, column_name
from interlace.engine.threads import one_blas_thread
from interlace.errors import InterlaceError, InterlaceWarning
from interlace.families import negative_binomial, poisson
from interlace.optim.fmin import fmin
from interlace.results.glmer_result import GlmerResult

FloatArray = NDArray[np.float64]

#: lme4's default ``tol`` of ``glmer.nb`` (the tolerance of ``optimize`` on log θ).
NB_TOL = 5e-5

#: lme4's ``initCtrl$limit``: Newton iterations of ``theta.ml``.
THETA_ML_LIMIT = 20


def theta_ml(
    y: FloatArray,
    mu: FloatArray,
    weights: FloatArray | None = None,
    *,
    limit: int = 10,
    eps: float = 2.220446049250313e-16**0.25,
) -> float:
    """MASS's ``theta.ml``: the maximum-likelihood θ of a negative binomial with known means.

    Newton's method on the score ``Σ w [ψ(θ + y) − ψ(θ) + log θ + 1 − log(θ + μ)
    − (y + θ)/(μ + θ)]`` from the moment estimate ``Σ w / Σ w (y/μ − 1)²``;
    at most ``limit − 1`` steps, stopping once a step is at most ``eps``.

    Warns
    -----
    InterlaceWarning
        MASS's ``iteration limit reached`` and ``estimate truncated at zero``.
    """
    y = np.asarray(y, dtype=float)
    mu = np.asarray(mu, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    t0 = float(np.sum(w) / np.sum(w * (y / mu - 1.0) ** 2))
    it, delta = 1, 1.0
    while it < limit and abs(delta) > eps:
        t0 = abs(t0)
        score = np.sum(
            w
            * (
                special.digamma(t0 + y)
                - special.digamma(t0)
                + math.log(t0)
                + 1.0
                - np.log(t0 + mu)
                - (y + t0) / (mu + t0)
            )
        )
        info = np.sum(
            w
            * (
                -special.polygamma(1, t0 + y)
                + special.polygamma(1, t0)
                - 1.0 / t0
                + 2.0 / (mu + t0)
                - (y + t0) / (mu + t0) ** 2
            )
        )
        delta = float(score / info)
        t0 += delta
        it += 1
    if t0 < 0:
        t0 = 0.0
        warnings.warn("theta.ml: estimate truncated at zero", InterlaceWarning, stacklevel=2)
    if it == limit:
        warnings.warn("theta.ml: iteration limit reached", InterlaceWarning, stacklevel=2)
    return t0


@one_blas_thread
def glmer_nb(
    formula: str,
    data: pd.DataFrame,
    *,
    link: str = "log",
    nAGQ: int = 1,
    weights: Any = None,
    offset: Any = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["omit", "fail"] = "omit",
    control: GlmerControl | Mapping[str, Any] | None = None,
    start: StartType = None,
    interval: tuple[float, float] | None = None,
    tol: float = NB_TOL,
    init_theta: float | None = None,
    data_name: str | None = None,
) -> GlmerResult:
    """Fit a negative binomial GLMM, estimating θ, as ``lme4::glmer.nb(formula, data, ...)``.

    Parameters
    ----------
    formula : str
        lme4 formula with a count response.
    data : DataFrame
        Never modified.
    link : {"log", "identity", "sqrt"}
        The link of MASS's ``negative.binomial`` (lme4 always uses ``log``).
    nAGQ, weights, offset, contrasts, na_action, control, data_name
        As for :func:`~interlace.api.glmer.glmer`; ``control`` applies to every fit.
    start : array or {"theta": ..., "fixef": ...}, optional
        Starting values of the Poisson fit and the first negative binomial fit.
    interval : (float, float), optional
        The search interval for ``log θ`` (default ``log θ₀ ± 3``).
    tol : float
        Tolerance of the search on ``log θ`` (lme4's ``tol``).
    init_theta : float, optional
        θ₀ (lme4's ``initCtrl$theta``); skips the Poisson fit.

    Returns
    -------
    GlmerResult
        The fit at θ̂; ``nb_theta`` is θ̂ and the family is printed as R
        prints it (``Negative Binomial(3.3034)``).

    Raises
    ------
    ResponseDomainError
        Negative counts (rows named).
    InterlaceError
        θ₀ is not positive (``theta.ml`` truncated it at zero); ``nAGQ`` refused as
        by ``glmer``.
    """
    from interlace.design.lformula import glformula

    check_nagq(nAGQ)
    design, rank_msgs = build_design(
        lambda: glformula(
            formula, data, weights=weights, offset=offset, contrasts=contrasts, na_action=na_action
        )
    )
    check_nagq(nAGQ, design)
    rows = list(design.row_labels)
    kwargs: dict[str, Any] = {
        "nAGQ": nAGQ,
        "formula": formula,
        "data_name": data_name,
        "weights_name": column_name(weights),
        "offset_name": column_name(offset),
        "fit_messages": rank_msgs,
    }
    ctrl = GlmerControl.coerce(control)

    def fit(theta: float, start_at: StartType, control_at: GlmerControl) -> GlmerResult:
        response = glm_response(design, negative_binomial(theta, link), rows)
        return fit_glmer(design, response, control=control_at, start=start_at, **kwargs)

    th0 = init_theta
    if th0 is None:
        pois = fit_glmer(
            design, glm_response(design, poisson(), rows), control=ctrl, start=start, **kwargs
        )
        th0 = theta_ml(
            np.asarray(design.y, dtype=float),
            pois.mu,
            pois.response.weights,
            limit=THETA_ML_LIMIT,
            eps=2.0 * tol,
        )
    if not th0 > 0:
        raise InterlaceError(
            f"the initial negative binomial theta is {th0:g}: the counts show no overdispersion "
            "beyond the Poisson fit",
            remedy="fit a Poisson GLMM (glmer(..., family='poisson')) or give init_theta",
        )
    last = fit(th0, start, ctrl)
    search_ctrl = replace(ctrl, calc_derivs=False)
    lo, hi = interval if interval is not None else (math.log(th0) - 3.0, math.log(th0) + 3.0)

    def deviance(log_theta: float) -> float:
        nonlocal last
        last = fit(math.exp(log_theta), _refit_start(last), search_ctrl)
        return float(last.objective)

    best = fmin(deviance, lo, hi, tol)
    return fit(math.exp(best.minimum), _refit_start(last), ctrl)


def _refit_start(fit: GlmerResult) -> dict[str, FloatArray]:
    """lme4's ``refit``: start from the previous fit's θ and β."""
    return {"theta": np.asarray(fit.theta), "fixef": np.asarray(fit.beta)}


__all__ = ["glmer_nb", "theta_ml"]
