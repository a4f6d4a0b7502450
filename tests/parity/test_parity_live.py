"""Live parity: the same lmer or glmer call in R (rpy2) and in interlace, at three levels."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from interlace import datasets
from interlace.parity import api, cli
from interlace.parity.api import compare, compare_all, freeze
from interlace.parity.calls import ParityCallError
from interlace.parity.corpus import ParityCase, load_corpus, run_live
from interlace.parity.rbridge import RCallError

pytestmark = pytest.mark.r

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = load_corpus(PARITY / "corpus.json")
#: Cases R can run here: the coxme ones are recorded from reference outputs (coxme is not
#: packaged for Debian); see test_parity_models_live for coxme's live path.
LIVE = [c for c in CORPUS if c.reference is None]
SLEEP = "m1 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"


@pytest.fixture(scope="module", autouse=True)
def _needs_rpy2() -> None:
    pytest.importorskip("rpy2")


def test_sleepstudy_report_passes_at_all_levels() -> None:
    report = compare(SLEEP, sleepstudy=datasets.load("sleepstudy"))
    assert report.passed, str(report)
    table = report.table
    assert set(table["level"]) == {"design", "objective", "fit"}
    assert report.title == SLEEP
    assert report.meta["mode"] == "live" and report.meta["version lme4"].startswith("1.1")
    objective = table[table["level"] == "objective"]
    assert len(objective) == 2 and (objective["difference"].abs() < 1e-6).all()
    fixef = table.set_index("quantity").loc["fixef[Days]"]
    assert abs(fixef["difference"]) < 1e-4 and fixef["verdict"] == "ok"


def test_levels_can_be_selected() -> None:
    report = compare(SLEEP, levels=["fit"], sleepstudy=datasets.load("sleepstudy"))
    assert set(report.table["level"]) == {"fit"}


def test_one_call_per_compare() -> None:
    code = SLEEP + "\nm2 <- lmer(Reaction ~ Days + (1 | Subject), sleepstudy, REML = FALSE)"
    with pytest.raises(ParityCallError, match="exactly one model call"):
        compare(code, sleepstudy=datasets.load("sleepstudy"))
    reports = compare_all(code, levels=["fit"], sleepstudy=datasets.load("sleepstudy"))
    assert [r.title.split(" <- ")[0] for r in reports] == ["m1", "m2"]
    assert all(r.passed for r in reports)


def test_unsupported_argument_is_refused_or_reported() -> None:
    code = "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, start = list(theta = 1))"
    sleepstudy = datasets.load("sleepstudy")
    with pytest.raises(ParityCallError, match="start"):
        compare(code, sleepstudy=sleepstudy)
    (report,) = compare_all(code, errors="report", sleepstudy=sleepstudy)
    assert not report.passed and report.rows[0].quantity == "call"


def test_freeze_reproduces_the_stored_record() -> None:
    """Stored versus live: the committed record still matches what R computes here."""
    (record,) = freeze(CORPUS[0].code, ddf=None, **CORPUS[0].frames())
    stored = json.loads((PARITY / f"{CORPUS[0].id}.json").read_text(encoding="utf-8"))
    assert record["call"] == stored["call"]
    assert record["summary"]["fixef"]["values"] == pytest.approx(
        stored["summary"]["fixef"]["values"], rel=1e-8
    )
    assert record["summary"]["loglik"]["value"] == pytest.approx(
        stored["summary"]["loglik"]["value"], rel=1e-10
    )


@pytest.mark.slow
@pytest.mark.parametrize("case", LIVE, ids=[c.id for c in LIVE])
def test_corpus_live(case: ParityCase) -> None:
    report = run_live(case)
    assert report.passed, str(report)


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="interlace")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["parity", *argv])
    return int(args.handler(args))


def test_cli_json_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "models.R"
    script.write_text(
        "library(lme4)\n"
        "m1 <- lmer(Yield ~ 1 + (1 | Batch), dyes)\n"
        "m2 <- lmer(Reaction ~ Days + (1 | Subject), sleepstudy, REML = FALSE)\n",
        encoding="utf-8",
    )
    csv = tmp_path / "dyes.csv"
    datasets.load("Dyestuff").to_csv(csv, index=False)
    status = _run_cli([str(script), "--data", f"dyes={csv}", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["passed"] is True
    assert [r["title"].split(" <- ")[0] for r in out["reports"]] == ["m1", "m2"]

    status = _run_cli([str(script), "--data", f"dyes={csv}", "--tolerance", "se=1e-15"])
    text = capsys.readouterr().out
    assert status == 1
    assert "FAILED" in text and "se[(Intercept)]" in text


def test_ignored_control_argument_is_noted() -> None:
    code = 'lmer(Yield ~ 1 + (1 | Batch), Dyestuff, control = lmerControl(optimizer = "bobyqa"))'
    report = compare(code, levels=["fit"], Dyestuff=datasets.load("Dyestuff"))
    assert report.passed, str(report)
    assert any(n.startswith("argument control = lmerControl(") for n in report.notes)


def test_model_functions_not_supported_yet_are_not_silently_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every model function the harness knows has an adapter now: take glmmTMB's away
    known = {f: text for f, text in api.r_functions().items() if f != "glmmTMB"}
    monkeypatch.setattr(api, "r_functions", lambda: known)
    code = "library(lme4)\ng <- glmmTMB(incidence ~ period + (1 | herd), cbpp)\nx <- 1\n"
    with pytest.raises(ParityCallError, match="not supported by the parity harness yet"):
        compare_all(code, cbpp=datasets.load("cbpp"))
    (report,) = compare_all(code, errors="report", cbpp=datasets.load("cbpp"))
    assert not report.passed and report.title.startswith("g <- glmmTMB(")
    assert report.notes == ("statement not run on either side: x <- 1",)


@pytest.mark.parametrize(
    "family",
    ["binomial", "binomial()", '"binomial"', 'binomial(link = "logit")', 'binomial("logit")'],
)
def test_glmer_family_forms(family: str) -> None:
    code = f"glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, {family})"
    report = compare(code, levels=["fit"], cbpp=datasets.load("cbpp"))
    assert report.passed, str(report)


def test_glmer_family_that_is_not_a_family_is_an_r_error() -> None:
    code = "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, family = 3)"
    with pytest.raises(RCallError):
        compare(code, cbpp=datasets.load("cbpp"))


def test_glmer_nagq0_compares_the_theta_only_deviance() -> None:
    code = (
        "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial, nAGQ = 0)"
    )
    report = compare(code, cbpp=datasets.load("cbpp"))
    assert report.passed, str(report)
    objective = report.table[report.table["level"] == "objective"]
    assert len(objective) == 2 and all(
        "(0.64" in q and " " not in q.split("(")[1] for q in objective["quantity"]
    )


def test_cli_script_mixing_lmer_and_glmer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "models.R"
    script.write_text(
        "library(lme4)\n"
        "m1 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)\n"
        "g1 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),\n"
        '            data = herds, family = binomial(link = "probit"))\n'
        "g2 = glmer(TICKS ~ YEAR + (1 | LOCATION), grouseticks, family = poisson)\n",
        encoding="utf-8",
    )
    herds = tmp_path / "herds.csv"
    datasets.load("cbpp").to_csv(herds, index=False)
    status = _run_cli([str(script), "--data", f"herds={herds}", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["passed"] is True, out
    titles = [r["title"] for r in out["reports"]]
    assert [t.split(" <- ")[0] for t in titles] == ["m1", "g1", "g2"]
    assert [r["meta"]["tolerance_class"] for r in out["reports"]] == ["lmm", "glmm", "glmm"]
