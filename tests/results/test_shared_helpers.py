"""The helpers the result classes share: information criteria, VarCorr rows, R's format, printouts.

The result classes' numbers are compared with R in their own tests (tests/clmm, tests/lme,
tests/results/test_lmer_parity.py); these tests pin the helpers' arithmetic and rules.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from interlace.results import criteria
from interlace.results.rformat import RPrintout, format_fixed, format_r
from interlace.results.tables import covariance_rows


def test_information_criteria() -> None:
    assert criteria.aic(-10.0, 3) == 26.0
    assert criteria.bic(-10.0, 3, math.e**2) == pytest.approx(26.0)
    # BIC exceeds AIC exactly when log(n) > 2
    assert criteria.bic(-10.0, 3, 8) > criteria.aic(-10.0, 3) > criteria.bic(-10.0, 3, 7)


def test_covariance_rows_variances_then_pairs() -> None:
    cov = np.array([[4.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    rows = covariance_rows("g", ["a", "b", "c"], cov)
    assert [r[:3] for r in rows] == [
        ("g", "a", None),
        ("g", "b", None),
        ("g", "c", None),
        ("g", "a", "b"),
        ("g", "a", "c"),
        ("g", "b", "c"),
    ]
    assert [r[4] for r in rows[:3]] == [2.0, 1.0, 0.0]
    assert rows[3][3:] == (1.0, 0.5)
    assert math.isnan(rows[4][4]) and rows[4][3] == 0.0  # a zero SD has no correlation
    diagonal = covariance_rows("g", ["a", "b", "c"], cov, covariances=False)
    assert diagonal == rows[:3]


def test_format_r_chooses_the_narrower_notation() -> None:
    values = [1.5, 0.25]
    assert format_r(values) == format_fixed(values)
    # fixed notation would need ten decimals: scientific with the digits the values need
    assert format_r([1e-10, 1.0]) == ["1e-10", "1e+00"]
    assert format_r([1.5e-10, -2.0]) == [" 1.5e-10", "-2.0e+00"]
    assert format_r([0.0, 0.0]) == format_fixed([0.0, 0.0])
    assert format_r([1e-10, math.nan]) == ["1e-10", "  nan"]


def test_printout_is_its_lines() -> None:
    class Two(RPrintout):
        def lines(self) -> list[str]:
            return ["first", "second"]

    assert str(Two()) == repr(Two()) == "first\nsecond"
    with pytest.raises(NotImplementedError):
        str(RPrintout())
