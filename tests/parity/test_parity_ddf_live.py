"""The denominator-df level live: lmerTest and pbkrtest in R (rpy2) against interlace."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from interlace import datasets
from interlace.parity import cli
from interlace.parity.api import compare, freeze
from interlace.parity.rbridge import RBridge, RUnavailableError

pytestmark = pytest.mark.r

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
SLEEP = "lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"


@pytest.fixture(scope="module", autouse=True)
def _needs_rpy2() -> None:
    pytest.importorskip("rpy2")


def _methods(report: Any) -> set[str]:
    ddf = report.table[report.table["level"] == "ddf"]
    return {q.rsplit("(", 1)[1].rstrip(")") for q in ddf["quantity"]}


def test_library_lmertest_turns_the_level_on() -> None:
    sleepstudy = datasets.load("sleepstudy")
    report = compare(f"library(lmerTest)\n{SLEEP}", sleepstudy=sleepstudy)
    assert report.passed, str(report)
    assert set(report.table["level"]) == {"design", "objective", "fit", "ddf"}
    assert _methods(report) == {"satterthwaite", "kenward-roger"}
    assert report.meta["version lmerTest"] and report.meta["version pbkrtest"]
    (days,) = [r for r in report.rows if r.quantity == "df[Days] (satterthwaite)"]
    # lmerTest's df 16.99998 (numerical derivatives; exactly 17 in theory) is what interlace matches
    assert days.r == pytest.approx(17.0, rel=1e-5) and days.r != 17.0
    assert days.difference is not None and abs(days.difference) < 1e-6
    plain = compare(SLEEP, sleepstudy=sleepstudy)
    assert "ddf" not in set(plain.table["level"]) and "version lmerTest" not in plain.meta
    asked = compare(SLEEP, levels=["ddf"], sleepstudy=sleepstudy)
    assert asked.passed and set(asked.table["level"]) == {"ddf"}


def test_ml_fit_has_satterthwaite_only() -> None:
    code = "lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE)"
    report = compare(code, levels=["ddf"], sleepstudy=datasets.load("sleepstudy"))
    assert report.passed, str(report)
    assert _methods(report) == {"satterthwaite"}


def test_missing_lmertest_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    original = RBridge._call

    def without_lmertest(self: RBridge, helper: str, *args: Any) -> Any:
        if helper != "missing_packages":
            return original(self, helper, *args)
        gone = [p for p in args[0] if p in {"lmerTest", "pbkrtest"}]
        return self._ro.StrVector(gone)

    monkeypatch.setattr(RBridge, "_call", without_lmertest)
    with pytest.raises(RUnavailableError, match="lmerTest, pbkrtest") as info:
        compare(f"library(lmerTest)\n{SLEEP}", sleepstudy=datasets.load("sleepstudy"))
    assert "apt-get install r-cran-lmertest r-cran-pbkrtest" in str(info.value)
    assert compare(SLEEP, levels=["fit"], sleepstudy=datasets.load("sleepstudy")).passed


def test_freeze_reproduces_the_stored_ddf_record() -> None:
    stored = json.loads((PARITY / "cake_type3_ddf.json").read_text(encoding="utf-8"))
    (record,) = freeze(
        "lmer(angle ~ recipe * temperature + (1 | recipe:replicate), cake)",
        ddf=True,
        cake=datasets.load("cake"),
    )
    for part in ("ddf", "anova"):
        ours, theirs = record["summary"][part], stored["summary"][part]
        assert ours["term"] == theirs["term"] and ours["method"] == theirs["method"]
        for column in ("df", "p") if part == "ddf" else ("DenDF", "F", "p"):
            assert ours[column] == pytest.approx(theirs[column], rel=1e-8)


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="interlace")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["parity", *argv])
    return int(args.handler(args))


def test_cli_on_a_file_that_attaches_lmertest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "models.R"
    script.write_text(
        "library(lme4)\n"
        "library(lmerTest)\n"
        "m1 <- lmer(angle ~ recipe * temperature + (1 | recipe:replicate), cake)\n"
        "g1 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial)\n",
        encoding="utf-8",
    )
    status = _run_cli([str(script), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["passed"] is True, out
    m1, g1 = out["reports"]
    quantities = {r["quantity"] for r in m1["rows"] if r["level"] == "ddf"}
    assert "anova F[recipe:temperature] (kenward-roger)" in quantities
    assert "df[recipeB] (satterthwaite)" in quantities
    (info,) = [r for r in g1["rows"] if r["level"] == "ddf"]
    assert info["verdict"] == "info" and info["R"] == "not defined for glmer fits"

    status = _run_cli([str(script), "--level", "fit"])
    text = capsys.readouterr().out
    assert status == 0 and "(satterthwaite)" not in text
