"""R's ``optim(method = "BFGS")``: the variable-metric minimiser of Nash (1990), with R's defaults.

coxme maximises its integrated likelihood with ``optim(..., method = "BFGS",
control = list(reltol = 1e-5))`` and no gradient.  That stopping rule is loose, so the
estimates depend on the path the algorithm takes; matching coxme means taking the same one.

The algorithm (Nash, *Compact Numerical Methods*, Algorithm 21, as in R's ``vmmin``):
keep an approximation ``B`` of the inverse Hessian (reset to ``I`` at the start, when a
search direction is not downhill, when the curvature ``t'c`` is not positive, and every
``2n`` gradients).  From ``x`` with gradient ``g`` search along ``t = -B g``: try step
lengths ``1, 0.2, 0.04, ...`` until the Armijo condition
``f(x + s t) <= f(x) + 1e-4 s g't`` holds (or the step no longer changes ``x``, judged as
``10 + x_i == 10 + x_i'``).  Stop when the accepted value changes by at most
``reltol (|f| + reltol)``.  After an accepted step, with ``t = s t`` and ``c = g_new - g``,

    B += ((1 + c'Bc / t'c) t t' - B c t' - t c' B) / t'c.

Without an analytic gradient R uses central differences with steps ``ndeps = 1e-3``;
those evaluations are not counted in ``counts["function"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_STEP_REDUCTION = 0.2
_ARMIJO = 1e-4
_REL_TEST = 10.0


@dataclass(frozen=True)
class BfgsResult:
    """Outcome of :func:`optim_bfgs`.

    Attributes
    ----------
    x : ndarray
        R's ``par``.
    fun : float
        R's ``value``.
    fn_count, gr_count : int
        R's ``counts``.
    convergence : int
        0, or 1 when ``maxit`` was reached.
    """

    x: FloatArray
    fun: float
    fn_count: int
    gr_count: int
    convergence: int


def central_gradient(
    fn: Callable[[FloatArray], float], x: FloatArray, ndeps: float = 1e-3
) -> FloatArray:
    """R's ``optim`` finite-difference gradient: ``(f(x + h e_i) - f(x - h e_i)) / 2h``."""
    grad = np.empty(x.size)
    for i in range(x.size):
        up = x.copy()
        up[i] += ndeps
        down = x.copy()
        down[i] -= ndeps
        grad[i] = (fn(up) - fn(down)) / (2 * ndeps)
    return grad


# The sums below run in R's order, element by element, so that the path matches R's to
# the last bit (a few parameters only, so loops cost nothing).


def _dot(u: FloatArray, v: FloatArray) -> float:
    total = 0.0
    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        total += a * b
    return total


def _direction(B: FloatArray, g: FloatArray) -> FloatArray:
    """``-B g``."""
    n = g.size
    t = np.empty(n)
    for i in range(n):
        s = 0.0
        for j in range(n):
            s -= float(B[i, j]) * float(g[j])
        t[i] = s
    return t


def _update(B: FloatArray, t: FloatArray, c: FloatArray, curvature: float) -> None:
    """The BFGS update of the inverse Hessian ``B`` (in place, kept symmetric)."""
    n = t.size
    Bc = np.empty(n)
    cBc = 0.0
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += float(B[i, j]) * float(c[j])
        Bc[i] = s
        cBc += s * float(c[i])
    factor = 1.0 + cBc / curvature
    for i in range(n):
        for j in range(i + 1):
            B[i, j] += (factor * t[i] * t[j] - Bc[i] * t[j] - t[i] * Bc[j]) / curvature
            B[j, i] = B[i, j]


def optim_bfgs(
    fn: Callable[[FloatArray], float],
    x0: FloatArray,
    *,
    reltol: float = 1.490116119384765625e-8,
    abstol: float = -np.inf,
    maxit: int = 100,
    ndeps: float = 1e-3,
) -> BfgsResult:
    """Minimise ``fn`` from ``x0`` as R's ``optim(x0, fn, method = "BFGS")`` does."""
    x = np.array(x0, dtype=float)
    n = x.size
    f_min = float(fn(x))
    if not np.isfinite(f_min):
        raise ValueError("initial value in 'vmmin' is not finite")
    f = f_min
    fn_count = gr_count = 1
    g = central_gradient(fn, x, ndeps)
    iterations = 1
    last_reset = gr_count
    B = np.eye(n)
    while True:
        if last_reset == gr_count:
            B = np.eye(n)
        x_old = x.copy()
        g_old = g.copy()
        t = _direction(B, g)
        slope = _dot(t, g)
        unchanged = 0
        if slope < 0.0:
            step = 1.0
            while True:
                x = x_old + step * t
                unchanged = int(np.sum(_REL_TEST + x_old == _REL_TEST + x))
                if unchanged < n:
                    f = float(fn(x))
                    fn_count += 1
                    if np.isfinite(f) and f <= f_min + slope * step * _ARMIJO:
                        break
                    step *= _STEP_REDUCTION
                else:
                    break
            # R tests the last value tried, even when the search stalled.
            if not (f > abstol and abs(f - f_min) > reltol * (abs(f_min) + reltol)):
                unchanged = n
                f_min = f
            if unchanged < n:
                f_min = f
                g = central_gradient(fn, x, ndeps)
                gr_count += 1
                iterations += 1
                t = step * t
                c = g - g_old
                curvature = _dot(t, c)
                if curvature > 0:
                    _update(B, t, c, curvature)
                else:
                    last_reset = gr_count
            elif last_reset < gr_count:
                unchanged = 0
                last_reset = gr_count
        else:
            unchanged = 0
            if last_reset == gr_count:
                unchanged = n
            else:
                last_reset = gr_count
        if iterations >= maxit:
            return BfgsResult(x, f_min, fn_count, gr_count, 1)
        if gr_count - last_reset > 2 * n:
            last_reset = gr_count
        if unchanged == n and last_reset == gr_count:
            return BfgsResult(x, f_min, fn_count, gr_count, 0)
