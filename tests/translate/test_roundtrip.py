"""Round trip: R scripts of the corpus, translated and run in Python, give R's numbers.

The references come from ``fixtures/R/translate.R``, which runs the same scripts in R (live
when R is here, else the committed ``fixtures/translate/roundtrip.json``).  For every lmer
fit the script leaves behind, the fixed effects (names, order and values), theta, sigma and
the log-likelihood are compared.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from interlace.errors import InterlaceWarning
from interlace.translate import translate

CORPUS = Path(__file__).parent / "corpus"
SCRIPTS = [
    "01_sleepstudy_lmer.R",
    "04_penicillin_crossed.R",
    "15_machines_sum_contrasts.R",
    "16_pipes_subset.R",
    "19_lmer_roundtrip.R",
    "20_chickweight_growth.R",
    "21_pastes_nested.R",
    "29_dyestuff2_singular.R",
    "30_weights_offset.R",
]

pytest.importorskip("interlace.api.lmer")


@pytest.fixture(scope="module")
def reference(r_outputs: Callable[[str, str], Any]) -> dict[str, Any]:
    scripts: dict[str, Any] = r_outputs("translate.R", "translate")["roundtrip"]["scripts"]
    return scripts


def _run(script: str) -> dict[str, Any]:
    """Translate and execute a corpus script; its namespace afterwards."""
    python = translate((CORPUS / script).read_text(encoding="utf-8"), filename=script)
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", InterlaceWarning)
        exec(compile(python, script, "exec"), namespace)
    return namespace


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_script_reproduces_r(script: str, reference: dict[str, Any]) -> None:
    fits = reference[script]
    assert fits, f"R left no lmer fit in {script}"
    namespace = _run(script)
    for name, expected in fits.items():
        fit = namespace[name]
        fixef = fit.fe_params
        assert list(fixef.index) == list(expected["fixef_names"]), name
        want = np.array([expected["fixef"][k] for k in expected["fixef_names"]])
        np.testing.assert_allclose(fixef.to_numpy(), want, rtol=1e-5, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
        assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-5), name
        assert fit.llf == pytest.approx(expected["logLik"], rel=1e-7, abs=1e-6), name
        assert fit.REML == expected["REML"], name
        assert fit.nobs == expected["nobs"], name
