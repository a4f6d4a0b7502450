"""Grouping factors (lme4's ``mkBlist`` / ``%i%``) against lFormula fixtures from R.

Expected levels and codes come from ``fixtures/R/lformula.R`` (``fixtures/lformula/*.json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.typing import NDArray

from interlace.design.evaluate import FactorColumn, NumericColumn
from interlace.design.frame import ModelFrame, build_model_frame
from interlace.design.grouping import GroupingFactor, compact_codes, grouping_factor, interact
from interlace.errors import DataDroppedWarning, GroupingError
from interlace.formula import formula_ir
from interlace.formula.ast import Name
from interlace.ir.terms import Variable

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "lformula"
DATA = ROOT / "fixtures" / "data"


def frame_of(columns: dict[str, FactorColumn | NumericColumn]) -> ModelFrame:
    n = next(iter(columns.values())).n
    return ModelFrame(columns=columns, row_labels=pd.RangeIndex(n))


def model_frame(formula: str, data: pd.DataFrame) -> tuple[ModelFrame, tuple[Variable, ...]]:
    """The real model frame of ``formula`` and the grouping variables of its first bar."""
    ir = formula_ir(formula)
    return build_model_frame(ir, data), ir.random[0].group


def var(name: str) -> Variable:
    return Variable(Name(name), name)


def load_fixture(case: str) -> dict[str, object]:
    return json.loads((FIXTURES / f"{case}.json").read_text())


@pytest.fixture(scope="module")
def synth() -> pd.DataFrame:
    data = pd.read_csv(DATA / "lformula_synth.csv", keep_default_na=False, na_values=[""])
    return data.assign(f3=pd.Categorical(data["f3"], categories=["lo", "mid", "hi", "unused"]))


def r_factor(fx: dict[str, object], name: str) -> tuple[list[str], NDArray[np.int64]]:
    """Levels and 0-based codes of ``flist[[name]]`` in a fixture."""
    entry = next(f for f in fx["flist"] if f["name"] == name)  # type: ignore[attr-defined]
    return list(entry["levels"]), np.asarray(entry["refs"]) - 1


def test_numeric_grouping_sorted_numerically(synth: pd.DataFrame) -> None:
    levels, refs = r_factor(load_fixture("synth_numeric_group"), "gnum")
    frame, group = model_frame("y ~ x + (x | gnum)", synth)
    gf = grouping_factor(group, frame)
    assert list(gf.levels) == levels == ["2.5", "9", "10", "100"]
    np.testing.assert_array_equal(gf.refs, refs)
    assert gf.refs.dtype == np.int32


def test_factor_grouping_keeps_level_order_and_drops_unused(synth: pd.DataFrame) -> None:
    data = synth.assign(f3=pd.Categorical(synth["f3"], categories=["lo", "mid", "hi", "unused"]))
    levels, refs = r_factor(load_fixture("synth_factor_group"), "f3")
    frame, group = model_frame("y ~ x + (1 | f3)", data)
    gf = grouping_factor(group, frame)
    assert list(gf.levels) == levels == ["lo", "mid", "hi"]
    np.testing.assert_array_equal(gf.refs, refs)


@pytest.mark.parametrize(
    ("case", "label", "group"),
    [
        ("synth_interaction", "g:h", ("g", "h")),  # C15: g-major
        ("synth_nested", "h:g", ("h", "g")),  # C12: h-major, observed combinations only
        ("synth_nested3", "k:(h:g)", ("k", "h", "g")),  # C13 (lme4 1.1-31 label)
    ],
)
def test_interaction_matches_lme4(
    synth: pd.DataFrame, case: str, label: str, group: tuple[str, ...]
) -> None:
    levels, refs = r_factor(load_fixture(case), label)
    frame, _ = model_frame(f"y ~ x + (1 | {':'.join(group)})", synth)
    gf = grouping_factor(tuple(var(v) for v in group), frame)
    assert gf.label == ":".join(group)
    assert list(gf.levels) == levels
    np.testing.assert_array_equal(gf.refs, refs)
    # only observed combinations
    n_possible = np.prod([synth[v].nunique() for v in group])
    assert gf.n_levels == len(set(zip(*(synth[v] for v in group), strict=True))) < n_possible


def test_interact_orders_by_first_then_second_factor() -> None:
    # R 4.2.2, lme4 1.1-31: f1 <- factor(c("a","b","a","b","a"), levels = c("b","a"));
    # f2 <- factor(c("z","x","x","z","z"), levels = c("x","y","z")); lme4:::`%i%`(f1, f2)
    # gives levels "b:x" "b:z" "a:x" "a:z" and codes 4 1 3 2 4 ("*:y" never observed).
    f1 = (("b", "a"), np.array([1, 0, 1, 0, 1]))
    f2 = (("x", "y", "z"), np.array([2, 0, 0, 2, 2]))
    levels, refs = interact([f1, f2])
    assert levels == ("b:x", "b:z", "a:x", "a:z")
    np.testing.assert_array_equal(refs, np.array([4, 1, 3, 2, 4]) - 1)


def test_character_grouping_uses_r_collation(synth: pd.DataFrame) -> None:
    levels, refs = r_factor(load_fixture("synth_collation"), "cc")
    frame, group = model_frame("y ~ x + (1 | cc)", synth)
    gf = grouping_factor(group, frame)
    assert list(gf.levels) == levels == ["_x", "a", "A", "b", "B"]
    np.testing.assert_array_equal(gf.refs, refs)


def test_missing_groups_are_dropped_by_the_frame(synth: pd.DataFrame) -> None:
    levels, refs = r_factor(load_fixture("synth_na_group"), "gna")
    with pytest.warns(DataDroppedWarning):
        frame, group = model_frame("y ~ x + (z | gna)", synth)
    gf = grouping_factor(group, frame)
    assert list(gf.levels) == levels
    np.testing.assert_array_equal(gf.refs, refs)


def test_label_override_and_categorical() -> None:
    frame = frame_of({"g": FactorColumn(np.array([0, 1, 0]), ("u", "v"))})
    gf = grouping_factor((var("g"),), frame, label="grp")
    assert gf.label == "grp"
    cat = gf.categorical()
    assert list(cat.categories) == ["u", "v"]
    assert list(cat) == ["u", "v", "u"]


def test_refs_are_read_only() -> None:
    gf = GroupingFactor("g", ("a", "b"), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="read-only"):
        gf.refs[0] = 1


def test_unused_levels_are_dropped() -> None:
    frame = frame_of({"g": FactorColumn(np.array([2, 0, 2]), ("u", "v", "w"))})
    gf = grouping_factor((var("g"),), frame)
    assert gf.levels == ("u", "w")
    np.testing.assert_array_equal(gf.refs, [1, 0, 1])


def test_matrix_grouping_variable_is_an_error() -> None:
    frame = frame_of({"m": NumericColumn(np.ones((3, 2)))})
    with pytest.raises(GroupingError, match="2 columns") as info:
        grouping_factor((var("m"),), frame)
    assert info.value.column == "m"


def test_missing_group_codes_are_an_error() -> None:
    frame = frame_of({"g": FactorColumn(np.array([0, -1, 1]), ("u", "v"))})
    with pytest.raises(GroupingError, match="missing values"):
        grouping_factor((var("g"),), frame)


@pytest.mark.parametrize("size", [7, 100_000])  # counting path, sorting path
def test_compact_codes_equals_unique(size: int) -> None:
    rng = np.random.default_rng(6)
    codes = rng.choice([0, 3, 5, 6], size=50)
    used, inverse = compact_codes(codes, size)
    expected_used, expected_inverse = np.unique(codes, return_inverse=True)
    np.testing.assert_array_equal(used, expected_used)
    np.testing.assert_array_equal(inverse, expected_inverse)
