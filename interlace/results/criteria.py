"""Information criteria from a log-likelihood, as R's ``AIC`` and ``BIC`` compute them.

For a log-likelihood ``ℓ`` with ``k`` estimated parameters
(``attr(logLik(fit), "df")``) and ``n`` observations,

    AIC = −2ℓ + 2k,        BIC = −2ℓ + k log n.

Each result class says which ``ℓ``, ``k`` and ``n`` are R's for its model
(nlme's BIC of a REML fit counts ``n − p`` observations; ordinal's ``k``
includes parameters on the boundary).
"""

from __future__ import annotations

import math


def aic(llf: float, df: float) -> float:
    """Akaike's criterion ``−2 llf + 2 df`` (``AIC(fit)``)."""
    return -2.0 * llf + 2.0 * df


def bic(llf: float, df: float, nobs: float) -> float:
    """Schwarz's criterion ``−2 llf + df log(nobs)`` (``BIC(fit)``)."""
    return -2.0 * llf + math.log(nobs) * df
