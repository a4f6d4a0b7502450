"""Uncertainty of the inner variables at the optimum, as TMB's ``sdreport`` computes it.

The inner variables ``v`` (the spherical effects ``u``, ``u_zi`` and, under REML, ``β``)
are reported on the scale ``w = (b, b_zi, β)`` with ``b = Λ_θ u`` and ``b_zi = Λ_zi u_zi``.
Their covariance combines the curvature of the joint density at the mode with the uncertainty
of the outer parameters ``ω`` (TMB's generalised delta method, Kass & Steffey 1989):

    Cov(ŵ) = M H⁻¹ M' + J V J',

with ``H`` the inner Hessian, ``M = diag(Λ_θ, Λ_zi, I_p)``, ``J = ∂ŵ/∂ω`` (central differences
of the modes) and ``V`` the inverse Hessian of ``−log L`` in ``ω``.  glmmTMB reports the
``β`` block as ``vcov(fit)$cond`` under REML and the square roots of the ``b`` and ``b_zi``
diagonals as the standard errors behind ``ranef(fit, condVar = TRUE)``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.engine.tmb_laplace import LaplaceFit, TmbLaplace
from interlace.engine.tmb_optimize import TmbOptimum

FloatArray = NDArray[np.float64]

_FD_STEP = 1e-5


def _reported(objective: TmbLaplace, fit: LaplaceFit) -> FloatArray:
    """``w = (b, b_zi, β̂)`` of an inner solution (``β̂`` only under REML)."""
    b = objective.lambda_matrix(fit.lams) @ fit.u
    b_zi = objective.lambda_matrix(fit.lams_zi, zi=True) @ fit.u_zi
    beta = fit.beta if objective.data.REML else np.zeros(0)
    return np.concatenate([b, b_zi, beta])


def inner_covariance(objective: TmbLaplace, optimum: TmbOptimum) -> FloatArray:
    """``Cov(ŵ)`` for ``w = (b, b_zi, β)`` (``β`` under REML only) at the optimum.

    Returns
    -------
    ndarray, shape (q + q_zi (+ p), q + q_zi (+ p))
    """
    x = optimum.par
    fit = objective.fit(x)
    h_inv = np.linalg.inv(objective.inner_hessian(x))
    d = objective.data
    blocks = [
        objective.lambda_matrix(fit.lams),
        objective.lambda_matrix(fit.lams_zi, zi=True),
        sp.identity(h_inv.shape[0] - d.q - d.q_zi),
    ]
    m = sp.block_diag(blocks, format="csr")
    cov = np.asarray(m @ (m @ h_inv).T, dtype=float)
    jac = np.empty((cov.shape[0], x.size))
    for i in range(x.size):
        step = _FD_STEP * (1.0 + abs(x[i]))
        e = np.zeros(x.size)
        e[i] = step
        up = _reported(objective, objective.fit(x + e))
        down = _reported(objective, objective.fit(x - e))
        jac[:, i] = (up - down) / (2.0 * step)
    objective.fit(x)  # leave the warm start at the optimum
    return np.asarray(cov + jac @ np.linalg.inv(optimum.hessian) @ jac.T, dtype=float)
