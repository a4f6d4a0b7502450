"""Fits of lme4's designs against lme4's fits, with the tolerances of issue 3's parity bar.

Objective within 1e-6 relative, fixed effects 1e-5 relative, theta 1e-3, standard
errors 1e-4 relative, sigma 1e-5 relative; logLik/AIC/BIC follow the objective.

Where lme4's default stopping point is itself farther than the bar from the
optimum (the fixture's ``fit_tight`` is lme4 refitted with tight tolerances),
the comparison is with that converged lme4 fit instead, and only then.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
from lmm_fixtures import (
    SMALL_CASES,
    as_list,
    assert_parity_bar,
    assert_printout_close,
    beta_of,
    design,
    load,
    rel,
)

from interlace.api.lmer import fit_lmer
from interlace.errors import FormulaError
from interlace.results.lmer_result import LmerResult

# cases whose printed summary is identical to lme4's; in the others a printed
# digit differs where the two optima differ in the 6th-8th significant digit
EXACT_SUMMARY = sorted(
    set(SMALL_CASES)
    - {"machines_slopes", "orthodont", "orthodont_zerocorr", "sleep_weights", "sleep_rankdef"}
)


@cache
def fitted(case: str) -> LmerResult:
    d = design(case)
    return fit_lmer(d, REML=d.REML)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_parity_bar(case: str) -> None:
    r, f = fitted(case), load(case)["fit"]
    assert list(r.fe_params.index) == beta_of(f)[0]
    assert_parity_bar(r, case)
    vc = r.cov_params().to_numpy()
    want = np.asarray(f["vcov"], dtype=float).reshape(vc.shape)
    scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))  # entries ~0 compare absolutely
    assert np.max(np.abs(vc - want) / scale, initial=0.0) < 3e-4  # SEs 1e-4: variances ~2e-4


@pytest.mark.parametrize("case", SMALL_CASES)
def test_likelihood_summaries(case: str) -> None:
    r, f = fitted(case), load(case)["fit"]
    for mine, theirs in [
        (r.llf, "logLik"),
        (r.aic, "AIC"),
        (r.bic, "BIC"),
        (r.deviance, "deviance"),
        (r.deviance_ml(), "deviance_ml"),
    ]:
        assert rel(mine, f[theirs]) < 1e-6, theirs
    assert r.df_model == f["df"]
    assert r.nobs == f["nobs"]
    assert (r.REMLcrit is not None) == f["REML"]


@pytest.mark.parametrize("case", SMALL_CASES)
def test_varcorr_layout_and_values(case: str) -> None:
    r, f = fitted(case), load(case)["fit"]["varcorr"]
    vc = r.varcorr()
    assert list(vc.columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert vc["grp"].tolist() == as_list(f["grp"])
    assert [v if isinstance(v, str) else None for v in vc["var1"]] == as_list(f["var1"])
    assert [v if isinstance(v, str) else None for v in vc["var2"]] == as_list(f["var2"])
    np.testing.assert_allclose(vc["vcov"], as_list(f["vcov"]), rtol=2e-3, atol=1e-10)
    np.testing.assert_allclose(vc["sdcor"], as_list(f["sdcor"]), rtol=2e-3, atol=1e-10)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_ranef_coef_fitted_resid(case: str) -> None:
    r, f = fitted(case), load(case)["fit"]
    re = r.ranef()
    assert list(re) == list(f["ranef"])
    for group, ref in f["ranef"].items():
        frame = re[group]
        assert list(frame.columns) == as_list(ref["columns"])
        assert list(frame.index) == as_list(ref["levels"])
        want = np.asarray(ref["values"], dtype=float).reshape(frame.shape)
        atol = 1e-4 * np.abs(want).max()
        np.testing.assert_allclose(frame.to_numpy(), want, rtol=1e-3, atol=atol)
        if not set(frame.columns) <= set(r.fe_params.index):
            with pytest.raises(FormulaError, match="unable to align"):
                r.coef()
            continue
        coef = r.coef()[group]
        assert list(coef.columns) == list(r.fe_params.index)
        for name in frame.columns:
            np.testing.assert_allclose(coef[name], r.fe_params[name] + frame[name])
    scale = np.abs(np.asarray(f["fitted"])).max()
    np.testing.assert_allclose(r.fittedvalues, f["fitted"], atol=1e-5 * scale)
    np.testing.assert_allclose(r.resid, f["resid"], atol=1e-5 * scale)
    assert r.is_singular == f["is_singular"]


def test_singular_fit_is_flagged_and_converged() -> None:
    r = fitted("dyestuff2")
    assert r.is_singular and r.converged
    assert r.theta[0] == 0.0
    assert "boundary (singular) fit: see help('isSingular')" in r.warnings


def test_double_bar_groups_are_labelled_as_lme4() -> None:
    vc = fitted("sleepstudy_zerocorr").varcorr()
    assert vc["grp"].tolist() == ["Subject", "Subject.1", "Residual"]
    assert set(fitted("sleepstudy_zerocorr").variance_components) == {
        "Subject",
        "Subject.1",
        "Residual",
    }


def test_result_is_immutable() -> None:
    r = fitted("dyestuff")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.sigma = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("case", SMALL_CASES)
def test_summary_prints_like_lme4(case: str) -> None:
    ours = str(fitted(case).summary()).split("\n")
    theirs = [
        line
        for line in load(case)["fit"]["summary"]
        if not line.startswith(("Formula:", "   Data:", "Weights:", " Offset:"))
    ]
    if case == "sleep_rankdef":  # the design's "fit warnings" come from lformula, not here
        theirs = theirs[: theirs.index("fit warnings:")]
    if case in EXACT_SUMMARY:
        assert ours == theirs
    else:
        assert_printout_close(ours, theirs)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_conditional_variances_match_lme4(case: str) -> None:
    """ranef(condVar=True): lme4's postVar, per grouping factor and term."""
    r, f = fitted(case), load(case)["fit"]
    frames = r.ranef(condVar=True)
    for group, per_term in f["condvar"].items():
        theirs = list(per_term.values()) if isinstance(per_term, dict) else per_term
        ours = frames[group].attrs["postVar"]
        assert len(ours) == len(theirs)
        for pv, flat in zip(ours, theirs, strict=True):
            nlev, k = pv.shape[0], pv.shape[1]
            want = np.asarray(as_list(flat), dtype=float).reshape(nlev, k, k).transpose(0, 2, 1)
            np.testing.assert_allclose(pv, want, rtol=2e-3, atol=1e-6 * np.abs(want).max())


@pytest.mark.parametrize("case", ["penicillin", "pastes", "machines_slopes", "sleepstudy_slope"])
def test_conditional_variances_blocked_equals_sparse(case: str) -> None:
    from interlace.engine.gaussian import GaussianObjective

    d = design(case)
    theta = fitted(case).theta
    blocked = GaussianObjective(d, method="blocked")
    sparse = GaussianObjective(d, method="sparse")
    blocked(theta)
    sparse(theta)
    for a, b in zip(blocked.predictor.u_cov_blocks(), sparse.predictor.u_cov_blocks(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
