"""Covariance structures of random-effect terms.

A random term with ``k`` columns per level has conditional covariance
``sigma^2 * lambda @ lambda.T`` for each level, where ``lambda`` is a ``k x k``
lower-triangular relative covariance factor filled from the term's slice of
``theta`` (Bates et al. 2015, JSS 67(1), eq. 4).  lme4 stores the transpose,
``Lambdat``, block-diagonal over the levels.

Interface notes (what a new structure must provide)
---------------------------------------------------
- ``k``: columns per level; ``n_theta``: number of parameters.
- ``theta0()`` and ``lower()``: lme4's starting values and bounds.
- ``template()``: ``k x k`` int array, the index into the term's ``theta``
  slice of each entry of ``lambda`` (``-1`` for a structural zero), for
  structures linear in ``theta``; ``None`` otherwise.
- ``fill(theta)``: the ``k x k`` lower-triangular ``lambda``.
- ``is_singular(theta, tol)``: lme4's ``isSingular`` test for this block.
Structures are small classes; code never branches on a structure's name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray


class CovarianceStructure(ABC):
    """Base class: a relative covariance factor ``lambda(theta)`` of size ``k``."""

    def __init__(self, k: int) -> None:
        self.k = k

    @property
    @abstractmethod
    def n_theta(self) -> int:
        """Number of parameters in ``theta`` for this term."""

    @abstractmethod
    def template(self) -> NDArray[np.intp] | None:
        """Index of each ``lambda`` entry in ``theta`` (``-1`` = zero), if linear."""

    @abstractmethod
    def theta0(self) -> NDArray[np.float64]:
        """Starting values (lme4: 1 on the diagonal, 0 elsewhere)."""

    @abstractmethod
    def lower(self) -> NDArray[np.float64]:
        """Lower bounds (lme4: 0 for diagonal elements, ``-inf`` elsewhere)."""

    def fill(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Lower-triangular ``lambda`` for this term's ``theta`` slice."""
        tmpl = self.template()
        if tmpl is None:  # pragma: no cover - nonlinear structures override
            raise NotImplementedError
        padded = np.append(np.asarray(theta, dtype=float), 0.0)
        return padded[tmpl]  # index -1 picks the appended 0.0

    def is_singular(self, theta: NDArray[np.float64], tol: float = 1e-4) -> bool:
        """lme4's test: a bounded parameter within ``tol`` of its bound."""
        lo = self.lower()
        finite = np.isfinite(lo)
        return bool(np.any(np.asarray(theta)[finite] - lo[finite] < tol))


class Unstructured(CovarianceStructure):
    """General positive semi-definite covariance (lme4's default ``us``).

    ``theta`` holds the lower triangle of ``lambda`` column by column:
    for ``k = 2``, ``(l11, l21, l22)``.
    """

    @property
    def n_theta(self) -> int:
        return self.k * (self.k + 1) // 2

    def _positions(self) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """(row, column) of each ``theta`` entry: the lower triangle, column-major."""
        cols, rows = np.triu_indices(self.k)
        return rows, cols

    def template(self) -> NDArray[np.intp]:
        tmpl = np.full((self.k, self.k), -1, dtype=np.intp)
        rows, cols = self._positions()
        tmpl[rows, cols] = np.arange(self.n_theta)
        return tmpl

    def theta0(self) -> NDArray[np.float64]:
        rows, cols = self._positions()
        return (rows == cols).astype(float)

    def lower(self) -> NDArray[np.float64]:
        rows, cols = self._positions()
        return np.where(rows == cols, 0.0, -np.inf)


class Diagonal(CovarianceStructure):
    """Independent effects with separate variances (``diag``; glmmTMB's ``||``)."""

    @property
    def n_theta(self) -> int:
        return self.k

    def template(self) -> NDArray[np.intp]:
        tmpl = np.full((self.k, self.k), -1, dtype=np.intp)
        tmpl[np.diag_indices(self.k)] = np.arange(self.k)
        return tmpl

    def theta0(self) -> NDArray[np.float64]:
        return np.ones(self.k)

    def lower(self) -> NDArray[np.float64]:
        return np.zeros(self.k)


class HomogeneousDiagonal(Diagonal):
    """Independent effects with one shared variance (``diag(..., hom = TRUE)``)."""

    @property
    def n_theta(self) -> int:
        return 1

    def template(self) -> NDArray[np.intp]:
        tmpl = np.full((self.k, self.k), -1, dtype=np.intp)
        tmpl[np.diag_indices(self.k)] = 0
        return tmpl

    def theta0(self) -> NDArray[np.float64]:
        return np.ones(1)

    def lower(self) -> NDArray[np.float64]:
        return np.zeros(1)
