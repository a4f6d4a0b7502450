"""Round trip: R scripts of the corpus, translated and run in Python, give R's numbers.

The references come from ``fixtures/R/translate.R``, which runs the same scripts in R (live
when R is here, else the committed ``fixtures/translate/roundtrip.json``).

* Every fit a script leaves behind is compared with R's.  lmer: fixed effects (names, order,
  values), theta, sigma, log-likelihood.  glmer: family, link, nAGQ, fixed effects within
  1e-4 relative, theta within 1e-3, log-likelihood one-sided (interlace may find a better
  optimum than lme4, not a worse one by more than 1e-4).  glmer.nb: fixed effects and the
  negative binomial theta within 1e-3, log-likelihood within 5e-3 (lme4 reports that of its
  ``refit()``, not the Laplace log-likelihood at its estimates).  clmm (ordinal): beta and
  thresholds within 1e-4 relative, random-effect standard deviations within 1e-3,
  log-likelihood one-sided.  lme (nlme): fixed effects within 1e-4 relative, log-likelihood
  within 1e-6, the standard deviations of VarCorr, sigma and the correlation parameter within
  1e-3 (``tests/lme``'s tolerances), the method.  glmmTMB: family, link and REML flag,
  ``fixef(fit)$cond``, ``$zi`` and ``$disp`` within 1e-3 relative, θ (log standard deviations)
  and sigma within 1e-3, log-likelihood one-sided.
* Every value a script prints (its accessors: ``summary``, ``fixef``, ``ranef``, ...) is
  compared number by number with what R prints for the same line (``TOLERANCE``);
  ``simulate()`` draws by their shape, mean and standard deviation (R's random numbers are
  not numpy's: ``SIMULATION_TOLERANCE``).
* coxme is not installed in R here: every coxme fit is compared with ``survival::coxph`` on
  its fixed part (the partial log-likelihood at beta = 0, events and rows, recorded by the
  R script), and the fits that are one of the frozen coxme 2.2-22 reference models
  (``fixtures/coxme``) with those outputs; the values ``31_coxme_references.R`` prints
  (``fixef``/``coef``, ``VarCorr``, both ``logLik`` types, ``ranef``, ``predict`` of both
  types, deviance ``residuals``) with those outputs and with survival's numbers at coxme's
  estimates (``fixtures/coxme_predict``, ``fixtures/R/coxme_predict.R``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from .corpus_run import CORPUS, ROOT, run

_STORED = json.loads((ROOT / "fixtures" / "translate" / "roundtrip.json").read_text())
#: The corpus scripts fixtures/R/translate.R runs in R (its lists are the one source).
SCRIPTS = list(_STORED["scripts"])
COXME_SCRIPTS = list(_STORED["coxph"])
COXME_REFERENCE = {
    case["id"]: case
    for case in json.loads((ROOT / "fixtures" / "coxme" / "coxme_reference.json").read_text())[
        "cases"
    ]
}
#: coxme fits of the corpus that are frozen reference models: (script, name) -> case id.
COXME_MODELS = {
    ("11_coxme_kidney.R", "fit"): "kidney_frailty",
    ("11_coxme_kidney.R", "fit_lung"): "lung_inst",
    ("31_coxme_references.R", "lung_strata"): "lung_strata",
    ("31_coxme_references.R", "lung_breslow"): "lung_breslow",
    ("31_coxme_references.R", "cgd_counting"): "cgd_counting",
    ("31_coxme_references.R", "eortc_slope"): "eortc_slope",
}


@pytest.fixture(scope="module")
def reference(r_outputs: Callable[[str, str], Any]) -> dict[str, Any]:
    roundtrip: dict[str, Any] = r_outputs("translate.R", "translate")["roundtrip"]
    return roundtrip


# --------------------------------------------------------------------------- fitted models
def _named(values: dict[str, float], names: list[str]) -> np.ndarray:
    return np.array([values[k] for k in names])


def _check_lmer(name: str, fit: Any, expected: dict[str, Any]) -> None:
    want = _named(expected["fixef"], expected["fixef_names"])
    np.testing.assert_allclose(fit.fe_params.to_numpy(), want, rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
    assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-5), name
    assert fit.llf == pytest.approx(expected["logLik"], rel=1e-7, abs=1e-6), name
    assert fit.REML == expected["REML"], name


#: Fits whose fixed effects are not identified: ``incidence / size`` without weights is one
#: trial per row, R's binomial log-likelihood rounds the successes to 0 or 1, and no row of
#: periods 2-4 reaches a proportion of 1/2, so the likelihood keeps rising as those effects go
#: to -inf (quasi-complete separation).  lme4 stops near -35 to -330, interlace near -22; both
#: are at the supremum of the log-likelihood (to 1e-9), which is compared.
SEPARATED = {"gm_now": ("period2", "period3", "period4")}


def _check_glmer(name: str, fit: Any, expected: dict[str, Any]) -> None:
    assert (fit.family, fit.link, fit.nAGQ) == (
        expected["family"],
        expected["link"],
        expected["nAGQ"],
    ), name
    want = _named(expected["fixef"], expected["fixef_names"])
    got = fit.fe_params.to_numpy()
    if name in SEPARATED:
        separated = fit.fe_params.index.isin(SEPARATED[name])
        assert (got[separated] < -20).all() and (want[separated] < -20).all(), name
        got, want = got[~separated], want[~separated]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
    assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-5), name
    assert fit.llf >= expected["logLik"] - 1e-4, name
    assert fit.REML is False and expected["REML"] is False, name


def _check_glmer_nb(name: str, fit: Any, expected: dict[str, Any]) -> None:
    assert (fit.link, fit.nAGQ) == (expected["link"], expected["nAGQ"]), name
    want = _named(expected["fixef"], expected["fixef_names"])
    np.testing.assert_allclose(fit.fe_params.to_numpy(), want, rtol=1e-3, atol=1e-6, err_msg=name)
    assert fit.nb_theta == pytest.approx(expected["nb_theta"], rel=1e-3), name
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
    # lme4 reports the logLik of its refit(), not the Laplace log-likelihood at its own
    # estimates (tests/glmm/test_glmer_nb.py): within what the 1e-3 on theta allows
    assert fit.llf == pytest.approx(expected["logLik"], abs=5e-3), name


def _check_clmm(name: str, fit: Any, expected: dict[str, Any]) -> None:
    assert list(fit.thresholds.index) == list(expected["alpha_names"]), name
    assert (fit.link, fit.threshold, fit.nAGQ) == (
        expected["link"],
        expected["threshold"],
        expected["nAGQ"],
    ), name
    want = _named(expected["beta"], expected["beta_names"])
    np.testing.assert_allclose(fit.fe_params.to_numpy(), want, rtol=1e-4, atol=1e-6, err_msg=name)
    alpha = _named(expected["alpha"], expected["alpha_names"])
    np.testing.assert_allclose(fit.thresholds.to_numpy(), alpha, rtol=1e-4, atol=1e-6, err_msg=name)
    sd = [float(block[0, 0]) for block in fit.ST.values()]
    np.testing.assert_allclose(sd, expected["st"], rtol=1e-3, atol=1e-5, err_msg=name)
    assert fit.llf >= expected["logLik"] - 1e-4, name


def _check_lme(name: str, fit: Any, expected: dict[str, Any]) -> None:
    want = _named(expected["fixef"], expected["fixef_names"])
    np.testing.assert_allclose(fit.fe_params.to_numpy(), want, rtol=1e-4, atol=1e-6, err_msg=name)
    assert fit.llf == pytest.approx(expected["logLik"], abs=1e-6), name
    assert fit.method == expected["method"], name
    np.testing.assert_allclose(_lme_sd(fit.varcorr()), expected["sd"], rtol=1e-3, err_msg=name)
    assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-3), name
    np.testing.assert_allclose(
        fit.correlation_params.to_numpy(), expected["correlation"], rtol=1e-3, atol=1e-4
    )


def _lme_sd(varcorr: pd.DataFrame) -> np.ndarray:
    """nlme's VarCorr StdDev column: the standard deviations of ``varcorr()``, in its order."""
    return varcorr.loc[varcorr["var2"].isna(), "sdcor"].to_numpy(dtype=float)


def _check_glmmtmb(name: str, fit: Any, expected: dict[str, Any]) -> None:
    assert (fit.family, fit.link, fit.REML) == (
        expected["family"],
        expected["link"],
        expected["REML"],
    ), name
    want = _named(expected["fixef"], expected["fixef_names"])
    np.testing.assert_allclose(fit.fe_params.to_numpy(), want, rtol=1e-3, atol=1e-6, err_msg=name)
    for part, values in (("zi", fit.zi_params), ("disp", fit.disp_params)):
        assert list(values.index) == list(expected[f"{part}_names"]), name
        np.testing.assert_allclose(
            values.to_numpy(), expected[part], rtol=1e-3, atol=1e-6, err_msg=f"{name} {part}"
        )
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
    assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-3), name
    assert fit.llf >= expected["logLik"] - 1e-4, name


CHECKS: dict[str, tuple[str, Callable[[str, Any, dict[str, Any]], None]]] = {
    "lmer": ("LmerResult", _check_lmer),
    "glmer": ("GlmerResult", _check_glmer),
    "glmer.nb": ("GlmerResult", _check_glmer_nb),
    "clmm": ("ClmmResult", _check_clmm),
    "lme": ("LmeResult", _check_lme),
    "glmmTMB": ("GlmmTMBResult", _check_glmmtmb),
}


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_script_fits_reproduce_r(script: str, reference: dict[str, Any]) -> None:
    fits = reference["scripts"][script]
    assert fits, f"R left no model fit in {script}"
    namespace = run(script).namespace
    for name, expected in fits.items():
        fit = namespace[name]
        result_class, check = CHECKS[expected["fun"]]
        assert type(fit).__name__ == result_class, name
        names = expected.get("fixef_names", expected.get("beta_names"))
        assert list(fit.fe_params.index) == list(names), name
        check(name, fit, expected)
        assert fit.nobs == expected["nobs"], name


# --------------------------------------------------------------------------- printed values
def _frame_numbers(value: Any) -> np.ndarray:
    """A table's numeric (and logical) columns, column by column, as R's side reads them."""
    frame = pd.DataFrame(value)
    columns = [
        frame[c].to_numpy(dtype=float, na_value=np.nan)
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    return np.concatenate(columns) if columns else np.array([])


def python_numbers(r_class: str, value: Any) -> np.ndarray:
    """The numbers of a printed Python value, in the order ``translate.R``'s numbers() has."""
    if r_class == "summary.clmm":
        return _frame_numbers(pd.concat([value.threshold_coefficients, value.coefficients]))
    if r_class == "summary.glmmTMB":  # the tables of cond, zi (and disp), in turn
        return np.concatenate([_frame_numbers(t) for t in value.coefficients.values()])
    if r_class == "fixef.glmmTMB":  # {"cond": ..., "zi": ..., "disp": ...}
        return np.concatenate([np.asarray(v, dtype=float) for v in value.values()])
    if r_class == "summary.lme":
        return _frame_numbers(value.tTable)
    if r_class == "VarCorr.lme":
        return _lme_sd(value)
    if r_class.startswith("summary.") and not isinstance(value, pd.DataFrame):
        return _frame_numbers(value.coefficients)  # lmerTest's summary is the coef_table
    if r_class == "lmerMod":  # print(fit)
        return np.concatenate([value.fe_params.to_numpy(), value.varcorr()["sdcor"].to_numpy()])
    if r_class in ("VarCorr.merMod", "list"):  # lme4's and ordinal's VarCorr
        return value["sdcor"].to_numpy(dtype=float)
    if r_class in ("ranef.mer", "coef.mer", "ranef.lme"):
        return np.concatenate([_frame_numbers(frame) for frame in value.values()])
    if isinstance(value, pd.DataFrame):
        return _frame_numbers(value)
    return np.atleast_1d(np.asarray(value, dtype=float)).ravel()


#: simulate(): the mean of the draws within 1% of R's, their standard deviation within 10%
#: (statistical agreement: R's and numpy's random numbers differ).
SIMULATION_TOLERANCE = 1e-2

#: Relative tolerance (of the largest number of the value) per script; glmer and clmm
#: estimates agree with R's to about 1e-4, their standard errors and tests to about 1e-3.
TOLERANCE = 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_script_prints_r_numbers(script: str, reference: dict[str, Any]) -> None:
    expected = reference["printed"][script]
    done = run(script)
    failed_in_r = [e for e in expected if "error" in e]
    shown = [e for e in expected if "error" not in e]
    assert done.untranslated == len(failed_in_r), [e["call"] for e in failed_in_r]
    assert len(done.printed) == len(shown), [e["call"] for e in shown]
    for want, got in zip(shown, done.printed, strict=True):
        if want.get("dim") is not None:  # simulate(): R's draws are not numpy's
            assert np.shape(got) == tuple(want["dim"]), want["call"]
            draws = np.asarray(got, dtype=float).ravel()
            mean, sd = want["numbers"]
            # 6000 draws of Dyestuff: the two means differ by about 2 (sd of the difference),
            # the standard deviations (about 65) by about 1.5
            assert draws.mean() == pytest.approx(mean, rel=SIMULATION_TOLERANCE), want["call"]
            assert draws.std(ddof=1) == pytest.approx(sd, rel=10 * SIMULATION_TOLERANCE)
            continue
        numbers = python_numbers(want["class"], got)
        values = np.array([np.nan if v is None else v for v in want["numbers"]], dtype=float)
        assert numbers.shape == values.shape, want["call"]
        if want["class"] == "summary.clmm":
            # ordinal's table has z tests of the thresholds (not printed); interlace's
            # threshold rows leave them empty
            values = np.where(np.isnan(numbers), np.nan, values)
        scale = np.nanmax(np.abs(values)) if np.isfinite(values).any() else 1.0
        np.testing.assert_allclose(
            numbers, values, rtol=TOLERANCE, atol=TOLERANCE * scale, err_msg=want["call"]
        )


# --------------------------------------------------------------------------- coxme
@pytest.mark.slow
@pytest.mark.parametrize("script", COXME_SCRIPTS)
def test_coxme_fixed_part_matches_coxph(script: str, reference: dict[str, Any]) -> None:
    namespace = run(script).namespace
    for name, expected in reference["coxph"][script].items():
        fit = namespace[name]
        assert type(fit).__name__ == "CoxmeResult", name
        assert fit.n == (expected["nevent"], expected["n"]), name
        assert fit.llf_null == pytest.approx(expected["null_logLik"], rel=1e-9), name


@pytest.mark.slow
@pytest.mark.parametrize(("script", "name"), sorted(COXME_MODELS))
def test_coxme_fit_matches_coxme_reference(script: str, name: str) -> None:
    case = COXME_REFERENCE[COXME_MODELS[script, name]]
    fit = run(script).namespace[name]
    coef = pd.Series(case["coef"])
    np.testing.assert_allclose(fit.fe_params[coef.index], coef, rtol=1e-4, atol=1e-6)
    se = pd.Series(case["se"])
    np.testing.assert_allclose(fit.bse[se.index], se, rtol=1e-3)
    assert list(fit.n) == case["n"]
    assert fit.llf_null == pytest.approx(case["loglik"]["null"], rel=1e-9)
    assert fit.llf == pytest.approx(case["loglik"]["integrated"], abs=1e-4)
    assert fit.llf_penalized == pytest.approx(case["loglik"]["penalized"], abs=1e-3)


#: survival's numbers at coxme's estimates (fixtures/R/coxme_predict.R), by case id.
COXME_PREDICT = json.loads((ROOT / "fixtures" / "coxme_predict" / "cases.json").read_text())[
    "cases"
]


def _ranef_in(levels: list[Any], value: dict[str, pd.DataFrame]) -> np.ndarray:
    (frame,) = value.values()
    effects = frame.iloc[:, 0]
    effects.index = [str(level) for level in effects.index]
    return effects[[str(level) for level in levels]].to_numpy()


@pytest.mark.slow
def test_coxme_printed_values_match_references() -> None:
    printed = run("31_coxme_references.R").printed
    eortc, strata = COXME_REFERENCE["eortc_slope"], COXME_REFERENCE["lung_strata"]
    cgd, breslow = COXME_REFERENCE["cgd_counting"], COXME_REFERENCE["lung_breslow"]
    survival = COXME_PREDICT["lung_breslow"]
    assert len(printed) == 9
    fixef, varcorr, integrated, coef, loglik, ranef, lp, risk, deviance = printed
    np.testing.assert_allclose(fixef[list(eortc["coef"])], list(eortc["coef"].values()), rtol=1e-4)
    np.testing.assert_allclose(varcorr["vcov"], list(strata["varcorr"].values()), rtol=1e-3)
    assert integrated == pytest.approx(cgd["loglik"]["integrated"], abs=1e-4)
    np.testing.assert_allclose(coef[list(breslow["coef"])], list(breslow["coef"].values()), 1e-4)
    assert loglik == pytest.approx(survival["loglik"], abs=1e-4)  # coxme's "Fitted"
    np.testing.assert_allclose(
        _ranef_in(survival["levels"], ranef), survival["ranef"], rtol=0, atol=2e-5
    )
    assert len(lp) == len(survival["lp"]) == len(deviance)
    np.testing.assert_allclose(lp, survival["lp"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(risk, np.exp(survival["lp"]), rtol=1e-4)
    np.testing.assert_allclose(deviance, survival["deviance"], rtol=0, atol=1e-5)


# --------------------------------------------------------------------------- coverage
def test_stored_and_live_r_cover_the_same_scripts(reference: dict[str, Any]) -> None:
    assert list(reference["scripts"]) == SCRIPTS
    assert list(reference["printed"]) == SCRIPTS
    assert list(reference["coxph"]) == COXME_SCRIPTS


def test_every_fitter_is_in_the_round_trip(reference: dict[str, Any]) -> None:
    fits = [fit for fits in reference["scripts"].values() for fit in fits.values()]
    funs = [fit["fun"] for fit in fits]
    assert {f: funs.count(f) for f in set(funs)} == {
        "lmer": 30,
        "glmer": 9,
        "glmer.nb": 1,
        "clmm": 5,
        "lme": 9,
        "glmmTMB": 4,
    }
    lme = [f for f in fits if f["fun"] == "lme"]
    assert {f["method"] for f in lme} == {"REML", "ML"}
    assert sum(len(f["correlation"]) for f in lme) == 5  # corAR1 x3, corCAR1, corCompSymm
    glmer = [f for f in fits if f["fun"] == "glmer"]
    assert {f["link"] for f in glmer} == {"logit", "probit", "log"}
    assert {f["nAGQ"] for f in glmer} == {0, 1, 10}
    assert {(f["link"], f["threshold"], f["nAGQ"]) for f in fits if f["fun"] == "clmm"} == {
        ("logit", "flexible", 1),
        ("probit", "equidistant", 5),
        ("probit", "equidistant", 1),
        ("logit", "symmetric", 1),
    }
    coxme = [name for fits in reference["coxph"].values() for name in fits]
    assert len(coxme) == 9


#: The accessors of issue 5, and the R function each appears as in the printed values.
ACCESSORS = (
    "summary",
    "fixef",
    "ranef",
    "VarCorr",
    "coef",
    "predict",
    "anova",
    "confint",
    "logLik",
    "AIC",
    "BIC",
    "sigma",
    "vcov",
    "fitted",
    "residuals",
    "simulate",
    "isSingular",
)


def test_every_accessor_is_compared_with_r(reference: dict[str, Any]) -> None:
    calls = [e["call"] for printed in reference["printed"].values() for e in printed]
    for accessor in ACCESSORS:
        assert any(accessor + "(" in call for call in calls), accessor
    # print(fit): recorded under the printed object's name, an lmerMod
    assert any(
        e.get("class") == "lmerMod" for printed in reference["printed"].values() for e in printed
    )
    # update(fm, . ~ . - x): its fit is compared as a model of the script
    updates = {"02_sleepstudy_ml_update.R": "fm_null", "21_pastes_nested.R": "fm_batch"}
    for script, name in updates.items():
        assert "- " in next(
            line for line in (CORPUS / script).read_text().splitlines() if name + " <-" in line
        )
        assert name in reference["scripts"][script]
