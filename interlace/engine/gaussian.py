"""Profiled deviance and REML criterion of a linear mixed model.

The model (Bates et al. 2015, JSS 67(1), eqs. 2–4) is

    Y | B = b ~ N(X β + Z b + o, σ² W^{-1}),   B = Λ_θ U,   U ~ N(0, σ² I_q),

with offset ``o`` and prior weights ``W = diag(w)``.  For fixed θ the
penalised weighted least-squares problem (eq. 14)

    r²_θ = min_{u, β} ‖W^{1/2}(y − o − X β − Z Λ_θ u)‖² + ‖u‖²

is solved through the Cholesky factors ``L_θ`` and ``R_X`` (eq. 18) that a
:class:`~interlace.engine.protocol.Predictor` (blocked or sparse) provides.
Profiling out β and σ gives the ML deviance (eq. 34)

    −2 ℓ̃(θ) = log|L_θ|² + n (1 + log(2π r²_θ / n)) − Σ log w_i,

and the REML criterion (eq. 41)

    −2 ℓ̃_R(θ) = log|L_θ|² + log|R_X|² + (n − p)(1 + log(2π r²_θ / (n − p))) − Σ log w_i.

The ``− Σ log w_i`` term is ``−log|W|`` of eqs. 34 and 41.  At the optimum ``σ̂² = r²_θ / n`` (ML) or
``r²_θ / (n − p)`` (REML) (eqs. 33 and 40).

Gradient, when every random term is scalar (``Λ_θ = ⊕_k θ_k I``) and the blocked
factorisation is used.  Write ``Ω'`` for the system without ``y`` (``M_θ = Λ'Z'WZΛ + I``
for ML, ``[Z X]`` for REML, so that the log-determinants are ``log|Ω'|``), ``P_k`` for
the projection on term ``k``'s columns (``q_k`` of them) and ``τ_k = tr(Ω'^{-1} P_k)``.
Since ``∂Λ/∂θ_k = P_k = Λ P_k / θ_k``, ``∂Ω'/∂θ_k = (P_k (Ω' − D) + (Ω' − D) P_k) / θ_k``
with ``D`` the identity on the random effects, so

    ∂ log|Ω'| / ∂θ_k = 2 (q_k − τ_k) / θ_k,

and, by the envelope theorem and the normal equations ``θ_k Z_k' W r = û_k``,
``∂r²_θ/∂θ_k = −2 ‖û_k‖² / θ_k``.  Hence, with ``ν = n`` (ML) or ``n − p`` (REML),

    ∂(−2 ℓ̃) / ∂θ_k = 2 (q_k − τ_k) / θ_k − 2 ν ‖û_k‖² / (θ_k r²_θ).

At ``θ_k = 0`` the criterion is even in ``θ_k``, so that component is 0.  The traces
come from :meth:`~interlace.engine.predictor.BlockedPredictor.inverse_traces`.

Equation numbers follow the order of the paper (and of lme4's vignette
``lmer.Rnw``, whose labels are ``eq:profiledDeviance`` and ``eq:REMLprofiled``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from interlace.engine.predictor import BlockedPredictor
from interlace.engine.protocol import LmmDesign, Predictor
from interlace.engine.sparse_predictor import SparsePredictor
from interlace.errors import NumericalError

FloatArray = NDArray[np.float64]
Method = Literal["auto", "blocked", "sparse"]

#: ``method="auto"`` uses the sparse path when the dense block would exceed this size ...
MAX_DENSE_BLOCK = 8000
#: ... or, from this size on, when the dense block's random-effects part would be
#: mostly zeros (e.g. a factor nested in the leading one): dense work is then wasted.
SPARSE_CHECK_BLOCK = 1500
MIN_SCHUR_DENSITY = 0.05


def dense_block_size(design: LmmDesign) -> int:
    """Order of the dense Schur block of the blocked path: all but the largest term, X and y."""
    sizes = [len(t.levels) * int(np.asarray(t.z).shape[1]) for t in design.terms]
    return sum(sizes) - max(sizes) + int(np.asarray(design.X).shape[1]) + 1


def profiled_deviance(
    ldL2: float, ldRX2: float, pwrss: float, n: int, p: int, REML: bool, ldW: float = 0.0
) -> float:
    """Eq. (34) (ML) or eq. (41) (REML) of Bates et al. (2015) from the factor summaries."""
    nu = n - p if REML else n
    crit = ldL2 - ldW + nu * (1.0 + math.log(2.0 * math.pi * pwrss / nu))
    return crit + ldRX2 if REML else crit


class GaussianObjective:
    """θ ↦ profiled REML criterion or ML deviance, for one design.

    Parameters
    ----------
    design : LmmDesign
    REML : bool
        REML criterion (``True``) or ML deviance.
    method : {"auto", "blocked", "sparse"}
        Factorisation: the blocked dense/diagonal path, lme4's general sparse
        path, or blocked unless its dense block would exceed
        :data:`MAX_DENSE_BLOCK` or would be mostly zeros (:data:`MIN_SCHUR_DENSITY`)
        from :data:`SPARSE_CHECK_BLOCK` on.  The criterion is the same either way.

    Notes
    -----
    Calling the objective refactors the shared predictor at θ; afterwards
    :meth:`sigma` and :meth:`fixef_ranef` describe the fit at that θ.  A
    θ where the factorisation fails evaluates to ``inf`` so a
    derivative-free optimiser steps back.
    """

    def __init__(self, design: LmmDesign, REML: bool = True, method: Method = "auto") -> None:
        X = np.asarray(design.X, dtype=float)
        y = np.asarray(design.y, dtype=float)
        if design.offset is not None:
            y = y - np.asarray(design.offset, dtype=float)
        w = None if design.weights is None else np.asarray(design.weights, dtype=float)
        self.design = design
        self.REML = REML
        self.n, self.p = X.shape
        self.ldW = 0.0 if w is None else float(np.sum(np.log(w)))
        self.predictor: Predictor
        auto = method == "auto"
        if auto:
            method = "blocked" if dense_block_size(design) <= MAX_DENSE_BLOCK else "sparse"
        if method == "blocked":
            blocked = BlockedPredictor(design.terms, X, y, w)
            mostly_zero = (
                blocked.q_rest >= SPARSE_CHECK_BLOCK and blocked.schur_density() < MIN_SCHUR_DENSITY
            )
            if auto and mostly_zero:
                method = "sparse"
            else:
                self.predictor = blocked
        if method == "sparse":
            self.predictor = SparsePredictor(design, X, y, w)
        self.lower = np.asarray(design.lower, dtype=float)
        self.n_evals = 0

    def __call__(self, theta: Sequence[float] | FloatArray) -> float:
        """The criterion at ``theta`` (``inf`` where Ω_θ is not positive definite)."""
        self.n_evals += 1
        try:
            self.predictor.update(np.asarray(theta, dtype=float))
        except (NumericalError, np.linalg.LinAlgError):
            return math.inf
        return self.value()

    def value(self) -> float:
        """The criterion at the θ of the last update."""
        pr = self.predictor
        return profiled_deviance(pr.ldL2, pr.ldRX2, pr.pwrss, self.n, self.p, self.REML, self.ldW)

    @cached_property
    def has_gradient(self) -> bool:
        """Whether :meth:`gradient` is available: scalar terms, each ``λ_k = θ_k``, blocked path."""
        pr = self.predictor
        return (
            isinstance(pr, BlockedPredictor)
            and pr.scalar_terms
            and all(t.cov.n_theta == 1 and t.cov.template() is not None for t in pr.terms)
        )

    def gradient(self) -> FloatArray:
        """∂/∂θ of the criterion at the θ of the last evaluation (see the module docstring)."""
        pr = self.predictor
        if not isinstance(pr, BlockedPredictor) or not self.has_gradient:
            raise NumericalError("the analytic gradient needs scalar random terms (blocked path)")
        _, u = pr.solve()
        traces = pr.inverse_traces(with_x=self.REML)
        nu = self.n - self.p if self.REML else self.n
        grad = np.zeros(pr.theta.size)
        for k, term in enumerate(pr.terms):
            theta_k = float(pr.lams[k][0, 0])
            if theta_k != 0.0:
                q_k = len(term.levels)
                shrink = nu * float(np.sum(u[k] ** 2)) / pr.pwrss
                grad[k] = 2.0 * (q_k - traces[k] - shrink) / theta_k
        return grad

    def sigma(self) -> float:
        """Residual standard deviation profiled at the last θ."""
        nu = self.n - self.p if self.REML else self.n
        return math.sqrt(self.predictor.pwrss / nu)

    def start(self) -> FloatArray:
        """lme4's starting θ (``mkLmerDevfun``).

        When every random term is a scalar intercept on its own grouping
        factor, θ_i = sqrt(v_i / v_e) with v_i the variance of the group means
        of y over the rows and v_e = var(y) − Σ v_i, if positive; otherwise
        the design's start (1 on diagonals, 0 elsewhere).
        """
        d = self.design
        theta0 = np.asarray(d.theta, dtype=float).copy()
        terms = d.terms
        groups = [t.group for t in terms]
        scalar = all(list(t.names) == ["(Intercept)"] for t in terms)
        if not scalar or len(set(groups)) != len(groups):
            return theta0
        y = np.asarray(d.y, dtype=float)
        v = np.empty(len(terms))
        for i, t in enumerate(terms):
            refs = np.asarray(t.refs, dtype=np.int64)
            sums = np.bincount(refs, weights=y)
            counts = np.bincount(refs)
            means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
            v[i] = np.var(means[refs], ddof=1)
        v_e = float(np.var(y, ddof=1) - v.sum())
        if not v_e > 0:
            return theta0
        rel = v / v_e
        if np.all(rel >= self.lower**2):
            return np.sqrt(rel)
        return theta0
