"""clmm(start=...) against ordinal's start (fixtures/clmm/start.json, fixtures/R/clmm.R).

ordinal takes ``start`` as the vector ``(α, β, log SD)`` for one random
intercept and as ``list(c(α, β), ST)`` otherwise; interlace takes either form
for any model.  Starting values that cannot be used are refused with a
:class:`~interlace.errors.StartingValuesError` naming the parameters.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest
from clmm_fixtures import start_reference

from interlace.api.clmm import clmm, clmm_objective, parameter_names
from interlace.datasets import load
from interlace.design.clmm_design import clmm_design
from interlace.errors import StartingValuesError

JUDGE = "rating ~ temp + contact + (1 | judge)"
CROSSED = "rating ~ temp + contact + (1 | judge) + (1 | bottle)"


@cache
def _wine() -> pd.DataFrame:
    return load("wine")


@pytest.mark.parametrize(
    ("key", "formula", "as_pair"),
    [("refit_judge", JUDGE, False), ("refit_crossed", CROSSED, True)],
)
def test_start_at_ordinals_optimum_reproduces_it(key: str, formula: str, as_pair: bool) -> None:
    ref = start_reference()[key]
    start = np.array(ref["start"])
    given = (start[:6], start[6:]) if as_pair else start
    fit = clmm(formula, _wine(), start=given)
    np.testing.assert_array_equal(fit.optinfo.initial, start)
    assert fit.optinfo.finitial == pytest.approx(-ref["logLik"], abs=1e-4)
    np.testing.assert_allclose(fit.par[:6], ref["par"][:6], rtol=1e-4)
    sd = np.exp(fit.par[6]) if not as_pair else fit.par[6]
    sd_r = np.exp(ref["par"][6]) if not as_pair else ref["par"][6]
    assert sd == pytest.approx(sd_r, rel=1e-3)
    assert fit.llf >= ref["logLik"] - 1e-4


def test_parameter_names_follow_ordinals_order() -> None:
    design = clmm_design("rating ~ temp + (1 + contact | judge)", _wine())
    objective, _ = clmm_objective(design)
    assert parameter_names(design, objective) == [
        "1|2",
        "2|3",
        "3|4",
        "4|5",
        "tempwarm",
        "ST judge[(Intercept)]",
        "ST judge[contactyes]",
        "ST judge[contactyes, (Intercept)]",
    ]


@pytest.mark.parametrize("key", ["nonincreasing_ssr", "decreasing_ssr"])
def test_thresholds_not_increasing_at_start(key: str) -> None:
    ref = start_reference()["errors"][key]
    assert ref["error"].startswith("non-finite likelihood at starting value")  # ordinal refuses
    start = [1.0, 1.0 if key == "nonincreasing_ssr" else -1.0, 3.0, 5.0, 0.0, 0.0, 0.0]
    with pytest.raises(StartingValuesError, match=r"not increasing: 2\|3 = -?1 is not above 1\|2"):
        clmm(JUDGE, _wine(), start=start)


def test_thresholds_not_increasing_at_start_two_terms() -> None:
    ref = start_reference()["errors"]["decreasing_crossed"]
    assert ref["error"] == "optimizer nlminb failed to converge"  # ordinal fails later
    with pytest.raises(StartingValuesError, match="not increasing"):
        clmm(CROSSED, _wine(), start=([1, -1, 3, 5, 0, 0], [1, 1]))


def test_equidistant_spacing_must_be_positive() -> None:
    with pytest.raises(StartingValuesError, match="not increasing"):
        clmm(JUDGE, _wine(), threshold="equidistant", start=[1.0, -0.5, 0.0, 0.0, 0.0])


def test_wrong_length_names_the_order() -> None:
    assert "length(start)" in start_reference()["errors"]["length_ssr"]["error"]
    with pytest.raises(StartingValuesError) as info:
        clmm(JUDGE, _wine(), start=[1, 2, 3, 0, 0])
    message = str(info.value)
    assert "start has 5 values; this model has 7 parameters" in message
    assert "1|2, 2|3, 3|4, 4|5, tempwarm, contactyes, log(SD) of judge" in message
    with pytest.raises(StartingValuesError, match="has 5 and 1 values; this model needs 6 and 2"):
        clmm(CROSSED, _wine(), start=([1, 2, 3, 4, 0], [1]))


def test_negative_sd_and_non_finite_values() -> None:
    good = [-1.6, 1.5, 4.2, 6.1, 3.0, 1.8]
    with pytest.raises(StartingValuesError, match=r"negative standard deviations: ST bottle"):
        clmm(CROSSED, _wine(), start=[*good, 1.0, -0.1])
    with pytest.raises(StartingValuesError, match="not finite for contactyes"):
        clmm(JUDGE, _wine(), start=[*good[:5], np.nan, 0.0])
    with pytest.raises(StartingValuesError, match="must be numbers"):
        clmm(JUDGE, _wine(), start="ordinal")
    # increasing thresholds, but every rating-1 row gets probability ~0 (exp(-800))
    with pytest.raises(StartingValuesError, match="non-finite likelihood"):
        clmm(JUDGE, _wine(), start=[-800.0, 1.5, 4.2, 6.1, 3.0, 1.8, 0.0])
    assert issubclass(StartingValuesError, ValueError)
