"""glmmTMB's parameterisation of random-effect covariance matrices.

glmmTMB (1.1.5) does not use lme4's relative Cholesky factor.  A term with ``k``
effects per level has covariance ``Σ = S C S`` with ``S = diag(exp(θ_1), ..., exp(θ_k))``
(``θ`` starts with the log standard deviations) and a correlation matrix ``C``:

* ``us`` (unstructured, the default): the remaining ``k(k−1)/2`` entries of ``θ`` fill,
  row by row, the strictly lower triangle of a unit lower-triangular ``L``
  (TMB's ``UNSTRUCTURED_CORR``); ``C = D^{-1/2} L L' D^{-1/2}`` with ``D = diag(L L')``.
  For ``k = 2`` the correlation is ``θ_3 / sqrt(1 + θ_3²)``;
* ``diag`` (``||`` in glmmTMB): ``C = I``, ``θ`` the ``k`` log standard deviations;
* ``diag(..., hom = TRUE)``: one log standard deviation shared by the ``k`` effects.

The engine works with spherical effects ``u ~ N(0, I)`` and ``b = λ u`` per level, with
``λ = S D^{-1/2} L`` (lower triangular, ``λ λ' = Σ``); the Laplace approximation is
invariant to this linear change of variables.

Interface notes (what a new structure must provide): ``n_theta(k)`` and
``factor(theta)`` (the ``k x k`` lower-triangular ``λ``); register it in
:func:`tmb_covariance` for the design's structure class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from interlace.design.covariance import (
    CovarianceStructure,
    Diagonal,
    HomogeneousDiagonal,
    Unstructured,
)
from interlace.errors import UnsupportedFeatureError

FloatArray = NDArray[np.float64]


class TmbCovariance(ABC):
    """A covariance structure in glmmTMB's parameters (log SDs, then correlation parameters)."""

    def __init__(self, k: int) -> None:
        self.k = k

    @property
    @abstractmethod
    def n_theta(self) -> int:
        """Number of parameters of one term."""

    @abstractmethod
    def factor(self, theta: FloatArray) -> FloatArray:
        """The ``k x k`` lower-triangular ``λ`` with ``λ λ' = Σ(θ)``."""

    def covariance(self, theta: FloatArray) -> FloatArray:
        """``Σ(θ)``."""
        lam = self.factor(theta)
        return np.asarray(lam @ lam.T, dtype=float)


class TmbUnstructured(TmbCovariance):
    """glmmTMB's ``us``: log SDs and TMB's unstructured correlation parameters."""

    @property
    def n_theta(self) -> int:
        return self.k * (self.k + 1) // 2

    def factor(self, theta: FloatArray) -> FloatArray:
        k = self.k
        unit = np.eye(k)
        rows, cols = np.tril_indices(k, -1)  # row by row, as TMB fills it
        unit[rows, cols] = theta[k:]
        norms = np.sqrt(np.sum(unit**2, axis=1))
        return np.asarray((np.exp(theta[:k]) / norms)[:, None] * unit, dtype=float)


class TmbDiagonal(TmbCovariance):
    """glmmTMB's ``diag``: independent effects, one log SD each."""

    @property
    def n_theta(self) -> int:
        return self.k

    def factor(self, theta: FloatArray) -> FloatArray:
        return np.diag(np.exp(theta[: self.k]))


class TmbHomogeneousDiagonal(TmbCovariance):
    """Independent effects sharing one log SD (``diag(..., hom = TRUE)``)."""

    @property
    def n_theta(self) -> int:
        return 1

    def factor(self, theta: FloatArray) -> FloatArray:
        return np.exp(theta[0]) * np.eye(self.k)


_STRUCTURES: dict[type[CovarianceStructure], type[TmbCovariance]] = {
    Unstructured: TmbUnstructured,
    Diagonal: TmbDiagonal,
    HomogeneousDiagonal: TmbHomogeneousDiagonal,
}


def tmb_covariance(cov: CovarianceStructure, term: str = "") -> TmbCovariance:
    """glmmTMB's parameterisation of the design's covariance structure ``cov``.

    Raises
    ------
    UnsupportedFeatureError
        A structure without a glmmTMB parameterisation here; the message names ``term``.
    """
    make = _STRUCTURES.get(type(cov))
    if make is None:
        raise UnsupportedFeatureError(
            f"covariance structure {type(cov).__name__} of term ({term}) is not supported by "
            "interlace's glmmTMB (supported: us, diag)",
            term=term,
        )
    return make(cov.k)
