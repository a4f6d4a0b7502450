"""Bound-constrained quasi-Newton minimisation with an analytic gradient (L-BFGS-B).

For the profiled criterion of a linear mixed model whose random terms are all scalar,
the gradient costs about one more factorisation (see
:meth:`~interlace.engine.gaussian.GaussianObjective.gradient`), and a quasi-Newton
method then needs several times fewer evaluations than BOBYQA (InstEval: 14 instead
of 84).  This wraps SciPy's L-BFGS-B (Byrd, Lu, Nocedal and Zhu 1995) with the
:class:`~interlace.optim.bobyqa.OptimizerResult` interface of the BOBYQA backend.

Scaling: L-BFGS-B's first trial step has unit length, and its first quasi-Newton
matrix is the identity, so it runs on ``x = θ / h`` with ``h = 0.25 max(θ₀, 0.1)``:
a first step of about a quarter of the start (measured on InstEval, Penicillin,
Pastes, Machines: 8–13 evaluations instead of 10–21, as the first line search no
longer overshoots to the bound).

Stopping rule: the relative reduction of the objective in an iteration falls to
``ftol_rel`` (``1e-11``: on a criterion of size 10⁵, changes of 10⁻⁶), or every
component of the projected gradient to ``gtol``.  On the fits above this leaves θ
within 10⁻⁶ of the optimum found with ``ftol_rel = 1e-15`` (lme4's BOBYQA stops at
``xtol_rel = 1e-4``).  SciPy's statuses map to NLopt's
numbers so that lme4's convergence codes follow: 0 → 1 (success), 1 → 5 (evaluation
limit), 2 (the line search could not decrease the objective any further) → −4
(``NLOPT_ROUNDOFF_LIMITED``) — unless the quasi-Newton model predicts a further
decrease ``g' H⁻¹ g / 2`` below ``ftol_rel |f|``: the objective's rounding then stopped
the search at the optimum, and that is success.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, OptimizeResult, minimize

from interlace.optim.bobyqa import OptimizerResult

FloatArray = NDArray[np.float64]

#: Stopping settings of :func:`lbfgsb`.
LBFGSB_DEFAULTS: dict[str, float] = {"ftol_rel": 1e-11, "gtol": 1e-6, "maxeval": 1e5}

_STATUS = {0: 1, 1: 5, 2: -4}
#: Evaluations per line search (SciPy's default is 20; at the rounding floor they are wasted).
_MAX_LINE_SEARCH = 10
#: The first step, as a fraction of the start (see the module docstring) ...
_STEP_FRACTION = 0.25
#: ... of at least this size.
_MIN_STEP = 0.1


def _at_rounding_floor(res: OptimizeResult, ftol_rel: float) -> bool:
    """Whether SciPy's answer is converged although its last line search failed.

    The quasi-Newton model's predicted decrease ``g' H⁻¹ g / 2`` must be below
    ``ftol_rel |f|`` and, as that model may be poor, each gradient component below
    ``sqrt(ftol_rel) |f|``.
    """
    g = np.asarray(res.jac, dtype=float)
    size = max(1.0, abs(float(res.fun)))
    predicted = 0.5 * float(g @ res.hess_inv.matvec(g))
    return predicted <= ftol_rel * size and float(np.max(np.abs(g))) <= math.sqrt(ftol_rel) * size


def lbfgsb(
    fun: Callable[[FloatArray], float],
    gradient: Callable[[], FloatArray],
    x0: FloatArray,
    lower: FloatArray,
    control: Mapping[str, float] | None = None,
) -> OptimizerResult:
    """Minimise ``fun`` over ``x >= lower`` from ``x0`` with L-BFGS-B.

    Parameters
    ----------
    fun : callable
        Objective; ``inf`` marks a point where it cannot be evaluated.
    gradient : callable
        The gradient of ``fun`` at the point of its last call.
    x0, lower : ndarray
        Start and lower bounds.
    control : mapping, optional
        Overrides of :data:`LBFGSB_DEFAULTS`.
    """
    settings = {**LBFGSB_DEFAULTS, **(control or {})}
    lo = np.asarray(lower, dtype=float)
    start = np.clip(np.asarray(x0, dtype=float), lo, math.inf)
    h = _STEP_FRACTION * np.maximum(np.abs(start), _MIN_STEP)
    best_x, best_f = [start.copy()], [math.inf]
    count = [0]

    def value_and_gradient(x: FloatArray) -> tuple[float, FloatArray]:
        count[0] += 1
        theta = x * h
        f = float(fun(theta))
        if not math.isfinite(f):
            return math.inf, np.zeros(x.size)
        if f < best_f[0]:
            best_x[0], best_f[0] = theta, f
        return f, np.asarray(gradient(), dtype=float) * h

    maxeval = int(settings["maxeval"])
    res = minimize(
        value_and_gradient,
        start / h,
        jac=True,
        method="L-BFGS-B",
        bounds=Bounds(lo / h, np.full(lo.size, math.inf)),
        options={
            "ftol": settings["ftol_rel"],
            "gtol": settings["gtol"],
            "maxfun": maxeval,
            "maxiter": maxeval,
            "maxls": _MAX_LINE_SEARCH,
        },
    )
    status = _STATUS.get(int(res.status), -1)
    message = f"L-BFGS-B: {res.message}"
    if status == -4 and _at_rounding_floor(res, float(settings["ftol_rel"])):
        status, message = 1, "L-BFGS-B: CONVERGENCE: NO DECREASE BEYOND ROUNDING"
    return OptimizerResult(
        par=best_x[0],
        fval=best_f[0],
        feval=count[0],
        status=status,
        message=message,
    )
