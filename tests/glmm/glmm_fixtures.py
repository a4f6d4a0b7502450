"""GLMM designs and reference values read from fixtures/glmm/*.json (written by fixtures/R/glmm.R).

The design is lme4's own after the family's ``initialize`` (proportions,
trials in the weights), so engine tests do not depend on the formula front end.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from lmm_fixtures import FixtureDesign, design_from_spec

from interlace.engine.pirls import GlmResponse, Pirls
from interlace.families import Family, Gamma, binomial, gaussian, inverse_gaussian, poisson

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "glmm"
CASES = sorted(p.stem for p in FIXTURES.glob("*.json"))

#: the family of each case, as its R call names it
FAMILY: dict[str, Family] = {
    "cbpp_laplace": binomial(),
    "cbpp_agq25": binomial(),
    "cbpp_nagq0": binomial(),
    "cbpp_prop_weights": binomial(),
    "grouseticks": poisson(),
    "contraception_probit": binomial("probit"),
    "sleep_gamma_log": Gamma("log"),
    "sleep_invgauss_log": inverse_gaussian("log"),
    "verbagg": binomial(),
    "cbpp_poisson_offset": poisson(),
    "cbpp_cloglog_agq9": binomial("cloglog"),
    "grouseticks_slope": poisson(),
    "sleep_gaussian_log": gaussian("log"),
}


@cache
def load(case: str) -> dict[str, Any]:
    """The parsed JSON of one case."""
    with open(FIXTURES / f"{case}.json") as fh:
        out: dict[str, Any] = json.load(fh)
    return out


@cache
def design(case: str) -> FixtureDesign:
    """lme4's design of a case (raw response replaced by the initialized one below)."""
    return design_from_spec(load(case)["design"], REML=False)


def response(case: str) -> GlmResponse:
    """The initialized response exactly as lme4 holds it; mustart from R's formulas."""
    d = load(case)["design"]
    fam = FAMILY[case]
    y = np.asarray(d["y"], dtype=float)
    w = np.asarray(d["weights"], dtype=float)
    n = np.asarray(d["n"], dtype=float)
    off = np.asarray(d["offset"], dtype=float)
    if fam.family == "binomial":
        mustart = (w * y + 0.5) / (w + 1.0)
    elif fam.family == "poisson":
        mustart = y + 0.1
    else:
        mustart = y.copy()
    return GlmResponse(fam, y, w, n, off, mustart)


def pirls(case: str) -> Pirls:
    """PIRLS on lme4's design of a case."""
    des = design(case)
    return Pirls(response(case), des.X, des.terms)
