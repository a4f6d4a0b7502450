"""coxme's fit: integrated partial likelihood maximised over the variance parameters.

Steps (coxme 2.2-22, ``coxme.fit``):

1. ``fit0``: the Cox model without random effects (:mod:`interlace.cox.coxph`); its first
   log-likelihood (at ``beta = 0``) is coxme's NULL log-likelihood and its iteration count
   sets the inner loop to ``max(4, iter + 1)`` Newton steps.
2. For variance parameters ``theta``: ``Sigma(theta)`` (:mod:`interlace.cox.variance`),
   that many Newton steps on the penalised partial likelihood from ``b = 0``,
   ``beta = 0.7 beta_fit0`` (:mod:`interlace.cox.penalized`), and the objective
   ``-(1 + log L_I(theta) - l(beta_fit0))``.
3. The best of coxme's grid of starting values, then R's ``optim`` BFGS with
   ``reltol = 1e-5`` and finite-difference gradients (:mod:`interlace.optim.bfgs`).
4. A final Newton fit at the estimate from ``b = 0, beta = beta_fit0`` (at most 20
   iterations, ``eps = 1e-8``): coefficients, random effects, ``log L_I`` and ``PPL``; the
   variance of the estimates is the inverse of the penalised information.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.cox.coxph import CoxphFit, coxph_newton
from interlace.cox.partial import Ties
from interlace.cox.penalized import PenalizedFit, PenalizedProblem, newton
from interlace.cox.risksets import RiskSets
from interlace.cox.variance import CORINIT, VARINIT, RandomLayout
from interlace.optim.bfgs import BfgsResult, optim_bfgs

FloatArray = NDArray[np.float64]

#: coxme.control() defaults used by the fit.
EPS = 1e-8
ITER_MAX = 20
RELTOL = 1e-5
SHRINK = 0.7


@dataclass(frozen=True)
class CoxmeFit:
    """The numbers of a coxme fit.

    Attributes
    ----------
    theta : ndarray
        Variance parameters on coxme's scale.
    beta, b : ndarray
        Fixed and random effects.
    vcov : ndarray
        Inverse penalised information over ``(b, beta)``.
    loglik : tuple of float
        coxme's ``loglik``: NULL, integrated, penalised.
    iter : tuple of int
        coxme's ``iter``: outer function evaluations, total Newton iterations.
    fit0 : CoxphFit
        The fit without random effects.
    optimizer : BfgsResult
        R's ``optim`` record of the outer BFGS (``convergence`` 0 when it converged).
    final_converged : bool
        Whether the final Newton fit met its stopping rule within ``ITER_MAX`` iterations.
    """

    theta: FloatArray
    beta: FloatArray
    b: FloatArray
    vcov: FloatArray
    loglik: tuple[float, float, float]
    iter: tuple[int, int]
    fit0: CoxphFit
    optimizer: BfgsResult
    final_converged: bool


def _integrated(fit: PenalizedFit, logdet_sigma: float) -> float:
    return fit.ppl - 0.5 * (logdet_sigma + fit.hdet)


def coxme_fit(
    rs: RiskSets,
    X: FloatArray,
    layout: RandomLayout,
    offset: FloatArray,
    weights: FloatArray,
    ties: Ties,
    *,
    varinit: Sequence[float] = VARINIT,
    corinit: Sequence[float] = CORINIT,
) -> CoxmeFit:
    """Fit a coxme model (see the module docstring)."""
    fit0 = coxph_newton(rs, X, offset, weights, ties, iter_max=ITER_MAX)
    inner = max(4, fit0.iter + 1)
    q = layout.q
    problem = PenalizedProblem(
        rs,
        sp.csr_matrix(np.hstack([layout.Z, X])),
        q,
        offset,
        weights,
        ties,
        layout.sparse,
        layout.centring(),
    )
    start = np.concatenate([np.zeros(q), SHRINK * fit0.coef])

    def objective(theta: FloatArray) -> float:
        precision, logdet = layout.precision(theta)
        if not np.isfinite(logdet):
            return 0.0  # coxme: "a worse than null fit"
        fit = newton(problem, precision, start, min_iter=inner, max_iter=inner, eps=EPS)
        return -(1.0 + _integrated(fit, logdet) - fit0.loglik[1])

    candidates = layout.start_grid(varinit, corinit)
    values = [objective(c) for c in candidates]
    values = [v if np.isfinite(v) else np.inf for v in values]
    theta0 = candidates[int(np.argmin(values))]
    result = optim_bfgs(objective, theta0, reltol=RELTOL)
    theta = result.x
    precision, logdet = layout.precision(theta)
    final = newton(
        problem,
        precision,
        np.concatenate([np.zeros(q), fit0.coef]),
        min_iter=0,
        max_iter=ITER_MAX,
        eps=EPS,
    )
    vcov = np.asarray(np.linalg.inv(final.information), dtype=np.float64)
    return CoxmeFit(
        theta=theta,
        beta=final.gamma[q:],
        b=final.gamma[:q],
        vcov=vcov,
        loglik=(fit0.loglik[0], _integrated(final, logdet), final.ppl),
        iter=(result.fn_count, result.fn_count * inner + final.iter),
        fit0=fit0,
        optimizer=result,
        final_converged=final.iter <= ITER_MAX,
    )
