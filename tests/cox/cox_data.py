"""Data and reference fits of the Cox tests: fixtures/coxme (coxme 2.2-22, frozen)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from interlace.api.coxme import coxme
from interlace.results.coxme_result import CoxmeResult

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
COXME_DIR = FIXTURES / "coxme"

# The R calls of fixtures/coxme/coxme_reference.json; lung codes its status 1/2, which
# interlace refuses, so its formulas say status == 2 (R's Surv reads 1/2 that way).
CASES: dict[str, tuple[str, str, str]] = {
    "kidney_frailty": ("kidney", "Surv(time, status) ~ age + sex + (1 | id)", "efron"),
    "lung_inst": ("lung", "Surv(time, status == 2) ~ ph.ecog + age + (1 | inst)", "efron"),
    "lung_strata": (
        "lung",
        "Surv(time, status == 2) ~ age + strata(sex) + (1 | inst)",
        "efron",
    ),
    "lung_breslow": (
        "lung",
        "Surv(time, status == 2) ~ ph.ecog + age + (1 | inst)",
        "breslow",
    ),
    "cgd_counting": ("cgd", "Surv(tstart, tstop, status) ~ treat + (1 | id)", "efron"),
    "eortc_slope": ("eortc", "Surv(y, uncens) ~ trt + (1 + trt | center)", "efron"),
}


@cache
def dataset(name: str) -> pd.DataFrame:
    """One of the CSV data sets of fixtures/coxme (read once; callers must not modify it)."""
    return pd.read_csv(COXME_DIR / f"{name}.csv")


@cache
def coxme_reference() -> dict[str, dict[str, Any]]:
    """The coxme reference fits by case id."""
    with (COXME_DIR / "coxme_reference.json").open(encoding="utf-8") as fh:
        cases = json.load(fh)["cases"]
    return {case["id"]: case for case in cases}


@cache
def _predict_fixture() -> dict[str, Any]:
    with (FIXTURES / "coxme_predict" / "cases.json").open(encoding="utf-8") as fh:
        fixture: dict[str, Any] = json.load(fh)
    return fixture


def predict_reference() -> dict[str, dict[str, Any]]:
    """survival's predictions and residuals at coxme's estimates (fixtures/R/coxme_predict.R)."""
    cases: dict[str, dict[str, Any]] = _predict_fixture()["cases"]
    return cases


def nested_reference() -> dict[str, Any]:
    """coxme's names and labels of the parts of ``(1 | disease/id)`` on kidney."""
    nested: dict[str, Any] = _predict_fixture()["nested"]
    return nested


@cache
def fitted(case_id: str) -> CoxmeResult:
    """The interlace fit of one reference case (fitted once per session)."""
    data, formula, ties = CASES[case_id]
    return coxme(formula, dataset(data), ties=ties)  # type: ignore[arg-type]
