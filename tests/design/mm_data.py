"""Test support for tests/design/test_*: R's outputs of ``fixtures/R/model_matrix.R``.

The script writes ``synthetic_B.csv`` + ``synthetic_B.json`` (column types and levels) and
the JSON reference files; :func:`read_dataset` reads the data back with R's types so that
Python sees exactly the data R used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCRIPT = "model_matrix.R"
STORED_DIR = "model_matrix"


def read_dataset(directory: Path) -> pd.DataFrame:
    """The synthetic_B data in ``directory`` (live run) or ``fixtures/data`` (stored)."""
    base = directory if (directory / "synthetic_B.csv").is_file() else FIXTURES / "data"
    with (base / "synthetic_B.json").open(encoding="utf-8") as fh:
        schema = json.load(fh)
    raw = pd.read_csv(base / "synthetic_B.csv", dtype=str, keep_default_na=False, na_values=[""])
    out: dict[str, Any] = {}
    for col in schema["columns"]:
        name, kind, text = col["name"], col["type"], raw[col["name"]]
        if kind in ("numeric", "integer"):
            out[name] = text.astype("float64" if kind == "numeric" else "int64")
        elif kind == "logical":
            out[name] = text.map({"TRUE": True, "FALSE": False}).astype(bool)
        elif kind == "character":
            out[name] = text.astype(object).where(text.notna(), None)
        else:
            out[name] = pd.Categorical(text, categories=col["levels"], ordered=kind == "ordered")
    frame = pd.DataFrame(out)
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # R's row names
    return frame


def contrasts_argument(case: dict[str, Any]) -> Any:
    """interlace's ``contrasts`` argument for a case of ``table_B.json``."""
    if case.get("options_contrasts"):
        return tuple(case["options_contrasts"])
    spec = case.get("contrasts_arg")
    if not spec:
        return None
    out: dict[str, Any] = {}
    for name, value in spec.items():
        if isinstance(value, str):
            out[name] = value
            continue
        mat = np.asarray(value["matrix"], dtype=float).reshape(value["nrow"], -1)
        out[name] = (
            mat if value.get("colnames") is None else pd.DataFrame(mat, columns=value["colnames"])
        )
    return out
