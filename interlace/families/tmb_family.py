"""glmmTMB's conditional distributions: log-densities and their derivatives in the linear predictor.

glmmTMB (1.1.5) writes the conditional density of each observation as a function of
the linear predictor ``η`` of the conditional model and of the dispersion
``φ = exp(η_d)`` of the dispersion model.  The Laplace approximation needs, per
observation, ``ℓ(η) = log p(y | η, φ)`` and its first two derivatives in ``η``
(:mod:`interlace.engine.tmb_laplace`).  With ``μ = g⁻¹(η)``:

========  =========  ====================================  =================  ==============
family    base link  distribution                          ``φ``              ``sigma(fit)``
========  =========  ====================================  =================  ==============
gaussian  identity   N(μ, φ)                               variance σ²        ``sqrt(φ)``
poisson   log        Poisson(μ)                            (none)             1
binomial  logit      Binomial(size, μ)                     (none)             1
nbinom2   log        NB, Var = μ (1 + μ/φ)                 NB size θ          ``φ``
nbinom1   log        NB, Var = μ (1 + φ), size μ/φ         overdispersion     ``φ``
Gamma     log        shape φ, scale μ/φ                    shape              ``φ^(-1/2)``
beta      logit      Beta(μφ, (1 − μ)φ)                    precision          ``φ``
========  =========  ====================================  =================  ==============

Each density is written in its base link's ``η₀`` (``ψ``, ``ψ₁`` digamma and trigamma):

* gaussian: ``ℓ' = (y − μ)/φ``, ``ℓ'' = −1/φ``;
* poisson: ``ℓ' = y − μ``, ``ℓ'' = −μ``;
* binomial with ``n`` trials: ``ℓ' = y − nμ``, ``ℓ'' = −nμ(1 − μ)``;
* nbinom2: ``ℓ' = φ(y − μ)/(φ + μ)``, ``ℓ'' = −φμ(φ + y)/(φ + μ)²``;
* nbinom1 with ``s = μ/φ``: ``ℓ' = s (ψ(y + s) − ψ(s) − log(1 + φ))``,
  ``ℓ'' = ℓ' + s² (ψ₁(y + s) − ψ₁(s))``;
* Gamma: ``ℓ' = yφ/μ − φ``, ``ℓ'' = −yφ/μ``;
* beta, with ``ℓ_μ = φ (ψ((1 − μ)φ) − ψ(μφ) + log(y/(1 − y)))`` and
  ``ℓ_μμ = −φ² (ψ₁(μφ) + ψ₁((1 − μ)φ))``: ``ℓ' = ℓ_μ μ(1 − μ)``,
  ``ℓ'' = ℓ_μμ μ²(1 − μ)² + ℓ_μ μ(1 − μ)(1 − 2μ)``.

Other links are composed with the base link (:meth:`TmbFamily.logdens`).

Adding a family: a base log-density (value and two derivatives in ``η₀``), its variance
function, the map from ``φ`` to ``sigma(fit)`` and its links, registered in
:data:`TMB_FAMILIES` under glmmTMB's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy import special

from interlace.errors import UnsupportedFeatureError
from interlace.families.family import Family
from interlace.families.links import LINKS, Link

FloatArray = NDArray[np.float64]
#: ``(y, size, eta, phi) -> (ℓ, ∂ℓ/∂η, ∂²ℓ/∂η²)``, elementwise.
LogDensity = Callable[
    [FloatArray, FloatArray, FloatArray, FloatArray], tuple[FloatArray, FloatArray, FloatArray]
]
#: ``(eta, phi) -> (log P(y = 0), first and second derivatives in η)``, elementwise.
ZeroProbability = Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray, FloatArray]]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class TmbFamily:
    """A conditional distribution as glmmTMB parameterises it.

    The log-density is written in the linear predictor ``η₀ = g₀(μ)`` of the family's
    *base* link ``g₀`` (``base_logdens``).  For another link ``g`` (``link``) it is
    composed: with ``μ = g⁻¹(η)`` and ``η₀ = g₀(μ)``,

        dℓ/dη = ℓ'(η₀) a,    d²ℓ/dη² = ℓ''(η₀) a² + ℓ'(η₀) c,
        a = g₀'(μ) μ'(η),    c = g₀''(μ) μ'(η)² + g₀'(μ) μ''(η).

    Attributes
    ----------
    family : str
        glmmTMB's name (``"nbinom2"``, ``"gaussian"``, ``"beta"``, ...).
    link : Link
        The link of the conditional mean.
    base_link : Link
        The link ``base_logdens`` is written in.
    base_logdens : LogDensity
        ``log p(y | η₀, φ)`` and its first two derivatives in ``η₀``.
    variance : callable
        ``(μ, φ) -> Var(y)`` (for one trial in the binomial case).
    has_dispersion : bool
        Whether the family has a dispersion parameter (a dispersion model).
    sigma_of_phi : callable
        ``φ -> sigma(fit)`` (glmmTMB's ``sigma.glmmTMB``).
    classic_dispersion : bool
        glmmTMB reports ``sigma²`` as a "Dispersion estimate" (gaussian, Gamma) rather
        than ``sigma`` as a "Dispersion parameter".
    links : tuple of str
        The links this family accepts.
    log_p0 : callable, optional
        For zero-truncated families, ``(η, φ) -> (log P₀, ∂ log P₀/∂η, ∂² log P₀/∂η²)`` of
        the untruncated distribution (:func:`zero_truncated`).
    """

    family: str
    link: Link
    base_link: Link
    base_logdens: LogDensity
    variance: Callable[[FloatArray, FloatArray], FloatArray]
    has_dispersion: bool
    sigma_of_phi: Callable[[float], float]
    classic_dispersion: bool = False
    links: tuple[str, ...] = ()
    log_p0: ZeroProbability | None = None

    def logdens(
        self, y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``log p(y | η, φ)`` and its first two derivatives in ``η`` (this family's link)."""
        if self.link.name == self.base_link.name:
            return self.base_logdens(y, size, eta, phi)
        mu = self.linkinv(eta)
        ll, d1, d2 = self.base_logdens(y, size, self.base_link.linkfun(mu), phi)
        g1, g2 = _BASE_DERIVATIVES[self.base_link.name](mu)
        m1 = self.mu_eta(eta)
        a = g1 * m1
        c = g2 * m1**2 + g1 * _MU_ETA2[self.link.name](eta, mu)
        return ll, d1 * a, d2 * a**2 + d1 * c

    def mean(self, eta: FloatArray, phi: FloatArray) -> FloatArray:
        """The conditional mean: ``μ``, or ``μ / (1 − P₀)`` for a zero-truncated family."""
        mu = self.linkinv(eta)
        if self.log_p0 is None:
            return mu
        log_p0, _, _ = self.log_p0(np.asarray(eta, dtype=float), np.asarray(phi, dtype=float))
        return np.asarray(mu / -np.expm1(log_p0), dtype=float)

    def linkinv(self, eta: FloatArray) -> FloatArray:
        """``μ = g⁻¹(η)``."""
        return np.asarray(self.link.linkinv(np.asarray(eta, dtype=float)), dtype=float)

    def mu_eta(self, eta: FloatArray) -> FloatArray:
        """``dμ/dη``."""
        return np.asarray(self.link.mu_eta(np.asarray(eta, dtype=float)), dtype=float)

    def __repr__(self) -> str:
        return f"TmbFamily({self.family!r}, link={self.link.name!r})"


#: ``d²μ/dη²`` of each inverse link, from ``η`` and ``μ``.
_MU_ETA2: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
    "identity": lambda eta, mu: np.zeros(np.shape(eta)),
    "log": lambda eta, mu: mu,
    "logit": lambda eta, mu: mu * (1.0 - mu) * (1.0 - 2.0 * mu),
    "probit": lambda eta, mu: -eta * np.exp(-0.5 * eta**2) / np.sqrt(2.0 * np.pi),
    "cloglog": lambda eta, mu: np.exp(eta - np.exp(eta)) * (1.0 - np.exp(eta)),
    "inverse": lambda eta, mu: 2.0 / eta**3,
}

#: ``(dg₀/dμ, d²g₀/dμ²)`` of the base links the densities are written in.
_BASE_DERIVATIVES: dict[str, Callable[[FloatArray], tuple[FloatArray, FloatArray]]] = {
    "identity": lambda mu: (np.ones(np.shape(mu)), np.zeros(np.shape(mu))),
    "log": lambda mu: (1.0 / mu, -1.0 / mu**2),
    "logit": lambda mu: (1.0 / (mu * (1.0 - mu)), (2.0 * mu - 1.0) / (mu * (1.0 - mu)) ** 2),
}


def _gaussian(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r = y - eta
    return -0.5 * (_LOG_2PI + np.log(phi)) - 0.5 * r**2 / phi, r / phi, -1.0 / phi


def _poisson(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    mu = np.exp(eta)
    return y * eta - mu - special.gammaln(y + 1.0), y - mu, -mu


def _binomial(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    mu = special.expit(eta)
    lchoose = special.gammaln(size + 1.0) - special.gammaln(y + 1.0) - special.gammaln(size - y + 1)
    ll = lchoose + y * eta - size * np.logaddexp(0.0, eta)
    return ll, y - size * mu, -size * mu * (1.0 - mu)


def _nbinom2(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    mu = np.exp(eta)
    log_phi_mu = np.logaddexp(np.log(phi), eta)  # log(φ + μ)
    ll = (
        special.gammaln(y + phi)
        - special.gammaln(phi)
        - special.gammaln(y + 1.0)
        + phi * (np.log(phi) - log_phi_mu)
        + y * (eta - log_phi_mu)
    )
    ratio = phi / (phi + mu)
    return ll, ratio * (y - mu), -ratio * mu * (phi + y) / (phi + mu)


def _nbinom1(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    s = np.exp(eta) / phi
    log1p_phi = np.log1p(phi)
    ll = (
        special.gammaln(y + s)
        - special.gammaln(s)
        - special.gammaln(y + 1.0)
        - s * log1p_phi
        + y * (np.log(phi) - log1p_phi)
    )
    d1 = s * (special.digamma(y + s) - special.digamma(s) - log1p_phi)
    d2 = d1 + s**2 * (special.polygamma(1, y + s) - special.polygamma(1, s))
    return ll, d1, d2


def _poisson_p0(eta: FloatArray, phi: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    mu = np.exp(eta)
    return -mu, -mu, -mu


def _nbinom2_p0(eta: FloatArray, phi: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    mu = np.exp(eta)
    log_p0 = phi * (np.log(phi) - np.logaddexp(np.log(phi), eta))
    return log_p0, -phi * mu / (phi + mu), -((phi / (phi + mu)) ** 2) * mu


def _nbinom1_p0(eta: FloatArray, phi: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    log_p0 = -np.exp(eta) / phi * np.log1p(phi)  # proportional to μ
    return log_p0, log_p0, log_p0


def zero_truncated(logdens: LogDensity, log_p0: ZeroProbability) -> LogDensity:
    """The log-density of ``y | y > 0``: ``ℓ − log(1 − P₀)`` on positive ``y``.

    With ``p₀ = P₀``, ``q₀ = 1 − p₀`` and ``L₀ = log p₀`` (derivatives ``a``, ``b``), the
    term ``T = −log q₀`` has ``T' = a p₀/q₀`` and ``T'' = b p₀/q₀ + a² p₀/q₀²``.  A zero has
    density 0 (``ℓ = −∞``, derivatives 0): possible only with zero inflation (a hurdle).
    """

    def density(
        y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        ll, d1, d2 = logdens(y, size, eta, phi)
        l0, a, b = log_p0(eta, phi)
        p0, q0 = np.exp(l0), -np.expm1(l0)
        positive = y > 0
        ll = np.where(positive, ll - np.log(q0), -np.inf)
        d1 = np.where(positive, d1 + a * p0 / q0, 0.0)
        d2 = np.where(positive, d2 + b * p0 / q0 + a**2 * p0 / q0**2, 0.0)
        return ll, d1, d2

    return density


def _gamma(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Gamma with shape ``φ`` and scale ``μ/φ``, in ``η₀ = log μ``."""
    ratio = y * phi * np.exp(-eta)
    ll = -special.gammaln(phi) + phi * (np.log(phi) - eta) + (phi - 1.0) * np.log(y) - ratio
    return ll, ratio - phi, -ratio


def _beta(
    y: FloatArray, size: FloatArray, eta: FloatArray, phi: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Beta with mean ``μ``, precision ``φ`` (shapes ``μφ``, ``(1 − μ)φ``), in ``η₀ = logit μ``."""
    mu = special.expit(eta)
    a, b = mu * phi, (1.0 - mu) * phi
    log_y, log_1my = np.log(y), np.log1p(-y)
    ll = (
        special.gammaln(phi)
        - special.gammaln(a)
        - special.gammaln(b)
        + (a - 1.0) * log_y
        + (b - 1.0) * log_1my
    )
    dmu = phi * (special.digamma(b) - special.digamma(a) + log_y - log_1my)
    d2mu = -(phi**2) * (special.polygamma(1, a) + special.polygamma(1, b))
    m1 = mu * (1.0 - mu)
    return ll, dmu * m1, d2mu * m1**2 + dmu * m1 * (1.0 - 2.0 * mu)


def _unit(value: float) -> float:
    return 1.0


def _family(
    name: str,
    link: str,
    logdens: LogDensity,
    variance: Callable[[FloatArray, FloatArray], FloatArray],
    sigma_of_phi: Callable[[float], float] | None,
    links: tuple[str, ...],
    *,
    base: str = "",
    classic: bool = False,
    log_p0: ZeroProbability | None = None,
) -> TmbFamily:
    return TmbFamily(
        family=name,
        link=LINKS[link],
        base_link=LINKS[base or link],
        base_logdens=logdens if log_p0 is None else zero_truncated(logdens, log_p0),
        variance=variance,
        has_dispersion=sigma_of_phi is not None,
        sigma_of_phi=sigma_of_phi or _unit,
        classic_dispersion=classic,
        links=links,
        log_p0=log_p0,
    )


TMB_FAMILIES: dict[str, TmbFamily] = {
    "gaussian": _family(
        "gaussian",
        "identity",
        _gaussian,
        lambda mu, phi: np.broadcast_to(phi, np.shape(mu)).astype(float),
        lambda phi: float(np.sqrt(phi)),
        ("identity", "log", "inverse"),
        classic=True,
    ),
    "poisson": _family(
        "poisson", "log", _poisson, lambda mu, phi: np.asarray(mu), None, ("log", "identity")
    ),
    "binomial": _family(
        "binomial",
        "logit",
        _binomial,
        lambda mu, phi: np.asarray(mu * (1.0 - mu)),
        None,
        ("logit", "probit", "cloglog"),
    ),
    "nbinom2": _family(
        "nbinom2",
        "log",
        _nbinom2,
        lambda mu, phi: np.asarray(mu * (1.0 + mu / phi)),
        float,
        ("log",),
    ),
    "nbinom1": _family(
        "nbinom1",
        "log",
        _nbinom1,
        lambda mu, phi: np.asarray(mu * (1.0 + phi)),
        float,
        ("log",),
    ),
    "Gamma": _family(
        "Gamma",
        "inverse",
        _gamma,
        lambda mu, phi: np.asarray(mu**2 / phi),
        lambda phi: float(phi**-0.5),
        ("inverse", "log", "identity"),
        base="log",
        classic=True,
    ),
    "beta": _family(
        "beta",
        "logit",
        _beta,
        lambda mu, phi: np.asarray(mu * (1.0 - mu) / (1.0 + phi)),
        float,
        ("logit", "probit", "cloglog"),
    ),
    "truncated_poisson": _family(
        "truncated_poisson",
        "log",
        _poisson,
        lambda mu, phi: np.asarray(mu),
        None,
        ("log",),
        log_p0=_poisson_p0,
    ),
    "truncated_nbinom2": _family(
        "truncated_nbinom2",
        "log",
        _nbinom2,
        lambda mu, phi: np.asarray(mu * (1.0 + mu / phi)),
        float,
        ("log",),
        log_p0=_nbinom2_p0,
    ),
    "truncated_nbinom1": _family(
        "truncated_nbinom1",
        "log",
        _nbinom1,
        lambda mu, phi: np.asarray(mu * (1.0 + phi)),
        float,
        ("log",),
        log_p0=_nbinom1_p0,
    ),
}

_ALIASES = {"beta_family": "beta", "gamma": "Gamma"}


def nbinom2(link: str = "log") -> TmbFamily:
    """glmmTMB's ``nbinom2()``: negative binomial with ``Var = μ(1 + μ/φ)``; only the log link."""
    return tmb_family("nbinom2", link)


def truncated_poisson(link: str = "log") -> TmbFamily:
    """glmmTMB's ``truncated_poisson()``: Poisson given ``y > 0`` (with ``ziformula``: a hurdle)."""
    return tmb_family("truncated_poisson", link)


def truncated_nbinom2(link: str = "log") -> TmbFamily:
    """glmmTMB's ``truncated_nbinom2()``: nbinom2 given ``y > 0``."""
    return tmb_family("truncated_nbinom2", link)


def truncated_nbinom1(link: str = "log") -> TmbFamily:
    """glmmTMB's ``truncated_nbinom1()``: nbinom1 given ``y > 0``."""
    return tmb_family("truncated_nbinom1", link)


def beta_family(link: str = "logit") -> TmbFamily:
    """glmmTMB's ``beta_family()``: mean ``μ``, precision ``φ``; logit, probit or cloglog link."""
    return tmb_family("beta", link)


def nbinom1(link: str = "log") -> TmbFamily:
    """glmmTMB's ``nbinom1()``: negative binomial with ``Var = μ(1 + φ)``; only the log link."""
    return tmb_family("nbinom1", link)


def tmb_family(
    family: TmbFamily | Family | str | Callable[[], object], link: str = ""
) -> TmbFamily:
    """The glmmTMB family of an R family object, a glmmTMB family, a name or a constructor.

    Parameters
    ----------
    family
        ``families.poisson()``, ``nbinom2()``, ``"binomial"``, ``families.gaussian``, ...
    link
        The link, when ``family`` is a name (default: the family's default link).

    Raises
    ------
    UnsupportedFeatureError
        A family or link glmmTMB fitting in interlace does not provide (the message lists
        those it does).
    """
    if isinstance(family, TmbFamily):
        return family
    if isinstance(family, Family):
        return tmb_family(family.family, family.link.name)
    if callable(family) and not isinstance(family, str):
        made = family()
        if not isinstance(made, TmbFamily | Family):
            raise UnsupportedFeatureError(f"family constructor returned {made!r}, not a family")
        return tmb_family(made)
    known = TMB_FAMILIES.get(_ALIASES.get(str(family), str(family)))
    if known is None:
        raise UnsupportedFeatureError(
            f"family {family!r} is not supported by interlace's glmmTMB; supported: "
            + ", ".join(TMB_FAMILIES)
        )
    if not link or link == known.link.name:
        return known
    if link not in known.links:
        raise UnsupportedFeatureError(
            f"link {link!r} is not supported for family {family!r} in interlace's glmmTMB; "
            f"supported links: {', '.join(known.links)}"
        )
    return replace(known, link=LINKS[link])
