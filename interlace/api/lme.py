"""``lme``: linear mixed models as ``nlme::lme`` fits them, with within-group residual correlation.

The façade reads nlme's arguments (``fixed``, ``random`` as ``~ x | g``,
``~ 1 | a/b`` or a mapping of grouping factors to formulas or
:func:`~interlace.pdmat.pdDiag`/:func:`~interlace.pdmat.pdSymm`, and a
``correlation`` structure), builds the equivalent lme4 design
(:func:`~interlace.design.lformula.lformula` with nlme's ``na.fail`` and
without lme4's identifiability checks), and maximises the REML or ML
likelihood: over θ alone without a correlation structure (the fit is then
``lmer``'s), else jointly over θ and the correlation parameter φ through the
pre-whitened criterion of :mod:`interlace.engine.residual_correlation` (jointly
over θ, φ and a variance function's δ when ``weights=`` is given too), or
jointly over θ and δ (``weights=`` alone) through the weighted criterion of
:mod:`interlace.engine.variance_function`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.api.lmer import warn_about
from interlace.api.steps import build_design
from interlace.correlation import CorStruct, split_top
from interlace.design.checks import CheckControl
from interlace.design.lformula import LmerDesign, lformula
from interlace.engine.gaussian import GaussianObjective
from interlace.engine.residual_correlation import CorrelatedObjective, GroupLayout
from interlace.engine.threads import one_blas_thread
from interlace.engine.variance_function import VarFuncObjective
from interlace.errors import (
    DataError,
    FormulaError,
    InterlaceWarning,
    MissingVariableError,
)
from interlace.optim.control import LmerControl
from interlace.optim.optimize import optimize_theta
from interlace.optim.summary import OptSummary
from interlace.pdmat import PdMat
from interlace.results.lme_df import fixed_effects_df
from interlace.results.lme_result import LmeLevel, LmeResult
from interlace.results.lmer_result import LmerResult, assemble_lmer
from interlace.varfunc import BoundVarFunc, VarFunc

FloatArray = NDArray[np.float64]
RandomSpec = str | PdMat | Mapping[str, str | PdMat]

#: nlme has none of lme4's identifiability checks of the random-effects design.
_NLME_CHECKS = CheckControl(
    nobs_vs_nlev="ignore", nobs_vs_nRE="ignore", scaleX="ignore", rankX="stop.deficient"
)


@dataclass(frozen=True)
class RandomLevel:
    """One nlme grouping level: its grouping variables (outer to this one) and effects."""

    groups: tuple[str, ...]
    formula: str
    kind: str


def _effects(formula: str, where: str) -> str:
    """The right side of a one-sided random-effects formula ``~ x``."""
    text = formula.strip()
    if not text.startswith("~") or "|" in text:
        raise FormulaError(
            f"{where}: expected a one-sided formula such as '~ 1' or '~ x', got {formula!r}",
            formula=formula,
        )
    return text[1:].strip()


def parse_random(random: RandomSpec) -> list[RandomLevel]:
    """nlme's ``random`` as grouping levels, outer to inner.

    Accepts ``"~ x | g"``, ``"~ 1 | a/b"`` (nested; the same effects at each
    level) and a mapping ``{g: "~ x"}`` or ``{g: pdDiag("~ x")}`` (several keys:
    nested levels, outer first, as nlme's named list).

    Raises
    ------
    FormulaError
        Any other form, or a pdMat class other than ``pdSymm``/``pdDiag``.
    """
    if isinstance(random, str):
        text = random.strip()
        sides = split_top(text[1:], "|") if text.startswith("~") else []
        if len(sides) != 2:
            raise FormulaError(
                f"random must look like '~ x | g' or '~ 1 | a/b', got {random!r}",
                formula=random,
                term="random",
                remedy="or pass a mapping such as {'g': pdDiag('~ x')}",
            )
        groups = tuple(split_top(sides[1], "/"))
        return [RandomLevel(groups[: j + 1], "~" + sides[0], "pdSymm") for j in range(len(groups))]
    if isinstance(random, PdMat):
        raise FormulaError(
            f"{random.kind}({random.formula!r}) needs a grouping factor",
            term="random",
            remedy=f"write random={{'g': {random.kind}({random.formula!r})}}",
        )
    if isinstance(random, Mapping) and random:
        levels: list[RandomLevel] = []
        outer: tuple[str, ...] = ()
        for name, spec in random.items():
            outer = (*outer, str(name))
            pd_mat = spec if isinstance(spec, PdMat) else PdMat(str(spec))
            if pd_mat.kind not in {"pdSymm", "pdDiag"}:
                raise FormulaError(
                    f"random: pdMat class {pd_mat.kind} is not supported; "
                    "supported: pdSymm, pdDiag",
                    term="random",
                )
            _effects(pd_mat.formula, f"random[{name!r}]")
            levels.append(RandomLevel(outer, pd_mat.formula, pd_mat.kind))
        return levels
    raise FormulaError(
        f"random must be a formula string or a mapping of grouping factors, got {random!r}",
        term="random",
    )


def _bar(level: RandomLevel) -> str:
    """The lme4 bar of one level: ``(x | g)``, ``(x || g)`` for pdDiag, ``a:b`` for nesting."""
    bar = "||" if level.kind == "pdDiag" else "|"
    return f"({_effects(level.formula, 'random')} {bar} {':'.join(level.groups)})"


def _check_arguments(fixed: str, method: str, weights: Any, correlation: Any) -> None:
    """nlme's arguments that interlace does not reproduce, refused with the reason."""
    if weights is not None and not isinstance(weights, VarFunc):
        raise FormulaError(
            f"weights={weights!r} is not supported; supported: varIdent(form='~ 1 | g'), "
            "varPower(form='~ v'), varExp(form='~ v')",
            term="weights",
            remedy="lmer(weights=) takes fixed prior weights",
        )
    if correlation is not None and not isinstance(correlation, CorStruct):
        raise FormulaError(
            f"correlation={correlation!r} is not supported; supported: corAR1(), corCAR1(), "
            "corCompSymm()",
            term="correlation",
        )
    if method not in ("REML", "ML"):
        raise FormulaError(f"method must be 'REML' or 'ML', not {method!r}", term="method")
    if "~" not in fixed or "|" in fixed:
        raise FormulaError(
            f"fixed must be a two-sided formula without '|', got {fixed!r}",
            formula=fixed,
            term="fixed",
        )


def _row_codes(data: pd.DataFrame, columns: tuple[str, ...]) -> NDArray[np.intp]:
    """0-based code of the combination of ``columns`` in every row."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise MissingVariableError(
            f"grouping variable {missing[0]!r} of the correlation form is not in the data",
            column=missing[0],
        )
    codes = data.groupby(list(columns), sort=False, observed=True).ngroup()
    return np.asarray(codes.to_numpy(), dtype=np.intp)


def _correlation_groups(
    cor: CorStruct, levels: list[RandomLevel], data: pd.DataFrame
) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """The correlation groups as nlme's ``lme`` chooses them, and their variables."""
    inner = levels[-1].groups
    wanted = cor.form.groups or inner
    k = min(len(wanted), len(inner))
    if wanted[:k] != inner[:k]:
        raise FormulaError(
            f"incompatible formulas for groups in 'random' and 'correlation' ({cor.form.text})",
            term="correlation",
        )
    if len(wanted) < len(inner):
        warnings.warn(
            "cannot use smaller level of grouping for 'correlation' than for 'random'. "
            "Replacing the former with the latter.",
            InterlaceWarning,
            stacklevel=4,
        )
        wanted = inner
    return _row_codes(data, wanted), wanted


def _covariate(cor: CorStruct, data: pd.DataFrame, codes: NDArray[np.intp]) -> FloatArray:
    """The correlation covariate: ``form``'s expression, or positions 1, 2, ... within a group."""
    if cor.form.covariate is None:
        position = pd.Series(codes).groupby(codes).cumcount().to_numpy()
        return np.asarray(position + 1, dtype=float)
    from interlace.api.model_matrix import model_matrix

    mm = model_matrix(f"~ 0 + {cor.form.covariate}", data)
    if mm.shape[1] != 1:
        raise DataError(
            f"correlation covariate {cor.form.covariate!r} must be one numeric column",
            term="correlation",
        )
    return np.asarray(mm.iloc[:, 0].to_numpy(), dtype=float)


def _term_levels(design: LmerDesign, levels: list[RandomLevel]) -> list[int]:
    """The nlme level of every lme4 term (by its grouping factor's name)."""
    names = {":".join(level.groups): i for i, level in enumerate(levels)}
    return [names[t.group] for t in design.terms]


def _check_nested(design: LmerDesign, codes: NDArray[np.intp]) -> None:
    """Every random-effects grouping factor must be constant within a correlation group."""
    for t in design.terms:
        refs = np.asarray(t.refs, dtype=np.intp)
        n = int(codes.max()) + 1
        hi = np.full(n, -1)
        lo = np.full(n, np.iinfo(np.intp).max)
        np.maximum.at(hi, codes, refs)
        np.minimum.at(lo, codes, refs)
        if np.any(hi != lo):
            raise FormulaError(
                f"the correlation groups are not nested in the random-effects grouping {t.group}",
                term="correlation",
            )


def _control(control: LmerControl | Mapping[str, Any] | None) -> LmerControl:
    """The optimiser settings: lmer's, without lme4's derivative checks unless asked for.

    nlme checks no gradient or Hessian at its optimum, so ``calc_derivs`` defaults to off.
    """
    if isinstance(control, LmerControl):
        return control
    return LmerControl.coerce({"calc_derivs": False, **(control or {})})


@dataclass(frozen=True)
class CorrelatedFit:
    """The optimum of the correlated criterion (:func:`_fit_correlated`).

    Attributes
    ----------
    inner : LmerResult
        The whitened fit at the optimum.
    optinfo : OptSummary
        The optimiser's record (``final`` is ``[θ, x]`` or ``[θ, x, δ]``).
    phi : float
    delta : ndarray or None
        The variance function's δ (``None`` without one).
    log_det : float
        ``log|G R G|`` at the optimum.
    layout : GroupLayout
        The rows' correlation groups and times.
    """

    inner: LmerResult
    optinfo: OptSummary
    phi: float
    delta: FloatArray | None
    log_det: float
    layout: GroupLayout


def _fit_correlated(
    design: LmerDesign,
    correlation: CorStruct,
    codes: NDArray[np.intp],
    frame: pd.DataFrame,
    ctrl: LmerControl,
    theta0: FloatArray,
    varfunc: BoundVarFunc | None,
) -> CorrelatedFit:
    """Maximise over (θ, φ), or (θ, φ, δ) with a variance function, from θ0, nlme's start
    of φ and δ = 0."""
    _check_nested(design, codes)
    times = _covariate(correlation, frame, codes)
    correlation.check_covariate(times, codes)
    layout = GroupLayout.from_codes(codes, times)
    objective = CorrelatedObjective(
        design.terms,
        design.X,
        design.X_names,
        design.y,
        design.theta,
        design.lower,
        correlation,
        layout,
        design.REML,
        varfunc,
    )
    x0 = correlation.from_natural(correlation.value, layout.max_size)
    start = np.r_[theta0, x0, np.zeros(0) if varfunc is None else varfunc.start()]
    optinfo = optimize_theta(objective, start, objective.lower, ctrl, nobs=design.n)
    warn_about(optinfo)
    theta, phi, delta = objective.split(optinfo.final)
    white, log_det = objective.at(phi, delta)
    inner = assemble_lmer(white.design, white, replace(optinfo, final=theta))
    return CorrelatedFit(inner, optinfo, phi, None if varfunc is None else delta, log_det, layout)


def _nlme_order(levels: list[RandomLevel], frame: pd.DataFrame) -> NDArray[np.intp]:
    """Row positions in the order ``lme`` sorts its data: by the grouping factors' levels,
    outer to inner (factor levels: a categorical's order, else sorted values, as ``factor``)."""
    keys = []
    for name in levels[-1].groups:
        col = frame[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            keys.append(np.asarray(col.cat.codes.to_numpy(), dtype=np.intp))
        else:
            values = col.to_numpy() if pd.api.types.is_numeric_dtype(col) else col.astype(str)
            keys.append(np.unique(np.asarray(values), return_inverse=True)[1])
    return np.asarray(np.lexsort(keys[::-1]), dtype=np.intp)


def _fit_weighted(
    design: LmerDesign,
    varfunc: BoundVarFunc,
    ctrl: LmerControl,
    theta0: FloatArray,
) -> tuple[LmerResult, OptSummary, FloatArray, LmerDesign]:
    """Maximise over (θ, δ) from θ0 and δ = 0.

    Returns the weighted fit at the optimum, the optimiser's record, δ and the
    design with the prior weights ``1/g_i(δ)²``.
    """
    objective = VarFuncObjective(design, varfunc, design.REML)
    start = np.r_[theta0, varfunc.start()]
    optinfo = optimize_theta(objective, start, objective.lower, ctrl, nobs=design.n)
    warn_about(optinfo)
    k = objective.n_theta
    delta = np.asarray(optinfo.final[k:], dtype=float)
    weighted = objective.weighted(delta)
    inner = assemble_lmer(
        weighted,
        GaussianObjective(weighted, REML=design.REML),
        replace(optinfo, final=optinfo.final[:k]),
    )
    return inner, optinfo, delta, weighted


@one_blas_thread
def lme(
    fixed: str,
    data: pd.DataFrame,
    *,
    random: RandomSpec,
    correlation: CorStruct | None = None,
    method: Literal["REML", "ML"] = "REML",
    weights: VarFunc | None = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["fail", "omit"] = "fail",
    control: LmerControl | Mapping[str, Any] | None = None,
    data_name: str | None = None,
) -> LmeResult:
    """Fit a linear mixed model as ``nlme::lme(fixed, data, random, correlation, method)`` does.

    Parameters
    ----------
    fixed : str
        Two-sided fixed-effects formula, e.g. ``"distance ~ age"``.
    data : DataFrame
        Never modified.
    random : str or mapping
        ``"~ x | g"`` (an intercept is included, as in nlme), ``"~ 1 | a/b"``
        (nested, outer to inner), or ``{"g": "~ x"}`` / ``{"g": pdDiag("~ x")}``
        (several keys: nested levels, outer first).
    correlation : CorStruct, optional
        :func:`~interlace.correlation.corAR1`, :func:`~interlace.correlation.corCAR1`
        or :func:`~interlace.correlation.corCompSymm`.
    method : {"REML", "ML"}
    weights : VarFunc, optional
        nlme's variance function: :func:`~interlace.varfunc.varIdent`,
        :func:`~interlace.varfunc.varPower` or :func:`~interlace.varfunc.varExp`
        (with a covariate ``form``), alone or together with ``correlation``
        (``Var(ε) = σ² G R G`` within a correlation group, ``G = diag(g_i)``).
    contrasts : mapping, optional
        Contrasts per factor of the fixed part.
    na_action : {"fail", "omit"}
        nlme's default ``na.fail`` refuses missing values.
    control : LmerControl or mapping, optional
        Optimiser settings (BOBYQA, as ``lmer``); lme4's gradient and Hessian
        checks run only with ``{"calc_derivs": True}`` (nlme has none).
    data_name : str, optional
        Name shown on the summary's ``Data:`` line.

    Returns
    -------
    LmeResult

    Raises
    ------
    FormulaError
        An nlme feature interlace does not reproduce (other variance
        functions, correlation or pdMat classes), or an invalid formula.
    """
    _check_arguments(fixed, method, weights, correlation)
    levels = parse_random(random)
    REML = method == "REML"
    formula = f"{fixed} + {' + '.join(_bar(level) for level in levels)}"
    design, _ = build_design(
        lambda: lformula(
            formula,
            data,
            REML=REML,
            contrasts=contrasts,
            na_action=na_action,
            control=_NLME_CHECKS,
        )
    )
    rows = design.row_labels
    frame = data.loc[rows] if len(rows) != len(data) else data
    term_level = _term_levels(design, levels)
    ctrl = _control(control)
    base = GaussianObjective(design, REML=REML)
    optinfo = optimize_theta(base, base.start(), base.lower, ctrl, nobs=design.n)
    cor_info: tuple[CorStruct, float, tuple[str, ...], GroupLayout] | None = None
    var_info: tuple[BoundVarFunc, FloatArray] | None = None
    bound = None if weights is None else weights.bind(frame, _nlme_order(levels, frame))
    log_det = 0.0
    if correlation is not None:
        codes, cor_groups = _correlation_groups(correlation, levels, frame)
        cfit = _fit_correlated(design, correlation, codes, frame, ctrl, optinfo.final, bound)
        inner, optinfo, log_det = cfit.inner, cfit.optinfo, cfit.log_det
        cor_info = (correlation, cfit.phi, cor_groups, cfit.layout)
        if bound is not None and cfit.delta is not None:
            var_info = (bound, cfit.delta)
            design = replace(design, weights=bound.weights(cfit.delta))
    elif bound is not None:
        inner, optinfo, delta, design = _fit_weighted(design, bound, ctrl, optinfo.final)
        var_info = (bound, delta)
    else:
        warn_about(optinfo)
        inner = assemble_lmer(design, base, optinfo)
    fit = replace(
        inner,
        design=design,
        objective=inner.objective + log_det,
        optinfo=optinfo,
        formula=formula,
        warnings=tuple(str(w) for w in design.warnings) + inner.warnings,
    )
    return _result(fit, levels, term_level, cor_info, var_info, fixed, data_name)


def _result(
    fit: LmerResult,
    levels: list[RandomLevel],
    term_level: list[int],
    cor_info: tuple[CorStruct, float, tuple[str, ...], GroupLayout] | None,
    var_info: tuple[BoundVarFunc, FloatArray] | None,
    fixed: str,
    data_name: str | None,
) -> LmeResult:
    """Label the levels as nlme does and compute the containment DF."""
    design = fit.design
    codes = []
    nlme_levels = []
    for j, level in enumerate(levels):
        terms = tuple(i for i, lv in enumerate(term_level) if lv == j)
        refs = np.asarray(design.terms[terms[0]].refs, dtype=np.intp)
        codes.append(refs)
        nlme_levels.append(
            LmeLevel(
                name=level.groups[-1],
                groups=level.groups,
                formula=level.formula,
                kind=level.kind,
                terms=terms,
            )
        )
    df = fixed_effects_df(np.asarray(design.X, dtype=float), codes)
    return LmeResult(
        fit=fit,
        levels=tuple(nlme_levels),
        fixed_df=pd.Series(df, index=list(design.X_names), name="DF"),
        correlation=None if cor_info is None else cor_info[0],
        phi=None if cor_info is None else cor_info[1],
        correlation_groups=() if cor_info is None else cor_info[2],
        correlation_layout=None if cor_info is None else cor_info[3],
        varfunc=None if var_info is None else var_info[0],
        varfunc_delta=None if var_info is None else var_info[1],
        fixed=fixed,
        data_name=data_name,
    )
