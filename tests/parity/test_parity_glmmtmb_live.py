"""Live parity (R via rpy2) of glmmTMB calls: argument spellings and mappings.

The corpus cases (fixtures/parity/corpus.json) run live in test_parity_live.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from interlace import datasets
from interlace.parity.api import compare, freeze
from interlace.parity.calls import ParityCallError
from interlace.parity.corpus import load_corpus
from interlace.parity.report import ParityReport

pytestmark = pytest.mark.r

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = {c.id: c for c in load_corpus(PARITY / "corpus.json")}
SAL = "count ~ mined + (1 | site)"


@pytest.fixture(scope="module", autouse=True)
def _needs_rpy2() -> None:
    pytest.importorskip("rpy2")


@pytest.fixture(scope="module")
def salamanders() -> pd.DataFrame:
    return datasets.load("Salamanders")


def _quantities(report: ParityReport) -> dict[str, str]:
    return dict(zip(report.table["quantity"], report.table["verdict"], strict=True))


@pytest.mark.parametrize(
    "family",
    ["nbinom2", "nbinom2()", 'nbinom2(link = "log")', '"nbinom2"'],
)
def test_nbinom2_spellings(family: str, salamanders: pd.DataFrame) -> None:
    code = f"glmmTMB({SAL}, family = {family}, data = Salamanders)"
    report = compare(code, Salamanders=salamanders)
    assert report.passed, str(report)
    assert _quantities(report)["disp[(Intercept)]"] == "ok"


@pytest.mark.parametrize(
    "family", ["poisson", 'poisson(link = "log")', '"poisson"', "stats::poisson()"]
)
def test_zero_inflated_poisson_spellings(family: str, salamanders: pd.DataFrame) -> None:
    code = f"glmmTMB({SAL}, ziformula = ~ mined, family = {family}, data = Salamanders)"
    report = compare(code, Salamanders=salamanders)
    assert report.passed, str(report)
    quantities = _quantities(report)
    assert quantities["zi[minedno]"] == "ok" and quantities["se[zi~minedno]"] == "ok"


def test_zero_inflation_with_an_intercept_only(salamanders: pd.DataFrame) -> None:
    code = f"glmmTMB({SAL}, zi = ~1, family = poisson, data = Salamanders)"
    report = compare(code, Salamanders=salamanders)
    assert report.passed, str(report)
    assert [q for q in report.table["quantity"] if q.startswith("zi[")] == ["zi[(Intercept)]"]


def test_dispersion_model_with_a_covariate(salamanders: pd.DataFrame) -> None:
    code = f"glmmTMB({SAL}, dispformula = ~ mined, family = nbinom2, data = Salamanders)"
    report = compare(code, Salamanders=salamanders)
    assert report.passed, str(report)
    assert _quantities(report)["disp[minedno]"] == "ok"


def test_weights_offset_and_contrasts(salamanders: pd.DataFrame) -> None:
    code = (
        f"glmmTMB({SAL}, family = poisson, data = Salamanders, offset = 0.01 * DOY, "
        'contrasts = list(mined = "contr.sum"), na.action = na.fail)'
    )
    report = compare(code, Salamanders=salamanders)
    assert report.passed, str(report)
    assert "fixef[mined1]" in _quantities(report)
    sleep = "glmmTMB(Reaction ~ Days + (1 | Subject), sleepstudy, weights = 1 + Days %% 3)"
    report = compare(sleep, sleepstudy=datasets.load("sleepstudy"))
    assert report.passed, str(report)


def test_unsupported_arguments_are_refused(salamanders: pd.DataFrame) -> None:
    code = f"glmmTMB({SAL}, family = poisson, data = Salamanders, map = list())"
    with pytest.raises(ParityCallError, match="map of glmmTMB"):
        compare(code, Salamanders=salamanders)


def test_freeze_reproduces_the_stored_record() -> None:
    case = CORPUS["glmmtmb_salamanders_zip"]
    (record,) = freeze(case.code, ddf=None, **case.frames())
    stored = json.loads((PARITY / f"{case.id}.json").read_text(encoding="utf-8"))
    assert record["call"] == stored["call"]
    assert record["arguments"] == stored["arguments"]
    for part in ("fixef", "zi"):
        assert record["summary"][part]["values"] == pytest.approx(
            stored["summary"][part]["values"], rel=1e-8
        )
    assert [p["value"] for p in record["objective"]] == pytest.approx(
        [p["value"] for p in stored["objective"]], rel=1e-10
    )
