"""The glmmTMB reference cases: the Python call of each R call in fixtures/R/glmmtmb.R.

Reference values are read through the session's ``r_outputs`` fixture: live from R when it
is installed (``INTERLACE_R_MODE``), else the committed ``fixtures/glmmtmb/*.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from interlace import datasets
from interlace.api.glmmtmb import glmmTMB
from interlace.families import (
    Gamma,
    beta_family,
    binomial,
    nbinom1,
    nbinom2,
    truncated_poisson,
)
from interlace.results.glmmtmb_result import GlmmTMBResult


@dataclass(frozen=True)
class Case:
    """One model: formula, data set name and the other arguments of ``glmmTMB``."""

    formula: str
    data: str
    kwargs: dict[str, Any] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "sleepstudy_us": Case("Reaction ~ Days + (Days | Subject)", "sleepstudy"),
    "sleepstudy_diag": Case("Reaction ~ Days + diag(Days | Subject)", "sleepstudy"),
    "sleepstudy_reml": Case("Reaction ~ Days + (Days | Subject)", "sleepstudy", {"REML": True}),
    "cbpp_binomial": Case(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)", "cbpp", {"family": "binomial"}
    ),
    "salamanders_poisson_crossed": Case(
        "count ~ mined + (1 | site) + (1 | spp)", "Salamanders", {"family": "poisson"}
    ),
    "salamanders_nbinom2": Case("count ~ mined + (1 | site)", "Salamanders", {"family": nbinom2}),
    "salamanders_nbinom1": Case("count ~ mined + (1 | site)", "Salamanders", {"family": nbinom1()}),
    "salamanders_nbinom2_disp": Case(
        "count ~ mined + (1 | site)",
        "Salamanders",
        {"family": nbinom2(), "dispformula": "~mined"},
    ),
    "salamanders_zip": Case(
        "count ~ mined + (1 | site)", "Salamanders", {"family": "poisson", "ziformula": "~mined"}
    ),
    "salamanders_zinb2": Case(
        "count ~ mined + (1 | site)", "Salamanders", {"family": "nbinom2", "ziformula": "~mined"}
    ),
    "salamanders_zip_int": Case(
        "count ~ spp + mined + (1 | site)",
        "Salamanders",
        {"family": "poisson", "ziformula": "~1"},
    ),
    "sleepstudy_gamma_log": Case(
        "Reaction ~ Days + (1 | Subject)", "sleepstudy", {"family": Gamma(link="log")}
    ),
    "cbpp_probit": Case(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        "cbpp",
        {"family": binomial(link="probit")},
    ),
    "cbpp_beta": Case("prop ~ period + (1 | herd)", "cbpp", {"family": beta_family()}),
    "salamanders_hurdle_poisson": Case(
        "count ~ mined + (1 | site)",
        "Salamanders",
        {"family": truncated_poisson(), "ziformula": "~mined"},
    ),
    "salamanders_hurdle_nbinom2": Case(
        "count ~ mined + (1 | site)",
        "Salamanders",
        {"family": "truncated_nbinom2", "ziformula": "~mined"},
    ),
    "salamanders_zip_re": Case(
        "count ~ mined + (1 | site)",
        "Salamanders",
        {"family": "poisson", "ziformula": "~mined + (1 | site)"},
    ),
    "salamanders_zip_fixed": Case(
        "count ~ mined", "Salamanders", {"family": "poisson", "ziformula": "~mined"}
    ),
    "grouseticks_nbinom2": Case(
        "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)",
        "grouseticks",
        {"family": nbinom2()},
    ),
}

#: Fits quick enough for the default test run; the others are marked slow.
FAST = ("sleepstudy_us", "cbpp_binomial", "salamanders_zinb2", "sleepstudy_reml")


@cache
def fit(name: str) -> GlmmTMBResult:
    """interlace's fit of a case (cached for the session)."""
    case = CASES[name]
    return glmmTMB(case.formula, load(case.data), data_name=case.data, **case.kwargs)


def load(name: str) -> pd.DataFrame:
    """A bundled data set, with the derived columns of fixtures/R/glmmtmb.R."""
    data = datasets.load(name)
    if name == "cbpp":  # a response in (0, 1) for the beta family
        data = data.assign(prop=(data["incidence"] + 0.5) / (data["size"] + 1.0))
    return data


def values(block: dict[str, Any]) -> np.ndarray:
    """The values of a ``{"names": ..., "values": ...}`` record."""
    return np.asarray(block["values"], dtype=float)


def matrix(block: dict[str, Any]) -> np.ndarray:
    """The matrix of a ``{"names": ..., "matrix": rows}`` record."""
    return np.asarray(block["matrix"], dtype=float)
