"""``GlmmTMBResult.anova``: glmmTMB's likelihood-ratio table, against ``anova(zip, znb)``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from interlace import datasets
from interlace.api.glmmtmb import glmmTMB
from interlace.errors import IncomparableModelsError, UnsupportedFeatureError

from .cases import fit


def test_anova_matches_glmmtmb(tmb_reference: Any) -> None:
    ref = tmb_reference["anova"]
    zip_, znb = fit("salamanders_zip"), fit("salamanders_zinb2")
    # given in the reverse order: rows are sorted by Df as R sorts them
    table = znb.anova(zip_, names=["znb", "zip"])
    assert list(table.columns) == ref["columns"]
    assert list(table.index) == ref["rownames"]
    cols = ref["table"]
    assert list(table["Df"]) == cols["Df"]
    for name in ("AIC", "BIC", "logLik", "deviance"):
        np.testing.assert_allclose(table[name], cols[name], rtol=0, atol=1e-4, err_msg=name)
    first, second = table.iloc[0], table.iloc[1]
    assert math.isnan(first["Chisq"]) and math.isnan(first["Chi Df"])
    assert math.isnan(first["Pr(>Chisq)"])
    assert second["Chisq"] == pytest.approx(cols["Chisq"][1], abs=1e-4)
    assert second["Chi Df"] == cols["Chi Df"][1]
    assert second["Pr(>Chisq)"] == pytest.approx(cols["Pr(>Chisq)"][1], rel=1e-4)
    assert table.attrs["heading"][1:] == ref["heading"][1:]


def test_default_names_follow_argument_order() -> None:
    table = fit("salamanders_zip").anova(fit("salamanders_zinb2"))
    assert list(table.index) == ["model1", "model2"]


def test_anova_refuses_a_single_fit_and_other_data() -> None:
    zip_ = fit("salamanders_zip")
    with pytest.raises(UnsupportedFeatureError):
        zip_.anova()
    data = datasets.load("Salamanders")
    fewer = glmmTMB(
        "count ~ mined + (1 | site)", data.iloc[:-10], family="poisson", ziformula="~mined"
    )
    with pytest.raises(IncomparableModelsError):
        zip_.anova(fewer)
    other_response = data.assign(count=data["count"] + 1)
    shifted = glmmTMB("count ~ mined + (1 | site)", other_response, family="poisson")
    with pytest.raises(IncomparableModelsError, match="different responses"):
        zip_.anova(shifted)
    with pytest.raises(IncomparableModelsError, match="glmmTMB fits"):
        zip_.anova(data)  # type: ignore[arg-type]
