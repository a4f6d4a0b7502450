"""Minimise a profiled mixed-model objective over θ as lme4's ``optimizeLmer`` does.

Steps: BOBYQA from the start (or L-BFGS-B with the objective's gradient, as
:func:`uses_gradient` decides); if a θ on its bound would descend inwards, restart
(``restart_edge``: BOBYQA from the optimum, L-BFGS-B from a point inside the bound);
finite-difference derivatives at the optimiser's answer; snap θ within
``boundary_tol`` of a bound onto it when that does not raise the objective
(``check.boundary``); lme4's convergence checks; a final evaluation, unless the
last one was at the reported θ, so that the objective's state matches it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from interlace.optim.bobyqa import (
    BOBYQA_SETTINGS,
    NLOPTWRAP_DEFAULTS,
    OptimizerResult,
    bobyqa,
)
from interlace.optim.boundary import inward_restart, is_singular, snap_to_boundary
from interlace.optim.control import ControlError, LmerControl
from interlace.optim.convergence import check_convergence, deriv12
from interlace.optim.lbfgsb import LBFGSB_DEFAULTS, lbfgsb
from interlace.optim.summary import EvaluationLog, OptSummary

FloatArray = NDArray[np.float64]

#: lme4's convergence code for ``optimizer = NULL``.
NO_OPTIMIZATION = 1000
#: ``optimizer = "auto"`` uses the gradient when the dense block has at least this many
#: columns (every evaluation then factors it, so fewer evaluations pay for the gradient).
GRADIENT_MIN_BLOCK = 1000


def uses_gradient(
    optimizer: str | None,
    has_gradient: bool,
    dense_block: int,
    settings: Mapping[str, float] | None = None,
) -> bool:
    """Whether the ``optimizer`` setting means L-BFGS-B with the gradient for this objective.

    ``settings`` are the control's ``optCtrl``: under ``"auto"``, settings that only
    BOBYQA reads (``xtol_abs``, ``initial_step``, ...) choose BOBYQA.  Raises
    :class:`~interlace.optim.control.ControlError` for ``"L-BFGS-B"`` when the
    objective has no gradient, and for settings the chosen optimiser does not read.
    """
    names = set(settings or {})
    chosen = _choose(optimizer, has_gradient, dense_block, names)
    known = set(LBFGSB_DEFAULTS) if chosen else BOBYQA_SETTINGS
    if optimizer is not None and names - known:
        raise ControlError(
            f"optCtrl setting(s) {sorted(names - known)} are not read by "
            f"{'L-BFGS-B' if chosen else 'nloptwrap (BOBYQA)'}",
            remedy=f"use {sorted(known)}",
        )
    return chosen


def _choose(optimizer: str | None, has_gradient: bool, dense_block: int, names: set[str]) -> bool:
    """The decision of :func:`uses_gradient`, before the settings are checked."""
    if optimizer == "L-BFGS-B" and not has_gradient:
        raise ControlError(
            "optimizer 'L-BFGS-B' needs the analytic gradient of the objective: lmer has it "
            "when every random term is scalar (one column per level, e.g. (1 | g)) and the "
            "blocked path is used; lme has none",
            remedy="use optimizer='nloptwrap'",
        )
    if optimizer == "auto":
        bobyqa_only = bool(names - set(LBFGSB_DEFAULTS))
        return has_gradient and dense_block >= GRADIENT_MIN_BLOCK and not bobyqa_only
    return optimizer == "L-BFGS-B"


class _LastEvaluation:
    """``fun``, remembering its last point and value (to skip a repeated final evaluation)."""

    def __init__(self, fun: Callable[[FloatArray], float]) -> None:
        self.fun = fun
        self.theta: FloatArray = np.empty(0)
        self.value = math.nan

    def __call__(self, theta: FloatArray) -> float:
        self.value = self.fun(theta)
        self.theta = np.array(theta, dtype=float)
        return self.value


def optimize_theta(
    fun: Callable[[FloatArray], float],
    start: FloatArray,
    lower: FloatArray,
    control: LmerControl | None = None,
    nobs: int = 0,
    gradient: Callable[[], FloatArray] | None = None,
    dense_block: int = 0,
) -> OptSummary:
    """Minimise ``fun`` over θ ≥ ``lower``; returns the record of the optimisation.

    ``nobs`` (the number of observations) decides, with the control's
    ``check_conv_nobsmax``, whether derivatives are computed for the checks.
    ``gradient`` is the gradient of ``fun`` at its last evaluation, when the objective
    has one, and ``dense_block`` the size of the dense block each evaluation factors:
    with the control's ``optimizer`` they decide between BOBYQA and L-BFGS-B
    (:func:`uses_gradient`).
    ``fun`` is left evaluated at ``OptSummary.final``.
    """
    control = control or LmerControl()
    tracked = _LastEvaluation(fun)
    fun = tracked
    record = EvaluationLog()
    logged = record.logged(fun)
    x0 = np.asarray(start, dtype=float)
    lower = np.asarray(lower, dtype=float)
    if not uses_gradient(control.optimizer, gradient is not None, dense_block, control.optCtrl):
        gradient = None
    defaults = NLOPTWRAP_DEFAULTS if gradient is None else LBFGSB_DEFAULTS
    opt_ctrl = {**defaults, **control.optCtrl}
    if control.optimizer is None:  # lme4's optimizer = NULL: evaluate at the start only
        fmin = fun(x0)
        return OptSummary(
            optimizer="none",
            initial=x0,
            finitial=fmin,
            final=x0,
            fmin=fmin,
            feval=0,
            time=time.perf_counter() - record.t0,
            return_code=NO_OPTIMIZATION,
            message="no optimization",
            conv=check_convergence(x0, lower, None, None, singular_tol=control.check_conv_singular),
        )
    name = "nloptwrap" if gradient is None else "L-BFGS-B"

    def run(x: FloatArray) -> OptimizerResult:
        if gradient is None:
            return bobyqa(logged, x, lower, control=opt_ctrl)
        return lbfgsb(logged, gradient, x, lower, control=opt_ctrl)

    res = run(x0)
    feval = res.feval
    warnings: list[str] = []
    restart = inward_restart(fun, res.par, lower) if control.restart_edge else None
    if restart is not None:
        res = run(res.par if gradient is None else restart)
        feval += res.feval
    if res.return_code != 0:
        warnings.append(f"convergence code {res.return_code} from {name}: {res.message}")
    grad = hess = None
    if control.calc_derivs and not (
        nobs > control.check_conv_nobsmax
        or res.par.size >= control.check_conv_nparmax
        or is_singular(res.par, lower, control.check_conv_singular)
    ):
        grad, hess = deriv12(fun, res.par, res.fval)
    theta, fmin = res.par, res.fval
    if control.boundary_tol > 0:
        theta, fmin = snap_to_boundary(fun, theta, fmin, lower, control.boundary_tol)
    conv = check_convergence(
        theta,
        lower,
        grad,
        hess,
        singular_tol=control.check_conv_singular,
        grad_tol=control.check_conv_grad,
        hess_tol=control.check_conv_hess,
    )
    fmin = tracked.value if np.array_equal(tracked.theta, theta) else fun(theta)
    return record.summary(
        optimizer=name if control.optimizer == "auto" else control.optimizer,
        initial=x0,
        final=theta,
        fmin=fmin,
        feval=feval,
        return_code=res.return_code,
        message=res.message,
        control=opt_ctrl,
        warnings=tuple(warnings),
        conv=conv,
    )
