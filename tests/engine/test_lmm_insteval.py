"""InstEval (n = 73,421; crossed s x d): objective and fit against lme4 (slow)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from lmm_fixtures import as_list, assert_parity_bar, assert_printout_close, insteval_design, load

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
    r = fitted(case)
    assert r.optinfo.optimizer == "L-BFGS-B"  # the default for this size
    assert_parity_bar(r, case)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_insteval_bobyqa_fit_matches_lme4(case: str) -> None:
    d = insteval_design(case)
    r = fit_lmer(d, REML=d.REML, control={"optimizer": "nloptwrap"})
    assert r.optinfo.optimizer == "nloptwrap"
    assert_parity_bar(r, case)
    tight = load(case)["fit_tight"]
    # L-BFGS-B with the analytic gradient lands nearer lme4's converged optimum
    lbfgsb = fitted(case)
    assert lbfgsb.objective <= r.objective + 1e-7
    np.testing.assert_allclose(lbfgsb.theta, tight["theta"], atol=2e-6)


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
