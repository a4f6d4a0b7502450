"""predict() against lme4 1.1-31's predict.merMod (fixtures/R/predict.R -> fixtures/predict/).

Two comparisons per case: the predictions of interlace's own fit (which agrees
with lme4's estimates to about 1e-10 for LMMs and 1e-5 for the cbpp GLMM), and
the predictions of the same fit with lme4's estimates (fixef, ranef) put in,
which isolate the prediction code from the optimiser: those agree to 1e-9.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import interlace
from interlace import datasets
from interlace.errors import InterlaceError, NewLevelError
from interlace.results.lmer_result import LmerResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "predict"
LMM_CASES = [
    "sleepstudy",
    "sleepstudy_poly",
    "cake",
    "cake_sum",
    "cake_scale",
    "cake_dropped",
    "penicillin",
]


def load(case: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{case}.json").read_text())


def training_data(fx: dict[str, Any]) -> pd.DataFrame:
    data = datasets.load(fx["dataset"])
    if fx["subset"]:
        data = data.iloc[np.asarray(fx["subset"]) - 1]
    return data


def fitted(case: str) -> tuple[dict[str, Any], LmerResult]:
    fx = load(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fx["call"].startswith("glmer"):
            fit: LmerResult = interlace.glmer(fx["formula"], training_data(fx), family="binomial")
        else:
            fit = interlace.lmer(fx["formula"], training_data(fx), contrasts=fx.get("contrasts"))
    return fx, fit


def with_r_estimates(fx: dict[str, Any], fit: LmerResult) -> LmerResult:
    """The fit with lme4's fixed effects and conditional modes put in."""
    beta = np.array([fx["fixef"][name] for name in fit.design.X_names])
    b = []
    for term in fit.design.terms:
        rec = fx["ranef"][term.group]
        cols = [rec["columns"]] if isinstance(rec["columns"], str) else rec["columns"]
        values = pd.DataFrame(np.asarray(rec["values"]).T, index=rec["levels"], columns=cols)
        b.append(values.loc[list(term.levels), list(term.names)].to_numpy())
    return dataclasses.replace(fit, beta=beta, b=tuple(b))


def expected(setting: dict[str, Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in setting["values"]], dtype=float)


def settings(fx: dict[str, Any]) -> list[tuple[pd.DataFrame | None, dict[str, Any]]]:
    newdata = pd.DataFrame(fx["newdata"])
    return [(newdata, s) for s in fx["predictions"]] + [(None, s) for s in fx["fitted"]]


def run(fit: LmerResult, newdata: pd.DataFrame | None, s: dict[str, Any]) -> np.ndarray:
    re_form = None if s["re_form"] == "NULL" else s["re_form"]
    out = fit.predict(
        newdata, re_form=re_form, allow_new_levels=s["allow_new_levels"], type=s["type"]
    )
    return out.to_numpy()


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=rtol)


@pytest.mark.parametrize("case", LMM_CASES)
def test_lmm_predictions_match_lme4(case: str) -> None:
    fx, fit = fitted(case)
    for newdata, s in settings(fx):
        assert_close(run(fit, newdata, s), expected(s), rtol=1e-6)


@pytest.mark.parametrize("case", [*LMM_CASES, "cbpp"])
def test_predictions_from_lme4_estimates_match_lme4(case: str) -> None:
    fx, fit = fitted(case)
    fit = with_r_estimates(fx, fit)
    for newdata, s in settings(fx):
        assert_close(run(fit, newdata, s), expected(s), rtol=1e-9)


def test_glmm_predictions_match_lme4_to_fit_accuracy() -> None:
    fx, fit = fitted("cbpp")
    for newdata, s in settings(fx):
        assert_close(run(fit, newdata, s), expected(s), rtol=5e-5)


def test_glmm_link_and_response_scales() -> None:
    fx, fit = fitted("cbpp")
    assert isinstance(fit, interlace.GlmerResult)
    newdata = pd.DataFrame(fx["newdata"])
    eta = fit.predict(newdata, allow_new_levels=True)
    mu = fit.predict(newdata, allow_new_levels=True, type="response")
    np.testing.assert_allclose(mu, 1.0 / (1.0 + np.exp(-eta)), rtol=1e-12)
    np.testing.assert_allclose(fit.predict(), fit.eta, rtol=1e-12)
    np.testing.assert_allclose(fit.predict(type="response"), fit.mu, rtol=1e-12)


def test_unseen_level_raises_naming_factor_and_level() -> None:
    fx, fit = fitted("sleepstudy")
    assert fx["errors"]["new_level"] == "new levels detected in newdata: 999"
    newdata = pd.DataFrame(fx["newdata"])
    with pytest.raises(NewLevelError, match=r"Subject: 999") as info:
        fit.predict(newdata)
    assert info.value.column == "Subject"
    # population-level predictions do not need the levels (nor the column)
    assert fit.predict(newdata.drop(columns="Subject"), re_form="NA").notna().sum() == 6


def test_missing_grouping_value_raises_unless_new_levels_allowed() -> None:
    fx, fit = fitted("sleepstudy")
    assert fx["errors"]["na_group"].startswith("NAs are not allowed")
    newdata = pd.DataFrame({"Days": [1.0], "Subject": [None]})
    with pytest.raises(NewLevelError, match="missing values in grouping factor Subject"):
        fit.predict(newdata)
    population = fit.predict(newdata, re_form="NA")
    np.testing.assert_allclose(fit.predict(newdata, allow_new_levels=True), population)


def test_new_level_of_a_fixed_factor_is_an_error() -> None:
    fx, fit = fitted("cake")
    assert fx["errors"]["new_fixed_level"]  # lme4 refuses it too
    newdata = pd.DataFrame({"recipe": ["C"], "temperature": ["175"], "replicate": ["1"]})
    with pytest.raises(NewLevelError, match=r"factor recipe has new level\(s\) C") as info:
        fit.predict(newdata, re_form="NA")
    assert info.value.column == "recipe"


def test_re_form_spellings_and_unknown_group() -> None:
    fx, fit = fitted("sleepstudy")
    newdata = pd.DataFrame(fx["newdata"])
    na = fit.predict(newdata, re_form="NA")
    for spelling in ("~0", "~ 0", " NA "):
        pd.testing.assert_series_equal(fit.predict(newdata, re_form=spelling), na)
    with pytest.raises(InterlaceError, match="grouping factor Herd"):
        fit.predict(newdata, re_form="~ (1 | Herd)")
    with pytest.raises(InterlaceError, match="type must be"):
        fit.predict(newdata, type="terms")


def test_newdata_is_not_modified_and_index_is_kept() -> None:
    fx, fit = fitted("cake")
    newdata = pd.DataFrame(fx["newdata"], index=["w", "x", "y", "z"])
    before = newdata.copy()
    out = fit.predict(newdata, allow_new_levels=True)
    pd.testing.assert_frame_equal(newdata, before)
    assert list(out.index) == ["w", "x", "y", "z"]


def test_se_fit_is_the_wald_standard_error_of_x_beta() -> None:
    _, fit = fitted("sleepstudy")
    newdata = pd.DataFrame({"Days": [0.0, 4.5, np.nan]})
    out = fit.predict(newdata, re_form="NA", se_fit=True)
    assert list(out.columns) == ["fit", "se.fit"]
    X = np.column_stack([np.ones(2), [0.0, 4.5]])
    V = fit.cov_params().to_numpy()
    np.testing.assert_allclose(out["se.fit"][:2], np.sqrt(np.diag(X @ V @ X.T)), rtol=1e-12)
    np.testing.assert_allclose(out["se.fit"].iloc[0], fit.bse["(Intercept)"], rtol=1e-12)
    assert np.isnan(out["se.fit"].iloc[2])
    with pytest.raises(InterlaceError, match="population-level"):
        fit.predict(newdata, se_fit=True)


def test_glmm_se_fit_on_response_scale_is_delta_method() -> None:
    _, fit = fitted("cbpp")
    newdata = pd.DataFrame({"period": ["1", "3"]})
    link = fit.predict(newdata, re_form="NA", se_fit=True)
    resp = fit.predict(newdata, re_form="NA", se_fit=True, type="response")
    mu = resp["fit"].to_numpy()
    np.testing.assert_allclose(resp["se.fit"], link["se.fit"] * mu * (1 - mu), rtol=1e-12)
