"""Compiled kernels (optional): the scaled Schur complement of the blocked Cholesky.

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
same entry.  It is compiled with numba, an optional accelerator: callers
check :data:`HAVE_NUMBA` first; numba is imported on first use only.
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


_compiled: list[Callable[..., Any]] = []


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
    """The numba-compiled kernel (compiled on first use, cached on disk); needs numba."""
    import numba

    if not _compiled:
        # the loop over threads is a numba.prange in the compiled copy
        namespace = {**_scaled_schur.__globals__, "prange": numba.prange}
        source = types.FunctionType(_scaled_schur.__code__, namespace, _scaled_schur.__name__)
        _compiled.append(numba.njit(cache=True, nogil=True, parallel=True)(source))
    _compiled[0](
        s, a_rr, row_ptr, row_col, row_pos, indptr, indices, data, w, scale, numba.get_num_threads()
    )
