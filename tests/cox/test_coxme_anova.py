"""``CoxmeResult.anova``: coxme's likelihood-ratio table (``anova.coxmelist``).

The reference numbers are the integrated log-likelihoods of the frozen coxme 2.2-22 fits
(``fixtures/coxme``); the table's columns follow from them by coxme's arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from cox_data import coxme_reference, dataset, fitted
from scipy import stats

from interlace.api.coxme import coxme
from interlace.errors import IncomparableModelsError, InterlaceError, InterlaceWarning


def test_table_of_two_reference_fits() -> None:
    # lung_inst (Efron) and lung_breslow (Breslow): the same model, rows and events
    inst, breslow = fitted("lung_inst"), fitted("lung_breslow")
    table = inst.anova(breslow)
    ref = coxme_reference()
    want = [ref[k]["loglik"]["integrated"] for k in ("lung_inst", "lung_breslow")]
    assert list(table.columns) == ["loglik", "Chisq", "Df", "P(>|Chi|)"]
    assert list(table.index) == [1, 2]
    np.testing.assert_allclose(table["loglik"], want, atol=1e-4)
    assert math.isnan(table["Chisq"][1]) and math.isnan(table["P(>|Chi|)"][1])
    assert table["Chisq"][2] == pytest.approx(abs(2 * (want[1] - want[0])), abs=2e-4)
    # same number of parameters: Df 0, and R's 1 - pchisq(x, 0) is 0 for x > 0
    assert table["Df"][2] == 0
    assert table["P(>|Chi|)"][2] == 0.0


def test_nested_fits_chi_squared_test() -> None:
    kidney = dataset("kidney")
    full = fitted("kidney_frailty")
    small = coxme("Surv(time, status) ~ sex + (1 | id)", kidney)
    table = small.anova(full)
    chisq = 2 * (full.llf - small.llf)
    assert table["Chisq"][2] == pytest.approx(abs(chisq), rel=1e-12)
    assert table["Df"][2] == 1  # age: one more fixed effect, same variance parameters
    assert table["P(>|Chi|)"][2] == pytest.approx(stats.chi2.sf(abs(chisq), 1), rel=1e-10)
    # three fits: each row against the one before it
    three = small.anova(full, small)
    assert list(three.index) == [1, 2, 3]
    assert three["Chisq"][3] == pytest.approx(three["Chisq"][2], rel=1e-12)


def test_different_rows_are_refused() -> None:
    kidney = dataset("kidney")
    fewer = coxme("Surv(time, status) ~ age + sex + (1 | id)", kidney[kidney["age"] > 20])
    with pytest.raises(IncomparableModelsError, match="same size of dataset"):
        fitted("kidney_frailty").anova(fewer)


def test_other_response_is_dropped_with_a_warning() -> None:
    kidney = dataset("kidney").assign(event=lambda d: d["status"])
    other = coxme("Surv(time, event) ~ age + sex + (1 | id)", kidney)
    with pytest.warns(InterlaceWarning, match="removed because the response differs"):
        table = fitted("kidney_frailty").anova(other, fitted("kidney_frailty"))
    assert list(table.index) == [1, 2]


def test_one_fit_is_refused() -> None:
    with pytest.raises(InterlaceError, match="one coxme fit"):
        fitted("kidney_frailty").anova()
