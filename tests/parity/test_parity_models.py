"""The clmm, glmer.nb and coxme adapters and the shared R arguments, without R.

R's numbers come from the frozen records of fixtures/parity (written by
``python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze``; the coxme ones are
converted from fixtures/coxme/coxme_reference.json, coxme 2.2-22).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace import datasets
from interlace.engine.clmm_objective import st_to_theta
from interlace.parity.api import compare_frozen
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.corpus import load_corpus, reference_case
from interlace.parity.cox import coxme_covariance, coxme_reference_record, random_effect_names
from interlace.parity.models import adapter_for, frame_arguments, r_functions, theta_to_st
from interlace.parity.schema import FitSummary

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
COXME = PARITY.parent / "coxme"
CORPUS = {c.id: c for c in load_corpus(PARITY / "corpus.json")}


def _record(case_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((PARITY / f"{case_id}.json").read_text(encoding="utf-8"))
    return record


def _rows(report: Any) -> pd.DataFrame:
    return report.table.set_index("quantity")


# --- clmm ---------------------------------------------------------------------------------------


def test_clmm_record_holds_ordinal_thresholds_and_objective_points() -> None:
    record = _record("clmm_wine_judge")
    summary = FitSummary.from_dict(record["summary"])
    assert summary.thresholds is not None
    assert list(summary.thresholds.index) == ["1|2", "2|3", "3|4", "4|5"]
    assert list(summary.fixef.index) == ["tempwarm", "contactyes"]
    # standard errors of the thresholds and of beta, as in ordinal's coefficient table
    assert list(summary.se.index) == ["1|2", "2|3", "3|4", "4|5", "tempwarm", "contactyes"]
    assert summary.theta is not None and list(summary.theta.index) == ["judge.(Intercept)"]
    # the objective's argument is (alpha, beta, theta): 4 + 2 + 1
    assert [len(p["theta"]) for p in record["objective"]] == [7, 7]
    assert record["summary"]["versions"]["ordinal"] == "2022.11.16"


def test_clmm_frozen_report_compares_thresholds_and_detects_a_wrong_one() -> None:
    record = copy.deepcopy(_record("clmm_wine_judge"))
    wine = datasets.load("wine")
    report = compare_frozen(record, wine=wine)
    assert report.passed, str(report)
    rows = _rows(report)
    assert rows.loc["thresholds[2|3]", "tolerance"] == "abs 0.001"
    assert abs(rows.loc["thresholds[2|3]"]["difference"]) < 1e-4
    record["summary"]["thresholds"]["values"][1] += 2e-3
    failed = compare_frozen(record, levels=["fit"], wine=wine)
    assert list(failed.failures["quantity"]) == ["thresholds[2|3]"]


def test_clmm_objective_at_moved_parameters_differs_from_the_optimum() -> None:
    """The second recorded point is away from R's optimum, and both sides see that."""
    report = compare_frozen(
        _record("clmm_wine_judge"), levels=["objective"], wine=datasets.load("wine")
    )
    r_values = report.table["R"].to_numpy(float)
    assert r_values[1] - r_values[0] > 0.1
    assert report.table["difference"].abs().max() < 1e-4


def test_theta_to_st_inverts_interlace_st_to_theta() -> None:
    # a 3 x 3 term (diagonal, then the lower triangle by columns) and a scalar term
    st = np.array([1.5, 0.7, 0.2, 0.3, -0.5, 0.6, 0.9])
    terms = [SimpleNamespace(k=3), SimpleNamespace(k=1)]
    theta = st_to_theta(st, terms)  # type: ignore[arg-type]
    assert theta.tolist() == [1.5, 0.3, -0.5, 0.7, 0.6, 0.2, 0.9]  # lme4: lower triangle by columns
    np.testing.assert_array_equal(theta_to_st(theta, [3, 1]), st)
    assert adapter_for("clmm").tolerance_class == "clmm"


# --- glmer.nb -----------------------------------------------------------------------------------


def test_glmer_nb_compares_the_negative_binomial_theta() -> None:
    record = copy.deepcopy(_record("salamanders_nb"))
    salamanders = datasets.load("Salamanders")
    report = compare_frozen(record, levels=["fit"], Salamanders=salamanders)
    row = _rows(report).loc["nb_theta"]
    assert row["tolerance"] == "rel 0.001" and row["verdict"] == "ok"
    assert record["summary"]["nb_theta"] == pytest.approx(0.639, abs=1e-3)
    record["summary"]["nb_theta"] *= 1.002
    assert list(
        compare_frozen(record, levels=["fit"], Salamanders=salamanders).failures["quantity"]
    ) == ["nb_theta"]


def test_glmer_nb_calls_are_matched_against_its_signature() -> None:
    assert r_functions()["glmer.nb"].startswith("function(formula, data = NULL,")
    assert r_functions()["lmer"] == "lme4::lmer"


# --- coxme --------------------------------------------------------------------------------------


def test_coxme_record_converts_correlations_to_covariances() -> None:
    reference = reference_case(COXME / "coxme_reference.json", "eortc_slope")
    call = ModelCall(
        None,
        "coxme",
        "coxme(Surv(y, uncens) ~ trt + (1 + trt | center), data = eortc)",
        {"formula": "Surv(y, uncens) ~ trt + (1 + trt | center)", "data": "eortc"},
    )
    record = coxme_reference_record(reference, call, {}, provenance="test", versions={})
    summary = FitSummary.from_dict(record["summary"])
    vc = summary.varcorr.set_index(["var1", "var2"], drop=False)
    (v_int, corr), (_, v_trt) = reference["varcorr"]["center"]
    cov_row = summary.varcorr[summary.varcorr["var2"].notna()].iloc[0]
    assert (cov_row["var1"], cov_row["var2"]) == ("Intercept", "trt")
    assert cov_row["sdcor"] == pytest.approx(corr, rel=1e-14)
    assert cov_row["vcov"] == pytest.approx(corr * np.sqrt(v_int * v_trt), rel=1e-14)
    assert len(vc) == 3
    assert summary.loglik.df == 1 + 3 and summary.loglik.nobs == reference["n"][0]
    assert summary.cox_loglik is not None
    assert summary.cox_loglik.penalized == reference["loglik"]["penalized"]
    assert list(summary.ranef["grp"].unique()) == ["1", "2", "3"]
    assert record["design"] is None and record["objective"] == []


def test_coxme_covariance_of_a_scalar_and_a_matrix() -> None:
    assert coxme_covariance(0.25).tolist() == [[0.25]]
    cov = coxme_covariance([[4.0, 0.5], [0.5, 9.0]])
    np.testing.assert_allclose(cov, [[4.0, 3.0], [3.0, 9.0]])


def test_random_effect_names_follow_coxme() -> None:
    formula = "Surv(y, uncens) ~ trt + (1 + trt | center) + (1 | id)"
    assert random_effect_names(formula, "center") == ["Intercept", "trt"]
    assert random_effect_names(formula, "id") == ["Intercept"]
    assert random_effect_names(formula, "nope") == []


def test_coxme_frozen_report_uses_the_cox_tolerances_and_records_provenance() -> None:
    case = CORPUS["coxme_kidney_frailty"]
    record = copy.deepcopy(_record(case.id))
    kidney = case.frames()["kidney"]
    report = compare_frozen(record, kidney=kidney)
    assert report.passed, str(report)
    assert report.meta["tolerance_class"] == "cox"
    assert report.meta["provenance"].startswith("coxme 2.2-22 reference outputs")
    rows = _rows(report)
    assert set(rows.index) >= {
        "coxme loglik null",
        "coxme loglik integrated",
        "coxme loglik penalized",
        "varcorr[id].vcov",
    }
    assert rows.loc["varcorr[id].vcov", "tolerance"] == "abs 1e-06 or rel 10%"
    record["summary"]["varcorr"]["vcov"][0] *= 1.05  # within 10%
    assert compare_frozen(record, levels=["fit"], kidney=kidney).passed
    record["summary"]["varcorr"]["vcov"][0] *= 1.1  # now 15.5% off
    failed = compare_frozen(record, levels=["fit"], kidney=kidney)
    assert list(failed.failures["quantity"]) == ["varcorr[id].vcov"]


# --- subset, contrasts, na.action ---------------------------------------------------------------

CALL = ModelCall(None, "lmer", "lmer(y ~ x + (1 | g), d)", {"formula": "y ~ x + (1 | g)"})


def test_subset_keeps_r_rows_and_restricts_evaluated_weights() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0]})
    args = {"subset": np.array([4.0, 2.0]), "weights": np.array([10.0, 20.0, 30.0, 40.0])}
    kept, keywords = frame_arguments(CALL, data, args)
    assert kept["y"].tolist() == [4.0, 2.0] and list(kept.index) == [3, 1]
    assert keywords["weights"].tolist() == [40.0, 20.0]
    assert data["y"].tolist() == [1.0, 2.0, 3.0, 4.0]  # the caller's frame is untouched


def test_contrasts_and_na_action_become_interlace_keywords() -> None:
    args = {
        "contrasts": {
            "f": {"coding": "contr.sum"},
            "h": {"matrix": [[1.0], [-1.0]], "colnames": ["A"]},
            "k": {"matrix": [[1.0], [-1.0]], "colnames": []},
        },
        "na.action": "na.exclude",
    }
    _, keywords = frame_arguments(CALL, pd.DataFrame(), args)
    contrasts = keywords["contrasts"]
    assert contrasts["f"] == "contr.sum"
    assert list(contrasts["h"].columns) == ["A"]
    assert contrasts["k"].tolist() == [[1.0], [-1.0]]
    assert keywords["na_action"] == "omit"
    assert frame_arguments(CALL, pd.DataFrame(), {"na.action": "na.fail"})[1] == {
        "na_action": "fail"
    }
    with pytest.raises(ParityCallError, match=r"na\.pass has no interlace equivalent"):
        frame_arguments(CALL, pd.DataFrame(), {"na.action": "na.pass"})


def test_near_zero_standard_deviation_passes_within_the_theta_tolerance() -> None:
    """A singular term (wine's bottle in clmm: R's SD 9e-6, interlace's 0) is compared like θ."""
    from interlace.parity.compare import compare_summaries
    from interlace.parity.schema import LogLik

    def summary(sd: float, mode: float, sigma: float | None) -> FitSummary:
        return FitSummary(
            model_class="clmm",
            fixef=pd.Series([1.0], index=["x"]),
            se=pd.Series([0.1], index=["x"]),
            loglik=LogLik(-10.0, 3, 20),
            sigma=sigma,
            varcorr=pd.DataFrame(
                {
                    "grp": ["g"],
                    "var1": ["(Intercept)"],
                    "var2": [None],
                    "vcov": [sd**2],
                    "sdcor": [sd],
                }
            ),
            ranef=pd.DataFrame(
                {
                    "grpvar": ["g"] * 2,
                    "term": ["(Intercept)"] * 2,
                    "grp": ["a", "b"],
                    "condval": [mode, -mode],
                }
            ),
        )

    exact = summary(0.0, 0.0, None)
    assert compare_summaries(summary(9e-6, 1e-10, None), exact).passed
    failed = compare_summaries(summary(2e-4, 0.0, None), exact)
    assert list(failed.failures["quantity"]) == ["varcorr[g (Intercept)].sdcor"]
    # with a residual scale the allowance is atol(theta) * sigma
    scaled = summary(2e-4, 0.0, 10.0)
    assert compare_summaries(scaled, summary(0.0, 0.0, 10.0)).passed


def test_frozen_contrasts_and_subset_are_replayed_from_the_record() -> None:
    record = copy.deepcopy(_record("cake_contrasts_subset"))
    cake = datasets.load("cake")
    arguments = record["arguments"]
    assert arguments["contrasts"] == {
        "recipe": {"coding": "contr.sum"},
        "temperature": {"coding": "contr.helmert"},
    }
    assert len(arguments["subset"]) == 13 * 18  # replicates 3 to 15, 18 rows each
    assert compare_frozen(record, levels=["design"], cake=cake).passed
    del arguments["contrasts"]
    failed = compare_frozen(record, levels=["design"], cake=cake)
    assert "X column names" in list(failed.failures["quantity"])
