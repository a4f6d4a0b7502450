"""Fixtures of the glmmTMB tests: R's outputs of fixtures/R/glmmtmb.R (live or stored)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tmb_reference(r_outputs: Callable[[str, str], Any]) -> Any:
    """R's glmmTMB outputs (``ROutputs``), indexed by case name."""
    return r_outputs("glmmtmb.R", "glmmtmb")
