"""The design of a coxme model: survival response, strata, fixed and random parts.

As coxme 2.2-22 builds it: the response is ``Surv(time, status)`` or
``Surv(start, stop, status)``; ``strata(...)`` terms of the fixed part define strata and
leave the model matrix; ``X = model.matrix(...)[, -1]`` (an intercept is forced, then
dropped, so factors get treatment contrasts as with an intercept); random terms are
``(1 | g)``, ``(1 + x | g)`` or ``(x | g)`` (no implicit intercept), with levels in coxme's
order (:mod:`interlace.cox.variance`).

Unlike R, a status that is not 0/1 (or logical) is refused: ``Surv`` would silently read
1/2 as censored/event and 0/1/2 as a multi-state outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.cox.risksets import RiskSets, risk_sets
from interlace.cox.variance import CoxmeTerm, RandomLayout, coxme_level_order, random_layout
from interlace.design.evaluate import FactorColumn, NumericColumn
from interlace.design.fixed import fixed_design
from interlace.design.frame import ModelFrame, build_model_frame
from interlace.design.grouping import grouping_factor
from interlace.errors import (
    FormulaError,
    GroupingError,
    ResponseDomainError,
    ResponseTypeError,
    WeightsError,
)
from interlace.formula import ast as fast
from interlace.formula import formula_ir
from interlace.ir.terms import COXME, FormulaIR, RandomTerm, Term, TermList

FloatArray = NDArray[np.float64]

_ROWS_SHOWN = 10


@dataclass(frozen=True, eq=False)
class CoxmeDesign:
    """Everything the fit needs, on the rows kept.

    Attributes
    ----------
    formula : FormulaIR
    n : int
        Rows kept.
    row_labels : pandas.Index
    start : ndarray or None
        Entry times (counting-process data only).
    stop, status : ndarray
    strata : ndarray of int or None
    strata_levels : tuple of str
    X : ndarray
        Fixed-effects matrix without intercept.
    X_names : tuple of str
    layout : RandomLayout
    offset, weights : ndarray
    risk : RiskSets
    """

    formula: FormulaIR
    n: int
    row_labels: pd.Index
    start: FloatArray | None
    stop: FloatArray
    status: FloatArray
    strata: NDArray[np.intp] | None
    strata_levels: tuple[str, ...]
    X: FloatArray
    X_names: tuple[str, ...]
    layout: RandomLayout
    offset: FloatArray
    weights: FloatArray
    risk: RiskSets

    @property
    def n_events(self) -> int:
        """Number of events (coxme's ``n[1]`` and ``nobs``)."""
        return int(self.status.sum())


def _is_strata(term: Term) -> bool:
    return any(isinstance(v.expr, fast.Call) and v.expr.func == "strata" for v in term.variables)


def _split_strata(fixed: TermList) -> tuple[TermList, list[Term]]:
    """The fixed terms without ``strata()``, and the ``strata()`` terms."""
    strata = [t for t in fixed.terms if _is_strata(t)]
    for term in strata:
        if len(term.variables) > 1:
            raise FormulaError(
                f"strata() may not interact with other terms: {term.label}",
                term=term.label,
                remedy="write strata(a, b) for combined strata",
            )
    kept = tuple(t for t in fixed.terms if not _is_strata(t))
    variables = tuple(v for t in kept for v in t.variables)
    return replace(fixed, intercept=True, terms=kept, variables=variables), strata


def _rows(row_labels: pd.Index, mask: NDArray[np.bool_]) -> list[object]:
    return list(row_labels[np.flatnonzero(mask)[:_ROWS_SHOWN]])


def _survival(frame: ModelFrame, label: str) -> tuple[FloatArray | None, FloatArray, FloatArray]:
    """``(start, stop, status)`` from the ``Surv(...)`` response, validated."""
    column = frame.response
    if not isinstance(column, NumericColumn) or (column.colnames or ("",))[-1] != "status":
        raise ResponseTypeError(
            f"coxme needs a Surv() response, not {label}",
            column=label,
            remedy="write Surv(time, status) ~ ... or Surv(start, stop, status) ~ ...",
        )
    values = column.values
    status = values[:, -1]
    bad = ~np.isin(status, (0.0, 1.0))
    if bad.any():
        raise ResponseDomainError(
            f"the status of {label} must be 0/1 or logical; found "
            f"{sorted(set(status[bad].tolist()))[:5]}",
            column=label,
            rows=_rows(frame.row_labels, bad),
            remedy="recode the status, e.g. Surv(time, status == 2) for 1/2 coding "
            "(R's Surv() would recode silently)",
        )
    start = values[:, 0] if values.shape[1] == 3 else None
    stop = values[:, -2]
    if start is not None and np.any(start >= stop):
        bad = start >= stop
        raise ResponseDomainError(
            f"{label}: the start time must be before the stop time",
            column=label,
            rows=_rows(frame.row_labels, bad),
        )
    if not status.any():
        raise ResponseDomainError(f"{label} has no events", column=label)
    return start, stop, status


def _strata_codes(
    frame: ModelFrame, strata: Sequence[Term]
) -> tuple[NDArray[np.intp] | None, tuple[str, ...]]:
    if not strata:
        return None, ()
    if len(strata) > 1:
        raise FormulaError("more than one strata() term", remedy="combine them: strata(a, b)")
    column = frame.column(strata[0].variables[0])
    if not isinstance(column, FactorColumn):  # strata() always evaluates to a factor
        raise FormulaError(f"{strata[0].label} is not a factor", term=strata[0].label)
    return column.codes.astype(np.intp), tuple(column.levels)


def _random_term(term: RandomTerm, frame: ModelFrame) -> CoxmeTerm:
    group = grouping_factor(term.group, frame, label=term.group_label)
    if group.n_levels < 2:
        raise GroupingError(
            f"the grouping factor {group.label} of ({term.source}) has a single level",
            term=term.source,
            remedy="a random effect needs at least two groups",
        )
    lhs = fixed_design(term.lhs, frame)
    intercept = "(Intercept)" in lhs.colnames
    slope_cols = [j for j, name in enumerate(lhs.colnames) if name != "(Intercept)"]
    if int(intercept) + len(slope_cols) > 2 or (not intercept and len(slope_cols) != 1):
        raise FormulaError(
            f"({term.source}): only (1 | g), (1 + x | g) and (x | g) with one numeric x "
            "are supported",
            term=term.source,
        )
    refs = np.asarray(group.refs, dtype=np.intp)
    order, n_sparse = coxme_level_order(refs, group.n_levels)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return CoxmeTerm(
        group=group.label,
        levels=tuple(group.levels[i] for i in order),
        refs=position[refs],
        intercept=intercept,
        slopes=np.asarray(lhs.X[:, slope_cols], dtype=np.float64),
        slope_names=tuple(lhs.colnames[j] for j in slope_cols),
        n_sparse=n_sparse,
    )


def coxme_design(
    formula: str,
    data: pd.DataFrame,
    *,
    weights: str | Any | None = None,
) -> CoxmeDesign:
    """Build the design of ``coxme(formula, data, weights)``.

    Raises
    ------
    ResponseTypeError
        The response is not ``Surv(...)``.
    ResponseDomainError
        A status other than 0/1, ``start >= stop``, or no events.
    GroupingError
        A grouping factor with a single level.
    WeightsError
        A weight that is not positive.
    FormulaError
        No random term, or an unsupported term.
    """
    ir = formula_ir(formula, dialect=COXME, columns=list(data.columns))
    if ir.response is None:
        raise ResponseTypeError(
            f"formula {formula!r} has no response", remedy="write Surv(time, status) ~ ..."
        )
    frame = build_model_frame(ir, data, weights=weights)
    start, stop, status = _survival(frame, ir.response.label)
    fixed, strata_terms = _split_strata(ir.fixed)
    strata, strata_levels = _strata_codes(frame, strata_terms)
    full = fixed_design(fixed, frame)
    keep = [j for j, name in enumerate(full.colnames) if name != "(Intercept)"]
    X = np.ascontiguousarray(full.X[:, keep], dtype=np.float64)
    w = np.ones(frame.n) if frame.weights is None else np.asarray(frame.weights, dtype=float)
    if np.any(w <= 0):
        raise WeightsError("coxme weights must be positive", rows=_rows(frame.row_labels, w <= 0))
    terms = [_random_term(t, frame) for t in ir.random]
    offset = np.zeros(frame.n) if frame.offset is None else np.asarray(frame.offset, dtype=float)
    return CoxmeDesign(
        formula=ir,
        n=frame.n,
        row_labels=frame.row_labels,
        start=start,
        stop=stop,
        status=status,
        strata=strata,
        strata_levels=strata_levels,
        X=X,
        X_names=tuple(full.colnames[j] for j in keep),
        layout=random_layout(terms, frame.n),
        offset=offset,
        weights=w,
        risk=risk_sets(start, stop, status, strata, w),
    )
