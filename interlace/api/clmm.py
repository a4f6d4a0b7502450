"""``clmm``: cumulative link mixed models as ``ordinal::clmm`` fits them.

The stages (ordinal's ``clmm``):

1. the design (:func:`~interlace.design.clmm_design.clmm_design`): response
   categories, ``X`` without intercept, thresholds' Jacobian, random terms;
2. starting values as ordinal's ``fe.start``: the fixed-effects-only
   cumulative link model (``clm``) fitted by maximum likelihood, from
   thresholds at the link's quantiles of the cumulative proportions and β = 0;
   the random-effect parameters start at standard deviation 1 (log SD 0 for a
   single random intercept) and correlation 0;
3. the Laplace (or, for one random intercept, adaptive Gauss–Hermite) objective
   (:mod:`interlace.engine.clmm_objective`) minimised over ordinal's parameter
   vector ``(α, β, ST)``.  ordinal uses ``nlminb``; interlace uses BOBYQA with
   tight tolerances, restarted from its optimum while that still gains, then
   Newton steps on the central-difference Hessian while they lower the
   objective;
4. the Hessian of that objective by central differences with step 1e-4
   (ordinal's ``deriv12``), without the standard deviations below 1e-3 of a
   model with several terms (ordinal's ``paratBoundary2``), and
   ``vcov = H⁻¹`` (ordinal's ``vcov.clmm``: Cholesky inverse); a
   :class:`~interlace.errors.ConvergenceWarning` when the gradient exceeds 1e-3
   or the Hessian is not positive definite.

:func:`clmm_objective` is the early exit (ordinal's ``doFit = FALSE``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

from interlace.design.clmm_design import ClmmDesign, clmm_design
from interlace.engine.clmm_objective import ClmmObjective
from interlace.engine.cumulative import CumulativeLink, OrdinalResponse, get_cumulative_link
from interlace.errors import ConvergenceWarning, InterlaceError
from interlace.optim.bobyqa import OptimizerResult, bobyqa
from interlace.optim.control import Control
from interlace.optim.convergence import deriv12
from interlace.results.clmm_result import ClmmResult

FloatArray = NDArray[np.float64]

#: Standard deviations below this are at the boundary: left out of the Hessian (ordinal).
BOUNDARY_TOL = 1e-3

_QUANTILES: dict[str, Callable[[FloatArray], FloatArray]] = {
    "logit": special.logit,
    "probit": special.ndtri,
    "cloglog": lambda p: np.log(-np.log1p(-p)),
    "loglog": lambda p: -np.log(-np.log(p)),
    "cauchit": lambda p: np.tan(np.pi * (p - 0.5)),
}


@dataclass(frozen=True, kw_only=True)
class ClmmControl(Control):
    """Settings of ``clmm`` (ordinal's ``clmm.control``, Python spelling).

    Attributes
    ----------
    xtol_rel : float
        BOBYQA's relative tolerance on the parameters.
    initial_step : float
        BOBYQA's initial trust-region radius.
    restarts : int
        Largest number of BOBYQA restarts from the last optimum.
    restart_tol : float
        Restarts stop when one lowers the objective by less than this.
    maxeval : int
        Largest number of objective evaluations.
    newton_steps : int
        Newton polishing steps on the finite-difference Hessian after BOBYQA.
    Hess : bool
        Compute the Hessian (standard errors); ordinal's ``Hess``.
    """

    xtol_rel: float = 1e-9
    initial_step: float = 0.5
    restarts: int = 5
    restart_tol: float = 1e-8
    maxeval: int = 100_000
    newton_steps: int = 3
    Hess: bool = True

    function: ClassVar[str] = "clmm"


def _clm_start(design: ClmmDesign, link: CumulativeLink, response: OrdinalResponse) -> FloatArray:
    """ordinal's ``fe.start``: the maximum-likelihood fit without random effects."""
    counts = np.bincount(design.y, weights=design.weights, minlength=len(design.y_levels))
    cum = np.cumsum(counts)[:-1] / counts.sum()
    cum = np.clip(cum, 1e-6, 1 - 1e-6)
    theta0 = _QUANTILES[link.name](cum)
    jac = design.thresholds.jacobian
    alpha0 = np.linalg.lstsq(jac, theta0, rcond=None)[0]
    na = jac.shape[1]

    def nll(par: FloatArray) -> float:
        shift = design.X @ par[na:] + design.offset
        ll, _, _ = response.loglik_terms(link, jac @ par[:na], shift)
        value = -float(np.sum(ll))
        return value if math.isfinite(value) else 1e300

    x0 = np.r_[alpha0, np.zeros(design.X.shape[1])]
    res = optimize.minimize(nll, x0, method="BFGS", options={"gtol": 1e-6})
    return np.asarray(res.x, dtype=float)


def clmm_objective(
    design: ClmmDesign, link: str = "logit", nAGQ: int = 1
) -> tuple[ClmmObjective, OrdinalResponse]:
    """The objective of a design, before fitting (ordinal's ``doFit = FALSE``).

    Raises
    ------
    InterlaceError
        nAGQ < 1, or nAGQ > 1 without a single random intercept (ordinal's rule).
    """
    if nAGQ < 1:
        raise InterlaceError(
            f"nAGQ = {nAGQ} is not supported",
            remedy="use nAGQ = 1 (Laplace) or nAGQ > 1 (adaptive Gauss-Hermite)",
        )
    if nAGQ > 1 and not design.single_scalar:
        raise InterlaceError(
            "Quadrature methods are not available with more than one random effects term",
            remedy="use nAGQ = 1 (Laplace), or a single random intercept (1 | g)",
        )
    response = OrdinalResponse(design.y, len(design.y_levels), design.weights)
    r = design.random
    objective = ClmmObjective(
        response,
        get_cumulative_link(link),
        design.thresholds.jacobian,
        design.X,
        design.offset,
        r.terms,
        r.Zt,
        r.Lambdat,
        r.Lind,
        nAGQ,
    )
    return objective, response


def _minimise(
    objective: ClmmObjective, x0: FloatArray, lower: FloatArray, ctrl: ClmmControl
) -> OptimizerResult:
    """BOBYQA from ``x0``, restarted from its result until a restart gains < ``restart_tol``."""
    settings = {
        "xtol_rel": ctrl.xtol_rel,
        "ftol_abs": 0.0,
        "xtol_abs": 0.0,
        "maxeval": ctrl.maxeval,
        "initial_step": ctrl.initial_step,
    }
    res = bobyqa(objective, x0, lower, control=settings)
    for _ in range(ctrl.restarts):
        again = bobyqa(objective, res.par, lower, control=settings)
        gain = res.fval - again.fval
        if again.fval <= res.fval:
            res = again
        if not gain > ctrl.restart_tol:
            break
    return res


def _derivatives(
    objective: ClmmObjective, par: FloatArray, fval: float
) -> tuple[NDArray[np.bool_], FloatArray, FloatArray]:
    """The free parameters, and the objective's gradient and Hessian in them (``deriv12``)."""
    free = _free(objective, par)
    grad, hess = deriv12(lambda x: objective(_with(par, free, x)), par[free], fval)
    return free, grad, hess


def _polish(
    objective: ClmmObjective, par: FloatArray, fval: float, steps: int
) -> tuple[FloatArray, float]:
    """Newton steps on the finite-difference Hessian while they lower the objective."""
    lower = objective.lower()
    for _ in range(steps):
        free, grad, hess = _derivatives(objective, par, fval)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        trial = np.maximum(_with(par, free, par[free] - step), lower)
        ftrial = objective(trial)
        if not ftrial < fval:
            break
        par, fval = trial, ftrial
    return par, fval


def _free(objective: ClmmObjective, par: FloatArray) -> NDArray[np.bool_]:
    """Parameters not at the boundary (ordinal's ``paratBoundary2``; all free for one intercept)."""
    lower = objective.lower()
    return ~((lower == 0.0) & (par < BOUNDARY_TOL))


def fit_clmm(
    design: ClmmDesign,
    *,
    link: str = "logit",
    nAGQ: int = 1,
    control: ClmmControl | Mapping[str, Any] | None = None,
    formula: str = "",
    data_name: str | None = None,
) -> ClmmResult:
    """Fit a prepared design: starting values, optimisation, Hessian, result."""
    ctrl = ClmmControl.coerce(control)
    objective, response = clmm_objective(design, link, nAGQ)
    fe_start = _clm_start(design, objective.link, response)
    st0 = np.zeros(1) if objective.log_sd else _st_start(objective)
    x0 = np.r_[fe_start, st0]
    lower = objective.lower()
    res = _minimise(objective, x0, lower, ctrl)
    par, fval = _polish(objective, res.par, res.fval, ctrl.newton_steps)
    free = _free(objective, par)
    grad = hess = None
    if ctrl.Hess:
        free, grad, hess = _derivatives(objective, par, fval)
    result = ClmmResult.assemble(
        design,
        objective,
        par,
        fval,
        link=link,
        nAGQ=nAGQ,
        free=free,
        gradient=grad,
        hessian=hess,
        neval=objective.neval,
        optimizer_message=res.message,
        formula=formula,
        data_name=data_name,
    )
    if ctrl.Hess and not result.converged:
        message = (
            f"clmm may not have converged: max|gradient| = {result.max_grad:.3g} "
            "or the Hessian is not positive definite"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
        result = replace(result, warnings=(*result.warnings, message))
    return result


def _with(par: FloatArray, free: NDArray[np.bool_], x: FloatArray) -> FloatArray:
    full = par.copy()
    full[free] = x
    return full


def _st_start(objective: ClmmObjective) -> FloatArray:
    """ordinal's ``STstart``: 1 for every standard deviation, 0 below the diagonal."""
    return np.concatenate(
        [np.r_[np.ones(t.k), np.zeros(t.k * (t.k - 1) // 2)] for t in objective.terms]
    )


def clmm(
    formula: str,
    data: pd.DataFrame,
    *,
    link: Literal["logit", "probit", "cloglog", "loglog", "cauchit"] = "logit",
    threshold: Literal["flexible", "symmetric", "symmetric2", "equidistant"] = "flexible",
    nAGQ: int = 1,
    weights: Any = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["omit", "fail"] = "omit",
    control: ClmmControl | Mapping[str, Any] | None = None,
    data_name: str | None = None,
) -> ClmmResult:
    """Fit a cumulative link mixed model as ``ordinal::clmm`` does.

    The model is ``P(Y_i ≤ j) = F(θ_j − x_i'β − z_i'b)`` with ``b`` normal
    (ordinal's sign convention).

    Parameters
    ----------
    formula : str
        ``"rating ~ temp + contact + (1 | judge)"``.  The response must be a
        Categorical (ordered or not: the category order is the order of the
        outcome).  Random intercepts, crossed or nested, and random slopes.
    data : DataFrame
        Never modified.
    link : str
        ``"logit"``, ``"probit"``, ``"cloglog"``, ``"loglog"`` or ``"cauchit"``.
    threshold : str
        ``"flexible"``, ``"symmetric"``, ``"symmetric2"`` or ``"equidistant"``.
    nAGQ : int
        1 for the Laplace approximation; more for adaptive Gauss–Hermite
        quadrature with that many points (a single random intercept only).
    weights
        Column name or array of prior weights.
    contrasts : mapping, optional
    na_action : {"omit", "fail"}
    control : ClmmControl or mapping, optional
    data_name : str, optional
        Shown on the summary's ``data:`` line.

    Returns
    -------
    ClmmResult

    Raises
    ------
    ResponseTypeError
        A numeric, text or logical response (the message shows how to declare the order).
    GroupingError
        A grouping factor with fewer than three levels (ordinal requires more than two).
    InterlaceError
        nAGQ > 1 with several random terms or a random slope.
    """
    design = clmm_design(
        formula,
        data,
        threshold=threshold,
        weights=weights,
        contrasts=contrasts,
        na_action=na_action,
    )
    return fit_clmm(
        design, link=link, nAGQ=nAGQ, control=control, formula=formula, data_name=data_name
    )
