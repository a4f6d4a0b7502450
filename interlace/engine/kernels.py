"""Compiled kernels (optional): the scattered rank update of the blocked Cholesky.

``scatter_subtract(s, indptr, indices, data, w)`` performs

    s[r1, r2] -= Σ_j w_j a[r1, j] a[r2, j]     for r1 <= r2,

over the columns ``j`` of a sparse CSC matrix ``a`` with sorted row indices:
each pair of non-zeros of a column contributes one multiply-add to the upper
triangle of the dense ``s`` (MixedModels.jl's ``rankUpdate!`` for a sparse
block into a dense one).  It is compiled with numba, an optional accelerator:
callers check :data:`HAVE_NUMBA` first.  numba is imported on first use only.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

HAVE_NUMBA = importlib.util.find_spec("numba") is not None


def _scatter_subtract(
    s: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    w: NDArray[np.float64],
) -> None:
    m = s.shape[1]
    flat = s.reshape(-1)
    for j in range(indptr.size - 1):
        start, stop = indptr[j], indptr[j + 1]
        for a in range(start, stop):
            va = w[j] * data[a]
            row = indices[a] * m
            for b in range(a, stop):
                flat[row + indices[b]] -= va * data[b]


_compiled: list[Callable[..., Any]] = []


def scatter_subtract(
    s: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    w: NDArray[np.float64],
) -> None:
    """The numba-compiled kernel (compiled on first use, cached on disk); needs numba."""
    if not _compiled:
        from numba import njit

        _compiled.append(njit(cache=True, nogil=True)(_scatter_subtract))
    _compiled[0](s, indptr, indices, data, w)
