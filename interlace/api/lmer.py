"""``lmer``: linear mixed models as ``lme4::lmer`` fits them.

The façade composes the stages (lme4's ``lFormula → mkLmerDevfun →
optimizeLmer → mkMerMod``): :func:`lmer_objective` is the deviance-function
exit (``devFunOnly = TRUE``) and :func:`fit_lmer` fits a prepared design.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import fields
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.api.steps import StartType, build_design, column_name
from interlace.design.checks import CheckControl
from interlace.engine.gaussian import GaussianObjective, dense_block_size
from interlace.engine.protocol import LmmDesign
from interlace.engine.threads import one_blas_thread
from interlace.errors import (
    ConvergenceWarning,
    HessianWarning,
    SingularFitWarning,
    StartingValuesWarning,
)
from interlace.optim.control import ControlError, LmerControl
from interlace.optim.optimize import optimize_theta
from interlace.optim.summary import OptSummary
from interlace.results.lmer_result import LmerResult, assemble_lmer

FloatArray = NDArray[np.float64]


def split_control(
    control: LmerControl | Mapping[str, Any] | None,
) -> tuple[LmerControl, dict[str, str] | None]:
    """lmerControl settings: the optimiser's, and the design checks (``check.nlev.gtr.1``, ...).

    ``check.*`` keys (other than the optimiser's ``check.conv.*``) and the field
    names of :class:`~interlace.design.checks.CheckControl` go to the design
    checks, which reject unknown ``check.*`` names; everything else must be an
    :class:`LmerControl` setting (R's dots or underscores).
    """
    if control is None or isinstance(control, LmerControl):
        return LmerControl.coerce(control), None
    design_fields = {f.name for f in fields(CheckControl)}
    own = {f.name for f in fields(LmerControl)}

    def is_check(key: str) -> bool:
        name = key.replace(".", "_")
        return name not in own and (key.startswith("check.") or name in design_fields)

    checks = {k: v for k, v in control.items() if is_check(k)}
    mine = {k: v for k, v in control.items() if not is_check(k)}
    return LmerControl.coerce(mine), checks or None


def lmer_objective(design: LmmDesign, REML: bool | None = None) -> GaussianObjective:
    """The profiled deviance function θ ↦ REML criterion or ML deviance (``devFunOnly``).

    ``REML`` defaults to the design's own ``REML``.
    """
    return GaussianObjective(design, REML=design.REML if REML is None else REML)


def _start_theta(start: StartType, objective: GaussianObjective) -> FloatArray:
    """lme4's ``getStart``: user θ (vector or ``{"theta": ...}``) or lme4's default."""
    if start is None:
        return objective.start()
    if isinstance(start, Mapping):
        if set(start) - {"theta"}:
            raise ControlError(
                "start= for lmer may only contain 'theta'",
                remedy="pass start={'theta': [...]} or a vector of theta values",
            )
        start = start["theta"]
    theta = np.asarray(start, dtype=float).ravel()
    if theta.size != objective.lower.size:
        raise ControlError(
            f"start has {theta.size} values but the model has "
            f"{objective.lower.size} theta parameters"
        )
    if np.any(theta < objective.lower):
        warnings.warn(
            "start values below the lower bounds were moved onto them",
            StartingValuesWarning,
            stacklevel=3,
        )
        theta = np.maximum(theta, objective.lower)
    return theta


def fit_lmer(
    design: LmmDesign,
    *,
    REML: bool | None = None,
    control: LmerControl | Mapping[str, Any] | None = None,
    start: StartType = None,
    formula: str = "",
    data_name: str | None = None,
    weights_name: str | None = None,
    offset_name: str | None = None,
    fit_messages: Sequence[str] = (),
) -> LmerResult:
    """Fit a prepared design: objective, optimisation, post-processing, result.

    ``REML`` defaults to the design's own.  ``formula`` and the ``*_name``
    arguments only label the printed summary;
    ``fit_messages`` are design messages printed under "fit warnings"
    (lme4's ``fitMsgs``, e.g. dropped rank-deficient columns).
    """
    ctrl = LmerControl.coerce(control)
    objective = lmer_objective(design, REML=REML)
    theta0 = _start_theta(start, objective)
    optinfo = optimize_theta(
        objective,
        theta0,
        objective.lower,
        ctrl,
        nobs=objective.n,
        gradient=objective.gradient if objective.has_gradient else None,
        dense_block=dense_block_size(design),
    )
    warn_about(optinfo)
    return assemble_lmer(
        design,
        objective,
        optinfo,
        formula=formula,
        data_name=data_name,
        weights_name=weights_name,
        offset_name=offset_name,
        fit_messages=tuple(fit_messages),
    )


def warn_about(optinfo: OptSummary) -> None:
    """Issue the findings of the optimiser and the checks as warnings (kept on the result too).

    lme4 reports a singular fit as a message; here it is a :class:`SingularFitWarning`.
    """
    for text in optinfo.warnings:
        warnings.warn(text, ConvergenceWarning, stacklevel=3)
    conv = optinfo.conv
    for text in conv.messages:
        if conv.singular:
            category: type[Warning] = SingularFitWarning
        elif "Hessian" in text or "unidentifiable" in text:
            category = HessianWarning
        else:
            category = ConvergenceWarning
        warnings.warn(text, category, stacklevel=3)


@one_blas_thread
def lmer(
    formula: str,
    data: pd.DataFrame,
    *,
    REML: bool = True,
    weights: Any = None,
    offset: Any = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["omit", "fail"] = "omit",
    control: LmerControl | Mapping[str, Any] | None = None,
    start: StartType = None,
    data_name: str | None = None,
) -> LmerResult:
    """Fit a linear mixed model as ``lme4::lmer(formula, data, ...)`` does.

    Parameters
    ----------
    formula : str
        lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``.
    data : DataFrame
        Never modified.
    REML : bool
        REML (default) or maximum likelihood.
    weights, offset
        Prior weights and offset: a column name or an array of length ``n``.
    contrasts : mapping, optional
        Contrasts per factor (R's ``contrasts=``).
    na_action : {"omit", "fail"}
    control : LmerControl or mapping, optional
        ``lmerControl`` settings: the optimiser's (``optimizer``, ``restart_edge``,
        ``boundary_tol``, ``calc_derivs``, ``check_conv_*``, ``optCtrl``) and, in a
        mapping, lme4's design checks (``check.nlev.gtr.1``, ``check.rankX``, ...).
        The default ``optimizer="auto"`` is lme4's BOBYQA (``"nloptwrap"``) except for
        large models whose random terms are all scalar, which get L-BFGS-B with the
        analytic gradient (see :class:`~interlace.optim.control.LmerControl`).
    start : array or {"theta": array}, optional
        Starting θ.
    data_name : str, optional
        Name of the data shown on the summary's ``Data:`` line (R prints the
        expression given as ``data``).

    Returns
    -------
    LmerResult
    """
    from interlace.design.lformula import lformula

    ctrl, checks = split_control(control)
    design, rank_msgs = build_design(
        lambda: lformula(
            formula,
            data,
            REML=REML,
            weights=weights,
            offset=offset,
            contrasts=contrasts,
            na_action=na_action,
            control=checks,
        )
    )
    return fit_lmer(
        design,
        REML=REML,
        control=ctrl,
        start=start,
        formula=formula,
        data_name=data_name,
        weights_name=column_name(weights),
        offset_name=column_name(offset),
        fit_messages=rank_msgs,
    )
