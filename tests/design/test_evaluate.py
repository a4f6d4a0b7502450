"""Evaluation of model variables: R types, functions, collation, stateful transforms."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mm_data import SCRIPT, STORED_DIR, read_dataset

from interlace.design.collation import icu_sort_key, sort_levels
from interlace.design.evaluate import FUNCTIONS, FactorColumn, NumericColumn, evaluate
from interlace.design.fixed import fixed_design
from interlace.design.frame import build_model_frame
from interlace.design.transforms import PolyState, ScaleState, SplineState
from interlace.errors import DataError, MissingVariableError, UnknownFunctionError
from interlace.formula import formula_ir, parse
from interlace.formula.functions import ARGUMENT_KINDS
from interlace.formula.functions import FUNCTIONS as CATALOGUE
from interlace.ir.terms import FIXED


@pytest.fixture(scope="module")
def outputs(r_outputs: Callable[[str, str], Any]) -> Path:
    return Path(r_outputs(SCRIPT, STORED_DIR).directory)


def _load(directory: Path, name: str) -> Any:
    with (directory / name).open(encoding="utf-8") as fh:
        return json.load(fh)


def _expr(text: str) -> Any:
    return parse(f"~ {text}").rhs


DATA = pd.DataFrame(
    {
        "x": [1.0, -2.0, np.nan, 4.0],
        "cond": ["b", "a", None, "B"],
        "lgl": [True, True, True, True],
        "num": [10.0, 9.0, 100.0, 9.0],
        "cat": pd.Categorical(["lo", "hi", "lo", None], categories=["lo", "hi"]),
    }
)


def test_every_catalogue_function_is_implemented() -> None:
    assert {n for n, kind in CATALOGUE.items() if kind not in ARGUMENT_KINDS} == set(FUNCTIONS)


def test_missing_variable_suggests_the_closest_column() -> None:
    with pytest.raises(MissingVariableError, match="did you mean 'cond'") as info:
        evaluate(_expr("log(cnd)"), DATA)
    assert info.value.column == "cnd"
    assert isinstance(info.value, KeyError)


def test_types_map_as_in_r() -> None:
    x, _ = evaluate(_expr("x"), DATA)
    assert isinstance(x, NumericColumn) and x.values.shape == (4, 1)
    lgl, _ = evaluate(_expr("lgl"), DATA)
    assert isinstance(lgl, FactorColumn) and lgl.levels == ("FALSE", "TRUE")  # whatever observed
    chars, _ = evaluate(_expr("cond"), DATA)
    assert isinstance(chars, FactorColumn) and chars.levels == ("a", "b", "B")  # ICU: a < b < B
    assert chars.codes.tolist() == [1, 0, -1, 2]
    cat, _ = evaluate(_expr("cat"), DATA)
    assert isinstance(cat, FactorColumn) and cat.levels == ("lo", "hi") and cat.codes[3] == -1
    num, _ = evaluate(_expr("factor(num)"), DATA)
    assert isinstance(num, FactorColumn) and num.levels == ("9", "10", "100")


def test_operators_and_na() -> None:
    gt, _ = evaluate(_expr("I(x > 0)"), DATA)
    assert isinstance(gt, FactorColumn) and gt.codes.tolist() == [1, 0, -1, 1]
    eq, _ = evaluate(_expr('cond == "a"'), DATA)
    assert isinstance(eq, FactorColumn) and eq.codes.tolist() == [0, 1, -1, 0]
    arith, _ = evaluate(_expr("I(-x %% 3 + x %/% 2 + 2^x)"), DATA)
    assert isinstance(arith, NumericColumn)
    x = DATA["x"].to_numpy()
    expected = np.mod(-x, 3) + np.floor(x / 2) + 2.0**x  # R's %% has the sign of the divisor
    np.testing.assert_allclose(arith.values[:, 0], expected)
    logged, _ = evaluate(_expr("log(num, base = 10)"), DATA)
    assert isinstance(logged, NumericColumn)
    np.testing.assert_allclose(logged.values[:, 0], np.log10(DATA["num"]))


def test_unknown_function_is_named() -> None:
    from interlace.formula import ast

    call = ast.Call("mean", (ast.Argument(None, ast.Name("x")),))
    with pytest.raises(UnknownFunctionError, match="mean"):
        evaluate(call, DATA)


def test_factor_recoding_functions() -> None:
    rel, _ = evaluate(_expr('relevel(factor(num), ref = "100")'), DATA)
    assert isinstance(rel, FactorColumn) and rel.levels == ("100", "9", "10")
    assert rel.codes.tolist() == [2, 1, 0, 1]
    inter, _ = evaluate(_expr("interaction(cat, lgl)"), DATA)
    assert isinstance(inter, FactorColumn)
    # as.factor() of a logical keeps the observed levels only (checked in R 4.2.2)
    assert inter.levels == ("lo.TRUE", "hi.TRUE")
    assert inter.codes.tolist() == [0, 1, 0, -1]
    ordered, _ = evaluate(_expr("ordered(num, levels = c(100, 10, 9))"), DATA)
    assert isinstance(ordered, FactorColumn) and ordered.ordered
    assert ordered.levels == ("100", "10", "9")
    as_num, _ = evaluate(_expr("as.numeric(cat)"), DATA)
    assert isinstance(as_num, NumericColumn)
    np.testing.assert_array_equal(as_num.values[:, 0], [1, 2, 1, np.nan])


def test_stateful_transforms_reuse_training_parameters() -> None:
    train = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5]})
    new = pd.DataFrame({"x": [10.0, -1]})
    col, state = evaluate(_expr("poly(x, 2)"), train)
    assert isinstance(state[0], PolyState)
    again, same = evaluate(_expr("poly(x, 2)"), train, state)
    assert isinstance(col, NumericColumn) and isinstance(again, NumericColumn)
    np.testing.assert_allclose(again.values, col.values, atol=1e-12)
    assert same == state
    _, sstate = evaluate(_expr("scale(x)"), train)
    assert sstate == (ScaleState(2.5, float(np.std(train["x"], ddof=1))),)
    newcol, _ = evaluate(_expr("scale(x)"), new, sstate)
    assert isinstance(newcol, NumericColumn)
    np.testing.assert_allclose(newcol.values[:, 0], (new["x"] - 2.5) / np.std(train["x"], ddof=1))
    _, spl = evaluate(_expr("ns(x, df = 3)"), train)
    assert isinstance(spl[0], SplineState) and spl[0].boundary_knots == (0.0, 5.0)
    with pytest.raises(DataError, match="poly"):
        evaluate(_expr("poly(x, 2)"), pd.DataFrame({"x": [1.0, np.nan, 3, 4]}))


def test_transforms_on_new_data_match_r_predvars(outputs: Path) -> None:
    ref = _load(outputs, "transforms.json")
    data = read_dataset(outputs)
    train = data.loc[ref["train_rows"]]
    ir = formula_ir(ref["formula"], dialect=FIXED)
    frame = build_model_frame(ir, train)
    design = fixed_design(ir.fixed, frame)
    assert list(design.colnames) == ref["train"]["colnames"]
    expected = np.asarray(ref["train"]["values"], float).reshape(len(train), -1)
    np.testing.assert_allclose(design.X, expected, rtol=0, atol=1e-10)
    new = pd.DataFrame(ref["new_data"]).assign(y=0.0)
    new_frame = build_model_frame(ir, new, transform_state=frame.transform_state)
    new_design = fixed_design(ir.fixed, new_frame)
    assert list(new_design.colnames) == ref["new"]["colnames"]
    expected_new = np.asarray(ref["new"]["values"], float).reshape(len(new), -1)
    np.testing.assert_allclose(new_design.X, expected_new, rtol=1e-10, atol=1e-10)


def test_collation_matches_r_icu(outputs: Path) -> None:
    ref = _load(outputs, "collation.json")
    assert sort_levels(ref["input"]) == ref["levels"]


def test_c_collation_is_code_point_order() -> None:
    assert sort_levels(["b", "a", "B", "_x", "10"], "C") == ["10", "B", "_x", "a", "b"]
    assert icu_sort_key("a") < icu_sort_key("A") < icu_sort_key("b")


def test_comparisons_with_strings_and_factors_follow_r() -> None:
    data = pd.DataFrame(
        {
            "s": ["b", "B", "a", None],
            "o": pd.Categorical(["lo", "hi", "mid", "lo"], ["lo", "mid", "hi"], ordered=True),
            "n": [1.0, 2.0, 10.0, 2.0],
        }
    )
    below, _ = evaluate(_expr('s < "b"'), data)  # collation: a < b < B
    assert isinstance(below, FactorColumn) and below.codes.tolist() == [0, 0, 1, -1]
    ordered, _ = evaluate(_expr('o >= "mid"'), data)  # level order, not spelling
    assert isinstance(ordered, FactorColumn) and ordered.codes.tolist() == [0, 1, 1, 0]
    as_text, _ = evaluate(_expr('factor(n) == "10"'), data)
    assert isinstance(as_text, FactorColumn) and as_text.codes.tolist() == [0, 0, 1, 0]
    with pytest.raises(DataError, match="not meaningful"):
        evaluate(_expr("factor(n) < 2"), data)
