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
from interlace.cox.variance import (
    SPARSE,
    CoxmeTerm,
    RandomLayout,
    coxme_level_order,
    random_layout,
)
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
from interlace.ir.terms import COXME, FormulaIR, RandomTerm, Term, TermList, Variable

FloatArray = NDArray[np.float64]

_ROWS_SHOWN = 10


@dataclass(frozen=True, eq=False)
class CoxmeDesign:
    """Everything the fit needs, on the rows kept.

    Attributes
    ----------
    formula : FormulaIR
    fixed_formula : FormulaIR
        The formula without ``strata()`` terms and with the intercept coxme forces: the
        fixed part evaluated on new data.
    frame : ModelFrame
        The model frame (levels, contrasts and transform states for new data).
    strata_variable : Variable or None
        The ``strata(...)`` variable.
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
    fixed_formula: FormulaIR
    frame: ModelFrame
    strata_variable: Variable | None
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
            f"{label}: the start time must be before the stop time; {int(bad.sum())} row(s) "
            "have start >= stop",
            column=label,
            rows=_rows(frame.row_labels, bad),
            remedy="drop or correct those rows: a counting-process interval (start, stop] "
            "must not be empty",
        )
    if not status.any():
        raise ResponseDomainError(
            f"{label} has no events: every status is 0 (censored)",
            column=label,
            remedy="a Cox model needs at least one event; check the status coding",
        )
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


@dataclass(frozen=True, eq=False)
class _Grouping:
    """A grouping factor with coxme's name and labels, and the formula layer's labels."""

    name: str
    levels: tuple[str, ...]
    refs: NDArray[np.intp]
    source_levels: tuple[str, ...]


def _nested_spans(terms: Sequence[RandomTerm]) -> set[object]:
    """Spans shared by several random terms: the parts of one nested term ``(1 | a/b)``."""
    spans = [t.span for t in terms]
    return {span for span in spans if spans.count(span) > 1}


def _grouping(term: RandomTerm, frame: ModelFrame, nested: bool) -> _Grouping:
    """The grouping factor of ``term``; a part of a nested term named and labelled as coxme does.

    coxme (``expand.nested``) names the parts of ``(1 | a/b)`` ``"a/b"`` and ``"a"`` and labels
    a level of ``a/b`` ``"<a>/<b>"``, ordered by ``a``'s levels, then ``b``'s (survival's
    ``strata(a, b, shortlabel = TRUE, sep = "/")``).
    """
    factor = grouping_factor(term.group, frame, label=term.group_label)
    refs = np.asarray(factor.refs, dtype=np.intp)
    if not nested or len(term.group) == 1:
        return _Grouping(factor.label, factor.levels, refs, factor.levels)
    variables = term.group[::-1]
    parts = [grouping_factor((v,), frame, label=v.label) for v in variables]
    codes = np.column_stack([np.asarray(part.refs) for part in parts])
    combos, inverse = np.unique(codes, axis=0, return_inverse=True)
    levels = tuple(
        "/".join(part.levels[c] for part, c in zip(parts, combo, strict=True)) for combo in combos
    )
    inverse = np.asarray(inverse, dtype=np.intp).reshape(-1)
    source = np.empty(len(combos), dtype=object)
    source[inverse] = np.asarray(factor.levels, dtype=object)[refs]
    name = "/".join(v.label for v in variables)
    return _Grouping(name, levels, inverse, tuple(str(label) for label in source))


def _random_term(term: RandomTerm, frame: ModelFrame, role: str) -> CoxmeTerm:
    """One coxme term; ``role`` is ``"single"``, or ``"inner"``/``"outer"`` for a nested part.

    coxme moves sparse levels first for a single grouping factor with at least ``sparse[0]``
    levels, for the innermost part of a nested term with more than ``sparse[0]``, and never
    for the outer parts.
    """
    group = _grouping(term, frame, nested=role != "single")
    if len(group.levels) < 2:
        raise GroupingError(
            f"the grouping factor {group.name} of ({term.source}) has a single level",
            term=term.source,
            column=group.name,
            remedy="a random effect needs at least two groups; drop the term or use a "
            "grouping variable that varies",
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
    n_levels = len(group.levels)
    if role == "outer":
        order, n_sparse = np.arange(n_levels, dtype=np.intp), 0
    else:
        sparse = SPARSE if role == "single" else (SPARSE[0] + 1, SPARSE[1])
        order, n_sparse = coxme_level_order(group.refs, n_levels, sparse)
    position = np.empty_like(order)
    position[order] = np.arange(order.size)
    return CoxmeTerm(
        group=group.name,
        levels=tuple(group.levels[i] for i in order),
        refs=position[group.refs],
        intercept=intercept,
        slopes=np.asarray(lhs.X[:, slope_cols], dtype=np.float64),
        slope_names=tuple(lhs.colnames[j] for j in slope_cols),
        n_sparse=n_sparse,
        source_group=term.group_label,
        source_levels=tuple(group.source_levels[i] for i in order),
    )


def _random_terms(terms: Sequence[RandomTerm], frame: ModelFrame) -> list[CoxmeTerm]:
    nested = _nested_spans(terms)
    out = []
    for term in terms:
        if term.span not in nested:
            role = "single"
        else:
            depth = max(len(t.group) for t in terms if t.span == term.span)
            role = "inner" if len(term.group) == depth else "outer"
        out.append(_random_term(term, frame, role))
    return out


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
    terms = _random_terms(ir.random, frame)
    offset = np.zeros(frame.n) if frame.offset is None else np.asarray(frame.offset, dtype=float)
    return CoxmeDesign(
        formula=ir,
        fixed_formula=replace(ir, fixed=fixed),
        frame=frame,
        strata_variable=strata_terms[0].variables[0] if strata_terms else None,
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
