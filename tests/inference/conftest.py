"""R's reference values for the inference tests (``fixtures/R/inference.R``, live or stored)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session")
def reference(r_outputs: Callable[[str, str], Any]) -> Any:
    """R's outputs of ``fixtures/R/inference.R`` (live or stored)."""
    return r_outputs("inference.R", "inference")
