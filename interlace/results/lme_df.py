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
    df = base.copy()
    np.subtract.at(df, stratum[~constant], 1)
    if np.any(constant):
        df[0] -= 1
    else:
        df[1:] += 1
    out = np.where(constant, df.max(), df[stratum])
    return np.asarray(out, dtype=np.int64)
