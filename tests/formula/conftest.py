"""Shared helpers for the formula tests: the R-generated fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formula"


def load_cases(name: str) -> list[dict[str, Any]]:
    """Cases of ``fixtures/formula/<name>.json`` (written by fixtures/R/formula_terms.R)."""
    with (FIXTURES / f"{name}.json").open(encoding="utf-8") as handle:
        cases: list[dict[str, Any]] = json.load(handle)["cases"]
    return cases
