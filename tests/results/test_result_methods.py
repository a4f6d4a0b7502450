"""The inference methods of fitted results (API.md: coef_table, pvalues, anova, confint).

LMM methods delegate to :mod:`interlace.inference` (tested against lmerTest, pbkrtest
and lme4 in tests/inference); here: the delegation, and the GLMM versions against lme4
(fixtures/glmm_inference, written by fixtures/R/glmm_inference.R).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interlace
from interlace import inference

FIXTURE = Path(__file__).parents[2] / "fixtures" / "glmm_inference" / "cbpp.json"


@pytest.fixture(scope="module")
def sleep_fits() -> tuple[interlace.LmerResult, interlace.LmerResult]:
    data = interlace.datasets.load("sleepstudy")
    return (
        interlace.lmer("Reaction ~ Days + (Days | Subject)", data),
        interlace.lmer("Reaction ~ 1 + (Days | Subject)", data),
    )


@pytest.fixture(scope="module")
def cbpp_fits() -> tuple[interlace.GlmerResult, interlace.GlmerResult]:
    data = interlace.datasets.load("cbpp")
    fit = "cbind(incidence, size - incidence) ~ {} + (1 | herd)"
    return (
        interlace.glmer(fit.format("period"), data, family="binomial"),
        interlace.glmer(fit.format("1"), data, family="binomial"),
    )


def test_lmer_methods_are_the_inference_functions(
    sleep_fits: tuple[interlace.LmerResult, interlace.LmerResult],
) -> None:
    m1, m0 = sleep_fits
    for ddf in ("satterthwaite", "kenward-roger", "none"):
        pd.testing.assert_frame_equal(m1.coef_table(ddf), inference.coef_table(m1, ddf=ddf))
    pd.testing.assert_series_equal(m1.pvalues, m1.coef_table()["Pr(>|t|)"], check_names=False)
    pd.testing.assert_frame_equal(m1.anova(), inference.anova_table(m1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", inference.RefitWarning)
        pd.testing.assert_frame_equal(m1.anova(m0), inference.lrt(m1, m0))
    pd.testing.assert_frame_equal(m1.confint(), inference.confint(m1))
    assert list(m1.confint().index[:4]) == [".sig01", ".sig02", ".sig03", ".sigma"]


def test_glmer_lrt_matches_lme4(
    cbpp_fits: tuple[interlace.GlmerResult, interlace.GlmerResult],
) -> None:
    ref = json.loads(FIXTURE.read_text())["anova"]
    g1, g0 = cbpp_fits
    table = g1.anova(g0)
    assert list(table["npar"]) == ref["npar"]
    np.testing.assert_allclose(table["logLik"], ref["logLik"], rtol=1e-6)
    np.testing.assert_allclose(table["AIC"], ref["AIC"], rtol=1e-6)
    np.testing.assert_allclose(table["Chisq"].iloc[1], ref["Chisq"][1], rtol=1e-4)
    np.testing.assert_allclose(table["Pr(>Chisq)"].iloc[1], ref["p"][1], rtol=1e-3)


def test_glmer_wald_intervals_match_lme4(
    cbpp_fits: tuple[interlace.GlmerResult, interlace.GlmerResult],
) -> None:
    ref = json.loads(FIXTURE.read_text())["confint"]
    ci = cbpp_fits[0].confint()
    assert list(ci.index) == ref["rows"]  # no .sigma row: binomial has no scale
    assert ci.iloc[0].isna().all()
    np.testing.assert_allclose(ci.iloc[1:, 0], ref["lower"][1:], rtol=1e-4)
    np.testing.assert_allclose(ci.iloc[1:, 1], ref["upper"][1:], rtol=1e-4)


def test_glmer_coef_table_is_lme4s_z_table(
    cbpp_fits: tuple[interlace.GlmerResult, interlace.GlmerResult],
) -> None:
    table = cbpp_fits[0].coef_table()
    assert list(table.columns) == ["Estimate", "Std. Error", "z value", "Pr(>|z|)"]
    pd.testing.assert_series_equal(table["Pr(>|z|)"], cbpp_fits[0].pvalues, check_names=False)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda g: g.coef_table("satterthwaite"), "linear mixed models only"),
        (lambda g: g.anova(), "not defined for a GLMM"),
        (lambda g: g.confint("profile"), "not available for GLMMs"),
    ],
)
def test_glmer_refuses_lmm_only_inference(
    cbpp_fits: tuple[interlace.GlmerResult, interlace.GlmerResult],
    call: Callable[[interlace.GlmerResult], object],
    needle: str,
) -> None:
    with pytest.raises(interlace.InterlaceError, match=needle):
        call(cbpp_fits[0])
