"""lme4's rule for rank-deficient fixed-effects designs.

lme4 (``chkRank.drop.cols``) computes ``qr(X, tol = 1e-7, LAPACK = FALSE)``, i.e.
R's LINPACK routine ``dqrdc2``: a Householder QR with *limited* column pivoting.
Before column ``l`` is reduced, any column whose remaining norm (the norm of
its part orthogonal to the columns already reduced) has fallen below ``tol``
times its original norm is moved to the far right, and the next candidate is
tried.  The rank is the number of columns reduced; lme4 keeps the first
``rank`` pivot columns (which are in their original order) and drops the rest.

The remaining norms are downdated after each Householder step with
:math:`\\|x_j\\|_{new} = \\|x_j\\| \\sqrt{1 - (r_{lj}/\\|x_j\\|)^2}`, and recomputed
from scratch when the factor under the square root drops below ``1e-6``; this
module repeats those steps so that it picks the same columns as R.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from interlace.design.fixed import FixedDesign
from interlace.errors import RankDeficiencyWarning

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RANK_TOL = 1e-7
"""lme4's tolerance for ``qr(X)`` in ``chkRank.drop.cols``."""
#: How far above the threshold every column must stay for the fast full-rank check.
_FULL_RANK_MARGIN = 1000.0


@dataclass(frozen=True, eq=False)
class PivotedQR:
    """Result of :func:`dqrdc2`.

    Attributes
    ----------
    qr : ndarray, shape (n, p)
        ``R`` in the upper triangle, Householder vectors below it (LINPACK layout).
    qraux : ndarray, shape (p,)
        First elements of the Householder vectors.
    rank : int
    pivot : ndarray of int, shape (p,)
        0-based original column of each position.
    """

    qr: FloatArray
    qraux: FloatArray
    rank: int
    pivot: IntArray


def dqrdc2(x: FloatArray, tol: float = RANK_TOL) -> PivotedQR:
    """Householder QR with R's limited column pivoting (LINPACK ``dqrdc2``).

    Parameters
    ----------
    x
        The ``n x p`` matrix (not modified).
    tol
        A column counts as negligible when its remaining norm is below ``tol``
        times its original norm.

    Returns
    -------
    PivotedQR
    """
    a = np.array(x, dtype=float, order="F", copy=True)
    n, p = a.shape
    pivot = np.arange(p, dtype=np.int64)
    qraux = np.linalg.norm(a, axis=0) if n > 0 else np.zeros(p)
    work_orig = np.where(qraux == 0.0, 1.0, qraux)  # work(:,2): original norms
    k = p + 1  # 1-based position of the first negligible column moved right
    for l in range(min(n, p)):  # noqa: E741 (LINPACK's name)
        while l + 1 < k and qraux[l] < work_orig[l] * tol:
            # move column l to the end, shifting the others left
            order = [*range(l + 1, p), l]
            a[:, l:] = a[:, order]
            for arr in (pivot, qraux, work_orig):
                arr[l:] = arr[order]
            k -= 1
        if l == n - 1:
            continue
        col = a[l:, l]
        nrmxl = float(np.linalg.norm(col))
        if nrmxl == 0.0:
            continue
        if col[0] != 0.0:
            nrmxl = abs(nrmxl) if col[0] > 0 else -abs(nrmxl)
        a[l:, l] = col / nrmxl
        a[l, l] += 1.0
        v = a[l:, l]
        for j in range(l + 1, p):
            t = -float(v @ a[l:, j]) / v[0]
            a[l:, j] += t * v
            if qraux[j] == 0.0:
                continue
            tt = max(1.0 - (abs(a[l, j]) / qraux[j]) ** 2, 0.0)
            if abs(tt) >= 1e-6:
                qraux[j] *= np.sqrt(tt)
            else:
                qraux[j] = float(np.linalg.norm(a[l + 1 :, j]))
        qraux[l] = a[l, l]
        a[l, l] = -nrmxl
    rank = min(k - 1, n)
    return PivotedQR(a, qraux, int(rank), pivot)


@dataclass(frozen=True, eq=False)
class RankCheck:
    """Which columns lme4 keeps.

    Attributes
    ----------
    keep : ndarray of int
        0-based indices of the columns kept, in their original order.
    dropped : tuple of str
        Names of the columns dropped (lme4's ``attr(X, "col.dropped")``).
    """

    keep: IntArray
    dropped: tuple[str, ...]


def _clearly_full_rank(X: FloatArray, tol: float) -> bool:
    """Whether ``dqrdc2`` would move no column of ``X``, judged from the Gram matrix.

    Without a move ``dqrdc2`` is the plain Householder QR, and the remaining norm of
    column ``l`` when it is tested is ``|R_ll|``, which is also the ``l``-th pivot of
    the Cholesky factor of ``X'X``.  When every pivot is at least
    :data:`_FULL_RANK_MARGIN` times the threshold ``tol ‖x_l‖`` no column can be moved:
    the margin covers the rounding of LINPACK's downdated norms, and at that size a
    pivot from ``X'X`` is accurate to about ``ε / (10³ tol)²`` relative.  Two BLAS
    calls (milliseconds for InstEval's 73,421 x 28) then replace the column loop.
    """
    n, p = X.shape
    if p == 0:
        return True
    gram = X.T @ X
    norms = np.sqrt(np.diagonal(gram))
    if n < p or not np.all(norms > 0.0) or not np.all(np.isfinite(gram)):
        return False
    try:
        pivots = np.diagonal(np.linalg.cholesky(gram))
    except np.linalg.LinAlgError:
        return False
    return bool(np.all(pivots >= _FULL_RANK_MARGIN * tol * norms))


def rank_check(X: FloatArray, colnames: tuple[str, ...], tol: float = RANK_TOL) -> RankCheck:
    """lme4's ``chkRank.drop.cols``: keep the first ``rank`` pivot columns of ``dqrdc2``."""
    if _clearly_full_rank(X, tol):
        return RankCheck(np.arange(X.shape[1], dtype=np.int64), ())
    qr = dqrdc2(X, tol)
    keep = np.sort(qr.pivot[: qr.rank])
    dropped = tuple(colnames[j] for j in np.sort(qr.pivot[qr.rank :]))
    return RankCheck(keep, dropped)


def drop_rank_deficient(design: FixedDesign, tol: float = RANK_TOL) -> FixedDesign:
    """The design with aliased columns removed, warning as lme4 does.

    Issues a :class:`~interlace.errors.RankDeficiencyWarning` naming the dropped
    columns (lme4's message: "fixed-effect model matrix is rank deficient so
    dropping N column(s) / coefficient(s)").
    """
    check = rank_check(design.X, design.colnames, tol)
    if not check.dropped:
        return design
    k = len(check.dropped)
    s = "s" if k > 1 else ""
    warnings.warn(
        f"fixed-effect model matrix is rank deficient so dropping {k} column{s} / "
        f"coefficient{s}: {', '.join(check.dropped)}",
        RankDeficiencyWarning,
        stacklevel=2,
    )
    return FixedDesign(
        design.X[:, check.keep],
        tuple(design.colnames[j] for j in check.keep),
        tuple(design.assign[j] for j in check.keep),
        design.term_labels,
        design.contrasts,
    )
