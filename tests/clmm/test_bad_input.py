"""The issue's bad input, refused as ordinal refuses it (its errors in fixtures/clmm/start.json).

Each interlace error names the column or term at fault and a remedy; where
ordinal's message says what is wrong, interlace's contains it.
"""

from __future__ import annotations

import pandas as pd
import pytest
from clmm_fixtures import start_reference

from interlace.api.clmm import clmm
from interlace.datasets import load
from interlace.errors import GroupingError, InterlaceError, ResponseTypeError
from interlace.optim.control import ControlError


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return load("wine")


def _ordinal_error(key: str) -> str:
    return str(start_reference()["errors"][key]["error"])


def test_numeric_response_without_order(wine: pd.DataFrame) -> None:
    theirs = _ordinal_error("numeric_response")
    data = wine.assign(rating=wine["rating"].cat.codes + 1)
    with pytest.raises(ResponseTypeError) as info:
        clmm("rating ~ temp + (1 | judge)", data)
    assert theirs in str(info.value)
    assert info.value.column == "rating"
    assert "ordered=True" in str(info.value)  # the remedy shows how to declare the order


def test_grouping_factor_with_two_levels(wine: pd.DataFrame) -> None:
    assert _ordinal_error("two_levels") == "all(sapply(gfl, nlevels) > 2) is not TRUE"
    with pytest.raises(GroupingError, match="contact have fewer than 3 levels") as info:
        clmm("rating ~ temp + (1 | contact)", wine)
    assert info.value.column == "contact"
    assert info.value.remedy is not None


def test_three_levels_are_enough(wine: pd.DataFrame) -> None:
    """ordinal's rule is nlevels > 2: a factor with three levels is accepted."""
    data = wine[wine["judge"].isin(["1", "2", "3"])]
    fit = clmm("rating ~ temp + (1 | judge)", data)
    assert fit.design.random.terms[0].n_levels == 3


def test_quadrature_with_several_terms(wine: pd.DataFrame) -> None:
    theirs = _ordinal_error("agq_crossed")
    with pytest.raises(ControlError) as info:
        clmm("rating ~ temp + contact + (1 | judge) + (1 | bottle)", wine, nAGQ=5)
    message = str(info.value)
    assert message.startswith(theirs)
    assert "(1 | judge), (1 | bottle)" in message
    assert isinstance(info.value, InterlaceError)
    assert isinstance(info.value, ValueError)
