"""The committed formula fixtures are what the committed R script produces today."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import FIXTURES

SCRIPT = FIXTURES.parents[1] / "fixtures" / "R" / "formula_terms.R"


@pytest.mark.r
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_fixtures_are_current(tmp_path: Path) -> None:
    probe = subprocess.run(
        ["Rscript", "-e", "library(lme4); library(jsonlite)"], capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("R packages lme4/jsonlite are not installed")
    subprocess.run(["Rscript", str(SCRIPT)], cwd=tmp_path, check=True, capture_output=True)
    for fresh in sorted((tmp_path / "fixtures" / "formula").glob("*.json")):
        committed = FIXTURES / fresh.name
        assert fresh.read_text(encoding="utf-8") == committed.read_text(encoding="utf-8"), (
            fresh.name
        )
