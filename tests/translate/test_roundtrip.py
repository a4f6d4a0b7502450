"""Round trip: R scripts of the corpus, translated and run in Python, give R's numbers.

The references come from ``fixtures/R/translate.R``, which runs the same scripts in R (live
when R is here, else the committed ``fixtures/translate/roundtrip.json``).  For every lmer
fit the script leaves behind, the fixed effects (names, order and values), theta, sigma and
the log-likelihood are compared.  For every glmer fit: the family, link and nAGQ, the fixed
effects within 1e-4 relative, theta within 1e-3, and the log-likelihood one-sided (interlace
may find a better optimum than lme4, not a worse one by more than 1e-4).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from interlace.errors import InterlaceWarning
from interlace.translate import translate

CORPUS = Path(__file__).parent / "corpus"
#: The corpus scripts fixtures/R/translate.R runs in R (its list is the one source).
SCRIPTS = list(
    json.loads(
        (Path(__file__).parents[2] / "fixtures" / "translate" / "roundtrip.json").read_text()
    )["scripts"]
)


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


def _check_lmer(name: str, fit: Any, expected: dict[str, Any]) -> None:
    want = np.array([expected["fixef"][k] for k in expected["fixef_names"]])
    np.testing.assert_allclose(fit.fe_params.to_numpy(), want, rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
    assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-5), name
    assert fit.llf == pytest.approx(expected["logLik"], rel=1e-7, abs=1e-6), name
    assert fit.REML == expected["REML"], name


#: Fits whose fixed effects are not identified: ``incidence / size`` without weights is one
#: trial per row, R's binomial log-likelihood rounds the successes to 0 or 1, and no row of
#: periods 2-4 reaches a proportion of 1/2, so the likelihood keeps rising as those effects go
#: to -inf (quasi-complete separation).  lme4 stops near -35 to -330, interlace near -22; both
#: are at the supremum of the log-likelihood (to 1e-9), which is compared.
SEPARATED = {"gm_now": ("period2", "period3", "period4")}


def _check_glmer(name: str, fit: Any, expected: dict[str, Any]) -> None:
    assert (fit.family, fit.link, fit.nAGQ) == (
        expected["family"],
        expected["link"],
        expected["nAGQ"],
    ), name
    want = np.array([expected["fixef"][k] for k in expected["fixef_names"]])
    got = fit.fe_params.to_numpy()
    if name in SEPARATED:
        separated = fit.fe_params.index.isin(SEPARATED[name])
        assert (got[separated] < -20).all() and (want[separated] < -20).all(), name
        got, want = got[~separated], want[~separated]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(fit.theta, expected["theta"], rtol=1e-3, atol=1e-4, err_msg=name)
    assert fit.sigma == pytest.approx(expected["sigma"], rel=1e-5), name
    assert fit.llf >= expected["logLik"] - 1e-4, name
    assert fit.REML is False and expected["REML"] is False, name


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_script_reproduces_r(script: str, reference: dict[str, Any]) -> None:
    fits = reference[script]
    assert fits, f"R left no lmer or glmer fit in {script}"
    namespace = _run(script)
    for name, expected in fits.items():
        fit = namespace[name]
        assert list(fit.fe_params.index) == list(expected["fixef_names"]), name
        assert (
            type(fit).__name__ == {"lmer": "LmerResult", "glmer": "GlmerResult"}[expected["fun"]]
        ), name
        check = _check_glmer if expected["fun"] == "glmer" else _check_lmer
        check(name, fit, expected)
        assert fit.nobs == expected["nobs"], name


def test_stored_and_live_r_cover_the_same_scripts(reference: dict[str, Any]) -> None:
    assert list(reference) == SCRIPTS


def test_glmer_scripts_are_in_the_round_trip(reference: dict[str, Any]) -> None:
    glmer = {
        (script, name)
        for script in SCRIPTS
        for name, fit in reference[script].items()
        if fit["fun"] == "glmer"
    }
    assert len(glmer) == 8
    links = {reference[s][n]["link"] for s, n in glmer}
    agq = {reference[s][n]["nAGQ"] for s, n in glmer}
    assert links == {"logit", "probit"} and agq == {0, 1, 10}
