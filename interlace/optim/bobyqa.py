"""Bound-constrained derivative-free minimisation with NLopt's BOBYQA.

The settings follow lme4's default optimiser ``nloptwrap``
(``algorithm = "NLOPT_LN_BOBYQA"``, ``xtol_abs = 1e-8``, ``ftol_abs = 1e-8``,
``maxeval = 1e5``) together with the default that ``nloptr`` adds
(``xtol_rel = 1e-4``) and NLopt's default initial step.  lme4 reports a non-zero
convergence code only for a negative NLopt status or status 5
(``NLOPT_MAXEVAL_REACHED``).

Interface notes (what another backend must provide): a function
``(fun, x0, lower, upper, control) -> OptimizerResult`` that never raises
for a failed run but reports it in ``return_code`` and ``message``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import nlopt
import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: lme4's ``nloptwrap`` defaults.
NLOPTWRAP_DEFAULTS: dict[str, float] = {
    "xtol_abs": 1e-8,
    "ftol_abs": 1e-8,
    "xtol_rel": 1e-4,
    "maxeval": 1e5,
}

#: Every setting :func:`bobyqa` reads.
BOBYQA_SETTINGS = frozenset({*NLOPTWRAP_DEFAULTS, "ftol_rel", "initial_step"})

_STATUS_NAMES = {
    1: "NLOPT_SUCCESS",
    2: "NLOPT_STOPVAL_REACHED",
    3: "NLOPT_FTOL_REACHED",
    4: "NLOPT_XTOL_REACHED",
    5: "NLOPT_MAXEVAL_REACHED",
    6: "NLOPT_MAXTIME_REACHED",
    -1: "NLOPT_FAILURE",
    -2: "NLOPT_INVALID_ARGS",
    -3: "NLOPT_OUT_OF_MEMORY",
    -4: "NLOPT_ROUNDOFF_LIMITED",
    -5: "NLOPT_FORCED_STOP",
}


@dataclass(frozen=True)
class OptimizerResult:
    """One optimiser run: best point, its value, evaluations and status."""

    par: FloatArray
    fval: float
    feval: int
    status: int
    message: str

    @property
    def return_code(self) -> int:
        """lme4's ``conv``: the status when negative or 5, else 0."""
        return self.status if self.status < 0 or self.status == 5 else 0


def bobyqa(
    fun: Callable[[FloatArray], float],
    x0: FloatArray,
    lower: FloatArray,
    upper: FloatArray | None = None,
    control: Mapping[str, float] | None = None,
) -> OptimizerResult:
    """Minimise ``fun`` within ``[lower, upper]`` from ``x0`` with BOBYQA.

    Parameters
    ----------
    fun : callable
        Objective; ``inf`` marks an infeasible point.
    x0, lower, upper : ndarray
        Start and bounds (``upper`` defaults to ``+inf``).
    control : mapping, optional
        Overrides of :data:`NLOPTWRAP_DEFAULTS`; also ``ftol_rel``,
        ``xtol_rel`` and ``initial_step``.
    """
    settings = {**NLOPTWRAP_DEFAULTS, **(control or {})}
    x0 = np.asarray(x0, dtype=float)
    n = x0.size
    lo = np.asarray(lower, dtype=float)
    hi = np.full(n, math.inf) if upper is None else np.asarray(upper, dtype=float)
    best_x, best_f = [x0.copy()], [math.inf]

    def wrapped(x: FloatArray, grad: FloatArray) -> float:
        f = float(fun(x))
        if f < best_f[0]:
            best_x[0], best_f[0] = x.copy(), f
        return f

    opt = nlopt.opt(nlopt.LN_BOBYQA, n)
    opt.set_min_objective(wrapped)
    opt.set_lower_bounds(lo)
    opt.set_upper_bounds(hi)
    opt.set_xtol_abs(settings["xtol_abs"])
    opt.set_ftol_abs(settings["ftol_abs"])
    opt.set_maxeval(int(settings["maxeval"]))
    if "ftol_rel" in settings:
        opt.set_ftol_rel(settings["ftol_rel"])
    if "xtol_rel" in settings:
        opt.set_xtol_rel(settings["xtol_rel"])
    if "initial_step" in settings:
        opt.set_initial_step(settings["initial_step"])
    try:
        par = opt.optimize(np.clip(x0, lo, hi))
        fval = opt.last_optimum_value()
        status = opt.last_optimize_result()
    except nlopt.RoundoffLimited:
        par, fval, status = best_x[0], best_f[0], -4
    except (RuntimeError, ValueError) as err:  # nlopt.Failure, invalid arguments
        par, fval = best_x[0], best_f[0]
        status = -2 if isinstance(err, ValueError) else -1
    return OptimizerResult(
        par=np.asarray(par, dtype=float),
        fval=float(fval),
        feval=opt.get_numevals(),
        status=int(status),
        message=_STATUS_NAMES.get(int(status), f"NLopt status {status}"),
    )
