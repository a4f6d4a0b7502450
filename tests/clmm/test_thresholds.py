"""Threshold Jacobians and names against ordinal's makeThresholds (fixtures/clmm)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from clmm_fixtures import FIXTURES

from interlace.design.thresholds import make_thresholds
from interlace.errors import InterlaceError

REFERENCE = json.loads((FIXTURES / "thresholds.json").read_text())["cases"]


@pytest.mark.parametrize("case", REFERENCE, ids=lambda c: f"{c['threshold']}-{c['n_levels']}")
def test_jacobian_and_names_match_ordinal(case: dict) -> None:
    levels = tuple(str(i) for i in range(1, case["n_levels"] + 1))
    th = make_thresholds(levels, case["threshold"])
    expected = np.array(case["jacobian"], dtype=float).T  # R matrices are stored by columns
    np.testing.assert_array_equal(th.jacobian, expected)
    assert list(th.alpha_names) == list(np.atleast_1d(case["alpha_names"]))


def test_theta_names_and_values() -> None:
    th = make_thresholds(("lo", "mid", "hi", "top"), "equidistant")
    assert th.theta_names == ("lo|mid", "mid|hi", "hi|top")
    np.testing.assert_allclose(th.theta(np.array([-1.0, 0.5])), [-1.0, -0.5, 0.0])


@pytest.mark.parametrize("kind", ["equidistant", "symmetric", "symmetric2"])
def test_two_levels_only_flexible(kind: str) -> None:
    with pytest.raises(InterlaceError, match="3 or more levels"):
        make_thresholds(("a", "b"), kind)


def test_unknown_structure() -> None:
    with pytest.raises(InterlaceError, match="unknown threshold"):
        make_thresholds(("a", "b", "c"), "ordered")
