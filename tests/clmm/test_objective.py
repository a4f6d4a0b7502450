"""The Laplace and AGQ objectives at ordinal's estimates and at a probe point.

ordinal's values come from its own objective functions on the environment of
``clmm(..., doFit = FALSE)`` (fixtures/R/clmm.R).  For one random intercept
ordinal's C code stops Newton's method for the conditional modes at
``max|gradient| < 1e-4``; interlace converges them fully, so the Laplace values
differ by up to 1e-4 there (soup's 185 levels: 9e-5, interlace's the lower);
elsewhere they agree to 1e-7.
"""

from __future__ import annotations

import numpy as np
import pytest
from clmm_fixtures import CASES, Case

from interlace.api.clmm import clmm_objective
from interlace.datasets import load
from interlace.design.clmm_design import clmm_design


@pytest.mark.filterwarnings("ignore::interlace.errors.RankDeficiencyWarning")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_objective_matches_ordinal(case: Case) -> None:
    ref = case.reference()
    design = clmm_design(case.formula, load(case.data), threshold=case.threshold)
    objective, _ = clmm_objective(design, case.link, case.nAGQ)
    at_est = objective(np.array(ref["optimizer"]["par"]))
    at_probe = objective(np.array(ref["objective"]["probe_par"]))
    r_est, r_probe = ref["objective"]["at_estimates"], ref["objective"]["at_probe"]
    tol = 1e-4 if design.single_scalar and case.nAGQ == 1 else 1e-7
    assert at_est == pytest.approx(r_est, abs=tol)
    assert at_probe == pytest.approx(r_probe, abs=2 * tol)


def test_single_intercept_newton_step_is_the_predictors() -> None:
    """The diagonal solve of one random intercept equals the shared predictor's solve."""
    case = CASES[0]
    design = clmm_design(case.formula, load(case.data))
    objective, response = clmm_objective(design)
    alpha, beta, theta = objective.split(np.array(case.reference()["optimizer"]["par"]))
    u = np.random.default_rng(1).normal(size=design.random.Zt.shape[0])
    zb = np.asarray(design.random.Zt.T @ (theta[0] * u))
    _, d1, curv = response.loglik_terms(
        objective.link, objective.jacobian @ alpha, design.X @ beta + zb
    )
    fast = objective._newton_target(theta, zb, d1, curv)
    objective.predictor.reweight(zb + d1 / curv, curv)
    objective.predictor.update(theta)
    general = np.concatenate([ui.ravel() for ui in objective.predictor.solve()[1]])
    np.testing.assert_allclose(fast, general, rtol=1e-10, atol=1e-12)
    assert not np.allclose(fast, u)  # a real step
    # the log-determinant and the conditional covariances at the modes too
    par = np.array(case.reference()["optimizer"]["par"])
    m = objective.modes(par)
    (cov,) = objective.u_covariances(par)
    objective.predictor.reweight(np.asarray(design.random.Zt.T @ m.b), m.curvature)
    objective.predictor.update(theta)
    assert m.ldL2 == pytest.approx(objective.predictor.ldL2, rel=1e-12)
    np.testing.assert_allclose(cov, objective.predictor.u_cov_blocks()[0], rtol=1e-12)
