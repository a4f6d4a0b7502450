"""The shared linear predictor: Λ(θ), the blocked Cholesky factor, solves, log-determinants.

Notation (Bates et al. 2015, JSS 67(1), section 3): ``W`` prior weights,
``Λ_θ`` the relative covariance factor, ``u`` spherical random effects with
``b = Λ_θ u``.  With sqrt-weights applied to the rows, stack ``[Z X y]`` and
form its Gram matrix once,

    A = [Z X y]' W [Z X y],

then for each θ scale and inflate it,

    Ω_θ = diag(Λ_θ, I_p, 1)' A diag(Λ_θ, I_p, 1) + diag(I_q, 0, 0),

and factor ``Ω_θ = L L'``.  The leading ``q x q`` block of ``L`` is the
sparse factor ``L_θ`` and the next ``p x p`` block is ``R_X'`` of the block
Cholesky decomposition (eq. 18), and the last diagonal entry is ``r_θ``, so that

    log|L_θ|² = 2 Σ log diag(L)[:q],   log|R_X|² = 2 Σ log diag(L)[q:q+p],
    r²_θ = L[-1, -1]²   (the minimum of the penalised weighted RSS, eqs. 14 and 19).

No solve is needed for the objective.  The blocks are permuted, not the
rows: the random term with most columns comes first, so its block of
``Ω_θ`` (one ``k x k`` block per level) keeps that structure in ``L``; the
rest — the other random terms, X and y — is eliminated into one dense
Schur complement, which LAPACK factors.  Forming it needs the scattered
rank update ``A_R0 W_0 A_R0'`` (``W_0`` block diagonal in θ): SciPy's sparse
product, a NumPy kernel over precomputed pairs of non-zeros, or a compiled
kernel when numba is installed (:mod:`interlace.engine.kernels`).  ``β̂`` and
``û`` (the normal equations, eq. 17) come from back-substitution after
convergence.  Designs whose later factors are nested in the leading one, or
whose dense block would be too big, go to
:class:`~interlace.engine.sparse_predictor.SparsePredictor` instead.

This module knows nothing about the response distribution; the Gaussian
objective and PIRLS for GLMMs build on :class:`BlockedPredictor`.  Only the
values of ``A`` depend on the weights and ``y``: its sparsity patterns, the
map from rows to entries and the scatter kernel's pairs are fixed at
construction, so :meth:`BlockedPredictor.reweight` (every PIRLS iteration)
is a few ``bincount`` calls and sparse-times-dense products.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.engine.kernels import HAVE_NUMBA, scaled_schur, weighted_solve_norms
from interlace.engine.protocol import RandomTermDesign
from interlace.engine.threads import caller_blas_threads
from interlace.errors import NumericalError

FloatArray = NDArray[np.float64]

#: A_R0 is kept dense when at least this fraction of it is non-zero.
_DENSE_FRACTION = 0.25
#: An X pivot that lost this fraction of its diagonal marks a rank-deficient X.
_PIVOT_TOL = 1e-12
#: Largest number of precomputed outer-product pairs for the NumPy scatter kernel (memory).
_MAX_PAIRS = 30_000_000
#: Columns of A_R0 with at least this fraction of its rows non-zero are updated by BLAS
#: (``syrk``, about m² flops) rather than scattered (c²/2 cache-missing multiply-adds).
_DENSE_COLUMN_FRACTION = 0.12
#: From this many pairs on, the compiled scatter kernel is used when numba is installed.
_COMPILED_MIN_PAIRS = 1_000_000


def term_columns(term: RandomTermDesign) -> NDArray[np.int64]:
    """Column of ``Z_i`` (level-major, as in lme4's ``Zt``) of each entry of ``term.z``: (n, k)."""
    k = np.asarray(term.z).shape[1]
    refs = np.asarray(term.refs, dtype=np.int64)
    return np.asarray(refs[:, None] * k + np.arange(k)[None, :], dtype=np.int64)


def _transposed(cols: NDArray[np.int64], z: FloatArray, n_cols: int) -> sp.csr_matrix:
    """Sparse ``Z'`` (n_cols x n) of the matrix with entries ``z`` in columns ``cols`` (n x k)."""
    n, k = z.shape
    indptr = np.arange(0, n * k + 1, k)
    zmat = sp.csr_matrix((z.ravel(), cols.ravel(), indptr), shape=(n, n_cols))
    return sp.csr_matrix(zmat.T.tocsr())


class LambdaMap:
    """θ ↦ the ``k x k`` lower-triangular ``lambda`` of every term.

    For structures linear in θ (those with a ``template``) each ``lambda`` is
    one gather from ``[θ, 0]`` (the role of lme4's ``Lind``); other
    structures are asked to ``fill`` themselves.
    """

    def __init__(self, terms: Sequence[RandomTermDesign]) -> None:
        self.terms = list(terms)
        n_theta = sum(t.cov.n_theta for t in self.terms)
        self.index: list[NDArray[np.intp] | None] = []
        for t in self.terms:
            tmpl = t.cov.template()
            if tmpl is None:
                self.index.append(None)
            else:
                self.index.append(np.where(tmpl >= 0, tmpl + t.theta_slice.start, n_theta))

    def __call__(self, theta: FloatArray) -> list[FloatArray]:
        padded = np.append(theta, 0.0)
        return [
            padded[idx] if idx is not None else t.cov.fill(theta[t.theta_slice])
            for t, idx in zip(self.terms, self.index, strict=True)
        ]


def _csc_positions(a: sp.csr_matrix) -> sp.csc_matrix:
    """The CSC layout of ``a`` (sorted rows) whose data are the positions in ``a.data``.

    ``a.data[pos.data]`` is then the data of ``a.tocsc()``, for any values
    in ``a``'s pattern.
    """
    pos = sp.csr_matrix((np.arange(a.nnz, dtype=float), a.indices, a.indptr), shape=a.shape).tocsc()
    pos.sort_indices()
    return pos


class _PairScatter:
    """Precomputed kernel for ``A diag(w) A'`` (upper triangle) with ``A`` sparse, ``w`` varying.

    Every column ``j`` of ``A`` adds ``w_j a_rj a_sj`` to entry ``(r, s)``,
    ``r <= s``, for each pair of its non-zeros — MixedModels.jl's scatter
    rank update.  The pairs and their target entries are found once for the
    pattern of ``A``, sorted by target; new values of ``A`` (same pattern)
    only recompute the products (:meth:`set_values`); an evaluation is a
    multiply, a segmented sum and one scatter.
    """

    def __init__(self, a: sp.csr_matrix) -> None:
        csc = _csc_positions(a)
        m = csc.shape[0]
        counts = np.diff(csc.indptr)
        cols, first, second = [], [], []
        for k in np.unique(counts[counts > 0]):
            js = np.flatnonzero(counts == k)
            pos = csc.indptr[js][:, None] + np.arange(k)[None, :]  # (len(js), k)
            i1, i2 = np.triu_indices(k)
            cols.append(np.repeat(js, i1.size))
            first.append(pos[:, i1].ravel())
            second.append(pos[:, i2].ravel())
        col = np.concatenate(cols)
        p1, p2 = np.concatenate(first), np.concatenate(second)
        target = csc.indices[p1].astype(np.int64) * m + csc.indices[p2]
        order = np.argsort(target, kind="stable")
        target = target[order]
        self.col = col[order].astype(np.intp)
        # positions in a.data of the two factors of every product
        self.first = csc.data[p1[order]].astype(np.intp)
        self.second = csc.data[p2[order]].astype(np.intp)
        starts = np.flatnonzero(np.r_[True, target[1:] != target[:-1]])
        self.starts = starts
        self.targets = target[starts]
        self.set_values(a.data)

    def set_values(self, data: FloatArray) -> None:
        """New values of ``A`` in the CSR order of the matrix the kernel was built for."""
        self.prod = data[self.first] * data[self.second]

    @staticmethod
    def n_pairs(a: sp.csr_matrix) -> int:
        """Number of pairs the kernel would store for ``a``."""
        counts = np.diff(a.tocsc().indptr).astype(np.int64)
        return int(np.sum(counts * (counts + 1) // 2))

    def scaled_schur(self, a_rr: FloatArray, w: FloatArray, scale: FloatArray) -> FloatArray:
        """Upper triangle (row ≤ column) of ``D (A_RR − A diag(w) A') D``, ``D = diag(scale)``."""
        s = a_rr.copy()
        vals = w[self.col]
        vals *= self.prod
        s.ravel()[self.targets] -= np.add.reduceat(vals, self.starts)
        s *= scale[:, None]
        s *= scale[None, :]
        return s


class _CompiledScatter:
    """The same update as :class:`_PairScatter` by the compiled kernel, dense for heavy columns.

    A column with ``c`` non-zeros costs ``c²/2`` scattered multiply-adds;
    columns with at least ``dense_min`` of them (heavy-tailed degrees, as
    MovieLens users) are cheaper as one BLAS ``syrk`` of their dense block
    ``B`` (the rows any of them touches), ``B diag(w) B'``.
    """

    def __init__(self, a: sp.csr_matrix, dense_min: int) -> None:
        csc = _csc_positions(a)
        counts = np.diff(csc.indptr)
        heavy = counts >= dense_min
        in_heavy = np.repeat(heavy, counts)
        self.indptr = np.r_[0, np.cumsum(np.where(heavy, 0, counts))].astype(np.int64)
        self.indices = csc.indices[~in_heavy].astype(np.int64)
        self.positions = csc.data[~in_heavy].astype(np.intp)
        # the same entries row by row: their columns and positions in the CSC arrays
        by_row = np.argsort(self.indices, kind="stable")
        self.row_ptr = np.r_[0, np.cumsum(np.bincount(self.indices, minlength=a.shape[0]))]
        self.row_col = np.repeat(np.arange(counts.size), np.diff(self.indptr))[by_row]
        self.row_pos = by_row.astype(np.int64)
        self.heavy_cols = np.flatnonzero(heavy)
        heavy_rows = csc.indices[in_heavy]
        self.rows = np.unique(heavy_rows)
        self.all_rows = self.rows.size == csc.shape[0]
        k = self.heavy_cols.size
        col = np.repeat(np.arange(k), counts[heavy])
        self.heavy_flat = np.searchsorted(self.rows, heavy_rows) * k + col
        self.heavy_positions = csc.data[in_heavy].astype(np.intp)
        self.dense = np.zeros((self.rows.size, k))
        self.set_values(a.data)

    def set_values(self, data: FloatArray) -> None:
        """New values of ``A`` in the CSR order of the matrix the kernel was built for."""
        self.data = np.asarray(data[self.positions], dtype=float)
        self.dense.ravel()[self.heavy_flat] = data[self.heavy_positions]

    def scaled_schur(self, a_rr: FloatArray, w: FloatArray, scale: FloatArray) -> FloatArray:
        """Upper triangle (row ≤ column) of ``D (A_RR − A diag(w) A') D``, ``D = diag(scale)``."""
        s = np.empty_like(a_rr)
        scaled_schur(
            s,
            a_rr,
            *(self.row_ptr, self.row_col, self.row_pos),
            *(self.indptr, self.indices, self.data),
            w,
            scale,
        )
        if self.heavy_cols.size:
            b = self.dense * scale[self.rows, None]
            b *= np.sqrt(w[self.heavy_cols])
            with caller_blas_threads(self.rows.size):
                if self.all_rows:  # s.T is s in Fortran order: its lower triangle is s's upper
                    sla.blas.dsyrk(-1.0, b, beta=1.0, c=s.T, lower=1, overwrite_c=1)
                else:
                    s[np.ix_(self.rows, self.rows)] -= sla.blas.dsyrk(1.0, b)  # upper of B B'
        return s


def _scatter_kernel(a: sp.csr_matrix) -> _PairScatter | _CompiledScatter | None:
    """The fastest available kernel for ``A diag(w) A'``, or ``None`` for SciPy's product."""
    n_pairs = _PairScatter.n_pairs(a)
    if HAVE_NUMBA and n_pairs >= _COMPILED_MIN_PAIRS:
        return _CompiledScatter(a, max(1, int(_DENSE_COLUMN_FRACTION * a.shape[0])))
    if n_pairs <= _MAX_PAIRS:
        return _PairScatter(a)
    return None


class _WeightedCross:
    """``A' W B`` on a fixed sparsity pattern, for new weights ``W = diag(w)``.

    ``A`` and ``B`` have a fixed number of non-zeros per row (a random term
    has ``k`` per row, in the columns of the row's level), given as
    ``(n, k_a)`` / ``(n, k_b)`` column indices and values.  Every row adds
    ``(√w_i a_ic)(√w_i b_id)`` to entry ``(c, d)`` — the products of the
    row-scaled matrices, in row order, as SciPy's sparse product forms
    them.  The entries hit (``keys``, flat row-major indices
    ``c * n_cols_b + d``, sorted) and the entry of every product are found
    once, so a reweight is one ``bincount``.
    """

    def __init__(
        self,
        cols_a: NDArray[np.int64],
        a: FloatArray,
        cols_b: NDArray[np.int64],
        b: FloatArray,
        n_cols_b: int,
    ) -> None:
        keys = (cols_a[:, :, None] * n_cols_b + cols_b[:, None, :]).ravel()
        # products that are 0 for any weights (zeros in z) are left out, as from SciPy's product
        nonzero = (a[:, :, None] * b[:, None, :]).ravel() != 0.0
        self.nonzero: NDArray[np.intp] | None = None if np.all(nonzero) else np.flatnonzero(nonzero)
        if self.nonzero is not None:
            keys = keys[self.nonzero]
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.inverse = inverse.ravel()
        self.shape = (a.shape[0], a.shape[1], b.shape[1])
        # values, or None when all are 1 (intercept-only terms): √w · 1 is √w
        self.a = _unless_ones(a)
        self.b = _unless_ones(b)

    def values(self, sqrt_w: FloatArray) -> FloatArray:
        """The entries at ``keys`` of ``A' diag(w) B``, from ``√w``."""
        sw = sqrt_w[:, None]
        sa, sb = _scaled(self.a, sw), _scaled(self.b, sw)
        weights = np.broadcast_to(sa[:, :, None] * sb[:, None, :], self.shape).ravel()
        if self.nonzero is not None:
            weights = weights[self.nonzero]
        out = np.bincount(self.inverse, weights=weights, minlength=self.keys.size)
        return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class _Segment:
    """Rows ``start : start + nlev * k`` of the dense block, one random term."""

    term: int
    start: int
    nlev: int
    k: int


class BlockedPredictor:
    """Blocked Cholesky factor of ``Ω_θ`` for fixed data, refactored per θ.

    Parameters
    ----------
    terms : sequence of RandomTermDesign
        Random terms in lme4's order (the order of ``theta``).
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
        Response with any offset already subtracted.
    weights : ndarray, shape (n,), optional
        Prior weights.

    Notes
    -----
    After :meth:`update` the attributes ``ldL2``, ``ldRX2`` and ``pwrss``
    hold ``log|L_θ|²``, ``log|R_X|²`` and ``r²_θ``.  A failed factorisation
    raises :class:`~interlace.errors.NumericalError`.
    """

    def __init__(
        self,
        terms: Sequence[RandomTermDesign],
        X: FloatArray,
        y: FloatArray,
        weights: FloatArray | None = None,
    ) -> None:
        n, p = X.shape
        self.n, self.p = n, p
        self.X = np.asarray(X, dtype=float)
        self.terms = list(terms)
        zs = [np.asarray(t.z, dtype=float) for t in self.terms]
        cols = [term_columns(t) for t in self.terms]
        sizes = [len(t.levels) * z.shape[1] for t, z in zip(self.terms, zs, strict=True)]
        # the term with most columns leads; stable, so ties keep lme4's order
        self.order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
        lead = self.order[0]
        self.lead = lead
        self.k0 = zs[lead].shape[1]
        self.nlev0 = len(self.terms[lead].levels)
        self.q = int(sum(sizes))
        self.theta_size = sum(t.cov.n_theta for t in self.terms)
        self.lambda_map = LambdaMap(self.terms)
        # the rest: other random terms, then X, then y
        rest = list(self.order[1:])
        segs, start = [], 0
        for i in rest:
            nlev = len(self.terms[i].levels)
            segs.append(_Segment(i, start, nlev, sizes[i] // nlev))
            start += sizes[i]
        self.segments = segs
        self.q_rest = start
        self._any_scalar_rest = any(seg.k == 1 for seg in segs)
        self._any_vector_rest = any(seg.k > 1 for seg in segs)
        self._re_diag = np.arange(start) * (start + p + 2)  # flat positions of the RE diagonal
        self.m = start + p + 1
        self._design_patterns(zs, cols, sizes[lead])
        self.a_rr: FloatArray = np.empty((self.m, self.m))
        self._w: FloatArray | None = None
        # state of the last update
        self.theta: FloatArray = np.full(self.theta_size, np.nan)
        self.lams: list[FloatArray] = []
        self.m0: FloatArray = np.empty((self.nlev0, self.k0, self.k0))
        self.ls: FloatArray = np.empty((self.m, self.m))
        self.ldL2 = np.nan
        self.ldRX2 = np.nan
        self.pwrss = np.nan
        self.rest_scale: FloatArray = np.ones(self.m)
        self.reweight(y, weights)

    def _design_patterns(
        self, zs: Sequence[FloatArray], cols: Sequence[NDArray[np.int64]], q0: int
    ) -> None:
        """Everything about ``A`` that does not depend on the weights or on ``y``.

        ``A_R0`` (``m x q0``) has the sparse ``Z_R' W Z_0`` on top and the
        dense ``[X y]' W Z_0`` below; its CSR pattern, its transpose's and the
        scatter kernel's pairs are fixed here.
        """
        lead, qr, m = self.lead, self.q_rest, self.m
        self._lead_refs = np.asarray(self.terms[lead].refs, dtype=np.intp)
        self._lead_z = _unless_ones(zs[lead])
        self._z0t = _transposed(cols[lead], zs[lead], q0)
        self._z0t_z = _unless_ones(self._z0t.data.copy())  # unweighted; reweight scales them
        top_rows = np.empty(0, dtype=np.int64)
        top_cols = np.empty(0, dtype=np.int64)
        self._cross_r0: _WeightedCross | None = None
        self._cross_rr: _WeightedCross | None = None
        if self.segments:
            cols_r = np.hstack([cols[seg.term] + seg.start for seg in self.segments])
            z_r = np.hstack([zs[seg.term] for seg in self.segments])
            self._cross_r0 = _WeightedCross(cols_r, z_r, cols[lead], zs[lead], q0)
            self._cross_rr = _WeightedCross(cols_r, z_r, cols_r, z_r, qr)
            self._zrt = _transposed(cols_r, z_r, qr)
            self._zrt_z = _unless_ones(self._zrt.data.copy())
            top_rows, top_cols = np.divmod(self._cross_r0.keys, q0)
        # [X y]' W Z_0: zero where X is zero on all rows of a level (dummies), else dense
        abs_z0t = sp.csr_matrix((np.abs(self._z0t.data), self._z0t.indices, self._z0t.indptr))
        xy_pattern = np.vstack([np.asarray(abs_z0t @ np.abs(self.X)).T != 0.0, np.ones(q0, bool)])
        self._xy_flat = np.flatnonzero(xy_pattern)
        xy_rows, xy_cols = np.divmod(self._xy_flat, q0)
        row_nnz = np.r_[
            np.bincount(top_rows, minlength=qr), np.bincount(xy_rows, minlength=self.p + 1)
        ]
        indptr = np.r_[0, np.cumsum(row_nnz)]
        indices = np.r_[top_cols, xy_cols]
        a_r0 = sp.csr_matrix((np.zeros(indices.size), indices, indptr), shape=(m, q0))
        self._dense_r0 = a_r0.nnz >= _DENSE_FRACTION * m * q0
        if self._dense_r0:
            self._r0_flat = np.repeat(np.arange(m), row_nnz) * q0 + indices
            self.a_r0_dense: FloatArray = np.zeros((m, q0))
        else:
            self.a_r0_sparse: sp.csr_matrix = a_r0
            pos = _csc_positions(a_r0)
            self._t_positions = pos.data.astype(np.intp)
            self.a_r0t_sparse: sp.csr_matrix = sp.csr_matrix(
                (np.zeros(a_r0.nnz), pos.indices, pos.indptr), shape=(q0, m)
            )
            # the same arrays as int64, for the compiled gradient kernel
            self._r0t_indptr = pos.indptr.astype(np.int64)
            self._r0t_indices = pos.indices.astype(np.int64)
        self._scatter = _scatter_kernel(a_r0) if self.k0 == 1 and not self._dense_r0 else None

    def reweight(self, y: FloatArray, weights: FloatArray | None = None) -> None:
        """New response and prior weights on the same design (PIRLS's working ones).

        Refills ``A`` on the patterns fixed at construction; call
        :meth:`update` next.  Every entry is a sum over rows of products of
        the ``√w``-scaled rows, as a fresh construction forms it.  The parts
        that involve the weights only are kept when ``weights`` equal the
        previous call's (PIRLS starts every evaluation from the same weights).
        """
        w = np.ones(self.n) if weights is None else np.asarray(weights, dtype=float)
        if self._w is None or not np.array_equal(w, self._w):
            self._set_weights(w)
        sw = self._sw
        xy = np.empty((self.n, self.p + 1))
        np.multiply(self.X, sw[:, None], out=xy[:, :-1])
        np.multiply(y, sw, out=xy[:, -1])
        xy_0 = np.asarray((self._z0t @ xy).T)  # (p+1) x q0
        qr, a_rr = self.q_rest, self.a_rr
        a_rr[qr:, qr:] = xy.T @ xy
        data = xy_0.ravel()[self._xy_flat]
        if qr:
            data = np.concatenate([self._zz_r0, data])
            zr_xy = np.asarray(self._zrt @ xy)
            a_rr[:qr, qr:] = zr_xy
            a_rr[qr:, :qr] = zr_xy.T
        if self._dense_r0:
            self.a_r0_dense.ravel()[self._r0_flat] = data
            return
        self.a_r0_sparse.data[:] = data
        self.a_r0t_sparse.data[:] = data[self._t_positions]
        if self._scatter is not None:
            self._scatter.set_values(data)

    def _set_weights(self, w: FloatArray) -> None:
        """The parts of ``A`` without ``X`` or ``y``: ``A_00``, ``Z_R' W Z_0``, ``Z_R' W Z_R``."""
        self._w = w.copy()
        sw = np.sqrt(w)
        self._sw = sw
        self.a00 = _leading_gram(self._lead_refs, _scaled(self._lead_z, sw[:, None]), self.nlev0)
        self._z0t.data = _scaled(self._z0t_z, sw[self._z0t.indices])
        if self._cross_r0 is not None and self._cross_rr is not None:
            qr = self.q_rest
            self._zz_r0 = self._cross_r0.values(sw)
            zz = np.zeros(qr * qr)
            zz[self._cross_rr.keys] = self._cross_rr.values(sw)
            self.a_rr[:qr, :qr] = zz.reshape(qr, qr)
            self._zrt.data = _scaled(self._zrt_z, sw[self._zrt.indices])

    # ------------------------------------------------------------------ update
    def update(self, theta: FloatArray) -> None:
        """Set ``θ`` and refactor ``Ω_θ``; fills ``ldL2``, ``ldRX2``, ``pwrss``."""
        theta = np.asarray(theta, dtype=float)
        lams = self.lambda_map(theta)
        lam0 = lams[self.lead]
        scale = np.ones(self.m)  # the scalar terms' λ on their rows
        scaled = False  # whether s has them already
        for seg in self.segments:
            if seg.k == 1:
                scale[seg.start : seg.start + seg.nlev] = lams[seg.term][0, 0]
        # leading block: M0 = λ0' A_l λ0 + I per level, and W0 = λ0 M0^{-1} λ0'
        if self.k0 == 1:
            lsq = lam0[0, 0] ** 2
            m0 = lsq * self.a00[:, 0, 0] + 1.0
            w0 = lsq / m0
            ld0 = float(np.sum(np.log(m0)))
            self.m0 = np.asarray(m0.reshape(-1, 1, 1), dtype=float)
            if self._scatter is not None:  # the kernel forms the upper triangle only
                s = self._scatter.scaled_schur(self.a_rr, w0, scale)
                scaled = True
                if self._any_vector_rest:  # block scaling below mixes rows: needs both halves
                    lower = np.tril_indices(self.m, -1)
                    s[lower] = s.T[lower]
            else:
                s = self.a_rr - self._schur_product_scalar(w0)
        else:
            m0 = lam0.T @ self.a00 @ lam0
            m0 += np.eye(self.k0)
            l0 = np.linalg.cholesky(m0)
            ld0 = 2.0 * float(np.sum(np.log(np.diagonal(l0, axis1=1, axis2=2))))
            w0 = lam0 @ np.linalg.solve(m0, np.broadcast_to(lam0.T, m0.shape))
            self.m0 = np.asarray(m0, dtype=float)
            s = self.a_rr - self._schur_product_blocks(w0)
        # Λ_R' S Λ_R: scalar terms by one row and one column scaling (unless the
        # scatter kernel did it), others per block
        for seg in self.segments:
            if seg.k > 1:
                _scale_rows(s, seg, lams[seg.term])
                _scale_rows(s.T, seg, lams[seg.term])
        if self._any_scalar_rest and not scaled:
            s *= scale[:, None]
            s *= scale[None, :]
        if self.q_rest:
            s.ravel()[self._re_diag] += 1.0
        qr, p = self.q_rest, self.p
        x_diag = np.diagonal(s)[qr : qr + p].copy()
        # s is symmetric and its upper triangle is set: s.T is that matrix in Fortran
        # order with the needed lower triangle, without a copy
        # only the lower triangle of the factor is ever read (solves, inverses): no clean-up pass
        with caller_blas_threads(self.m):
            ls, info = sla.lapack.dpotrf(s.T, lower=1, clean=0, overwrite_a=1)
        d = np.diagonal(ls)
        # random-effect pivots are >= 1 (Schur complements of a matrix >= I);
        # an X pivot that lost nearly all of its diagonal means X is rank deficient
        if info != 0 or np.any(d[qr : qr + p] ** 2 <= _PIVOT_TOL * x_diag):
            raise NumericalError(
                f"Cholesky factor of the penalised system failed at theta={theta.tolist()} "
                "(is X rank deficient?)"
            )
        self.ldL2 = ld0 + 2.0 * float(np.sum(np.log(d[:qr])))
        self.ldRX2 = 2.0 * float(np.sum(np.log(d[qr : qr + p])))
        self.pwrss = float(d[-1] ** 2)
        self.ls = ls
        self.theta = theta.copy()
        self.lams = lams
        self.rest_scale = scale

    @property
    def scalar_terms(self) -> bool:
        """Whether every random term has one column per level (``θ_k`` scales its block)."""
        return self.k0 == 1 and not self._any_vector_rest

    def inverse_traces(self, with_x: bool) -> FloatArray:
        """Per term, the trace of its diagonal block of an inverse, at the last θ (scalar terms).

        The inverse is of ``M = Λ'Z'WZΛ + I`` (``with_x=False``) or of ``Ω_θ`` without
        its ``y`` row and column (``with_x=True``).  With the leading block ``M_0 =
        diag(m_j)`` eliminated, ``C`` the block below it, ``S`` the Schur complement
        (the first ``r`` rows of the dense block) and ``V = L_S^{-1}``:

            inverse, rest:     S^{-1} = V'V,  diagonal = squared column norms of V;
            inverse, leading:  M_0^{-1} + M_0^{-1} C' S^{-1} C M_0^{-1},
                               trace = Σ_j 1/m_j + Σ_j ‖V c_j‖² / m_j².

        ``c_j = λ_0 D a_j`` with ``a_j`` the column of ``A_R0`` and ``D`` the rest's
        scaling, so the last sum is :func:`~interlace.engine.kernels.weighted_solve_norms`
        with weights ``λ_0² / m_j²``.  One triangular inversion (``r³/3`` flops) and
        ``nnz(A_R0)·r/2`` multiply-adds.
        """
        m0 = self.m0[:, 0, 0]
        traces = np.zeros(len(self.terms))
        traces[self.lead] = float(np.sum(1.0 / m0))
        r = self.q_rest + (self.p if with_x else 0)
        if r == 0:
            return traces
        with caller_blas_threads(r):
            v = sla.lapack.dtrtri(self.ls[:r, :r], lower=1)[0]
        w = self.lams[self.lead][0, 0] ** 2 / m0**2
        scale = self.rest_scale
        if isinstance(self._scatter, _CompiledScatter):  # large: the compiled kernel
            args = (self._r0t_indptr, self._r0t_indices, self.a_r0t_sparse.data, scale, w, r)
            lead_part, norms = weighted_solve_norms(v, *args)
        else:
            v_low = np.tril(v)
            norms = np.einsum("ij,ij->j", v_low, v_low)
            if self._dense_r0:
                vc = v_low @ (self.a_r0_dense[:r] * scale[:r, None])
                lead_part = float(np.einsum("ij,ij,j->", vc, vc, w))
            else:
                ct = self.a_r0t_sparse[:, :r] @ sp.diags(scale[:r])
                cv = np.asarray(ct @ v_low.T)
                lead_part = float(np.einsum("ji,ji,j->", cv, cv, w))
        traces[self.lead] += lead_part
        for seg in self.segments:
            traces[seg.term] = float(np.sum(norms[seg.start : seg.start + seg.nlev]))
        return traces

    def _schur_product_scalar(self, w0: FloatArray) -> FloatArray:
        """``A_R0 diag(w0) A_R0'`` for a scalar leading term."""
        if self._dense_r0:
            dense = self.a_r0_dense
            return np.asarray((dense * w0) @ dense.T, dtype=float)
        a = self.a_r0_sparse
        scaled = sp.csr_matrix((a.data * w0[a.indices], a.indices, a.indptr), shape=a.shape)
        return np.asarray((scaled @ self.a_r0t_sparse).toarray(), dtype=float)

    def _schur_product_blocks(self, w0: FloatArray) -> FloatArray:
        """``A_R0 blockdiag(w0) A_R0'`` for a vector-valued leading term."""
        l0, k0 = self.nlev0, self.k0
        if self._dense_r0:
            a = self.a_r0_dense
            aw = np.einsum("mlk,lkj->mlj", a.reshape(-1, l0, k0), w0).reshape(a.shape)
            return aw @ a.T
        wmat = sp.bsr_matrix((w0, np.arange(l0), np.arange(l0 + 1)), shape=(l0 * k0, l0 * k0))
        return ((self.a_r0_sparse @ wmat) @ self.a_r0t_sparse).toarray()

    # ------------------------------------------------------------------ solves
    def solve(self) -> tuple[FloatArray, list[FloatArray]]:
        """``β̂`` and the spherical ``û`` per term (lme4 order) at the last θ.

        Returns
        -------
        beta : ndarray, shape (p,)
        u : list of ndarray, each of shape (levels, k)
        """
        ls, qr = self.ls, self.q_rest
        # x_R = [u_rest, β] solves the Schur system: back-substitute with L_S
        c = ls[-1, :-1]
        x_r = sla.lapack.dtrtrs(ls[:-1, :-1], c, lower=1, trans=1)[0] if c.size else c
        beta = x_r[qr:]
        u: list[FloatArray] = [np.empty(0)] * len(self.terms)
        # unscaled coefficients of the rest, Λ_R x_R, then the y column
        v = np.empty(self.m)
        for seg in self.segments:
            ui = x_r[seg.start : seg.start + seg.nlev * seg.k].reshape(seg.nlev, seg.k)
            u[seg.term] = ui
            v[seg.start : seg.start + seg.nlev * seg.k] = (ui @ self.lams[seg.term].T).ravel()
        v[qr:-1] = -beta
        v[:qr] *= -1.0
        v[-1] = 1.0
        if self._dense_r0:
            r = self.a_r0_dense.T @ v
        else:
            r = self.a_r0t_sparse @ v
        lam0 = self.lams[self.lead]
        rhs = r.reshape(self.nlev0, self.k0) @ lam0  # rows of Λ0' (A_0y − A_0R Λ_R x_R)
        u[self.lead] = np.asarray(np.linalg.solve(self.m0, rhs[:, :, None])[:, :, 0], dtype=float)
        return beta, u

    def b(self, u: Sequence[FloatArray]) -> list[FloatArray]:
        """Random effects on the data scale, ``b = Λ_θ u``, per term (levels x k)."""
        return [ui @ lam.T for ui, lam in zip(u, self.lams, strict=True)]

    def schur_density(self) -> float:
        """An upper bound on the fraction of non-zeros in the dense block's random-effects part.

        That part is ``A_RR − A_R0 W_0 A_R0'`` (before scaling): each column of
        ``A_R0`` with ``c`` non-zeros in those rows fills at most ``c²`` entries.
        The bound is near 0 when the later factors are nested in the leading
        one; the dense block then holds mostly zeros and a sparse factorisation
        is cheaper.  O(nnz) to compute.
        """
        qr = self.q_rest
        if qr == 0:
            return 1.0
        a = sp.csr_matrix(self.a_r0_dense) if self._dense_r0 else self.a_r0_sparse
        counts = np.diff(sp.csc_matrix(a[:qr]).indptr).astype(np.float64)
        filled = float(np.sum(counts**2)) + float(np.count_nonzero(self.a_rr[:qr, :qr]))
        return min(1.0, filled / float(qr) ** 2)

    def u_cov_blocks(self) -> list[FloatArray]:
        """Per term, the ``k x k`` diagonal blocks of ``(Λ'Z'WZΛ + I)^{-1}``, one per level.

        Times σ² these are the conditional covariances of ``u`` given β and θ
        (lme4's ``condVar``).  With ``M`` that matrix, ``S`` the Schur
        complement of its leading block ``M_0`` and ``L_S`` the random-effects
        part of the dense factor:

            (M^{-1})_RR = S^{-1} = L_S^{-T} L_S^{-1},
            (M^{-1})_00 = M_0^{-1} + T'T,   T = L_S^{-1} M_R0 M_0^{-1}.
        """
        qr, k0, l0 = self.q_rest, self.k0, self.nlev0
        m0inv: FloatArray = np.asarray(np.linalg.inv(self.m0), dtype=float)
        out: list[FloatArray] = [np.empty(0)] * len(self.terms)
        if qr == 0:
            out[self.lead] = m0inv
            return out
        linv = np.tril(sla.lapack.dtrtri(self.ls[:qr, :qr], lower=1)[0])
        for seg in self.segments:
            cols = linv[:, seg.start : seg.start + seg.nlev * seg.k].reshape(qr, seg.nlev, seg.k)
            out[seg.term] = np.asarray(np.einsum("rlk,rlj->lkj", cols, cols), dtype=float)
        a = self.a_r0_dense if self._dense_r0 else self.a_r0_sparse.toarray()
        m_r0 = np.array(a[:qr], dtype=float)  # Λ_R' A_R0 Λ_0 M_0^{-1}, rows of the rest
        for seg in self.segments:
            _scale_rows(m_r0, seg, self.lams[seg.term])
        blocks = m_r0.reshape(qr, l0, k0) @ self.lams[self.lead]
        blocks = np.einsum("rlk,lkj->rlj", blocks, m0inv)
        t = (linv @ blocks.reshape(qr, l0 * k0)).reshape(qr, l0, k0)
        out[self.lead] = m0inv + np.einsum("rlk,rlj->lkj", t, t)
        return out

    def unscaled_vcov(self) -> FloatArray:
        """``(R_X' R_X)^{-1}``: the covariance of ``β̂`` divided by ``σ²``."""
        qr, p = self.q_rest, self.p
        if p == 0:
            return np.empty((0, 0))
        rx = self.ls[qr : qr + p, qr : qr + p]
        rinv, _ = sla.lapack.dtrtri(rx, lower=1)
        rinv = np.tril(rinv)
        return np.asarray(rinv.T @ rinv, dtype=float)


def _unless_ones(values: FloatArray) -> FloatArray | None:
    """``values``, or ``None`` when all are 1 (intercepts: scaling them by ``√w`` gives ``√w``)."""
    return None if np.all(values == 1.0) else values


def _scaled(values: FloatArray | None, sqrt_w: FloatArray) -> FloatArray:
    """``values * sqrt_w``, with ``None`` for all ones (see :func:`_unless_ones`)."""
    return sqrt_w if values is None else values * sqrt_w


def _leading_gram(refs: NDArray[np.intp], z: FloatArray, nlev: int) -> FloatArray:
    """``A_00`` of the leading term from its ``√w``-scaled ``z``: one ``k x k`` block per level."""
    k = z.shape[1]
    a00 = np.empty((nlev, k, k))
    for c1 in range(k):
        for c2 in range(c1, k):
            s = np.bincount(refs, weights=z[:, c1] * z[:, c2], minlength=nlev)
            a00[:, c1, c2] = s
            a00[:, c2, c1] = s
    return a00


def _scale_rows(s: FloatArray, seg: _Segment, lam: FloatArray) -> None:
    """In place: rows of ``seg`` in ``s`` ← ``Λ_i'`` times them (``Λ_i = I ⊗ lam``).

    ``s`` may be a transposed view (to scale columns); the result is assigned
    back through it.
    """
    stop = seg.start + seg.nlev * seg.k
    blocks = s[seg.start : stop].reshape(seg.nlev, seg.k, -1)
    s[seg.start : stop] = np.einsum("ji,ljm->lim", lam, blocks).reshape(stop - seg.start, -1)
