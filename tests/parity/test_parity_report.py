"""Fit-level comparison and the ParityReport, on R's stored sleepstudy fit (fixtures/lmm)."""

from __future__ import annotations

import dataclasses
import json

import pandas as pd
import pytest
from parity_summaries import r_summary

from interlace.parity.compare import compare_summaries, numeric_row
from interlace.parity.report import TABLE_COLUMNS, ParityReport
from interlace.parity.schema import FitSummary, LogLik
from interlace.parity.tolerances import Tolerance


@pytest.fixture(scope="module")
def reference() -> FitSummary:
    return r_summary("sleepstudy_slope")


def _with_fixef(summary: FitSummary, term: str, delta: float) -> FitSummary:
    fixef = summary.fixef.copy()
    fixef[term] += delta
    return dataclasses.replace(summary, fixef=fixef)


def _verdict(report: ParityReport, quantity: str) -> str:
    table = report.table
    return str(table.loc[table["quantity"] == quantity, "verdict"].item())


def test_identical_summaries_pass(reference: FitSummary) -> None:
    report = compare_summaries(reference, reference)
    assert report.passed
    assert set(report.table["verdict"]) == {"ok"}
    quantities = set(report.table["quantity"])
    assert {"fixef[Days]", "se[(Intercept)]", "sigma", "logLik", "nobs"} <= quantities
    assert "varcorr[Subject (Intercept),Days].sdcor" in quantities


def test_perturbed_fixed_effect_fails_on_that_quantity(reference: FitSummary) -> None:
    report = compare_summaries(reference, _with_fixef(reference, "Days", 2e-4))
    assert not report.passed
    failures = report.failures
    assert list(failures["quantity"]) == ["fixef[Days]"]
    assert failures["difference"].item() == pytest.approx(2e-4)
    assert failures["tolerance"].item() == "abs 0.0001"


def test_perturbation_within_tolerance_passes(reference: FitSummary) -> None:
    assert compare_summaries(reference, _with_fixef(reference, "Days", 5e-5)).passed


def test_override_makes_the_comparison_stricter(reference: FitSummary) -> None:
    perturbed = _with_fixef(reference, "Days", 5e-5)
    report = compare_summaries(reference, perturbed, tolerances={"fixef": 1e-6})
    assert list(report.failures["quantity"]) == ["fixef[Days]"]


def test_variance_component_is_relative(reference: FitSummary) -> None:
    for factor, passed in ((1.04, True), (1.06, False)):
        varcorr = reference.varcorr.copy()
        residual = varcorr["grp"] == "Residual"
        varcorr["vcov"] = varcorr["vcov"].where(~residual, varcorr["vcov"] * factor)
        report = compare_summaries(reference, dataclasses.replace(reference, varcorr=varcorr))
        assert report.passed is passed
        assert _verdict(report, "varcorr[Residual].vcov") == ("ok" if passed else "FAIL")


def test_ranef_block_compared_against_the_block_scale(reference: FitSummary) -> None:
    ranef = reference.ranef.copy()
    days = ranef["term"] == "Days"
    scale = ranef.loc[days, "condval"].abs().max()
    ranef.loc[ranef.index[days][0], "condval"] += 0.1 * scale
    report = compare_summaries(reference, dataclasses.replace(reference, ranef=ranef))
    assert list(report.failures["quantity"].str.slice(0, 18)) == ["ranef[Subject Days"]


def test_loglik_is_one_sided(reference: FitSummary) -> None:
    ll = reference.loglik
    better = dataclasses.replace(reference, loglik=LogLik(ll.value + 0.5, ll.df, ll.nobs))
    worse = dataclasses.replace(reference, loglik=LogLik(ll.value - 0.5, ll.df, ll.nobs))
    report = compare_summaries(reference, better)
    assert report.passed
    assert _verdict(report, "logLik") == "better"
    report = compare_summaries(reference, worse)
    assert not report.passed
    assert _verdict(report, "logLik") == "FAIL"


def test_one_sided_row_within_tolerance_is_ok() -> None:
    tol = Tolerance(atol=1e-3, one_sided=True)
    assert numeric_row("fit", "logLik", -10.0, -10.0005, tol).verdict == "ok"
    assert numeric_row("fit", "logLik", -10.0, -9.9, tol).verdict == "better"
    assert numeric_row("fit", "logLik", -10.0, -10.1, tol).verdict == "FAIL"


def test_missing_coefficient_and_df_mismatch(reference: FitSummary) -> None:
    fewer = dataclasses.replace(
        reference,
        fixef=reference.fixef.drop("Days"),
        loglik=LogLik(reference.loglik.value, 5, reference.loglik.nobs),
    )
    report = compare_summaries(reference, fewer)
    failures = report.failures.set_index("quantity")["verdict"]
    assert failures["fixef[Days]"] == "missing"
    assert failures["logLik df"] == "FAIL"


def test_table_layout_and_formats(reference: FitSummary) -> None:
    report = compare_summaries(reference, _with_fixef(reference, "Days", 1.0), title="m1")
    assert tuple(report.table.columns) == TABLE_COLUMNS
    assert {"quantity", "R", "interlace", "difference", "tolerance", "verdict"} <= set(
        report.table.columns
    )
    data = json.loads(report.to_json())
    assert data["passed"] is False and data["title"] == "m1"
    row = next(r for r in data["rows"] if r["quantity"] == "fixef[Days]")
    assert row["verdict"] == "FAIL" and row["difference"] == pytest.approx(1.0)
    markdown = report.to_markdown()
    assert markdown.startswith("### m1: FAILED")
    assert "| fit | fixef[Days] |" in markdown
    assert markdown.count("\n| ") == len(report.rows) + 1  # header and one line per row
    text = str(report)
    assert text.splitlines()[1].startswith("FAILED: ")
    days = reference.fixef["Days"]
    line = f"FAIL: fixef[Days]: R {days:.10g}, interlace {days + 1:.10g} (tolerance abs 0.0001)"
    assert line in text.splitlines()


def test_json_writes_nan_as_null() -> None:
    row = numeric_row("fit", "x", float("nan"), 1.0, Tolerance(atol=1.0))
    report = ParityReport("t", (row,))
    data = json.loads(report.to_json())
    assert data["rows"][0]["R"] is None and data["rows"][0]["verdict"] == "missing"
    assert not report.passed


def test_summary_json_round_trip(reference: FitSummary) -> None:
    back = FitSummary.from_dict(json.loads(json.dumps(reference.to_dict())))
    pd.testing.assert_series_equal(back.fixef, reference.fixef, check_index_type=False)
    assert back.theta is not None and reference.theta is not None
    assert back.theta.tolist() == reference.theta.tolist()
    assert back.loglik == reference.loglik
    assert compare_summaries(reference, back, tolerances={"fixef": 0.0, "varcorr": 0.0}).passed
