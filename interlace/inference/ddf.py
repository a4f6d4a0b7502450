"""Wald t and F tests of linear hypotheses ``L β = c`` with approximate denominator df.

A denominator-df method (Satterthwaite, Kenward–Roger) provides two tests:

* ``t_test(c, rhs)`` for one contrast vector ``c``: estimate ``c'β̂``, its
  standard error, the df and ``t = (c'β̂ − rhs) / se`` with the two-sided
  p-value from the t distribution;
* ``f_test(L, rhs)`` for a contrast matrix: ``F``, numerator df (the rank of
  ``L``), denominator df, and the p-value from the F distribution.

:class:`FTest` also carries lmerTest's sums of squares, ``Mean Sq = F σ̂²``
and ``Sum Sq = NumDF · Mean Sq``.  The lme4 tables without df use
:class:`NoDdf`, which only has the t statistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TTest:
    """One contrast: estimate, standard error, df, t statistic and two-sided p-value."""

    estimate: float
    se: float
    df: float
    t: float
    p: float


@dataclass(frozen=True)
class FTest:
    """One multi-degree-of-freedom test, as a row of lmerTest's anova table."""

    sum_sq: float
    mean_sq: float
    num_df: float
    den_df: float
    F: float
    p: float

    @staticmethod
    def empty() -> FTest:
        """The row of a hypothesis with no estimable contrast (all ``NaN``)."""
        nan = float("nan")
        return FTest(nan, nan, nan, nan, nan, nan)


class DdfMethod(Protocol):
    """What a denominator-df method provides."""

    #: Method name as lmerTest prints it (``"Satterthwaite's"``).
    label: str

    def t_test(self, contrast: ArrayLike, rhs: float = 0.0) -> TTest:
        """Test ``c'β = rhs`` for the contrast vector ``c``."""
        ...

    def f_test(self, L: ArrayLike, rhs: ArrayLike | None = None) -> FTest:
        """Test ``L β = rhs`` (``rhs`` defaults to 0)."""
        ...


def as_contrast_matrix(L: ArrayLike, p: int) -> FloatArray:
    """``L`` as a 2-d float array with ``p`` columns (a vector becomes one row)."""
    mat = np.atleast_2d(np.asarray(L, dtype=float))
    if mat.shape[1] != p:
        raise ValueError(f"contrast has {mat.shape[1]} columns; the model has {p} fixed effects")
    return mat


def as_rhs(rhs: ArrayLike | None, m: int) -> FloatArray:
    """The right-hand side as a vector of length ``m`` (a scalar is repeated)."""
    if rhs is None:
        return np.zeros(m)
    out = np.atleast_1d(np.asarray(rhs, dtype=float))
    if out.size == 1:
        out = np.full(m, float(out[0]))
    if out.size != m:
        raise ValueError(f"rhs has {out.size} values for {m} contrast rows")
    return out
