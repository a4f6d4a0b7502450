"""``ClmmResult.anova`` and ``ClmmResult.confint`` against ordinal (fixtures/clmm/anova.json).

The reference tables are written by the anova section of fixtures/R/clmm.R: ordinal's
``anova(...)`` of clmm fits to ``wine`` and R's ``confint(fit, level)`` (``confint.default``:
Wald intervals).
"""

from __future__ import annotations

import json
import math
import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from clmm_fixtures import FIXTURES

from interlace.api.clmm import clmm
from interlace.datasets import load
from interlace.errors import (
    IncomparableModelsError,
    RankDeficiencyWarning,
    UnsupportedFeatureError,
)
from interlace.results.clmm_result import ClmmResult


@cache
def reference() -> dict[str, Any]:
    return dict(json.loads((FIXTURES / "anova.json").read_text()))


def _r_call(code: str) -> tuple[str, dict[str, str]]:
    """The formula and link of one of the fixture's ``clmm(...)`` calls on ``wine``."""
    body = code.removeprefix("clmm(").removesuffix(")")
    formula, rest = body.split(", data = wine")
    link = rest.partition('link = "')[2].partition('"')[0]
    return formula, {"link": link} if link else {}


@cache
def fitted(code: str) -> ClmmResult:
    """interlace's fit of an R call of the fixture (once per session)."""
    formula, kw = _r_call(code)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        return clmm(formula, load("wine"), data_name="wine", **kw)  # type: ignore[arg-type]


def _fits(comparison: dict[str, Any]) -> list[ClmmResult]:
    return [fitted(comparison["calls"][name]) for name in comparison["order"]]


def _column(table: dict[str, Any], name: str) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in table["values"][name]], dtype=float)


@pytest.mark.parametrize("name", ["two", "three", "tie", "links"])
def test_table_as_ordinal(name: str) -> None:
    comparison = reference()["anova"][name]
    want = comparison["table"]
    fits = _fits(comparison)
    table = fits[0].anova(*fits[1:], names=comparison["order"])
    assert list(table.columns) == want["columns"]
    assert list(table.index) == want["rownames"]
    assert table["no.par"].tolist() == want["values"]["no.par"]
    # the two optimisers stop within 5e-5 of each other (ordinal's temp fit 4e-5 lower)
    ll = _column(want, "logLik")
    assert np.all(table["logLik"].to_numpy() >= ll - 1e-5)
    np.testing.assert_allclose(table["logLik"], ll, atol=1e-4)
    np.testing.assert_allclose(table["AIC"], _column(want, "AIC"), atol=2e-4)
    np.testing.assert_allclose(table["LR.stat"], _column(want, "LR.stat"), atol=2e-4)
    np.testing.assert_array_equal(table["df"], _column(want, "df"))
    np.testing.assert_allclose(table["Pr(>Chisq)"], _column(want, "Pr(>Chisq)"), rtol=1e-4)
    models = table.attrs["models"]
    assert list(models.columns) == want["models"]["columns"]
    assert list(models.index) == want["rownames"]
    for column in models.columns:
        assert models[column].tolist() == want["models"]["values"][column]


def test_no_par_tie_keeps_given_order_and_df_zero_has_no_p_value() -> None:
    comparison = reference()["anova"]["tie"]
    fits = _fits(comparison)
    table = fits[0].anova(*fits[1:], names=comparison["order"])
    # contact and temp both have 6 parameters: the order given is kept
    assert list(table.index[:2]) == ["contact", "temp"]
    assert table["df"].iloc[1] == 0
    assert math.isnan(table["Pr(>Chisq)"].iloc[1])
    assert table["LR.stat"].iloc[1] > 0  # still reported, as ordinal does


def test_statistic_is_not_clipped_and_negative_has_p_one() -> None:
    # ordinal's 2 diff(logLik) can be negative (crossed: bottle's SD is 0); pchisq gives 1
    comparison = reference()["anova"]["three"]
    fits = _fits(comparison)
    both, crossed = fits[2], fits[0]
    table = both.anova(crossed, names=["both", "crossed"])
    stat = table["LR.stat"].iloc[1]
    assert stat == pytest.approx(2 * (crossed.llf - both.llf), abs=1e-12)
    assert abs(stat) < 1e-4
    reversed_order = both.anova(fitted(comparison["calls"]["temp"]), names=["both", "temp"])
    assert reversed_order["LR.stat"].iloc[1] > 0  # rows sorted by no.par, not as given
    assert table["Pr(>Chisq)"].iloc[1] == pytest.approx(1.0, abs=1e-3)


def test_default_row_names_follow_the_order_given() -> None:
    comparison = reference()["anova"]["two"]
    both, temp = _fits(comparison)
    table = both.anova(temp)
    assert list(table.index) == ["model2", "model1"]
    assert table.attrs["heading"].startswith("Likelihood ratio tests of cumulative link models")


def test_refusals() -> None:
    ref = reference()["refusals"]
    both = fitted(reference()["anova"]["two"]["calls"]["both"])
    with pytest.raises(UnsupportedFeatureError, match=ref["single"]):
        both.anova()
    formula, _ = _r_call(ref["fewer_rows"]["call"].replace("wine[-1, ]", "wine"))
    fewer = clmm(formula, load("wine").iloc[1:])
    with pytest.raises(IncomparableModelsError, match="same size of dataset"):
        both.anova(fewer)
    assert ref["fewer_rows"]["error"] == "models were not all fitted to the same dataset"
    with pytest.raises(IncomparableModelsError, match="clmm fits"):
        both.anova("fit")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="distinct name"):
        both.anova(fewer, names=["a", "a"])


def test_different_response_is_refused() -> None:
    wine = load("wine")
    both = fitted(reference()["anova"]["two"]["calls"]["both"])
    reversed_rating = wine["rating"].iloc[::-1].set_axis(wine.index)  # keeps the ordered levels
    shuffled = wine.assign(rating=reversed_rating)
    other = clmm("rating ~ temp + contact + (1 | judge)", shuffled)
    with pytest.raises(IncomparableModelsError, match="different responses"):
        both.anova(other)


@pytest.mark.parametrize("index", range(5))
def test_confint_as_r(index: int) -> None:
    spec = reference()["confint"][index]
    fit = fitted(spec["call"])
    ci = fit.confint(level=spec["level"])
    assert list(ci.columns) == spec["columns"]
    assert list(ci.index) == spec["rownames"]
    lower, upper = np.array(spec["lower"]), np.array(spec["upper"])
    # centre: the estimates; half-width: z × the finite-difference standard errors
    np.testing.assert_allclose(
        (ci.iloc[:, 0] + ci.iloc[:, 1]) / 2, (lower + upper) / 2, rtol=1e-4, atol=2e-5
    )
    np.testing.assert_allclose(ci.iloc[:, 1] - ci.iloc[:, 0], upper - lower, rtol=2e-3)


def test_confint_level_is_checked() -> None:
    fit = fitted(reference()["confint"][0]["call"])
    with pytest.raises(ValueError, match="level"):
        fit.confint(level=1.0)
    assert isinstance(fit.confint(), pd.DataFrame)
