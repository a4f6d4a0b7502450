"""R's stored lme4 fits (``fixtures/lmm/*.json``, by ``fixtures/R/lmm.R``) as FitSummary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from interlace.parity.schema import FitSummary, LogLik, ranef_long

LMM_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lmm"


def r_summary(case: str) -> FitSummary:
    """R's fit of ``case`` (e.g. ``"sleepstudy_slope"``) in the parity schema."""
    fit = json.loads((LMM_FIXTURES / f"{case}.json").read_text(encoding="utf-8"))["fit"]
    names = list(fit["beta"])
    blocks = {
        group: pd.DataFrame(
            np.asarray(block["values"], dtype=float).reshape(len(block["levels"]), -1),
            index=block["levels"],
            columns=np.atleast_1d(block["columns"]).tolist(),
        )
        for group, block in fit["ranef"].items()
    }
    return FitSummary(
        model_class="lmer",
        fixef=pd.Series(list(fit["beta"].values()), index=names, dtype=float),
        se=pd.Series(np.atleast_1d(fit["se"]), index=names, dtype=float),
        loglik=LogLik(float(fit["logLik"]), int(fit["df"]), int(fit["nobs"])),
        theta=pd.Series(np.atleast_1d(fit["theta"]), dtype=float),
        sigma=float(fit["sigma"]),
        reml=bool(fit["REML"]),
        varcorr=pd.DataFrame(fit["varcorr"]),
        ranef=ranef_long(blocks),
        is_singular=bool(fit["is_singular"]),
    )
