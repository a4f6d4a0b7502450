"""lme4's ``lFormula()`` and ``glFormula()``: the complete design of a mixed model, before fitting.

The pipeline is lme4 1.1-31's: expand the formula (``||`` split, ``/``
nested), evaluate every variable on one model frame (rows with a missing value
anywhere dropped, unused levels dropped), build the random-effects terms and
reorder them by number of levels (:mod:`interlace.design.random`), run the
grouping-factor checks (``checkNlevels``, ``checkZdims``, ``checkZrank``;
:mod:`interlace.design.checks`), then the fixed-effects matrix of the
``nobars`` formula with lme4's rank rule (``chkRank.drop.cols``) and scale
check (``checkScaleX``).

The model these pieces describe (Bates et al. 2015, JSS 67(1), eqs. 2-4) is

    y = X beta + Z b + e,   b = Lambda(theta) u,   u ~ N(0, sigma^2 I_q),   e ~ N(0, sigma^2 W^-1)

with ``Lambda(theta)`` filled as ``Lambdat.data = theta[Lind]``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ParamSpec, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.design.checks import (
    CheckControl,
    check_nlevels,
    check_rank,
    check_scale,
    check_zdims,
    check_zrank,
)
from interlace.design.evaluate import Column, FactorColumn, NumericColumn
from interlace.design.fixed import fixed_design
from interlace.design.frame import (
    WEIGHTS_LABEL,
    DropSummary,
    ModelFrame,
    NaAction,
    build_model_frame,
)
from interlace.design.random import RandomEffects, ReTerm, random_effects
from interlace.errors import ResponseTypeError, WeightsError
from interlace.formula import formula_ir
from interlace.ir.terms import LME4, Dialect, FormulaIR

FloatArray = NDArray[np.float64]
P = ParamSpec("P")


@overload
def _frozen(array: FloatArray) -> FloatArray: ...


@overload
def _frozen(array: None) -> None: ...


def _frozen(array: FloatArray | None) -> FloatArray | None:
    """A read-only copy of ``array`` (``None`` stays ``None``)."""
    if array is None:
        return None
    out = np.array(array, dtype=np.float64, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class LmerDesign:
    """The design of a linear mixed model: what lme4's ``lFormula()`` returns.

    All arrays are read-only.  Row-aligned arrays follow the rows kept by the
    model frame (``row_labels``).

    Attributes and their lme4 names
    -------------------------------
    ==================  =====================================  ==============================
    attribute           lme4                                   notes
    ==================  =====================================  ==============================
    ``formula``         ``lf$formula``                         the expanded :class:`FormulaIR`
    ``n``               ``nrow(lf$fr)``, ``getME(, "n")``
    ``row_labels``      ``rownames(lf$fr)``                    the caller's index labels
    ``dropped``         ``attr(lf$fr, "na.action")``           rows removed, by column
    ``y``               ``model.response(lf$fr)``, ``"y"``
    ``X``               ``lf$X``, ``getME(, "X")``             after the rank check
    ``X_names``         ``colnames(lf$X)``
    ``X_dropped``       ``attr(lf$X, "col.dropped")``          names of aliased columns
    ``X_scale``         ``attr(lf$X, "scaled:scale")``         column -> SD divided by
    ``random``          ``lf$reTrms``                          :class:`RandomEffects`
    ``Zt``              ``reTrms$Zt``, ``"Zt"``                ``q x n`` CSC
    ``Lambdat``         ``reTrms$Lambdat``, ``"Lambdat"``      ``q x q`` CSC at ``theta``
    ``Lind``            ``reTrms$Lind``, ``"Lind"``            **0-based** (lme4's minus 1)
    ``theta``           ``reTrms$theta``, ``"theta"``          starting values
    ``lower``           ``reTrms$lower``, ``"lower"``
    ``cnms``            ``reTrms$cnms``, ``"cnms"``            (group, names) pairs
    ``flist``           ``reTrms$flist``, ``"flist"``          DataFrame of Categoricals
    ``Gp``              ``reTrms$Gp``, ``"Gp"``
    ``terms``           (``reTrms$Ztlist`` and friends)        :class:`ReTerm` per term
    ``weights``         ``model.weights(lf$fr)``               ``None`` when not given
    ``offset``          ``model.offset(lf$fr)``                ``None`` when absent
    ``REML``            ``lf$REML``
    ``messages``        ``lf$wmsgs``                           checks that warned or logged
    ``warnings``        (R's warnings during ``lFormula``)     every warning issued, in order
    ``frame``           ``lf$fr``                              the :class:`ModelFrame`
    ``contrasts``       ``attr(lf$X, "contrasts")`` argument   the ``contrasts`` argument given
    ==================  =====================================  ==============================
    """

    formula: FormulaIR
    n: int
    row_labels: pd.Index
    dropped: DropSummary
    y: FloatArray
    X: FloatArray
    X_names: tuple[str, ...]
    X_dropped: tuple[str, ...]
    X_scale: Mapping[str, float]
    random: RandomEffects
    weights: FloatArray | None
    offset: FloatArray | None
    REML: bool
    messages: tuple[str, ...] = ()
    warnings: tuple[Warning, ...] = ()
    frame: ModelFrame | None = None
    contrasts: Any = None

    @property
    def Zt(self) -> sp.csc_matrix:
        """Transposed random-effects model matrix (``q x n``)."""
        return self.random.Zt

    @property
    def Lambdat(self) -> sp.csc_matrix:
        """Transposed relative covariance factor at ``theta`` (``q x q``)."""
        return self.random.Lambdat

    @property
    def Lind(self) -> NDArray[np.intp]:
        """0-based index into ``theta`` of each stored entry of ``Lambdat``."""
        return self.random.Lind

    @property
    def theta(self) -> FloatArray:
        """Starting values of the covariance parameters."""
        return self.random.theta

    @property
    def lower(self) -> FloatArray:
        """Lower bounds of ``theta``."""
        return self.random.lower

    @property
    def cnms(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(grouping factor, column names) per term, in lme4's order."""
        return self.random.cnms

    @property
    def flist(self) -> pd.DataFrame:
        """The distinct grouping factors."""
        return self.random.flist

    @property
    def Gp(self) -> NDArray[np.int64]:
        """Term offsets into the random effects."""
        return self.random.Gp

    @property
    def terms(self) -> tuple[ReTerm, ...]:
        """The random-effect terms in lme4's order."""
        return self.random.terms

    @property
    def p(self) -> int:
        """Number of fixed-effect columns."""
        return int(self.X.shape[1])

    @property
    def q(self) -> int:
        """Number of random effects."""
        return self.random.q

    def get(self, name: str) -> Any:
        """lme4's ``getME(fit, name)`` for the design-time names.

        Parameters
        ----------
        name
            One of ``"X"``, ``"Z"``, ``"Zt"``, ``"Lambdat"``, ``"Lambda"``,
            ``"Lind"``, ``"theta"``, ``"lower"``, ``"cnms"``, ``"flist"``,
            ``"Gp"``, ``"n"``, ``"p"``, ``"q"``, ``"y"``, ``"weights"``,
            ``"offset"``, ``"REML"``.  ``"Lind"`` is 0-based.

        Raises
        ------
        ValueError
            An unknown name; the message lists the known ones.
        """
        getters: dict[str, Any] = {
            "X": lambda: self.X,
            "Z": lambda: self.Zt.T.tocsc(),
            "Zt": lambda: self.Zt,
            "Lambdat": lambda: self.Lambdat,
            "Lambda": lambda: self.Lambdat.T.tocsc(),
            "Lind": lambda: self.Lind,
            "theta": lambda: self.theta,
            "lower": lambda: self.lower,
            "cnms": lambda: self.cnms,
            "flist": lambda: self.flist,
            "Gp": lambda: self.Gp,
            "n": lambda: self.n,
            "p": lambda: self.p,
            "q": lambda: self.q,
            "y": lambda: self.y,
            "weights": lambda: self.weights,
            "offset": lambda: self.offset,
            "REML": lambda: self.REML,
        }
        getter = getters.get(name)
        if getter is None:
            raise ValueError(f"unknown getME name {name!r}; known names: {', '.join(getters)}")
        return getter()


def _refuse_zero_weights(frame: ModelFrame) -> None:
    """A linear mixed model's criterion has ``−Σ log w_i``: infinite for a zero prior weight.

    lme4 evaluates it as ``Inf`` at every θ, so its optimiser stays at the
    starting values and it returns them as the fit, with no message.
    """
    if frame.weights is None or not (frame.weights == 0).any():
        return
    rows = list(frame.row_labels[frame.weights == 0])
    raise WeightsError(
        f"{len(rows)} rows have zero prior weight (rows {rows[:10]}): the REML criterion and "
        "log-likelihood of a linear mixed model are then infinite (lme4 returns its starting "
        "values as the fit)",
        column=WEIGHTS_LABEL,
        rows=rows,
        remedy="drop the zero-weight rows, e.g. data[data['w'] > 0] (R: subset = w > 0)",
    )


def _response(column: Column | None, label: str, *, glmm: bool) -> FloatArray:
    """The response as floats, as lme4's ``mkRespMod`` reads it.

    A logical response becomes 0/1 (lme4 coerces it silently).  ``lmer``
    needs one numeric column (``"response must be numeric"``); ``glmer`` also
    takes a two-column ``cbind(successes, failures)`` (an ``n x 2`` array) and a
    factor, read as binomial R families read it: 0 for the first level, 1 for
    any other.
    """
    if isinstance(column, NumericColumn) and (column.ncol == 1 or glmm):
        return column.values[:, 0] if column.ncol == 1 else column.values
    if isinstance(column, FactorColumn) and (column.kind == "logical" or glmm):
        return (column.codes > 0).astype(np.float64)
    raise ResponseTypeError(
        f"response must be numeric: {label} is not a single numeric column",
        column=label,
        remedy="use a numeric response; for counts or categories use glmer or clmm",
    )


def _keeping_warnings(build: Callable[P, LmerDesign]) -> Callable[P, LmerDesign]:
    """``build``, its warnings passed on to the caller and also kept on the design."""

    @functools.wraps(build)
    def recorded(*args: P.args, **kwargs: P.kwargs) -> LmerDesign:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            design = build(*args, **kwargs)
        for record in caught:
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
        return replace(design, warnings=tuple(_as_warning(r) for r in caught))

    return recorded


def _as_warning(record: warnings.WarningMessage) -> Warning:
    """The warning instance of a recorded warning."""
    message = record.message
    return message if isinstance(message, Warning) else record.category(str(message))


@_keeping_warnings
def _design(
    formula: str,
    data: pd.DataFrame,
    weights: str | Any | None,
    offset: str | Any | None,
    contrasts: Any,
    na_action: NaAction,
    control: CheckControl | Mapping[str, str] | None,
    *,
    glmm: bool,
    REML: bool,
    dialect: Dialect = LME4,
) -> LmerDesign:
    """The pipeline of ``lFormula`` (``glmm=False``) and ``glFormula`` (``glmm=True``).

    Parse, build the frame, the random and the fixed design, and run the checks.
    """
    checks = control if isinstance(control, CheckControl) else CheckControl.from_mapping(control)
    ir = formula_ir(formula, dialect=dialect, columns=list(data.columns))
    if ir.response is None:
        raise ResponseTypeError(
            f"formula {formula!r} has no response", remedy="write the response left of '~'"
        )
    frame = build_model_frame(ir, data, weights=weights, offset=offset, na_action=na_action)
    if not glmm:
        _refuse_zero_weights(frame)
    random = random_effects(ir.random, frame, reorder=ir.dialect.reorder_re_terms)
    n_levels = {str(name): len(random.flist[name].cat.categories) for name in random.flist}
    messages = check_nlevels(n_levels, frame.n, checks, allow_n=glmm)
    sizes = [(t.source, t.q) for t in random.terms]
    messages += check_zdims(sizes, frame.n, checks, allow_n=glmm)
    messages += check_zrank(random.Zt, frame.n, checks, allow_n=glmm)
    full = fixed_design(ir.fixed, frame, contrasts)
    fixed, x_scale = check_scale(check_rank(full, checks.rankX), checks.scaleX)
    y = _response(frame.response, ir.response.label, glmm=glmm)
    return LmerDesign(
        formula=ir,
        n=frame.n,
        row_labels=frame.row_labels,
        dropped=frame.dropped,
        y=_frozen(y),
        X=_frozen(fixed.X),
        X_names=fixed.colnames,
        X_dropped=tuple(name for name in full.colnames if name not in fixed.colnames),
        X_scale=x_scale,
        random=random,
        weights=_frozen(frame.weights),
        offset=_frozen(frame.offset),
        REML=REML,
        messages=tuple(messages),
        frame=frame,
        contrasts=contrasts,
    )


def lformula(
    formula: str,
    data: pd.DataFrame,
    *,
    REML: bool = True,
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    contrasts: Any = None,
    na_action: NaAction = "omit",
    control: CheckControl | Mapping[str, str] | None = None,
) -> LmerDesign:
    """Build the design of a linear mixed model, as lme4's ``lFormula()`` does.

    Parameters
    ----------
    formula
        An lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``.
    data
        The data; never modified.
    REML
        Recorded for the fit (the design does not depend on it).
    weights, offset
        Column names or arrays of prior weights and an offset.
    contrasts
        Contrasts of the fixed part (``model.matrix``'s ``contrasts.arg``);
        the random terms use the default contrasts, as in lme4.
    na_action
        ``"omit"`` (drop incomplete rows with a warning) or ``"fail"``.
    control
        lme4's check controls: a :class:`~interlace.design.checks.CheckControl`
        or a mapping such as ``{"check.nlev.gtreq.5": "warning"}``.

    Returns
    -------
    LmerDesign

    Raises
    ------
    FormulaError
        The formula has no random-effect term, or is otherwise invalid.
    ResponseTypeError
        The response is not one numeric (or logical) column.
    GroupingError, IdentifiabilityError
        A check control set to raise failed.
    """
    return _design(
        formula, data, weights, offset, contrasts, na_action, control, glmm=False, REML=REML
    )


def glformula(
    formula: str,
    data: pd.DataFrame,
    *,
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    contrasts: Any = None,
    na_action: NaAction = "omit",
    control: CheckControl | Mapping[str, str] | None = None,
    dialect: Dialect = LME4,
) -> LmerDesign:
    """The design of a generalized linear mixed model, as lme4's ``glFormula()`` builds it.

    The same as :func:`lformula` except that the grouping checks allow as many
    levels (and random effects per term) as observations (lme4's
    ``allow.n = TRUE``; there is no residual variance to confound), the
    response may be ``cbind(successes, failures)`` (``y`` is then ``n x 2``) or
    a factor (0 for its first level, 1 otherwise), and ``REML`` is ``False``.
    The family is not part of the design.

    Parameters
    ----------
    formula, data, weights, offset, contrasts, na_action, control
        As for :func:`lformula`.
    dialect
        The formula dialect (:data:`~interlace.ir.terms.GLMMTMB` for glmmTMB: ``||`` means
        ``diag()`` and the random terms keep their formula order).
    """
    return _design(
        formula,
        data,
        weights,
        offset,
        contrasts,
        na_action,
        control,
        glmm=True,
        REML=False,
        dialect=dialect,
    )
