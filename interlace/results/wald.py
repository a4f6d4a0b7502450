"""Tail probabilities of Wald tests, as R's summaries print them.

Closed forms through :mod:`scipy.special` (``ndtr``, ``chdtrc``), so that importing
interlace does not load :mod:`scipy.stats`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special


def normal_p_values(z: ArrayLike) -> NDArray[np.float64]:
    """Two-sided p-values ``2 P(Z > |z|)`` of standard normal statistics (``Pr(>|z|)``)."""
    return np.asarray(2.0 * special.ndtr(-np.abs(np.asarray(z, dtype=float))), dtype=np.float64)


def chisq_p_value(chisq: float, df: float) -> float:
    """Upper tail ``P(X > chisq)`` of a chi-squared variable with ``df`` degrees of freedom."""
    return float(special.chdtrc(df, chisq))
