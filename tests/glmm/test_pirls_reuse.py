"""PIRLS reuses its predictors and starting state: results equal those of a fresh ``Pirls``.

One ``Pirls`` reweights its ``BlockedPredictor`` objects instead of
building new ones and keeps the working weights at the starting η; a run
of evaluations at several (θ, β) must give bit-for-bit what a new ``Pirls``
gives at each point.
"""

from __future__ import annotations

import numpy as np
import pytest
from glmm_fixtures import load, pirls

from interlace.engine.laplace import GlmmDeviance


def _fresh(case: str, lp0: np.ndarray) -> GlmmDeviance:
    dev = GlmmDeviance(pirls(case))
    dev.lp0 = lp0
    return dev


@pytest.mark.parametrize("case", ["cbpp_laplace", "grouseticks", "grouseticks_slope"])
def test_reused_pirls_equals_fresh_pirls(case: str) -> None:
    f = load(case)["fit"]
    theta = np.asarray(f["theta"], dtype=float)
    dev = GlmmDeviance(pirls(case))
    dev.initial_step(theta)
    lp0 = dev.lp0.copy()
    beta = dev.last.beta if dev.last is not None else None
    assert beta is not None
    points = [np.r_[theta * s, beta + d] for s, d in ((1.0, 0.0), (0.7, 0.05), (1.3, -0.1))]
    for pars in points + points[:1]:
        # nAGQ = 0 (β estimated) and Laplace (β fixed) evaluations, interleaved
        assert dev.stage0(pars[: theta.size]) == _fresh(case, lp0).stage0(pars[: theta.size])
        reused, fit = dev(pars), dev.last
        fresh_dev = _fresh(case, lp0)
        assert reused == fresh_dev(pars)
        assert fit is not None and fresh_dev.last is not None
        np.testing.assert_array_equal(fit.eta, fresh_dev.last.eta)
        assert (fit.ldL2, fit.iterations) == (fresh_dev.last.ldL2, fresh_dev.last.iterations)
    # a new starting predictor (lme4's second stage) refreshes the kept starting weights
    dev.lp0 = lp0 * 0.9
    assert dev(points[1]) == _fresh(case, lp0 * 0.9)(points[1])
