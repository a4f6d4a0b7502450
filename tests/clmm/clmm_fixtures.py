"""The ordinal::clmm reference fits of fixtures/clmm (written by fixtures/R/clmm.R)."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from interlace.api.clmm import clmm
from interlace.datasets import load
from interlace.errors import RankDeficiencyWarning
from interlace.results.clmm_result import ClmmResult

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
    slow: bool = False
    #: absolute tolerance of α and β (besides 1e-4 relative)
    atol: float = 1e-5

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
    Case("soup_logit", "SURENESS ~ PROD + (1 | RESP)", "soup"),
    Case("wine_nested", "rating ~ temp + contact + (1 | judge/temp)", "wine"),
    Case("soup_nested", "SURENESS ~ PROD + (1 | RESP/PRODID)", "soup", slow=True),
    # ordinal stops at max.grad 3e-3 on a flat ridge (cond.H 1.7e3: the six PRODID effects
    # against the thresholds' location); its thresholds all lie 5e-5 from interlace's, whose
    # log-likelihood is 1.2e-7 higher
    Case(
        "soup_crossed",
        "SURENESS ~ PROD + (1 | RESP) + (1 | PRODID)",
        "soup",
        slow=True,
        atol=1e-4,
    ),
    Case("wine_rankdef", "rating ~ temp * contact + bottle + (1 | judge)", "wine"),
)

#: The cases as pytest parameters: the slow fits marked ``slow``.
FIT_CASES = tuple(
    pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in CASES
)


def start_reference() -> dict[str, Any]:
    """fixtures/clmm/start.json: refits from ordinal's optimum and ordinal's bad-input errors."""
    return dict(json.loads((FIXTURES / "start.json").read_text()))


@cache
def fitted(case: Case) -> ClmmResult:
    """interlace's fit of a case (once per session)."""
    with warnings.catch_warnings():
        # wine_rankdef's message is checked in test_rank_deficient_design_drops_ordinals_columns
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        return clmm(
            case.formula,
            load(case.data),
            link=case.link,  # type: ignore[arg-type]
            threshold=case.threshold,  # type: ignore[arg-type]
            nAGQ=case.nAGQ,
            data_name=case.data,
        )
