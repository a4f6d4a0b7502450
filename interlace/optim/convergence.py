"""lme4's post-fit convergence checks (``checkConv``, ``checkHess``, ``deriv12``).

The gradient and Hessian of the objective at the optimum are taken by
central finite differences with step 1e-4 (lme4's ``deriv12``).  The
checks, in lme4's order: singular fit (and if so, nothing else); scaled
gradient ``max(min(|H^{-1/2}-scaled g|, |g|)) < tol``; Hessian eigenvalues
(negative, numerically zero, very large, large ratio).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg as sla
from numpy.typing import NDArray

from interlace.optim.boundary import is_singular
from interlace.optim.summary import ConvergenceCheck

FloatArray = NDArray[np.float64]

SINGULAR_MESSAGE = "boundary (singular) fit: see help('isSingular')"


def deriv12(
    fun: Callable[[FloatArray], float], x: FloatArray, fx: float, delta: float = 1e-4
) -> tuple[FloatArray, FloatArray]:
    """Central-difference gradient and Hessian of ``fun`` at ``x`` (lme4's ``deriv12``)."""
    n = x.size
    g = np.empty(n)
    h = np.empty((n, n))
    for j in range(n):
        xa, xs = x.copy(), x.copy()
        xa[j] += delta
        xs[j] -= delta
        fa, fs = fun(xa), fun(xs)
        h[j, j] = (fa - 2.0 * fx + fs) / delta**2
        g[j] = (fa - fs) / (2.0 * delta)
        for i in range(j):
            vals = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                xx = x.copy()
                xx[i] += si * delta
                xx[j] += sj * delta
                vals.append(fun(xx))
            h[i, j] = h[j, i] = (vals[0] - vals[1] - vals[2] + vals[3]) / (2.0 * delta) ** 2
    return g, h


def check_hessian(h: FloatArray, tol: float) -> tuple[int, list[str]]:
    """lme4's ``checkHess``: a code (0 = fine) and messages."""
    if not np.all(np.isfinite(h)):
        return -6, ["Problem with Hessian check (infinite or missing values?)"]
    ev = np.linalg.eigvalsh(h)
    negative = int(np.sum(ev < -tol))
    if negative:
        return -3, [
            f"Model failed to converge: degenerate  Hessian with {negative} negative eigenvalues"
        ]
    try:
        sla.cholesky(h, lower=False)
        chol_ok = True
    except np.linalg.LinAlgError:
        chol_ok = False
    if np.any(np.abs(ev) < tol) or not chol_ok:
        return -4, [" Hessian is numerically singular: parameters are not uniquely determined"]
    messages, code = [], 0
    if ev.max() * tol > 1:
        code = 2
        messages.append(
            "Model is nearly unidentifiable: very large eigenvalue\n - Rescale variables?"
        )
    if ev.min() / ev.max() < tol:
        code = 3
        messages.append(
            "Model is nearly unidentifiable: large eigenvalue ratio\n - Rescale variables?"
        )
    return code, messages


def check_convergence(
    theta: FloatArray,
    lower: FloatArray,
    gradient: FloatArray | None,
    hessian: FloatArray | None,
    *,
    singular_tol: float = 1e-4,
    grad_tol: float = 2e-3,
    hess_tol: float = 1e-6,
) -> ConvergenceCheck:
    """lme4's ``checkConv`` for an LMM (parameters are θ only)."""
    if is_singular(theta, lower, singular_tol):
        return ConvergenceCheck(code=0, messages=(SINGULAR_MESSAGE,), singular=True)
    if gradient is None or hessian is None:
        return ConvergenceCheck()
    if not np.all(np.isfinite(gradient)):
        return ConvergenceCheck(
            code=-5, messages=("Gradient contains NAs",), gradient=gradient, hessian=hessian
        )
    code, messages = 0, []
    try:
        r = sla.cholesky(hessian, lower=False)
        scaled = sla.solve_triangular(r, gradient, lower=False)
        ok = bool(np.all(np.isfinite(scaled)))
    except np.linalg.LinAlgError:
        ok = False
    if not ok:
        code = -1
        messages.append("unable to evaluate scaled gradient")
    else:
        mingrad = np.minimum(np.abs(scaled), np.abs(gradient))
        if mingrad.max() > grad_tol:
            code = -1
            messages.append(
                f"Model failed to converge with max|grad| = {mingrad.max():g} "
                f"(tol = {grad_tol:g}, component {int(np.argmax(mingrad)) + 1})"
            )
    hcode, hmessages = check_hessian(hessian, hess_tol)
    if hcode != 0:
        code = hcode
        messages.extend(hmessages)
    return ConvergenceCheck(code=code, messages=tuple(messages), gradient=gradient, hessian=hessian)
