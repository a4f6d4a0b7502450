"""Gauss–Hermite rules normalised for the standard normal density (lme4's ``GHrule``).

``GHrule(k)`` returns nodes ``z_j`` and weights ``w_j`` with

    ∫ f(z) φ(z) dz ≈ Σ_j w_j f(z_j),    Σ_j w_j = 1,

and ``log φ(z_j)`` (``ldnorm``).  They are the probabilists' Hermite rule
(weight ``exp(−z²/2)``) divided by ``√(2π)``.  lme4 allows ``1 ≤ k ≤ 100``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray

from interlace.errors import InterlaceError

FloatArray = NDArray[np.float64]

#: lme4's largest order (``ord < 101``).
MAX_ORDER = 100


@dataclass(frozen=True)
class GHRule:
    """Nodes ``z``, weights ``w`` and ``ldnorm = log φ(z)`` of one rule."""

    z: FloatArray
    w: FloatArray
    ldnorm: FloatArray


def gh_rule(order: int) -> GHRule:
    """The normalised Gauss–Hermite rule with ``order`` nodes (lme4's ``GHrule(order)``).

    Raises
    ------
    InterlaceError
        ``order`` outside ``1..100``.
    """
    if not 1 <= order <= MAX_ORDER:
        raise InterlaceError(
            f"nAGQ must be between 1 and {MAX_ORDER}, not {order}", remedy="use nAGQ <= 100"
        )
    z, w = hermegauss(order)
    w = w / np.sqrt(2.0 * np.pi)
    if order % 2:  # the middle node is exactly 0
        z[order // 2] = 0.0
    return GHRule(z=z, w=w, ldnorm=-0.5 * z**2 - 0.5 * np.log(2.0 * np.pi))
