"""Cumulative links of ``ordinal``: the latent distribution ``F`` with its density and slope.

A cumulative link model (Christensen, ``ordinal``'s ``clm_article`` vignette) states

    P(Y_i ≤ j) = F(θ_j − s_i),   j = 1, ..., J − 1,   θ_0 = −∞, θ_J = +∞,

with ``s_i = x_i'β + o_i + z_i'b`` (``ordinal``'s sign: a larger ``s`` moves
mass to higher categories).  The probability of the observed category
``y_i = j`` is ``p_i = F(η_1i) − F(η_2i)`` with ``η_1i = θ_j − s_i`` and
``η_2i = θ_{j−1} − s_i``.  Writing ``f = F'`` and ``g = f'``, the
log-likelihood contribution ``ℓ_i = w_i log p_i`` has

    dℓ_i/ds_i   = −w_i (f(η_1) − f(η_2)) / p_i,
    −d²ℓ_i/ds_i² = w_i [((f(η_1) − f(η_2)) / p_i)² − (g(η_1) − g(η_2)) / p_i],

the second being ``ordinal``'s ``phi2`` (non-negative when ``F`` is
log-concave: every link here except ``cauchit``).

The links (``ordinal``'s ``setLinks``): ``logit`` (logistic), ``probit``
(normal), ``cloglog`` (Gumbel for minima, ``F(x) = 1 − exp(−e^x)``),
``loglog`` (Gumbel for maxima, ``F(x) = exp(−e^{−x})``) and ``cauchit``
(Cauchy).  The end thresholds are represented, as ``ordinal`` does, by
``±1e5`` rather than infinities, so that every ``f`` and ``g`` is finite.

Adding a link: a :class:`CumulativeLink` with ``cdf``, ``sf`` (``1 − F``
computed without cancellation), ``pdf`` and ``dpdf``, registered in
:data:`CUMULATIVE_LINKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from interlace.errors import InterlaceError

FloatArray = NDArray[np.float64]
Fun = Callable[[FloatArray], FloatArray]

#: ``ordinal``'s stand-in for ``±∞`` at the end thresholds.
END = 1e5


Parts = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


@dataclass(frozen=True)
class CumulativeLink:
    """A latent distribution: ``F``, ``1 − F``, ``f = F'`` and ``g = f'``.

    ``joint``, when given, computes all four at once from shared pieces (the
    logistic ``f = F(1 − F)``); it must agree with the four functions.
    """

    name: str
    cdf: Fun
    sf: Fun
    pdf: Fun
    dpdf: Fun
    joint: Callable[[FloatArray], Parts] | None = None

    def parts(self, x: FloatArray) -> Parts:
        """``(F, 1 − F, f, g)`` at ``x``."""
        if self.joint is not None:
            return self.joint(x)
        return self.cdf(x), self.sf(x), self.pdf(x), self.dpdf(x)

    def prob(self, eta1: FloatArray, eta2: FloatArray) -> FloatArray:
        """``F(η_1) − F(η_2)`` (``η_1 > η_2``), from the upper tails where both are positive."""
        upper = eta2 > 0
        return np.where(upper, self.sf(eta2) - self.sf(eta1), self.cdf(eta1) - self.cdf(eta2))


def _logistic_pdf(x: FloatArray) -> FloatArray:
    p = special.expit(x)
    return np.asarray(p * (1.0 - p), dtype=float)


def _logistic_dpdf(x: FloatArray) -> FloatArray:
    p = special.expit(x)
    return np.asarray(p * (1.0 - p) * (1.0 - 2.0 * p), dtype=float)


def _logistic_parts(x: FloatArray) -> Parts:
    cdf = np.asarray(special.expit(x), dtype=float)
    sf = np.asarray(special.expit(-x), dtype=float)
    pdf = cdf * sf
    return cdf, sf, pdf, pdf * (sf - cdf)


def _normal_parts(x: FloatArray) -> Parts:
    pdf = _normal_pdf(x)
    return (
        np.asarray(special.ndtr(x), dtype=float),
        np.asarray(special.ndtr(-x), dtype=float),
        pdf,
        -x * pdf,
    )


def _normal_pdf(x: FloatArray) -> FloatArray:
    return np.asarray(np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi), dtype=float)


def _gumbel_min_pdf(x: FloatArray) -> FloatArray:
    return np.asarray(np.exp(x - np.exp(x)), dtype=float)


def _gumbel_max_pdf(x: FloatArray) -> FloatArray:
    return np.asarray(np.exp(-x - np.exp(-x)), dtype=float)


def _cauchy_pdf(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (np.pi * (1.0 + x * x)), dtype=float)


CUMULATIVE_LINKS: dict[str, CumulativeLink] = {
    "logit": CumulativeLink(
        "logit",
        cdf=lambda x: np.asarray(special.expit(x), dtype=float),
        sf=lambda x: np.asarray(special.expit(-x), dtype=float),
        pdf=_logistic_pdf,
        dpdf=_logistic_dpdf,
        joint=_logistic_parts,
    ),
    "probit": CumulativeLink(
        "probit",
        cdf=lambda x: np.asarray(special.ndtr(x), dtype=float),
        sf=lambda x: np.asarray(special.ndtr(-x), dtype=float),
        pdf=_normal_pdf,
        dpdf=lambda x: -x * _normal_pdf(x),
        joint=_normal_parts,
    ),
    "cloglog": CumulativeLink(
        "cloglog",
        cdf=lambda x: -np.expm1(-np.exp(x)),
        sf=lambda x: np.exp(-np.exp(x)),
        pdf=_gumbel_min_pdf,
        dpdf=lambda x: _gumbel_min_pdf(x) * (1.0 - np.exp(np.minimum(x, 700.0))),
    ),
    "loglog": CumulativeLink(
        "loglog",
        cdf=lambda x: np.exp(-np.exp(-x)),
        sf=lambda x: -np.expm1(-np.exp(-x)),
        pdf=_gumbel_max_pdf,
        dpdf=lambda x: _gumbel_max_pdf(x) * (np.exp(np.minimum(-x, 700.0)) - 1.0),
    ),
    "cauchit": CumulativeLink(
        "cauchit",
        cdf=lambda x: 0.5 + np.arctan(x) / np.pi,
        sf=lambda x: 0.5 - np.arctan(x) / np.pi,
        pdf=_cauchy_pdf,
        dpdf=lambda x: -2.0 * x * np.pi * _cauchy_pdf(x) ** 2,
    ),
}


def get_cumulative_link(name: str) -> CumulativeLink:
    """The link named as in ``clmm(link = ...)``.

    Raises
    ------
    InterlaceError
        An unknown name (the message lists the known ones).
    """
    link = CUMULATIVE_LINKS.get(name)
    if link is None:
        raise InterlaceError(
            f"unknown link {name!r} for a cumulative link model",
            remedy=f"use one of {', '.join(CUMULATIVE_LINKS)}",
        )
    return link


@dataclass(frozen=True)
class OrdinalResponse:
    """The observed categories and the thresholds' design, ``ordinal``'s ``B1``/``B2`` rows.

    Attributes
    ----------
    y : ndarray of int
        0-based category of each row.
    n_categories : int
        ``J``.
    weights : ndarray
        Prior weights ``w_i``.
    """

    y: NDArray[np.intp]
    n_categories: int
    weights: FloatArray

    def etas(self, thresholds: FloatArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(η_1, η_2)`` for thresholds ``θ_1..θ_{J−1}`` and shifts ``s`` (ends at ``±1e5``)."""
        padded = np.concatenate([[-END], thresholds, [END]])
        return padded[self.y + 1] - s, padded[self.y] - s

    def loglik_terms(
        self, link: CumulativeLink, thresholds: FloatArray, s: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Per row ``ℓ_i``, ``dℓ_i/ds_i`` and ``−d²ℓ_i/ds_i²`` (``nan`` where ``p_i ≤ 0``)."""
        eta1, eta2 = self.etas(thresholds, s)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cdf1, sf1, f1, g1 = link.parts(eta1)
            cdf2, sf2, f2, g2 = link.parts(eta2)
            # F(η_1) − F(η_2), from the upper tails where both are positive (link.prob)
            p = np.where(eta2 > 0, sf2 - sf1, cdf1 - cdf2)
            p = np.where(p > 0, p, np.nan)
            r = (f1 - f2) / p
            curv = self.weights * (r * r - (g1 - g2) / p)
            return self.weights * np.log(p), -self.weights * r, curv
