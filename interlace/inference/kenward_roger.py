"""Kenward–Roger adjusted covariance and denominator df, as pbkrtest computes them.

Kenward and Roger (1997, Biometrics 53) write the marginal covariance as
``Σ = Σ_r γ_r G_r`` in the variance components ``γ`` — per random term the
lower triangle of its covariance matrix, then ``σ²`` — with
``G_r = Z_t (I ⊗ E_r) Z_t'`` (``E_r`` the symmetric unit pattern of entry
``(i, j)``) and ``G = I`` for ``σ²``.  With ``Φ = (X'Σ⁻¹X)⁻¹``,

    P_r = −X'Σ⁻¹G_rΣ⁻¹X,   Q_rs = X'Σ⁻¹G_rΣ⁻¹G_sΣ⁻¹X,
    I_rs = tr(Σ⁻¹G_rΣ⁻¹G_s) − 2 tr(Φ Q_rs) + tr(Φ P_r Φ P_s),   W = 2 I⁻¹,

the adjusted covariance (pbkrtest's ``vcovAdj``) is

    Φ_A = Φ + 2 Φ [Σ_rs W_rs (Q_rs − P_r Φ P_s)] Φ,

and for a hypothesis ``L β = 0`` of rank ``q`` with ``Θ = L'(LΦL')⁻¹L``,
``A_1 = Σ W_rs tr(ΘΦP_rΦ) tr(ΘΦP_sΦ)``, ``A_2 = Σ W_rs tr(ΘΦP_rΦΘΦP_sΦ)``
give the scaled F statistic and its denominator df (pbkrtest's
``.KR_adjust``; Kenward and Roger 1997, section 4).

pbkrtest forms the ``n x n`` matrices ``Σ⁻¹`` and ``G_r``; here every trace
and product reduces to ``q x q`` algebra through
:class:`~interlace.inference.marginal.Marginal` (``Σ = σ² V``):

    Z'Σ⁻¹X = A/σ²,  Z'Σ⁻¹Z = M₀/σ²,  Z'Σ⁻²Z = M₀ (I − KG)/σ⁴,
    tr(Σ⁻²) = (n − 2 tr(KG) + tr(KGKG))/σ⁴,

and ``Σ⁻¹X``, ``Σ⁻²X`` are ``n x p`` (Woodbury solves).  Prior weights are
part of ``V`` here (pbkrtest ignores them).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from interlace.engine.protocol import LmmDesign
from interlace.errors import InterlaceError
from interlace.inference.ddf import FloatArray, FTest, TTest, as_contrast_matrix, as_rhs
from interlace.inference.marginal import Marginal
from interlace.inference.satterthwaite import f_pvalue, t_pvalue

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

#: ``I`` is inverted exactly when its smallest absolute eigenvalue exceeds this.
COND_TOL = 1e-10
#: ``.divZero``'s tolerance.
DIV_ZERO_TOL = 1e-14


class KenwardRogerError(InterlaceError, ValueError):
    """Kenward–Roger's method does not apply to this fit."""

    code = "kenward-roger"


def component_patterns(design: LmmDesign) -> list[sp.csr_matrix]:
    """``I ⊗ E_r`` on the random effects for every variance component, in pbkrtest's order."""
    q = sum(len(t.levels) * len(t.names) for t in design.terms)
    out: list[sp.csr_matrix] = []
    offset = 0
    for term in design.terms:
        k = len(term.names)
        nlev = len(term.levels)
        base = offset + np.arange(nlev) * k
        for i in range(k):
            for j in range(i, k):
                rows = np.concatenate([base + i, base + j]) if i != j else base + i
                cols = np.concatenate([base + j, base + i]) if i != j else base + i
                out.append(sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(q, q)))
        offset += nlev * k
    return out


def _trace_on_pattern(e: sp.csr_matrix, m0: FloatArray, kg: FloatArray) -> float:
    """``tr(E Z'V⁻²Z)`` with ``Z'V⁻²Z = M₀ (I − KG)``, reading only the entries ``E`` selects."""
    coo = e.tocoo()
    inner = np.einsum("ij,ji->i", m0[coo.row], kg[:, coo.col])
    return float(np.sum(coo.data * (m0[coo.row, coo.col] - inner)))


class KenwardRoger:
    """Kenward–Roger t and F tests for one REML fit.

    Parameters
    ----------
    design : LmmDesign
    theta : ndarray
    sigma : float
    beta : ndarray
        Estimates of the fit.

    Attributes
    ----------
    vcov : ndarray
        ``Φ``, the unadjusted covariance of β̂.
    vcov_adj : ndarray
        ``Φ_A`` (pbkrtest's ``vcovAdj``).
    P : ndarray, shape (m, p, p)
    W : ndarray, shape (m, m)
    """

    label = "Kenward-Roger's"

    def __init__(
        self, design: LmmDesign, theta: FloatArray, sigma: float, beta: FloatArray
    ) -> None:
        mg = Marginal(design, theta)
        s2 = sigma**2
        self.beta = np.asarray(beta, dtype=float)
        self.sigma = float(sigma)
        phi = s2 * mg.U
        patterns = component_patterns(design)
        vx = mg.solve_v(mg.X)
        vvx = mg.solve_v(vx)
        z_vvx = np.asarray(mg.Zt @ vvx)
        kg = np.asarray(mg.G @ mg.K).T  # K G
        tr_v2 = mg.n - 2.0 * float(np.trace(kg)) + float(np.sum(kg * kg.T))
        # the random components enter through E_r A and E_r M₀; σ² through V⁻¹X and V⁻²X
        ea = [np.asarray(e @ mg.A) for e in patterns]  # E_r A  (q x p)
        em0 = [np.asarray(e @ mg.M0) for e in patterns]  # E_r M0 (q x q)
        m = len(patterns) + 1
        P = np.empty((m, mg.p, mg.p))
        for r, e_a in enumerate(ea):
            P[r] = -(mg.A.T @ e_a) / s2**2
        P[-1] = -(vx.T @ vx) / s2**2
        Q = np.empty((m, m, mg.p, mg.p))
        K = np.empty((m, m))
        for r in range(m - 1):
            for s in range(r, m - 1):
                Q[r, s] = (ea[r].T @ mg.M0 @ ea[s]) / s2**3
                Q[s, r] = Q[r, s].T
                K[r, s] = K[s, r] = float(np.sum(em0[r] * em0[s].T)) / s2**2
            Q[r, -1] = (ea[r].T @ z_vvx) / s2**3
            Q[-1, r] = Q[r, -1].T
            K[r, -1] = K[-1, r] = _trace_on_pattern(patterns[r], mg.M0, kg) / s2**2
        Q[-1, -1] = (vx.T @ vvx) / s2**3
        K[-1, -1] = tr_v2 / s2**2
        info = np.empty((m, m))
        for r in range(m):
            phi_p = phi @ P[r]
            for s in range(r, m):
                info[r, s] = info[s, r] = (
                    K[r, s]
                    - 2.0 * float(np.sum(phi * Q[r, s]))
                    + float(np.sum(phi_p * (P[s] @ phi)))
                )
        if np.min(np.abs(np.linalg.eigvalsh(info))) > COND_TOL:
            W = 2.0 * np.linalg.inv(info)
        else:
            W = 2.0 * np.linalg.pinv(info)
        W = (W + W.T) / 2.0
        U = np.zeros_like(phi)
        for r in range(m):
            for s in range(m):
                U += W[r, s] * (Q[r, s] - P[r] @ phi @ P[s])
        self.vcov = phi
        self.vcov_adj = phi + 2.0 * phi @ U @ phi
        self.P = P
        self.W = W

    def _a1_a2(self, L: FloatArray) -> tuple[float, float]:
        phi = self.vcov
        theta = L.T @ np.linalg.solve(L @ phi @ L.T, L)
        u = [theta @ phi @ p @ phi for p in self.P]
        tr = np.array([np.trace(x) for x in u])
        a1 = float(tr @ self.W @ tr)
        a2 = sum(
            self.W[r, s] * float(np.sum(u[r] * u[s].T))
            for r in range(len(u))
            for s in range(len(u))
        )
        return a1, float(a2)

    def _ddf_scaling(self, L: FloatArray, q: int) -> tuple[float, float]:
        """Denominator df and F scaling of a rank-``q`` hypothesis (pbkrtest's ``.KR_adjust``)."""
        a1, a2 = self._a1_a2(L)
        b = (a1 + 6.0 * a2) / (2.0 * q)
        g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
        den = 3.0 * q + 2.0 * (1.0 - g)
        c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
        v0 = 1.0 + c1 * b
        v1 = 1.0 - c2 * b
        v2 = 1.0 - c3 * b
        v0 = 0.0 if abs(v0) < 1e-10 else v0
        x = 1.0 - a2 / q
        ratio = 1.0 if abs(x) < DIV_ZERO_TOL and abs(v1) < DIV_ZERO_TOL else x / v1
        rho = ratio**2 * v0 / (q * v2)
        df2 = 4.0 + (q + 2) / (q * rho - 1.0)
        scaling = 1.0 if abs(df2 - 2.0) < 0.01 else df2 * x / (df2 - 2.0)
        return df2, scaling

    def t_test(self, contrast: ArrayLike, rhs: float = 0.0) -> TTest:
        """Test ``c'β = rhs`` with the adjusted variance (lmerTest's ``get_KR1D``)."""
        vec = as_contrast_matrix(contrast, self.beta.size)
        est = float(vec[0] @ self.beta)
        se = float(np.sqrt(vec[0] @ self.vcov_adj @ vec[0]))
        df, _ = self._ddf_scaling(vec, 1)
        t = (est - rhs) / se
        return TTest(est, se, df, t, t_pvalue(t, df))

    def f_test(self, L: ArrayLike, rhs: ArrayLike | None = None) -> FTest:
        """Scaled Kenward–Roger F test of ``L β = rhs`` (pbkrtest's ``KRmodcomp``).

        A row-rank-deficient ``L`` is replaced by an orthonormal basis of its
        row space (pbkrtest cannot invert ``L Φ L'`` then; lmerTest falls back
        to Satterthwaite).
        """
        mat = as_contrast_matrix(L, self.beta.size)
        c = as_rhs(rhs, mat.shape[0])
        q = int(np.linalg.matrix_rank(mat))
        if q == 0:
            return FTest.empty()
        diff = self.beta - (np.linalg.pinv(mat) @ c if np.any(c != 0) else 0.0)
        if q < mat.shape[0]:
            mat = np.linalg.svd(mat)[2][:q]
        lb = mat @ diff
        f_unscaled = float(lb @ np.linalg.solve(mat @ self.vcov_adj @ mat.T, lb)) / q
        df2, scaling = self._ddf_scaling(mat, q)
        F = scaling * f_unscaled
        ms = f_unscaled * self.sigma**2
        return FTest(ms * q, ms, float(q), df2, F, f_pvalue(F, q, df2))


_CACHE: dict[int, KenwardRoger] = {}


def kenward_roger_of(result: LmerResult) -> KenwardRoger:
    """The :class:`KenwardRoger` tests of a REML fit, computed once per result object.

    Raises
    ------
    KenwardRogerError
        For a maximum-likelihood fit (lmerTest and pbkrtest require REML).
    """
    if not result.REML:
        raise KenwardRogerError(
            "Kenward-Roger's method is only available for REML model fits",
            remedy="refit with REML=True or use ddf='satterthwaite'",
        )
    key = id(result)
    found = _CACHE.get(key)
    if found is None:
        found = KenwardRoger(result.design, result.theta, result.sigma, result.beta)
        _CACHE[key] = found
        weakref.finalize(result, _CACHE.pop, key, None)
    return found
