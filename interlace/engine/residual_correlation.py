"""Profiled REML/ML criterion of a linear mixed model with correlated within-group residuals.

The model (nlme's ``lme`` with a ``correlation`` structure and optionally a
variance function ``weights``; Pinheiro & Bates 2000, sections 2.2, 5.2 and 5.3) is

    y = X β + Z b + ε,   b ~ N(0, σ² Λ_θ Λ_θ'),   ε ~ N(0, σ² G R(φ) G),

with ``R(φ) = blockdiag(R_1(φ), ..., R_M(φ))`` over the correlation groups
(the innermost random-effects grouping, or ``form = ~ t | g``'s ``g``),
``R_i(φ)`` the structure's correlation matrix of group ``i``
(:mod:`interlace.correlation`) and ``G = G(δ) = diag(g_k(δ))`` the variance
function's standard-deviation factors (:mod:`interlace.varfunc`; ``G = I``
without one).  Every random-effects grouping factor is constant within a
correlation group, so ``Z`` restricted to the rows of group ``i`` touches only
the columns of one level of each factor.

Pre-whitening.  For fixed (φ, δ) write ``R_i = C_i C_i'`` (Cholesky),
``C = blockdiag(C_i)`` and ``S = G C`` (so ``S S' = G R G``).  Then
``ỹ = S^{-1} y = C^{-1} G^{-1} y``, ``X̃ = S^{-1} X`` and ``Z̃ = S^{-1} Z`` — rows
divided by ``g_k`` first, then decorrelated within groups, the order of nlme's
``recalc`` (``varStruct`` before ``corStruct``) — follow a standard linear
mixed model with iid residuals,

    ỹ = X̃ β + Z̃ b + ε̃,   ε̃ ~ N(0, σ² I).

``Z̃`` keeps the level structure of ``Z`` (rows of group ``i`` mix only with
rows of the same levels), so each random term is the same term with new
values ``z̃``, and :class:`~interlace.engine.gaussian.GaussianObjective`
computes its profiled deviance ``d̃(θ)`` (Bates et al. 2015, eqs. 34 and 41).

Back to the original scale.  With ``V = Z Λ Λ' Z' + G R G`` and
``Ṽ = S^{-1} V S^{-T}``, ``log|V| = log|Ṽ| + log|R| + 2 Σ_k log g_k``, while the
quadratic forms ``r' V^{-1} r`` and ``X' V^{-1} X`` are unchanged by the
transformation.  The ML log-likelihood (``−½ [n log 2πσ² + log|V| +
r'V^{-1}r/σ²]``) and the REML log-likelihood (``−½ [(n−p) log 2πσ² + log|V| +
log|X'V^{-1}X| + r'V^{-1}r/σ²]``, nlme's and lme4's, without ``log|X'X|``)
therefore both differ from the whitened model's by ``−½ log|G R G|``:

    −2 ℓ(θ, φ, δ) = d̃_{φ,δ}(θ) + Σ_i log|R_i(φ)| + 2 Σ_k log g_k(δ),

with ``log|R_i| = 2 Σ log diag(C_i)`` (nlme's ``logLik`` of the ``corStruct``
and ``varFunc``), profiled over β and σ exactly as in the iid case
(``σ̂² = r̃²/(n − p)`` for REML, ``r̃²/n`` for ML).  The criterion is
minimised jointly over θ, the unconstrained scale ``x`` of φ (``φ = tanh x``
for AR(1), logistic for CAR(1), a shifted logistic for compound symmetry) and
the unconstrained δ, in nlme's order of the model structures (``reStruct``,
``corStruct``, ``varStruct``).  β̂, its covariance ``σ² (X̃'Ṽ^{-1}X̃)^{-1}`` and
the conditional modes of ``b`` are the whitened model's: whitening is an
invertible transformation of the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.correlation import CorStruct
from interlace.design.random import ReTerm
from interlace.engine.gaussian import GaussianObjective
from interlace.engine.predictor import term_columns
from interlace.errors import NumericalError
from interlace.varfunc import BoundVarFunc

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class GroupLayout:
    """Rows of the correlation groups, batched by group size.

    Attributes
    ----------
    batches : tuple of (rows, times)
        For each group size ``m``: the ``(G, m)`` row indices of the ``G``
        groups of that size, in data order within a group, and their covariate.
    max_size : int
        Largest group.
    """

    batches: tuple[tuple[NDArray[np.intp], FloatArray], ...]
    max_size: int

    @classmethod
    def from_codes(cls, codes: NDArray[np.intp], times: FloatArray) -> GroupLayout:
        """Layout of groups ``codes`` (0-based, one per row) with covariate ``times``."""
        codes = np.asarray(codes, dtype=np.intp)
        order = np.argsort(codes, kind="stable")
        sizes = np.bincount(codes)
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        batches = []
        for m in np.unique(sizes[sizes > 0]):
            first = starts[sizes == m]
            rows = order[first[:, None] + np.arange(m)[None, :]]
            batches.append((rows, np.asarray(times, dtype=float)[rows]))
        return cls(tuple(batches), int(sizes.max()))


def whiten(
    cor: CorStruct, phi: float, layout: GroupLayout, columns: FloatArray
) -> tuple[FloatArray, float]:
    """``C^{-1}`` times ``columns`` (n x c) and ``log|R| = Σ_i log|R_i|`` at ``phi``.

    Raises
    ------
    numpy.linalg.LinAlgError
        Some ``R_i(φ)`` is not positive definite.
    """
    out = np.empty_like(columns)
    logdet = 0.0
    for rows, times in layout.batches:
        chol = np.linalg.cholesky(cor.correlation(phi, times))
        out[rows] = np.linalg.solve(chol, columns[rows])
        logdet += 2.0 * float(np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2))))
    return out, logdet


@dataclass(frozen=True, eq=False)
class WhitenedDesign:
    """The pre-whitened design ``(ỹ, X̃, Z̃)`` at one φ (an ``LmmDesign``).

    ``Zt`` is built on first use from the whitened terms.
    """

    y: FloatArray
    X: FloatArray
    X_names: tuple[str, ...]
    terms: tuple[ReTerm, ...]
    theta: FloatArray
    lower: FloatArray
    REML: bool
    weights: FloatArray | None = None
    offset: FloatArray | None = None
    Lambdat: sp.csc_matrix = field(default_factory=lambda: sp.csc_matrix((0, 0)))
    Lind: NDArray[np.intp] = field(default_factory=lambda: np.empty(0, dtype=np.intp))

    @cached_property
    def Zt(self) -> sp.csc_matrix:
        """Transposed whitened random-effects matrix (``q x n``)."""
        blocks = []
        for t in self.terms:
            z = np.asarray(t.z, dtype=float)
            n, k = z.shape
            rows = np.repeat(np.arange(n), k)
            cols = term_columns(t).ravel()
            blocks.append(sp.csc_matrix((z.ravel(), (rows, cols)), shape=(n, t.n_levels * k)))
        return sp.csc_matrix(sp.hstack(blocks).T)


class CorrelatedObjective:
    """(θ, x, δ) ↦ −2 log-likelihood (REML or ML) with correlated residuals; see the module doc.

    Parameters
    ----------
    terms : sequence of ReTerm
        The unwhitened random terms, in lme4's order.
    X, X_names, y
        The unwhitened fixed-effects matrix, its column names and the response.
    theta0, lower : ndarray
        Starting values and lower bounds of θ.
    cor : CorStruct
    layout : GroupLayout
        The correlation groups.
    REML : bool
    varfunc : BoundVarFunc, optional
        A variance function on the rows (nlme's ``weights``); ``G = I`` without one.

    Notes
    -----
    The parameter vector is ``[θ, x]``, or ``[θ, x, δ]`` with a variance
    function, ``x`` being φ's unconstrained value.  A point at which some
    ``R_i``, the variance factors or the penalised system cannot be formed or
    factored evaluates to ``inf``.  :meth:`at` gives the whitened objective at
    (φ, δ).
    """

    def __init__(
        self,
        terms: Sequence[ReTerm],
        X: FloatArray,
        X_names: Sequence[str],
        y: FloatArray,
        theta0: FloatArray,
        lower: FloatArray,
        cor: CorStruct,
        layout: GroupLayout,
        REML: bool,
        varfunc: BoundVarFunc | None = None,
    ) -> None:
        self.terms = tuple(terms)
        self.X_names = tuple(X_names)
        self.cor = cor
        self.layout = layout
        self.REML = REML
        self.varfunc = varfunc
        self.theta0 = np.asarray(theta0, dtype=float)
        self.theta_lower = np.asarray(lower, dtype=float)
        self.n_theta = self.theta_lower.size
        self.n_delta = 0 if varfunc is None else varfunc.n_params
        self.lower = np.r_[self.theta_lower, np.full(1 + self.n_delta, -math.inf)]
        self.n = int(X.shape[0])
        widths = [X.shape[1]] + [np.asarray(t.z).shape[1] for t in self.terms]
        self._columns = np.column_stack([y, X] + [np.asarray(t.z, dtype=float) for t in self.terms])
        self._splits = np.cumsum([1, *widths])[:-1]
        self._cache: tuple[tuple[float, ...], GaussianObjective, float] | None = None
        self.n_evals = 0

    def phi(self, x: float) -> float:
        """The correlation parameter at unconstrained value ``x``."""
        return self.cor.to_natural(float(x), self.layout.max_size)

    def split(self, params: Sequence[float] | FloatArray) -> tuple[FloatArray, float, FloatArray]:
        """``params = [θ, x, δ]`` as θ, φ and δ."""
        params = np.asarray(params, dtype=float)
        k = self.n_theta
        return params[:k], self.phi(params[k]), params[k + 1 :]

    def _log_g(self, delta: FloatArray | None) -> FloatArray:
        """``log g_k(δ)`` of every row (zeros without a variance function)."""
        if self.varfunc is None:
            return np.zeros(self.n)
        log_g = self.varfunc.log_g(np.asarray(delta, dtype=float))
        if not np.all(np.isfinite(log_g)):
            raise NumericalError("variance function factors are not finite and positive")
        return log_g

    def at(self, phi: float, delta: FloatArray | None = None) -> tuple[GaussianObjective, float]:
        """The whitened objective and ``log|G R G|`` at ``phi`` and ``delta`` (the last pair
        is cached); ``delta`` is needed with a variance function only."""
        key = (phi, *np.asarray([] if delta is None else delta, dtype=float).tolist())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1], self._cache[2]
        log_g = self._log_g(delta)
        white, logdet = whiten(self.cor, phi, self.layout, self._columns * np.exp(-log_g)[:, None])
        parts = np.split(white, self._splits, axis=1)
        y, X, zs = parts[0][:, 0], parts[1], parts[2:]
        design = WhitenedDesign(
            y=y,
            X=X,
            X_names=self.X_names,
            terms=tuple(replace(t, z=z) for t, z in zip(self.terms, zs, strict=True)),
            theta=self.theta0,
            lower=self.theta_lower,
            REML=self.REML,
        )
        objective = GaussianObjective(design, REML=self.REML, method="blocked")
        logdet += 2.0 * float(np.sum(log_g))
        self._cache = (key, objective, logdet)
        return objective, logdet

    def __call__(self, params: Sequence[float] | FloatArray) -> float:
        """−2 log-likelihood (REML or ML) at ``params = [θ, x]`` or ``[θ, x, δ]``."""
        self.n_evals += 1
        try:
            theta, phi, delta = self.split(params)
            objective, logdet = self.at(phi, delta)
        except (np.linalg.LinAlgError, NumericalError, ValueError, OverflowError):
            return math.inf
        return objective(theta) + logdet
