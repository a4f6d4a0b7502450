"""Decode a bundled gzip CSV into a pandas DataFrame with R's column types.

The CSV written by ``scripts/export_datasets.R`` holds only numbers: doubles at full
precision, integers, logicals as 1/0, factors and character columns as 1-based codes into the
levels/values recorded in the catalogue, Dates as days since 1970-01-01; an empty field is NA.
R types map to pandas as follows:

==========  ===============================================================
R           pandas
==========  ===============================================================
numeric     ``float64`` (NA -> NaN)
integer     ``int64``; nullable ``Int64`` when the column has NA
logical     ``bool``; nullable ``boolean`` when the column has NA
character   strings (pandas' default string dtype; NA -> missing)
factor      ``Categorical`` with R's levels in R's order, ``ordered=False``
ordered     ``Categorical`` with R's levels in R's order, ``ordered=True``
Date        ``datetime64`` (NA -> NaT)
==========  ===============================================================
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import numpy as np
import numpy.typing as npt
import pandas as pd

from interlace.datasets._catalogue import ColumnInfo, DatasetInfo

_Decoder = Callable[[pd.Series, ColumnInfo], "pd.Series | pd.Categorical[str]"]


def _codes(raw: pd.Series) -> npt.NDArray[np.int64]:
    """0-based codes from the CSV's 1-based codes, with -1 for NA (pandas' convention)."""
    return raw.fillna(0).to_numpy(dtype=np.int64) - 1


def _numeric(raw: pd.Series, column: ColumnInfo) -> pd.Series:
    return raw.astype("float64")


def _integer(raw: pd.Series, column: ColumnInfo) -> pd.Series:
    return raw if raw.hasnans else raw.astype("int64")


def _logical(raw: pd.Series, column: ColumnInfo) -> pd.Series:
    return raw.astype("boolean") if raw.hasnans else raw.astype("bool")


def _character(raw: pd.Series, column: ColumnInfo) -> pd.Series:
    values = np.array((*(column.values or ()), None), dtype=object)
    return pd.Series(values[_codes(raw)], index=raw.index)


def _factor(raw: pd.Series, column: ColumnInfo) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(
        _codes(raw), categories=pd.Index(column.levels or ()), ordered=column.rtype == "ordered"
    )


def _date(raw: pd.Series, column: ColumnInfo) -> pd.Series:
    return pd.Series(pd.to_datetime(raw.astype("float64"), unit="D"), index=raw.index)


_DECODERS: dict[str, _Decoder] = {
    "numeric": _numeric,
    "integer": _integer,
    "logical": _logical,
    "character": _character,
    "factor": _factor,
    "ordered": _factor,
    "Date": _date,
}

# How pandas parses each column before decoding: doubles as float64, everything else as
# nullable integers (codes, counts, 1/0, day numbers).
_CSV_DTYPES: dict[str, str] = {"numeric": "float64", "Date": "float64"}


def read_dataset(info: DatasetInfo) -> pd.DataFrame:
    """Read and decode one bundled dataset.

    Parameters
    ----------
    info
        Its catalogue record.

    Returns
    -------
    pandas.DataFrame
        ``info.nrow`` rows with a default ``RangeIndex`` (R's row names are not kept), columns in
        R's order with the dtypes in the module docstring.
    """
    dtypes = {c.name: _CSV_DTYPES.get(c.rtype, "Int64") for c in info.columns}
    path = resources.files(__package__).joinpath("data", info.file)
    with path.open("rb") as handle:
        raw = pd.read_csv(
            handle,
            compression="gzip",
            dtype=dtypes,
            na_values=[""],
            keep_default_na=False,
            encoding="utf-8",
        )
    return pd.DataFrame({c.name: _DECODERS[c.rtype](raw[c.name], c) for c in info.columns})
