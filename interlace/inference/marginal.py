"""The marginal covariance of an LMM in the random-effects dimension.

Marginally ``y ~ N(X β, σ² V)`` with

    V(θ) = W⁻¹ + Z Λ_θ Λ_θ' Z'

(Bates et al. 2015, JSS 67(1), eq. 2–4).  Row-scaling ``y``, ``X`` and ``Z``
by ``W^{1/2}`` makes ``V = I + Z Λ Λ' Z'``, which is assumed below.  Every
quantity the inference needs is a product of ``V⁻¹`` with ``Z``, ``X`` or
``y``, and by the Woodbury identity

    V⁻¹ = I − Z K Z',   K = Λ C⁻¹ Λ',   C = Λ' Z'Z Λ + I,

these reduce to ``q x q`` algebra on ``G = Z'Z``, ``Z'X``, ``Z'y`` — never an
``n x n`` matrix, and ``C⁻¹`` is formed by blocks, eliminating the first
random term (block diagonal in ``C``) before any dense factorisation:

    Z'V⁻¹Z = G − G K G,    Z'V⁻¹X = Z'X − G K Z'X,    X'V⁻¹X = X'X − X'Z K Z'X.

With ``U = (X'V⁻¹X)⁻¹`` and the REML projection
``P = V⁻¹ − V⁻¹X U X'V⁻¹``, the matrices ``M = Z'PZ`` and ``M₀ = Z'V⁻¹Z``,
the vector ``r = Z'P y`` and the penalised residual sum of squares
``y'Py = r²_θ`` give the derivatives of the deviance and of ``σ² U`` in θ.

``Λ`` is linear in θ (``Λ = Σ θ_i D_i``, lme4's ``Lind`` map), so
``∂(ΛΛ')/∂θ_i = E_i = D_i Λ' + Λ D_i'`` and
``∂²(ΛΛ')/∂θ_i∂θ_j = F_ij = D_i D_j' + D_j D_i'``.  The dense ``q x q``
matrices limit this to models with up to a few thousand random effects.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.engine.protocol import LmmDesign
from interlace.errors import NumericalError

FloatArray = NDArray[np.float64]


def _block_diagonal(c: sp.csr_matrix, q0: int, k0: int) -> FloatArray:
    """The ``k0 x k0`` diagonal blocks of the leading ``q0 x q0`` part of ``c``."""
    base = np.arange(0, q0, k0)
    rows = (base[:, None, None] + np.arange(k0)[None, :, None]).repeat(k0, axis=2)
    cols = (base[:, None, None] + np.arange(k0)[None, None, :]).repeat(k0, axis=1)
    return np.asarray(c[rows.ravel(), cols.ravel()], dtype=float).reshape(-1, k0, k0)


def _spd_inverse(a: FloatArray) -> FloatArray:
    """Inverse of a dense symmetric positive-definite matrix (Cholesky)."""
    low, info = sla.lapack.dpotrf(a, lower=1)
    if info == 0:
        inv, info = sla.lapack.dpotri(low, lower=1)
    if info != 0:
        raise NumericalError("Cholesky factor of Lambda' Z'Z Lambda + I failed")
    return np.asarray(np.tril(inv) + np.tril(inv, -1).T, dtype=float)


def blocked_spd_inverse(c: sp.csr_matrix, q0: int, k0: int) -> FloatArray:
    """Dense inverse of ``C = [[D, B], [B', C₁]]`` whose leading ``D`` is block diagonal.

    ``D`` (the first random term: one ``k0 x k0`` block per level) is inverted
    block by block, the Schur complement ``S = C₁ − B'D⁻¹B`` densely, and

        C⁻¹ = [[D⁻¹ + D⁻¹B S⁻¹ B'D⁻¹, −D⁻¹B S⁻¹], [−S⁻¹B'D⁻¹, S⁻¹]],

    so the dense factorisation is of the order of the *other* terms only.
    """
    q = c.shape[0]
    nlev = q0 // k0
    d_inv_blocks = np.linalg.inv(_block_diagonal(c, q0, k0))
    d_inv = sp.bsr_matrix((d_inv_blocks, np.arange(nlev), np.arange(nlev + 1)), shape=(q0, q0))
    if q0 == q:
        return np.asarray(d_inv.toarray(), dtype=float)
    b = c[:q0, q0:]
    db = sp.csr_matrix(d_inv @ b)
    s_inv = _spd_inverse(np.asarray(c[q0:, q0:].toarray() - (b.T @ db).toarray()))
    x12 = np.asarray(db @ s_inv)  # D⁻¹B S⁻¹
    out = np.empty((q, q))
    out[:q0, :q0] = d_inv.toarray() + np.asarray(db @ x12.T)
    out[:q0, q0:] = -x12
    out[q0:, :q0] = -x12.T
    out[q0:, q0:] = s_inv
    return out


class Marginal:
    """``V⁻¹`` products at one θ, for derivatives of the deviance and of vcov(β).

    Parameters
    ----------
    design : LmmDesign
        Its ``Lambdat``/``Lind`` describe Λ as a linear function of θ.
    theta : ndarray

    Attributes
    ----------
    D : list of scipy.sparse matrix
        ``∂Λ/∂θ_i`` (``q x q``).
    E : list of scipy.sparse matrix
        ``∂(ΛΛ')/∂θ_i``.
    M0, M : ndarray, shape (q, q)
        ``Z'V⁻¹Z`` and ``Z'PZ``.
    A : ndarray, shape (q, p)
        ``Z'V⁻¹X``.
    U : ndarray, shape (p, p)
        ``(X'V⁻¹X)⁻¹``, the unscaled covariance of β̂.
    beta : ndarray, shape (p,)
        Generalised least-squares estimate at θ.
    r : ndarray, shape (q,)
        ``Z'P y``.
    Zt : scipy.sparse matrix, shape (q, n)
    X : ndarray, shape (n, p)
        ``Z'`` and ``X`` with the rows scaled by ``W^{1/2}``.
    G : scipy.sparse matrix, shape (q, q)
        ``Z'Z``.
    K : ndarray, shape (q, q)
        ``Λ C⁻¹ Λ'``.
    pwrss : float
        ``y'P y``.
    n, p : int
    """

    def __init__(self, design: LmmDesign, theta: FloatArray) -> None:
        X = np.asarray(design.X, dtype=float)
        y = np.asarray(design.y, dtype=float)
        if design.offset is not None:
            y = y - np.asarray(design.offset, dtype=float)
        n, p = X.shape
        sw = np.ones(n)
        if design.weights is not None:
            sw = np.sqrt(np.asarray(design.weights, dtype=float))
            X, y = X * sw[:, None], y * sw
        Zt = sp.csr_matrix(sp.csc_matrix(design.Zt) @ sp.diags(sw))
        self.n, self.p = n, p
        self.Zt, self.X = Zt, X
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        lt = sp.csc_matrix(design.Lambdat, dtype=float)
        lind = np.asarray(design.Lind)
        lam_t = sp.csc_matrix((theta[lind], lt.indices, lt.indptr), shape=lt.shape)
        lam = lam_t.T.tocsr()
        self.D = [
            sp.csc_matrix(
                ((lind == i).astype(float), lt.indices, lt.indptr), shape=lt.shape
            ).T.tocsr()
            for i in range(theta.size)
        ]
        self.E = [(d @ lam_t + lam @ d.T).tocsr() for d in self.D]

        G = sp.csr_matrix(Zt @ Zt.T)
        zx = np.asarray(Zt @ X)
        zy = np.asarray(Zt @ y)
        first = design.terms[0]
        k0 = len(first.names)
        c_inv = blocked_spd_inverse(
            sp.csr_matrix(lam_t @ G @ lam + sp.identity(G.shape[0])), len(first.levels) * k0, k0
        )
        lc = np.asarray(lam @ c_inv)
        K = np.asarray((lam @ lc.T).T)  # Λ C⁻¹ Λ' (symmetric)
        self.G, self.K = G, K
        GK = np.asarray(G @ K)
        self.M0 = G.toarray() - np.asarray(G @ GK.T)
        self.A = zx - GK @ zx
        a = zy - GK @ zy
        xvx = X.T @ X - zx.T @ K @ zx
        xvy = X.T @ y - zx.T @ K @ zy
        yvy = float(y @ y - zy @ K @ zy)
        xf = sla.cho_factor(xvx, lower=True)
        self.U = sla.cho_solve(xf, np.eye(p))
        self.beta = sla.cho_solve(xf, xvy)
        self.M = self.M0 - self.A @ self.U @ self.A.T
        self.r = a - self.A @ self.beta
        self.pwrss = yvy - float(xvy @ self.beta)

    def deviance_hessian_theta(self, sigma: float, REML: bool) -> tuple[FloatArray, FloatArray]:
        """θ-block of the Hessian of ``d(θ, σ)`` and the gradient of ``r²(θ)``.

        ``∂²/∂θ_i∂θ_j`` of ``log|V| (+ log|X'V⁻¹X|)`` is ``tr(F_ij S) − tr(E_i S E_j S)``
        with ``S = M`` (REML) or ``M₀`` (ML); of ``r²`` it is
        ``2 r'E_i M E_j r − r'F_ij r``; and ``∂r²/∂θ_i = −r'E_i r``.
        """
        S = self.M if REML else self.M0
        k = len(self.E)
        ES = [e @ S for e in self.E]
        SD = [np.asarray(d.T @ S).T for d in self.D]  # S D_i (S symmetric)
        er = [e @ self.r for e in self.E]
        dr = [d.T @ self.r for d in self.D]
        h = np.empty((k, k))
        for i in range(k):
            for j in range(i + 1):
                logdet = 2.0 * float(self.D[j].multiply(SD[i]).sum()) - float(
                    np.sum(ES[i] * ES[j].T)
                )
                quad = 2.0 * float(er[i] @ self.M @ er[j]) - 2.0 * float(dr[i] @ dr[j])
                h[i, j] = h[j, i] = logdet + quad / sigma**2
        grad_r2 = np.array([-float(self.r @ e) for e in er])
        return h, grad_r2

    def vcov_jacobian_theta(self) -> FloatArray:
        """``∂U/∂θ_i = U A'E_i A U``, stacked (``k x p x p``)."""
        return np.stack([self.U @ (self.A.T @ (e @ self.A)) @ self.U for e in self.E])

    def solve_v(self, B: FloatArray) -> FloatArray:
        """``V⁻¹ B`` for an ``n x m`` matrix ``B`` (Woodbury; no ``n x n`` matrix)."""
        return np.asarray(B - self.Zt.T @ (self.K @ np.asarray(self.Zt @ B)), dtype=float)
