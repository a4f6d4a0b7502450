"""glmmTMB calls translated (or evaluated by ``interlace.r``) give glmmTMB's fits, without R.

R's numbers are the frozen parity records of fixtures/parity (glmmTMB 1.1.5, written by
``python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import interlace
from interlace import datasets
from interlace.errors import InterlaceWarning
from interlace.translate import translate

PARITY = Path(__file__).resolve().parents[2] / "fixtures" / "parity"
ZIP = "count ~ mined + (1 | site)"


def _r_summary(case_id: str) -> dict[str, Any]:
    record = json.loads((PARITY / f"{case_id}.json").read_text(encoding="utf-8"))
    summary: dict[str, Any] = record["summary"]
    return summary


@pytest.fixture(scope="module")
def salamanders() -> pd.DataFrame:
    return datasets.load("Salamanders")


def _run(code: str, frame: pd.DataFrame) -> Any:
    python = translate(code)
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterlaceWarning)
        exec(
            python.replace('interlace.datasets.load("Salamanders")', "_frame"),
            {"_frame": frame},
            namespace,
        )
    return namespace["fit"]


def _matches(fit: Any, case_id: str) -> None:
    r = _r_summary(case_id)
    np.testing.assert_allclose(fit.fe_params.to_numpy(), r["fixef"]["values"], rtol=1e-3)
    if r["zi"]["values"]:
        np.testing.assert_allclose(fit.zi_params.to_numpy(), r["zi"]["values"], rtol=1e-3)
    if r["disp"]["values"]:
        np.testing.assert_allclose(fit.disp_params.to_numpy(), r["disp"]["values"], rtol=1e-3)
    assert fit.llf >= r["loglik"]["value"] - 1e-4


@pytest.mark.parametrize(
    "call",
    [
        f"glmmTMB({ZIP}, zi = ~mined, family = poisson, data = Salamanders)",
        f'glmmTMB({ZIP}, ziformula = ~ mined, family = "poisson", data = Salamanders)',
        f'glmmTMB({ZIP}, zi = ~mined, family = poisson(link = "log"), Salamanders)',
    ],
)
def test_zero_inflated_poisson_spellings(call: str, salamanders: pd.DataFrame) -> None:
    fit = _run(f"fit <- {call}", salamanders)
    assert (fit.family, fit.ziformula) == ("poisson", "~mined")
    _matches(fit, "glmmtmb_salamanders_zip")


@pytest.mark.parametrize("family", ["nbinom2", "nbinom2()", '"nbinom2"'])
def test_nbinom2_spellings(family: str, salamanders: pd.DataFrame) -> None:
    fit = _run(f"fit <- glmmTMB({ZIP}, family = {family}, data = Salamanders)", salamanders)
    assert fit.family == "nbinom2"
    _matches(fit, "glmmtmb_salamanders_nb2")


def test_r_evaluates_a_pasted_glmmtmb_call(salamanders: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterlaceWarning)
        fit = interlace.r(
            f"glmmTMB({ZIP}, zi = ~mined, family = poisson, data = Salamanders)",
            Salamanders=salamanders,
        )
    _matches(fit, "glmmtmb_salamanders_zip")


def test_double_bar_is_diag_and_reml_is_kept() -> None:
    python = translate(
        "fit <- glmmTMB(Reaction ~ Days + (Days || Subject), data = sleepstudy, REML = TRUE)"
    )
    assert "glmmTMB reads (Days || Subject) as diag(Days | Subject)" in python
    assert '"Reaction ~ Days + (Days || Subject)"' in python and "REML=True" in python
    namespace: dict[str, Any] = {}
    exec(python, namespace)
    fit = namespace["fit"]
    r = _r_summary("glmmtmb_sleepstudy_diag_reml")
    np.testing.assert_allclose(fit.theta, r["theta"]["values"], rtol=1e-3)
    assert fit.llf >= r["loglik"]["value"] - 1e-4
    vc = fit.varcorr()
    assert list(vc.loc[vc["var2"].notna(), "vcov"]) == [0.0]  # one block, uncorrelated


def test_anova_of_glmmtmb_fits_is_a_likelihood_ratio_test() -> None:
    python = translate(
        "library(glmmTMB)\n"
        "m1 <- glmmTMB(y ~ 1 + (1 | g), d, family = poisson)\n"
        "m2 <- glmmTMB(y ~ x + (1 | g), d, family = poisson)\n"
        "anova(m1, m2)\n"
    )
    assert python.startswith("import interlace\n\n")
    assert 'print(m1.anova(m2, names=["m1", "m2"]))' in python
