"""Translation of nlme's ``lme(weights = varIdent/varPower/varExp(form = ...))``."""

from __future__ import annotations

import numpy as np
import pytest

import interlace
from interlace.datasets import load
from interlace.translate.errors import TranslationError

CALL = "lme(distance ~ age * Sex, data = Orthodont, random = ~ 1 | Subject, weights = {})"


@pytest.mark.parametrize(
    ("r", "py"),
    [
        ("varIdent(form = ~ 1 | Sex)", 'weights=interlace.varIdent(form="~1 | Sex")'),
        ("varPower(form = ~ age)", 'weights=interlace.varPower(form="~age")'),
        ("varExp(form = ~age)", 'weights=interlace.varExp(form="~age")'),
        ("NULL", "weights=None"),
    ],
)
def test_variance_functions_are_translated(r: str, py: str) -> None:
    assert py in interlace.translate(CALL.format(r))


@pytest.mark.parametrize(
    ("r", "message"),
    [
        ("varPower(0.2, ~ age)", "value"),
        ("varIdent(form = ~ 1 | Sex, fixed = c(Female = 0.5))", "fixed"),
        ("varPower()", "without form"),
        ("varConstPower(form = ~ age)", "variance functions"),
    ],
)
def test_untranslated_variance_functions(r: str, message: str) -> None:
    with pytest.raises(TranslationError, match=message):
        interlace.translate(CALL.format(r))


def test_translated_call_fits_the_same_model() -> None:
    code = interlace.translate(CALL.format("varIdent(form = ~ 1 | Sex)"))
    call = code[code.index("interlace.lme(") : code.rindex(")")]
    fit = eval(call, {"interlace": interlace, "Orthodont": load("Orthodont")})
    direct = interlace.lme(
        "distance ~ age * Sex",
        load("Orthodont"),
        random="~ 1 | Subject",
        weights=interlace.varIdent("~ 1 | Sex"),
    )
    np.testing.assert_allclose(fit.llf, direct.llf, rtol=1e-12)
    assert list(fit.varfunc_params.index) == ["Male", "Female"]
