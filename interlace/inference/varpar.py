"""The variance-parameter view of a fitted LMM that Satterthwaite's method needs.

lmerTest (Kuznetsova, Brockhoff and Christensen 2017, JSS 82(13), section 3)
works with the variance parameters ``φ = (θ, σ)`` — the relative covariance
parameters and the residual standard deviation — and the deviance *not*
profiled over σ:

    d(θ, σ) = a(θ) + r²(θ) / σ² + ν log(2π σ²),

where ``a = log|L_θ|²`` and ``ν = n`` for ML, ``a = log|L_θ|² + log|R_X|²``
and ``ν = n − p`` for REML, and ``r²(θ)`` is the penalised weighted residual
sum of squares at the conditional estimates (Bates et al. 2015, eqs. 34 and
41 before profiling σ).  Two things are derived from it at the estimates:

* the asymptotic covariance of ``φ̂``, ``A = 2 H⁻¹`` with ``H`` the Hessian of
  ``d`` (the inverse taken over the positive eigenvalues only);
* the Jacobian of ``Φ(φ) = σ² U(θ)``, the covariance of ``β̂``, where
  ``U = (R_X' R_X)⁻¹ = (X'V⁻¹X)⁻¹`` with ``V`` the marginal covariance of ``y / σ``.

All derivatives are analytic:

    ∂²d/∂θ_i∂σ = −2 (∂r²/∂θ_i) / σ³,   ∂²d/∂σ² = 6 r² / σ⁴ − 2ν / σ²,
    ∂Φ/∂θ_i = σ² ∂U/∂θ_i,   ∂Φ/∂σ = 2σ U,

and the θ-derivatives come from the marginal covariance
(:mod:`interlace.inference.marginal`).  lmerTest differentiates numerically
(``numDeriv``); the analytic values agree with it to its accuracy.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from interlace.engine.protocol import LmmDesign
from interlace.errors import HessianWarning
from interlace.inference.marginal import Marginal

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]

#: Eigenvalues of the Hessian within this distance of zero count as zero (lmerTest's ``tol``).
EIGEN_TOL = 1e-8


@dataclass(frozen=True)
class VarparModel:
    """Fixed effects, their covariance and its derivatives in ``φ = (θ, σ)``.

    Attributes
    ----------
    beta : ndarray, shape (p,)
    vcov_beta : ndarray, shape (p, p)
        ``Φ = σ² (R_X' R_X)⁻¹`` (``vcov``).
    jacobian : ndarray, shape (k + 1, p, p)
        ``∂Φ/∂φ_i`` (lmerTest's ``Jac_list``).
    hessian : ndarray, shape (k + 1, k + 1)
        Hessian of the deviance ``d(θ, σ)``.
    vcov_varpar : ndarray, shape (k + 1, k + 1)
        ``2 H⁻¹`` over the positive eigenvalues (lmerTest's ``vcov_varpar``).
    sigma : float
    """

    beta: FloatArray
    vcov_beta: FloatArray
    jacobian: FloatArray
    hessian: FloatArray
    vcov_varpar: FloatArray
    sigma: float


def _positive_inverse(h: FloatArray) -> FloatArray:
    """``H⁻¹`` over the eigenvalues above :data:`EIGEN_TOL`, warning as lmerTest does."""
    values, vectors = np.linalg.eigh(h)
    neg = values < -EIGEN_TOL
    zero = np.abs(values) <= EIGEN_TOL
    if neg.any():
        warnings.warn(
            f"Model failed to converge with {int(neg.sum())} negative eigenvalue(s) of the "
            "Hessian of the deviance in (theta, sigma): "
            + " ".join(f"{v:.1e}" for v in values[neg]),
            HessianWarning,
            stacklevel=3,
        )
    if zero.any():
        warnings.warn(
            f"Model may not have converged with {int(zero.sum())} eigenvalue(s) close to zero: "
            + " ".join(f"{v:.1e}" for v in values[zero]),
            HessianWarning,
            stacklevel=3,
        )
    pos = values > EIGEN_TOL
    v = vectors[:, pos]
    return np.asarray((v / values[pos]) @ v.T, dtype=float)


def varpar_model(
    design: LmmDesign, theta: FloatArray, sigma: float, beta: FloatArray, REML: bool
) -> VarparModel:
    """Build the :class:`VarparModel` at given estimates.

    Parameters
    ----------
    design : LmmDesign
    theta : ndarray
        Relative covariance parameters at the estimates.
    sigma : float
        Residual standard deviation at the estimates.
    beta : ndarray
        Fixed effects at the estimates.
    REML : bool
        Whether the deviance is the REML criterion.
    """
    theta = np.atleast_1d(np.asarray(theta, dtype=float))
    k = theta.size
    marg = Marginal(design, theta)
    nu = marg.n - marg.p if REML else marg.n
    s2 = sigma**2
    h = np.empty((k + 1, k + 1))
    h[:k, :k], grad_r2 = marg.deviance_hessian_theta(sigma, REML)
    h[:k, k] = h[k, :k] = -2.0 * grad_r2 / sigma**3
    h[k, k] = 6.0 * marg.pwrss / s2**2 - 2.0 * nu / s2
    jac = np.empty((k + 1, marg.p, marg.p))
    jac[:k] = s2 * marg.vcov_jacobian_theta()
    jac[k] = 2.0 * sigma * marg.U
    return VarparModel(
        beta=np.asarray(beta, dtype=float),
        vcov_beta=s2 * marg.U,
        jacobian=jac,
        hessian=h,
        vcov_varpar=2.0 * _positive_inverse(h),
        sigma=float(sigma),
    )


_CACHE: dict[int, VarparModel] = {}


def varpar_of(result: LmerResult) -> VarparModel:
    """The :class:`VarparModel` of a fit, computed once per result object."""
    key = id(result)
    found = _CACHE.get(key)
    if found is None:
        found = varpar_model(result.design, result.theta, result.sigma, result.beta, result.REML)
        _CACHE[key] = found
        weakref.finalize(result, _CACHE.pop, key, None)
    return found
