"""Wald tail probabilities against known quantiles (mathematics)."""

from __future__ import annotations

import numpy as np
import pytest

from interlace.results.wald import chisq_p_value, normal_p_values


def test_normal_p_values_at_known_quantiles() -> None:
    # Phi^{-1}(0.975) = 1.959963984540054, Phi^{-1}(0.995) = 2.5758293035489004
    z = np.array([0.0, 1.959963984540054, -2.5758293035489004])
    np.testing.assert_allclose(normal_p_values(z), [1.0, 0.05, 0.01], rtol=1e-12)


@pytest.mark.parametrize(
    ("chisq", "df", "p"),
    [(3.841458820694124, 1, 0.05), (5.991464547107979, 2, 0.05), (2.0, 2, np.exp(-1.0))],
)
def test_chisq_upper_tail(chisq: float, df: float, p: float) -> None:
    # chi2 with 2 df is exponential with mean 2: P(X > x) = exp(-x / 2)
    assert chisq_p_value(chisq, df) == pytest.approx(p, rel=1e-12)
