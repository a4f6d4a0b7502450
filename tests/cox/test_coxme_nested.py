"""Nested random terms ``(1 | a/b)`` as coxme 2.2-22 reads them.

coxme (``coxmeFull``, ``expand.nested``) makes ``(1 | a/b)`` one term with two variances,
innermost first: the intercepts of the levels of ``a/b`` (named ``"a/b"``, labelled
``"<a>/<b>"`` in the order of survival's ``strata(a, b)``) and of ``a``.  Its penalty, starting
grid and recentring are those of the two terms ``(1 | a:b) + (1 | a)``, so the fit is the same
model under other names.  coxme itself is not installed here: the names and labels are checked
against R's ``expand.nested`` (fixtures/R/coxme_predict.R), the numbers against the equivalent
crossed fit.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from cox_data import dataset, nested_reference

from interlace.api.coxme import coxme
from interlace.errors import NewLevelError
from interlace.results.coxme_result import CoxmeResult

NESTED = "Surv(time, status) ~ age + sex + (1 | disease/id)"


@cache
def _nested() -> CoxmeResult:
    return coxme(NESTED, dataset("kidney"))


def test_names_and_levels_are_coxmes() -> None:
    ref = nested_reference()
    fit = _nested()
    assert list(fit.random_effects) == ref["groups"]
    assert list(fit.variance_components) == ref["groups"]
    assert list(fit.varcorr()["grp"]) == ref["groups"]
    for term, levels, rows in zip(fit.design.layout.terms, ref["levels"], ref["rows"], strict=True):
        assert list(term.levels) == levels
        assert [term.levels[i] for i in term.refs] == rows
    inner = fit.ranef()["disease/id"]
    assert list(inner.index) == ref["levels"][0]
    assert list(inner.columns) == ["Intercept"]


def test_same_model_as_the_two_terms() -> None:
    fit = _nested()
    crossed = coxme(
        "Surv(time, status) ~ age + sex + (1 | id:disease) + (1 | disease)", dataset("kidney")
    )
    np.testing.assert_allclose(fit.fe_params, crossed.fe_params, rtol=1e-6)
    np.testing.assert_allclose(
        fit.varcorr()["vcov"].to_numpy(), crossed.varcorr()["vcov"].to_numpy(), rtol=1e-5
    )
    assert fit.llf == pytest.approx(crossed.llf, abs=1e-8)
    np.testing.assert_allclose(fit.fittedvalues, crossed.fittedvalues, atol=1e-6)


def test_prediction_on_new_data() -> None:
    fit = _nested()
    kidney = dataset("kidney")
    np.testing.assert_allclose(fit.predict(kidney), fit.predict(), rtol=1e-13)
    new = kidney.iloc[:2].assign(id=[1, 999])
    with pytest.raises(NewLevelError, match="disease/id"):
        fit.predict(new)
    got = fit.predict(new, allow_new_levels=True)
    # the unseen patient keeps the effect of its disease: b_disease + fixed part
    outer = fit.ranef()["disease"]["Intercept"]
    fixed = fit.predict(new, re_form="NA")
    disease = str(new["disease"].iloc[1])
    assert got.iloc[1] == pytest.approx(fixed.iloc[1] + outer[disease], rel=1e-12)
    assert got.iloc[0] == pytest.approx(fit.predict().iloc[0], rel=1e-12)
