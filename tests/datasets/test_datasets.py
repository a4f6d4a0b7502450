"""Bundled datasets: every one loads with R's dimensions, types, levels, NA counts and values.

Expected values come from R: ``scripts/export_datasets.R`` recorded them in
``interlace/datasets/data/catalogue.json`` (read here as raw JSON, independently of the loader's
own parsing), and the ``r``-marked test asks a live R for them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace import datasets
from interlace.errors import InterlaceError

DATA = resources.files("interlace.datasets").joinpath("data")
RAW: dict[str, Any] = json.loads(DATA.joinpath("catalogue.json").read_text("utf-8"))
ENTRIES: dict[str, dict[str, Any]] = RAW["datasets"]

# The list in issue 2 (plus ChickWeight, needed by an lmer parity case), by source package.
WANTED = {
    "lme4": [
        "sleepstudy",
        "Dyestuff",
        "Dyestuff2",
        "Penicillin",
        "Pastes",
        "InstEval",
        "cbpp",
        "grouseticks",
        "VerbAgg",
        "cake",
    ],
    "ordinal": ["wine", "soup"],
    "nlme": ["Orthodont", "Ovary", "BodyWeight", "Machines"],
    "survival": ["rats", "kidney", "lung", "cgd"],
    "mlmRev": ["Contraception"],
    "glmmTMB": ["Salamanders"],
    "datasets": ["ChickWeight"],
}

PANDAS_KIND = {
    "numeric": lambda s: s.dtype == np.float64,
    "integer": lambda s: s.dtype == (np.int64 if not s.hasnans else pd.Int64Dtype()),
    "logical": lambda s: s.dtype == (np.bool_ if not s.hasnans else pd.BooleanDtype()),
    "character": lambda s: pd.api.types.is_string_dtype(s.dtype),
    "factor": lambda s: isinstance(s.dtype, pd.CategoricalDtype) and not s.cat.ordered,
    "ordered": lambda s: isinstance(s.dtype, pd.CategoricalDtype) and s.cat.ordered,
    "Date": lambda s: pd.api.types.is_datetime64_dtype(s.dtype),
}


def as_r_numbers(series: pd.Series) -> pd.Series:
    """The numbers R sums for a non-factor column (Dates as days since 1970-01-01)."""
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return (series - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return series.astype("float64")


def r_codes(series: pd.Series, column: dict[str, Any]) -> np.ndarray:
    """R's 1-based codes of a factor or character column (NaN for NA)."""
    if column["type"] == "character":
        lookup = {v: i + 1 for i, v in enumerate(column["values"])}
        return np.array([np.nan if pd.isna(v) else lookup[v] for v in series], dtype=float)
    codes = series.cat.codes.to_numpy().astype(float) + 1
    codes[codes == 0] = np.nan
    return codes


def test_names_and_packages_are_the_issue_list() -> None:
    expected = {name: pkg for pkg, names in WANTED.items() for name in names}
    assert sorted(datasets.names()) == sorted(expected)
    assert {name: datasets.describe(name).package for name in expected} == expected


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_dataset_matches_r_record(name: str) -> None:
    entry = ENTRIES[name]
    df = datasets.load(name)
    assert df.shape == (entry["nrow"], entry["ncol"])
    assert list(df.columns) == [c["name"] for c in entry["columns"]]
    assert isinstance(df.index, pd.RangeIndex)
    rows = [r - 1 for r in entry["spot_rows"]]
    spot: list[object]
    for column in entry["columns"]:
        series = df[column["name"]]
        rtype = column["type"]
        where = f"{name}${column['name']} ({rtype})"
        assert PANDAS_KIND[rtype](series), f"{where}: dtype {series.dtype}"
        assert int(series.isna().sum()) == column["n_na"], where
        if rtype in ("factor", "ordered"):
            assert list(series.cat.categories) == column["levels"], where
        if rtype in ("factor", "ordered", "character"):
            codes = r_codes(series, column)
            weights = np.arange(1, len(codes) + 1)
            assert np.nansum(codes) == column["code_sum"], where
            assert np.nansum(codes * weights) == column["code_weighted_sum"], where
            spot = [None if pd.isna(v) else str(v) for v in series.iloc[rows]]
        else:
            x = as_r_numbers(series).to_numpy(dtype=float)
            weights = np.arange(1, len(x) + 1)
            assert np.nanmin(x) == column["min"], where
            assert np.nanmax(x) == column["max"], where
            assert np.nansum(x) == pytest.approx(column["sum"], rel=1e-13, abs=1e-13), where
            assert np.nansum(x * weights) == pytest.approx(
                column["weighted_sum"], rel=1e-13, abs=1e-13
            ), where
            spot = [None if np.isnan(v) else float(v) for v in x[rows]]
        assert spot == column["spot"], where


def test_describe_reports_r_provenance() -> None:
    info = datasets.describe("Orthodont")
    entry = ENTRIES["Orthodont"]
    assert info.r_version == RAW["r_version"]
    assert info.package_version == entry["package_version"]
    assert "groupedData" in info.r_class
    assert [c.name for c in info.columns] == ["distance", "age", "Subject", "Sex"]
    assert info.columns[2].rtype == "ordered"


def test_ordered_factors_stay_ordered_as_in_r() -> None:
    # R: is.ordered(nlme::Orthodont$Subject), is.ordered(glmmTMB::Salamanders$site) are TRUE.
    assert datasets.load("Orthodont")["Subject"].cat.ordered
    assert datasets.load("Salamanders")["site"].cat.ordered
    assert not datasets.load("Orthodont")["Sex"].cat.ordered


def test_every_file_is_catalogued_and_small() -> None:
    files = {p.name for p in DATA.iterdir() if p.is_file()}
    assert files == {"catalogue.json"} | {e["file"] for e in ENTRIES.values()}
    total = sum(len(DATA.joinpath(f).read_bytes()) for f in files)
    assert total < 2_000_000


def test_load_returns_a_fresh_copy() -> None:
    first = datasets.load("sleepstudy")
    first.loc[0, "Reaction"] = -1.0
    first["extra"] = 1
    first["Subject"] = first["Subject"].cat.rename_categories(lambda s: "x" + s)
    second = datasets.load("sleepstudy")
    assert second.loc[0, "Reaction"] == ENTRIES["sleepstudy"]["columns"][0]["spot"][0]
    assert "extra" not in second.columns
    assert list(second["Subject"].cat.categories) == ENTRIES["sleepstudy"]["columns"][2]["levels"]


def test_lookup_is_case_insensitive_when_unambiguous() -> None:
    pd.testing.assert_frame_equal(datasets.load("SLEEPSTUDY"), datasets.load("sleepstudy"))
    assert datasets.describe("orthodont").name == "Orthodont"


def test_unknown_name_lists_available_datasets() -> None:
    with pytest.raises(datasets.DatasetNotFoundError) as caught:
        datasets.load("sleepstudie")
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, InterlaceError)
    message = str(caught.value)
    assert "'sleepstudie'" in message
    assert "Did you mean 'sleepstudy'" in message
    for name in ENTRIES:
        assert name in message


@pytest.mark.parametrize(
    ("rtype", "csv", "extra", "expected"),
    [
        ("integer", [3, None, 1], {}, pd.array([3, None, 1], dtype="Int64")),
        ("logical", [1, None, 0], {}, pd.array([True, None, False], dtype="boolean")),
        (
            "factor",
            [3, None, 1],
            {"levels": ("b", "a", "c")},
            pd.Categorical(["c", None, "b"], ["b", "a", "c"]),
        ),
        (
            "character",
            [3, None, 1],
            {"values": ("x", "y", "z")},
            pd.array(["z", None, "x"], dtype=object),
        ),
    ],
)
def test_na_survives_decoding_of_every_coded_type(
    rtype: str, csv: list[int | None], extra: dict[str, Any], expected: Any
) -> None:
    # No bundled dataset has NA outside numeric columns, so decode synthetic CSV columns.
    from interlace.datasets._catalogue import ColumnInfo
    from interlace.datasets._decode import _DECODERS

    column = ColumnInfo(
        name="v",
        rtype=rtype,  # type: ignore[arg-type]
        n_na=1,
        levels=extra.get("levels"),
        values=extra.get("values"),
        checks={},
    )
    decoded = pd.Series(_DECODERS[rtype](pd.Series(csv, dtype="Int64"), column))
    assert decoded.isna().tolist() == [False, True, False]
    pd.testing.assert_series_equal(decoded, pd.Series(expected), check_dtype=rtype != "character")


def _r_with_packages() -> bool:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return False
    needed = "c('lme4', 'nlme', 'survival')"
    probe = f"quit(status = !all(sapply({needed}, requireNamespace, quietly = TRUE)))"
    return subprocess.run([rscript, "-e", probe], capture_output=True).returncode == 0


# Prints, per column of each dataset, one tab-separated line: dataset, column, R type, then
# the levels and 1-based codes (factors), or the values at 17 significant digits ("NA" for NA).
R_DUMP = r"""
for (spec in list(c("lme4", "sleepstudy"), c("nlme", "Orthodont"), c("survival", "lung"),
                  c("survival", "rats"), c("survival", "cgd"))) {
  d <- getExportedValue(spec[1], spec[2])
  for (col in names(d)) {
    x <- d[[col]]
    if (is.factor(x)) {
      cat(spec[2], col, if (is.ordered(x)) "ordered" else "factor", sep = "\t")
      cat("\t", paste(levels(x), collapse = "|"), "\t", paste(as.integer(x), collapse = " "),
          "\n", sep = "")
    } else {
      v <- if (is.character(x)) x else sprintf("%.17g", as.double(unclass(x)))
      v[is.na(x)] <- "NA"
      cat(spec[2], col, if (is.character(x)) "character" else "number", paste(v, collapse = "|"),
          sep = "\t")
      cat("\n")
    }
  }
}
"""


@pytest.mark.r
@pytest.mark.skipif(not _r_with_packages(), reason="needs Rscript with lme4, nlme and survival")
def test_values_match_live_r() -> None:
    out = subprocess.run(
        ["Rscript", "-e", R_DUMP], capture_output=True, text=True, check=True
    ).stdout
    seen = set()
    for line in out.splitlines():
        name, col, kind, *payload = line.split("\t")
        series = datasets.load(name)[col]
        seen.add(name)
        if kind in ("factor", "ordered"):
            levels, codes = payload
            assert list(series.cat.categories) == levels.split("|"), (name, col)
            assert series.cat.ordered == (kind == "ordered"), (name, col)
            expected = np.array(codes.split(" "), dtype=np.int64) - 1
            np.testing.assert_array_equal(series.cat.codes.to_numpy(), expected)
        elif kind == "character":
            assert list(series) == payload[0].split("|"), (name, col)
        else:
            numbers = [np.nan if v == "NA" else float(v) for v in payload[0].split("|")]
            got = as_r_numbers(series).to_numpy(dtype=float)
            np.testing.assert_array_equal(got, numbers, err_msg=f"{name}${col}")
    assert seen == {"sleepstudy", "Orthodont", "lung", "rats", "cgd"}
