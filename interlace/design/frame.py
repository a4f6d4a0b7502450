"""The model frame: every variable of a model, evaluated once, on one set of rows.

R's ``model.frame`` as lme4 calls it (``lFormula``): the response, the fixed
variables, ``offset()`` terms, the variables on both sides of every bar, the
weights and the offset argument are evaluated on the caller's data; rows with a
missing value in any of them are dropped (``na.omit``; ``NaN`` counts as
missing), and unused factor levels are dropped (``drop.unused.levels = TRUE``).
Everything downstream (X, Z, grouping factors, y, weights, offset) is taken
from this one frame, so the pieces can never be misaligned.

Differences from R, on purpose (``RELIABILITY.md`` section 4): dropped rows are
reported by one :class:`~interlace.errors.DataDroppedWarning` naming the columns
and counts; ``±Inf`` in a kept row raises :class:`~interlace.errors.NonFiniteError`
naming the variable and the rows.

Use
---
``frame.column(variable_or_label)`` gives the :class:`~interlace.design.evaluate.Column`
of a model variable (rows kept), e.g. a grouping factor ``frame.column("Subject")``
or a bar's left side.  ``frame.row_labels`` are the caller's index labels of the
rows kept, ``frame.dropped`` says what was removed and why, and
``frame.transform_state`` holds the parameters of ``poly``/``scale``/``ns``/``bs``
by variable label for evaluating new data.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.collation import Collation
from interlace.design.evaluate import (
    Column,
    FactorColumn,
    NumericColumn,
    State,
    evaluate,
    relevel_character,
)
from interlace.errors import (
    DataDroppedWarning,
    DataError,
    EmptyDataError,
    MissingVariableError,
    NonFiniteError,
    WeightsError,
)
from interlace.formula import ast
from interlace.ir.terms import FormulaIR, TermList, Variable

FloatArray = NDArray[np.float64]
NaAction = Literal["omit", "fail"]

WEIGHTS_LABEL = "(weights)"
OFFSET_LABEL = "(offset)"


@dataclass(frozen=True)
class DropSummary:
    """What ``na.omit`` removed.

    Attributes
    ----------
    n_input : int
        Rows of the caller's data.
    rows : tuple
        Index labels of the dropped rows.
    by_column : dict
        Variable label → number of rows missing in it (a row may count in several).
    """

    n_input: int
    rows: tuple[object, ...] = ()
    by_column: Mapping[str, int] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        """Number of rows dropped."""
        return len(self.rows)

    def message(self) -> str:
        """The text of the :class:`DataDroppedWarning`."""
        detail = ", ".join(f"{k} ({v})" for k, v in self.by_column.items())
        return (
            f"{self.n_dropped} of {self.n_input} rows dropped because of missing values in: "
            f"{detail}"
        )


@dataclass(frozen=True, eq=False)
class ModelFrame:
    """The evaluated model variables on the rows kept.

    Attributes
    ----------
    columns : dict
        Variable label → :class:`Column`, for every model variable.
    row_labels : pandas.Index
        Index labels (of the caller's DataFrame) of the rows kept.
    response : Column or None
        The left-hand side.
    weights : ndarray or None
        Prior weights.
    offset : ndarray or None
        Sum of the formula's ``offset()`` terms and the ``offset`` argument.
    dropped : DropSummary
        Rows removed for missing values.
    transform_state : dict
        Variable label → parameters of its stateful transforms.
    """

    columns: Mapping[str, Column]
    row_labels: pd.Index
    response: Column | None = None
    weights: FloatArray | None = None
    offset: FloatArray | None = None
    dropped: DropSummary = DropSummary(0)
    transform_state: Mapping[str, State] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of rows kept."""
        return len(self.row_labels)

    def column(self, variable: Variable | str) -> Column:
        """The column of a model variable, by :class:`Variable` or by its R label."""
        label = variable.label if isinstance(variable, Variable) else variable
        try:
            return self.columns[label]
        except KeyError:
            raise MissingVariableError(
                f"{label!r} is not a variable of this model frame", column=label
            ) from None


def model_variables(ir: FormulaIR) -> list[Variable]:
    """Every variable R's model frame holds for ``ir``, in formula order, without repeats.

    The response, the fixed part (variables, terms and offsets), and for each
    random term its left side and its grouping variables.
    """
    found: dict[str, Variable] = {}

    def add(variables: Iterable[Variable]) -> None:
        for v in variables:
            found.setdefault(v.label, v)

    if ir.response is not None:
        add([ir.response])
    for part in (ir.fixed, *(rt.lhs for rt in ir.random)):
        add(_termlist_variables(part))
    for rt in ir.random:
        add(rt.group)
    return list(found.values())


def _termlist_variables(terms: TermList) -> list[Variable]:
    out = list(terms.variables)
    if terms.response is not None:
        out.append(terms.response)
    out.extend(v for t in terms.terms for v in t.variables)
    out.extend(terms.offsets)
    return out


def build_model_frame(
    ir: FormulaIR,
    data: pd.DataFrame,
    *,
    weights: str | Any | None = None,
    offset: str | Any | None = None,
    na_action: NaAction = "omit",
    drop_unused_levels: bool = True,
    collation: Collation = "icu",
    transform_state: Mapping[str, State] | None = None,
) -> ModelFrame:
    """Evaluate the model's variables and drop incomplete rows (R's ``model.frame``).

    Parameters
    ----------
    ir
        The expanded formula.
    data
        The caller's data; never modified.
    weights, offset
        A column name or an array of length ``len(data)``; ``None`` for none.
    na_action
        ``"omit"`` drops incomplete rows with a warning; ``"fail"`` raises.
    drop_unused_levels
        Drop factor levels not present in the kept rows (lme4 does; R's plain
        ``model.matrix`` does not).
    collation
        Level order of character data (see :mod:`interlace.design.collation`).
    transform_state
        Training states of stateful transforms (to evaluate new data).

    Returns
    -------
    ModelFrame

    Raises
    ------
    MissingVariableError
        A variable, weights or offset column not in ``data``.
    DataError
        Missing values with ``na_action="fail"``; lengths that do not match.
    NonFiniteError
        ``±Inf`` in a kept row.
    WeightsError
        Negative weights (lme4: "negative weights not allowed").
    EmptyDataError
        No complete rows.
    """
    if na_action not in ("omit", "fail"):
        raise DataError(f"na_action must be 'omit' or 'fail', not {na_action!r}")
    n = len(data)
    full: dict[str, Column] = {}
    states: dict[str, State] = {}
    for var in model_variables(ir):
        prior = None if transform_state is None else transform_state.get(var.label)
        column, state = evaluate(var.expr, data, prior, collation=collation)
        _check_length(column, n, var.label)
        full[var.label] = column
        if state:
            states[var.label] = state
    extras: dict[str, FloatArray] = {}
    if weights is not None:
        extras[WEIGHTS_LABEL] = argument_vector(weights, data, "weights")
    if offset is not None:
        extras[OFFSET_LABEL] = argument_vector(offset, data, "offset")

    missing = {label: col.is_missing() for label, col in full.items()}
    missing.update({label: np.isnan(v) for label, v in extras.items()})
    any_missing = np.zeros(n, dtype=bool)
    for m in missing.values():
        any_missing |= m
    summary = DropSummary(
        n,
        tuple(data.index[any_missing]),
        {label: int(m.sum()) for label, m in missing.items() if m.any()},
    )
    if summary.n_dropped:
        if na_action == "fail":
            raise DataError(
                "missing values in: " + ", ".join(summary.by_column),
                column=next(iter(summary.by_column)),
                rows=summary.rows,
                remedy="remove or impute them, or use na_action='omit'",
            )
        warnings.warn(summary.message(), DataDroppedWarning, stacklevel=2)
    keep = np.flatnonzero(~any_missing)
    if len(keep) == 0:
        raise EmptyDataError("no rows left after removing missing values")
    row_labels = data.index[keep]

    columns = {
        label: _finish(col.take(keep), drop_unused_levels, collation) for label, col in full.items()
    }
    kept_extras = {label: v[keep] for label, v in extras.items()}
    for label, col in [*columns.items(), *kept_extras.items()]:
        _check_finite(col, label, row_labels)

    weights_kept = kept_extras.get(WEIGHTS_LABEL)
    if weights_kept is not None and (weights_kept < 0).any():
        rows = list(row_labels[weights_kept < 0])
        raise WeightsError(
            f"negative weights not allowed (rows {rows[:10]})", column=WEIGHTS_LABEL, rows=rows
        )
    offset_total = _total_offset(ir, columns, kept_extras.get(OFFSET_LABEL))
    response = None if ir.response is None else columns[ir.response.label]
    return ModelFrame(
        columns=MappingProxyType(columns),
        row_labels=row_labels,
        response=response,
        weights=weights_kept,
        offset=offset_total,
        dropped=summary,
        transform_state=MappingProxyType(states),
    )


def _check_length(column: Column, n: int, label: str) -> None:
    if column.n != n:
        raise DataError(f"variable {label!r} has {column.n} values for {n} rows", column=label)


def argument_vector(value: str | Any, data: pd.DataFrame, what: str) -> FloatArray:
    """The ``weights``/``offset`` argument as a float vector (a column name or an array).

    Raises
    ------
    MissingVariableError
        A column name not in ``data``.
    DataError
        A non-numeric column, or an array whose length is not the number of rows.
    """
    if isinstance(value, str):
        column, _ = evaluate(ast.Name(value), data)
        if not isinstance(column, NumericColumn) or column.ncol != 1:
            raise DataError(f"{what} column {value!r} must be numeric", column=value)
        return column.values[:, 0].copy()
    arr = np.asarray(value, dtype=float).reshape(-1)
    if len(arr) != len(data):
        raise DataError(f"{what} has {len(arr)} values for {len(data)} rows", column=what)
    return arr


def _finish(column: Column, drop_unused_levels: bool, collation: Collation) -> Column:
    """Level clean-up after row dropping: character data re-levelled, unused levels dropped."""
    if not isinstance(column, FactorColumn):
        return column
    if column.kind == "character":
        return relevel_character(column, collation)
    if column.kind == "factor" and drop_unused_levels:
        return column.drop_unused_levels()
    return column


def _check_finite(column: Column | FloatArray, label: str, row_labels: pd.Index) -> None:
    values = column.values if isinstance(column, NumericColumn) else column
    if not isinstance(values, np.ndarray):
        return
    bad = np.asarray(np.isinf(values))
    if bad.ndim > 1:
        bad = np.asarray(bad.any(axis=1))
    if bad.any():
        rows = list(row_labels[bad])
        raise NonFiniteError(
            f"infinite values in {label!r} at rows {rows[:10]}",
            column=label,
            rows=rows,
            remedy="remove those rows or transform the variable",
        )


def _total_offset(
    ir: FormulaIR, columns: Mapping[str, Column], argument: FloatArray | None
) -> FloatArray | None:
    """Sum of the fixed part's ``offset()`` terms and the ``offset`` argument (R adds them)."""
    total = None if argument is None else argument.copy()
    for var in ir.fixed.offsets:
        col = columns[var.label]
        if not isinstance(col, NumericColumn) or col.ncol != 1:
            raise DataError(f"offset {var.label!r} must be numeric", column=var.label)
        total = col.values[:, 0].copy() if total is None else total + col.values[:, 0]
    return total
