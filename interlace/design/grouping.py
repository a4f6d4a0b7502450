"""Grouping factors of random-effect terms (lme4's ``mkBlist`` and ``%i%``).

A random term ``(e | g)`` needs a factor ``g`` with one level per group.  The
rules follow lme4 1.1-31:

* a single grouping variable that is a factor keeps its level order, minus
  unused levels (``factor(ff, exclude = NA)``); character columns arrive here
  already turned into factors by the model frame, in R's collation order;
* a numeric variable goes through R's ``factor()``: levels sorted numerically
  and labelled as ``as.character()`` prints them, 15 significant digits
  (``2.5``, ``9``, ``10``, ``1e+05``; the same spelling as R's ``deparse``);
* ``g1:g2`` is lme4's ``%i%``: only the observed combinations, labelled
  ``"a:b"`` and ordered by the first factor's level, then the second's
  (``g1:g2:g3`` extends this lexicographically, as lme4's nested ``%i%`` does).

Rows with missing values never reach this module: the model frame drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.evaluate import FactorColumn, NumericColumn
from interlace.design.frame import ModelFrame
from interlace.errors import GroupingError
from interlace.formula.deparse import format_number
from interlace.ir.terms import Variable


@dataclass(frozen=True, eq=False)
class GroupingFactor:
    """A grouping factor: one level per group, one level code per row.

    Attributes
    ----------
    label : str
        lme4's name of the factor (``"Subject"``, ``"h:g"``); the name used in
        ``cnms`` and ``flist``.
    levels : tuple of str
        Level labels in R's order; every level is observed.
    refs : ndarray of int32
        0-based level of each row (R's factor codes minus 1), read-only.
    """

    label: str
    levels: tuple[str, ...]
    refs: NDArray[np.integer]

    def __post_init__(self) -> None:
        refs = np.ascontiguousarray(self.refs, dtype=np.int32)
        refs.flags.writeable = False
        object.__setattr__(self, "refs", refs)

    @property
    def n_levels(self) -> int:
        """Number of levels (lme4's ``nl``)."""
        return len(self.levels)

    def categorical(self) -> pd.Categorical[str]:
        """The factor as a pandas ``Categorical`` (R's factor)."""
        return pd.Categorical.from_codes(self.refs, categories=pd.Index(list(self.levels)))


def compact_codes(
    codes: NDArray[np.integer], size: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct values of non-negative ``codes`` below ``size``, and codes into them.

    Equivalent to ``np.unique(codes, return_inverse=True)``; counts instead of
    sorting when ``size`` is not much larger than the data (``O(n)``).
    """
    values = np.asarray(codes, dtype=np.int64)
    if size > 4 * values.size + 1024:
        used, inverse = np.unique(values, return_inverse=True)
        return used.astype(np.int64), inverse.astype(np.int64)
    used = np.flatnonzero(np.bincount(values, minlength=size)).astype(np.int64)
    if used.size == size:
        return used, values
    remap = np.zeros(size, dtype=np.int64)
    remap[used] = np.arange(used.size)
    return used, remap[values]


def _factor_codes(
    column: FactorColumn | NumericColumn, name: str
) -> tuple[tuple[str, ...], NDArray[np.int64]]:
    """Levels and 0-based codes of one grouping variable, unused levels dropped."""
    if isinstance(column, FactorColumn):
        codes = np.asarray(column.codes, dtype=np.int64)
        levels = np.asarray(list(column.levels), dtype=object)
    else:
        values = np.asarray(column.values, dtype=float)
        if values.ndim == 2 and values.shape[1] != 1:
            raise GroupingError(
                f"grouping variable {name} has {values.shape[1]} columns; a grouping factor "
                "must be a single column",
                column=name,
            )
        uniq, codes = np.unique(values.reshape(-1), return_inverse=True)
        levels = np.asarray([format_number(float(v)) for v in uniq], dtype=object)
    if codes.size and codes.min() < 0:
        raise GroupingError(
            f"grouping variable {name} has missing values",
            column=name,
            remedy='use na_action="omit" to drop incomplete rows',
        )
    used, refs = compact_codes(codes, len(levels))
    return tuple(levels[used]), refs


def interact(
    factors: Sequence[tuple[Sequence[str], NDArray[np.integer]]],
) -> tuple[tuple[str, ...], NDArray[np.int64]]:
    """lme4's ``%i%`` of factors given as ``(levels, codes)``: observed combinations only.

    Parameters
    ----------
    factors
        One ``(levels, 0-based codes)`` pair per factor, in label order.

    Returns
    -------
    levels : tuple of str
        ``"a:b"`` labels of the observed combinations, ordered by the first
        factor's level, then the second's, and so on.
    refs : ndarray of int64
        0-based combination of each row.
    """
    levels, refs = factors[0]
    current_levels = np.asarray(list(levels), dtype=object)
    current = np.asarray(refs, dtype=np.int64)
    for next_levels, next_codes in factors[1:]:
        width = len(next_levels)
        key = current * width + np.asarray(next_codes, dtype=np.int64)
        used, current = compact_codes(key, len(current_levels) * width)
        left = current_levels[used // width]
        right = np.asarray(list(next_levels), dtype=object)[used % width]
        current_levels = np.asarray([f"{a}:{b}" for a, b in zip(left, right, strict=True)])
    return tuple(str(v) for v in current_levels), current


def grouping_factor(
    group: Sequence[Variable], frame: ModelFrame, label: str | None = None
) -> GroupingFactor:
    """Build the grouping factor of a random term from the model frame.

    Parameters
    ----------
    group
        The grouping variables (``RandomTerm.group``), interacted with ``:``.
    frame
        The model frame; ``frame.column(v)`` gives each variable's values.
    label
        The factor's name; defaults to the variable labels joined by ``":"``.

    Returns
    -------
    GroupingFactor
        Levels in lme4's order and the 0-based level of each row.

    Raises
    ------
    GroupingError
        A grouping variable with several columns or with missing values.
    """
    parts = [_factor_codes(frame.column(v), v.label) for v in group]
    levels, refs = parts[0] if len(parts) == 1 else interact(parts)
    name = label if label is not None else ":".join(v.label for v in group)
    return GroupingFactor(name, levels, refs.astype(np.int32))
