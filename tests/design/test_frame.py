"""The model frame: one evaluation of every model variable, R's na.omit, levels, weights, offset."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace.design.evaluate import FactorColumn, NumericColumn
from interlace.design.frame import ModelFrame, build_model_frame, model_variables
from interlace.errors import (
    DataDroppedWarning,
    DataError,
    EmptyDataError,
    MissingVariableError,
    NonFiniteError,
    WeightsError,
)
from interlace.formula import formula_ir


def _data() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "y": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
            "x": [0.5, np.nan, 1.5, 2.0, 2.5, 3.0],
            "cond": ["b", "a", "c", "b", "a", "b"],  # "c" only in a dropped row
            "f": pd.Categorical(["u", "v", "u", "v", "u", "w"], categories=["u", "v", "w", "z"]),
            "g": ["g1", "g1", "g2", None, "g2", "g3"],
            "w": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "unused": [np.nan] * 6,
        },
        index=[10, 11, 12, 13, 14, 15],
    )


def _frame(
    formula: str, data: pd.DataFrame, **kw: Any
) -> tuple[ModelFrame, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = build_model_frame(formula_ir(formula), data, **kw)
    return frame, [w for w in caught if issubclass(w.category, DataDroppedWarning)]


def test_rows_with_na_in_any_model_variable_are_dropped_once() -> None:
    data = _data()
    before = data.copy(deep=True)
    frame, dropped = _frame("y ~ x + cond + (1 | g)", data)
    pd.testing.assert_frame_equal(data, before)  # the caller's data is never modified
    assert list(frame.row_labels) == [10, 14, 15]
    assert frame.n == 3
    assert len(dropped) == 1
    message = str(dropped[0].message)
    assert "3 of 6 rows" in message
    assert "y (1)" in message and "x (1)" in message and "g (1)" in message
    assert "unused" not in message  # columns outside the model never matter
    assert frame.dropped.rows == (11, 12, 13)
    assert dict(frame.dropped.by_column) == {"y": 1, "x": 1, "g": 1}


def test_character_levels_come_from_kept_rows_and_unused_levels_drop() -> None:
    frame, _ = _frame("y ~ cond + f + (1 | g)", _data())
    cond = frame.column("cond")
    assert isinstance(cond, FactorColumn) and cond.levels == ("a", "b")
    f = frame.column("f")
    assert isinstance(f, FactorColumn) and f.levels == ("u", "v", "w")  # "z" never observed
    kept, _ = _frame("y ~ f + (1 | g)", _data(), drop_unused_levels=False)
    f_all = kept.column("f")
    assert isinstance(f_all, FactorColumn) and f_all.levels == ("u", "v", "w", "z")


def test_na_action_fail_raises_naming_columns() -> None:
    with pytest.raises(DataError, match="missing values in: y, x") as info:
        build_model_frame(formula_ir("y ~ x + (1 | g)"), _data(), na_action="fail")
    assert info.value.rows == [11, 12, 13]


def test_infinite_values_raise_with_column_and_rows() -> None:
    data = _data().assign(x=[0.5, 1.0, 1.5, np.inf, 2.5, np.inf])
    with pytest.raises(NonFiniteError, match="'log\\(w \\+ x\\)'") as info:
        build_model_frame(formula_ir("w ~ log(w + x) + (1 | cond)"), data)
    assert info.value.rows == [13, 15]


def test_weights_and_offsets_by_name_or_array_are_summed() -> None:
    data = _data().assign(y=[1.0, 2, 3, 4, 5, 6], x=[1.0, 2, 3, 4, 5, 6])
    frame, dropped = _frame(
        "y ~ x + offset(log(w)) + (1 | cond)", data, weights="w", offset=np.arange(6.0)
    )
    assert dropped == []
    assert frame.weights is not None and frame.offset is not None
    np.testing.assert_allclose(frame.weights, data["w"])
    np.testing.assert_allclose(frame.offset, np.log(data["w"]) + np.arange(6.0))
    with_na, dropped = _frame("y ~ x + (1 | cond)", data, weights=[1, 2, np.nan, 1, 1, 1])
    assert list(with_na.row_labels) == [10, 11, 13, 14, 15]
    assert "(weights) (1)" in str(dropped[0].message)
    with pytest.raises(WeightsError, match="negative weights"):
        build_model_frame(formula_ir("y ~ x + (1 | cond)"), data, weights=-data["w"])


def test_missing_columns_are_reported() -> None:
    with pytest.raises(MissingVariableError, match="did you mean 'cond'"):
        build_model_frame(formula_ir("y ~ x + (1 | cnd)"), _data())
    with pytest.raises(MissingVariableError, match="'weight'"):
        build_model_frame(formula_ir("y ~ x + (1 | cond)"), _data(), weights="weight")
    frame, _ = _frame("y ~ x + (1 | cond)", _data())
    with pytest.raises(MissingVariableError):
        frame.column("z")


def test_all_rows_missing_is_an_error() -> None:
    data = _data().assign(x=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataDroppedWarning)
        with pytest.raises(EmptyDataError):
            build_model_frame(formula_ir("y ~ x + (1 | cond)"), data)


def test_model_variables_cover_both_sides_of_bars() -> None:
    ir = formula_ir("log(y) ~ x + offset(w) + (0 + x + f | g:cond)")
    labels = [v.label for v in model_variables(ir)]
    assert labels == ["log(y)", "x", "offset(w)", "f", "g", "cond"]
    frame, _ = _frame("log(y) ~ x + offset(w) + (0 + x + f | g:cond)", _data())
    response = frame.response
    assert isinstance(response, NumericColumn)
    np.testing.assert_allclose(response.values[:, 0], np.log([1.0, 5.0, 6.0]))
