"""Cox partial log-likelihood, its score and information, with Breslow or Efron ties.

For a linear predictor ``eta = offset + M gamma``, case weights ``w`` and risk scores
``r_i = w_i exp(eta_i)``, let ``R_j`` be the risk set of the ``j``-th distinct event time,
``D_j`` the ``m_j`` rows with an event there and ``wbar_j`` their mean weight.  Write
``S0_j = sum_{R_j} r_i``, ``S1_j = sum_{R_j} r_i M_i`` and ``E0_j, E1_j`` for the same sums
over ``D_j``.  Efron's approximation splits the ``m_j`` tied events into ``k = 0..m_j-1``
with ``f = k / m_j`` (Breslow's uses ``f = 0`` throughout):

    d_jk = S0_j - f E0_j,      a_jk = (S1_j - f E1_j) / d_jk

    l(gamma) = sum_i delta_i w_i eta_i - sum_jk wbar_j log d_jk
    U(gamma) = sum_i delta_i w_i M_i   - sum_jk wbar_j a_jk
    I(gamma) = sum_jk wbar_j [ (S2_j - f E2_j) / d_jk - a_jk a_jk' ]

with ``S2, E2`` the sums of ``r_i M_i M_i'``.  The first part of ``I`` is
``M' diag(r_i c_i) M`` where ``c_i`` adds ``wbar_j / d_jk`` over the event times at which
row ``i`` is at risk and subtracts ``wbar_j f / d_jk`` at the row's own event time, so
``I`` costs ``O((n + events) p^2)``.  These are survival's ``coxph`` formulas (Therneau and
Grambsch 2000, sec. 3.3) and coxme's (``coxfit6b.c``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.cox.risksets import RiskSets

FloatArray = NDArray[np.float64]
Ties = Literal["efron", "breslow"]
#: A model matrix: dense, or sparse (CSR) when random-effect indicators make it mostly zero.
Matrix = FloatArray | sp.csr_matrix


def _dense(values: Any) -> FloatArray:
    """A dense array from a dense or scipy-sparse matrix product (whose stub types vary)."""
    if isinstance(values, np.ndarray):
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values.toarray(), dtype=np.float64)


def _scale_rows(M: Matrix, v: FloatArray) -> Matrix:
    """``diag(v) M``."""
    if sp.issparse(M):
        return sp.csr_matrix(M.multiply(v[:, None]))
    return v[:, None] * M


def _cross(M: Matrix, v: FloatArray) -> FloatArray:
    """``M' diag(v) M``."""
    return _dense(M.T @ _scale_rows(M, v))


@dataclass(frozen=True)
class PartialLikelihood:
    """Value, score and information of the partial likelihood at one ``gamma``."""

    loglik: float
    score: FloatArray
    information: FloatArray


def _tie_fractions(rs: RiskSets, ties: Ties) -> tuple[NDArray[np.intp], FloatArray]:
    """Event time ``j`` and Efron fraction ``f = k / m_j`` of every term ``(j, k)``."""
    counts = rs.n_dead.astype(np.intp)
    jj = np.repeat(np.arange(rs.n_times, dtype=np.intp), counts)
    if ties == "breslow":
        return jj, np.zeros(jj.size)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    k = np.arange(jj.size) - np.repeat(first, counts)
    return jj, k / counts[jj]


@dataclass(frozen=True)
class TiedRisk:
    """The risk-set denominators of every term ``(j, k)`` of the partial likelihood.

    Attributes
    ----------
    jj : ndarray of int
        Event time ``j`` of each term.
    f : ndarray
        Efron fraction ``k / m_j`` (0 for Breslow ties).
    d : ndarray
        ``d_jk = S0_j - f E0_j``.
    wt : ndarray
        ``wbar_j``.
    """

    jj: NDArray[np.intp]
    f: FloatArray
    d: FloatArray
    wt: FloatArray

    def hazard(self, rs: RiskSets) -> tuple[FloatArray, FloatArray]:
        """Per event time, ``g_j = sum_k wbar_j / d_jk`` and ``h_j = sum_k wbar_j f / d_jk``.

        ``g`` is the jump of the baseline cumulative hazard (Breslow's estimator, or its Efron
        adjustment); a row with an event at ``j`` gets ``g_j - h_j`` of it.
        """
        g = np.bincount(self.jj, weights=self.wt / self.d, minlength=rs.n_times)
        h = np.bincount(self.jj, weights=self.wt * self.f / self.d, minlength=rs.n_times)
        return g.astype(np.float64), h.astype(np.float64)

    def means(self, rs: RiskSets, rM: Matrix) -> FloatArray:
        """``a_jk = (S1_j - f E1_j) / d_jk``: risk-weighted means of ``M`` (``rM = diag(r) M``)."""
        S1 = rs.at_risk_sum(rM)
        E1 = _dense(rs.dies @ rM)
        return np.asarray((S1[self.jj] - self.f[:, None] * E1[self.jj]) / self.d[:, None])

    def row_hazard(self, rs: RiskSets) -> FloatArray:
        """``c_i``: the baseline cumulative hazard each row accrues over its time at risk."""
        g, h = self.hazard(rs)
        c = rs.over_risk_times(g)
        c[rs.event] -= h[rs.time_of_event]
        return c


def tied_risk(rs: RiskSets, r: FloatArray, ties: Ties) -> TiedRisk:
    """The denominators ``d_jk`` for risk scores ``r = w exp(eta)``."""
    S0 = rs.at_risk_sum(r)
    E0 = rs.dies @ r
    jj, f = _tie_fractions(rs, ties)
    return TiedRisk(jj, f, S0[jj] - f * E0[jj], rs.wt_ave[jj])


def partial_likelihood(
    rs: RiskSets,
    M: Matrix,
    eta: FloatArray,
    weights: FloatArray,
    ties: Ties = "efron",
) -> PartialLikelihood:
    """The partial log-likelihood, score ``U`` and information ``I`` at ``eta``.

    Parameters
    ----------
    rs
        Risk sets of the data.
    M
        The ``n x p`` model matrix of the coefficients (derivatives are with respect to
        them), dense or CSR.
    eta
        The linear predictor, including any offset.
    weights
        Case weights.
    ties
        ``"efron"`` or ``"breslow"``.
    """
    r = weights * np.exp(eta)
    rM = _scale_rows(M, r)
    tied = tied_risk(rs, r, ties)
    wt = tied.wt
    a = tied.means(rs, rM)
    dw = rs.event * weights
    loglik = float(dw @ eta - wt @ np.log(tied.d))
    score = np.asarray(M.T @ dw) - a.T @ wt
    information = _cross(M, r * tied.row_hazard(rs)) - (a.T * wt) @ a
    return PartialLikelihood(loglik, score, information)
