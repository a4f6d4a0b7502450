"""Live parity (R via rpy2) of clmm, glmer.nb and coxme calls, and of subset, contrasts and
na.action in lmer and glmer calls."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from interlace import datasets
from interlace.parity.api import compare
from interlace.parity.corpus import freeze_case, load_corpus
from interlace.parity.models import r_functions
from interlace.parity.rbridge import RCallError, RUnavailableError, bridge

pytestmark = pytest.mark.r

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
CORPUS = {c.id: c for c in load_corpus(PARITY / "corpus.json")}
WINE = "clmm(rating ~ temp + contact + (1 | judge), data = wine)"


@pytest.fixture(scope="module", autouse=True)
def _needs_rpy2() -> None:
    pytest.importorskip("rpy2")


# --- clmm ---------------------------------------------------------------------------------------


def test_clmm_report_passes_at_the_objective_and_fit_levels() -> None:
    report = compare(WINE, wine=datasets.load("wine"))
    assert report.passed, str(report)
    table = report.table
    assert set(table["level"]) == {"objective", "fit"}
    assert report.meta["version ordinal"] == "2022.11.16"
    rows = table.set_index("quantity")
    assert abs(rows.loc["thresholds[3|4]"]["difference"]) < 1e-4
    assert abs(rows.loc["fixef[tempwarm]"]["difference"]) < 1e-4
    objective = table[table["level"] == "objective"]
    assert len(objective) == 2 and (objective["difference"].abs() < 1e-5).all()


def test_clmm_link_and_threshold_arguments() -> None:
    code = (
        "clmm(rating ~ temp + contact + (1 | judge), data = wine, link = 'probit', "
        'threshold = "equidistant")'
    )
    report = compare(code, wine=datasets.load("wine"))
    assert report.passed, str(report)
    quantities = set(report.table["quantity"])
    assert {"thresholds[threshold.1]", "thresholds[spacing]", "se[spacing]"} <= quantities


# --- glmer.nb -----------------------------------------------------------------------------------


def test_glmer_nb_positional_call_is_matched_by_name() -> None:
    parsed = bridge().parse_calls(
        "m <- lme4::glmer.nb(count ~ mined + (1 | site), Salamanders, nAGQ = 1)", r_functions()
    )
    (call,) = parsed.calls
    assert call.function == "glmer.nb"
    assert dict(call.args) == {
        "formula": "count ~ mined + (1 | site)",
        "data": "Salamanders",
        "nAGQ": "1",
    }


# --- coxme --------------------------------------------------------------------------------------


def test_coxme_live_or_a_clear_missing_package_error() -> None:
    case = CORPUS["coxme_kidney_frailty"]
    try:
        report = compare(case.code, kidney=case.frames()["kidney"])
    except RUnavailableError as exc:
        message = str(exc)
        assert "needs the R package(s) coxme, not installed" in message
        assert 'install.packages(c("coxme"))' in message and "not packaged for Debian" in message
        pytest.skip(message.splitlines()[0])
    assert report.passed, str(report)


def test_freezing_a_coxme_case_without_coxme_converts_the_reference(tmp_path: Path) -> None:
    case = CORPUS["coxme_lung_breslow"]
    path, skipped = freeze_case(case, tmp_path)
    if skipped is None:
        pytest.skip("coxme is installed: the case was fitted in R")
    assert skipped.startswith("live parity mode needs the R package(s) coxme")
    assert "record converted from coxme 2.2-22 reference outputs" in skipped
    written = json.loads(path.read_text(encoding="utf-8"))
    assert written == json.loads((PARITY / f"{case.id}.json").read_text(encoding="utf-8"))
    assert written["arguments"] == {"ties": "breslow"}


# --- subset, contrasts, na.action ---------------------------------------------------------------


def test_lmer_subset_with_evaluated_weights() -> None:
    code = (
        "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, weights = 1 + Days %% 3, "
        "subset = Days > 1)"
    )
    report = compare(code, sleepstudy=datasets.load("sleepstudy"))
    assert report.passed, str(report)
    rows = report.table.set_index("quantity")
    assert rows.loc["nobs", "R"] == 144
    assert set(report.table["level"]) == {"design", "objective", "fit"}


def test_glmer_numeric_subset() -> None:
    code = (
        "glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial, "
        "subset = -(1:5))"
    )
    report = compare(code, levels=["design", "fit"], cbpp=datasets.load("cbpp"))
    assert report.passed, str(report)
    assert report.table.set_index("quantity").loc["nobs", "interlace"] == 51


@pytest.mark.parametrize(
    "contrasts",
    [
        'list(recipe = "contr.sum", temperature = contr.helmert)',
        "list(recipe = contr.sum(3))",
        "list(recipe = contr.treatment(3, base = 2))",
    ],
)
def test_lmer_contrasts(contrasts: str) -> None:
    code = (
        "lmer(angle ~ recipe + temperature + (1 | recipe:replicate), cake, "
        f"contrasts = {contrasts})"
    )
    report = compare(code, cake=datasets.load("cake"))
    assert report.passed, str(report)
    names = str(report.table.set_index("quantity").loc["X column names", "R"])
    assert "recipe1" in names or "recipeA" in names


def _sleepstudy_with_missing() -> pd.DataFrame:
    data = datasets.load("sleepstudy").copy()
    data.loc[[2, 40, 41], "Reaction"] = np.nan
    return data


@pytest.mark.parametrize("action", ["na.exclude", '"na.omit"'])
def test_lmer_na_action(action: str) -> None:
    code = f"lmer(Reaction ~ Days + (1 | Subject), sleepstudy, na.action = {action})"
    report = compare(code, sleepstudy=_sleepstudy_with_missing())
    assert report.passed, str(report)
    assert report.table.set_index("quantity").loc["nobs", "interlace"] == 177


def test_lmer_na_fail_is_r_error() -> None:
    code = "lmer(Reaction ~ Days + (1 | Subject), sleepstudy, na.action = na.fail)"
    with pytest.raises(RCallError, match="missing values"):
        compare(code, sleepstudy=_sleepstudy_with_missing())


def test_r_summary_of_a_coxme_fit_matches_the_reference_conversion() -> None:
    """R's coxme fit components shaped by the bridge give the same summary as the reference
    file's numbers converted in Python (a fit object assembled from the eortc reference)."""
    import rpy2.robjects as ro

    from interlace.parity.calls import ModelCall
    from interlace.parity.corpus import reference_case
    from interlace.parity.cox import coxme_reference_record
    from interlace.parity.rbridge import RFit
    from interlace.parity.schema import FitSummary

    ref = reference_case(PARITY.parent / "coxme" / "coxme_reference.json", "eortc_slope")
    (v11, c12), (_, v22) = ref["varcorr"]["center"]
    first = np.asarray(ref["ranef_first"]["center"])
    se = ref["se"]["trt"]
    fake = ro.r(
        """function(beta, se, v11, c12, v22, first, loglik, n) {
             nm <- c("Intercept", "trt")
             variance <- diag(c(rep(1, 6), se^2))
             frail <- rbind(first, matrix(0.5, 4, 2))
             structure(list(coefficients = c(trt = beta), variance = variance,
                            vcoef = list(center = matrix(c(v11, c12, c12, v22), 2,
                                                         dimnames = list(nm, nm))),
                            frail = list(center = frail), loglik = loglik, n = n),
                       class = "coxme")
           }"""
    )(
        ref["coef"]["trt"],
        se,
        v11,
        c12,
        v22,
        ro.r.matrix(ro.FloatVector(first.T.ravel()), nrow=3),
        ro.FloatVector(list(ref["loglik"].values())),
        ro.IntVector(ref["n"]),
    )
    call = ModelCall(
        None,
        "coxme",
        "coxme(Surv(y, uncens) ~ trt + (1 + trt | center), data = eortc)",
        {"formula": "Surv(y, uncens) ~ trt + (1 + trt | center)", "data": "eortc"},
    )
    from_r = bridge().summarize_coxme(RFit(call, fake, (), ()), {})
    converted = coxme_reference_record(ref, call, {}, provenance="", versions={})["summary"]
    assert from_r.to_dict() == FitSummary.from_dict(converted).to_dict()


def test_cli_script_mixing_lmer_and_clmm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from interlace.parity import cli

    script = tmp_path / "models.R"
    script.write_text(
        "library(ordinal)\n"
        "m1 <- lmer(Yield ~ 1 + (1 | Batch), Dyestuff)\n"
        "c1 <- clmm(rating ~ temp + contact + (1 | judge), data = wine, nAGQ = 5)\n",
        encoding="utf-8",
    )
    parser = argparse.ArgumentParser(prog="interlace")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["parity", str(script), "--json"])
    status = int(args.handler(args))
    out = json.loads(capsys.readouterr().out)
    assert status == 0 and out["passed"] is True, out
    assert [r["meta"]["tolerance_class"] for r in out["reports"]] == ["lmm", "clmm"]
