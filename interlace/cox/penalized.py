"""The penalised partial likelihood and coxme's Newton-Raphson for it at fixed variances.

With ``gamma = (b, beta)``, ``eta = offset + Z b + X beta`` and ``Sigma = Sigma(theta)``,

    PPL(b, beta) = l(b, beta) - b' Sigma^-1 b / 2

(``l`` the partial log-likelihood of :mod:`interlace.cox.partial`), with score
``U - (Sigma^-1 b, 0)`` and information ``I + diag(Sigma^-1, 0)``.  For a sparse grouping
factor coxme keeps only the diagonal of the information among its sparse levels; the
iteration then still reaches the maximum, and that approximate information is the one
whose determinant and inverse coxme reports.

The iteration is coxme's ``coxfit6b``: from ``gamma0``, at iteration ``k = 0..max_iter``
evaluate ``PPL``; if it fell (relative change above ``eps``), halve the last step and go on;
stop once ``k >= min_iter`` and ``|1 - PPL_old / PPL_new| <= eps``; otherwise take a Newton
step and recentre the random intercepts of each term so that
``1' Sigma^-1 (b restricted to the term) = 0``.  coxme's inner loop uses
``min_iter = max_iter`` (a fixed number of steps), its final fit ``(0, 20)``.

The Laplace approximation of the integrated partial likelihood is then (coxme's ``ilik``)

    log L_I(theta) = PPL(b^, beta^) - (log |Sigma| + log |H_bb|) / 2

with ``H_bb`` the random-effects block of the penalised information.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from numpy.typing import NDArray

from interlace.cox.partial import Matrix, Ties, partial_likelihood
from interlace.cox.risksets import RiskSets
from interlace.errors import NumericalError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class PenalizedProblem:
    """The data of a penalised Cox fit.

    Attributes
    ----------
    rs : RiskSets
    M : ndarray or scipy.sparse.csr_matrix, shape (n, q + p)
        ``[Z, X]``.
    q : int
        Number of random effects (the leading columns of ``M``).
    offset, weights : ndarray
    ties : {"efron", "breslow"}
    sparse : ndarray of int
        Positions of ``b`` whose off-diagonal information is dropped.
    centring : list of ndarray
        Positions of each term's random intercepts.
    """

    rs: RiskSets
    M: Matrix
    q: int
    offset: FloatArray
    weights: FloatArray
    ties: Ties
    sparse: IntArray
    centring: list[IntArray]


@dataclass(frozen=True)
class PenalizedState:
    """The penalised likelihood at one ``gamma``."""

    gamma: FloatArray
    ppl: float
    score: FloatArray
    information: FloatArray


@dataclass(frozen=True)
class PenalizedFit:
    """Result of the Newton-Raphson.

    Attributes
    ----------
    gamma : ndarray
        ``(b, beta)`` at the end.
    ppl : float
        ``PPL`` there (coxme's ``loglik[3]`` at the final fit).
    hdet : float
        ``log |H_bb|``.
    information : ndarray
        Penalised (approximate) information at ``gamma``.
    iter : int
        coxme's iteration count.
    """

    gamma: FloatArray
    ppl: float
    hdet: float
    information: FloatArray
    iter: int


def evaluate(problem: PenalizedProblem, precision: FloatArray, gamma: FloatArray) -> PenalizedState:
    """``PPL``, its score and (approximate) information at ``gamma``."""
    q = problem.q
    eta = problem.offset + problem.M @ gamma
    pl = partial_likelihood(problem.rs, problem.M, eta, problem.weights, problem.ties)
    b = gamma[:q]
    pb = precision @ b
    score = pl.score.copy()
    score[:q] -= pb
    info = pl.information.copy()
    info[:q, :q] += precision
    s = problem.sparse
    if s.size:
        diagonal = info[s, s].copy()
        info[np.ix_(s, s)] = 0.0
        info[s, s] = diagonal
    return PenalizedState(gamma, pl.loglik - float(b @ pb) / 2, score, info)


def _cholesky(info: FloatArray) -> FloatArray:
    try:
        return np.asarray(sla.cholesky(info, lower=True))
    except sla.LinAlgError:
        raise NumericalError(
            "the penalised information matrix is not positive definite",
            remedy="check the model for covariates that are constant or collinear",
        ) from None


def _recentre(gamma: FloatArray, precision: FloatArray, centring: list[IntArray]) -> None:
    """Shift each term's intercepts by their ``Sigma^-1``-weighted mean (in place)."""
    q = precision.shape[0]
    for idx in centring:
        indicator = np.zeros(q)
        indicator[idx] = 1.0
        masked = np.where(indicator > 0, gamma[:q], 0.0)
        gamma[idx] -= np.sum(precision @ masked) / np.sum(precision @ indicator)


def newton(
    problem: PenalizedProblem,
    precision: FloatArray,
    gamma0: FloatArray,
    *,
    min_iter: int,
    max_iter: int,
    eps: float = 1e-8,
) -> PenalizedFit:
    """coxme's Newton-Raphson for ``PPL`` at a fixed ``Sigma^-1`` (see the module docstring)."""
    gamma = np.array(gamma0, dtype=float)
    old = gamma.copy()
    previous = 0.0
    iteration = 0
    while True:
        state = evaluate(problem, precision, gamma)
        if iteration > 0 and state.ppl < previous and abs(1 - previous / state.ppl) > eps:
            gamma = (old + gamma) / 2
        else:
            chol = _cholesky(state.information)
            if iteration >= min_iter and abs(1 - previous / state.ppl) <= eps:
                break
            previous = state.ppl
            if iteration < max_iter:
                old = gamma
                gamma = gamma + sla.cho_solve((chol, True), state.score)
                _recentre(gamma, precision, problem.centring)
        iteration += 1
        if iteration > max_iter:
            break
    hdet = 2.0 * float(np.sum(np.log(np.diag(chol)[: problem.q])))
    return PenalizedFit(state.gamma, state.ppl, hdet, state.information, iteration)
