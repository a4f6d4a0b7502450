"""InstEval (n = 73,421; crossed s x d): objective and fit against lme4 (slow)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from lmm_fixtures import as_list, assert_printout_close, beta_of, insteval_design, load

from interlace.api.lmer import fit_lmer
from interlace.engine.gaussian import GaussianObjective
from interlace.results.lmer_result import LmerResult

CASES = ["insteval_ml", "insteval_reml"]


@cache
def fitted(case: str) -> LmerResult:
    d = insteval_design(case)
    return fit_lmer(d, REML=d.REML)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_insteval_objective_matches_lme4(case: str) -> None:
    d = insteval_design(case)
    obj = GaussianObjective(d, REML=d.REML)
    for pt in load(case)["deviance_function"]:
        assert obj(np.asarray(pt["theta"], dtype=float)) == pytest.approx(pt["value"], rel=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_insteval_fit_matches_lme4(case: str) -> None:
    r, fit = fitted(case), load(case)["fit"]
    assert r.objective == pytest.approx(fit["objective"], rel=1e-6)
    np.testing.assert_allclose(r.theta, fit["theta"], atol=1e-3)
    np.testing.assert_allclose(r.fe_params.to_numpy(), beta_of(fit)[1], rtol=1e-5)
    np.testing.assert_allclose(r.bse.to_numpy(), fit["se"], rtol=1e-4)
    assert r.sigma == pytest.approx(fit["sigma"], rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_insteval_summary_and_condvar(case: str) -> None:
    r, fit = fitted(case), load(case)["fit"]
    theirs = [line for line in fit["summary"] if not line.startswith(("Formula:", "   Data:"))]
    assert_printout_close(str(r.summary()).split("\n"), theirs)
    frames = r.ranef(condVar=True)
    for group, per_term in fit["condvar"].items():
        (flat,) = per_term.values() if isinstance(per_term, dict) else per_term
        want = np.asarray(as_list(flat), dtype=float)
        np.testing.assert_allclose(frames[group].attrs["postVar"][0].ravel(), want, rtol=2e-3)
