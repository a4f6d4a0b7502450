"""The design of a fitted mixed model evaluated on new data (lme4's ``predict.merMod`` pieces).

R's rules, as lme4 1.1-31 applies them when predicting:

* every variable is evaluated on the new rows with the *training* parameters
  of its stateful transforms (``poly``, ``scale``, ``ns``, ``bs``: R's
  ``predvars``), so ``poly(Days, 2)`` is the training data's orthogonal
  polynomial evaluated at the new values;
* a factor of the fixed part (or of a random term's left side) takes the
  training levels, order, orderedness and contrasts (``xlev``); a value that
  is not a training level is an error naming the column and the level
  (R: ``factor recipe has new level D``);
* ``X`` is ``model.matrix`` of the fixed part on those columns, the columns
  lme4 dropped for rank deficiency are dropped again, and columns rescaled by
  ``check.scaleX`` are divided by the same standard deviations;
* only the fixed part's ``offset()`` terms are evaluated on the new data (lme4
  does not re-evaluate an ``offset =`` argument);
* missing values are passed through (``na.pass``): rows with a missing value in
  a variable of ``X`` or of a random term's left side are flagged in
  :attr:`NewDesign.missing`; a missing grouping value is left to the caller
  (lme4 treats it like a new level);
* a random term's grouping factor is built from the new rows as it was built
  from the training rows (labels ``"308"``, ``"a:b"``, numbers spelled as R
  prints them), so its labels can be matched to the training levels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.evaluate import Column, FactorColumn, evaluate
from interlace.design.fixed import fixed_design
from interlace.design.frame import ModelFrame, _total_offset, model_variables
from interlace.design.grouping import grouping_factor
from interlace.errors import InterlaceError, NewLevelError
from interlace.formula.deparse import format_number
from interlace.ir.terms import FormulaIR, RandomTerm, Variable

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class NewTerm:
    """One random term evaluated on new rows.

    Attributes
    ----------
    source : str
        The bar as written (``"Days | Subject"``).
    group : str
        Name of the grouping factor (lme4's ``cnms`` name).
    names : tuple of str
        Columns of ``z``.
    z : ndarray, shape (n, k)
        The left side's model matrix on the new rows.
    labels : ndarray of object, shape (n,)
        Grouping level of each row as a label; ``None`` where a grouping value is missing.
    """

    source: str
    group: str
    names: tuple[str, ...]
    z: FloatArray
    labels: NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class NewDesign:
    """A fitted model's fixed and random design on new rows.

    Attributes
    ----------
    X : ndarray, shape (n, p)
        Fixed-effects matrix with the fitted columns (``X_names`` order).
    offset : ndarray or None
        Sum of the fixed part's ``offset()`` terms.
    terms : tuple of NewTerm
        The requested random terms.
    missing : ndarray of bool
        Rows with a missing value in a variable of ``X`` or of a term's left side.
    """

    X: FloatArray
    offset: FloatArray | None
    terms: tuple[NewTerm, ...]
    missing: BoolArray

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])


def new_design(
    formula: FormulaIR,
    training: ModelFrame,
    X_names: Sequence[str],
    newdata: pd.DataFrame,
    random: Sequence[RandomTerm],
    *,
    contrasts: Any = None,
    X_scale: Mapping[str, float] | None = None,
) -> NewDesign:
    """Evaluate a fitted model's design on ``newdata``.

    Parameters
    ----------
    formula
        The fit's expanded formula.
    training
        The fit's model frame (levels, contrasts and transform states).
    X_names
        The fitted fixed-effect columns (after lme4's rank rule).
    newdata
        The new rows; never modified.  The response is not needed, nor the
        variables of random terms not in ``random``.
    random
        The random terms to evaluate (all, some or none of the model's).
    contrasts
        The ``contrasts`` argument of the fit.
    X_scale
        Columns rescaled by ``check.scaleX`` and the SDs they were divided by.

    Returns
    -------
    NewDesign

    Raises
    ------
    NewLevelError
        A factor of ``X`` or of a term's left side has a value that is not
        one of its training levels.
    MissingVariableError
        A needed variable is not in ``newdata``.
    InterlaceError
        The fit's columns cannot be rebuilt from ``newdata`` (the design of
        new rows lacks a fitted column).
    """
    fixed = formula.fixed
    predictors = tuple(v for v in fixed.variables if v != formula.response)
    rhs = replace(formula, response=None, fixed=replace(fixed, response=None, variables=predictors))
    fixed_only = replace(rhs, random=())
    coded = _labels(model_variables(fixed_only))
    for term in random:
        coded.update(_labels(term.lhs.variables))
        coded.update(_labels(v for t in term.lhs.terms for v in t.variables))
    wanted = model_variables(replace(rhs, random=tuple(random)))
    raw = {
        v.label: evaluate(v.expr, newdata, training.transform_state.get(v.label))[0] for v in wanted
    }
    missing = np.zeros(len(newdata), dtype=bool)
    columns: dict[str, Column] = {}
    for label, column in raw.items():
        if label in coded:
            missing |= column.is_missing()
            columns[label] = _as_training(column, training.columns.get(label), label)
        else:
            columns[label] = column
    frame = ModelFrame(
        columns=columns,
        row_labels=pd.RangeIndex(len(newdata)),
        transform_state=training.transform_state,
    )
    X = _fixed_matrix(formula, frame, X_names, contrasts, X_scale or {})
    terms = tuple(_new_term(t, frame, raw) for t in random)
    offset = _total_offset(formula, columns, None)
    return NewDesign(X=X, offset=offset, terms=terms, missing=missing)


def training_terms(
    random: Sequence[RandomTerm], training: ModelFrame, X: FloatArray, offset: FloatArray | None
) -> NewDesign:
    """The design on the training rows themselves (``predict`` without new data).

    ``X`` and ``offset`` are the fit's; the random terms are evaluated on the
    training frame, which has no missing values.
    """
    terms = tuple(_new_term(t, training, training.columns) for t in random)
    return NewDesign(X=X, offset=offset, terms=terms, missing=np.zeros(training.n, dtype=bool))


def _labels(variables: Iterable[Variable]) -> dict[str, Variable]:
    return {v.label: v for v in variables}


def _as_training(column: Column, training: Column | None, label: str) -> Column:
    """``column`` coded as its training column: factors on the training levels, NA coded 0.

    The rows with a missing value are flagged by the caller; coding them as the
    first level keeps ``model.matrix`` finite.
    """
    if not isinstance(training, FactorColumn):
        return column
    labels = _level_labels(column)
    index = {level: i for i, level in enumerate(training.levels)}
    codes = np.asarray([index.get(lv, -1) if lv is not None else 0 for lv in labels], dtype=int)
    unseen = sorted({str(lv) for lv, c in zip(labels, codes, strict=True) if c < 0})
    if unseen:
        raise NewLevelError(
            f"factor {label} has new level(s) {', '.join(unseen)}: its levels in the fitted "
            f"data are {', '.join(training.levels)}",
            column=label,
            remedy="predict only at levels the model was fitted to",
        )
    return FactorColumn(codes, training.levels, training.ordered, training.contrasts, training.kind)


def _level_labels(column: Column) -> NDArray[np.object_]:
    """The values of a column as level labels (``None`` = missing)."""
    if isinstance(column, FactorColumn):
        return column.labels()
    values = np.asarray(column.values, dtype=float).reshape(-1)
    return np.asarray([None if np.isnan(v) else format_number(float(v)) for v in values])


def _fixed_matrix(
    formula: FormulaIR,
    frame: ModelFrame,
    X_names: Sequence[str],
    contrasts: Any,
    X_scale: Mapping[str, float],
) -> FloatArray:
    """``model.matrix`` of the fixed part on new rows, restricted to the fitted columns."""
    full = fixed_design(formula.fixed, frame, contrasts)
    position = {name: j for j, name in enumerate(full.colnames)}
    absent = [name for name in X_names if name not in position]
    if absent:
        raise InterlaceError(
            f"the fitted columns {', '.join(absent)} cannot be rebuilt on new data",
            remedy="please report this with the formula and the contrasts of the fit",
        )
    X = full.X[:, [position[name] for name in X_names]]
    for j, name in enumerate(X_names):
        if name in X_scale:
            X[:, j] = X[:, j] / X_scale[name]
    return np.asarray(X, dtype=np.float64)


def _new_term(
    term: RandomTerm,
    frame: ModelFrame,
    raw: Mapping[str, Column],
) -> NewTerm:
    """One random term on the rows of ``frame``; grouping labels from the raw columns."""
    lhs = fixed_design(term.lhs, frame)
    present = np.ones(frame.n, dtype=bool)
    for v in term.group:
        present &= ~raw[v.label].is_missing()
    keep = np.flatnonzero(present)
    subset = ModelFrame(
        columns={v.label: raw[v.label].take(keep) for v in term.group},
        row_labels=pd.RangeIndex(keep.size),
    )
    labels = np.full(frame.n, None, dtype=object)
    if keep.size:
        factor = grouping_factor(term.group, subset, label=term.group_label)
        labels[keep] = np.asarray(factor.levels, dtype=object)[np.asarray(factor.refs)]
    return NewTerm(
        source=term.source,
        group=term.group_label,
        names=tuple(lhs.colnames),
        z=np.asarray(lhs.X, dtype=np.float64),
        labels=labels,
    )
