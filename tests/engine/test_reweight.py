"""``BlockedPredictor.reweight``: new weights and response on fixed patterns, as a fresh build.

PIRLS reweights one predictor per iteration instead of building a new one;
the sums are formed in the same order from the same products, so the
factor, its log-determinants and the solution must equal a fresh
construction's bit for bit, on every path (dense and sparse ``A_R0``, the
scatter kernel, vector-valued leading and later terms, zeros in ``X`` and
``z``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from lmm_fixtures import design_from_spec

from interlace.engine.predictor import BlockedPredictor


def _term(group: str, refs: np.ndarray, z: np.ndarray, nlev: int) -> dict[str, Any]:
    cnms = ["(Intercept)", "x"][: z.shape[1]]
    return {
        "group": group,
        "cnms": cnms,
        "levels": [str(i) for i in range(nlev)],
        "refs": refs,
        "z": z,
    }


def _spec(kind: str, rng: np.random.Generator) -> dict[str, Any]:
    n = 500
    x = rng.normal(size=n)
    x[rng.random(n) < 0.2] = 0.0  # zeros in a slope's z
    dummy = (rng.random(n) < 0.3).astype(float)
    X = np.column_stack([np.ones(n), x, dummy])
    one = np.ones((n, 1))
    slope = np.column_stack([np.ones(n), x])
    if kind == "sparse_scatter":  # many-level scalar term first, then a vector term
        g1, g2 = rng.integers(0, 150, n), rng.integers(0, 40, n)
        terms = [_term("g1", g1, one, 150), _term("g2", g2, slope, 40)]
    elif kind == "dense_crossed":  # every pair of levels observed: dense A_R0
        g1, g2 = np.repeat(np.arange(50), 10), np.tile(np.arange(10), 50)
        terms = [_term("g1", g1, one, 50), _term("g2", g2, one, 10)]
    elif kind == "vector_lead":
        g1, g2 = rng.integers(0, 60, n), rng.integers(0, 8, n)
        terms = [_term("g1", g1, slope, 60), _term("g2", g2, one, 8)]
    else:  # a single term
        terms = [_term("g1", rng.integers(0, 30, n), slope, 30)]
    return {
        "y": rng.normal(size=n),
        "X": X,
        "X_names": ["(Intercept)", "x", "d"],
        "weights": np.ones(n),
        "offset": np.zeros(n),
        "terms": terms,
    }


@pytest.mark.parametrize("kind", ["sparse_scatter", "dense_crossed", "vector_lead", "single"])
def test_reweight_equals_a_fresh_construction(kind: str) -> None:
    rng = np.random.default_rng(2)
    d = design_from_spec(_spec(kind, rng), REML=False)
    n = d.y.size
    theta = np.linspace(0.4, 1.2, d.theta.size)
    pred = BlockedPredictor(d.terms, d.X, d.y, rng.uniform(0.5, 2.0, n))
    pred.update(theta)
    if kind == "sparse_scatter":
        assert pred._scatter is not None
    if kind == "dense_crossed":
        assert pred._dense_r0
    for _ in range(2):
        y, w = rng.normal(size=n), rng.uniform(0.1, 3.0, n)
        pred.reweight(y, w)
        pred.update(theta)
        fresh = BlockedPredictor(d.terms, d.X, y, w)
        fresh.update(theta)
        assert (pred.ldL2, pred.ldRX2, pred.pwrss) == (fresh.ldL2, fresh.ldRX2, fresh.pwrss)
        np.testing.assert_array_equal(pred.ls, fresh.ls)
        beta, u = pred.solve()
        beta_f, u_f = fresh.solve()
        np.testing.assert_array_equal(beta, beta_f)
        for a, b in zip(u, u_f, strict=True):
            np.testing.assert_array_equal(a, b)


def test_reweight_changes_the_factor() -> None:
    """Not a no-op: other weights give another penalised RSS and the old one comes back."""
    rng = np.random.default_rng(5)
    d = design_from_spec(_spec("sparse_scatter", rng), REML=False)
    theta = np.linspace(0.4, 1.2, d.theta.size)
    pred = BlockedPredictor(d.terms, d.X, d.y)
    pred.update(theta)
    first = pred.pwrss
    pred.reweight(d.y, rng.uniform(0.1, 3.0, d.y.size))
    pred.update(theta)
    assert pred.pwrss != pytest.approx(first, rel=1e-3)
    pred.reweight(d.y)
    pred.update(theta)
    assert pred.pwrss == first
