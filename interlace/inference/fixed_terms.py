"""The term structure of a fit's fixed part, as lmerTest's anova reads it.

* ``assign``: the term of each column of the fitted ``X`` (0 = intercept),
  R's ``attr(X, "assign")``;
* ``containment``: term ``A`` is contained in term ``B`` when ``B`` has all of
  ``A``'s variables and more, and both have the same numeric variables
  (lmerTest's ``containment``; a numeric covariate makes ``x:f`` a slope, not
  a refinement of ``f``);
* model matrices rebuilt on the fit's model frame with other codings: every
  factor by treatment contrasts, and each term alone coded by indicators of
  all its cells (lmerTest's ``get_rdX``), for type 3 hypotheses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.contrasts import ContrastOptions, ContrastSpec
from interlace.design.evaluate import FactorColumn, NumericColumn
from interlace.design.fixed import FixedDesign, fixed_design
from interlace.design.frame import ModelFrame, build_model_frame
from interlace.errors import InterlaceError
from interlace.ir.terms import TermList
from interlace.results.predict import formula_of

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]
INTERCEPT = "(Intercept)"


class ModelFrameError(InterlaceError, ValueError):
    """The fit does not carry the data its model frame must be rebuilt from."""

    code = "model-frame"


def model_frame_of(result: LmerResult, data: pd.DataFrame | None = None) -> ModelFrame:
    """The model frame of a fit: the design's, or rebuilt from ``data`` on the rows used.

    Raises
    ------
    ModelFrameError
        Neither the design nor the result keeps its frame or data, and no
        ``data`` was given.
    """
    design = result.design
    frame = getattr(design, "frame", None)
    if isinstance(frame, ModelFrame):
        return frame
    if data is None:
        data = getattr(result, "data", None)
    if data is None:
        raise ModelFrameError(
            "this test needs the model frame, which the fit does not keep",
            remedy="pass the data the model was fitted to (data=...)",
        )
    rows = getattr(design, "row_labels", None)
    subset = data if rows is None else data.loc[rows]
    return build_model_frame(formula_of(result), subset)


def _term_patterns(labels: tuple[str, ...], strict: bool) -> re.Pattern[str]:
    piece = "[^:]*" if strict else ".*"
    return re.compile(":".join(re.escape(v) + piece for v in labels), re.DOTALL)


def assign_by_names(names: tuple[str, ...], fixed: TermList) -> tuple[int, ...]:
    """``attr(X, "assign")`` recovered from R's column names and the terms.

    A column of term ``v1:v2`` is named ``v1<suffix>:v2<suffix>``; columns come
    in term order, so the first matching term at or after the previous
    column's term is taken (suffixes may contain ``:`` only as a fallback).
    """
    var_labels = [tuple(v.label for v in t.variables) for t in fixed.terms]
    out: list[int] = []
    current = 1
    for name in names:
        if name == INTERCEPT:
            out.append(0)
            continue
        found = None
        for strict in (True, False):
            for j in range(current, len(var_labels) + 1):
                if _term_patterns(var_labels[j - 1], strict).fullmatch(name):
                    found = j
                    break
            if found is not None:
                break
        if found is None:
            raise InterlaceError(f"cannot tell which term the column {name!r} belongs to")
        out.append(found)
        current = found
    return tuple(out)


@dataclass(frozen=True)
class FixedTerms:
    """Terms of the fixed part and how the fitted ``X`` maps onto them.

    Attributes
    ----------
    fixed : TermList
    labels : tuple of str
        R's ``term.labels``.
    assign : tuple of int
        Term of each column of the fitted ``X`` (0 = intercept).
    variables : tuple of frozenset
        Variable labels of each term.
    numeric : frozenset
        Labels of the single-column numeric variables (R's data class ``"numeric"``).
    """

    fixed: TermList
    labels: tuple[str, ...]
    assign: tuple[int, ...]
    variables: tuple[frozenset[str], ...]
    numeric: frozenset[str]

    @property
    def orders(self) -> tuple[int, ...]:
        """Number of variables of each term (R's ``attr(terms, "order")``)."""
        return tuple(len(v) for v in self.variables)

    def columns(self, assign: tuple[int, ...] | None = None) -> dict[str, list[int]]:
        """Term label → column indices (``term2colX``), for ``assign`` or the fit's."""
        asg = self.assign if assign is None else assign
        return {
            label: [c for c, a in enumerate(asg) if a == j]
            for j, label in enumerate(self.labels, start=1)
        }

    def containment(self) -> dict[str, list[str]]:
        """Term label → labels of the terms that contain it."""
        out: dict[str, list[str]] = {}
        for a, va in zip(self.labels, self.variables, strict=True):
            na = va & self.numeric
            out[a] = [
                b
                for b, vb in zip(self.labels, self.variables, strict=True)
                if va <= vb and vb - va and na == (vb & self.numeric)
            ]
        return out


def fixed_terms(result: LmerResult, frame: ModelFrame | None) -> FixedTerms:
    """The :class:`FixedTerms` of a fit (``frame`` tells numeric from factor variables)."""
    design = result.design
    fixed = formula_of(result).fixed
    variables = tuple(frozenset(v.label for v in t.variables) for t in fixed.terms)
    numeric: set[str] = set()
    if frame is not None:
        for vs in variables:
            for label in vs:
                col = frame.column(label)
                if isinstance(col, NumericColumn) and col.ncol == 1:
                    numeric.add(label)
    names = tuple(design.X_names)
    return FixedTerms(
        fixed, fixed.labels, assign_by_names(names, fixed), variables, frozenset(numeric)
    )


def _treatment_options(frame: ModelFrame, fixed: TermList) -> ContrastOptions:
    labels = {v.label for t in fixed.terms for v in t.variables}
    return ContrastOptions(
        {
            label: ContrastSpec("contr.treatment")
            for label in labels
            if isinstance(frame.column(label), FactorColumn)
        }
    )


def treatment_design(frame: ModelFrame, fixed: TermList) -> FixedDesign:
    """``model.matrix`` of the fixed part with every factor coded by treatment contrasts."""
    return fixed_design(fixed, frame, _treatment_options(frame, fixed))


def cell_design(frame: ModelFrame, fixed: TermList) -> tuple[FloatArray, tuple[str, ...]]:
    """lmerTest's ``get_rdX``: each term alone, all cells coded by indicators.

    The intercept column (if any) comes first, then ``model.matrix(~ 0 + term)``
    of each term in order.
    """
    blocks: list[FloatArray] = []
    names: list[str] = []
    if fixed.intercept:
        blocks.append(np.ones((frame.n, 1)))
        names.append(INTERCEPT)
    options = _treatment_options(frame, fixed)
    for term in fixed.terms:
        one = TermList(intercept=False, terms=(term,))
        part = fixed_design(one, frame, options)
        blocks.append(part.X)
        names.extend(part.colnames)
    X = np.hstack(blocks) if blocks else np.empty((frame.n, 0))
    return X, tuple(names)
