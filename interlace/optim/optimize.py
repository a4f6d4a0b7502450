"""Minimise a profiled mixed-model objective over θ as lme4's ``optimizeLmer`` does.

Steps: BOBYQA from the start; if a θ on its bound would descend inwards,
restart from the optimum (``restart_edge``); finite-difference derivatives at
the optimiser's answer; snap θ within ``boundary_tol`` of a bound onto it when
that does not raise the objective (``check.boundary``); lme4's convergence
checks; a final evaluation so the objective's state matches the reported θ.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from interlace.optim.bobyqa import NLOPTWRAP_DEFAULTS, bobyqa
from interlace.optim.boundary import descends_from_edge, is_singular, snap_to_boundary
from interlace.optim.control import LmerControl
from interlace.optim.convergence import check_convergence, deriv12
from interlace.optim.summary import EvaluationLog, OptSummary

FloatArray = NDArray[np.float64]

#: lme4's convergence code for ``optimizer = NULL``.
NO_OPTIMIZATION = 1000


def optimize_theta(
    fun: Callable[[FloatArray], float],
    start: FloatArray,
    lower: FloatArray,
    control: LmerControl | None = None,
    nobs: int = 0,
) -> OptSummary:
    """Minimise ``fun`` over θ ≥ ``lower``; returns the record of the optimisation.

    ``nobs`` (the number of observations) decides, with the control's
    ``check_conv_nobsmax``, whether derivatives are computed for the checks.
    ``fun`` is left evaluated at ``OptSummary.final``.
    """
    control = control or LmerControl()
    record = EvaluationLog()
    logged = record.logged(fun)
    x0 = np.asarray(start, dtype=float)
    lower = np.asarray(lower, dtype=float)
    opt_ctrl = {**NLOPTWRAP_DEFAULTS, **control.optCtrl}
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
    res = bobyqa(logged, x0, lower, control=opt_ctrl)
    feval = res.feval
    warnings: list[str] = []
    if control.restart_edge and descends_from_edge(fun, res.par, lower):
        res = bobyqa(logged, res.par, lower, control=opt_ctrl)
        feval += res.feval
    if res.return_code != 0:
        warnings.append(f"convergence code {res.return_code} from nloptwrap: {res.message}")
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
    fmin = fun(theta)
    return record.summary(
        optimizer=control.optimizer,
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
