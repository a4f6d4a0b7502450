"""Random-effects design (Zt, Lambdat, Lind, theta, lower, Gp, cnms, flist) from hand-built terms.

The terms' model matrices are built here by hand so that the assembly is tested on its own;
``test_lformula.py`` runs the whole pipeline.  Expected values come from lme4 1.1-31 through
``fixtures/R/lformula.R`` (``fixtures/lformula/*.json``) or from the definitions.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from interlace.design.covariance import Diagonal, HomogeneousDiagonal, Unstructured
from interlace.design.grouping import GroupingFactor, interact
from interlace.design.random import (
    ReTerm,
    assemble,
    covariance_structure,
    lme4_term_order,
    make_re_term,
)
from interlace.errors import FormulaError
from interlace.ir.terms import CovSpec

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures" / "lformula"
DATA = ROOT / "fixtures" / "data"


def load_data(name: str) -> pd.DataFrame:
    """A fixture data set with the column types R used (``write_dataset`` of common.R)."""
    schema = json.loads((DATA / f"lformula_{name}.json").read_text())
    df = pd.read_csv(DATA / f"lformula_{name}.csv", dtype=str, keep_default_na=False)
    out = {}
    for spec in schema["columns"]:
        raw = df[spec["name"]].replace("", None)
        if spec["type"] in ("factor", "ordered"):
            out[spec["name"]] = pd.Categorical(
                raw, categories=spec["levels"], ordered=spec["type"] == "ordered"
            )
        elif spec["type"] in ("numeric", "integer"):
            out[spec["name"]] = pd.to_numeric(raw)
        else:
            out[spec["name"]] = raw
    return pd.DataFrame(out)


def factor(df: pd.DataFrame, name: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Levels and codes of a column; character columns sorted (the fixtures' labels are ASCII
    letters of one case followed by digits, which R's collation also sorts this way)."""
    col = df[name]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return tuple(str(c) for c in col.cat.categories), col.cat.codes.to_numpy()
    levels = tuple(sorted(col.unique()))
    return levels, pd.Categorical(col, categories=levels).codes


def group(df: pd.DataFrame, names: tuple[str, ...]) -> GroupingFactor:
    levels, refs = interact([factor(df, v) for v in names])
    return GroupingFactor(":".join(names), levels, refs)


def column(df: pd.DataFrame, name: str) -> np.ndarray:
    """One model-matrix column: the intercept, a numeric variable or a treatment indicator."""
    if name == "(Intercept)":
        return np.ones(len(df))
    if name in df.columns:
        return df[name].to_numpy(dtype=float)
    var, level = name[:-1], name[-1]  # "condB" -> cond == "B"
    return (df[var].astype(str) == level).to_numpy(dtype=float)


# (fixture, data, [(term source, grouping variables, columns)] in formula order)
CASES: list[tuple[str, str, list[tuple[str, tuple[str, ...], list[str]]]]] = [
    ("sleep_slope", "sleepstudy", [("Days | Subject", ("Subject",), ["(Intercept)", "Days"])]),
    (
        "sleep_dbar",
        "sleepstudy",
        [
            ("1 | Subject", ("Subject",), ["(Intercept)"]),
            ("0 + Days | Subject", ("Subject",), ["Days"]),
        ],
    ),
    ("sleep_int", "sleepstudy", [("1 | Subject", ("Subject",), ["(Intercept)"])]),
    ("sleep_noint", "sleepstudy", [("0 + Days | Subject", ("Subject",), ["Days"])]),
    (
        "penicillin",
        "Penicillin",
        [("1 | plate", ("plate",), ["(Intercept)"]), ("1 | sample", ("sample",), ["(Intercept)"])],
    ),
    (
        "pastes_nested",
        "Pastes",
        [
            ("1 | cask:batch", ("cask", "batch"), ["(Intercept)"]),
            ("1 | batch", ("batch",), ["(Intercept)"]),
        ],
    ),
    (
        "pastes_sample",
        "Pastes",
        [("1 | sample", ("sample",), ["(Intercept)"]), ("1 | batch", ("batch",), ["(Intercept)"])],
    ),
    ("synth_cond", "synth", [("cond | g", ("g",), ["(Intercept)", "condB", "condC"])]),
    ("synth_cond_noint", "synth", [("0 + cond | g", ("g",), ["condA", "condB", "condC"])]),
    (
        "synth_cond_dbar",
        "synth",
        [("1 | g", ("g",), ["(Intercept)"]), ("0 + cond | g", ("g",), ["condA", "condB", "condC"])],
    ),
    (
        "synth_order_ties",
        "synth",
        [
            ("1 | a", ("a",), ["(Intercept)"]),
            ("1 | b", ("b",), ["(Intercept)"]),
            ("1 | c", ("c",), ["(Intercept)"]),
        ],
    ),
    (
        "synth_order_none",
        "synth",
        [
            ("1 | a", ("a",), ["(Intercept)"]),
            ("1 | c", ("c",), ["(Intercept)"]),
            ("1 | b", ("b",), ["(Intercept)"]),
        ],
    ),
    (
        "synth_order_dbar",
        "synth",
        [
            ("1 | b", ("b",), ["(Intercept)"]),
            ("1 | a", ("a",), ["(Intercept)"]),
            ("0 + x | a", ("a",), ["x"]),
        ],
    ),
    (
        "synth_same_group",
        "synth",
        [("x | g", ("g",), ["(Intercept)", "x"]), ("1 | g", ("g",), ["(Intercept)"])],
    ),
    ("synth_interaction", "synth", [("1 | g:h", ("g", "h"), ["(Intercept)"])]),
]


def triplets(m: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, value) of the stored entries, sorted by column then row (R's order)."""
    coo = sp.coo_matrix(m)
    order = np.lexsort((coo.row, coo.col))
    return coo.row[order], coo.col[order], coo.data[order]


def r_triplets(fx: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    i, j, x = (np.asarray(fx[k]) for k in ("i", "j", "x"))
    order = np.lexsort((i, j))
    return i[order], j[order], x[order]


def assert_matches_r(re: Any, fx: dict[str, Any]) -> None:
    """Compare an assembled design with an lFormula fixture."""
    assert [t.source.replace(" ", "") for t in re.terms] == [
        s.replace(" ", "") for s in fx["term_names"]
    ]
    assert [(g, list(names)) for g, names in re.cnms] == [
        (c["group"], c["names"]) for c in fx["cnms"]
    ]
    assert list(re.nl) == fx["nl"]
    np.testing.assert_array_equal(re.Gp, fx["Gp"])
    np.testing.assert_array_equal(re.theta, fx["theta"])
    np.testing.assert_array_equal(re.lower, fx["lower"])
    np.testing.assert_array_equal(re.Lind, np.asarray(fx["Lind"]) - 1)
    assert re.Zt.shape == tuple(fx["Zt"]["dim"])
    for ours, theirs in zip(triplets(re.Zt), r_triplets(fx["Zt"]), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert re.Lambdat.shape == tuple(fx["Lambdat"]["dim"])
    for ours, theirs in zip(triplets(re.Lambdat), r_triplets(fx["Lambdat"]), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert list(re.flist.columns) == [f["name"] for f in fx["flist"]]
    for f in fx["flist"]:
        col = re.flist[f["name"]]
        assert list(col.cat.categories) == f["levels"]
        np.testing.assert_array_equal(col.cat.codes.to_numpy(), np.asarray(f["refs"]) - 1)
    np.testing.assert_array_equal(np.asarray(re.flist_assign) + 1, fx["flist_assign"])


@pytest.mark.parametrize(("case", "data", "spec"), CASES, ids=[c[0] for c in CASES])
def test_assembly_matches_lme4(
    case: str, data: str, spec: list[tuple[str, tuple[str, ...], list[str]]]
) -> None:
    fx = json.loads((FIXTURES / f"{case}.json").read_text())
    df = load_data(data)
    terms = [
        make_re_term(source, group(df, gvars), np.column_stack([column(df, c) for c in cols]), cols)
        for source, gvars, cols in spec
    ]
    re = assemble(terms, len(df))
    # the nested label is "cask:batch" here; lme4 1.1-31 spells the expanded term the same way
    assert_matches_r(re, fx)


@pytest.mark.parametrize(
    ("nl", "expected"),
    [
        ([6, 4, 6], [2, 0, 1]),  # (1|a) + (1|b) + (1|c) -> c, a, b (ties reversed)
        ([6, 6], [0, 1]),  # (1|a) + (1|c): no reordering
        ([6, 6, 4], [0, 1, 2]),  # (1|a) + (1|c) + (1|b): no reordering
        ([4, 6, 6], [2, 1, 0]),  # (1|b) + (x||a) -> 0+x|a, 1|a, 1|b
        ([3], [0]),
        ([], []),
    ],
)
def test_lme4_term_order(nl: list[int], expected: list[int]) -> None:
    """R_SEMANTICS.md section 4.4 table."""
    assert lme4_term_order(nl) == expected


def test_no_reorder_keeps_formula_order() -> None:
    g_small = GroupingFactor("b", ("1", "2"), np.array([0, 1, 0, 1]))
    g_large = GroupingFactor("a", ("1", "2", "3", "4"), np.array([0, 1, 2, 3]))
    terms = [
        make_re_term("1 | b", g_small, np.ones((4, 1)), ["(Intercept)"]),
        make_re_term("1 | a", g_large, np.ones((4, 1)), ["(Intercept)"]),
    ]
    assert [t.group for t in assemble(terms, 4).terms] == ["a", "b"]
    assert [t.group for t in assemble(terms, 4, reorder=False).terms] == ["b", "a"]


@pytest.mark.parametrize(
    ("spec", "cls", "n_theta"),
    [
        (CovSpec("us"), Unstructured, 6),
        (CovSpec("diag"), Diagonal, 3),
        (CovSpec("diag", hom=False), Diagonal, 3),
        (CovSpec("diag", hom=True), HomogeneousDiagonal, 1),
    ],
)
def test_covariance_structure_from_spec(spec: CovSpec, cls: type, n_theta: int) -> None:
    cov = covariance_structure(spec, 3)
    assert type(cov) is cls
    assert cov.n_theta == n_theta


def test_unsupported_structure_is_a_formula_error() -> None:
    with pytest.raises(FormulaError, match=r"ar1.*not supported.*\(0 \+ f \| g\)"):
        covariance_structure(CovSpec("ar1"), 2, "0 + f | g")


def random_terms(rng: np.random.Generator, n: int) -> list[ReTerm]:
    """Two terms with random data: a 2-column us term and a 3-column diagonal term."""
    g1 = GroupingFactor("g1", tuple("abcde"), rng.permutation(np.arange(n) % 5))
    g2 = GroupingFactor("g2", tuple("uvw"), rng.permutation(np.arange(n) % 3))
    return [
        make_re_term(
            "x | g1", g1, np.column_stack([np.ones(n), rng.normal(size=n)]), ["(Intercept)", "x"]
        ),
        make_re_term("diag(x | g2)", g2, rng.normal(size=(n, 3)), ["a", "b", "c"], CovSpec("diag")),
    ]


def test_zt_is_the_khatri_rao_product() -> None:
    """Z_i[j, l*k + c] = z_i[j, c] if refs_i[j] == l (definition), blocks side by side."""
    rng = np.random.default_rng(1)
    n = 40
    terms = random_terms(rng, n)
    re = assemble(terms, n)
    blocks = []
    for t in re.terms:
        indicators = np.eye(t.n_levels)[t.refs]
        blocks.append((indicators[:, :, None] * t.z[:, None, :]).reshape(n, -1))
    np.testing.assert_array_equal(re.Zt.toarray(), np.hstack(blocks).T)


def test_lambdat_is_the_block_diagonal_of_lambda_transposed() -> None:
    rng = np.random.default_rng(2)
    n = 30
    re = assemble(random_terms(rng, n), n)
    theta = rng.normal(size=re.theta.size)
    lambdat = re.Lambdat.copy()
    lambdat.data = theta[re.Lind]
    blocks = [np.kron(np.eye(t.n_levels), t.lambda_block(theta).T) for t in re.terms]
    expected = np.zeros((re.q, re.q))
    for t, block in zip(re.terms, blocks, strict=True):
        expected[t.offset : t.offset + t.q, t.offset : t.offset + t.q] = block
    np.testing.assert_array_equal(lambdat.toarray(), expected)
    assert sp.triu(lambdat).nnz == lambdat.nnz  # upper triangular
    # diagonal structure: only diagonal entries are stored (lme4 stores the full lower triangle
    # of an unstructured block, 3 entries for k = 2)
    assert re.Lambdat.nnz == 5 * 3 + 3 * 3


def test_homogeneous_diagonal_lind() -> None:
    g = GroupingFactor("g", ("a", "b"), np.array([0, 1, 1, 0]))
    re = assemble(
        [make_re_term("x | g", g, np.ones((4, 2)), ["(Intercept)", "x"], CovSpec("diag", True))],
        4,
    )
    np.testing.assert_array_equal(re.Lind, [0, 0, 0, 0])
    np.testing.assert_array_equal(re.theta, [1.0])
    np.testing.assert_array_equal(re.lower, [0.0])


def test_explicit_zeros_are_dropped_like_drop0() -> None:
    g = GroupingFactor("g", ("a", "b"), np.array([0, 1, 1, 0]))
    z = np.array([[1.0, 0.0], [1.0, 2.0], [1.0, 0.0], [1.0, 3.0]])
    re = assemble([make_re_term("x | g", g, z, ["(Intercept)", "x"])], 4)
    assert re.Zt.nnz == 6
    assert np.all(re.Zt.data != 0)


def test_outputs_are_read_only() -> None:
    rng = np.random.default_rng(3)
    re = assemble(random_terms(rng, 20), 20)
    for array in (re.theta, re.lower, re.Lind, re.Gp, re.Zt.data, re.Lambdat.data, re.terms[0].z):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 7
    # ordinary sparse operations still work
    assert (re.Zt @ np.ones(20)).shape == (re.q,)
    assert (re.Zt.T @ re.Zt).shape == (20, 20)
    assert (re.Lambdat @ re.Zt).shape == (re.q, 20)


def test_theta_slices_and_gp_follow_the_order() -> None:
    rng = np.random.default_rng(4)
    re = assemble(random_terms(rng, 20), 20)
    assert [t.group for t in re.terms] == ["g1", "g2"]  # 5 levels then 3: no reordering
    assert [(t.theta_slice.start, t.theta_slice.stop) for t in re.terms] == [(0, 3), (3, 6)]
    np.testing.assert_array_equal(re.Gp, [0, 10, 19])
    assert [t.offset for t in re.terms] == [0, 10]


def _big(n: int, n_levels: int) -> list[ReTerm]:
    rng = np.random.default_rng(5)
    g = GroupingFactor("g", tuple(map(str, range(n_levels))), rng.integers(0, n_levels, n))
    h = GroupingFactor(
        "h", tuple(map(str, range(n_levels // 4))), rng.integers(0, n_levels // 4, n)
    )
    z = np.column_stack([np.ones(n), rng.normal(size=n)])
    return [
        make_re_term("x | g", g, z, ["(Intercept)", "x"]),
        make_re_term("1 | h", h, z[:, :1], ["(Intercept)"]),
    ]


def test_instEval_sized_design_is_fast() -> None:
    terms = _big(73_421, 4_000)
    start = time.perf_counter()
    re = assemble(terms, 73_421)
    elapsed = time.perf_counter() - start
    assert re.Zt.shape == (4_000 * 2 + 1_000, 73_421)
    assert elapsed < 1.0


@pytest.mark.slow
def test_million_rows_design_is_fast() -> None:
    terms = _big(1_000_000, 10_000)
    start = time.perf_counter()
    re = assemble(terms, 1_000_000)
    elapsed = time.perf_counter() - start
    assert re.Zt.nnz == 3_000_000 - np.count_nonzero(terms[0].z[:, 1] == 0)
    assert elapsed < 5.0


def test_no_terms_gives_an_empty_design() -> None:
    """glmmTMB-style models may have no random term: q = 0."""
    re = assemble([], 5)
    assert re.Zt.shape == (0, 5)
    assert re.Lambdat.shape == (0, 0)
    assert re.theta.size == re.lower.size == re.Lind.size == 0
    np.testing.assert_array_equal(re.Gp, [0])
    assert re.cnms == ()
    assert re.flist.shape == (5, 0)
