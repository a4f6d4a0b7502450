"""Newton-Raphson for a Cox model without random effects, iterated as ``survival::coxph`` does.

Maximises the partial log-likelihood ``l(beta)`` of :mod:`interlace.cox.partial` from
``beta = init`` (default 0).  survival's ``coxfit6`` takes a first Newton step from ``init``,
then at iteration ``k = 1, 2, ...`` evaluates ``l`` at the new point and stops when
``|1 - l_old / l_new| <= eps`` (and the last step was not halved); if ``l`` went down the
step is halved.  The iteration count matters beyond this fit: coxme runs its inner loop for
``max(4, iter + 1)`` Newton steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from interlace.cox.partial import PartialLikelihood, Ties, partial_likelihood
from interlace.cox.risksets import RiskSets

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CoxphFit:
    """A fixed-effects Cox fit.

    Attributes
    ----------
    coef : ndarray
        Estimates.
    loglik : tuple of float
        ``(l(init), l(coef))``: survival's ``fit$loglik``.
    iter : int
        survival's ``fit$iter``.
    information : ndarray
        The information matrix at ``coef``.
    """

    coef: FloatArray
    loglik: tuple[float, float]
    iter: int
    information: FloatArray


def coxph_newton(
    rs: RiskSets,
    X: FloatArray,
    offset: FloatArray,
    weights: FloatArray,
    ties: Ties,
    *,
    init: FloatArray | None = None,
    iter_max: int = 20,
    eps: float = 1e-9,
) -> CoxphFit:
    """Fit ``l(beta)`` by survival's Newton-Raphson (see the module docstring)."""
    p = X.shape[1]

    def at(beta: FloatArray) -> PartialLikelihood:
        return partial_likelihood(rs, X, offset + X @ beta, weights, ties)

    beta = np.zeros(p) if init is None else np.asarray(init, dtype=float)
    current = at(beta)
    loglik0 = current.loglik
    if p == 0 or iter_max == 0:
        return CoxphFit(beta, (loglik0, loglik0), 0, current.information)
    best = current
    new_beta = beta + np.linalg.solve(current.information, current.score)
    halving = False
    iteration = 1
    while True:
        trial = at(new_beta)
        if abs(1 - best.loglik / trial.loglik) <= eps and not halving:
            return CoxphFit(new_beta, (loglik0, trial.loglik), iteration, trial.information)
        if iteration == iter_max:
            return CoxphFit(new_beta, (loglik0, trial.loglik), iteration, trial.information)
        if trial.loglik < best.loglik:
            halving = True
            new_beta = (new_beta + beta) / 2
        else:
            halving = False
            best = trial
            beta = new_beta
            new_beta = new_beta + np.linalg.solve(trial.information, trial.score)
        iteration += 1
