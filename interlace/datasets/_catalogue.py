"""The catalogue of bundled datasets: what each one is, where it came from, and its R schema.

``data/catalogue.json`` is written by ``scripts/export_datasets.R`` alongside one gzip CSV per
dataset.  It records, per dataset, the source R package and its version, the R version, R's title,
the R class that was stripped, the dimensions, and per column the R type, factor levels in R's
order, NA count and checksums computed in R.  This module parses it into immutable records and
resolves user-supplied names.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast

from interlace.errors import InterlaceError

RType = Literal["numeric", "integer", "logical", "character", "factor", "ordered", "Date"]
"""R column types the exporter writes."""

_R_TYPES: frozenset[str] = frozenset(
    ("numeric", "integer", "logical", "character", "factor", "ordered", "Date")
)


class DatasetNotFoundError(InterlaceError, KeyError):
    """A dataset name that is not bundled; the message lists the available names."""

    code = "dataset-not-found"


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a bundled dataset as R had it.

    Attributes
    ----------
    name : str
        Column name, as in R.
    rtype : RType
        R type: ``numeric`` (double), ``integer``, ``logical``, ``character``, ``factor``,
        ``ordered`` (ordered factor) or ``Date``.
    n_na : int
        Number of ``NA`` values in R.
    levels : tuple of str or None
        Factor levels in R's order (factors and ordered factors only).
    values : tuple of str or None
        The distinct strings of a character column (the CSV stores codes into this list).
    checks : dict of str to float
        Checksums computed in R: ``sum``, ``weighted_sum`` (sum of ``x * row``), ``min``, ``max``
        for numeric, integer, logical and Date columns (Dates as days since 1970-01-01);
        ``code_sum`` and ``code_weighted_sum`` over the 1-based codes for factor and character
        columns.  NA values are left out.
    """

    name: str
    rtype: RType
    n_na: int
    levels: tuple[str, ...] | None
    values: tuple[str, ...] | None
    checks: dict[str, float]


@dataclass(frozen=True)
class DatasetInfo:
    """Metadata of a bundled dataset, as recorded by the R export script.

    Attributes
    ----------
    name : str
        Dataset name, spelled as in R.
    package : str
        R package the data come from (``datasets`` for base R data).
    package_version : str
        Version of that package at export time.
    r_version : str
        Version of R at export time.
    title : str
        R's one-line title of the dataset.
    r_class : tuple of str
        R class of the original object (e.g. ``nfnGroupedData``); exported as a plain data frame.
    file : str
        Name of the gzip CSV under ``interlace/datasets/data``.
    nrow, ncol : int
        Dimensions in R.
    columns : tuple of ColumnInfo
        Columns in R's order.
    """

    name: str
    package: str
    package_version: str
    r_version: str
    title: str
    r_class: tuple[str, ...]
    file: str
    nrow: int
    ncol: int
    columns: tuple[ColumnInfo, ...]


def _optional_strings(raw: dict[str, Any], key: str) -> tuple[str, ...] | None:
    return tuple(str(v) for v in raw[key]) if key in raw else None


def _column(raw: dict[str, Any]) -> ColumnInfo:
    rtype = str(raw["type"])
    if rtype not in _R_TYPES:
        raise ValueError(f"catalogue: column {raw['name']!r} has unknown R type {rtype!r}")
    checks: dict[str, float] = {
        key: float(raw[key])
        for key in ("sum", "weighted_sum", "min", "max", "code_sum", "code_weighted_sum")
        if key in raw
    }
    return ColumnInfo(
        name=str(raw["name"]),
        rtype=cast(RType, rtype),
        n_na=int(raw["n_na"]),
        levels=_optional_strings(raw, "levels"),
        values=_optional_strings(raw, "values"),
        checks=checks,
    )


@cache
def catalogue() -> dict[str, DatasetInfo]:
    """Parse ``data/catalogue.json`` (once) into records keyed by R name.

    Returns
    -------
    dict of str to DatasetInfo
        In the order the export script wrote them (grouped by source package).
    """
    text = resources.files(__package__).joinpath("data", "catalogue.json").read_text("utf-8")
    raw = json.loads(text)
    r_version = str(raw["r_version"])
    return {
        name: DatasetInfo(
            name=name,
            package=str(entry["package"]),
            package_version=str(entry["package_version"]),
            r_version=r_version,
            title=str(entry["title"]),
            r_class=tuple(str(c) for c in entry["r_class"]),
            file=str(entry["file"]),
            nrow=int(entry["nrow"]),
            ncol=int(entry["ncol"]),
            columns=tuple(_column(c) for c in entry["columns"]),
        )
        for name, entry in raw["datasets"].items()
    }


def resolve(name: str) -> DatasetInfo:
    """Find a dataset by its R name, falling back to a case-insensitive match.

    Parameters
    ----------
    name
        Dataset name, e.g. ``"sleepstudy"`` (``"SleepStudy"`` is accepted too).

    Returns
    -------
    DatasetInfo

    Raises
    ------
    DatasetNotFoundError
        If no bundled dataset has that name; the message suggests close names and lists all.
    """
    known = catalogue()
    if name in known:
        return known[name]
    folded = {key.casefold(): key for key in known}
    wanted = str(name).casefold()
    if wanted in folded:
        return known[folded[wanted]]
    available = sorted(known, key=str.casefold)
    close = difflib.get_close_matches(wanted, list(folded), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(folded[c]) for c in close)}?" if close else ""
    raise DatasetNotFoundError(
        f"no bundled dataset named {name!r}.{hint} Available: {', '.join(available)}."
    )
