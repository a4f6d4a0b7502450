"""The linear predictor through a general sparse factorisation, in lme4's own formulation.

This is lme4's ``merPredD`` route (Bates et al. 2015, section 3.4): with
``Λ_θ'`` filled from θ through ``Lind``, factor the sparse ``q x q`` matrix

    M_θ = Λ_θ' Z' W Z Λ_θ + I_q = L_θ L_θ'            (eq. 18)

then eliminate β densely,

    R_X' R_X = X'WX − R_ZX' R_ZX,   R_ZX = L_θ^{-1} Λ_θ' Z'W X   (also eq. 18),

and get ``β̂``, ``û`` and ``r²_θ`` from the normal equations (eq. 17).
It needs no block structure, so it serves designs whose dense Schur block
would be too large for :class:`~interlace.engine.predictor.BlockedPredictor`,
and it is an independent check of that path.  CHOLMOD (``scikit-sparse``) is
used when importable; otherwise SciPy's SuperLU in symmetric mode, whose
``U`` diagonal gives the determinant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from interlace.engine.predictor import LambdaMap
from interlace.engine.protocol import LmmDesign
from interlace.errors import NumericalError

FloatArray = NDArray[np.float64]


def _cholmod() -> Any:
    """scikit-sparse's CHOLMOD module, or ``None``."""
    try:
        from sksparse import cholmod
    except ImportError:
        return None
    return cholmod


class SparsePredictor:
    """Sparse factor of ``Λ'Z'WZΛ + I`` plus a dense ``R_X``, refactored per θ.

    Parameters
    ----------
    design : LmmDesign
        Uses ``Zt``, ``Lambdat``, ``Lind`` and ``terms`` (for the layout of ``u``).
    X, y, weights
        As for :class:`~interlace.engine.predictor.BlockedPredictor`.
    """

    def __init__(
        self, design: LmmDesign, X: FloatArray, y: FloatArray, weights: FloatArray | None = None
    ) -> None:
        n, p = X.shape
        self.n, self.p = n, p
        self.terms = list(design.terms)
        sw = np.sqrt(np.ones(n) if weights is None else np.asarray(weights, dtype=float))
        self.ztw = sp.csc_matrix(sp.csc_matrix(design.Zt) @ sp.diags(sw))
        self.xw = X * sw[:, None]
        self.yw = y * sw
        self.lambdat = sp.csc_matrix(design.Lambdat, copy=True)
        self.lind = np.asarray(design.Lind, dtype=np.intp)
        self.q = self.ztw.shape[0]
        self.lambda_map = LambdaMap(self.terms)
        self._cholmod = _cholmod()
        self.lams: list[FloatArray] = []
        self.theta: FloatArray = np.empty(0)
        self.ldL2 = np.nan
        self.ldRX2 = np.nan
        self.pwrss = np.nan

    def update(self, theta: FloatArray) -> None:
        """Set ``θ``, refactor; fills ``ldL2``, ``ldRX2``, ``pwrss`` and the solution."""
        theta = np.asarray(theta, dtype=float)
        self.lambdat.data = theta[self.lind]
        v = sp.csc_matrix(self.lambdat @ self.ztw)  # Λ' Z' W^{1/2}
        m = sp.csc_matrix(v @ v.T + sp.identity(self.q, format="csc"))
        solve, logdet = self._factor(m)
        vx, vy = np.asarray(v @ self.xw), np.asarray(v @ self.yw)
        mx, my = solve(vx), solve(vy)
        rxtrx = self.xw.T @ self.xw - vx.T @ mx
        try:
            rx = sla.cholesky(rxtrx, lower=True)
        except np.linalg.LinAlgError as err:
            raise NumericalError("Downdated X'X is not positive definite") from err
        beta = sla.cho_solve((rx, True), self.xw.T @ self.yw - vx.T @ my)
        u = my - mx @ beta
        resid = self.yw - self.xw @ beta - v.T @ u
        self.ldL2 = logdet
        self.ldRX2 = 2.0 * float(np.sum(np.log(np.diag(rx))))
        self.pwrss = float(resid @ resid + u @ u)
        self._beta, self._u, self._rx = beta, u, rx
        self.theta = theta.copy()
        self.lams = self.lambda_map(theta)

    def _factor(self, m: sp.csc_matrix) -> tuple[Callable[[FloatArray], FloatArray], float]:
        """A solver for ``M`` and ``log|M|``."""
        if self._cholmod is not None:
            factor = self._cholmod.cholesky(m)
            return factor, float(factor.logdet())
        try:
            lu = spla.splu(
                m,
                permc_spec="MMD_AT_PLUS_A",
                diag_pivot_thresh=0.0,
                options={"SymmetricMode": True},
            )
        except RuntimeError as err:  # exactly singular
            raise NumericalError("sparse factorisation of Λ'Z'WZΛ + I failed") from err
        diag = lu.U.diagonal()
        if np.any(diag <= 0):
            raise NumericalError("Λ'Z'WZΛ + I is not positive definite")
        return lu.solve, float(np.sum(np.log(diag)))

    def solve(self) -> tuple[FloatArray, list[FloatArray]]:
        """``β̂`` and the spherical ``û`` per term (levels x k) at the last θ."""
        out, start = [], 0
        for t in self.terms:
            k = int(t.z.shape[1])
            size = len(t.levels) * k
            out.append(self._u[start : start + size].reshape(len(t.levels), k))
            start += size
        return self._beta.copy(), out

    def b(self, u: Sequence[FloatArray]) -> list[FloatArray]:
        """``b = Λ_θ u`` per term (levels x k)."""
        return [ui @ lam.T for ui, lam in zip(u, self.lams, strict=True)]

    def u_cov_blocks(self) -> list[FloatArray]:
        """Per term, the ``k x k`` diagonal blocks of ``(Λ'Z'WZΛ + I)^{-1}`` (dense inverse)."""
        v = sp.csc_matrix(self.lambdat @ self.ztw)
        solve, _ = self._factor(sp.csc_matrix(v @ v.T + sp.identity(self.q, format="csc")))
        inv = solve(np.eye(self.q))
        out, start = [], 0
        for t in self.terms:
            nlev, k = len(t.levels), int(t.z.shape[1])
            idx = start + np.arange(nlev * k).reshape(nlev, k)
            out.append(inv[idx[:, :, None], idx[:, None, :]])
            start += nlev * k
        return out

    def unscaled_vcov(self) -> FloatArray:
        """``(R_X' R_X)^{-1}``."""
        return np.asarray(sla.cho_solve((self._rx, True), np.eye(self.p)), dtype=float)
