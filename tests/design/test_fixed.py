"""Fixed-effects design against R's ``model.matrix`` (fixtures/R/model_matrix.R).

Every row of R_SEMANTICS table B (and the extra ``U`` rows) is compared cell by cell:
column names exactly, ``assign`` exactly, values to 1e-10, rows kept exactly.
The TermCode rule is also checked on its own with hand-built term lists.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mm_data import SCRIPT, STORED_DIR, contrasts_argument, read_dataset

from interlace.api.model_matrix import model_matrix
from interlace.design.fixed import factor_coding, fixed_design
from interlace.design.frame import build_model_frame
from interlace.errors import DataDroppedWarning, DataError
from interlace.formula import ast, formula_ir
from interlace.ir.terms import FIXED, Term, TermList, Variable


@cache
def _reference(directory: str) -> tuple[dict[str, Any], pd.DataFrame]:
    import json

    with (Path(directory) / "table_B.json").open(encoding="utf-8") as fh:
        table = json.load(fh)
    return {c["id"]: c for c in table["cases"]}, read_dataset(Path(directory))


@pytest.fixture(scope="module")
def table_b(r_outputs: Callable[[str, str], Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    return _reference(str(r_outputs(SCRIPT, STORED_DIR).directory))


def _case_ids() -> list[str]:
    import json

    from mm_data import FIXTURES

    with (FIXTURES / STORED_DIR / "table_B.json").open(encoding="utf-8") as fh:
        return [c["id"] for c in json.load(fh)["cases"]]


@pytest.mark.parametrize("case_id", _case_ids())
def test_model_matrix_matches_r(case_id: str, table_b: tuple[dict[str, Any], pd.DataFrame]) -> None:
    cases, data = table_b
    case = cases[case_id]
    before = data.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataDroppedWarning)
        mm = model_matrix(case["formula"], data, contrasts=contrasts_argument(case))
    pd.testing.assert_frame_equal(data, before)
    assert list(mm.columns) == case["colnames"]
    assert mm.attrs["assign"] == case["assign"]
    assert list(mm.index) == case["rows"]
    expected = np.asarray(case["values"], dtype=float).reshape(len(case["rows"]), -1)
    np.testing.assert_allclose(mm.to_numpy(), expected, rtol=0, atol=1e-10)
    assert mm.attrs["contrasts"] == (case["contrasts"] or {})


def _v(name: str) -> Variable:
    return Variable(ast.Name(name), name)


def _terms(*labels: str, intercept: bool = True) -> TermList:
    terms = tuple(Term(tuple(_v(x) for x in lab.split(":"))) for lab in labels)
    names = list(dict.fromkeys(x for lab in labels for x in lab.split(":")))
    return TermList(intercept, terms, tuple(_v(x) for x in names))


def test_termcode_only_preceding_terms_count() -> None:
    # y ~ a:x + a:b with numeric x: b is coded by contrasts because a:x comes first (B30)
    codes = factor_coding(_terms("a:x", "a:b"), {"a": True, "b": True, "x": False})
    assert codes == [{"a": 2}, {"a": 2, "b": 1}]
    # a + b:a (B28): b without a is in an earlier term, a without b is not
    codes = factor_coding(_terms("a", "b:a"), {"a": True, "b": True})
    assert codes == [{"a": 1}, {"b": 1, "a": 2}]


def test_termcode_no_intercept_changes_only_the_first_factor() -> None:
    codes = factor_coding(
        _terms("x", "cond", "f", intercept=False), {"x": False, "cond": True, "f": True}
    )
    assert codes == [{}, {"cond": 2}, {"f": 1}]


def test_fixed_design_accepts_a_bar_lhs() -> None:
    ir = formula_ir("y ~ 1 + (x * f | g)")
    data = pd.DataFrame(
        {"y": [1.0, 2, 3, 4], "x": [0.5, 1, 2, 3], "f": ["u", "v", "u", "v"], "g": list("aabb")}
    )
    frame = build_model_frame(ir, data)
    design = fixed_design(ir.random[0].lhs, frame)
    assert design.colnames == ("(Intercept)", "x", "fv", "x:fv")
    assert design.assign == (0, 1, 2, 3)
    np.testing.assert_array_equal(design.X[:, 3], [0, 1, 0, 3])


def test_single_level_factor_is_an_error() -> None:
    data = pd.DataFrame({"y": [1.0, 2, 3], "f": ["a", "a", "a"]})
    with pytest.raises(DataError, match="2 or more levels"):
        model_matrix("y ~ f", data)


def test_c_requires_a_factor_as_in_r() -> None:
    data = pd.DataFrame({"y": [1.0, 2, 3], "f": ["a", "b", "c"]})
    with pytest.raises(DataError, match="not interpretable as a factor"):
        model_matrix("y ~ C(f, sum)", data)


def test_random_terms_are_ignored_by_model_matrix() -> None:
    data = pd.DataFrame({"y": [1.0, 2, 3], "x": [1.0, 2, 4], "g": [None, "a", "b"]})
    mm = model_matrix("y ~ x + (1 | g)", data)
    assert list(mm.columns) == ["(Intercept)", "x"]
    assert len(mm) == 3  # NA in g does not matter for the fixed part
    assert formula_ir("y ~ x", dialect=FIXED).random == ()
