"""Threshold structures of ``ordinal``: thresholds as a Jacobian times free parameters.

For a response with ``J`` levels the ``J − 1`` thresholds are ``θ = T α``
(``ordinal``'s ``makeThresholds``: ``tJac``), with ``α`` the free
parameters ``fit$alpha``:

* ``flexible``: ``T = I``; ``α`` named ``"1|2"``, ``"2|3"``, … after the levels;
* ``equidistant``: ``θ_j = α_1 + (j − 1) α_2``; names ``threshold.1, spacing``;
* ``symmetric``: thresholds symmetric about a centre.  With ``J − 1`` odd,
  ``α = (central, spacing.1, …)`` and the thresholds are
  ``central ∓ spacing.k``; with ``J − 1`` even the two middle thresholds are
  ``central.1`` and ``central.2`` and the spacings are added below the first
  and above the second;
* ``symmetric2``: symmetric about 0, ``α = (spacing.1, …)``.

The rows of ``T`` follow the thresholds in increasing order; the columns follow
``α``.  ``ordinal`` needs at least three levels for every structure but
``flexible``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from interlace.errors import InterlaceError

FloatArray = NDArray[np.float64]
ThresholdKind = Literal["flexible", "symmetric", "symmetric2", "equidistant"]
THRESHOLD_KINDS: tuple[str, ...] = ("flexible", "symmetric", "symmetric2", "equidistant")


@dataclass(frozen=True, eq=False)
class Thresholds:
    """A threshold structure on given response levels.

    Attributes
    ----------
    kind : str
        ``"flexible"``, ``"symmetric"``, ``"symmetric2"`` or ``"equidistant"``.
    jacobian : ndarray, shape (J - 1, n_alpha)
        ``T`` with ``θ = T α``.
    alpha_names : tuple of str
        ``names(fit$alpha)``.
    theta_names : tuple of str
        ``"1|2"``, ``"2|3"``, … (``colnames(fit$Theta)``).
    """

    kind: str
    jacobian: FloatArray
    alpha_names: tuple[str, ...]
    theta_names: tuple[str, ...]

    @property
    def n_alpha(self) -> int:
        """Number of free threshold parameters."""
        return int(self.jacobian.shape[1])

    def theta(self, alpha: FloatArray) -> FloatArray:
        """The thresholds ``T α``."""
        return np.asarray(self.jacobian @ alpha, dtype=float)


def _symmetric(ntheta: int) -> tuple[FloatArray, tuple[str, ...]]:
    half = ntheta // 2
    if ntheta % 2:
        n_alpha = (ntheta + 1) // 2
        jac = np.zeros((ntheta, n_alpha))
        jac[:, 0] = 1.0
        for k in range(1, n_alpha):
            jac[half - k, k] = -1.0
            jac[half + k, k] = 1.0
        return jac, ("central", *(f"spacing.{k}" for k in range(1, n_alpha)))
    n_alpha = half + 1
    jac = np.zeros((ntheta, n_alpha))
    jac[:half, 0] = 1.0
    jac[half:, 1] = 1.0
    for k in range(1, half):
        jac[half - 1 - k, k + 1] = -1.0
        jac[half + k, k + 1] = 1.0
    return jac, ("central.1", "central.2", *(f"spacing.{k}" for k in range(1, n_alpha - 1)))


def _symmetric2(ntheta: int) -> tuple[FloatArray, tuple[str, ...]]:
    n_alpha = ntheta // 2
    jac = np.zeros((ntheta, n_alpha))
    for k in range(n_alpha):
        jac[n_alpha - 1 - k, k] = -1.0
        jac[ntheta - n_alpha + k, k] = 1.0
    return jac, tuple(f"spacing.{k}" for k in range(1, n_alpha + 1))


def make_thresholds(levels: tuple[str, ...], kind: str) -> Thresholds:
    """``ordinal``'s ``makeThresholds(levels, threshold)``.

    Raises
    ------
    InterlaceError
        An unknown structure, fewer than two levels, or fewer than three for a
        structure other than ``flexible`` (``ordinal``'s messages).
    """
    if kind not in THRESHOLD_KINDS:
        raise InterlaceError(
            f"unknown threshold structure {kind!r}", remedy=f"use one of {THRESHOLD_KINDS}"
        )
    ntheta = len(levels) - 1
    if ntheta < 1:
        raise InterlaceError(
            "response has fewer than two levels", remedy="an ordinal response needs >= 2 levels"
        )
    names = tuple(f"{lo}|{hi}" for lo, hi in itertools.pairwise(levels))
    if kind == "flexible":
        return Thresholds(kind, np.eye(ntheta), names, names)
    if ntheta < 2:
        what = "equidistant" if kind == "equidistant" else "symmetric"
        raise InterlaceError(
            f"{what} thresholds are only meaningful for responses with 3 or more levels",
            remedy="use threshold='flexible'",
        )
    if kind == "equidistant":
        jac = np.column_stack([np.ones(ntheta), np.arange(ntheta, dtype=float)])
        return Thresholds(kind, jac, ("threshold.1", "spacing"), names)
    jac, alpha_names = _symmetric(ntheta) if kind == "symmetric" else _symmetric2(ntheta)
    return Thresholds(kind, jac, alpha_names, names)
