"""The fixed-effects design matrix X, built as R's ``model.matrix`` builds it.

The algorithm (R's ``terms.formula``/``TermCode`` and ``modelmatrix`` in
``src/library/stats/src/model.c``; ``R_SEMANTICS.md`` section 3.1):

1. **Coding of each factor in each term.**  For term ``T`` and a factor ``v``
   in it, ``v`` is coded by *contrasts* (code 1) when ``T`` without ``v`` is
   empty or is contained in some *earlier* term; otherwise by *indicators of all
   levels* (code 2).  This is the Chambers–Heiberger rule; the intercept does
   not take part.
2. **No intercept.**  Without an intercept, the first factor (or logical) met
   when scanning the terms in order, and the variables of a term in variable
   order, is coded by indicators instead.
3. **Columns of a term** are the Kronecker-style product of its variables'
   blocks with the *first* variable varying fastest; a numeric variable
   contributes its columns (``poly``/``ns``/``bs`` several).
4. **Names.**  ``(Intercept)``; pieces joined by ``:``; a piece is the variable's
   label plus a contrast column name (``condb``, ``ord.L``, ``cond1``), a level
   (code 2), nothing (one numeric column) or a column suffix (``poly(x, 2)1``).

``assign`` maps each column to its term (0 for the intercept), as
``attr(X, "assign")``.  No column is dropped here: a rank-deficient X (``~ a:b``)
is R's X; see :mod:`interlace.design.rank` for lme4's dropping rule.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from interlace.design.contrasts import (
    ContrastOptions,
    ContrastSpec,
    choose_contrasts,
    contrast_options,
)
from interlace.design.evaluate import FactorColumn, NumericColumn
from interlace.design.frame import ModelFrame
from interlace.errors import DataError, ResponseOnRightWarning
from interlace.ir.terms import Term, TermList

FloatArray = NDArray[np.float64]

INTERCEPT = "(Intercept)"
CONTRASTS, INDICATORS = 1, 2


@dataclass(frozen=True, eq=False)
class FixedDesign:
    """A fixed-effects design matrix with R's names.

    Attributes
    ----------
    X : ndarray, shape (n, p)
    colnames : tuple of str
        R's ``colnames(X)``.
    assign : tuple of int
        R's ``attr(X, "assign")``: term index of each column (0 = intercept).
    term_labels : tuple of str
        R's ``term.labels``.
    contrasts : dict
        Variable label → coding used for factors coded by contrasts
        Variable label → coding of every factor of the terms (R's
        ``attr(X, "contrasts")``): a ``contr.*`` name or ``"matrix"``.
    """

    X: FloatArray
    colnames: tuple[str, ...]
    assign: tuple[int, ...]
    term_labels: tuple[str, ...]
    contrasts: Mapping[str, str]


def factor_coding(terms: TermList, is_factor: Mapping[str, bool]) -> list[dict[str, int]]:
    """R's coding of each factor in each term (1 = contrasts, 2 = all-level indicators).

    Parameters
    ----------
    terms
        The terms in R's order.
    is_factor
        Variable label → whether it is a factor or logical with more than one level.

    Returns
    -------
    list of dict
        For each term, variable label → code (numeric variables are absent).
    """
    sets = [frozenset(v.label for v in t.variables) for t in terms.terms]
    codes: list[dict[str, int]] = []
    for j, term in enumerate(terms.terms):
        entry: dict[str, int] = {}
        for v in term.variables:
            if not is_factor.get(v.label, False):
                continue
            rest = sets[j] - {v.label}
            margin_present = not rest or any(rest <= earlier for earlier in sets[:j])
            entry[v.label] = CONTRASTS if margin_present else INDICATORS
        codes.append(entry)
    if not terms.intercept:
        for j, term in enumerate(terms.terms):
            first = next((v for v in term.variables if v.label in codes[j]), None)
            if first is not None:
                codes[j][first.label] = INDICATORS
                break
    return codes


def fixed_design(
    terms: TermList, frame: ModelFrame, contrasts: ContrastOptions | Any = None
) -> FixedDesign:
    """R's ``model.matrix(terms, frame, contrasts.arg = contrasts)``.

    Parameters
    ----------
    terms
        The fixed part of a formula, or the left side of a random-effect bar.
    frame
        The model frame holding every variable of ``terms``.
    contrasts
        ``None`` (R's defaults), a dict ``{"f": "contr.sum" | matrix | DataFrame}``,
        a pair of coding names (R's ``options(contrasts=)``), or
        :class:`~interlace.design.contrasts.ContrastOptions`.

    Returns
    -------
    FixedDesign
    """
    options = contrast_options(contrasts)
    variables = {v.label: v for t in terms.terms for v in t.variables}
    columns = {label: frame.column(label) for label in variables}
    is_factor = {label: isinstance(c, FactorColumn) for label, c in columns.items()}
    for label, col in columns.items():
        if isinstance(col, FactorColumn) and col.nlevels < 2:
            raise DataError(
                f"contrasts can be applied only to factors with 2 or more levels: {label!r} "
                f"has {col.nlevels} level(s)",
                column=label,
            )
    coding = factor_coding(terms, is_factor)
    specs = {
        label: choose_contrasts(label, col.ordered, col.contrasts, options)
        for label, col in columns.items()
        if isinstance(col, FactorColumn)
    }
    n = frame.n
    blocks: list[FloatArray] = []
    names: list[str] = []
    assign: list[int] = []
    if terms.intercept:
        blocks.append(np.ones((n, 1)))
        names.append(INTERCEPT)
        assign.append(0)
    for j, term in enumerate(terms.terms, start=1):
        if terms.response is not None and term.variables == (terms.response,):
            warnings.warn(
                f"the response appeared on the right-hand side and was dropped: "
                f"term {term.label!r} has no columns (as in R)",
                ResponseOnRightWarning,
                stacklevel=2,
            )
            continue
        mat, term_names = _term_columns(term, columns, coding[j - 1], specs, n)
        blocks.append(mat)
        names.extend(term_names)
        assign.extend([j] * len(term_names))
    X = np.hstack(blocks) if blocks else np.empty((n, 0))
    used = {label: _spec_name(spec) for label, spec in specs.items()}
    return FixedDesign(X, tuple(names), tuple(assign), terms.labels, used)


def _term_columns(
    term: Term,
    columns: Mapping[str, NumericColumn | FactorColumn],
    coding: Mapping[str, int],
    specs: Mapping[str, ContrastSpec],
    n: int,
) -> tuple[FloatArray, list[str]]:
    """Columns of one term: product of its variables' blocks, first variable fastest."""
    mat = np.ones((n, 1))
    names = [""]
    for v in term.variables:
        block, suffixes = _variable_block(columns[v.label], coding.get(v.label), specs.get(v.label))
        # the new variable varies slowest: for each of its columns, all previous columns
        mat = np.hstack([mat * block[:, [i]] for i in range(block.shape[1])])
        piece = [v.label + s for s in suffixes]
        names = [f"{prev}:{p}" if prev else p for p in piece for prev in names]
    return mat, names


def _variable_block(
    column: NumericColumn | FactorColumn, code: int | None, spec: ContrastSpec | None
) -> tuple[FloatArray, list[str]]:
    """One variable's columns in a term and their name suffixes."""
    if isinstance(column, NumericColumn):
        if column.ncol == 1:
            return column.values, [""]
        suffixes = column.colnames or tuple(str(j) for j in range(1, column.ncol + 1))
        return column.values, list(suffixes)
    if code == INDICATORS:
        return np.eye(column.nlevels)[column.codes], list(column.levels)
    assert spec is not None
    contrast = spec.build(column.levels)
    return contrast.matrix[column.codes], list(contrast.suffixes())


def _spec_name(spec: ContrastSpec) -> str:
    """R's ``attr(X, "contrasts")`` entry: the function name, or "matrix" when R stores one."""
    return "matrix" if spec.name is None or spec.numbered else spec.name
