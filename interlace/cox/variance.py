"""coxme's default variance family (``coxmeFull``): random terms, their layout and ``Sigma(theta)``.

A term ``(1 | g)`` has ``b_g ~ N(0, v I)``; a term ``(1 + x | g)`` has, per level, the pair
(intercept, slope) ``~ N(0, V)`` with ``V = [[v1, rho sqrt(v1 v2)], [., v2]]``; ``(x | g)``
(coxme adds no intercept) has slopes ``~ N(0, v I)``.  The optimiser works on coxme's
parameters: ``log v`` for a variance and ``log((1 + rho) / (1 - rho))`` for a correlation,
clamped to ``[-36, 36]``.  Per term they are ordered (intercept variance, correlation, slope
variance), and terms follow the formula.

The coefficient vector is coxme's: the intercepts of all terms first, then their slopes,
then the fixed effects.  A grouping factor with at least ``sparse[0]`` levels of which some
hold at most a fraction ``sparse[1]`` of the rows is "sparse": those levels are put first
and, for the first random term, coxme keeps only the diagonal of their block of the
information matrix (``bdsmatrix``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: coxme.control() defaults.
VARINIT = (0.02**2, 0.1**2, 0.4**2, 0.8**2)
CORINIT = (0.0, 0.3)
SPARSE = (50, 0.02)


@dataclass(frozen=True, eq=False)
class CoxmeTerm:
    """One random term, its levels in coxme's order.

    Attributes
    ----------
    group : str
        coxme's name of the grouping factor (``"a/b"`` for the inner part of ``(1 | a/b)``).
    levels : tuple of str
        Levels in coxme's order (sparse levels first), as coxme labels them (``"1/x"``).
    refs : ndarray of int
        0-based level (in ``levels``) of each row.
    intercept : bool
        Whether the term has a random intercept.
    slopes : ndarray, shape (n, s)
        The slope covariates (``s`` is 0 or 1).
    slope_names : tuple of str
    n_sparse : int
        Number of leading sparse levels.
    source_group : str
        The grouping factor as the formula layer names it (``"b:a"``).
    source_levels : tuple of str
        The same levels as the formula layer labels them (``"x:1"``), to match new data.
    """

    group: str
    levels: tuple[str, ...]
    refs: IntArray
    intercept: bool
    slopes: FloatArray
    slope_names: tuple[str, ...]
    n_sparse: int
    source_group: str
    source_levels: tuple[str, ...]

    @property
    def n_levels(self) -> int:
        """Number of levels."""
        return len(self.levels)

    @property
    def k(self) -> int:
        """Random effects per level."""
        return int(self.intercept) + self.slopes.shape[1]

    @property
    def n_theta(self) -> int:
        """Number of variance parameters."""
        return self.k * (self.k + 1) // 2

    def start_grid(self, varinit: Sequence[float], corinit: Sequence[float]) -> list[list[float]]:
        """coxme's candidate starting values of each parameter (on coxme's log scales)."""
        grid: list[list[float]] = []
        if self.intercept:
            grid.append([float(np.log(v)) for v in varinit])
            grid += [[float(np.log((1 + c) / (1 - c))) for c in corinit]] * self.slopes.shape[1]
        for j in range(self.slopes.shape[1]):
            xvar = float(np.var(self.slopes[:, j], ddof=1))
            grid.append([float(np.log(v / xvar)) for v in varinit])
        return grid

    def covariance(self, theta: FloatArray) -> FloatArray:
        """The ``k x k`` covariance ``V`` of one level's effects."""
        value = np.exp(np.clip(theta, -36.0, 36.0))
        if self.k == 1:
            return value.reshape(1, 1)
        v1, ratio, v2 = value
        rho = (ratio - 1) / (ratio + 1)
        cov = rho * np.sqrt(v1 * v2)
        return np.array([[v1, cov], [cov, v2]])

    def varcorr(self, theta: FloatArray) -> FloatArray:
        """coxme's ``VarCorr`` entry: variances on the diagonal, correlations off it."""
        V = self.covariance(theta)
        sd = np.sqrt(np.diag(V))
        out = V / np.outer(sd, sd)
        np.fill_diagonal(out, np.diag(V))
        return out

    def names(self) -> tuple[str, ...]:
        """Names of the effects of one level (coxme: ``Intercept`` and the covariates)."""
        return (("Intercept",) if self.intercept else ()) + self.slope_names


def coxme_level_order(
    refs: IntArray, n_levels: int, sparse: tuple[float, float] = SPARSE
) -> tuple[IntArray, int]:
    """coxme's order of the levels of a grouping factor and the number of sparse levels.

    Returns the permutation (original level positions, sparse levels first) and how many
    levels lead as sparse (0 when the factor is not sparse).
    """
    frac = np.bincount(refs, minlength=n_levels) / refs.size
    is_sparse = frac <= sparse[1]
    if n_levels >= sparse[0] and is_sparse.any():
        order = np.concatenate((np.flatnonzero(is_sparse), np.flatnonzero(~is_sparse)))
        return order.astype(np.intp), int(is_sparse.sum())
    return np.arange(n_levels, dtype=np.intp), 0


@dataclass(frozen=True, eq=False)
class RandomLayout:
    """The random part of a coxme model: the terms and the columns of ``b``.

    Attributes
    ----------
    terms : tuple of CoxmeTerm
    Z : ndarray, shape (n, q)
        Model matrix of ``b`` (coxme's order: all intercepts, then all slopes).
    index : tuple of ndarray
        Per term, a ``(k, n_levels)`` array: the position in ``b`` of effect ``e`` of level ``l``.
    sparse : ndarray of int
        Positions in ``b`` whose off-diagonal information coxme drops.
    """

    terms: tuple[CoxmeTerm, ...]
    Z: FloatArray
    index: tuple[IntArray, ...]
    sparse: IntArray

    @property
    def q(self) -> int:
        """Number of random effects."""
        return self.Z.shape[1]

    @property
    def n_theta(self) -> int:
        """Number of variance parameters."""
        return sum(t.n_theta for t in self.terms)

    def split_theta(self, theta: FloatArray) -> list[FloatArray]:
        """``theta`` cut into the parameters of each term."""
        bounds = np.cumsum([0] + [t.n_theta for t in self.terms])
        return [theta[a:b] for a, b in itertools.pairwise(bounds)]

    def precision(self, theta: FloatArray) -> tuple[FloatArray, float]:
        """``Sigma^-1`` over ``b`` and ``log |Sigma|``."""
        P = np.zeros((self.q, self.q))
        logdet = 0.0
        for term, idx, th in zip(self.terms, self.index, self.split_theta(theta), strict=True):
            V = term.covariance(th)
            sign, ld = np.linalg.slogdet(V)
            if sign <= 0:
                return P, float("nan")
            Vinv = np.linalg.inv(V)
            for e1 in range(term.k):
                for e2 in range(term.k):
                    P[idx[e1], idx[e2]] = Vinv[e1, e2]
            logdet += term.n_levels * ld
        return P, logdet

    def centring(self) -> list[IntArray]:
        """Positions of the intercepts of each term with an intercept (coxme recentres them)."""
        return [idx[0] for term, idx in zip(self.terms, self.index, strict=True) if term.intercept]

    def start_grid(self, varinit: Sequence[float], corinit: Sequence[float]) -> list[FloatArray]:
        """All starting candidates, the first parameter varying fastest (R's ``expand.grid``)."""
        axes = [axis for t in self.terms for axis in t.start_grid(varinit, corinit)]
        combos = itertools.product(*reversed(axes))
        return [np.array(c[::-1]) for c in combos]


def _effects(term: CoxmeTerm, kind: str, n: int) -> list[tuple[int, FloatArray]]:
    """The (effect number, covariate) pairs of one term that are intercepts or slopes."""
    if kind == "intercept":
        return [(0, np.ones(n))] if term.intercept else []
    first = int(term.intercept)
    return [(first + j, term.slopes[:, j]) for j in range(term.slopes.shape[1])]


def random_layout(terms: Sequence[CoxmeTerm], n: int) -> RandomLayout:
    """Lay the terms out in ``b`` as coxme does and build ``Z``."""
    position = 0
    index: list[IntArray] = [np.zeros((t.k, t.n_levels), dtype=np.intp) for t in terms]
    columns: list[FloatArray] = []
    rows = np.arange(n)
    for kind in ("intercept", "slope"):
        for ti, term in enumerate(terms):
            for e, values in _effects(term, kind, n):
                block = np.zeros((n, term.n_levels))
                block[rows, term.refs] = values
                columns.append(block)
                index[ti][e] = position + np.arange(term.n_levels)
                position += term.n_levels
    first = terms[0]
    sparse = index[0][0][: first.n_sparse] if first.intercept else np.zeros(0, dtype=np.intp)
    Z = np.hstack(columns) if columns else np.zeros((n, 0))
    return RandomLayout(tuple(terms), Z, tuple(index), sparse)
