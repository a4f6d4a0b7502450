"""``clmm``: cumulative link mixed models as ``ordinal::clmm`` fits them.

The stages (ordinal's ``clmm``):

1. the design (:func:`~interlace.design.clmm_design.clmm_design`): response
   categories, ``X`` without intercept, thresholds' Jacobian, random terms;
2. starting values as ordinal's ``fe.start``: the fixed-effects-only
   cumulative link model (``clm``) fitted by maximum likelihood, from
   thresholds at the link's quantiles of the cumulative proportions and β = 0;
   the random-effect parameters start at standard deviation 1 (log SD 0 for a
   single random intercept) and correlation 0 — or ``start=`` in ordinal's
   order (:func:`start_vector`);
3. the Laplace (or, for one random intercept, adaptive Gauss–Hermite) objective
   (:mod:`interlace.engine.clmm_objective`) minimised over ordinal's parameter
   vector ``(α, β, ST)``.  ordinal uses ``nlminb``; interlace uses BOBYQA with
   tight tolerances, restarted from its optimum while that still gains, then
   Newton steps on the central-difference Hessian while they lower the
   objective.  BOBYQA's first steps are at most half the smallest gap between
   the starting thresholds: a larger step makes thresholds cross, where the
   likelihood is zero, and BOBYQA's quadratic model then stops it early;
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
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, special

from interlace.design.clmm_design import ClmmDesign, clmm_design
from interlace.engine.clmm_objective import ClmmObjective, strict_lower
from interlace.engine.cumulative import CumulativeLink, OrdinalResponse, get_cumulative_link
from interlace.engine.threads import one_blas_thread
from interlace.errors import ConvergenceWarning, StartingValuesError
from interlace.optim.bobyqa import OptimizerResult, bobyqa
from interlace.optim.control import Control, ControlError
from interlace.optim.convergence import deriv12
from interlace.optim.summary import ConvergenceCheck, OptSummary
from interlace.results.clmm_result import ClmmResult

FloatArray = NDArray[np.float64]

#: Standard deviations below this are at the boundary: left out of the Hessian (ordinal).
BOUNDARY_TOL = 1e-3
#: ordinal's convergence verdict: ``max|gradient|`` below this.
GRAD_TOL = 1e-3

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
        BOBYQA's largest initial trust-region radius (used: at most half the
        smallest gap between the starting thresholds).
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
    ControlError
        nAGQ < 1, or nAGQ > 1 without a single random intercept (ordinal's rule);
        the message names the model's random terms.
    """
    if nAGQ < 1:
        raise ControlError(
            f"nAGQ = {nAGQ} is not supported",
            remedy="use nAGQ = 1 (Laplace) or nAGQ > 1 (adaptive Gauss-Hermite)",
        )
    if nAGQ > 1 and not design.single_scalar:
        terms = ", ".join(f"({t.source})" for t in design.random.terms)
        raise ControlError(
            "Quadrature methods are not available with more than one random effects term "
            f"(nAGQ = {nAGQ}; this model has {terms})",
            term=design.random.terms[0].source,
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


def parameter_names(design: ClmmDesign, objective: ClmmObjective) -> list[str]:
    """ordinal's parameters in order: ``α`` names, ``β`` names, then the ``ST`` entries.

    The ``ST`` entries of a term are its diagonal, then the lower triangle by
    columns (ordinal's ``ST2par``); for a single random intercept the one entry
    is the log standard deviation.
    """
    names = [*design.thresholds.alpha_names, *design.X_names]
    if objective.log_sd:
        return [*names, f"log(SD) of {objective.terms[0].group}"]
    for t in objective.terms:
        names += [f"ST {t.group}[{n}]" for n in t.names]
        names += [
            f"ST {t.group}[{t.names[i]}, {t.names[j]}]"
            for i, j in zip(*strict_lower(t.k), strict=True)
        ]
    return names


def start_vector(start: Any, design: ClmmDesign, objective: ClmmObjective) -> FloatArray:
    """``start=`` as ordinal's parameter vector ``(α, β, ST)``, checked.

    ``start`` is that vector (``fit$optRes$par``), or the pair ``(fepar, STpar)``
    of ordinal's ``start = list(...)`` for models other than one random intercept.

    Raises
    ------
    StartingValuesError
        A wrong length (the message lists the expected order), values that are
        not finite, thresholds ``θ = Tα`` that do not increase, or a negative
        standard deviation.
    """
    names = parameter_names(design, objective)
    order = ", ".join(names)
    n_fe = design.thresholds.n_alpha + len(design.X_names)
    parts = list(start) if isinstance(start, (list, tuple)) else None
    if parts is not None and len(parts) == 2 and all(np.ndim(p) == 1 for p in parts):
        fe, st = (np.asarray(p, dtype=float) for p in parts)
        if fe.size != n_fe or st.size != objective.n_st:
            raise StartingValuesError(
                f"start = (fepar, STpar) has {fe.size} and {st.size} values; this model needs "
                f"{n_fe} and {objective.n_st}, in the order {order}"
            )
        x0 = np.r_[fe, st]
    else:
        try:
            x0 = np.asarray(start, dtype=float).ravel()
        except (TypeError, ValueError) as exc:
            raise StartingValuesError(
                f"start must be numbers in ordinal's order ({order}), not {start!r}"
            ) from exc
    if x0.size != objective.n_par:
        raise StartingValuesError(
            f"start has {x0.size} values; this model has {objective.n_par} parameters, "
            f"in ordinal's order: {order}",
            remedy="give one value per parameter, e.g. a previous fit's par",
        )
    if not np.all(np.isfinite(x0)):
        bad = [n for n, v in zip(names, x0, strict=True) if not np.isfinite(v)]
        raise StartingValuesError(f"start is not finite for {', '.join(bad)}")
    th = design.thresholds
    theta = th.theta(x0[: th.n_alpha])
    crossing = np.flatnonzero(np.diff(theta) <= 0)
    if crossing.size:
        j = int(crossing[0])
        raise StartingValuesError(
            f"the thresholds at start are not increasing: {th.theta_names[j + 1]} = "
            f"{theta[j + 1]:g} is not above {th.theta_names[j]} = {theta[j]:g} "
            "(the likelihood is zero there; ordinal stops with 'non-finite likelihood "
            "at starting value')",
            remedy="give increasing thresholds, or leave start=None",
        )
    below = x0 < objective.lower()
    if np.any(below):
        bad = [n for n, b in zip(names, below, strict=True) if b]
        raise StartingValuesError(
            f"start has negative standard deviations: {', '.join(bad)}",
            remedy="standard deviations in start must be >= 0",
        )
    return x0


def _initial_step(design: ClmmDesign, x0: FloatArray, ctrl: ClmmControl) -> float:
    """BOBYQA's initial radius: at most half the smallest gap between the thresholds at ``x0``."""
    th = design.thresholds
    gaps = np.diff(th.theta(x0[: th.n_alpha]))
    return min(ctrl.initial_step, 0.5 * float(np.min(gaps, initial=math.inf)))


def _minimise(
    objective: ClmmObjective, x0: FloatArray, lower: FloatArray, ctrl: ClmmControl, step: float
) -> OptimizerResult:
    """BOBYQA from ``x0``, restarted from its result until a restart gains < ``restart_tol``."""
    settings = {
        "xtol_rel": ctrl.xtol_rel,
        "ftol_abs": 0.0,
        "xtol_abs": 0.0,
        "maxeval": ctrl.maxeval,
        "initial_step": step,
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


Derivatives = tuple[NDArray[np.bool_], FloatArray, FloatArray]


def _polish(
    objective: ClmmObjective, par: FloatArray, fval: float, steps: int
) -> tuple[FloatArray, float, Derivatives | None]:
    """Newton steps on the finite-difference Hessian while they lower the objective.

    Also returns the derivatives at the final point when the last step was
    refused (they are then already at hand), else ``None``.
    """
    lower = objective.lower()
    for _ in range(steps):
        derivatives = _derivatives(objective, par, fval)
        free, grad, hess = derivatives
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            return par, fval, derivatives
        trial = np.maximum(_with(par, free, par[free] - step), lower)
        ftrial = objective(trial)
        if not ftrial < fval:
            return par, fval, derivatives
        par, fval = trial, ftrial
    return par, fval, None


def _free(objective: ClmmObjective, par: FloatArray) -> NDArray[np.bool_]:
    """Parameters not at the boundary (ordinal's ``paratBoundary2``; all free for one intercept)."""
    lower = objective.lower()
    return ~((lower == 0.0) & (par < BOUNDARY_TOL))


def fit_clmm(
    design: ClmmDesign,
    *,
    link: str = "logit",
    nAGQ: int = 1,
    start: Any = None,
    control: ClmmControl | Mapping[str, Any] | None = None,
    formula: str = "",
    data_name: str | None = None,
) -> ClmmResult:
    """Fit a prepared design: starting values, optimisation, Hessian, result.

    ``start`` is ordinal's parameter vector ``(α, β, ST)`` or the pair
    ``(fepar, STpar)``; see :func:`start_vector`.
    """
    t0 = time.perf_counter()
    ctrl = ClmmControl.coerce(control)
    objective, response = clmm_objective(design, link, nAGQ)
    if start is None:
        fe_start = _clm_start(design, objective.link, response)
        x0 = np.r_[fe_start, np.zeros(1) if objective.log_sd else _st_start(objective)]
    else:
        x0 = start_vector(start, design, objective)
    finitial = objective(x0)
    if not math.isfinite(finitial):
        raise StartingValuesError(
            f"non-finite likelihood at the starting values {x0.tolist()}",
            remedy="start elsewhere (start=None: ordinal's starting values)",
        )
    lower = objective.lower()
    step = _initial_step(design, x0, ctrl)
    res = _minimise(objective, x0, lower, ctrl, step)
    par, fval, derivatives = _polish(objective, res.par, res.fval, ctrl.newton_steps)
    free = _free(objective, par)
    grad = hess = None
    if ctrl.Hess:
        free, grad, hess = derivatives or _derivatives(objective, par, fval)
    conv = _checks(grad, hess, bool(np.any(~free)))
    optinfo = OptSummary(
        optimizer="nloptwrap",
        initial=x0,
        finitial=finitial,
        final=par,
        fmin=fval,
        feval=objective.neval,
        time=time.perf_counter() - t0,
        return_code=res.return_code,
        message=res.message,
        control={
            "xtol_rel": ctrl.xtol_rel,
            "initial_step": step,
            "maxeval": ctrl.maxeval,
            "restarts": ctrl.restarts,
            "newton_steps": ctrl.newton_steps,
        },
        conv=conv,
    )
    for message in conv.messages:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return ClmmResult.assemble(
        design,
        objective,
        par,
        fval,
        link=link,
        nAGQ=nAGQ,
        free=free,
        optinfo=optinfo,
        formula=formula,
        data_name=data_name,
    )


def _checks(grad: FloatArray | None, hess: FloatArray | None, boundary: bool) -> ConvergenceCheck:
    """ordinal's verdicts: ``max|gradient| < 1e-3`` and a positive definite Hessian."""
    if grad is None or hess is None:
        return ConvergenceCheck(singular=boundary)
    code, messages = 0, []
    max_grad = float(np.max(np.abs(grad), initial=0.0))
    if not max_grad < GRAD_TOL:
        code = -1
        messages.append(f"clmm may not have converged: max|gradient| = {max_grad:.3g}")
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        code = -3
        messages.append("clmm: the Hessian is not positive definite (no standard errors)")
    return ConvergenceCheck(
        code=code, messages=tuple(messages), gradient=grad, hessian=hess, singular=boundary
    )


def _with(par: FloatArray, free: NDArray[np.bool_], x: FloatArray) -> FloatArray:
    full = par.copy()
    full[free] = x
    return full


def _st_start(objective: ClmmObjective) -> FloatArray:
    """ordinal's ``STstart``: 1 for every standard deviation, 0 below the diagonal."""
    return np.concatenate(
        [np.r_[np.ones(t.k), np.zeros(t.k * (t.k - 1) // 2)] for t in objective.terms]
    )


@one_blas_thread
def clmm(
    formula: str,
    data: pd.DataFrame,
    *,
    link: Literal["logit", "probit", "cloglog", "loglog", "cauchit"] = "logit",
    threshold: Literal["flexible", "symmetric", "symmetric2", "equidistant"] = "flexible",
    nAGQ: int = 1,
    weights: Any = None,
    start: Any = None,
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
    start : array-like or (array-like, array-like), optional
        Starting values in ordinal's order (``fit$optRes$par``): the free
        threshold parameters ``α``, then ``β``, then the random-effect
        parameters — the log standard deviation for a single random intercept,
        otherwise each term's ``ST`` factor (standard deviations, then the
        lower triangle by columns).  The pair ``(fepar, STpar)`` of ordinal's
        ``start = list(...)`` is accepted too.
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
    ControlError
        nAGQ > 1 with several random terms or a random slope.
    StartingValuesError
        ``start`` of the wrong length (the message lists the order), not
        finite, with thresholds that do not increase, a negative SD, or a zero
        likelihood there.
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
        design,
        link=link,
        nAGQ=nAGQ,
        start=start,
        control=control,
        formula=formula,
        data_name=data_name,
    )
