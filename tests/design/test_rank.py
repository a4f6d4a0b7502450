"""lme4's rank rule (LINPACK dqrdc2 pivoting) against lme4's ``lFormula``."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mm_data import FIXTURES, SCRIPT, STORED_DIR, read_dataset

from interlace.design.fixed import fixed_design
from interlace.design.frame import build_model_frame
from interlace.design.rank import (
    RANK_TOL,
    _clearly_full_rank,
    dqrdc2,
    drop_rank_deficient,
    rank_check,
)
from interlace.errors import RankDeficiencyWarning
from interlace.formula import formula_ir


def _ids() -> list[str]:
    with (FIXTURES / STORED_DIR / "rank.json").open(encoding="utf-8") as fh:
        return [c["id"] for c in json.load(fh)["cases"]]


@pytest.fixture(scope="module")
def reference(r_outputs: Callable[[str, str], Any]) -> tuple[dict[str, Any], pd.DataFrame]:
    directory = Path(r_outputs(SCRIPT, STORED_DIR).directory)
    with (directory / "rank.json").open(encoding="utf-8") as fh:
        cases = {c["id"]: c for c in json.load(fh)["cases"]}
    return cases, read_dataset(directory)


@pytest.mark.parametrize("case_id", _ids())
def test_same_columns_dropped_as_lme4(
    case_id: str, reference: tuple[dict[str, Any], pd.DataFrame]
) -> None:
    cases, data = reference
    case = cases[case_id]
    ir = formula_ir(case["formula"])
    design = fixed_design(ir.fixed, build_model_frame(ir, data))
    assert list(design.colnames) == case["full_colnames"]
    qr = dqrdc2(design.X)
    assert qr.rank == case["qr_rank"]
    assert (qr.pivot + 1).tolist() == case["qr_pivot"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kept = drop_rank_deficient(design)
    assert list(kept.colnames) == case["kept"]
    rank_warnings = [w for w in caught if issubclass(w.category, RankDeficiencyWarning)]
    if case["dropped"]:
        assert len(rank_warnings) == 1
        message = str(rank_warnings[0].message)
        assert message.startswith(case["messages"][0])
        assert all(name in message for name in case["dropped"])
    else:
        assert rank_warnings == []
    assert kept.X.shape == (design.X.shape[0], len(case["kept"]))


def test_negligible_column_moves_to_the_end() -> None:
    # column 2 = column 1 + column 3 is aliased only once column 3 is seen: dqrdc2 keeps
    # columns 1, 2 and drops 3 (limited pivoting never looks ahead)
    rng = np.random.default_rng(3)
    a, c = rng.normal(size=10), rng.normal(size=10)
    X = np.column_stack([a, a + c, c])
    qr = dqrdc2(X)
    assert qr.rank == 2
    assert qr.pivot.tolist() == [0, 1, 2]
    check = rank_check(X, ("a", "a+c", "c"))
    assert check.dropped == ("c",)
    # a zero column is moved right at once
    qr0 = dqrdc2(np.column_stack([a, np.zeros(10), c]))
    assert (qr0.rank, qr0.pivot.tolist()) == (2, [0, 2, 1])


def test_r_factor_is_upper_triangular_and_reproduces_x() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 4))
    qr = dqrdc2(X)
    r = np.triu(qr.qr[:4, :4])
    # |R| matches numpy's QR up to signs of rows
    _, r_np = np.linalg.qr(X)
    np.testing.assert_allclose(np.abs(r), np.abs(r_np), atol=1e-12)
    assert qr.rank == 4


@pytest.mark.parametrize("eps", [1e-2, 1e-4, 1e-6, 1e-8, 0.0])
def test_fast_full_rank_check_agrees_with_dqrdc2(eps: float) -> None:
    rng = np.random.default_rng(7)
    X = rng.standard_normal((500, 6))
    X[:, 4] = X[:, 1] + eps * rng.standard_normal(500)
    fast = _clearly_full_rank(X, RANK_TOL)
    if fast:  # the fast answer is only ever "full rank", and then it is right
        assert dqrdc2(X).rank == 6
    keep = rank_check(X, tuple("abcdef")).keep
    np.testing.assert_array_equal(keep, np.sort(dqrdc2(X).pivot[: dqrdc2(X).rank]))
    assert fast == (eps >= 1e-2)  # only a clearly independent column passes the margin
