"""The negative binomial family with a known θ (R's ``MASS::negative.binomial``).

For a count ``y`` with mean ``μ`` and shape ``θ``

    V(μ)       = μ + μ²/θ
    dev.resids = 2 w [y log(max(1, y)/μ) − (y + θ) log((y + θ)/(μ + θ))]
    aic        = 2 Σ w [(y + θ) log(μ + θ) − y log μ + log Γ(y + 1)
                        − θ log θ + log Γ(θ) − log Γ(θ + y)]

(``aic`` is −2 times the log-likelihood, as R's family ``aic`` without the
``2p``).  ``initialize`` refuses negative counts and starts from
``μ = y + [y = 0]/6``, as MASS does.  The family has no dispersion
parameter (lme4's ``sigma()`` is 1 and its tables show z values).

R names the family ``"Negative Binomial(<θ rounded to 4 decimals>)"`` (7 significant
digits, as R's ``format`` prints 1e-4 ≤ θ < 1e7);
:attr:`Family.theta` holds θ.  ``glmer_nb`` estimates θ; this family fixes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from interlace.families.family import Family, InitialValues, _domain_error, _valid_pos
from interlace.families.links import LINKS

FloatArray = NDArray[np.float64]

#: Links MASS's ``negative.binomial`` accepts by name.
NB_LINKS = ("log", "identity", "sqrt")


def _initialize(y: FloatArray, w: FloatArray, labels: Sequence[Any] | None) -> InitialValues:
    if np.any(y < 0):
        _domain_error("negative values not allowed for the negative binomial family", y < 0, labels)
    return InitialValues(y, w, np.ones_like(y), y + (y == 0) / 6.0)


def negative_binomial(theta: float, link: str = "log") -> Family:
    """R's ``MASS::negative.binomial(theta, link)``: a count family with ``V(μ) = μ + μ²/θ``.

    Parameters
    ----------
    theta : float
        The shape θ > 0 (large θ approaches the Poisson).
    link : {"log", "identity", "sqrt"}

    Raises
    ------
    ValueError
        ``theta`` not positive and finite, or another link (MASS's message).
    """
    th = float(theta)
    if not (np.isfinite(th) and th > 0):
        raise ValueError(f"theta must be positive and finite, not {theta!r}")
    if link not in NB_LINKS:
        raise ValueError(
            f'"{link}" link not available for negative binomial family; '
            'available links are "identity", "log" and "sqrt"'
        )

    def variance(mu: FloatArray) -> FloatArray:
        return mu + mu**2 / th

    def dev_resids(y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        yt = y + th
        return 2.0 * wt * (y * np.log(np.maximum(1.0, y) / mu) - yt * np.log(yt / (mu + th)))

    def aic(y: FloatArray, n: FloatArray, mu: FloatArray, wt: FloatArray, dev: float) -> float:
        term = (
            (y + th) * np.log(mu + th)
            - special.xlogy(y, mu)
            + special.gammaln(y + 1.0)
            - th * np.log(th)
            + special.gammaln(th)
            - special.gammaln(th + y)
        )
        return float(2.0 * np.sum(term * wt))

    name = f"Negative Binomial({round(th, 4):.7g})"  # R: format(round(theta, 4))
    return Family(
        name, LINKS[link], variance, dev_resids, aic, _initialize, _valid_pos, False, theta=th
    )
