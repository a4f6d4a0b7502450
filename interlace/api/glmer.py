"""``glmer``: generalised linear mixed models as ``lme4::glmer`` fits them.

The stages are lme4's (``glFormula → mkGlmerDevfun → optimizeGlmer →
updateGlmerDevfun → optimizeGlmer → mkMerMod``):

1. the design (:func:`~interlace.design.lformula.glformula`) and the family's
   ``initialize`` (response checks, proportions, trials, ``mustart``);
2. a first PIRLS for β and u from ``mustart`` at the starting θ;
3. stage 1: θ optimised with the nAGQ = 0 deviance (β inside PIRLS), by BOBYQA
   as lme4 does;
4. stage 2 (nAGQ ≥ 1): (θ, β) optimised with the Laplace or quadrature
   deviance from the stage-1 optimum.  lme4 uses its Nelder–Mead here; interlace
   uses BOBYQA with steps scaled as lme4 scales Nelder–Mead's (0.02 for θ,
   0.2·min(SE, 10) for β) and tolerances tight enough to reach the optimum
   that lme4 approaches (its stopping point differs by ~1e-5 relative);
5. finite-difference gradient and Hessian at the optimum (lme4's
   ``deriv12``), the boundary check and lme4's convergence checks;
   ``vcov`` from that Hessian as lme4's ``vcov.merMod`` does for glmer fits.

:func:`glmer_deviance` is the deviance-function exit (``devFunOnly = TRUE``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.api.steps import StartType, build_design, column_name
from interlace.engine.laplace import AGQ_SCALAR_MESSAGE, GlmmDeviance
from interlace.engine.pirls import TOL_PWRSS, GlmResponse, Pirls
from interlace.engine.protocol import LmmDesign
from interlace.engine.threads import one_blas_thread
from interlace.errors import (
    ConstantResponseError,
    InterlaceError,
    NumericalError,
    SeparationWarning,
)
from interlace.families import Family, get_family
from interlace.optim.bobyqa import NLOPTWRAP_DEFAULTS, OptimizerResult, bobyqa
from interlace.optim.boundary import snap_to_boundary
from interlace.optim.control import Control, ControlError
from interlace.optim.convergence import check_convergence, deriv12
from interlace.optim.summary import ConvergenceCheck, EvaluationLog
from interlace.results.glmer_result import GlmerResult

FloatArray = NDArray[np.float64]

#: Stage-2 tolerances: tight enough that the optimum is reached well inside the parity bar.
STAGE2_DEFAULTS: dict[str, float] = {"xtol_rel": 1e-7, "ftol_abs": 0.0, "xtol_abs": 0.0}


@dataclass(frozen=True, kw_only=True)
class GlmerControl(Control):
    """Settings of ``glmer`` (lme4's ``glmerControl``, Python spelling).

    Attributes
    ----------
    boundary_tol : float
        θ within this distance of 0 is set to 0 when that does not raise the deviance.
    calc_derivs : bool
        Finite-difference gradient and Hessian at the optimum (needed for the
        Hessian-based standard errors and the convergence checks).
    check_conv_grad, check_conv_singular, check_conv_hess : float
        Tolerances of lme4's convergence checks.
    tolPwrss : float
        PIRLS convergence tolerance.
    optCtrl : mapping
        BOBYQA settings of stage 2 (``xtol_rel``, ``ftol_abs``, ``maxeval``).
    """

    boundary_tol: float = 1e-5
    calc_derivs: bool = True
    check_conv_grad: float = 2e-3
    check_conv_singular: float = 1e-4
    check_conv_hess: float = 1e-6
    tolPwrss: float = TOL_PWRSS
    optCtrl: Mapping[str, float] = field(default_factory=dict)

    function: ClassVar[str] = "glmer"


def glm_response(
    design: LmmDesign, family: Family, row_labels: Sequence[Any] | None = None
) -> GlmResponse:
    """The family's ``initialize`` on a design's response (lme4's ``mkRespMod``).

    Raises
    ------
    ResponseDomainError
        Values outside the family's support (rows named).
    ConstantResponseError
        lme4's ``Response is constant``.
    """
    init = family.initialize(np.asarray(design.y, dtype=float), design.weights, row_labels)
    if np.unique(init.y).size < 2:
        raise ConstantResponseError(
            "Response is constant", remedy="a GLMM needs variation in the response"
        )
    n = init.y.shape[0]
    offset = np.zeros(n) if design.offset is None else np.asarray(design.offset, dtype=float)
    return GlmResponse(family, init.y, init.weights, init.n, offset, init.mustart)


def glmer_deviance(
    design: LmmDesign, response: GlmResponse, nAGQ: int = 1, control: GlmerControl | None = None
) -> GlmmDeviance:
    """The deviance function before any optimisation, after lme4's first PIRLS.

    ``stage0(θ)`` is glmer's nAGQ = 0 deviance function; for the nAGQ ≥ 1 one
    (``__call__((θ, β))``) run stage 1 first (:func:`fit_glmer` does) or set
    ``lp0``.
    """
    ctrl = control or GlmerControl()
    dev = GlmmDeviance(
        Pirls(response, design.X, design.terms, tol=ctrl.tolPwrss), nAGQ=max(nAGQ, 1)
    )
    dev.initial_step(np.asarray(design.theta, dtype=float))
    return dev


def _start(start: StartType, n_theta: int) -> tuple[FloatArray | None, FloatArray | None]:
    """lme4's ``getStart``: θ and fixed-effect starts (``None`` for the defaults)."""
    if start is None:
        return None, None
    if isinstance(start, Mapping):
        bad = set(start) - {"theta", "fixef"}
        if bad:
            raise ControlError(
                f"bad name(s) for start vector ({', '.join(sorted(bad))}); "
                "should be 'theta' and/or 'fixef'"
            )
        theta = None if start.get("theta") is None else np.asarray(start["theta"], dtype=float)
        fixef = None if start.get("fixef") is None else np.asarray(start["fixef"], dtype=float)
    else:
        theta, fixef = np.asarray(start, dtype=float).ravel(), None
    if theta is not None and theta.size != n_theta:
        raise ControlError(f"incorrect number of theta components (!={n_theta})")
    return theta, fixef


def _minimise(
    fun: Callable[[FloatArray], float],
    x0: FloatArray,
    lower: FloatArray,
    scale: FloatArray,
    control: Mapping[str, float],
) -> OptimizerResult:
    """BOBYQA on ``x / scale`` (unit initial steps); points that fail to factor are ``inf``."""

    def scaled(s: FloatArray) -> float:
        try:
            return fun(s * scale)
        except NumericalError:
            return math.inf

    res = bobyqa(scaled, x0 / scale, lower / scale, control={**control, "initial_step": 1.0})
    return OptimizerResult(
        par=res.par * scale, fval=res.fval, feval=res.feval, status=res.status, message=res.message
    )


def fit_glmer(
    design: LmmDesign,
    response: GlmResponse,
    *,
    nAGQ: int = 1,
    control: GlmerControl | Mapping[str, Any] | None = None,
    start: StartType = None,
    formula: str = "",
    data_name: str | None = None,
    weights_name: str | None = None,
    offset_name: str | None = None,
    fit_messages: Sequence[str] = (),
) -> GlmerResult:
    """Fit a prepared design and response: both stages, checks, result."""
    ctrl = GlmerControl.coerce(control)
    record = EvaluationLog()
    lower = np.asarray(design.lower, dtype=float)
    theta_start, fixef_start = _start(start, lower.size)
    if fixef_start is not None and nAGQ == 0:
        raise ControlError("should not specify both start$fixef and nAGQ==0")
    dev = glmer_deviance(design, response, nAGQ, ctrl)
    theta0 = np.asarray(design.theta, dtype=float) if theta_start is None else theta_start
    # stage 1: θ with the nAGQ = 0 deviance (lme4: minqa's bobyqa, rhobeg = 0.2 max|θ|)
    x0 = np.where(np.all(theta0 == 0), 0.001, theta0)
    rhobeg = min(0.95, 0.2 * float(np.max(np.abs(x0))))
    stage0 = record.logged(dev.stage0)
    res1 = _minimise(stage0, x0, lower, np.full(x0.size, rhobeg), NLOPTWRAP_DEFAULTS)
    feval, warns = res1.feval, []
    if res1.return_code != 0:
        warns.append(f"convergence code {res1.return_code} from bobyqa: {res1.message}")
    fval = dev.stage0(res1.par)
    fun: Callable[[FloatArray], float]
    settings: dict[str, float] = dict(NLOPTWRAP_DEFAULTS)
    if nAGQ == 0:
        pars, fun, full_lower = res1.par, dev.stage0, lower
        grad = hess = None
        pars, fval = snap_to_boundary(fun, pars, fval, full_lower, ctrl.boundary_tol)
        res = res1
    else:
        stage1 = dev.last
        assert stage1 is not None
        dev.start_stage2()
        beta1 = stage1.beta if fixef_start is None else fixef_start
        se1 = np.sqrt(np.diag(stage1.predictor.unscaled_vcov()))
        pars0 = np.concatenate([res1.par, beta1])
        full_lower = np.concatenate([lower, np.full(beta1.size, -math.inf)])
        step = 0.2 * np.concatenate([np.full(lower.size, 0.1), np.minimum(se1, 10.0)])
        fun = dev
        settings = {**NLOPTWRAP_DEFAULTS, **STAGE2_DEFAULTS, **ctrl.optCtrl}
        res = _minimise(record.logged(dev), pars0, full_lower, step, settings)
        feval += res.feval
        if res.return_code != 0:
            warns.append(f"convergence code {res.return_code} from bobyqa: {res.message}")
        pars = res.par
        grad = hess = None
        if ctrl.calc_derivs:
            grad, hess = deriv12(dev, pars, res.fval)
        fval = dev(pars)
        pars, fval = snap_to_boundary(dev, pars, fval, full_lower, ctrl.boundary_tol)
    conv = (
        check_convergence(
            pars,
            full_lower,
            grad,
            hess,
            singular_tol=ctrl.check_conv_singular,
            grad_tol=ctrl.check_conv_grad,
            hess_tol=ctrl.check_conv_hess,
        )
        if ctrl.calc_derivs
        else ConvergenceCheck()
    )
    fval = fun(pars)
    optinfo = record.summary(
        optimizer="bobyqa",
        initial=x0,
        final=pars,
        fmin=fval,
        feval=feval,
        return_code=res.return_code,
        message=res.message,
        control=settings,
        warnings=tuple(warns),
        conv=conv,
    )
    result = GlmerResult.assemble(
        design,
        response,
        dev,
        optinfo,
        nAGQ=nAGQ,
        hessian=hess,
        formula=formula,
        data_name=data_name,
        weights_name=weights_name,
        offset_name=offset_name,
        fit_messages=tuple(fit_messages),
    )
    found = separation_messages(result)
    for message in found:
        warnings.warn(message, SeparationWarning, stacklevel=3)
    return replace(result, warnings=result.warnings + found) if found else result


#: A fixed effect whose estimate times its column's SD exceeds this suggests separation.
SEPARATION_BOUND = 10.0


def separation_messages(result: GlmerResult) -> tuple[str, ...]:
    """Messages naming the predictors that look (quasi-)completely separated.

    lme4 does not check this.  For binomial and Poisson fits, a coefficient
    with ``|β_j| sd(x_j) > 10`` on the link scale (an odds ratio above
    e^10 per SD) is reported, as glmmTMB's ``diagnose()`` flags
    unusually large coefficients; the intercept is judged by ``|β_0|``.
    """
    if result.family not in ("binomial", "poisson"):
        return ()
    X = np.asarray(result.design.X, dtype=float)
    out = []
    for j, name in enumerate(result.design.X_names):
        sd = float(np.std(X[:, j], ddof=1)) if X.shape[0] > 1 else 0.0
        scale = 1.0 if name == "(Intercept)" or sd == 0 else sd
        size = abs(float(result.beta[j])) * scale
        if size > SEPARATION_BOUND:
            out.append(
                f"fixed effect {name!r} is {result.beta[j]:.4g} (standard error "
                f"{float(result.bse.iloc[j]):.4g}; |estimate| x SD = {size:.3g} > "
                f"{SEPARATION_BOUND:g}): complete or quasi-complete separation is likely"
            )
    return tuple(out)


def check_nagq(nAGQ: int, design: LmmDesign | None = None) -> None:
    """lme4's checks of ``nAGQ``: 0 to 100, and above 1 only for one scalar random-effect term.

    Raises
    ------
    InterlaceError
        ``nAGQ`` out of range, or > 1 for the ``design`` given with several or
        vector-valued terms (lme4's reason).
    """
    if not 0 <= nAGQ <= 100:
        raise InterlaceError(f"nAGQ must be between 0 and 100, not {nAGQ}")
    if (
        design is not None
        and nAGQ > 1
        and (len(design.terms) != 1 or len(design.terms[0].names) != 1)
    ):
        raise InterlaceError(AGQ_SCALAR_MESSAGE, remedy="use nAGQ = 1 (Laplace)")


@one_blas_thread
def glmer(
    formula: str,
    data: pd.DataFrame,
    *,
    family: Family | str | Callable[[], Family],
    nAGQ: int = 1,
    weights: Any = None,
    offset: Any = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["omit", "fail"] = "omit",
    control: GlmerControl | Mapping[str, Any] | None = None,
    start: StartType = None,
    data_name: str | None = None,
) -> GlmerResult:
    """Fit a generalised linear mixed model as ``lme4::glmer(formula, data, family, ...)`` does.

    Parameters
    ----------
    formula : str
        lme4 formula; the response may be ``cbind(successes, failures)``, a 0/1,
        logical or factor column (first level = failure) or, with ``weights``,
        proportions.
    data : DataFrame
        Never modified.
    family : Family, str or constructor
        ``interlace.families.binomial(link="probit")``, ``"poisson"``, ...
    nAGQ : int
        0 (β inside PIRLS), 1 (Laplace, default) or up to 100 (adaptive
        Gauss–Hermite; a single scalar random-effect term only).
    weights, offset
        Prior weights and offset: a column name or an array of length ``n``.
    contrasts : mapping, optional
    na_action : {"omit", "fail"}
    control : GlmerControl or mapping, optional
    start : array or {"theta": ..., "fixef": ...}, optional
    data_name : str, optional
        Name of the data shown on the summary's ``Data:`` line.

    Returns
    -------
    GlmerResult

    Raises
    ------
    ResponseDomainError, ConstantResponseError
        The response does not suit the family.
    InterlaceError
        nAGQ > 1 with several or vector-valued random-effect terms (lme4's reason);
        ``family=gaussian`` with the identity link (use ``lmer``).
    ConvergenceError
        PIRLS failed (lme4's reason in the message).
    """
    from interlace.design.lformula import glformula

    fam = get_family(family)
    if fam.family == "gaussian" and fam.link.name == "identity":
        raise InterlaceError(
            "glmer() with family=gaussian (identity link) is a linear mixed model: lme4 "
            "redirects this call to lmer() (deprecated there too)",
            remedy="call interlace's lmer() (REML by default, as lme4's redirect)",
        )
    check_nagq(nAGQ)
    design, rank_msgs = build_design(
        lambda: glformula(
            formula, data, weights=weights, offset=offset, contrasts=contrasts, na_action=na_action
        )
    )
    check_nagq(nAGQ, design)
    response = glm_response(design, fam, list(design.row_labels))
    return fit_glmer(
        design,
        response,
        nAGQ=nAGQ,
        control=control,
        start=start,
        formula=formula,
        data_name=data_name,
        weights_name=column_name(weights),
        offset_name=column_name(offset),
        fit_messages=rank_msgs,
    )
