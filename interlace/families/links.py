"""Link functions of R's ``make.link``, evaluated as lme4's ``glmFamily`` evaluates them.

A link maps the mean ``μ`` to the linear predictor ``η = g(μ)``.  Each
:class:`Link` provides ``linkfun`` (``g``), ``linkinv`` (``g⁻¹``),
``mu_eta`` (``dμ/dη``) and ``valideta``, under R's names.

lme4 evaluates the links it implements in C++ with guards that R's
``make.link`` does not have, and the fitted values of a GLMM depend on
them near the boundary, so they are reproduced here:

* ``logit``: ``g⁻¹`` clamped to ``[ε, 1 − ε]`` and ``dμ/dη ≥ ε``;
* ``probit``, ``cauchit``: ``g⁻¹ ≤ 1 − ε``;
* ``cloglog``: ``g⁻¹`` clamped to ``[ε, 1 − ε]`` and ``dμ/dη ≥ ε``;
* ``log``: ``g⁻¹ = dμ/dη = max(ε, exp(η))``;

with ``ε`` the machine epsilon.  ``sqrt`` and ``1/mu^2`` are R's.

Adding a link: a :class:`Link` with the four functions, registered in
:data:`LINKS` under R's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

FloatArray = NDArray[np.float64]
Fun = Callable[[FloatArray], FloatArray]

EPS = float(np.finfo(float).eps)


def _all_finite(eta: FloatArray) -> bool:
    return bool(np.all(np.isfinite(eta)))


def _positive(eta: FloatArray) -> bool:
    return bool(np.all(np.isfinite(eta)) and np.all(eta > 0))


def _nonzero(eta: FloatArray) -> bool:
    return bool(np.all(np.isfinite(eta)) and np.all(eta != 0))


@dataclass(frozen=True)
class Link:
    """A link function ``g`` with its inverse and derivative (R's ``link-glm`` object).

    Attributes
    ----------
    name : str
        R's name (``"logit"``, ``"1/mu^2"``, ...).
    linkfun, linkinv, mu_eta : callable
        ``g(μ)``, ``g⁻¹(η)``, ``dμ/dη`` (elementwise on arrays).
    valideta : callable
        Whether a linear predictor is in the domain of ``g⁻¹``.
    """

    name: str
    linkfun: Fun
    linkinv: Fun
    mu_eta: Fun
    valideta: Callable[[FloatArray], bool] = _all_finite


def _dlogis(eta: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(eta))
    return e / (1.0 + e) ** 2


def _dnorm(eta: FloatArray) -> FloatArray:
    return np.exp(-0.5 * eta**2) / np.sqrt(2.0 * np.pi)


def _dcauchy(eta: FloatArray) -> FloatArray:
    return 1.0 / (np.pi * (1.0 + eta**2))


def _cloglog_inv(eta: FloatArray) -> FloatArray:
    return np.clip(-np.expm1(-np.exp(eta)), EPS, 1.0 - EPS)


def _cloglog_mu_eta(eta: FloatArray) -> FloatArray:
    return np.maximum(EPS, np.exp(eta - np.exp(eta)))


LINKS: dict[str, Link] = {
    "logit": Link(
        "logit",
        special.logit,
        lambda eta: np.clip(special.expit(eta), EPS, 1.0 - EPS),
        lambda eta: np.maximum(EPS, _dlogis(eta)),
    ),
    "probit": Link(
        "probit",
        special.ndtri,
        lambda eta: np.minimum(1.0 - EPS, special.ndtr(eta)),
        _dnorm,
    ),
    "cauchit": Link(
        "cauchit",
        lambda mu: np.tan(np.pi * (mu - 0.5)),
        lambda eta: np.minimum(1.0 - EPS, 0.5 + np.arctan(eta) / np.pi),
        _dcauchy,
    ),
    "cloglog": Link("cloglog", lambda mu: np.log(-np.log1p(-mu)), _cloglog_inv, _cloglog_mu_eta),
    "log": Link(
        "log",
        np.log,
        lambda eta: np.maximum(EPS, np.exp(eta)),
        lambda eta: np.maximum(EPS, np.exp(eta)),
    ),
    "identity": Link("identity", lambda mu: mu * 1.0, lambda eta: eta * 1.0, np.ones_like),
    "inverse": Link(
        "inverse",
        lambda mu: 1.0 / mu,
        lambda eta: 1.0 / eta,
        lambda eta: -1.0 / eta**2,
        _nonzero,
    ),
    "sqrt": Link("sqrt", np.sqrt, lambda eta: eta**2, lambda eta: 2.0 * eta, _positive),
    "1/mu^2": Link(
        "1/mu^2",
        lambda mu: 1.0 / mu**2,
        lambda eta: 1.0 / np.sqrt(eta),
        lambda eta: -1.0 / (2.0 * eta**1.5),
        _positive,
    ),
}
