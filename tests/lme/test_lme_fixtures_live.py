"""The committed fixtures/lme/*.json are what fixtures/R/lme.R writes with today's R and nlme."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_r_script

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.r
@pytest.mark.slow
def test_lme_fixtures_are_current(tmp_path: Path) -> None:
    run_r_script("lme.R", tmp_path)
    fresh = sorted(p.name for p in tmp_path.glob("*.json"))
    committed = sorted(p.name for p in (REPO / "fixtures" / "lme").glob("*.json"))
    assert fresh == committed
    for name in fresh:
        new = (tmp_path / name).read_text(encoding="utf-8")
        old = (REPO / "fixtures" / "lme" / name).read_text(encoding="utf-8")
        assert new == old, name
