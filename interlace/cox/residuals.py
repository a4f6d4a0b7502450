"""Residuals of a Cox model at given coefficients, as ``survival``'s ``residuals.coxph``.

With the linear predictor ``eta`` (for coxme: ``offset + X beta + Z b``, the random effects
acting as an offset), risk scores ``e_i = exp(eta_i)`` and the terms ``(j, k)``, ``d_jk``,
``wbar_j``, ``f`` and ``a_jk`` of :mod:`interlace.cox.partial`, row ``i`` accrues the baseline
cumulative hazard ``c_i = sum_{j at risk} sum_k wbar_j / d_jk``, less
``sum_k wbar_j f / d_jk`` at its own event time (Efron's share of the tied events; 0 for
Breslow ties).  Then

    martingale  m_i = delta_i - e_i c_i
    deviance    sign(m_i) sqrt(-2 (m_i + delta_i log(delta_i - m_i)))
    score       L_i = delta_i (x_i - abar_j(i))
                      - e_i [ x_i c_i - sum_{j at risk} A_j + delta_i B_j(i) ]

with ``abar_j`` the mean over ``k`` of ``a_jk``, ``A_j = sum_k wbar_j a_jk / d_jk`` and
``B_j = sum_k wbar_j f a_jk / d_jk``: row ``i``'s share of the score ``U`` over the columns
of ``X``.  These are survival's unweighted residuals (``weighted = FALSE``): case weights
enter through the risk sets only.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray

from interlace.cox.partial import Ties, _scale_rows, tied_risk
from interlace.cox.risksets import RiskSets

FloatArray = NDArray[np.float64]
ResidualType = Literal["martingale", "deviance", "score"]


def martingale(rs: RiskSets, eta: FloatArray, weights: FloatArray, ties: Ties) -> FloatArray:
    """Martingale residuals ``delta_i - exp(eta_i) c_i``."""
    tied = tied_risk(rs, weights * np.exp(eta), ties)
    return np.asarray(rs.event - np.exp(eta) * tied.row_hazard(rs), dtype=np.float64)


def deviance(m: FloatArray, event: NDArray[np.bool_]) -> FloatArray:
    """Deviance residuals from martingale residuals ``m``."""
    delta = event.astype(float)
    log_part = np.zeros_like(m)
    log_part[event] = np.log(delta[event] - m[event])
    return np.asarray(np.sign(m) * np.sqrt(-2.0 * (m + delta * log_part)), dtype=np.float64)


def score(
    rs: RiskSets, X: FloatArray, eta: FloatArray, weights: FloatArray, ties: Ties
) -> FloatArray:
    """Score residuals over the columns of ``X``: shape ``(n, p)``."""
    e = np.exp(eta)
    r = weights * e
    tied = tied_risk(rs, r, ties)
    a = tied.means(rs, _scale_rows(X, r))
    p = X.shape[1]
    A = np.zeros((rs.n_times, p))
    B = np.zeros((rs.n_times, p))
    abar = np.zeros((rs.n_times, p))
    np.add.at(A, tied.jj, (tied.wt / tied.d)[:, None] * a)
    np.add.at(B, tied.jj, (tied.wt * tied.f / tied.d)[:, None] * a)
    np.add.at(abar, tied.jj, a)
    abar /= np.maximum(rs.n_dead, 1.0)[:, None]
    compensator = X * tied.row_hazard(rs)[:, None] - rs.over_risk_times(A)
    events = np.flatnonzero(rs.event)
    compensator[events] += B[rs.time_of_event]
    out = -e[:, None] * compensator
    out[events] += X[events] - abar[rs.time_of_event]
    return np.asarray(out, dtype=np.float64)


def cox_residuals(
    rs: RiskSets,
    X: FloatArray,
    eta: FloatArray,
    weights: FloatArray,
    ties: Ties,
    type: ResidualType,
) -> FloatArray:
    """Residuals of the given ``type`` (see the module docstring)."""
    if type == "score":
        return score(rs, X, eta, weights, ties)
    m = martingale(rs, eta, weights, ties)
    return m if type == "martingale" else deviance(m, rs.event)
