"""Data and reference fits of the Cox tests: fixtures/coxme (coxme 2.2-22, frozen)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

COXME_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "coxme"


@cache
def dataset(name: str) -> pd.DataFrame:
    """One of the CSV data sets of fixtures/coxme (read once; callers must not modify it)."""
    return pd.read_csv(COXME_DIR / f"{name}.csv")


@cache
def coxme_reference() -> dict[str, dict[str, Any]]:
    """The coxme reference fits by case id."""
    with (COXME_DIR / "coxme_reference.json").open(encoding="utf-8") as fh:
        cases = json.load(fh)["cases"]
    return {case["id"]: case for case in cases}
