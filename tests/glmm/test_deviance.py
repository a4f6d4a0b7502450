"""glmer's deviance functions at fixed parameters against lme4's (devFunOnly = TRUE).

lme4's design (fixtures/glmm/*.json) is used, so these tests check PIRLS,
the Laplace and quadrature objectives and the families, not the front end.
Every evaluation starts PIRLS from lme4's own ``lp0``, so the values agree
to rounding, far inside the 1e-6 bar.
"""

from __future__ import annotations

import numpy as np
import pytest
from glmm_fixtures import load, pirls

from interlace.engine.laplace import AGQ_SCALAR_MESSAGE, GlmmDeviance
from interlace.engine.quadrature import gh_rule
from interlace.errors import InterlaceError

DESIGN_CASES = [
    "cbpp_laplace",
    "cbpp_agq25",
    "cbpp_nagq0",
    "cbpp_prop_weights",
    "grouseticks",
    "contraception_probit",
    "sleep_gamma_log",
    "sleep_invgauss_log",
    "cbpp_poisson_offset",
    "cbpp_cloglog_agq9",
    "grouseticks_slope",
    "sleep_gaussian_log",
]


def _deviance(case: str) -> GlmmDeviance:
    f = load(case)
    return GlmmDeviance(pirls(case), nAGQ=max(int(f["fit"]["nAGQ"]), 1))


@pytest.mark.parametrize("case", DESIGN_CASES)
def test_nagq0_deviance_matches_lme4(case: str) -> None:
    dev = _deviance(case)
    stage0 = load(case)["stage0"]
    dev.lp0 = np.asarray(stage0["lp0"])
    for point in stage0["points"]:
        value = dev.stage0(np.atleast_1d(np.asarray(point["theta"], dtype=float)))
        assert value == pytest.approx(point["value"], abs=1e-6, rel=1e-10)


@pytest.mark.parametrize("case", [c for c in DESIGN_CASES if c != "cbpp_nagq0"])
def test_laplace_and_agq_deviance_match_lme4(case: str) -> None:
    dev = _deviance(case)
    stage2 = load(case)["stage2"]
    dev.lp0 = np.asarray(stage2["lp0"])
    for point in stage2["points"]:
        if point["value"] is None:  # lme4's PIRLS failed there
            continue
        value = dev(np.asarray(point["pars"], dtype=float))
        assert value == pytest.approx(point["value"], abs=1e-6, rel=1e-10)


@pytest.mark.parametrize("case", ["cbpp_laplace", "grouseticks", "sleep_gamma_log"])
def test_initial_pirls_gives_lme4s_starting_predictor(case: str) -> None:
    f = load(case)
    dev = _deviance(case)
    theta0 = np.atleast_1d(np.asarray(f["stage0"]["points"][0]["theta"], dtype=float))
    dev.initial_step(theta0)
    np.testing.assert_allclose(dev.lp0, f["stage0"]["lp0"], rtol=1e-8, atol=1e-10)


def test_laplace_value_is_aic_plus_penalty_plus_logdet() -> None:
    dev = _deviance("cbpp_laplace")
    stage2 = load("cbpp_laplace")["stage2"]
    dev.lp0 = np.asarray(stage2["lp0"])
    value = dev(np.asarray(stage2["points"][1]["pars"]))
    fit = dev.last
    assert fit is not None
    cmp = load("cbpp_laplace")["fit"]["cmp"]  # lme4's devcomp at its optimum
    assert fit.sqrL == pytest.approx(cmp["ussq"], rel=1e-9)
    assert fit.ldL2 == pytest.approx(cmp["ldL2"], rel=1e-9)
    assert float(np.sum(fit.dev_resids)) == pytest.approx(cmp["drsum"], rel=1e-9)
    assert value == pytest.approx(cmp["dev"], rel=1e-12)


def test_agq_with_one_node_is_laplace_without_constants() -> None:
    """nAGQ = 1 quadrature reduces to Σ devresid + ‖u‖² + log|L|² (lme4's AGQ constants)."""
    lap = _deviance("cbpp_laplace")
    agq = _deviance("cbpp_agq25")
    agq.rule = gh_rule(1)
    pars = np.asarray(load("cbpp_laplace")["stage2"]["points"][1]["pars"])
    lap.lp0 = agq.lp0 = np.asarray(load("cbpp_laplace")["stage2"]["lp0"])
    lap(pars)
    fit = lap.last
    assert fit is not None
    assert agq(pars) == pytest.approx(fit.pdev + fit.ldL2, rel=1e-12)


def test_gh_rule_is_normalised() -> None:
    rule = gh_rule(25)
    assert rule.w.sum() == pytest.approx(1.0, rel=1e-14)
    assert float(np.sum(rule.w * rule.z**2)) == pytest.approx(1.0, rel=1e-12)
    assert float(np.sum(rule.w * rule.z**4)) == pytest.approx(3.0, rel=1e-12)
    with pytest.raises(InterlaceError, match="between 1 and 100"):
        gh_rule(101)


def test_agq_refuses_several_terms() -> None:
    with pytest.raises(InterlaceError, match="single, scalar") as err:
        GlmmDeviance(pirls("grouseticks"), nAGQ=5)
    assert AGQ_SCALAR_MESSAGE in str(err.value)
