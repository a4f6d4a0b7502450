"""The random-effects design of lme4: ``Zt``, ``Lambdat``, ``Lind``, ``theta``, ``cnms``, ``flist``.

Notation (Bates et al. 2015, JSS 67(1), section 2.3).  Term ``i`` has a
grouping factor with ``l_i`` levels and a ``n x k_i`` model matrix ``z_i``
(the bar's left side).  Its block of ``Z`` is the Khatri-Rao (row-wise
Kronecker) product of the level indicators ``J_i`` (``n x l_i``) and ``z_i``,
so row ``j`` of ``Z_i`` holds ``z_i[j]`` in the ``k_i`` columns of level
``refs_i[j]``; the random effects of one level are contiguous
("level-major").  ``Z = [Z_1 ... Z_m]`` has ``q = sum_i l_i k_i`` columns and
``Gp`` holds the cumulative offsets of the blocks.

The relative covariance factor is block diagonal,
``Lambda = diag(I_{l_1} (x) lambda_1, ..., I_{l_m} (x) lambda_m)``, with each
``k_i x k_i`` lower-triangular ``lambda_i`` filled from the term's slice of
``theta`` by its covariance structure.  lme4 stores the transpose ``Lambdat``
(upper triangular) together with ``Lind``, the index into ``theta`` of each
stored entry in compressed-column order, so that updating ``Lambdat`` is
``Lambdat.data[:] = theta[Lind]``.  Here ``Lind`` is **0-based** (lme4's
``getME(m, "Lind")`` minus 1).

Term order follows lme4's ``mkReTrms``: with ``nl`` the numbers of levels in
formula order, the terms are reordered only if ``any(diff(nl) > 0)``, and then
by ``rev(order(nl))`` (decreasing ``nl``, ties in reverse formula order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.design.covariance import (
    CovarianceStructure,
    Diagonal,
    HomogeneousDiagonal,
    Unstructured,
)
from interlace.design.fixed import fixed_design
from interlace.design.frame import ModelFrame
from interlace.design.grouping import GroupingFactor, grouping_factor
from interlace.errors import FormulaError
from interlace.ir.terms import CovSpec, RandomTerm

_UNSTRUCTURED = CovSpec()

_STRUCTURES: dict[tuple[str, bool], Callable[[int], CovarianceStructure]] = {
    ("us", False): Unstructured,
    ("diag", False): Diagonal,
    ("diag", True): HomogeneousDiagonal,
}


def covariance_structure(spec: CovSpec, k: int, term: str = "") -> CovarianceStructure:
    """The covariance structure object requested by ``spec`` for ``k`` columns.

    Parameters
    ----------
    spec
        The term's covariance request (``us``, ``diag``, ``hom``).
    k
        Columns of the term's model matrix.
    term
        The term's text, for the error message.

    Raises
    ------
    FormulaError
        A structure that interlace does not provide.
    """
    make = _STRUCTURES.get((spec.kind, bool(spec.hom)))
    if make is None:
        hom = ", hom = TRUE" if spec.hom else ""
        known = ", ".join(f"{kind}({'hom = TRUE' if h else ''})" for kind, h in _STRUCTURES)
        raise FormulaError(
            f"covariance structure {spec.kind}(...{hom}) is not supported for term ({term}); "
            f"supported: {known}",
            term=term,
        )
    return make(k)


def _read_only(array: NDArray[np.generic]) -> NDArray[np.generic]:
    """``array`` flagged read-only (a view if it was writeable)."""
    view = array.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class ReTerm:
    """One random-effect term, as the engine uses it.

    Attributes
    ----------
    source : str
        lme4's term name (``deparse`` of the bar, e.g. ``"Days | Subject"``).
    factor : GroupingFactor
        The grouping factor (levels and the 0-based level of each row).
    names : tuple of str
        Column names of ``z`` (lme4's ``cnms`` entry for this term).
    z : ndarray, shape (n, k)
        The bar's left-side model matrix, read-only.
    cov : CovarianceStructure
        Structure of the term's ``k x k`` relative covariance factor.
    theta_slice : slice
        This term's parameters in the model's ``theta``.
    offset : int
        First row of the term's block in ``Zt`` (its ``Gp`` entry).
    """

    source: str
    factor: GroupingFactor
    names: tuple[str, ...]
    z: NDArray[np.float64]
    cov: CovarianceStructure
    theta_slice: slice = field(default_factory=lambda: slice(0, 0))
    offset: int = 0

    def __post_init__(self) -> None:
        z = np.asarray(self.z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != len(self.names) or z.shape[0] != self.factor.refs.size:
            raise ValueError(
                f"z has shape {z.shape}; expected ({self.factor.refs.size}, {len(self.names)})"
            )
        object.__setattr__(self, "z", _read_only(np.ascontiguousarray(z)))

    @property
    def group(self) -> str:
        """Name of the grouping factor (the ``cnms``/``flist`` name)."""
        return self.factor.label

    @property
    def refs(self) -> NDArray[np.integer]:
        """0-based level of each row."""
        return self.factor.refs

    @property
    def levels(self) -> tuple[str, ...]:
        """Level labels of the grouping factor."""
        return self.factor.levels

    @property
    def k(self) -> int:
        """Random effects per level (columns of ``z``)."""
        return len(self.names)

    @property
    def n_levels(self) -> int:
        """Number of levels (lme4's ``nl``)."""
        return self.factor.n_levels

    @property
    def q(self) -> int:
        """Rows of this term's block of ``Zt`` (``n_levels * k``)."""
        return self.n_levels * self.k

    def lambda_block(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """The term's ``k x k`` lower-triangular ``lambda`` for the model's ``theta``."""
        return self.cov.fill(np.asarray(theta, dtype=float)[self.theta_slice])


def make_re_term(
    source: str,
    group: GroupingFactor,
    z: NDArray[np.float64],
    cnms: Sequence[str],
    spec: CovSpec = _UNSTRUCTURED,
) -> ReTerm:
    """Build an (unplaced) :class:`ReTerm` from its parts.

    Parameters
    ----------
    source
        lme4's term name, ``"Days | Subject"``.
    group
        The grouping factor.
    z
        The ``n x k`` left-side model matrix.
    cnms
        Its column names.
    spec
        The requested covariance structure.
    """
    k = len(cnms)
    return ReTerm(source, group, tuple(cnms), z, covariance_structure(spec, k, source))


def re_term(term: RandomTerm, frame: ModelFrame) -> ReTerm:
    """The (unplaced) :class:`ReTerm` of one expanded bar, evaluated on the model frame.

    ``z`` is R's ``model.matrix(~ lhs, frame)`` of the bar's left side with the
    default contrasts (lme4's ``mkBlist`` ignores ``lFormula``'s ``contrasts``
    argument) and without rank checks.
    """
    factor = grouping_factor(term.group, frame, label=term.group_label)
    design = fixed_design(term.lhs, frame)
    return make_re_term(term.source, factor, design.X, design.colnames, term.covariance)


def lme4_term_order(n_levels: Sequence[int]) -> list[int]:
    """lme4's order of random terms given their numbers of levels in formula order.

    Returns the permutation (indices into formula order): the identity unless
    some term has more levels than the one before it, otherwise decreasing
    ``n_levels`` with ties in reverse formula order (``rev(order(nl))``).
    """
    nl = np.asarray(n_levels, dtype=np.int64)
    if not np.any(np.diff(nl) > 0):
        return list(range(nl.size))
    return decreasing_levels(n_levels)


def decreasing_levels(n_levels: Sequence[int]) -> list[int]:
    """R's ``rev(order(nl))``: terms by decreasing number of levels, ties in reverse order."""
    return [int(i) for i in np.argsort(np.asarray(n_levels), kind="stable")[::-1]]


def _index_dtype(bound: int) -> type[np.integer]:
    """The index dtype scipy would pick for indices up to ``bound``."""
    return np.int32 if bound < np.iinfo(np.int32).max else np.int64


def build_zt(terms: Sequence[ReTerm], n: int) -> sp.csc_matrix:
    """``Zt`` (``q x n``, CSC) of placed terms, explicit zeros dropped (lme4's ``drop0``).

    Every column (observation) has ``sum_i k_i`` candidate entries, one run of
    ``k_i`` rows per term, so the compressed-column arrays are written directly
    in ``O(n sum k_i)``.
    """
    width = sum(t.k for t in terms)
    q = sum(t.q for t in terms)
    idx = _index_dtype(max(q, n * width))
    rows = np.empty((n, width), dtype=idx)
    vals = np.empty((n, width), dtype=np.float64)
    col = 0
    for t in terms:
        span = slice(col, col + t.k)
        rows[:, span] = t.offset + t.refs.astype(idx)[:, None] * t.k + np.arange(t.k, dtype=idx)
        vals[:, span] = t.z
        col += t.k
    indptr = np.arange(n + 1, dtype=idx) * width
    zt = sp.csc_matrix((vals.reshape(-1), rows.reshape(-1), indptr), shape=(q, n))
    zt.has_sorted_indices = True
    zt.eliminate_zeros()
    return zt


def build_lambdat(
    terms: Sequence[ReTerm], theta: NDArray[np.float64]
) -> tuple[sp.csc_matrix, NDArray[np.intp]]:
    """``Lambdat`` (``q x q``, CSC, upper triangular) and its 0-based ``Lind``.

    Column ``c`` of a level's block of ``Lambdat`` is row ``c`` of ``lambda``,
    so its stored rows are the structural non-zeros of that row of the
    structure's template, in increasing order.
    """
    q = sum(t.q for t in terms)
    idx = _index_dtype(q + 1)
    rows_parts: list[NDArray[np.integer]] = []
    lind_parts: list[NDArray[np.intp]] = []
    counts_parts: list[NDArray[np.intp]] = []
    for t in terms:
        template = t.cov.template()
        if template is None:  # pragma: no cover - every provided structure is linear
            raise NotImplementedError(f"{type(t.cov).__name__} has no linear template")
        col_local, row_local = np.nonzero(template >= 0)  # row-major: by lambda row, then column
        per_level = np.bincount(col_local, minlength=t.k)
        starts = t.offset + np.arange(t.n_levels, dtype=np.int64) * t.k
        rows_parts.append((starts[:, None] + row_local[None, :]).reshape(-1).astype(idx))
        lind = template[col_local, row_local] + t.theta_slice.start
        lind_parts.append(np.tile(lind, t.n_levels).astype(np.intp))
        counts_parts.append(np.tile(per_level, t.n_levels))
    counts = np.concatenate(counts_parts) if counts_parts else np.zeros(0, dtype=np.intp)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(idx)
    rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=idx)
    lind = np.concatenate(lind_parts) if lind_parts else np.zeros(0, dtype=np.intp)
    lambdat = sp.csc_matrix((np.asarray(theta, dtype=float)[lind], rows, indptr), shape=(q, q))
    lambdat.has_sorted_indices = True
    return lambdat, lind


@dataclass(frozen=True, eq=False)
class RandomEffects:
    """All random-effect terms of a model, placed in lme4's order.

    Attributes
    ----------
    terms : tuple of ReTerm
        In lme4's order, each with its ``theta_slice`` and ``offset``.
    Zt : scipy.sparse.csc_matrix
        ``q x n`` transposed random-effects model matrix.
    Lambdat : scipy.sparse.csc_matrix
        ``q x q`` transposed relative covariance factor at ``theta``.
    Lind : ndarray of intp
        0-based index into ``theta`` of each stored entry of ``Lambdat``.
    theta, lower : ndarray
        Starting values and lower bounds of the covariance parameters.
    Gp : ndarray of int64
        Term offsets into ``q``: ``[0, q_1, q_1 + q_2, ...]``.
    cnms : tuple of (str, tuple of str)
        lme4's named list ``cnms``: (grouping factor name, column names) per
        term; a name can repeat (``(x || g)`` gives ``g`` twice).
    flist : pandas.DataFrame
        The distinct grouping factors (Categoricals) in order of first use.
    flist_assign : tuple of int
        0-based column of ``flist`` used by each term (R's ``assign`` minus 1).
    """

    terms: tuple[ReTerm, ...]
    Zt: sp.csc_matrix
    Lambdat: sp.csc_matrix
    Lind: NDArray[np.intp]
    theta: NDArray[np.float64]
    lower: NDArray[np.float64]
    Gp: NDArray[np.int64]
    cnms: tuple[tuple[str, tuple[str, ...]], ...]
    flist: pd.DataFrame
    flist_assign: tuple[int, ...]

    @property
    def q(self) -> int:
        """Total number of random effects."""
        return int(self.Gp[-1])

    @property
    def nl(self) -> tuple[int, ...]:
        """Number of levels of each term (lme4's ``nl``)."""
        return tuple(t.n_levels for t in self.terms)


def _lock_sparse(matrix: sp.csc_matrix) -> sp.csc_matrix:
    """Flag a CSC matrix's arrays read-only (operations return new matrices)."""
    for array in (matrix.data, matrix.indices, matrix.indptr):
        array.flags.writeable = False
    return matrix


def random_effects(
    terms: Sequence[RandomTerm], frame: ModelFrame, *, reorder: bool = True
) -> RandomEffects:
    """lme4's ``mkReTrms``: the random-effects design of expanded bars on a model frame.

    Parameters
    ----------
    terms
        The formula's random terms (``FormulaIR.random``), in formula order.
    frame
        The model frame.
    reorder
        lme4's reordering by number of levels (the dialect's ``reorder_re_terms``).
    """
    return assemble(
        [re_term(t, frame) for t in terms], frame.n, reorder=reorder, index=frame.row_labels
    )


def assemble(
    terms: Sequence[ReTerm],
    n: int,
    *,
    reorder: bool = True,
    index: pd.Index | None = None,
) -> RandomEffects:
    """Order and place terms, then build ``Zt``, ``Lambdat``, ``Lind``, ``theta`` and ``flist``.

    Parameters
    ----------
    terms
        Unplaced terms in formula order.
    n
        Number of observations.
    reorder
        Apply lme4's reordering by number of levels (``False`` keeps formula
        order, as glmmTMB does).
    index
        Row labels for ``flist`` (defaults to ``0..n-1``).

    Returns
    -------
    RandomEffects
    """
    order = lme4_term_order([t.n_levels for t in terms]) if reorder else list(range(len(terms)))
    placed: list[ReTerm] = []
    offset = 0
    theta_start = 0
    for i in order:
        t = terms[i]
        theta_end = theta_start + t.cov.n_theta
        placed.append(replace(t, theta_slice=slice(theta_start, theta_end), offset=offset))
        offset += t.q
        theta_start = theta_end
    theta = np.concatenate([t.cov.theta0() for t in placed]) if placed else np.zeros(0)
    lower = np.concatenate([t.cov.lower() for t in placed]) if placed else np.zeros(0)
    zt = build_zt(placed, n)
    lambdat, lind = build_lambdat(placed, theta)
    gp = np.asarray([0, *np.cumsum([t.q for t in placed])], dtype=np.int64)
    labels = list(dict.fromkeys(t.group for t in placed))
    first = {label: next(t for t in placed if t.group == label) for label in labels}
    flist = pd.DataFrame(
        {label: first[label].factor.categorical() for label in labels},
        index=index if index is not None else pd.RangeIndex(n),
    )
    return RandomEffects(
        terms=tuple(placed),
        Zt=_lock_sparse(zt),
        Lambdat=_lock_sparse(lambdat),
        Lind=_read_only(lind),  # type: ignore[arg-type]
        theta=_read_only(theta),  # type: ignore[arg-type]
        lower=_read_only(lower),  # type: ignore[arg-type]
        Gp=_read_only(gp),  # type: ignore[arg-type]
        cnms=tuple((t.group, t.names) for t in placed),
        flist=flist,
        flist_assign=tuple(labels.index(t.group) for t in placed),
    )
