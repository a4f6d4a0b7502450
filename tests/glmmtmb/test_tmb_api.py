"""The glmmTMB façade: formula dialect, data handling, prediction on new data, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interlace import datasets
from interlace.api.glmmtmb import glmmTMB, glmmtmb_model
from interlace.errors import (
    DataDroppedWarning,
    FormulaError,
    NewLevelError,
    UnsupportedFeatureError,
)
from interlace.families import nbinom2

from .cases import fit


def test_double_bar_is_diag_in_glmmtmb_dialect() -> None:
    data = datasets.load("sleepstudy")
    bars = glmmtmb_model("Reaction ~ Days + (Days || Subject)", data)
    diag = glmmtmb_model("Reaction ~ Days + diag(Days | Subject)", data)
    assert [t.source for t in bars.design.terms] == [t.source for t in diag.design.terms]
    assert [c.n_theta for c in bars.data.covs] == [2]


def test_random_terms_keep_formula_order() -> None:
    """lme4 would put site (23 levels) first only by level count; glmmTMB keeps the order."""
    model = glmmtmb_model(
        "count ~ mined + (1 | spp) + (1 | site)", datasets.load("Salamanders"), family="poisson"
    )
    assert [t.group for t in model.design.terms] == ["spp", "site"]


def test_varcorr_layout_has_residual_row_for_gaussian_only() -> None:
    gaussian = fit("sleepstudy_us").varcorr()
    assert list(gaussian.columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert list(gaussian["grp"]) == ["Subject", "Subject", "Subject", "Residual"]
    assert gaussian["sdcor"].iloc[-1] == pytest.approx(fit("sleepstudy_us").sigma)
    counts = fit("cbpp_binomial").varcorr()
    assert list(counts["grp"]) == ["herd"]
    assert counts["sdcor"].iloc[0] ** 2 == pytest.approx(counts["vcov"].iloc[0])


def test_coef_adds_fixed_and_random_effects() -> None:
    res = fit("sleepstudy_us")
    coef = res.coef()["Subject"]
    expected = res.fe_params["Days"] + res.ranef()["Subject"]["Days"]
    np.testing.assert_allclose(coef["Days"].to_numpy(), expected.to_numpy())


def test_predict_on_new_data_matches_fitted_rows() -> None:
    res = fit("salamanders_zinb2")
    data = datasets.load("Salamanders")
    rows = data.iloc[[3, 10, 200, 640]]
    for kind in ("link", "response"):
        new = res.predict(rows, type=kind)
        old = res.predict(type=kind).to_numpy()[[3, 10, 200, 640]]
        np.testing.assert_allclose(new.to_numpy(), old, rtol=1e-12)
        assert list(new.index) == list(rows.index)


def test_predict_new_levels() -> None:
    res = fit("salamanders_zinb2")
    rows = datasets.load("Salamanders").iloc[[0, 1]].copy()
    rows["site"] = rows["site"].astype(str)
    rows.loc[rows.index[0], "site"] = "nowhere"
    with pytest.raises(NewLevelError, match="nowhere"):
        res.predict(rows)
    got = res.predict(rows, allow_new_levels=True)
    population = res.predict(rows, re_form="NA")
    assert got.iloc[0] == pytest.approx(population.iloc[0])
    assert got.iloc[1] != pytest.approx(population.iloc[1])


def test_rows_missing_in_the_zero_inflation_model_are_dropped() -> None:
    data = datasets.load("Salamanders")
    holes = data.copy()
    holes["cover"] = holes["cover"].astype(float)
    holes.loc[holes.index[:5], "cover"] = np.nan
    before = holes.copy()
    with pytest.warns(DataDroppedWarning, match="cover"):
        model = glmmtmb_model(
            "count ~ mined + (1 | site)", holes, family="poisson", ziformula="~cover"
        )
    assert any("cover" in message for message in model.fit_messages)
    assert model.data.n == len(data) - 5
    assert model.data.X_zi.shape == (len(data) - 5, 2)
    pd.testing.assert_frame_equal(holes, before)


def test_proportion_response_uses_weights_as_trials() -> None:
    cbpp = datasets.load("cbpp")
    prop = cbpp.assign(p=cbpp["incidence"] / cbpp["size"])
    model = glmmtmb_model("p ~ period + (1 | herd)", prop, family="binomial", weights="size")
    counts = glmmtmb_model(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp, family="binomial"
    )
    np.testing.assert_allclose(model.data.y, counts.data.y)
    np.testing.assert_allclose(model.data.size, counts.data.size)


def test_unsupported_covariance_structure_names_the_term() -> None:
    with pytest.raises((UnsupportedFeatureError, FormulaError), match="Days \\| Subject"):
        glmmTMB("Reaction ~ Days + ar1(Days | Subject)", datasets.load("sleepstudy"))


def test_random_effects_in_dispersion_model_are_refused() -> None:
    with pytest.raises(UnsupportedFeatureError, match="dispformula"):
        glmmtmb_model(
            "count ~ mined + (1 | site)",
            datasets.load("Salamanders"),
            family=nbinom2(),
            dispformula="~ (1 | site)",
        )


def test_zero_inflation_random_effects_layout_and_prediction_limits() -> None:
    res = fit("salamanders_zip_re")
    assert list(res.par.index) == ["beta"] * 2 + ["betazi"] * 2 + ["theta", "thetazi"]
    assert res.theta_zi.size == 1
    rows = datasets.load("Salamanders").iloc[[0, 1]]
    np.testing.assert_allclose(res.predict(rows).to_numpy(), res.predict().to_numpy()[:2])
    with pytest.raises(UnsupportedFeatureError, match="re_form='NA'"):
        res.predict(rows, type="response")
    population = res.predict(rows, type="response", re_form="NA")
    assert np.all(np.isfinite(population.to_numpy()))


def test_optimiser_record() -> None:
    res = fit("cbpp_binomial")
    assert res.optinfo.fmin == pytest.approx(-res.llf)
    assert res.optinfo.conv.gradient is not None
    assert np.max(np.abs(res.optinfo.conv.gradient)) < 1e-3
    assert list(res.par.index) == ["beta"] * 4 + ["theta"]
    assert not res.is_singular
