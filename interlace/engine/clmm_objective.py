"""The Laplace and adaptive Gauss–Hermite objectives of ``ordinal::clmm``.

The model (:mod:`interlace.engine.cumulative`) has shifts
``s = Xβ + o + ZΛu`` with spherical random effects ``u ~ N(0, I_q)`` and
``Λ`` the relative covariance factor of lme4's layout (here the covariance
factor itself: there is no residual scale).  With

    h(u) = −Σ_i ℓ_i(s_i(u)) + ½‖u‖²

(ordinal's ``nll.u`` without the constant ``q/2 log 2π``) the conditional modes
``û`` minimise ``h`` by Newton's method with step halving (ordinal's
``update.u``), each step a penalised weighted least-squares solve on the
shared predictor (:class:`~interlace.engine.predictor.BlockedPredictor`; for a
single scalar term the system is diagonal and solved level by level), and
one full step more once ``max|∇h| < 1e-8`` (the log-determinant below is not
stationary in ``u``: an inexact ``û`` would make it, and its finite-difference
Hessian, noisy):

    (Λ'Z'DZΛ + I) u⁺ = Λ'Z'D (ZΛu + ℓ'/D),   D = −ℓ'' (exact, ordinal's ``phi2``),

and the Laplace approximation to the negative log-likelihood is ordinal's
``getNLA``

    −log L ≈ h(û) + ½ log|Λ'Z'DZΛ + I|   (D at û).

For a single scalar random-effect term (ordinal's ``ssr`` case) the integral
factors over the ``q`` levels and nAGQ > 1 uses adaptive Gauss–Hermite
quadrature: with ``σ_j = (Λ'Z'DZΛ + I)_jj^{-1/2}`` and the rule
``(z_m, w_m)`` normalised for the standard normal
(:mod:`interlace.engine.quadrature`),

    −log L ≈ −Σ_j log[σ_j Σ_m w_m exp(−h_j(û_j + σ_j z_m)) / φ(z_m)],

where ``h_j`` is level ``j``'s part of ``h`` plus ``½ log 2π`` (so that
``exp(−h_j)`` is the integrand ``φ(u) Π p_i``); dividing by ``φ(z_m)`` turns the
normalised rule back into one for Lebesgue measure.

Parameters are ordinal's: ``par = (α, β, ST)`` with ``ST`` the lower-triangular
factor of each term (diagonal first, then the lower triangle by columns); for
the single scalar term ``ST`` is ``log`` of the standard deviation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import logsumexp

from interlace.design.random import ReTerm
from interlace.engine.cumulative import CumulativeLink, OrdinalResponse
from interlace.engine.predictor import BlockedPredictor
from interlace.engine.quadrature import gh_rule
from interlace.errors import NumericalError

FloatArray = NDArray[np.float64]
Product = Callable[[FloatArray], FloatArray]

#: Newton's tolerance on ``max|∇h|`` (ordinal's ``gradTol`` is 1e-4), followed by one full step.
GRAD_TOL = 1e-8
#: Newton iterations and step halvings (ordinal's ``maxIter``, ``maxLineIter``).
MAX_ITER, MAX_LINE_ITER = 50, 50
#: A step is accepted when ``h`` rises by less than this times ``1 + |h|`` (rounding of ``h``).
ROUNDING = 1e-12


@dataclass(frozen=True)
class Modes:
    """The conditional modes at one parameter vector.

    Attributes
    ----------
    u : ndarray, shape (q,)
        Spherical modes, in ``Zt``'s row order.
    b : ndarray, shape (q,)
        ``Λu``.
    h : float
        ``h(û)``.
    ldL2 : float
        ``log|Λ'Z'DZΛ + I|`` at ``û``.
    shift_fixed : ndarray
        ``Xβ + o``.
    curvature : ndarray
        ``D`` at ``û``.
    """

    u: FloatArray
    b: FloatArray
    h: float
    ldL2: float
    shift_fixed: FloatArray
    curvature: FloatArray


def strict_lower(k: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows and columns of a ``k x k`` strict lower triangle by columns (R's ``lower.tri``)."""
    rows, cols = np.tril_indices(k, -1)
    order = np.lexsort((rows, cols))
    return rows[order], cols[order]


def st_to_theta(st: FloatArray, terms: Sequence[ReTerm]) -> FloatArray:
    """lme4's ``θ`` (lower triangles by columns) from ordinal's ST parameters (diagonal first)."""
    out = []
    pos = 0
    for t in terms:
        k = t.k
        lam = np.zeros((k, k))
        lam[np.diag_indices(k)] = st[pos : pos + k]
        lam[strict_lower(k)] = st[pos + k : pos + k * (k + 1) // 2]
        out.append(lam.T[np.triu_indices(k)])
        pos += k * (k + 1) // 2
    return np.concatenate(out) if out else np.zeros(0)


def st_lower(terms: Sequence[ReTerm], log_sd: bool) -> FloatArray:
    """Lower bounds of the ST parameters: 0 for standard deviations, none otherwise."""
    if log_sd:
        return np.full(1, -math.inf)
    return np.concatenate(
        [np.r_[np.zeros(t.k), np.full(t.k * (t.k - 1) // 2, -math.inf)] for t in terms]
    )


class ClmmObjective:
    """``par ↦`` negative Laplace (or AGQ) log-likelihood of a CLMM.

    Parameters
    ----------
    response : OrdinalResponse
    link : CumulativeLink
    jacobian : ndarray
        The thresholds' Jacobian ``T`` (``θ = T α``).
    X : ndarray, shape (n, p)
    offset : ndarray
    terms : sequence of ReTerm
        Random terms, placed (``theta_slice`` set), in ordinal's order.
    Zt : sparse matrix, shape (q, n)
    Lambdat : sparse matrix
        ``Λ'`` pattern; ``Lind`` maps ``θ`` onto its data.
    Lind : ndarray
    nAGQ : int
        1 (Laplace) or the number of quadrature points (single scalar term).
    """

    def __init__(
        self,
        response: OrdinalResponse,
        link: CumulativeLink,
        jacobian: FloatArray,
        X: FloatArray,
        offset: FloatArray,
        terms: Sequence[ReTerm],
        Zt: sp.csc_matrix,
        Lambdat: sp.csc_matrix,
        Lind: NDArray[np.intp],
        nAGQ: int = 1,
    ) -> None:
        self.response = response
        self.link = link
        self.jacobian = np.asarray(jacobian, dtype=float)
        self.X = np.asarray(X, dtype=float)
        self.offset = np.asarray(offset, dtype=float)
        self.terms = list(terms)
        self.Zt = sp.csc_matrix(Zt)
        self._lambdat = sp.csc_matrix(Lambdat, copy=True)
        self._lind = np.asarray(Lind)
        self.log_sd = len(self.terms) == 1 and self.terms[0].k == 1
        self.n_alpha = self.jacobian.shape[1]
        self.p = self.X.shape[1]
        self.n_st = sum(t.k * (t.k + 1) // 2 for t in self.terms)
        self.nAGQ = nAGQ
        self.rule = gh_rule(nAGQ) if nAGQ > 1 else None
        n = self.X.shape[0]
        self.predictor = BlockedPredictor(self.terms, np.empty((n, 0)), np.zeros(n))
        self.neval = 0

    @property
    def n_par(self) -> int:
        """Length of ``par``."""
        return self.n_alpha + self.p + self.n_st

    def lower(self) -> FloatArray:
        """Lower bounds of ``par`` (ordinal's ``parConstraints``)."""
        return np.r_[np.full(self.n_alpha + self.p, -math.inf), st_lower(self.terms, self.log_sd)]

    def split(self, par: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``(α, β, θ)`` of ``par``, with lme4's ``θ``."""
        par = np.asarray(par, dtype=float)
        alpha = par[: self.n_alpha]
        beta = par[self.n_alpha : self.n_alpha + self.p]
        st = par[self.n_alpha + self.p :]
        if self.log_sd:
            st = np.exp(st)
        return alpha, beta, st_to_theta(st, self.terms)

    def _zlt(self, theta: FloatArray) -> sp.csr_matrix:
        lt = self._lambdat
        lt.data = theta[self._lind]
        return sp.csr_matrix(lt @ self.Zt)

    def _hjj(self, lam: float, curv: FloatArray) -> FloatArray:
        """Single scalar term: the diagonal ``λ² Σ_i∈j z_i² D_i + 1`` of ``Λ'Z'DZΛ + I``."""
        term = self.terms[0]
        z = term.z[:, 0]
        sums = np.bincount(term.refs, weights=curv * z * z, minlength=term.n_levels)
        return np.asarray(lam * lam * sums + 1.0, dtype=float)

    def _products(self, theta: FloatArray) -> tuple[Product, Product]:
        """``u ↦ ZΛu`` and ``v ↦ Λ'Z'v`` at ``θ`` (by level indexing for one scalar term)."""
        if self.log_sd:
            term = self.terms[0]
            lam, z, refs, nlev = float(theta[0]), term.z[:, 0], term.refs, term.n_levels
            return (
                lambda u: np.asarray(lam * z * u[refs], dtype=float),
                lambda v: np.asarray(lam * np.bincount(refs, z * v, nlev), dtype=float),
            )
        zlt = self._zlt(theta)
        zl = sp.csr_matrix(zlt.T)
        return (
            lambda u: np.asarray(zl @ u, dtype=float),
            lambda v: np.asarray(zlt @ v, dtype=float),
        )

    def modes(self, par: FloatArray) -> Modes:
        """The conditional modes and the pieces of the Laplace value at ``par``.

        Leaves the shared predictor factored at ``(θ, D(û))`` (several terms).

        Raises
        ------
        NumericalError
            A probability not positive, a negative curvature (``cauchit``) or
            no convergence.
        """
        alpha, beta, theta = self.split(par)
        thresholds = self.jacobian @ alpha
        shift_fixed = self.X @ beta + self.offset
        zl, zlt = self._products(theta)
        u = np.zeros(self.Zt.shape[0])

        def evaluate(u: FloatArray) -> tuple[float, FloatArray, FloatArray, FloatArray]:
            zb = zl(u)
            ll, d1, curv = self.response.loglik_terms(self.link, thresholds, shift_fixed + zb)
            return -float(np.sum(ll)) + 0.5 * float(u @ u), zb, d1, curv

        h, zb, d1, curv = evaluate(u)
        for _ in range(MAX_ITER):
            if not math.isfinite(h) or np.any(~(curv >= 0)):
                raise NumericalError(f"conditional modes failed at par={list(par)}")
            converged = np.max(np.abs(u - zlt(d1)), initial=0.0) < GRAD_TOL
            step = self._newton_target(theta, zb, d1, curv) - u
            if converged:  # one full step more: û to rounding error, so that D(û) is smooth
                u = u + step
                h, zb, d1, curv = evaluate(u)
                break
            factor = 1.0
            slack = ROUNDING * (1.0 + abs(h))
            for _ in range(MAX_LINE_ITER):
                trial = evaluate(u + factor * step)
                if trial[0] <= h + slack:
                    break
                factor /= 2.0
            else:
                raise NumericalError(f"step halving failed for the modes at par={list(par)}")
            u = u + factor * step
            h, zb, d1, curv = trial
        else:
            raise NumericalError(f"no convergence of the modes at par={list(par)}")
        if not math.isfinite(h) or np.any(~(curv > 0)):
            raise NumericalError(f"conditional modes failed at par={list(par)}")
        if self.log_sd:
            b = float(theta[0]) * u
            ldL2 = float(np.sum(np.log(self._hjj(float(theta[0]), curv))))
        else:
            b = np.asarray(self._lambdat.T @ u, dtype=float)
            self.predictor.reweight(zb, curv)
            self.predictor.update(theta)
            ldL2 = float(self.predictor.ldL2)
        return Modes(u, b, h, ldL2, shift_fixed, curv)

    def u_covariances(self, par: FloatArray) -> list[FloatArray]:
        """Per term, the ``levels x k x k`` blocks of ``(Λ'Z'DZΛ + I)^{-1}`` at the modes."""
        m = self.modes(par)
        if self.log_sd:
            theta = self.split(par)[2]
            return [(1.0 / self._hjj(float(theta[0]), m.curvature))[:, None, None]]
        return self.predictor.u_cov_blocks()

    def _newton_target(
        self, theta: FloatArray, zb: FloatArray, d1: FloatArray, curv: FloatArray
    ) -> FloatArray:
        """Newton's next ``u``: ``(Λ'Z'DZΛ + I)^{-1} Λ'Z'D (ZΛu + ℓ'/D)``.

        For a single scalar term the matrix is diagonal and the solve is one
        division per level; otherwise it is the shared predictor's.
        """
        if self.log_sd:
            term = self.terms[0]
            lam, z = float(theta[0]), term.z[:, 0]
            rhs = lam * np.bincount(
                term.refs, weights=z * (curv * zb + d1), minlength=term.n_levels
            )
            return np.asarray(rhs / self._hjj(lam, curv), dtype=float)
        self.predictor.reweight(zb + d1 / curv, curv)
        self.predictor.update(theta)
        return np.concatenate([ui.ravel() for ui in self.predictor.solve()[1]])

    def __call__(self, par: FloatArray) -> float:
        """The negative log-likelihood approximation; ``inf`` where it cannot be evaluated."""
        self.neval += 1
        try:
            m = self.modes(par)
        except NumericalError:
            return math.inf
        if self.rule is None:
            return m.h + 0.5 * m.ldL2
        return self._agq(par, m)

    def _agq(self, par: FloatArray, m: Modes) -> float:
        """Adaptive Gauss–Hermite value for the single scalar term."""
        assert self.rule is not None
        alpha, _, theta = self.split(par)
        thresholds = self.jacobian @ alpha
        term = self.terms[0]
        refs = np.asarray(term.refs)
        z = term.z[:, 0]
        lam = float(theta[0])
        nlev = term.n_levels
        scale = 1.0 / np.sqrt(self._hjj(lam, m.curvature))
        nodes = m.u[:, None] + scale[:, None] * self.rule.z[None, :]  # levels x nodes
        log_f = np.empty_like(nodes)
        for j in range(nodes.shape[1]):
            shift = m.shift_fixed + lam * z * nodes[refs, j]
            ll, _, _ = self.response.loglik_terms(self.link, thresholds, shift)
            log_f[:, j] = np.bincount(refs, weights=ll, minlength=nlev)
        log_f += -0.5 * nodes**2 - 0.5 * math.log(2.0 * math.pi)
        log_terms = log_f + (np.log(self.rule.w) - self.rule.ldnorm)[None, :]
        value = -float(np.sum(np.log(scale) + logsumexp(log_terms, axis=1)))
        return value if math.isfinite(value) else math.inf
