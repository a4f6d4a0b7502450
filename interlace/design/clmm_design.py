"""The design of a cumulative link mixed model, as ``ordinal::clmm`` builds it before fitting.

``clmm``'s stages (``clmm.formulae``, ``clmm.frames``, ``drop.coef``,
``makeThresholds``, ``getREterms``) on interlace's formula IR and model frame:

1. one model frame over every variable, unused levels dropped (R's
   ``drop.unused.levels = TRUE``) and rows with zero weight removed (as
   ``clm.newRho`` and ``getREterms`` do);
2. the response must be a factor; its levels, in order, are the categories
   (levels no row uses are dropped, with a warning);
3. ``X`` is ``model.matrix`` of the fixed part *with* an intercept (added, with
   a warning, when the formula removes it), so factors get treatment contrasts
   as in a model with an intercept; aliased columns are dropped by R's pivoted
   QR (``drop.coef``: LINPACK ``dqrdc2``, tolerance 1e-7, the first ``rank``
   pivot columns kept — lme4's rule too) with ordinal's message "design is
   column rank deficient so dropping N coef" (a
   :class:`~interlace.errors.RankDeficiencyWarning` that also names the
   columns); then the intercept column is removed, because the thresholds
   take its place;
4. the random-effect terms are ordered by decreasing number of levels when the
   numbers differ, with ``ordinal``'s tie rule (``rev(order(nlev))``: among
   terms with equal numbers, the later one first); every grouping factor needs
   at least three levels.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.evaluate import FactorColumn, evaluate
from interlace.design.fixed import INTERCEPT, FixedDesign, fixed_design
from interlace.design.frame import (
    DropSummary,
    ModelFrame,
    NaAction,
    argument_vector,
    build_model_frame,
)
from interlace.design.random import RandomEffects, assemble, decreasing_levels, re_term
from interlace.design.rank import rank_check
from interlace.design.thresholds import Thresholds, make_thresholds
from interlace.errors import (
    GroupingError,
    InterlaceWarning,
    LevelsDroppedWarning,
    RankDeficiencyWarning,
    ResponseTypeError,
)
from interlace.formula import formula_ir
from interlace.ir.terms import ORDINAL, FormulaIR

FloatArray = NDArray[np.float64]

#: ``ordinal``'s ``getREterms`` requires more than this many levels per grouping factor.
MIN_GROUP_LEVELS = 3


@dataclass(frozen=True, eq=False)
class ClmmDesign:
    """Everything ``clmm`` fits, before any parameter is chosen.

    Attributes
    ----------
    formula : FormulaIR
    y : ndarray of int
        0-based category of each row kept.
    y_levels : tuple of str
        The categories in order (``fit$y.levels``).
    thresholds : Thresholds
        The threshold structure on ``y_levels``.
    X : ndarray, shape (n, p)
        Fixed effects without the intercept column.
    X_names : tuple of str
        ``names(fit$beta)``.
    random : RandomEffects
        The random-effect terms in ``ordinal``'s order.
    weights : ndarray
        Prior weights (ones when not given).
    offset : ndarray
        Offset (zeros when not given).
    row_labels : pandas.Index
    dropped : DropSummary
    frame : ModelFrame
    contrasts : mapping or None
        The ``contrasts`` argument (for designs of new data).
    """

    formula: FormulaIR
    y: NDArray[np.intp]
    y_levels: tuple[str, ...]
    thresholds: Thresholds
    X: FloatArray
    X_names: tuple[str, ...]
    random: RandomEffects
    weights: FloatArray
    offset: FloatArray
    row_labels: pd.Index
    dropped: DropSummary
    frame: ModelFrame
    contrasts: Mapping[str, Any] | None = None

    @property
    def n(self) -> int:
        """Number of rows used."""
        return int(self.y.shape[0])

    @property
    def single_scalar(self) -> bool:
        """One random term with a single column (``ordinal``'s ``ssr`` case)."""
        terms = self.random.terms
        return len(terms) == 1 and terms[0].k == 1


def ordinal_term_order(n_levels: Sequence[int]) -> list[int]:
    """``getREterms``' order of random terms: ``rev(order(nlev))`` when the numbers differ.

    ordinal tests ``any(diff(nlev)) > 0`` (the parenthesis sits after ``diff``), so it
    reorders whenever two terms differ in levels, unlike lme4's ``any(diff(nl) > 0)``
    (:func:`~interlace.design.random.lme4_term_order`).
    """
    if len(set(n_levels)) <= 1:
        return list(range(len(n_levels)))
    return decreasing_levels(n_levels)


def _response(
    frame: ModelFrame, ir: FormulaIR, data: pd.DataFrame
) -> tuple[NDArray[np.intp], tuple[str, ...]]:
    """The response's 0-based categories and levels; unused levels dropped with a warning."""
    assert ir.response is not None
    label = ir.response.label
    column = frame.response
    if not isinstance(column, FactorColumn) or column.kind != "factor":
        raise ResponseTypeError(
            f"response needs to be a factor: {label!r} has no declared order of categories",
            column=label,
            remedy=(
                f"make it an ordered Categorical, e.g. data[{label!r}] = pd.Categorical("
                f"data[{label!r}], categories=[...lowest to highest...], ordered=True)"
            ),
        )
    full, _ = evaluate(ir.response.expr, data)
    assert isinstance(full, FactorColumn)
    unused = [lv for lv in full.levels if lv not in column.levels]
    if unused:
        warnings.warn(
            f"response {label!r}: unused categories dropped: {', '.join(unused)}",
            LevelsDroppedWarning,
            stacklevel=3,
        )
    return np.asarray(column.codes, dtype=np.intp), column.levels


def _fixed(ir: FormulaIR, frame: ModelFrame, contrasts: Any) -> FixedDesign:
    """``getX`` then ``drop.coef``: X with an intercept, aliased columns dropped."""
    full = fixed_design(ir.fixed, frame, contrasts)
    if INTERCEPT not in full.colnames:
        warnings.warn("an intercept is needed and assumed", InterlaceWarning, stacklevel=3)
        full = FixedDesign(
            np.column_stack([np.ones(frame.n), full.X]),
            (INTERCEPT, *full.colnames),
            (0, *full.assign),
            full.term_labels,
            full.contrasts,
        )
    check = rank_check(full.X, full.colnames)
    if not check.dropped:
        return full
    warnings.warn(
        f"design is column rank deficient so dropping {len(check.dropped)} coef: "
        f"{', '.join(check.dropped)}",
        RankDeficiencyWarning,
        stacklevel=3,
    )
    return FixedDesign(
        full.X[:, check.keep],
        tuple(full.colnames[j] for j in check.keep),
        tuple(full.assign[j] for j in check.keep),
        full.term_labels,
        full.contrasts,
    )


def _random(ir: FormulaIR, frame: ModelFrame) -> RandomEffects:
    terms = [re_term(t, frame) for t in ir.random]
    few = [t.group for t in terms if t.n_levels < MIN_GROUP_LEVELS]
    if few:
        raise GroupingError(
            f"grouping factor(s) {', '.join(few)} have fewer than {MIN_GROUP_LEVELS} levels: "
            "ordinal::clmm requires more than two levels per grouping factor",
            column=few[0],
            remedy="model a factor with two levels as a fixed effect",
        )
    order = ordinal_term_order([t.n_levels for t in terms])
    return assemble([terms[i] for i in order], frame.n, reorder=False, index=frame.row_labels)


def clmm_design(
    formula: str,
    data: pd.DataFrame,
    *,
    threshold: str = "flexible",
    weights: str | Any | None = None,
    contrasts: Mapping[str, Any] | None = None,
    na_action: NaAction = "omit",
) -> ClmmDesign:
    """Build the design of ``ordinal::clmm(formula, data, ...)``.

    Parameters
    ----------
    formula
        ``"rating ~ temp + contact + (1 | judge)"``; at least one random term.
    data
        Never modified.
    threshold
        ``"flexible"``, ``"symmetric"``, ``"symmetric2"`` or ``"equidistant"``.
    weights
        A column name or an array of prior weights; rows with weight 0 are not used.
    contrasts
        Contrasts of the fixed part.
    na_action
        ``"omit"`` or ``"fail"``.

    Raises
    ------
    ResponseTypeError
        The response is not a factor (numeric, text or logical).
    GroupingError
        A grouping factor with fewer than three levels.
    FormulaError
        No random-effect term.
    """
    ir = formula_ir(formula, dialect=ORDINAL, columns=list(data.columns))
    if ir.response is None:
        raise ResponseTypeError(
            f"formula {formula!r} has no response", remedy="write the response left of '~'"
        )
    w = None if weights is None else argument_vector(weights, data, "weights")
    if w is not None and np.any(w == 0):
        keep = w != 0
        data, w = data.loc[keep], w[keep]
    frame = build_model_frame(ir, data, weights=w, na_action=na_action)
    y, levels = _response(frame, ir, data)
    fixed = _fixed(ir, frame, contrasts)
    keep_cols = [j for j, name in enumerate(fixed.colnames) if name != INTERCEPT]
    n = frame.n
    return ClmmDesign(
        formula=ir,
        y=y,
        y_levels=levels,
        thresholds=make_thresholds(levels, threshold),
        X=np.ascontiguousarray(fixed.X[:, keep_cols]),
        X_names=tuple(fixed.colnames[j] for j in keep_cols),
        random=_random(ir, frame),
        weights=np.ones(n) if frame.weights is None else frame.weights,
        offset=np.zeros(n) if frame.offset is None else frame.offset,
        row_labels=frame.row_labels,
        dropped=frame.dropped,
        frame=frame,
        contrasts=contrasts,
    )
