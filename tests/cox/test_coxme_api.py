"""coxme's façade: input checks, result accessors and the design of random terms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cox_data import dataset
from scipy import stats

from interlace.api.coxme import CoxmeControlError, coxme
from interlace.cox.design import coxme_design
from interlace.errors import (
    FormulaError,
    GroupingError,
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
    cgd.loc[2, "tstart"] = cgd.loc[2, "tstop"]
    with pytest.raises(ResponseDomainError, match="start time") as err:
        coxme("Surv(tstart, tstop, status) ~ treat + (1 | id)", cgd)
    assert err.value.rows == [2]


def test_no_events_is_refused() -> None:
    kidney = dataset("kidney").assign(status=0)
    with pytest.raises(ResponseDomainError, match="no events"):
        coxme(KIDNEY, kidney)


def test_single_level_cluster_is_refused() -> None:
    kidney = dataset("kidney").assign(one=1)
    with pytest.raises(GroupingError, match="single level"):
        coxme("Surv(time, status) ~ age + (1 | one)", kidney)


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
    assert len(ranef) == dataset("kidney")["id"].nunique()
    # The penalised score is zero at the fit: the random intercepts sum to zero.
    assert abs(ranef.sum()) < 1e-6
    text = fit.summary()
    assert "Data: kidney" in text
    assert "events, n = 58, 76" in text
    assert f"{fit.llf:10.4f}".strip() in text


def test_random_slope_summary_shows_the_matrix() -> None:
    kidney = dataset("kidney")
    fit = coxme("Surv(time, status) ~ age + (1 + sex | disease)", kidney)
    vc = fit.varcorr()["disease"]
    assert list(vc.columns) == ["Intercept", "sex"]
    assert -1 < vc.loc["Intercept", "sex"] < 1
    assert "correlation off it" in fit.summary()
    assert fit.ranef()["disease"].shape == (kidney["disease"].nunique(), 2)
