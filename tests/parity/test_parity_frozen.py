"""Frozen mode: interlace against R's recorded results (fixtures/parity), without R.

The records are written by ``python -m interlace.parity.corpus fixtures/parity/corpus.json
--freeze`` (R via rpy2) from the corpus declared in ``fixtures/parity/corpus.json``.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from interlace import datasets
from interlace.parity import rbridge
from interlace.parity.api import compare_frozen
from interlace.parity.calls import ParityCallError
from interlace.parity.corpus import ParityCase, frozen_path, load_corpus, run_frozen
from interlace.parity.tolerances import TOLERANCE_CLASS

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = load_corpus(PARITY / "corpus.json")
#: Cases whose interlace fit takes more than a few seconds.
SLOW = frozenset({"coxme_cgd_counting", "coxme_eortc_slope"})
#: Levels each model function records: glmer.nb has no deviance function to evaluate at given
#: parameters, clmm no lme4 design, coxme neither; lme neither, and nlme's coefficient table (DF)
#: always; glmmTMB its Laplace objective (TMB's ``obj$fn``) at ``par`` but no lme4 design.
LEVELS = {
    "lmer": {"design", "objective", "fit"},
    "glmer": {"design", "objective", "fit"},
    "glmer.nb": {"design", "fit"},
    "clmm": {"objective", "fit"},
    "coxme": {"fit"},
    "lme": {"fit", "ddf"},
    "glmmTMB": {"objective", "fit"},
}
#: The R package that fits each model function.
PACKAGE = {
    "lmer": "lme4",
    "glmer": "lme4",
    "glmer.nb": "lme4",
    "clmm": "ordinal",
    "coxme": "coxme",
    "lme": "nlme",
    "glmmTMB": "glmmTMB",
}


def _function(case: ParityCase) -> str:
    return case.code.splitlines()[-1].split("(")[0]


def _record(case_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((PARITY / f"{case_id}.json").read_text(encoding="utf-8"))
    return record


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.slow) if c.id in SLOW else c for c in CORPUS],
    ids=[c.id for c in CORPUS],
)
def test_corpus_case_matches_frozen_r_results(case: ParityCase) -> None:
    report = run_frozen(case, PARITY)
    assert report.passed, str(report)
    levels = set(report.table["level"])
    ddf = {"ddf"} if "library(lmerTest)" in case.code else set()
    assert levels == LEVELS[_function(case)] | ddf
    assert report.meta["mode"] == "frozen"


def test_every_corpus_case_is_frozen_with_versions() -> None:
    for case in CORPUS:
        record = _record(case.id)
        function = _function(case)
        assert record["call"]["function"] == function
        assert TOLERANCE_CLASS[function] == case.tolerance_class
        versions = record["summary"]["versions"]
        assert PACKAGE[function] in versions
        if case.reference is None:
            assert versions["R"].startswith("R version") and "provenance" not in record
        else:
            assert versions == {"R": "4.2.2", "coxme": "2.2.22", "survival": "3.5.3"}
            assert record["provenance"].startswith("coxme 2.2-22 reference outputs")
        assert len(record["objective"]) == (2 if "objective" in LEVELS[function] else 0)


def test_frozen_comparison_detects_a_wrong_reference() -> None:
    record = copy.deepcopy(_record("sleepstudy_slope"))
    record["summary"]["fixef"]["values"][1] += 1e-3  # Days
    record["objective"][0]["value"] += 1e-3
    report = compare_frozen(record, sleepstudy=datasets.load("sleepstudy"))
    assert not report.passed
    failed = list(report.failures["quantity"])
    assert failed[0].startswith("objective at theta_R")
    assert failed[1:] == ["fixef[Days]"]


def test_frozen_mode_uses_recorded_argument_values() -> None:
    record = _record("sleepstudy_weights")
    assert record["call"]["args"]["weights"] == "1 + Days%%3"
    weights = record["arguments"]["weights"]
    days = datasets.load("sleepstudy")["Days"].to_numpy()
    assert weights == [1.0 + d % 3 for d in days]


def test_corpus_covers_glmer_families_links_and_quadrature() -> None:
    families = {
        (r["arguments"]["family"]["family"], r["arguments"]["family"]["link"])
        for r in (_record(c.id) for c in CORPUS)
        if r["call"]["function"] == "glmer"
    }
    assert families == {
        ("binomial", "logit"),
        ("binomial", "probit"),
        ("poisson", "log"),
        ("Gamma", "log"),
    }
    agq = _record("cbpp_agq25")
    assert agq["arguments"]["nAGQ"] == [25.0]
    # lme4's Laplace/AGQ deviance function takes (theta, beta): 1 + 4 parameters
    assert [len(p["theta"]) for p in agq["objective"]] == [5, 5]


def test_glmer_report_uses_the_glmm_tolerances() -> None:
    report = run_frozen(next(c for c in CORPUS if c.id == "contraception_probit"), PARITY)
    assert report.meta["tolerance_class"] == "glmm"
    rows = report.table.set_index("quantity")
    assert rows.loc["fixef[I(age^2)]", "tolerance"] == "abs 0.001"
    assert rows.loc["logLik", "tolerance"] == "abs 0.001, one-sided"


def test_glmer_logLik_is_one_sided() -> None:
    record = copy.deepcopy(_record("cbpp_laplace"))
    cbpp = datasets.load("cbpp")
    record["summary"]["loglik"]["value"] -= 1.0  # R worse: interlace found a better optimum
    better = compare_frozen(record, levels=["fit"], cbpp=cbpp)
    assert better.passed and better.table.set_index("quantity").loc["logLik", "verdict"] == "better"
    record["summary"]["loglik"]["value"] += 2.0  # R better by 1: interlace fell short
    worse = compare_frozen(record, levels=["fit"], cbpp=cbpp)
    assert list(worse.failures["quantity"]) == ["logLik"]


def test_frozen_mode_needs_the_named_frame() -> None:
    with pytest.raises(ParityCallError, match="uses data 'sleepstudy', which was not given"):
        compare_frozen(frozen_path(CORPUS[0], PARITY), other=datasets.load("Dyestuff"))


def test_importing_the_harness_does_not_import_rpy2() -> None:
    code = (
        "import sys, interlace, interlace.parity, interlace.parity.api, interlace.parity.cli,"
        " interlace.parity.corpus; assert 'rpy2' not in sys.modules, 'rpy2 imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PARITY.parents[1])


def test_missing_rpy2_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_rpy2(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(rbridge.importlib, "import_module", no_rpy2)
    with pytest.raises(rbridge.RUnavailableError, match="needs rpy2") as info:
        rbridge.RBridge()
    assert "pip install 'rpy2>=3.5.17,<3.6'" in str(info.value)
    assert isinstance(info.value, RuntimeError)


@pytest.mark.parametrize(
    ("package", "debian"),
    [
        ("lme4", "r-cran-lme4"),
        ("glmmTMB", "r-cran-glmmtmb"),
        ("lmerTest", "r-cran-lmertest"),
        ("coxme", None),
    ],
)
def test_debian_package_names(package: str, debian: str | None) -> None:
    assert rbridge.debian_package(package) == debian


def test_install_remedy_for_a_package_debian_lacks() -> None:
    assert rbridge.install_remedy(["coxme"]) == (
        'in R: install.packages(c("coxme"))  (coxme: not packaged for Debian)'
    )
    assert rbridge.install_remedy(["coxme", "survival"]).startswith(
        "apt-get install r-cran-survival  (or in R: install.packages("
    )


def test_interlace_failure_is_a_failing_row_not_an_exception() -> None:
    record = copy.deepcopy(_record("dyestuff_ml"))
    record["call"]["args"]["formula"] = "Yield ~ 1 + (1 | Nope)"
    report = compare_frozen(record, Dyestuff=datasets.load("Dyestuff"))
    assert not report.passed
    (row,) = report.rows
    assert row.quantity == "interlace fit" and row.verdict == "FAIL"
    assert "Nope" in str(row.interlace)


def test_package_exports_the_compare_function() -> None:
    import importlib

    import interlace.parity as parity
    from interlace.parity import api

    importlib.import_module("interlace.parity.compare")  # the submodule must not shadow it

    assert parity.compare is api.compare
    assert callable(parity.compare_summaries) and parity.ParityReport.__name__ == "ParityReport"
