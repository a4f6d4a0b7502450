"""The committed glmmTMB fixtures are what fixtures/R/glmmtmb.R produces with today's R."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.mark.r
@pytest.mark.slow
def test_stored_fixtures_match_live_r(tmp_path: Path) -> None:
    from tests.conftest import run_r_script

    run_r_script("glmmtmb.R", tmp_path)
    fresh = sorted(tmp_path.glob("*.json"))
    assert [p.name for p in fresh] == sorted(p.name for p in (FIXTURES / "glmmtmb").glob("*.json"))
    for path in fresh:
        live = json.loads(path.read_text(encoding="utf-8"))
        stored = json.loads((FIXTURES / "glmmtmb" / path.name).read_text(encoding="utf-8"))
        assert live["versions"] == stored["versions"], path.name
        if "par" not in stored:  # anova.json: a table, not a fit
            assert live["printout"] == stored["printout"], path.name
            np.testing.assert_allclose(
                live["table"]["logLik"], stored["table"]["logLik"], rtol=1e-12
            )
            continue
        assert live["summary"] == stored["summary"], path.name
        np.testing.assert_allclose(
            live["par"]["values"], stored["par"]["values"], rtol=1e-8, err_msg=path.name
        )
        assert live["logLik"] == pytest.approx(stored["logLik"], rel=1e-12)
