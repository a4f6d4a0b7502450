"""``glmmTMB``: mixed models with zero inflation and dispersion models, as ``glmmTMB::glmmTMB``.

The stages:

1. the formulas in glmmTMB's dialect (``||`` is ``diag()``, terms keep their order):
   the conditional model's design by :func:`~interlace.design.lformula.glformula`, the
   zero-inflation (``ziformula``, with random effects if any) and dispersion
   (``dispformula``) models' matrices on the same rows (a row missing a value in any of the
   three models is dropped);
2. the numerical model (:class:`~interlace.engine.tmb_laplace.TmbData`) and its Laplace
   objective (:class:`~interlace.engine.tmb_laplace.TmbLaplace`) — the objective-only exit
   is :func:`glmmtmb_objective`;
3. the joint optimisation of all outer parameters and the Hessian
   (:func:`~interlace.engine.tmb_optimize.optimize_tmb`);
4. the result (:class:`~interlace.results.glmmtmb_result.GlmmTMBResult`); with
   ``REML=True`` the covariance of the integrated-out ``β`` by TMB's delta method
   (:mod:`interlace.engine.tmb_sdreport`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.api.steps import build_design, column_name
from interlace.design.fixed import fixed_design
from interlace.design.frame import build_model_frame
from interlace.design.lformula import LmerDesign, glformula
from interlace.design.random import random_effects
from interlace.engine.threads import one_blas_thread
from interlace.engine.tmb_covariance import tmb_covariance
from interlace.engine.tmb_laplace import TmbData, TmbLaplace
from interlace.engine.tmb_optimize import TmbOptimum, optimize_tmb
from interlace.engine.tmb_sdreport import inner_covariance
from interlace.errors import (
    ConvergenceWarning,
    InterlaceWarning,
    ResponseDomainError,
    UnsupportedFeatureError,
)
from interlace.families.family import Family
from interlace.families.tmb_family import TmbFamily, tmb_family
from interlace.formula import formula_ir
from interlace.ir.terms import GLMMTMB, FormulaIR
from interlace.results.glmmtmb_result import GlmmTMBResult, SubModel

FloatArray = NDArray[np.float64]
FamilyArg = TmbFamily | Family | str | Callable[[], object]


@dataclass(frozen=True, eq=False)
class GlmmTMBModel:
    """Everything before the optimisation: designs of the three models and the numerical model."""

    design: LmerDesign
    zi: SubModel
    disp: SubModel
    data: TmbData
    fit_messages: tuple[str, ...]
    """Rows dropped for the sub-models' missing values, and lme4's rank-check messages."""


def _submodel_ir(text: str, what: str, data: pd.DataFrame, random: bool) -> FormulaIR:
    """The expanded one-sided ``ziformula``/``dispformula``.

    Raises
    ------
    UnsupportedFeatureError
        Random effects (unless ``random``) or offsets in it.
    """
    ir = formula_ir(text, dialect=GLMMTMB, columns=list(data.columns))
    if ir.random and not random:
        raise UnsupportedFeatureError(
            f"random effects in {what} ({ir.random[0].source}) are not supported by "
            "interlace's glmmTMB",
            term=ir.random[0].source,
        )
    if ir.fixed.offsets:
        raise UnsupportedFeatureError(f"offsets in {what} are not supported", term=text)
    return ir


def _has_columns(ir: FormulaIR) -> bool:
    return bool(ir.fixed.intercept or ir.fixed.terms)


def _complete(
    data: pd.DataFrame, irs: list[FormulaIR], na_action: Any
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """``data`` without the rows that miss a value of a variable of the sub-models.

    Also returns the messages of the rows dropped (warned, as for the conditional model).
    """
    keep = np.ones(len(data), dtype=bool)
    messages: list[str] = []
    for ir in irs:
        if ir.fixed.terms:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frame = build_model_frame(ir, data, na_action=na_action)
            for record in caught:
                warnings.warn(record.message, stacklevel=4)
                messages.append(str(record.message))
            keep &= data.index.isin(frame.row_labels)
    return (data if keep.all() else data[keep]), tuple(messages)


def _submodel(ir: FormulaIR, rows: pd.DataFrame, contrasts: Any) -> tuple[SubModel, FloatArray]:
    """The sub-model's record (with its random effects) and model matrix on ``rows``."""
    if not _has_columns(ir) and not ir.random:
        return SubModel(ir, None, ()), np.zeros((len(rows), 0))
    with warnings.catch_warnings():  # the rows' problems were reported by _complete
        warnings.simplefilter("ignore")
        frame = build_model_frame(ir, rows)
    fixed = fixed_design(ir.fixed, frame, contrasts)
    random = random_effects(ir.random, frame, reorder=False) if ir.random else None
    return SubModel(ir, frame, fixed.colnames, random), np.asarray(fixed.X, dtype=float)


def _response(
    design: LmerDesign, family: TmbFamily, weights: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(y, size, weights)``: successes and trials for the binomial family.

    A binomial ``cbind(s, f)`` gives ``y = s``, ``size = s + f``; a proportion with
    prior weights gives ``y = w p``, ``size = w`` (glmmTMB reads the weights as trials).
    """
    y = np.asarray(design.y, dtype=float)
    n = y.shape[0]
    if family.family != "binomial":
        return y, np.ones(n), weights
    if y.ndim == 2:
        return y[:, 0], y.sum(axis=1), weights
    return y * weights, weights.copy(), np.ones(n)


def glmmtmb_model(
    formula: str,
    data: pd.DataFrame,
    *,
    family: FamilyArg = "gaussian",
    ziformula: str = "~0",
    dispformula: str = "~1",
    REML: bool = False,
    weights: Any = None,
    offset: Any = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["omit", "fail"] = "omit",
) -> GlmmTMBModel:
    """The designs and numerical model of a glmmTMB call, before fitting.

    Parameters are those of :func:`glmmTMB`.

    Raises
    ------
    UnsupportedFeatureError
        A family, link, covariance structure (other than ``us``/``diag``) or sub-model
        feature (random effects, offsets in ``ziformula``/``dispformula``) not provided.
    ResponseDomainError
        Zeros with a zero-truncated family and no zero inflation.
    """
    fam = tmb_family(family)
    zi_ir = _submodel_ir(ziformula, "ziformula", data, random=True)
    disp_ir = _submodel_ir(dispformula, "dispformula", data, random=False)
    if REML and fam.family != "gaussian":
        warnings.warn(
            "REML with a non-gaussian family is an approximation (as in glmmTMB)",
            InterlaceWarning,
            stacklevel=3,
        )
    rows, dropped = _complete(data, [zi_ir, disp_ir], na_action)
    design, rank_msgs = build_design(
        lambda: glformula(
            formula,
            rows,
            weights=weights,
            offset=offset,
            contrasts=contrasts,
            na_action=na_action,
            dialect=GLMMTMB,
        )
    )
    if len(design.row_labels) != len(rows):
        rows = rows[rows.index.isin(design.row_labels)]
    zi, X_zi = _submodel(zi_ir, rows, contrasts)
    if fam.has_dispersion:
        disp, X_d = _submodel(disp_ir, rows, contrasts)
        if not X_d.shape[1]:
            raise UnsupportedFeatureError(
                f"dispformula {dispformula!r} without parameters (fixed dispersion) is not "
                "supported",
                term=dispformula,
            )
    else:
        disp, X_d = SubModel(disp_ir, None, ()), np.zeros((design.n, 0))
    prior = np.ones(design.n) if design.weights is None else np.asarray(design.weights)
    y, size, w = _response(design, fam, prior)
    if fam.log_p0 is not None and not X_zi.shape[1] and np.any(y == 0):
        raise ResponseDomainError(
            f"the response contains zeros: with family {fam.family} zeros are possible only "
            "with zero inflation",
            remedy="add a ziformula (a hurdle model), e.g. ziformula='~1'",
        )
    covs = tuple(tmb_covariance(t.cov, t.source) for t in design.terms)
    zi_terms = () if zi.random is None else zi.random.terms
    offset_values = np.zeros(design.n) if design.offset is None else np.asarray(design.offset)
    tmb = TmbData(
        family=fam,
        y=y,
        size=size,
        weights=w,
        X=np.asarray(design.X, dtype=float),
        X_zi=X_zi,
        X_d=X_d,
        offset=offset_values,
        Zt=sp.csc_matrix(design.Zt),
        terms=design.terms,
        covs=covs,
        REML=REML,
        Zt_zi=None if zi.random is None else sp.csc_matrix(zi.random.Zt),
        terms_zi=zi_terms,
        covs_zi=tuple(tmb_covariance(t.cov, t.source) for t in zi_terms),
    )
    return GlmmTMBModel(design, zi, disp, tmb, dropped + rank_msgs)


def _reml_vcov(objective: TmbLaplace, optimum: TmbOptimum) -> FloatArray:
    """The ``β`` block of the inner covariance (REML: ``β`` is integrated out)."""
    q = objective.data.q + objective.data.q_zi
    return inner_covariance(objective, optimum)[q:, q:]


def glmmtmb_objective(formula: str, data: pd.DataFrame, **kwargs: Any) -> TmbLaplace:
    """The objective-only exit: ``ω ↦ −log L(ω)`` (TMB's ``obj$fn``) for a glmmTMB call.

    ``kwargs`` are those of :func:`glmmTMB`.  The parameter vector is in glmmTMB's order
    (``beta, betazi, betad, theta``; see ``objective.layout``).
    """
    return TmbLaplace(glmmtmb_model(formula, data, **kwargs).data)


@one_blas_thread
def glmmTMB(
    formula: str,
    data: pd.DataFrame,
    *,
    family: FamilyArg = "gaussian",
    ziformula: str = "~0",
    dispformula: str = "~1",
    REML: bool = False,
    weights: Any = None,
    offset: Any = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: Literal["omit", "fail"] = "omit",
    start: NDArray[np.float64] | None = None,
    data_name: str | None = None,
) -> GlmmTMBResult:
    """Fit a model as ``glmmTMB::glmmTMB(formula, data, family, ziformula, dispformula, ...)``.

    Parameters
    ----------
    formula : str
        Conditional model in glmmTMB's dialect: ``(x | g)`` unstructured, ``diag(x | g)``
        or ``(x || g)`` diagonal; ``cbind(s, f)`` responses for the binomial family.
    data : DataFrame
        Never modified.
    family : family object, str or constructor
        ``"gaussian"`` (default), ``"poisson"``, ``"binomial"`` (R family objects from
        :mod:`interlace.families` too) or ``families.nbinom1()``, ``families.nbinom2()``;
        each with its default link.
    ziformula : str
        Zero-inflation model (``"~0"``: none; ``"~1"``, ``"~mined"``, ``"~mined + (1 | site)"``).
    dispformula : str
        Dispersion model on the log scale (``"~1"`` default), fixed effects only.
    REML : bool
        Integrate the conditional fixed effects out as well.
    weights, offset
        Prior weights (binomial: trials for proportions) and an offset of the conditional
        model: a column name or an array.
    contrasts : mapping, optional
    na_action : {"omit", "fail"}
    start : ndarray, optional
        Starting outer parameters in glmmTMB's order (``beta, betazi, betad, theta``).
    data_name : str, optional
        Name of the data shown on the summary's ``Data:`` line.

    Returns
    -------
    GlmmTMBResult

    Raises
    ------
    UnsupportedFeatureError
        A family, link, covariance structure or sub-model feature not provided.
    """
    model = glmmtmb_model(
        formula,
        data,
        family=family,
        ziformula=ziformula,
        dispformula=dispformula,
        REML=REML,
        weights=weights,
        offset=offset,
        contrasts=contrasts,
        na_action=na_action,
    )
    objective = TmbLaplace(model.data)
    optimum = optimize_tmb(objective, start)
    for message in optimum.optinfo.conv.messages:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return GlmmTMBResult(
        design=model.design,
        data=model.data,
        zi=model.zi,
        disp=model.disp,
        optimum=optimum,
        beta_vcov=_reml_vcov(objective, optimum) if REML else None,
        formula=formula,
        ziformula=ziformula,
        dispformula=dispformula,
        data_name=data_name,
        weights_name=column_name(weights),
        offset_name=column_name(offset),
        warnings=model.fit_messages + optimum.optinfo.conv.messages,
    )
