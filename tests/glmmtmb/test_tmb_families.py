"""glmmTMB's conditional densities: values against SciPy, derivatives by central differences."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy import special, stats

from interlace.errors import UnsupportedFeatureError
from interlace.families import (
    TMB_FAMILIES,
    Gamma,
    beta_family,
    binomial,
    nbinom1,
    nbinom2,
    poisson,
    tmb_family,
    truncated_nbinom2,
)

COUNTS = np.array([0.0, 1.0, 3.0, 7.0, 0.0, 12.0])
SIZE = np.array([1.0, 2.0, 5.0, 9.0, 4.0, 15.0])
ETA = np.array([-1.2, -0.3, 0.4, 1.1, 2.0, 0.7])
PHI = np.array([0.5, 1.3, 2.0, 0.8, 3.5, 1.1])
POSITIVE = np.array([0.2, 1.5, 3.0, 0.7, 9.0, 2.2])
UNIT = np.array([0.05, 0.3, 0.5, 0.72, 0.9, 0.99])
POSITIVE_COUNTS = COUNTS + 1.0


def _truncated(logpmf: Callable[[np.ndarray, np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """``log f(y) − log(1 − f(0))`` at the positive counts."""
    return lambda mu: logpmf(POSITIVE_COUNTS, mu) - np.log1p(-np.exp(logpmf(0.0 * mu, mu)))


def _nb2(y: np.ndarray, mu: np.ndarray) -> Any:
    return stats.nbinom.logpmf(y, PHI, PHI / (PHI + mu))


def _nb1(y: np.ndarray, mu: np.ndarray) -> Any:
    return stats.nbinom.logpmf(y, mu / PHI, 1.0 / (1.0 + PHI))


#: family -> (response, log-density of SciPy at μ = default inverse link of ETA)
REFERENCE: dict[str, tuple[np.ndarray, Callable[[np.ndarray], Any]]] = {
    "gaussian": (POSITIVE, lambda mu: stats.norm.logpdf(POSITIVE, mu, np.sqrt(PHI))),
    "poisson": (COUNTS, lambda mu: stats.poisson.logpmf(COUNTS, mu)),
    "binomial": (np.minimum(COUNTS, SIZE), lambda mu: stats.binom.logpmf(COUNTS, SIZE, mu)),
    "nbinom2": (COUNTS, lambda mu: _nb2(COUNTS, mu)),
    "nbinom1": (COUNTS, lambda mu: _nb1(COUNTS, mu)),
    "truncated_poisson": (POSITIVE_COUNTS, _truncated(stats.poisson.logpmf)),
    "truncated_nbinom2": (POSITIVE_COUNTS, _truncated(_nb2)),
    "truncated_nbinom1": (POSITIVE_COUNTS, _truncated(_nb1)),
    "Gamma": (POSITIVE, lambda mu: stats.gamma.logpdf(POSITIVE, PHI, scale=mu / PHI)),
    "beta": (UNIT, lambda mu: stats.beta.logpdf(UNIT, mu * PHI, (1 - mu) * PHI)),
}
#: η on the domain of the default inverse links (Gamma's is 1/μ: positive)
DEFAULT_ETA = {"Gamma": np.abs(ETA) + 0.1}


@pytest.mark.parametrize("family", sorted(TMB_FAMILIES))
def test_log_density_matches_scipy(family: str) -> None:
    fam = TMB_FAMILIES[family]
    y, reference = REFERENCE[family]
    eta = DEFAULT_ETA.get(family, ETA)
    ll, _, _ = fam.logdens(y, SIZE, eta, PHI)
    np.testing.assert_allclose(ll, reference(fam.linkinv(eta)), rtol=1e-11, atol=1e-11)


LINK_CASES = [
    (name, link)
    for name, fam in sorted(TMB_FAMILIES.items())
    for link in fam.links
    if not (name == "gaussian" and link == "inverse")
]


@pytest.mark.parametrize(("family", "link"), LINK_CASES)
def test_derivatives_match_central_differences(family: str, link: str) -> None:
    fam = tmb_family(family, link)
    y = REFERENCE[family][0]
    if link in ("log", "sqrt") and family in ("gaussian", "poisson"):
        eta = fam.link.linkfun(np.abs(ETA) + 0.5)
    else:  # the η of the same means as in the default-link test
        eta = fam.link.linkfun(TMB_FAMILIES[family].linkinv(DEFAULT_ETA.get(family, ETA)))
    h = 1e-5
    _, d1, d2 = fam.logdens(y, SIZE, eta, PHI)
    up = fam.logdens(y, SIZE, eta + h, PHI)
    down = fam.logdens(y, SIZE, eta - h, PHI)
    np.testing.assert_allclose(d1, (up[0] - down[0]) / (2 * h), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(d2, (up[1] - down[1]) / (2 * h), rtol=1e-6, atol=1e-7)


def test_composed_link_keeps_the_density() -> None:
    """A probit binomial has the logit binomial's density at the same μ."""
    mu = special.expit(ETA)
    y = np.minimum(COUNTS, SIZE)
    probit, _, _ = tmb_family(binomial("probit")).logdens(y, SIZE, stats.norm.ppf(mu), PHI)
    logit, _, _ = TMB_FAMILIES["binomial"].logdens(y, SIZE, ETA, PHI)
    np.testing.assert_allclose(probit, logit, rtol=1e-10)


def test_zero_truncated_zero_has_no_density() -> None:
    fam = truncated_nbinom2()
    ll, d1, d2 = fam.logdens(np.array([0.0, 2.0]), np.ones(2), np.array([0.1, 0.1]), np.ones(2))
    assert ll[0] == -np.inf and d1[0] == 0.0 and d2[0] == 0.0 and np.isfinite(ll[1])
    mu = np.exp(0.1)
    assert fam.mean(np.array([0.1]), np.array([1.0]))[0] == pytest.approx(
        mu / (1.0 - 1.0 / (1.0 + mu))
    )


def test_variance_functions() -> None:
    mu, phi = np.array([0.5, 2.0]), np.array([2.0, 3.0])
    np.testing.assert_allclose(nbinom2().variance(mu, phi), mu + mu**2 / phi)
    np.testing.assert_allclose(nbinom1().variance(mu, phi), mu * (1 + phi))
    np.testing.assert_allclose(tmb_family(Gamma()).variance(mu, phi), mu**2 / phi)


def test_r_family_objects_map_to_glmmtmb_families() -> None:
    assert tmb_family(poisson()).family == "poisson"
    assert tmb_family(binomial).family == "binomial"
    assert tmb_family("nbinom2") is TMB_FAMILIES["nbinom2"]
    assert tmb_family(Gamma()).link.name == "inverse"
    assert tmb_family(Gamma("log")).link.name == "log"
    assert beta_family().family == "beta"
    assert tmb_family("beta_family") is TMB_FAMILIES["beta"]


@pytest.mark.parametrize(
    ("family", "message"),
    [(binomial("cauchit"), "link 'cauchit'"), ("tweedie", "family 'tweedie'")],
)
def test_unsupported_family_or_link(family: object, message: str) -> None:
    with pytest.raises(UnsupportedFeatureError, match=message):
        tmb_family(family)  # type: ignore[arg-type]
