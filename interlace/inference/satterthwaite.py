"""Satterthwaite's denominator degrees of freedom, as lmerTest computes them.

For one contrast vector ``l`` (Kuznetsova et al. 2017, JSS 82(13), eq. 5 ff.)

    ν = 2 (l'V l)² / (g' A g),   g_i = l' (∂V/∂φ_i) l,

with ``V`` the covariance of ``β̂``, ``A`` the asymptotic covariance of the
variance parameters ``φ = (θ, σ)`` and ``∂V/∂φ_i`` the Jacobian
(:mod:`interlace.inference.varpar`).  For a contrast matrix ``L`` the
covariance ``L V L' = P D P'`` is diagonalised; the ``q`` directions with
positive eigenvalue ``d_m`` give independent t statistics ``t_m = p_m'Lβ̂ / √d_m``
and df ``ν_m``, ``F = Σ t_m² / q``, and the F denominator df match the first
two moments:

    E = Σ ν_m / (ν_m − 2),   ν = 2E / (E − q)

(2 when any ``ν_m ≤ 2``; the common value when all ``ν_m`` agree to 1e-8).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from interlace.inference.ddf import FloatArray, FTest, TTest, as_contrast_matrix, as_rhs
from interlace.inference.varpar import VarparModel

#: Relative eigenvalue tolerance of ``L V L'`` (lmerTest: ``sqrt(.Machine$double.eps)``).
RANK_TOL = float(np.sqrt(np.finfo(float).eps))
#: ν_m equal to this absolute tolerance are pooled by their mean.
EQUAL_DF_TOL = 1e-8


def t_pvalue(t: float, df: float) -> float:
    """Two-sided p-value of ``t`` on ``df`` degrees of freedom."""
    return float(2.0 * stats.t.sf(abs(t), df))


def f_pvalue(F: float, num_df: float, den_df: float) -> float:
    """Upper-tail p-value of ``F``."""
    return float(stats.f.sf(F, num_df, den_df))


def pooled_ddf(nu: FloatArray) -> float:
    """Denominator df of an F statistic from the df of its independent t statistics."""
    if nu.size == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < EQUAL_DF_TOL):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    e = float(np.sum(nu / (nu - 2.0)))
    return 2.0 * e / (e - nu.size)


def f_row(F: float, num_df: float, den_df: float, sigma: float) -> FTest:
    """lmerTest's table row: ``Mean Sq = F σ²``, ``Sum Sq = NumDF · Mean Sq``."""
    ms = F * sigma**2
    return FTest(ms * num_df, ms, num_df, den_df, F, f_pvalue(F, num_df, den_df))


class Satterthwaite:
    """Satterthwaite t and F tests for one fit.

    Parameters
    ----------
    model : VarparModel
    """

    label = "Satterthwaite's"

    def __init__(self, model: VarparModel) -> None:
        self.model = model

    def ddf(self, contrast: FloatArray) -> float:
        """Satterthwaite df of one contrast vector."""
        m = self.model
        var = float(contrast @ m.vcov_beta @ contrast)
        grad = np.einsum("i,kij,j->k", contrast, m.jacobian, contrast)
        return 2.0 * var**2 / float(grad @ m.vcov_varpar @ grad)

    def t_test(self, contrast: ArrayLike, rhs: float = 0.0) -> TTest:
        """Test ``c'β = rhs`` for the contrast vector ``c``."""
        m = self.model
        vec = as_contrast_matrix(contrast, m.beta.size)[0]
        est = float(vec @ m.beta)
        se = float(np.sqrt(vec @ m.vcov_beta @ vec))
        df = self.ddf(vec)
        t = (est - rhs) / se
        return TTest(est, se, df, t, t_pvalue(t, df))

    def f_test(self, L: ArrayLike, rhs: ArrayLike | None = None) -> FTest:
        """Test ``L β = rhs`` on the estimable directions of ``L``."""
        m = self.model
        mat = as_contrast_matrix(L, m.beta.size)
        c = as_rhs(rhs, mat.shape[0])
        if mat.shape[0] == 1:
            t = self.t_test(mat[0], float(c[0]))
            return f_row(t.t**2, 1.0, t.df, m.sigma)
        beta = m.beta
        if np.any(c != 0):
            beta = beta - np.linalg.pinv(mat, rcond=RANK_TOL) @ c
        d, P = np.linalg.eigh(mat @ m.vcov_beta @ mat.T)
        d, P = d[::-1], P[:, ::-1]
        q = int(np.sum(d > max(RANK_TOL * d[0], 0.0)))
        if q == 0:
            return FTest.empty()
        ptl = P[:, :q].T @ mat
        if q == 1:
            t = self.t_test(ptl[0], float(c[0]))
            return f_row(t.t**2, 1.0, t.df, m.sigma)
        F = float(np.sum((ptl @ beta) ** 2 / d[:q]) / q)
        nu = np.array([self.ddf(ptl[i]) for i in range(q)])
        return f_row(F, float(q), pooled_ddf(nu), m.sigma)
