"""Cumulative links and per-row derivatives, checked against calculus (finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from interlace.engine.cumulative import CUMULATIVE_LINKS, END, OrdinalResponse, get_cumulative_link
from interlace.errors import InterlaceError

X = np.linspace(-4.0, 4.0, 17)
H = 1e-5


@pytest.mark.parametrize("name", list(CUMULATIVE_LINKS))
def test_pdf_and_slope_are_derivatives(name: str) -> None:
    link = CUMULATIVE_LINKS[name]
    np.testing.assert_allclose(
        (link.cdf(X + H) - link.cdf(X - H)) / (2 * H), link.pdf(X), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        (link.pdf(X + H) - link.pdf(X - H)) / (2 * H), link.dpdf(X), rtol=1e-5, atol=1e-9
    )
    np.testing.assert_allclose(link.cdf(X) + link.sf(X), 1.0, rtol=1e-14)


@pytest.mark.parametrize("name", list(CUMULATIVE_LINKS))
def test_joint_parts_agree_with_the_four_functions(name: str) -> None:
    link = CUMULATIVE_LINKS[name]
    x = np.r_[X, -END, END, -40.0, 40.0]
    with np.errstate(over="ignore"):
        expected = (link.cdf(x), link.sf(x), link.pdf(x), link.dpdf(x))
        parts = link.parts(x)
    for got, want in zip(parts, expected, strict=True):
        # at |x| = 40 the logistic f = F(1 - F) is 4e-18 from the two tails, 0 from F alone
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_distributions_are_the_named_ones() -> None:
    np.testing.assert_allclose(CUMULATIVE_LINKS["logit"].cdf(X), stats.logistic.cdf(X))
    np.testing.assert_allclose(CUMULATIVE_LINKS["probit"].cdf(X), stats.norm.cdf(X))
    np.testing.assert_allclose(CUMULATIVE_LINKS["cauchit"].cdf(X), stats.cauchy.cdf(X))
    np.testing.assert_allclose(CUMULATIVE_LINKS["cloglog"].cdf(X), stats.gumbel_l.cdf(X))
    np.testing.assert_allclose(CUMULATIVE_LINKS["loglog"].cdf(X), stats.gumbel_r.cdf(X))


@pytest.mark.parametrize("name", list(CUMULATIVE_LINKS))
def test_loglik_derivatives_in_the_shift(name: str) -> None:
    link = get_cumulative_link(name)
    resp = OrdinalResponse(np.array([0, 1, 2, 3, 1]), 4, np.array([1.0, 2.0, 1.0, 0.5, 1.0]))
    thresholds = np.array([-1.0, 0.2, 1.5])
    s = np.array([0.3, -0.4, 0.1, 0.8, 2.0])
    ll, d1, curv = resp.loglik_terms(link, thresholds, s)
    up = resp.loglik_terms(link, thresholds, s + H)[0]
    down = resp.loglik_terms(link, thresholds, s - H)[0]
    np.testing.assert_allclose((up - down) / (2 * H), d1, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(-(up - 2 * ll + down) / H**2, curv, rtol=1e-3, atol=1e-5)
    probs = np.exp(resp.loglik_terms(link, thresholds, np.zeros(5))[0] / resp.weights)
    # the end thresholds are ordinal's ±1e5 (for cauchit F(1e5) = 1 - 3.2e-6, as in ordinal)
    with np.errstate(over="ignore"):
        cdf = link.cdf(np.r_[-END, thresholds, END])
    np.testing.assert_allclose(probs, np.diff(cdf)[resp.y], rtol=1e-12)


def test_unknown_link() -> None:
    with pytest.raises(InterlaceError, match="unknown link"):
        get_cumulative_link("identity")
