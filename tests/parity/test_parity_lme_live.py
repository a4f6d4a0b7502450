"""Live parity (R via rpy2) of nlme::lme calls; the corpus cases run in test_parity_live."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from interlace import datasets
from interlace.parity import cli
from interlace.parity.api import compare, compare_all, freeze
from interlace.parity.corpus import load_corpus

pytestmark = pytest.mark.r

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = {c.id: c for c in load_corpus(PARITY / "corpus.json")}


@pytest.fixture(scope="module", autouse=True)
def _needs_rpy2() -> None:
    pytest.importorskip("rpy2")


def test_cli_script_mixing_lmer_and_lme(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "models.R"
    script.write_text(
        "library(lme4)\nlibrary(nlme)\n"
        "m1 <- lmer(distance ~ age + (age | Subject), Orthodont)\n"
        "m2 <- lme(distance ~ age, data = Orthodont, random = ~ age | Subject)\n"
        "m3 <- nlme::lme(score ~ Machine, Machines, ~ 1 | Worker,\n"
        "                correlation = corCompSymm(form = ~ 1 | Worker/Machine), method = 'ML')\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser(prog="interlace")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["parity", str(script), "--json"])
    status = int(args.handler(args))
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["passed"] is True, out
    reports = out["reports"]
    assert [r["title"].split(" <- ")[0] for r in reports] == ["m1", "m2", "m3"]
    assert [r["meta"]["tolerance_class"] for r in reports] == ["lmm", "lme", "lme"]
    levels = [{row["level"] for row in r["rows"]} for r in reports]
    assert levels == [{"design", "objective", "fit"}, {"fit", "ddf"}, {"fit", "ddf"}]
    m3 = {row["quantity"]: row for row in reports[2]["rows"]}
    assert m3["REML"]["R"] is False and m3["correlation[Rho]"]["verdict"] == "ok"
    # lmer and lme fit the same model here: the same REML log-likelihood on both sides
    loglik = [{row["quantity"]: row for row in r["rows"]}["logLik"]["R"] for r in reports[:2]]
    assert loglik[0] == pytest.approx(loglik[1], abs=1e-6)


def test_random_as_a_list_of_nested_levels() -> None:
    code = "lme(strength ~ 1, data = Pastes, random = list(batch = ~ 1, cask = ~ 1))"
    report = compare(code, levels=["fit"], Pastes=datasets.load("Pastes"))
    assert report.passed, str(report)
    assert "ranef[cask (Intercept)]" in " ".join(report.table["quantity"])


def test_varexp_is_compared_and_other_variance_functions_reported() -> None:
    orthodont = datasets.load("Orthodont")
    code = "lme(distance ~ age, Orthodont, ~ 1 | Subject, weights = varExp(form = ~ age))"
    report = compare(code, levels=["fit"], Orthodont=orthodont)
    assert report.passed, str(report)
    assert report.table.set_index("quantity").loc["varfunc[expon]", "verdict"] == "ok"
    code = (
        "m1 <- lme(distance ~ age, Orthodont, ~ 1 | Subject, weights = ~ age)\n"
        "m2 <- lme(distance ~ age, Orthodont, ~ 1 | Subject,\n"
        "          weights = varPower(0.5, form = ~ age, fixed = TRUE))\n"
        "m3 <- lme(distance ~ age, Orthodont, ~ 1 | Subject, correlation = corExp(form = ~ age))"
    )
    reports = compare_all(code, levels=["fit"], Orthodont=orthodont)
    expected = [
        "(varFixed) has no interlace equivalent",
        "holds parameters fixed",
        "corExp) has no interlace equivalent",
    ]
    for report, message in zip(reports, expected, strict=True):
        assert not report.passed
        (row,) = report.rows
        assert row.quantity == "interlace fit" and message in str(row.interlace)


def test_freeze_reproduces_the_stored_lme_record() -> None:
    case = CORPUS["lme_machines_cs"]
    (record,) = freeze(case.code, ddf=None, **case.frames())
    stored = json.loads((PARITY / f"{case.id}.json").read_text(encoding="utf-8"))
    assert record["call"] == stored["call"] and record["arguments"] == stored["arguments"]
    summary, old = record["summary"], stored["summary"]
    assert summary["correlation_params"]["values"] == pytest.approx(
        old["correlation_params"]["values"], rel=1e-8
    )
    assert summary["loglik"]["value"] == pytest.approx(old["loglik"]["value"], rel=1e-10)
    assert summary["ddf"]["df"] == old["ddf"]["df"]


def test_freeze_reproduces_the_stored_variance_function_record() -> None:
    case = CORPUS["lme_orthodont_varident"]
    (record,) = freeze(case.code, ddf=None, **case.frames())
    stored = json.loads((PARITY / f"{case.id}.json").read_text(encoding="utf-8"))
    assert record["call"] == stored["call"] and record["arguments"] == stored["arguments"]
    summary, old = record["summary"], stored["summary"]
    assert summary["varfunc_params"]["names"] == old["varfunc_params"]["names"]
    assert summary["varfunc_params"]["values"] == pytest.approx(
        old["varfunc_params"]["values"], rel=1e-8
    )
