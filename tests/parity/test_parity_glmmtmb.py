"""The glmmTMB adapter, without R.

R's numbers come from the frozen records of fixtures/parity (written by
``python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze``, glmmTMB 1.1.5).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from interlace.parity.api import compare_frozen
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.corpus import load_corpus
from interlace.parity.models import adapter_for
from interlace.parity.schema import FitSummary

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = {c.id: c for c in load_corpus(PARITY / "corpus.json")}
ADAPTER = adapter_for("glmmTMB")


def _record(case_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((PARITY / f"{case_id}.json").read_text(encoding="utf-8"))
    return record


def _frozen(record: dict[str, Any], case_id: str, levels: list[str] | None = None) -> Any:
    return compare_frozen(record, tolerances=None, levels=levels, **CORPUS[case_id].frames())


def test_glmmtmb_cases_are_in_the_corpus_with_the_glmm_class() -> None:
    ids = {c for c in CORPUS if c.startswith("glmmtmb_")}
    assert ids == {
        "glmmtmb_salamanders_zip",
        "glmmtmb_salamanders_nb2",
        "glmmtmb_cbpp_binomial",
        "glmmtmb_sleepstudy_gaussian",
        "glmmtmb_sleepstudy_diag_reml",
    }
    assert {CORPUS[c].tolerance_class for c in ids} == {"glmm"} == {ADAPTER.tolerance_class}


def test_recorded_arguments_are_python_values() -> None:
    zip_args = _record("glmmtmb_salamanders_zip")["arguments"]
    assert zip_args == {"ziformula": "~mined", "family": {"family": "poisson", "link": "log"}}
    nb_args = _record("glmmtmb_salamanders_nb2")["arguments"]
    assert nb_args == {"family": {"family": "nbinom2", "link": "log"}}
    assert _record("glmmtmb_sleepstudy_diag_reml")["arguments"] == {"REML": True}


def test_parameters_are_glmmtmb_par_in_its_order() -> None:
    """beta, betazi, betad, theta; no beta under REML (it is integrated out)."""
    zip_summary = FitSummary.from_dict(_record("glmmtmb_salamanders_zip")["summary"])
    par = ADAPTER.parameters(ModelCall(None, "glmmTMB", "", {}), zip_summary)
    expected = [*zip_summary.fixef, *zip_summary.zi, *zip_summary.theta]  # type: ignore[misc]
    assert par == expected and len(par) == 5
    record = _record("glmmtmb_sleepstudy_diag_reml")
    reml = FitSummary.from_dict(record["summary"])
    par = ADAPTER.parameters(ModelCall(None, "glmmTMB", "", {}), reml)
    assert len(par) == 3 and par == record["objective"][0]["theta"]


def test_zero_inflation_and_dispersion_rows_are_compared() -> None:
    report = _frozen(_record("glmmtmb_salamanders_zip"), "glmmtmb_salamanders_zip")
    assert report.passed, str(report)
    rows = report.table.set_index("quantity")
    assert rows.loc["zi[minedno]", "tolerance"] == "abs 0.001"
    assert rows.loc["se[zi~minedno]", "verdict"] == "ok"
    nb = _frozen(_record("glmmtmb_salamanders_nb2"), "glmmtmb_salamanders_nb2")
    assert nb.passed and "disp[(Intercept)]" in set(nb.table["quantity"])


def test_objective_both_ways_is_rounding_close() -> None:
    """interlace's Laplace objective at R's par and at a point away from it equals TMB's."""
    for case_id in ("glmmtmb_salamanders_zip", "glmmtmb_sleepstudy_gaussian"):
        report = _frozen(_record(case_id), case_id, levels=["objective"])
        table = report.table
        assert list(table["level"]) == ["objective", "objective"], case_id
        assert (table["difference"].abs() < 1e-7).all(), str(report)


def test_a_wrong_zero_inflation_coefficient_fails() -> None:
    record = copy.deepcopy(_record("glmmtmb_salamanders_zip"))
    record["summary"]["zi"]["values"][1] += 2e-3
    record["objective"][1]["value"] += 1e-4
    report = _frozen(record, "glmmtmb_salamanders_zip")
    assert not report.passed
    failed = list(report.failures["quantity"])
    assert failed[0].startswith("objective at theta_off") and failed[1:] == ["zi[minedno]"]


def test_a_wrong_dispersion_coefficient_fails() -> None:
    record = copy.deepcopy(_record("glmmtmb_sleepstudy_gaussian"))
    record["summary"]["disp"]["values"][0] += 2e-3
    report = _frozen(record, "glmmtmb_sleepstudy_gaussian", levels=["fit"])
    assert list(report.failures["quantity"]) == ["disp[(Intercept)]"]


def test_arguments_interlace_cannot_reproduce_are_refused() -> None:
    call = ModelCall(None, "glmmTMB", "glmmTMB(y ~ x, d, start = s)", {"start": "s"})
    with pytest.raises(ParityCallError, match="start of glmmTMB"):
        ADAPTER.check_arguments(call)
    noted = ModelCall(None, "glmmTMB", "", {"control": "glmmTMBControl()"})
    assert ADAPTER.check_arguments(noted) == [
        "argument control = glmmTMBControl() is not passed to interlace (compared as if absent)"
    ]
