"""GLM families as R's ``family`` objects, with lme4's numerics.

A :class:`Family` is what ``binomial()``, ``poisson()``, ``Gamma()``,
``inverse.gaussian()`` and ``gaussian()`` return in R: a distribution
(``variance``, ``dev.resids``, ``aic``, ``initialize``, ``validmu``) paired
with a :class:`~interlace.families.links.Link`.

With prior weights ``w`` and mean ``μ``, the unit deviances are

    binomial          2 w [y log(y/μ) + (1 − y) log((1 − y)/(1 − μ))]
    poisson           2 w [y log(y/μ) − (y − μ)]
    Gamma            −2 w [log(y/μ) − (y − μ)/μ]
    inverse.gaussian  w (y − μ)² / (y μ²)
    gaussian          w (y − μ)²

(``0 log 0 = 0``), and ``aic`` is −2 times the log-likelihood (binomial:
``Σ (w/m) log dbinom(round(m y), round(m), μ)`` with ``m`` the trials when any
exceeds one, else the weights; Gamma and inverse Gaussian with the dispersion
``dev / Σ w`` and lme4's ``+ 2``; gaussian as lme4's C++, which also
subtracts ``Σ log w``).  These are the formulas lme4's ``glmFamily``
evaluates; the binomial variance is ``max(ε, μ(1 − μ))`` as there.

``initialize`` is R's: it checks the response (raising
:class:`~interlace.errors.ResponseDomainError` naming the rows), turns a
two-column ``cbind(successes, failures)`` response into proportions with the
trials folded into the weights, and returns R's starting ``mustart``.

Adding a family: a :class:`Family` built from its distribution functions,
registered in :data:`FAMILIES` with its default link and allowed links.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from interlace.errors import NonIntegerResponseWarning, ResponseDomainError
from interlace.families.links import EPS, LINKS, Link

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class InitialValues:
    """What R's ``family$initialize`` leaves behind.

    Attributes
    ----------
    y : ndarray
        The response as the family uses it (proportions for binomial).
    weights : ndarray
        Prior weights (times the trials for a two-column binomial response).
    n : ndarray
        Binomial trials (ones for other families).
    mustart : ndarray
        R's starting means.
    """

    y: FloatArray
    weights: FloatArray
    n: FloatArray
    mustart: FloatArray


def _ylogy(y: FloatArray, mu: FloatArray) -> FloatArray:
    """``y log(y / μ)`` with ``0 log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.divide(y, mu)
        np.copyto(out, 1.0, where=(y == 0))  # log 1 = 0: the y = 0 terms are 0
        np.log(out, out=out)
    out *= y
    return out


def _rows(mask: FloatArray | NDArray[np.bool_], labels: Sequence[Any] | None) -> list[Any]:
    idx = np.flatnonzero(mask)
    return [labels[int(i)] for i in idx] if labels is not None else idx.tolist()


def _domain_error(message: str, mask: NDArray[np.bool_], labels: Sequence[Any] | None) -> None:
    rows = _rows(mask, labels)
    shown = ", ".join(str(r) for r in rows[:10]) + (", ..." if len(rows) > 10 else "")
    raise ResponseDomainError(
        f"{message} (rows {shown})",
        rows=rows,
        remedy="check the response column or choose another family",
    )


def _non_integer(message: str, values: FloatArray) -> None:
    if np.any(np.abs(values - np.round(values)) > 1e-3):
        warnings.warn(message, NonIntegerResponseWarning, stacklevel=4)


# ------------------------------------------------------------------- binomial
def _binomial_init(y: FloatArray, w: FloatArray, labels: Sequence[Any] | None) -> InitialValues:
    if y.ndim == 2:
        _non_integer("non-integer counts in a binomial glm!", y)
        if np.any(y < 0):
            _domain_error(
                "counts must be non-negative in cbind(successes, failures)",
                np.any(y < 0, axis=1),
                labels,
            )
        n = y[:, 0] + y[:, 1]
        prop = np.divide(y[:, 0], n, out=np.zeros_like(n), where=n != 0)
        return InitialValues(prop, w * n, n, (n * prop + 0.5) / (n + 1.0))
    y = np.where(w == 0, 0.0, y)
    bad = (y < 0) | (y > 1)
    if np.any(bad):
        _domain_error("y values must be 0 <= y <= 1", bad, labels)
    _non_integer("non-integer #successes in a binomial glm!", w * y)
    return InitialValues(y, w, np.ones_like(y), (w * y + 0.5) / (w + 1.0))


@dataclass(frozen=True)
class _BinomialAicTerms:
    """The parts of the binomial ``aic`` that depend on ``y``, trials and weights only."""

    k: FloatArray  # successes, round(m y)
    failures: FloatArray  # round(m) − k
    lchoose: FloatArray  # log choose(round(m), k)
    fac: FloatArray  # w / m, 0 where m = 0
    used: NDArray[np.bool_]  # fac != 0

    @classmethod
    def of(cls, y: FloatArray, n: FloatArray, wt: FloatArray) -> _BinomialAicTerms:
        m = n if np.any(n > 1) else wt
        mr = np.rint(m)
        k = np.rint(m * y)
        # log choose(m, k) is 0 for m <= 1 (lgamma(1) = lgamma(2) = 0): only larger m need it
        lchoose = np.zeros_like(mr)
        many = np.flatnonzero(mr > 1)
        if many.size:
            mm, km = mr[many], k[many]
            lchoose[many] = (
                special.gammaln(mm + 1.0)
                - special.gammaln(km + 1.0)
                - special.gammaln(mm - km + 1.0)
            )
        fac = np.where(mr > 0, wt / np.where(mr > 0, mr, 1.0), 0.0)
        return cls(k, mr - k, lchoose, fac, fac != 0)

    def aic(self, mu: FloatArray) -> float:
        """−2 Σ (w/m) log dbinom(k, m, μ)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = self.lchoose + special.xlogy(self.k, mu) + special.xlog1py(self.failures, -mu)
            return float(-2.0 * np.sum(np.where(self.used, self.fac * logp, 0.0)))


def _binomial_aic(
    y: FloatArray, n: FloatArray, mu: FloatArray, wt: FloatArray, dev: float
) -> float:
    return _BinomialAicTerms.of(y, n, wt).aic(mu)


# -------------------------------------------------------------------- poisson
def _poisson_init(y: FloatArray, w: FloatArray, labels: Sequence[Any] | None) -> InitialValues:
    if np.any(y < 0):
        _domain_error("negative values not allowed for the 'Poisson' family", y < 0, labels)
    _non_integer(
        "non-integer counts in a poisson model: the log-likelihood uses "
        "lgamma(y + 1) (R's dpois would give -Inf)",
        y,
    )
    return InitialValues(y, w, np.ones_like(y), y + 0.1)


def _poisson_aic(y: FloatArray, n: FloatArray, mu: FloatArray, wt: FloatArray, dev: float) -> float:
    logp = special.xlogy(y, mu) - mu - special.gammaln(y + 1.0)
    return float(-2.0 * np.sum(logp * wt))


# ---------------------------------------------------------------------- Gamma
def _positive_init(
    family: str,
) -> Callable[[FloatArray, FloatArray, Sequence[Any] | None], InitialValues]:
    message = {
        "Gamma": "non-positive values not allowed for the 'Gamma' family",
        "inverse.gaussian": "positive values only are allowed for the 'inverse.gaussian' family",
    }[family]

    def init(y: FloatArray, w: FloatArray, labels: Sequence[Any] | None) -> InitialValues:
        if np.any(y <= 0):
            _domain_error(message, y <= 0, labels)
        return InitialValues(y, w, np.ones_like(y), y.copy())

    return init


def _gamma_aic(y: FloatArray, n: FloatArray, mu: FloatArray, wt: FloatArray, dev: float) -> float:
    # R's Gamma()$aic: dgamma(y, shape = 1/disp, scale = mu * disp, log = TRUE), i.e.
    # (a - 1) log y - y / s - lgamma(a) - a log s with a = 1/disp, s = mu * disp
    disp = dev / float(np.sum(wt))
    shape, scale = 1.0 / disp, mu * disp
    logp = (shape - 1.0) * np.log(y) - y / scale - special.gammaln(shape) - shape * np.log(scale)
    return float(-2.0 * np.sum(wt * logp) + 2.0)


def _inverse_gaussian_aic(
    y: FloatArray, n: FloatArray, mu: FloatArray, wt: FloatArray, dev: float
) -> float:
    wsum = float(np.sum(wt))
    return float(
        wsum * (np.log(dev / wsum * 2.0 * np.pi) + 1.0) + 3.0 * np.sum(np.log(y) * wt) + 2.0
    )


# ------------------------------------------------------------------- gaussian
def _gaussian_init_for(
    link: str,
) -> Callable[[FloatArray, FloatArray, Sequence[Any] | None], InitialValues]:
    def init(y: FloatArray, w: FloatArray, labels: Sequence[Any] | None) -> InitialValues:
        bad = (y == 0) if link == "inverse" else (y <= 0) if link == "log" else None
        if bad is not None and np.any(bad):
            _domain_error("cannot find valid starting values: please specify some", bad, labels)
        return InitialValues(y, w, np.ones_like(y), y.copy())

    return init


def _gaussian_aic(
    y: FloatArray, n: FloatArray, mu: FloatArray, wt: FloatArray, dev: float
) -> float:
    nn = y.size
    return float(nn * (np.log(2.0 * np.pi * dev / nn) + 1.0) + 2.0 - np.sum(np.log(wt)))


@dataclass(frozen=True)
class Family:
    """An R family object (``binomial(link = "probit")`` and friends).

    Attributes
    ----------
    family : str
        R's name: ``"binomial"``, ``"poisson"``, ``"Gamma"``,
        ``"inverse.gaussian"``, ``"gaussian"``.
    link : Link
    variance : callable
        ``V(μ)``.
    dev_resids : callable
        ``(y, μ, w) -> unit deviances`` (R's ``dev.resids``).
    aic : callable
        ``(y, n, μ, w, dev) -> −2 log-likelihood`` (R's ``aic`` without the ``2p``).
    initialize_fn : callable
        ``(y, weights, row labels) -> InitialValues``.
    validmu : callable
        Whether means are inside the family's range.
    has_scale : bool
        Whether the family has a dispersion (lme4's ``useSc``; not binomial, poisson).
    theta : float or None
        The negative binomial's known θ (MASS's ``.Theta``); ``None`` for other families.
    """

    family: str
    link: Link
    variance: Callable[[FloatArray], FloatArray]
    dev_resids: Callable[[FloatArray, FloatArray, FloatArray], FloatArray]
    aic: Callable[[FloatArray, FloatArray, FloatArray, FloatArray, float], float]
    initialize_fn: Callable[[FloatArray, FloatArray, Sequence[Any] | None], InitialValues]
    validmu: Callable[[FloatArray], bool]
    has_scale: bool
    theta: float | None = None

    def aic_at(
        self, y: FloatArray, n: FloatArray, wt: FloatArray
    ) -> Callable[[FloatArray, float], float]:
        """``aic`` for fixed ``y``, trials and weights, as ``(μ, dev) -> −2 log-likelihood``.

        For repeated evaluations (one per GLMM deviance evaluation): the
        binomial parts that do not involve ``μ`` are computed once.
        """
        if self.family == "binomial":
            terms = _BinomialAicTerms.of(y, n, wt)
            return lambda mu, dev: terms.aic(mu)
        return lambda mu, dev: self.aic(y, n, mu, wt, dev)

    def linkfun(self, mu: FloatArray) -> FloatArray:
        """``η = g(μ)``."""
        return self.link.linkfun(np.asarray(mu, dtype=float))

    def linkinv(self, eta: FloatArray) -> FloatArray:
        """``μ = g⁻¹(η)``."""
        return self.link.linkinv(np.asarray(eta, dtype=float))

    def mu_eta(self, eta: FloatArray) -> FloatArray:
        """``dμ/dη``."""
        return self.link.mu_eta(np.asarray(eta, dtype=float))

    def valideta(self, eta: FloatArray) -> bool:
        """Whether ``η`` is a valid linear predictor for the link."""
        return self.link.valideta(np.asarray(eta, dtype=float))

    def initialize(
        self,
        y: FloatArray,
        weights: FloatArray | None = None,
        row_labels: Sequence[Any] | None = None,
    ) -> InitialValues:
        """R's ``family$initialize``: checked response, weights, trials and ``mustart``.

        Raises
        ------
        ResponseDomainError
            The response is outside the family's support; ``rows`` names the rows.
        """
        y = np.asarray(y, dtype=float)
        w = np.ones(y.shape[0]) if weights is None else np.asarray(weights, dtype=float)
        if y.ndim == 2 and self.family != "binomial":
            raise ResponseDomainError(
                f"a two-column response is only meaningful for the binomial family, "
                f"not {self.family}",
                remedy="use a single response column",
            )
        return self.initialize_fn(y, w, row_labels)

    def __repr__(self) -> str:
        return f"Family: {self.family}\nLink function: {self.link.name}"


def _unit(fam: str) -> Callable[[FloatArray, FloatArray, FloatArray], FloatArray]:
    def binomial(y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        return 2.0 * wt * (_ylogy(y, mu) + _ylogy(1.0 - y, 1.0 - mu))

    def poisson(y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        return 2.0 * wt * (_ylogy(y, mu) - (y - mu))

    def gamma(y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        ratio = y / mu
        with np.errstate(divide="ignore"):
            logr = np.where(ratio != 0, np.log(np.where(ratio != 0, ratio, 1.0)), 0.0)
        return -2.0 * wt * (logr - (y - mu) / mu)

    def inverse_gaussian(y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        return wt * (y - mu) ** 2 / (y * mu**2)

    def gaussian(y: FloatArray, mu: FloatArray, wt: FloatArray) -> FloatArray:
        return wt * (y - mu) ** 2

    return {
        "binomial": binomial,
        "poisson": poisson,
        "Gamma": gamma,
        "inverse.gaussian": inverse_gaussian,
        "gaussian": gaussian,
    }[fam]


def _valid_prob(mu: FloatArray) -> bool:
    return bool(np.all(np.isfinite(mu)) and np.all((mu > 0) & (mu < 1)))


def _valid_pos(mu: FloatArray) -> bool:
    return bool(np.all(np.isfinite(mu)) and np.all(mu > 0))


def _valid_any(mu: FloatArray) -> bool:
    return True


@dataclass(frozen=True)
class _Spec:
    links: tuple[str, ...]
    variance: Callable[[FloatArray], FloatArray]
    aic: Callable[[FloatArray, FloatArray, FloatArray, FloatArray, float], float]
    init: Callable[[str], Callable[[FloatArray, FloatArray, Sequence[Any] | None], InitialValues]]
    validmu: Callable[[FloatArray], bool]
    has_scale: bool


#: family name -> (allowed links, default first) and distribution functions.
FAMILIES: dict[str, _Spec] = {
    "binomial": _Spec(
        ("logit", "probit", "cauchit", "log", "cloglog"),
        lambda mu: np.maximum(EPS, mu * (1.0 - mu)),
        _binomial_aic,
        lambda link: _binomial_init,
        _valid_prob,
        False,
    ),
    "poisson": _Spec(
        ("log", "identity", "sqrt"),
        lambda mu: mu * 1.0,
        _poisson_aic,
        lambda link: _poisson_init,
        _valid_pos,
        False,
    ),
    "Gamma": _Spec(
        ("inverse", "identity", "log"),
        lambda mu: mu**2,
        _gamma_aic,
        lambda link: _positive_init("Gamma"),
        _valid_pos,
        True,
    ),
    "inverse.gaussian": _Spec(
        ("1/mu^2", "inverse", "identity", "log"),
        lambda mu: mu**3,
        _inverse_gaussian_aic,
        lambda link: _positive_init("inverse.gaussian"),
        _valid_any,
        True,
    ),
    "gaussian": _Spec(
        ("identity", "log", "inverse"),
        np.ones_like,
        _gaussian_aic,
        _gaussian_init_for,
        _valid_any,
        True,
    ),
}


def make_family(family: str, link: str | None = None) -> Family:
    """The family object R builds with ``<family>(link = link)``.

    Raises
    ------
    ValueError
        An unknown family, or a link the family does not allow (R's message).
    """
    spec = FAMILIES.get(family)
    if spec is None:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    link = spec.links[0] if link is None else link
    if link not in spec.links:
        quoted = ", ".join(spec.links)
        raise ValueError(
            f'link "{link}" not available for {family} family; available links are {quoted}'
        )
    return Family(
        family,
        LINKS[link],
        spec.variance,
        _unit(family),
        spec.aic,
        spec.init(link),
        spec.validmu,
        spec.has_scale,
    )
