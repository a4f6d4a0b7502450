"""clmm's design: response, X without intercept, random-term order, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interlace.api.clmm import clmm, clmm_objective
from interlace.datasets import load
from interlace.design.clmm_design import clmm_design, ordinal_term_order
from interlace.errors import (
    GroupingError,
    InterlaceError,
    LevelsDroppedWarning,
    MissingVariableError,
    RankDeficiencyWarning,
    ResponseTypeError,
)


@pytest.fixture(scope="module")
def wine() -> pd.DataFrame:
    return load("wine")


def test_x_has_treatment_contrasts_without_intercept(wine: pd.DataFrame) -> None:
    des = clmm_design("rating ~ temp * contact + (1 | judge)", wine)
    assert des.X_names == ("tempwarm", "contactyes", "tempwarm:contactyes")
    np.testing.assert_array_equal(des.X[:, 0], (wine["temp"] == "warm").to_numpy(float))
    assert des.y_levels == ("1", "2", "3", "4", "5")
    np.testing.assert_array_equal(des.y, wine["rating"].cat.codes.to_numpy())
    assert des.thresholds.alpha_names == ("1|2", "2|3", "3|4", "4|5")


def test_formula_without_intercept_gets_one(wine: pd.DataFrame) -> None:
    # R: getX adds the intercept (warning) and drop.coef removes the aliased tempwarm
    with (
        pytest.warns(UserWarning, match="intercept is needed"),
        pytest.warns(RankDeficiencyWarning, match="tempwarm"),
    ):
        des = clmm_design("rating ~ 0 + temp + (1 | judge)", wine)
    assert des.X_names == ("tempcold",)


def test_ordinal_term_order() -> None:
    assert ordinal_term_order([9, 8]) == [0, 1]
    assert ordinal_term_order([8, 9]) == [1, 0]
    assert ordinal_term_order([5, 5]) == [0, 1]
    assert ordinal_term_order([5, 9, 5]) == [1, 2, 0]  # rev(order(nlev)): later tie first


def test_numeric_response_is_refused(wine: pd.DataFrame) -> None:
    data = wine.assign(rating=wine["rating"].astype(int))
    with pytest.raises(ResponseTypeError, match="ordered=True"):
        clmm_design("rating ~ temp + (1 | judge)", data)


def test_text_response_is_refused(wine: pd.DataFrame) -> None:
    data = wine.assign(rating=wine["rating"].astype(str))
    with pytest.raises(ResponseTypeError, match="response needs to be a factor"):
        clmm_design("rating ~ temp + (1 | judge)", data)


def test_unused_categories_dropped_with_warning(wine: pd.DataFrame) -> None:
    data = wine.assign(
        rating=wine["rating"]
        .cat.add_categories(["6"])
        .cat.reorder_categories(["1", "2", "3", "4", "5", "6"], ordered=True)
    )
    with pytest.warns(LevelsDroppedWarning, match="unused categories dropped: 6"):
        des = clmm_design("rating ~ temp + (1 | judge)", data)
    assert des.y_levels == ("1", "2", "3", "4", "5")


def test_grouping_factor_needs_three_levels(wine: pd.DataFrame) -> None:
    with pytest.raises(GroupingError, match="more than two levels"):
        clmm_design("rating ~ temp + (1 | contact)", wine)


def test_caller_data_not_modified(wine: pd.DataFrame) -> None:
    before = wine.copy()
    clmm_design("rating ~ temp + (1 | judge)", wine, weights=np.ones(len(wine)))
    pd.testing.assert_frame_equal(wine, before)


def test_quadrature_needs_one_random_intercept(wine: pd.DataFrame) -> None:
    des = clmm_design("rating ~ temp + (1 | judge) + (1 | bottle)", wine)
    with pytest.raises(InterlaceError, match="more than one random effects term"):
        clmm_objective(des, "logit", nAGQ=5)
    with pytest.raises(InterlaceError, match="more than one random effects term"):
        clmm("rating ~ temp + (1 + contact | judge)", wine, nAGQ=3)


def test_weights_column_missing_is_named() -> None:
    """Reproducer: a misspelt weights column raised pandas' bare KeyError."""
    wine = load("wine")
    with pytest.raises(MissingVariableError, match="'wt'"):
        clmm_design("rating ~ temp + (1 | judge)", wine, weights="wt")
