"""θ on and near its bounds: restart at the edge, snap to the boundary, ``isSingular``.

These follow lme4's ``optimizeLmer`` (``restart_edge``) and
``check.boundary``, and MixedModels.jl's ``rectify!``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from interlace.design.covariance import CovarianceStructure

FloatArray = NDArray[np.float64]

#: lme4's step for the one-sided derivative at a bound.
EDGE_STEP = 1e-5
#: How far inside its bound a θ that descends inwards is restarted (see :func:`inward_restart`).
RESTART_STEP = 0.1


def inward_restart(
    fun: Callable[[FloatArray], float], theta: FloatArray, lower: FloatArray
) -> FloatArray | None:
    """Where to restart when moving a θ that sits on its lower bound inwards lowers ``fun``.

    One-sided difference with step 1e-5, as lme4's ``restart_edge``.  Returns ``None``
    when no bound coordinate descends inwards, else ``theta`` with the descending
    coordinates moved :data:`RESTART_STEP` inside their bounds: a point where a gradient
    method is not held by the zero derivative of an even criterion at ``θ_k = 0``
    (BOBYQA restarts from ``theta`` itself, as lme4's).
    """
    on_bound = np.flatnonzero(theta == lower)
    if on_bound.size == 0:
        return None
    f0 = fun(theta)
    restart = theta.copy()
    for i in on_bound:
        moved = theta.copy()
        moved[i] = lower[i] + EDGE_STEP
        if (fun(moved) - f0) / EDGE_STEP < 0:
            restart[i] = lower[i] + RESTART_STEP
    return None if np.array_equal(restart, theta) else restart


def snap_to_boundary(
    fun: Callable[[FloatArray], float],
    theta: FloatArray,
    fval: float,
    lower: FloatArray,
    tol: float,
) -> tuple[FloatArray, float]:
    """lme4's ``check.boundary``: put θ within ``tol`` of a bound onto it if ``fun`` improves.

    Returns the (possibly changed) θ and the objective there.
    """
    gap = theta - lower
    near = np.flatnonzero((gap > 0) & (gap < tol))
    if near.size == 0:
        return theta, fval
    out = theta.copy()
    for i in near:
        trial = out.copy()
        trial[i] = lower[i]
        if fun(trial) < fval:
            out[i] = lower[i]
    return out, fun(out)


def rectify(theta: FloatArray, covs: Sequence[tuple[CovarianceStructure, slice]]) -> FloatArray:
    """Flip the sign of every column of λ whose diagonal is negative (same covariance).

    Only linear structures (with a ``template``) are touched.
    """
    out = np.array(theta, dtype=float)
    for cov, sl in covs:
        tmpl = cov.template()
        if tmpl is None:
            continue
        part = out[sl]
        for j in range(cov.k):
            d = tmpl[j, j]
            if d >= 0 and part[d] < 0:
                idx = tmpl[:, j][tmpl[:, j] >= 0]
                part[idx] = -part[idx]
        out[sl] = part
    return out


def is_singular(theta: FloatArray, lower: FloatArray, tol: float = 1e-4) -> bool:
    """lme4's ``isSingular``: a θ bounded at 0 (a diagonal of λ) is below ``tol``."""
    bounded = lower == 0
    return bool(np.any(np.asarray(theta)[bounded] < tol))
