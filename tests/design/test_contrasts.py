"""Contrast matrices and their names against R's ``contr.*`` (fixtures/R/model_matrix.R)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from mm_data import SCRIPT, STORED_DIR

from interlace.design.contrasts import (
    Contrast,
    ContrastSpec,
    as_contrast_spec,
    choose_contrasts,
    contr_helmert,
    contr_poly,
    contr_sas,
    contr_sum,
    contr_treatment,
    contrast_options,
)
from interlace.errors import DataError, FormulaError

LETTERS = list("abcdef")

CASES: dict[str, Callable[[], Contrast]] = {
    "treatment_4": lambda: contr_treatment(LETTERS[:4]),
    "treatment_4_base3": lambda: contr_treatment(LETTERS[:4], base=3),
    "treatment_n3_base2": lambda: ContrastSpec(
        "contr.treatment", (("base", 2),), numbered=True
    ).build(["x", "y", "z"]),
    "SAS_4": lambda: contr_sas(LETTERS[:4]),
    "sum_4": lambda: contr_sum(LETTERS[:4]),
    "helmert_5": lambda: contr_helmert(LETTERS[:5]),
    "poly_2": lambda: contr_poly(["1", "2"]),
    "poly_3": lambda: contr_poly(["1", "2", "3"]),
    "poly_6": lambda: contr_poly([str(i) for i in range(1, 7)]),
}


@pytest.fixture(scope="module")
def reference(r_outputs: Callable[[str, str], Any]) -> dict[str, Any]:
    path = Path(r_outputs(SCRIPT, STORED_DIR).directory) / "contrasts.json"
    with path.open(encoding="utf-8") as fh:
        out: dict[str, Any] = json.load(fh)["contrasts"]
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_contrast_matrix_matches_r(name: str, reference: dict[str, Any]) -> None:
    expected = reference[name]
    got = CASES[name]()
    mat = np.asarray(expected["matrix"], dtype=float).reshape(expected["nrow"], expected["ncol"])
    np.testing.assert_allclose(got.matrix, mat, rtol=0, atol=1e-14)
    assert got.colnames == (None if expected["colnames"] is None else tuple(expected["colnames"]))


def test_precedence_argument_beats_attribute_beats_default() -> None:
    attribute = ContrastSpec("contr.helmert")
    options = contrast_options({"f": "sum"})
    assert choose_contrasts("f", False, attribute, options).name == "contr.sum"
    assert choose_contrasts("g", False, attribute, options).name == "contr.helmert"
    assert choose_contrasts("g", False, None, options).name == "contr.treatment"
    assert choose_contrasts("g", True, None, options).name == "contr.poly"
    glob = contrast_options(("contr.sum", "contr.treatment"))
    assert choose_contrasts("g", True, None, glob).name == "contr.treatment"


def test_user_matrices_with_and_without_names() -> None:
    levels = ["a", "b", "c"]
    named = as_contrast_spec(pd.DataFrame({"_l": [-1.0, 0, 1], "_q": [1.0, -2, 1]}))
    assert named.build(levels).suffixes() == ("_l", "_q")
    plain = as_contrast_spec(np.array([[-1.0, 1], [0, -2], [1, 1]]))
    assert plain.build(levels).suffixes() == ("1", "2")
    with pytest.raises(DataError, match="rows"):
        plain.build(["a", "b"])


def test_unknown_coding_is_an_error() -> None:
    with pytest.raises(FormulaError, match="unknown contrasts"):
        contrast_options({"f": "contr.bogus"})


def test_treatment_base_out_of_range() -> None:
    with pytest.raises(DataError, match="out of range"):
        contr_treatment(["a", "b"], base=3)
