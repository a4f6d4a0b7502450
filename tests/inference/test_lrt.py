"""Likelihood-ratio tests against lme4's anova(m1, m2, ...)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from inference_helpers import names, rel_err

from interlace import datasets
from interlace.api.lmer import lmer
from interlace.errors import IncomparableModelsError
from interlace.inference import RefitWarning, lrt


def _formula(call: str) -> str:
    return call.split("lmer(", 1)[1].split(", ")[0]


def _fits(ref: Any, dataset: str) -> list[Any]:
    data = datasets.load(dataset)
    return [lmer(_formula(c), data, REML="REML = FALSE" not in c) for c in ref["calls"]]


@pytest.mark.parametrize(
    ("case", "dataset", "refits"),
    [
        ("lrt_sleepstudy", "sleepstudy", True),
        ("lrt_orthodont_ml", "Orthodont", False),
        ("lrt_machines", "Machines", True),
    ],
)
def test_lrt_matches_lme4(case: str, dataset: str, refits: bool, reference: Any) -> None:
    ref = reference[case]
    fits = _fits(ref, dataset)
    if refits:
        with pytest.warns(RefitWarning, match="refitting model"):
            table = lrt(*fits)
    else:
        table = lrt(*fits)
    r = ref["table"]
    assert list(table.index) == names(r["rownames"])
    assert list(table.columns) == [
        "npar",
        "AIC",
        "BIC",
        "logLik",
        "deviance",
        "Chisq",
        "Df",
        "Pr(>Chisq)",
    ]
    assert rel_err(table["npar"], r["npar"]) == 0.0
    for col in ("AIC", "BIC", "logLik", "deviance"):
        assert rel_err(table[col], r[col]) < 1e-8
    assert rel_err(table["Chisq"], r["Chisq"]) < 1e-5
    assert rel_err(table["Df"], r["Df"]) == 0.0
    assert rel_err(table["Pr(>Chisq)"], r["Pr(>Chisq)"]) < 1e-3
    assert table.attrs["heading"][1] == "Models:"
    assert bool(table.attrs["refitted"]) == refits


def test_different_rows_are_refused() -> None:
    data = datasets.load("sleepstudy")
    a = lmer("Reaction ~ Days + (1 | Subject)", data)
    b = lmer("Reaction ~ Days + (1 | Subject)", data.iloc[:-10])
    with pytest.raises(IncomparableModelsError, match="same size of dataset"):
        lrt(a, b)


def test_different_response_is_refused() -> None:
    data = datasets.load("sleepstudy").assign(logR=lambda d: np.log(d["Reaction"]))
    a = lmer("Reaction ~ Days + (1 | Subject)", data, REML=False)
    b = lmer("logR ~ Days + (1 | Subject)", data, REML=False)
    with pytest.raises(IncomparableModelsError, match="different responses"):
        lrt(a, b)


def test_same_size_but_different_rows_are_refused() -> None:
    data = datasets.load("sleepstudy")
    a = lmer("Reaction ~ Days + (1 | Subject)", data.iloc[10:], REML=False)
    b = lmer("Reaction ~ Days + (1 | Subject)", data.iloc[:-10], REML=False)
    with pytest.raises(IncomparableModelsError, match="different rows"):
        lrt(a, b)


def test_needs_two_models() -> None:
    data = datasets.load("sleepstudy")
    with pytest.raises(ValueError, match="two"):
        lrt(lmer("Reaction ~ Days + (1 | Subject)", data))
