"""The denominator-df level: lmerTest's / pbkrtest's tables against interlace's, without R.

The references are the frozen records ``sleepstudy_slope_ddf`` and ``cake_type3_ddf`` written by
``python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze`` (lmerTest's
``summary(as_lmerModLmerTest(fit), ddf = ...)`` and ``anova(type = 3, ddf = ...)``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from interlace import datasets
from interlace.parity.api import attaches_lmertest, compare_frozen
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.compare import compare_summaries
from interlace.parity.rbridge import ParsedCode
from interlace.parity.schema import FitSummary
from interlace.parity.tolerances import tolerances_for

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"


def _record(case_id: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((PARITY / f"{case_id}.json").read_text(encoding="utf-8"))
    return record


def _position(table: dict[str, list[Any]], method: str, term: str) -> int:
    pairs = list(zip(table["method"], table["term"], strict=True))
    return pairs.index((method, term))


def test_records_hold_both_methods_and_the_package_versions() -> None:
    summary = _record("cake_type3_ddf")["summary"]
    assert {"lmerTest", "pbkrtest", "lme4"} <= set(summary["versions"])
    coef, anova = summary["ddf"], summary["anova"]
    assert sorted(set(coef["method"])) == ["kenward-roger", "satterthwaite"]
    assert len(coef["term"]) == 2 * 18
    assert anova["term"][:3] == ["recipe", "temperature", "recipe:temperature"]
    assert anova["NumDF"][:3] == [2.0, 5.0, 10.0] and set(anova["type"]) == {3.0}
    # Kenward-Roger's df of the whole-plot effect is the number of whole plots minus 3
    assert coef["df"][_position(coef, "kenward-roger", "recipeB")] == pytest.approx(42, rel=1e-9)


@pytest.mark.parametrize("case_id", ["sleepstudy_slope_ddf", "cake_type3_ddf"])
def test_ddf_level_passes_with_the_issue_bar(case_id: str) -> None:
    record = _record(case_id)
    name = record["call"]["args"]["data"]
    report = compare_frozen(record, tolerances=None, levels=None, **{name: datasets.load(name)})
    assert report.passed, str(report)
    ddf = report.table[report.table["level"] == "ddf"]
    kinds = {q.split("[")[0] for q in ddf["quantity"]}
    assert kinds == {"df", "t", "p", "se", "anova NumDF", "anova DenDF", "anova F", "anova p"}
    assert set(ddf.loc[ddf["quantity"].str.startswith("df["), "tolerance"]) == {"rel 0.0001"}
    assert set(ddf.loc[ddf["quantity"].str.startswith("anova F["), "tolerance"]) == {"rel 1e-05"}
    assert set(ddf.loc[ddf["quantity"].str.startswith("anova p["), "tolerance"]) == {"rel 0.001"}


def test_wrong_df_fails_and_p_within_its_tolerance_passes() -> None:
    record = copy.deepcopy(_record("sleepstudy_slope_ddf"))
    coef = record["summary"]["ddf"]
    i = _position(coef, "satterthwaite", "Days")
    coef["p"][i] *= 1 + 5e-4  # inside the 1e-3 relative bar
    sleepstudy = datasets.load("sleepstudy")
    assert compare_frozen(record, sleepstudy=sleepstudy).passed
    coef["df"][i] *= 1 + 1e-3  # outside the 1e-4 relative bar
    record["summary"]["anova"]["F"][0] *= 1 + 1e-4  # outside the 1e-5 relative bar
    report = compare_frozen(record, sleepstudy=sleepstudy)
    assert list(report.failures["quantity"]) == [
        "df[Days] (satterthwaite)",
        "anova F[Days] (satterthwaite)",
    ]


def test_levels_choose_the_ddf_level() -> None:
    sleepstudy = datasets.load("sleepstudy")
    without = compare_frozen(_record("sleepstudy_slope_ddf"), levels=["fit"], sleepstudy=sleepstudy)
    assert set(without.table["level"]) == {"fit"}
    plain = compare_frozen(_record("sleepstudy_slope"), sleepstudy=sleepstudy)
    assert "ddf" not in set(plain.table["level"])
    asked = compare_frozen(_record("sleepstudy_slope"), levels=["ddf"], sleepstudy=sleepstudy)
    (row,) = asked.rows
    assert row.level == "ddf" and row.verdict == "missing" and not asked.passed
    with pytest.raises(ParityCallError, match="unknown comparison level"):
        compare_frozen(_record("sleepstudy_slope"), levels=["df"], sleepstudy=sleepstudy)


def test_summaries_carry_the_tables_through_json() -> None:
    summary = FitSummary.from_dict(_record("cake_type3_ddf")["summary"])
    assert summary.ddf is not None and summary.anova is not None
    assert list(summary.ddf.columns) == ["method", "term", "se", "df", "t", "p"]
    again = FitSummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert again.ddf is not None and again.anova is not None
    pd.testing.assert_frame_equal(again.ddf, summary.ddf)
    pd.testing.assert_frame_equal(again.anova, summary.anova)
    report = compare_summaries(summary, again)
    assert report.passed and (report.table["level"] == "ddf").sum() == 36 * 3 + 18 + 6 * 4


def test_tolerances_of_the_ddf_level() -> None:
    table = tolerances_for("lmm")
    assert table["ddf"].rtol == 1e-4 and table["pvalue"].rtol == 1e-3
    assert table["statistic"].rtol == 1e-5
    assert tolerances_for("lmm", {"pvalue": 1e-2})["pvalue"].rtol == 1e-2


def _parsed(statements: list[str], source: str = "lmer(y ~ 1 + (1 | g), d)") -> ParsedCode:
    return ParsedCode((ModelCall(None, "lmer", source, {}),), tuple(statements))


@pytest.mark.parametrize(
    "statement",
    [
        "library(lmerTest)",
        'library("lmerTest")',
        "require(lmerTest)",
        "suppressPackageStartupMessages(library(lmerTest))",
        "library(lmerTest, quietly = TRUE)",
    ],
)
def test_lmertest_attached_turns_the_ddf_level_on(statement: str) -> None:
    assert attaches_lmertest(_parsed(["library(lme4)", statement]))


@pytest.mark.parametrize("statement", ["library(lme4)", "library(lmerTestExtra)", "x <- 1"])
def test_other_statements_leave_it_off(statement: str) -> None:
    assert not attaches_lmertest(_parsed([statement]))


def test_lmertest_qualified_call_turns_it_on() -> None:
    assert attaches_lmertest(_parsed([], "lmerTest::lmer(y ~ 1 + (1 | g), d)"))
