"""The ordinal::clmm reference fits of fixtures/clmm (written by fixtures/R/clmm.R)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "clmm"


@dataclass(frozen=True)
class Case:
    """One R call and the same model in interlace's spelling."""

    name: str
    formula: str
    data: str
    link: str = "logit"
    threshold: str = "flexible"
    nAGQ: int = 1

    def reference(self) -> dict[str, Any]:
        """The fixture written by R."""
        return dict(json.loads((FIXTURES / f"{self.name}.json").read_text()))


CASES = (
    Case("wine_judge", "rating ~ temp + contact + (1 | judge)", "wine"),
    Case("wine_crossed", "rating ~ temp + contact + (1 | judge) + (1 | bottle)", "wine"),
    Case("wine_probit_agq10", "rating ~ temp + contact + (1 | judge)", "wine", "probit", nAGQ=10),
    Case(
        "wine_equidistant", "rating ~ temp + contact + (1 | judge)", "wine", threshold="equidistant"
    ),
    Case("wine_symmetric", "rating ~ temp + contact + (1 | judge)", "wine", threshold="symmetric"),
    Case(
        "wine_cloglog_crossed",
        "rating ~ temp * contact + (1 | judge) + (1 | bottle)",
        "wine",
        "cloglog",
    ),
    Case("wine_slope", "rating ~ temp + contact + (1 + temp | judge)", "wine"),
    Case("soup_probit", "SURENESS ~ PROD + (1 | RESP)", "soup", "probit"),
)
