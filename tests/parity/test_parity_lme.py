"""The lme adapter (nlme::lme), without R.

R's numbers come from the frozen records of fixtures/parity (written by
``python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze``, nlme 3.1-162).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from interlace import datasets
from interlace.correlation import CorAR1, CorCAR1, CorCompSymm, CorStruct
from interlace.parity.api import compare_frozen, default_levels
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.corpus import load_corpus
from interlace.parity.models import adapter_for, lme_correlation, lme_random, lme_weights
from interlace.parity.schema import FitSummary
from interlace.pdmat import PdMat
from interlace.varfunc import VarFunc

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = {c.id: c for c in load_corpus(PARITY / "corpus.json")}
CALL = ModelCall(None, "lme", "lme(y ~ x, d, random = ~1 | g, correlation = C)", {})


def _record(case_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((PARITY / f"{case_id}.json").read_text(encoding="utf-8"))
    return record


def _frozen(record: dict[str, Any], case_id: str, levels: list[str] | None = None) -> Any:
    case = CORPUS[case_id]
    return compare_frozen(record, tolerances=case.tolerances, levels=levels, **case.frames())


def _rows(report: Any) -> pd.DataFrame:
    return report.table.set_index("quantity")


@pytest.mark.parametrize(
    ("case_id", "parameter"),
    [
        ("lme_ovary_ar1", "Phi"),
        ("lme_ovary_ar1_ml", "Phi"),
        ("lme_bodyweight_car1", "Phi"),
        ("lme_machines_cs", "Rho"),
    ],
)
def test_correlation_parameter_is_recorded_and_compared(case_id: str, parameter: str) -> None:
    record = _record(case_id)
    assert record["summary"]["correlation_params"]["names"] == [parameter]
    rows = _rows(_frozen(record, case_id, levels=["fit"]))
    row = rows.loc[f"correlation[{parameter}]"]
    assert row["verdict"] == "ok" and row["tolerance"] == "abs 0.001"
    # a reference 2e-3 away fails on that row only
    record = copy.deepcopy(record)
    record["summary"]["correlation_params"]["values"][0] += 2e-3
    report = _frozen(record, case_id, levels=["fit"])
    assert list(report.failures["quantity"]) == [f"correlation[{parameter}]"]


def test_fits_without_correlation_have_no_correlation_rows() -> None:
    record = _record("lme_orthodont_slope")
    assert record["summary"]["correlation_params"] is None
    report = _frozen(record, "lme_orthodont_slope")
    assert report.passed, str(report)
    assert not any(q.startswith(("correlation", "varfunc")) for q in report.table["quantity"])


def test_random_and_correlation_are_recorded_as_r_read_them() -> None:
    assert _record("lme_ovary_ar1")["arguments"] == {
        "random": {"Mare": {"formula": "~sin(2 * pi * Time)", "kind": "pdDiag"}},
        "correlation": {"class": "corAR1", "form": "~1", "value": 0.0, "fixed": False},
    }
    # ~ 1 | batch/cask: reStruct's levels, outer first
    assert _record("lme_pastes_nested")["arguments"]["random"] == {
        "batch": {"formula": "~1", "kind": "pdSymm"},
        "cask": {"formula": "~1", "kind": "pdSymm"},
    }
    bodyweight = _record("lme_bodyweight_car1")["arguments"]
    assert bodyweight["random"] == {"Rat": {"formula": "~Time", "kind": "pdSymm"}}
    assert bodyweight["correlation"]["form"] == "~Time | Rat"
    assert bodyweight["correlation"]["value"] == 0.2  # nlme's default start of corCAR1
    assert _record("lme_ovary_ar1_ml")["arguments"]["method"] == "ML"


def test_lme_random_keeps_the_levels_outer_first() -> None:
    random = lme_random(
        {"a": {"formula": "~1", "kind": "pdSymm"}, "b": {"formula": "~x", "kind": "pdDiag"}}
    )
    assert list(random) == ["a", "b"]
    assert random["b"] == PdMat("~x", "pdDiag")


@pytest.mark.parametrize(
    ("name", "cls"), [("corAR1", CorAR1), ("corCAR1", CorCAR1), ("corCompSymm", CorCompSymm)]
)
def test_lme_correlation_builds_interlace_structures(name: str, cls: type[CorStruct]) -> None:
    spec = {"class": name, "form": "~Time | Rat", "value": 0.3, "fixed": False}
    structure = lme_correlation(CALL, spec)
    assert isinstance(structure, cls)
    assert structure.form.covariate == "Time" and structure.form.groups == ("Rat",)
    assert structure.value == 0.3
    assert lme_correlation(CALL, None) is None


def test_lme_correlation_refuses_what_interlace_does_not_fit() -> None:
    with pytest.raises(ParityCallError, match=r"corExp\) has no interlace equivalent"):
        lme_correlation(CALL, {"class": "corExp", "form": "~1", "value": 0.0, "fixed": False})
    with pytest.raises(ParityCallError, match="holds its parameter fixed"):
        lme_correlation(CALL, {"class": "corAR1", "form": "~1", "value": 0.5, "fixed": True})


@pytest.mark.parametrize(
    ("case_id", "names"),
    [("lme_orthodont_varident", ["Male", "Female"]), ("lme_bodyweight_varpower", ["power"])],
)
def test_variance_function_parameters_are_recorded_and_compared(
    case_id: str, names: list[str]
) -> None:
    record = _record(case_id)
    assert record["summary"]["varfunc_params"]["names"] == names
    rows = _rows(_frozen(record, case_id, levels=["fit"]))
    for name in names:
        row = rows.loc[f"varfunc[{name}]"]
        assert row["verdict"] == "ok" and row["tolerance"] == "abs 0.0001 or rel 0.001"
    # a reference twice the tolerance away fails on that row only
    record = copy.deepcopy(record)
    values = record["summary"]["varfunc_params"]["values"]
    values[-1] += 2 * max(1e-4, 1e-3 * abs(values[-1]))
    report = _frozen(record, case_id, levels=["fit"])
    assert list(report.failures["quantity"]) == [f"varfunc[{names[-1]}]"]


def test_varident_reference_stratum_is_nlmes() -> None:
    """nlme's reference stratum (ratio 1) is the first one in the data sorted by Subject."""
    summary = FitSummary.from_dict(_record("lme_orthodont_varident")["summary"])
    assert summary.varfunc_params is not None and summary.varfunc_params["Male"] == 1.0
    record = copy.deepcopy(_record("lme_orthodont_varident"))
    record["summary"]["varfunc_params"]["names"] = ["Female", "Male"]
    report = _frozen(record, "lme_orthodont_varident", levels=["fit"])
    assert set(report.failures["quantity"]) == {"varfunc[Female]", "varfunc[Male]"}


def test_weights_are_recorded_as_r_read_them() -> None:
    assert _record("lme_orthodont_varident")["arguments"]["weights"] == {
        "class": "varIdent",
        "form": "~1 | Sex",
        "value": [],
        "fixed": False,
    }
    bodyweight = _record("lme_bodyweight_varpower")["arguments"]
    assert bodyweight["weights"] == {
        "class": "varPower",
        "form": "~Time",
        "value": [],
        "fixed": False,
    }
    assert bodyweight["method"] == "ML"


@pytest.mark.parametrize(
    ("spec", "kind", "covariate", "strata"),
    [
        ({"class": "varIdent", "form": "~1 | Sex"}, "varIdent", None, ("Sex",)),
        ({"class": "varPower", "form": "~Time"}, "varPower", "Time", ()),
        ({"class": "varExp", "form": "~age"}, "varExp", "age", ()),
    ],
)
def test_lme_weights_builds_interlace_variance_functions(
    spec: dict[str, Any], kind: str, covariate: str | None, strata: tuple[str, ...]
) -> None:
    varfunc = lme_weights(CALL, {**spec, "value": [0.5], "fixed": False})
    assert isinstance(varfunc, VarFunc)
    assert (varfunc.kind, varfunc.covariate, varfunc.strata) == (kind, covariate, strata)
    assert lme_weights(CALL, None) is None


def test_lme_weights_refuses_what_interlace_does_not_fit() -> None:
    for name in ("varFixed", "varConstPower", "varComb"):
        with pytest.raises(ParityCallError, match=rf"{name}\) has no interlace equivalent"):
            lme_weights(CALL, {"class": name, "form": "~age", "value": [], "fixed": False})
    with pytest.raises(ParityCallError, match="holds parameters fixed"):
        lme_weights(CALL, {"class": "varPower", "form": "~age", "value": [0.5], "fixed": True})


def test_weights_is_an_argument_of_the_lme_adapter() -> None:
    call = ModelCall(
        None, "lme", "", {"fixed": "y ~ x", "data": "d", "weights": "varIdent(~1 | g)"}
    )
    assert adapter_for("lme").check_arguments(call) == []
    assert adapter_for("lme").r_arguments["weights"] == "evaluate_varfunc"


def test_ml_coefficient_table_inflates_the_standard_errors() -> None:
    """nlme's ML tTable: SE · sqrt(N/(N − p)) on both sides, the fit level's SE unadjusted."""
    summary = FitSummary.from_dict(_record("lme_ovary_ar1_ml")["summary"])
    assert summary.ddf is not None and summary.reml is False
    n, p = summary.loglik.nobs, len(summary.fixef)
    table = summary.ddf.set_index("term")["se"]
    ratio = (table / summary.se.reindex(table.index)).to_numpy()
    assert ratio == pytest.approx([math.sqrt(n / (n - p))] * p, rel=1e-12)
    rows = _rows(_frozen(_record("lme_ovary_ar1_ml"), "lme_ovary_ar1_ml"))
    assert rows.loc["se[(Intercept)] (nlme)", "verdict"] == "ok"
    assert rows.loc["se[(Intercept)] (nlme)"]["interlace"] > rows.loc["se[(Intercept)]"]["R"]


def test_ddf_level_is_on_by_default_and_has_no_anova_rows() -> None:
    assert default_levels(adapter_for("lme"), lmertest=False)[-1] == "ddf"
    assert "ddf" not in default_levels(adapter_for("lmer"), lmertest=False)
    report = _frozen(_record("lme_machines_cs"), "lme_machines_cs")
    ddf = report.table[report.table["level"] == "ddf"]
    assert set(ddf["quantity"].str.extract(r"^(\w+)\[")[0]) == {"se", "df", "t", "p"}
    assert not ddf["quantity"].str.startswith("anova").any()
    # nlme's containment DF: Machine varies within Worker, so it gets the within-worker DF
    record = copy.deepcopy(_record("lme_machines_cs"))
    record["summary"]["ddf"]["df"][1] += 1
    failed = compare_frozen(record, Machines=datasets.load("Machines")).failures
    assert list(failed["quantity"]) == ["df[MachineB] (nlme)"]


def test_reml_loglik_counts_all_observations() -> None:
    """``nobs`` is nobs(fit) = N (a REML logLik's own nobs attribute is N − p)."""
    record = _record("lme_orthodont_slope")
    assert record["summary"]["loglik"]["nobs"] == len(datasets.load("Orthodont"))
    assert record["summary"]["reml"] is True
