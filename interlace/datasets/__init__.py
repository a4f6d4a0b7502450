"""Classic datasets from R packages, bundled with interlace.

The data were exported once from R by ``scripts/export_datasets.R`` (lme4, ordinal, nlme,
survival, mlmRev, glmmTMB and base R's datasets) and are read with numpy and pandas only.
Factor levels keep R's order and orderedness, so model matrices come out as R builds them.

Examples
--------
>>> from interlace import datasets
>>> sleep = datasets.load("sleepstudy")
>>> sleep.shape
(180, 3)
>>> datasets.describe("sleepstudy").package
'lme4'
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from interlace.datasets._catalogue import (
    ColumnInfo,
    DatasetInfo,
    DatasetNotFoundError,
    catalogue,
    resolve,
)
from interlace.datasets._decode import read_dataset

__all__ = [
    "ColumnInfo",
    "DatasetInfo",
    "DatasetNotFoundError",
    "describe",
    "load",
    "names",
]


def names() -> list[str]:
    """Names of the bundled datasets, spelled as in R, sorted case-insensitively.

    Returns
    -------
    list of str
    """
    return sorted(catalogue(), key=str.casefold)


def describe(name: str) -> DatasetInfo:
    """Metadata of a bundled dataset: source package and version, R version, title, schema.

    Parameters
    ----------
    name
        Dataset name as in R (a case-insensitive match is accepted).

    Returns
    -------
    DatasetInfo

    Raises
    ------
    DatasetNotFoundError
        For an unknown name; the message lists the available names.
    """
    return resolve(name)


@cache
def _frame(name: str) -> pd.DataFrame:
    return read_dataset(catalogue()[name])


def load(name: str) -> pd.DataFrame:
    """Load a bundled dataset as a pandas DataFrame with R's column types.

    Parameters
    ----------
    name
        Dataset name as in R, e.g. ``"sleepstudy"``, ``"Orthodont"`` (a case-insensitive match
        is accepted).

    Returns
    -------
    pandas.DataFrame
        A fresh copy on every call.  Factors are ``Categorical`` with R's levels in R's order
        (``ordered=True`` for R's ordered factors); integer columns are ``int64`` (``Int64`` when
        they hold NA); logicals are ``bool`` (``boolean`` with NA); character columns are
        strings; Dates are ``datetime64``; numeric NA is NaN.  Rows keep R's order with a
        default ``RangeIndex``.

    Raises
    ------
    DatasetNotFoundError
        For an unknown name; the message lists the available names.
    """
    return _frame(resolve(name).name).copy(deep=True)
