"""The parity cases of ``fixtures/R/inference.R`` and interlace's fits of them."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from interlace import datasets
from interlace.api.lmer import lmer
from interlace.results.lmer_result import LmerResult

NO_KENWARD_ROGER = {"sleepstudy_weights"}  # pbkrtest ignores weights; R gives no reference
#: interlace's optimum is better than lme4's here (REML criterion lower by 1.6e-7, θ differs
#: by 5e-5), which moves the standard errors by 6e-5: compared at lme4's estimates only
FIT_DIFFERS = {"sleepstudy_weights"}

#: case name -> (formula, dataset, keyword arguments), as in fixtures/R/inference.R;
#: a callable argument is called with the data
CASES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "sleepstudy": ("Reaction ~ Days + (Days | Subject)", "sleepstudy", {}),
    "sleepstudy_ml": ("Reaction ~ Days + (Days | Subject)", "sleepstudy", {"REML": False}),
    "cake": ("angle ~ recipe * temperature + (1 | recipe:replicate)", "cake", {}),
    "cake_sum": (
        "angle ~ recipe * temperature + (1 | recipe:replicate)",
        "cake",
        {"contrasts": {"recipe": "contr.sum"}},
    ),
    "cake_temp": ("angle ~ recipe * temp + (1 | recipe:replicate)", "cake", {}),
    "machines": ("score ~ Machine + (1 | Worker) + (1 | Worker:Machine)", "Machines", {}),
    "orthodont": ("distance ~ age * Sex + (age | Subject)", "Orthodont", {}),
    "sleepstudy_weights": (
        "Reaction ~ Days + (Days | Subject)",
        "sleepstudy",
        {"weights": lambda d: d["Days"].to_numpy() + 1.0},
    ),
    "dyestuff2_singular": ("Yield ~ 1 + (1 | Batch)", "Dyestuff2", {}),
    "dyestuff": ("Yield ~ 1 + (1 | Batch)", "Dyestuff", {}),
    "penicillin": ("diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin", {}),
}


_FITS: dict[str, tuple[LmerResult, pd.DataFrame]] = {}


def fit_case(name: str) -> tuple[LmerResult, pd.DataFrame]:
    """The interlace fit of a parity case and its data (fitted once per session)."""
    if name not in _FITS:
        formula, dataset, kwargs = CASES[name]
        data = datasets.load(dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = {k: v(data) if callable(v) else v for k, v in kwargs.items()}
            _FITS[name] = (lmer(formula, data, **args), data)
    return _FITS[name]
