"""nlme's denominator degrees of freedom for the fixed effects of ``lme`` (the containment rule).

nlme (``getFixDF``; Pinheiro & Bates 2000, section 2.4.2) assigns each
column of ``X`` to the stratum at which it is estimated.  With grouping
levels ``1..Q`` (outer to inner), ``g_0 = 0`` groups at level 0, ``g_q``
groups at level ``q`` and ``N`` observations, the strata are the levels
``1..Q`` and "Residual" (level ``Q + 1``), with base degrees of freedom

    (g_1 − g_0, g_2 − g_1, ..., N − g_Q).

A column that is not constant is estimated at the innermost stratum
``s`` such that it varies within some group of level ``s − 1`` (level 0 is
the whole data, so every non-constant column reaches stratum 1 at least).
Each stratum loses one degree of freedom per column estimated there.  With
an intercept (a constant column) the first stratum loses one more and the
intercept gets the largest of the resulting degrees of freedom; without
one, every stratum but the first gains one.  Each column's DF is that of its
stratum.  "Varies within a group" is exact inequality, as in nlme's C code;
"constant" is nlme's relative tolerance ``sqrt(.Machine$double.eps)``.

The F tests of ``anova`` use the same rule on whole terms (``fixDF$terms``):
a term is estimated at the innermost stratum of its columns, each stratum
loses one degree of freedom per column of the terms estimated there, and
terms of constant columns only (the intercept) play the intercept's part.
When every column is constant the base degrees of freedom are not reduced.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

_CONST_TOL = float(np.sqrt(np.finfo(float).eps))


def _is_constant(x: FloatArray) -> bool:
    """nlme's ``const``: all values equal to the first within a relative tolerance."""
    if x.size == 0:
        return True
    ref = x[0]
    diff = x if ref == 0 else x / ref - 1.0
    return bool(np.all(np.abs(diff) < _CONST_TOL))


def _varies_within(x: FloatArray, codes: NDArray[np.intp]) -> bool:
    """Whether ``x`` takes more than one value in some group of ``codes``."""
    n_groups = int(codes.max()) + 1
    hi = np.full(n_groups, -np.inf)
    lo = np.full(n_groups, np.inf)
    np.maximum.at(hi, codes, x)
    np.minimum.at(lo, codes, x)
    return bool(np.any(hi != lo))


def _strata(
    X: FloatArray, groups: Sequence[NDArray[np.intp]]
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.int64]]:
    """Base DF per stratum, which columns are constant, and each column's stratum (0-based)."""
    n, p = X.shape
    n_groups = [int(np.unique(g).size) for g in groups]
    base = np.diff(np.r_[0, n_groups, n]).astype(np.int64)
    constant = np.array([_is_constant(X[:, j]) for j in range(p)], dtype=bool)
    stratum = np.zeros(p, dtype=np.int64)
    for j in np.flatnonzero(~constant):
        s = 0  # level 0: the whole data
        for q, codes in enumerate(groups, start=1):
            if _varies_within(X[:, j], np.asarray(codes, dtype=np.intp)):
                s = q
        stratum[j] = s
    return base, constant, stratum


def _stratum_df(
    base: NDArray[np.int64],
    estimated: NDArray[np.int64],
    size: NDArray[np.int64],
    has_intercept: bool,
) -> NDArray[np.int64]:
    """DF left per stratum when parameter blocks of ``size`` are estimated at ``estimated``."""
    df = base.copy()
    np.add.at(df, estimated, -size)
    if has_intercept:
        df[0] -= 1
    else:
        df[1:] += 1
    return df


def fixed_effects_df(X: FloatArray, groups: Sequence[NDArray[np.intp]]) -> NDArray[np.int64]:
    """nlme's ``fixDF$X``: the denominator DF of each column of ``X``.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    groups : sequence of int arrays
        0-based group of every row at each grouping level, outer to inner
        (a level's groups are the combinations of it and the outer levels).
    """
    X = np.asarray(X, dtype=float)
    base, constant, stratum = _strata(X, groups)
    if constant.all():
        return np.full(X.shape[1], base.max(), dtype=np.int64)
    varying = stratum[~constant]
    df = _stratum_df(base, varying, np.ones_like(varying), bool(constant.any()))
    return np.asarray(np.where(constant, df.max(), df[stratum]), dtype=np.int64)


def terms_df(
    X: FloatArray, groups: Sequence[NDArray[np.intp]], assign: Sequence[Sequence[int]]
) -> NDArray[np.int64]:
    """nlme's ``fixDF$terms``: the denominator DF of each term's F test.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    groups : sequence of int arrays
        As for :func:`fixed_effects_df`.
    assign : sequence of sequences of int
        The columns of ``X`` of each term, in term order (``"(Intercept)"`` first).
    """
    X = np.asarray(X, dtype=float)
    base, constant, stratum = _strata(X, groups)
    cols = [np.asarray(c, dtype=np.intp) for c in assign]
    intercept_like = np.array([bool(constant[c].all()) for c in cols], dtype=bool)
    if constant.all():
        return np.full(len(cols), base.max(), dtype=np.int64)
    at = np.array([int(stratum[c].max()) for c in cols], dtype=np.int64)
    size = np.array([c.size for c in cols], dtype=np.int64)
    df = _stratum_df(base, at[~intercept_like], size[~intercept_like], bool(intercept_like.any()))
    return np.asarray(np.where(intercept_like, df.max(), df[at]), dtype=np.int64)
