"""Compiled kernels (optional): the scaled Schur complement of the blocked Cholesky, and the
weighted column norms of ``V A`` used by the gradient of the LMM criterion.

``scaled_schur(s, a_rr, row_ptr, row_col, row_pos, indptr, indices, data, w, scale)``
forms the upper triangle (row ≤ column) of

    s = D (A_RR − A diag(w) A') D,    D = diag(scale),

from the dense ``A_RR`` and a sparse ``A`` given in CSC form (``indptr``,
``indices`` sorted within columns, ``data``) plus a row-wise index of the same
entries (``row_ptr``; for each entry its column ``row_col`` and its position
``row_pos`` in the CSC arrays).  Each pair of non-zeros ``r1 ≤ r2`` of a
column ``j`` contributes ``w_j (d_r1 a_r1j)(d_r2 a_r2j)`` (MixedModels.jl's
``rankUpdate!`` for a sparse block into a dense one, with the scaling by
``Λ_θ`` of the later scalar terms folded in).  The pairs are visited by
target row: row ``r`` of ``s`` is copied from ``A_RR``, scaled, and then
receives, for every column holding an entry in row ``r``, that column's
entries from row ``r`` down — so the writes stay in one row, which stays in
cache, instead of scattering over all of ``s``.  Rows are shared out over
the threads (row ``r`` to thread ``r mod T``); no two threads write the
same entry.

``weighted_solve_norms(v, indptr, indices, data, scale, w, r)`` is

    Σ_j w_j ‖V D a_j‖²,   D = diag(scale),

over the columns ``a_j`` of the same sparse ``A`` (only their rows ``< r``), with ``V``
the ``r x r`` lower-triangular inverse of a Cholesky factor (Fortran order, its strict
upper triangle not read): the trace ``tr(S^{-1} A D diag(w) D A')`` for ``S = (V'V)^{-1}``
without forming ``S^{-1}``.  ``V a_j`` is a sum of the columns of ``V`` at the
non-zeros of ``a_j``, each from its own row down.  The rows of ``V`` are taken in tiles
of :data:`_TILE` that stay in cache while every column passes through them (the norm
is a sum over tiles); tiles are shared out over the threads.  It is compiled with
``fastmath`` (its sums may be reassociated, for SIMD).  The squared column norms
of ``V`` (the diagonal of ``V'V``) come out of the same pass.

Both are compiled with numba, an optional accelerator: callers check
:data:`HAVE_NUMBA` first; numba is imported on first use only.
"""

from __future__ import annotations

import importlib.util
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

HAVE_NUMBA = importlib.util.find_spec("numba") is not None

#: The loop over threads: plain ``range`` here, ``numba.prange`` in the compiled copy.
prange = range
#: Rows of ``V`` per tile of :func:`weighted_solve_norms` (a ``256 x r`` tile stays in cache;
#: measured on InstEval's 1,142 rows: 64 rows 28 ms, 256 rows 5.7 ms on 2 threads).
_TILE = 256


def _scaled_schur(
    s: NDArray[np.float64],
    a_rr: NDArray[np.float64],
    row_ptr: NDArray[np.int64],
    row_col: NDArray[np.int64],
    row_pos: NDArray[np.int64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    w: NDArray[np.float64],
    scale: NDArray[np.float64],
    n_threads: int,
) -> None:
    m = s.shape[1]
    for t in prange(n_threads):
        for r in range(t, m, n_threads):
            d = scale[r]
            for c in range(r, m):
                s[r, c] = a_rr[r, c] * d * scale[c]
            for e in range(row_ptr[r], row_ptr[r + 1]):
                j, start = row_col[e], row_pos[e]
                va = w[j] * data[start] * d
                for b in range(start, indptr[j + 1]):
                    rb = indices[b]
                    s[r, rb] -= va * data[b] * scale[rb]


def _weighted_solve_norms(
    v: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    scale: NDArray[np.float64],
    w: NDArray[np.float64],
    norms: NDArray[np.float64],
    partial: NDArray[np.float64],
) -> None:
    n_threads, r = norms.shape
    n_cols = indptr.size - 1
    n_tiles = (r + _TILE - 1) // _TILE
    for t in prange(n_threads):
        y = np.zeros(_TILE)
        total = 0.0
        for tile in range(t, n_tiles, n_threads):
            k0 = tile * _TILE
            k1 = min(r, k0 + _TILE)
            for c in range(k1):  # the tile's part of the column norms of V
                col = v[max(c, k0) : k1, c]
                acc = 0.0
                for i in range(col.size):
                    acc += col[i] * col[i]
                norms[t, c] += acc
            for j in range(n_cols):
                for e in range(indptr[j], indptr[j + 1]):
                    c = indices[e]
                    if c >= k1:
                        break
                    va = data[e] * scale[c]
                    lo = max(c, k0)
                    col = v[lo:k1, c]
                    part = y[lo - k0 :]
                    for i in range(col.size):
                        part[i] += va * col[i]
                norm2 = 0.0
                for i in range(k1 - k0):
                    norm2 += y[i] * y[i]
                    y[i] = 0.0
                total += w[j] * norm2
        partial[t] = total


_compiled: dict[str, Callable[..., Any]] = {}


def _kernel(fn: Callable[..., Any], fastmath: bool = False) -> Callable[..., Any]:
    """``fn`` compiled by numba (on first use, cached on disk), its thread loop a ``prange``."""
    import numba

    if fn.__name__ not in _compiled:
        namespace = {**fn.__globals__, "prange": numba.prange}
        source = types.FunctionType(fn.__code__, namespace, fn.__name__)
        jit = numba.njit(cache=True, nogil=True, parallel=True, fastmath=fastmath)
        _compiled[fn.__name__] = jit(source)
    return _compiled[fn.__name__]


def scaled_schur(
    s: NDArray[np.float64],
    a_rr: NDArray[np.float64],
    row_ptr: NDArray[np.int64],
    row_col: NDArray[np.int64],
    row_pos: NDArray[np.int64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    w: NDArray[np.float64],
    scale: NDArray[np.float64],
) -> None:
    """The compiled Schur-complement kernel (see the module docstring); needs numba."""
    import numba

    _kernel(_scaled_schur)(
        s, a_rr, row_ptr, row_col, row_pos, indptr, indices, data, w, scale, numba.get_num_threads()
    )


def weighted_solve_norms(
    v: NDArray[np.float64],
    indptr: NDArray[np.int64],
    indices: NDArray[np.int64],
    data: NDArray[np.float64],
    scale: NDArray[np.float64],
    w: NDArray[np.float64],
    r: int,
) -> tuple[float, NDArray[np.float64]]:
    """``Σ_j w_j ‖V D a_j‖²`` and the squared column norms of ``V``; needs numba.

    ``V`` is read in its leading ``r x r`` block only (see the module docstring).
    """
    import numba

    n_threads = numba.get_num_threads()
    norms = np.zeros((n_threads, r))
    partial = np.zeros(n_threads)
    kernel = _kernel(_weighted_solve_norms, fastmath=True)
    kernel(v, indptr, indices, data, scale, w, norms, partial)
    return float(partial.sum()), norms.sum(axis=0)
