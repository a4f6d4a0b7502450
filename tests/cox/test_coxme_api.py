"""coxme's façade: input checks, result accessors and the design of random terms."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from cox_data import dataset, fitted, predict_reference
from scipy import stats

from interlace.api.coxme import CoxmeControlError, coxme
from interlace.cox.design import coxme_design
from interlace.errors import (
    FormulaError,
    GroupingError,
    InterlaceError,
    ResponseDomainError,
    ResponseTypeError,
    WeightsError,
)

KIDNEY = "Surv(time, status) ~ age + sex + (1 | id)"


def test_status_coded_1_2_is_refused_naming_rows() -> None:
    lung = dataset("lung")
    with pytest.raises(ResponseDomainError, match="0/1 or logical") as err:
        coxme("Surv(time, status) ~ age + (1 | inst)", lung)
    assert err.value.rows is not None
    assert err.value.rows[:3] == list(lung.index[lung["status"] == 2][:3])
    assert err.value.column == "Surv(time, status)"
    assert err.value.remedy is not None and "status == 2" in err.value.remedy


def test_status_0_1_2_is_refused() -> None:
    kidney = dataset("kidney").copy()
    kidney.loc[[4, 9], "status"] = 2
    with pytest.raises(ResponseDomainError) as err:
        coxme(KIDNEY, kidney)
    assert err.value.rows == [4, 9]


def test_logical_status_is_accepted() -> None:
    kidney = dataset("kidney").assign(event=lambda d: d["status"] == 1)
    fit = coxme("Surv(time, event) ~ age + sex + (1 | id)", kidney)
    reference = coxme(KIDNEY, dataset("kidney"))
    np.testing.assert_allclose(fit.fe_params, reference.fe_params, rtol=1e-12)


def test_start_not_before_stop_is_refused() -> None:
    cgd = dataset("cgd").copy()
    cgd.loc[2, "tstart"] = float(cgd["tstop"].iloc[2])
    with pytest.raises(ResponseDomainError, match="start time") as err:
        coxme("Surv(tstart, tstop, status) ~ treat + (1 | id)", cgd)
    assert err.value.rows == [2]
    assert err.value.column == "Surv(tstart, tstop, status)"
    assert err.value.remedy is not None and "(start, stop]" in err.value.remedy
    assert isinstance(err.value, ValueError)


def test_no_events_is_refused() -> None:
    kidney = dataset("kidney").assign(status=0)
    with pytest.raises(ResponseDomainError, match="no events") as err:
        coxme(KIDNEY, kidney)
    assert err.value.column == "Surv(time, status)"
    assert err.value.remedy is not None


def test_single_level_cluster_is_refused() -> None:
    kidney = dataset("kidney").assign(one=1)
    with pytest.raises(GroupingError, match="single level") as err:
        coxme("Surv(time, status) ~ age + (1 | one)", kidney)
    assert err.value.column == "one"
    assert err.value.remedy is not None and "two groups" in err.value.remedy
    # the outer part of a nested term is checked too
    with pytest.raises(GroupingError, match="grouping factor one of"):
        coxme("Surv(time, status) ~ age + (1 | one/id)", kidney)


def test_response_must_be_surv() -> None:
    with pytest.raises(ResponseTypeError, match="Surv"):
        coxme("time ~ age + (1 | id)", dataset("kidney"))


def test_weights_must_be_positive() -> None:
    kidney = dataset("kidney")
    w = np.ones(len(kidney))
    w[5] = 0.0
    with pytest.raises(WeightsError) as err:
        coxme(KIDNEY, kidney, weights=w)
    assert err.value.rows == [5]


def test_unknown_control_and_ties_are_refused() -> None:
    with pytest.raises(CoxmeControlError, match="unknown"):
        coxme(KIDNEY, dataset("kidney"), control={"reltol": 1e-8})
    with pytest.raises(CoxmeControlError, match="ties"):
        coxme(KIDNEY, dataset("kidney"), ties="exact")  # type: ignore[arg-type]


def test_unsupported_random_term_is_refused() -> None:
    eortc = dataset("eortc").assign(z=lambda d: d["y"] / 1000)
    with pytest.raises(FormulaError, match="supported"):
        coxme("Surv(y, uncens) ~ trt + (1 + trt + z | center)", eortc)


def test_data_not_modified() -> None:
    kidney = dataset("kidney")
    before = kidney.copy()
    coxme(KIDNEY, kidney)
    pd.testing.assert_frame_equal(kidney, before)


def test_fixed_design_drops_the_forced_intercept() -> None:
    """coxme's X is model.matrix(...)[, -1]: treatment contrasts even with 0 +."""
    cgd = dataset("cgd")
    with_intercept = coxme_design("Surv(tstart, tstop, status) ~ hos.cat + (1 | id)", cgd)
    without = coxme_design("Surv(tstart, tstop, status) ~ 0 + hos.cat + (1 | id)", cgd)
    levels = sorted(cgd["hos.cat"].unique())
    expected = tuple(f"hos.cat{lv}" for lv in levels[1:])
    assert with_intercept.X_names == expected
    assert without.X_names == expected


def test_random_slope_has_no_implicit_intercept() -> None:
    design = coxme_design("Surv(y, uncens) ~ trt + (trt | center)", dataset("eortc"))
    (term,) = design.layout.terms
    assert not term.intercept
    assert term.names() == ("trt",)
    assert design.layout.q == term.n_levels
    np.testing.assert_array_equal(design.layout.Z.sum(axis=1), dataset("eortc")["trt"])


def test_sparse_levels_come_first() -> None:
    """cgd's id has 128 levels; those holding at most 2% of the rows lead (coxme's order)."""
    cgd = dataset("cgd")
    design = coxme_design("Surv(tstart, tstop, status) ~ treat + (1 | id)", cgd)
    (term,) = design.layout.terms
    counts = cgd["id"].value_counts()
    sparse = counts[counts / len(cgd) <= 0.02].index
    assert term.n_sparse == len(sparse)
    assert {int(v) for v in term.levels[: term.n_sparse]} == set(sparse)
    assert design.layout.sparse.size == len(sparse)


def test_result_accessors() -> None:
    fit = coxme(KIDNEY, dataset("kidney"), data_name="kidney")
    assert fit.nobs == int(dataset("kidney")["status"].sum())
    assert list(fit.cov_params().index) == ["age", "sex"]
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov_params())), fit.bse)
    assert fit.pvalues["sex"] == pytest.approx(2 * stats.norm.sf(abs(fit.tvalues["sex"])))
    ranef = fit.ranef()["id"]
    assert list(ranef.columns) == ["Intercept"]
    assert len(ranef) == dataset("kidney")["id"].nunique()
    # The penalised score is zero at the fit: the random intercepts sum to zero.
    assert abs(ranef["Intercept"].sum()) < 1e-6
    text = str(fit.summary())
    assert "Data: kidney" in text
    assert "events, n = 58, 76" in text
    assert f"{fit.llf:10.4f}".strip() in text


def test_random_slope_summary_shows_the_matrix() -> None:
    kidney = dataset("kidney")
    fit = coxme("Surv(time, status) ~ age + (1 + sex | disease)", kidney)
    vc = fit.variance_components["disease"]
    assert isinstance(vc, pd.DataFrame)
    assert list(vc.columns) == ["Intercept", "sex"]
    correlation = vc.to_numpy()[0, 1]
    assert -1 < correlation < 1
    frame = fit.varcorr()
    assert list(frame.columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert list(frame["var1"]) == ["Intercept", "sex", "Intercept"]
    assert frame["sdcor"].iloc[2] == pytest.approx(correlation, rel=1e-12)
    assert frame["vcov"].iloc[0] == pytest.approx(vc.to_numpy()[0, 0], rel=1e-12)
    text = str(fit.summary())
    assert "Corr" in text
    assert f"{correlation:.4f}"[:6] in text
    assert fit.ranef()["disease"].shape == (kidney["disease"].nunique(), 2)


def test_fitted_loglik_penalty_aic_bic() -> None:
    """coxme's "Fitted" log-likelihood is the partial likelihood: PPL + b' Sigma^-1 b / 2."""
    fit = fitted("kidney_frailty")
    variance = fit.variance_components["id"]
    assert isinstance(variance, float)
    b = fit.ranef()["id"]["Intercept"].to_numpy()
    assert fit.penalty == pytest.approx(float(b @ b) / (2 * variance), rel=1e-12)
    assert fit.llf_fitted == pytest.approx(fit.llf_penalized + fit.penalty, rel=1e-14)
    # survival's partial log-likelihood at R's fully converged (beta, b) of the same model
    # (fixtures/R/coxme_predict.R); interlace's estimates are coxme's, converged to 1e-8.
    assert fit.llf_fitted == pytest.approx(
        predict_reference()["kidney_frailty"]["loglik"], abs=1e-4
    )
    # R: AIC(fit) = -2 logLik(fit) + 2 df[2], logLik being the "Fitted" value.
    assert fit.aic == pytest.approx(-2 * fit.llf_fitted + 2 * fit.df_penalized, rel=1e-14)
    assert fit.bic == pytest.approx(
        -2 * fit.llf_fitted + np.log(fit.nobs) * fit.df_penalized, rel=1e-14
    )
    assert fit.df_integrated == 3
    summary = fit.summary()
    assert summary.loglik.loc["Log-likelihood", "Fitted"] == fit.llf_fitted
    chisq = summary.chisq.loc[" Penalized loglik"]
    assert chisq["Chisq"] == pytest.approx(2 * (fit.llf_fitted - fit.llf_null), rel=1e-14)
    assert chisq["AIC"] == pytest.approx(chisq["Chisq"] - 2 * chisq["df"], rel=1e-14)
    assert list(summary.coefficients.columns) == ["coef", "exp(coef)", "se(coef)", "z", "p"]


def test_convergence_record_and_singularity() -> None:
    fit = fitted("kidney_frailty")
    assert fit.converged
    info = fit.optinfo
    assert info["fn_count"] == fit.iterations[0]
    assert info["convergence"] == 0
    assert info["messages"] == []
    # the objective of the inner loop (a fixed number of Newton steps) at the estimate
    assert info["objective"] == pytest.approx(-(1 + fit.llf - fit.fit.fit0.loglik[1]), rel=1e-8)
    assert not fit.is_singular
    # A variance at coxme's lower clamp, exp(-36), is a boundary fit.
    clamped = replace(fit, fit=replace(fit.fit, theta=np.array([-36.0])))
    assert clamped.is_singular


def test_fittedvalues_are_coxmes_linear_predictor() -> None:
    fit = fitted("cgd_counting")
    cgd = dataset("cgd")
    ranef = fit.ranef()["id"]["Intercept"]
    ranef.index = ranef.index.astype(int)
    expected = (
        fit.fe_params["treatrIFN-g"] * (cgd["treat"] == "rIFN-g") + ranef[cgd["id"]].to_numpy()
    )
    np.testing.assert_allclose(fit.fittedvalues, expected, rtol=1e-13)
    assert fit.fittedvalues.index.equals(cgd.index)
    with pytest.raises(InterlaceError, match="conditional variances"):
        fit.ranef(condVar=True)
