"""``interlace.translate.r`` (fit one pasted call) and the ``translate`` subcommand."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import interlace
from interlace import datasets
from interlace.errors import InterlaceWarning, TranslationWarning
from interlace.translate import FitterUnavailableError, TranslationError, r
from interlace.translate.cli import add_subparser, run

HAS_LMER = importlib.util.find_spec("interlace.api.lmer") is not None


@pytest.mark.skipif(not HAS_LMER, reason="interlace.lmer is not available")
def test_r_fits_the_pasted_call_like_lmer() -> None:
    from interlace.api.lmer import lmer

    sleep = datasets.load("sleepstudy")
    fit = r(
        "library(lme4)\nfm1 <- lmer(Reaction ~ Days + (Days | Subject), data = sleep.data,"
        " REML = FALSE)",
        **{"sleep.data": sleep},
    )
    direct = lmer("Reaction ~ Days + (Days | Subject)", sleep, REML=False)
    assert list(fit.fe_params.index) == ["(Intercept)", "Days"]
    np.testing.assert_allclose(fit.fe_params, direct.fe_params, rtol=1e-10)
    assert fit.REML is False


def test_r_fits_glmer_calls_as_lme4(r_outputs: Callable[[str, str], Any]) -> None:
    """The pasted probit call of corpus script 05 gives lme4's fit (fixtures/R/translate.R)."""
    scripts = r_outputs("translate.R", "translate")["roundtrip"]["scripts"]
    expected = scripts["05_cbpp_glmer.R"]["gm_probit"]
    fit = r(
        "gm_probit <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),\n"
        '                   data = cbpp, family = binomial(link = "probit"))'
    )
    assert type(fit).__name__ == "GlmerResult"
    assert (fit.family, fit.link, fit.nAGQ) == ("binomial", "probit", 1)
    want = [expected["fixef"][k] for k in expected["fixef_names"]]
    assert list(fit.fe_params.index) == expected["fixef_names"]
    np.testing.assert_allclose(fit.fe_params, want, rtol=1e-4)
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3)
    assert fit.llf >= expected["logLik"] - 1e-4


def test_r_fits_lme_calls_as_nlme(r_outputs: Callable[[str, str], Any]) -> None:
    """Pasted nlme calls of corpus scripts 32 and 26 give nlme's fits (fixtures/R/translate.R):
    a pdDiag list, and random slopes with a continuous-time AR(1) correlation by ML."""
    scripts = r_outputs("translate.R", "translate")["roundtrip"]["scripts"]
    calls = {
        ("32_lme_accessors.R", "fm_diag"): "library(nlme)\nfm_diag <- lme(distance ~ age, "
        "data = Orthodont, random = list(Subject = pdDiag(~ age)), method = 'ML')",
        ("26_bodyweight_lme.R", "fm_bw"): "lme(weight ~ Time * Diet, data = BodyWeight, "
        "random = ~ Time | Rat, correlation = corCAR1(form = ~ Time | Rat), method = 'ML')",
    }
    for (script, name), code in calls.items():
        expected = scripts[script][name]
        fit = r(code)
        assert type(fit).__name__ == "LmeResult"
        assert fit.method == "ML"
        assert list(fit.fe_params.index) == expected["fixef_names"]
        want = [expected["fixef"][k] for k in expected["fixef_names"]]
        np.testing.assert_allclose(fit.fe_params, want, rtol=1e-4)
        assert fit.llf == pytest.approx(expected["logLik"], abs=1e-6)
        np.testing.assert_allclose(fit.correlation_params, expected["correlation"], rtol=1e-3)


def test_r_fits_coxme_calls() -> None:
    """A pasted coxme call with lung's 1/2 status is recoded as R's Surv() reads it; the fit
    is the frozen coxme 2.2-22 reference fit (fixtures/coxme)."""
    reference = json.loads(
        (Path(__file__).parents[2] / "fixtures" / "coxme" / "coxme_reference.json").read_text()
    )
    case = next(c for c in reference["cases"] if c["id"] == "lung_breslow")
    with pytest.warns(InterlaceWarning, match="2 of 228 rows dropped"):  # as R's na.omit
        fit = r('coxme(Surv(time, status) ~ ph.ecog + age + (1 | inst), lung, ties = "breslow")')
    assert list(fit.n) == case["n"]
    np.testing.assert_allclose(fit.fe_params[list(case["coef"])], list(case["coef"].values()), 1e-4)
    assert fit.llf == pytest.approx(case["loglik"]["integrated"], abs=1e-4)


def test_r_fits_glmer_with_a_string_family_and_quadrature() -> None:
    cbpp = datasets.load("cbpp")
    fit = r(
        'glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), d, "binomial", nAGQ = 5)',
        d=cbpp,
    )
    assert (fit.family, fit.link, fit.nAGQ) == ("binomial", "logit", 5)


@pytest.mark.skipif(not HAS_LMER, reason="interlace.lmer is not available")
def test_r_uses_bundled_data_and_never_modifies_frames() -> None:
    fit = r("lmer(Yield ~ 1 + (1 | Batch), Dyestuff)")
    assert list(fit.fe_params.index) == ["(Intercept)"]
    sleep = datasets.load("sleepstudy")
    before = sleep.copy()
    fit = r(
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, subset = Days > 2 & !is.na(Days))",
        sleepstudy=sleep,
    )
    assert fit.nobs == 18 * 7
    pd.testing.assert_frame_equal(sleep, before)


@pytest.mark.skipif(not HAS_LMER, reason="interlace.lmer is not available")
def test_r_names_a_missing_frame() -> None:
    with pytest.raises(TranslationError, match=r"uses 'my\.data'") as info:
        r("lmer(Reaction ~ Days + (1 | Subject), data = my.data)")
    assert info.value.location.column == 46


@pytest.mark.skipif(not HAS_LMER, reason="interlace.lmer is not available")
def test_r_warns_and_refuses_like_translate() -> None:
    sleep = datasets.load("sleepstudy")
    with pytest.warns(TranslationWarning, match=r"<r>:1:10: in a formula R reads Days\^2"):
        fit = r("lmer(y ~ Days^2 + (1 | Subject), d)", d=sleep.rename(columns={"Reaction": "y"}))
    assert list(fit.fe_params.index) == ["(Intercept)", "Days"]  # R's reading: just Days
    with pytest.raises(TranslationError, match="devFunOnly"):
        r("lmer(Reaction ~ Days + (1 | Subject), sleep, devFunOnly = TRUE)", sleep=sleep)


def test_r_refuses_scripts_and_other_code() -> None:
    with pytest.raises(TranslationError, match="exactly one model call"):
        r("a <- lmer(y ~ 1 + (1 | g), d)\nb <- lmer(y ~ 1 + (1 | g), d)", d=pd.DataFrame())
    with pytest.raises(TranslationError, match="evaluates one model call"):
        r("summary(fm)")


_FIXTURES = Path(__file__).parents[2] / "fixtures"


def _r_fits(script: str) -> dict[str, Any]:
    """R's fits of a corpus script (fixtures/R/translate.R)."""
    stored = json.loads((_FIXTURES / "translate" / "roundtrip.json").read_text())
    fits: dict[str, Any] = stored["scripts"][script]
    return fits


def test_r_fits_a_pasted_clmm_call_as_ordinal() -> None:
    fit = r(
        "library(ordinal)\nfm <- clmm(rating ~ temp + contact + (1 | judge), data = wine)",
        wine=datasets.load("wine"),
    )
    want = _r_fits("10_wine_clmm.R")["fm_clmm"]
    assert type(fit).__name__ == "ClmmResult"
    np.testing.assert_allclose(fit.fe_params, list(want["beta"].values()), rtol=1e-4)
    np.testing.assert_allclose(fit.thresholds, list(want["alpha"].values()), rtol=1e-4)
    assert fit.llf >= want["logLik"] - 1e-4


def test_r_fits_a_pasted_glmer_nb_call_as_lme4() -> None:
    fit = r("glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | BROOD), data = grouseticks)")
    want = _r_fits("07_grouseticks_counts.R")["gnb"]
    assert type(fit).__name__ == "GlmerResult"
    np.testing.assert_allclose(fit.fe_params, list(want["fixef"].values()), rtol=1e-3)
    assert fit.nb_theta == pytest.approx(want["nb_theta"], rel=1e-3)


def test_r_fits_a_pasted_coxme_call_with_rs_surv_status_codes() -> None:
    """survival::lung codes its status 1/2; the pasted call is read as R's Surv() reads it."""
    reference = json.loads((_FIXTURES / "coxme" / "coxme_reference.json").read_text())
    case = next(c for c in reference["cases"] if c["id"] == "lung_inst")
    lung = datasets.load("lung")
    before = lung.copy()
    with pytest.warns(InterlaceWarning, match="2 of 228 rows dropped"):  # as R's na.omit
        fit = r(case["code"], lung=lung)
    assert type(fit).__name__ == "CoxmeResult"
    np.testing.assert_allclose(
        fit.fe_params[list(case["coef"])], list(case["coef"].values()), rtol=1e-4
    )
    assert list(fit.n) == case["n"]
    assert fit.llf == pytest.approx(case["loglik"]["integrated"], abs=1e-4)
    pd.testing.assert_frame_equal(lung, before)
    # coxme's random slope without an implicit intercept: one variance per group
    with pytest.warns(InterlaceWarning, match="1 of 228 rows dropped"):
        slope = r("coxme(Surv(time, status) ~ age + (age | inst), data = lung)", lung=lung)
    assert list(slope.varcorr()["var1"]) == ["age"]


@pytest.mark.parametrize(
    "call",
    [
        "glmmTMB(y ~ x + (1 | g), d, family = poisson)",
        "lme(y ~ x, d, random = ~ 1 | g)",
    ],
)
def test_r_reports_fitters_that_do_not_exist_yet(
    call: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as in an interlace without this fitter (the fitters are being written)
    name = call.split("(")[0]
    monkeypatch.delattr(interlace, name, raising=False)
    monkeypatch.setitem(sys.modules, f"interlace.api.{name}", None)  # import fails
    with pytest.raises(FitterUnavailableError, match=f"interlace.{name}"):
        r(call, d=pd.DataFrame({"y": [1.0], "x": [1.0], "g": ["a"]}))
    assert issubclass(FitterUnavailableError, NotImplementedError)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="interlace")
    sub = parser.add_subparsers(dest="command", required=True)
    add_subparser(sub)
    return parser.parse_args(["translate", *argv])


def test_cli_writes_the_translation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "analysis.R"
    script.write_text("library(lme4)\nfm <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)\n")
    out = tmp_path / "analysis.py"
    args = _args(str(script), "-o", str(out))
    assert args.handler(args) == 0
    text = out.read_text()
    assert 'fm = interlace.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)' in text
    assert run(_args(str(script))) == 0
    assert capsys.readouterr().out == text


def test_cli_errors_and_lenient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "loop.R"
    script.write_text("x <- 1\nfor (i in 1:2) print(i)\n")
    assert run(_args(str(script))) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"interlace: error: {script}:2:1: for loops are not translated")
    assert run(_args(str(script), "--lenient")) == 0
    captured = capsys.readouterr()
    assert "# interlace: untranslated:" in captured.out
    assert "interlace: warning:" in captured.err
    assert run(_args(str(tmp_path / "missing.R"))) == 1
    assert "cannot read" in capsys.readouterr().err
