"""``LmeResult.anova`` against nlme's ``anova.lme`` (R 4.2.2, nlme 3.1-162; fixtures/R/lme_anova.R).

Tolerances.  Given nlme's own β̂ and covariance, the F statistics are nlme's
to 1e-10 (``test_f_statistics_from_nlme_estimates``): the remaining
differences come from the fits.  The REML fit without a correlation
structure agrees with nlme to about 2e-7 in F, so its F and p are checked to
1e-5 relative.  The ML fit and the fits with a correlation structure stop
within about 1e-5 of nlme's fitted parameters (Ovary + AR(1): σ 1.2e-5 and φ
1.7e-5 relative, logLik 4e-8 below nlme's; the parity bar of
tests/lme/test_lme_vs_nlme.py is 1e-3), which moves F by up to 1e-4
relative and, through ``d log p / dF``, p-values near 1e-8 by up to 7e-4
relative; those cases use 2e-4 (F) and 2e-3 (p).  nlme's p-values are
``1 − pf(...)``: below about 1e-15 they are 0 or rounding noise, where
interlace gives the upper tail itself, so those are only checked to be below
1e-14.  The numerator and denominator DF are compared exactly.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from interlace.api.lme import lme
from interlace.correlation import corAR1, corCAR1
from interlace.datasets import load
from interlace.errors import IncomparableModelsError
from interlace.inference.anova import AnovaTypeError
from interlace.results.lme_anova import RemlComparisonWarning, f_statistics, term_columns
from interlace.results.lme_result import LmeResult
from tests.conftest import assert_r_fixture_current, load_json

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "lme_anova" / "anova.json"
OVARY = "follicles ~ sin(2*pi*Time) + cos(2*pi*Time)"


def _orthodont(fixed: str, random: str = "~ 1 | Subject", method: str = "REML") -> LmeResult:
    return lme(fixed, load("Orthodont"), random=random, method=method)  # type: ignore[arg-type]


def _ovary(correlation: bool, method: str) -> LmeResult:
    return lme(
        OVARY,
        load("Ovary"),
        random="~ 1 | Mare",
        correlation=corAR1() if correlation else None,
        method=method,  # type: ignore[arg-type]
    )


#: single-fit cases of the fixture -> (the fit, F tolerance, p tolerance)
SINGLE: dict[str, tuple[Callable[[], LmeResult], float, float]] = {
    "orthodont_interaction": (lambda: _orthodont("distance ~ age * Sex"), 1e-5, 1e-5),
    "orthodont_interaction_ml": (
        lambda: _orthodont("distance ~ age * Sex", method="ML"),
        2e-4,
        2e-3,
    ),
    "ovary_ar1": (lambda: _ovary(True, "REML"), 2e-4, 2e-3),
    "bodyweight_car1": (
        lambda: lme(
            "weight ~ Time * Diet",
            load("BodyWeight"),
            random="~ Time | Rat",
            correlation=corCAR1(form="~ Time | Rat"),
        ),
        2e-4,
        2e-3,
    ),
}

#: fits of the comparison cases, by their fixture call
FITS: dict[str, Callable[[], LmeResult]] = {
    'lme(distance ~ age, data = Orthodont, random = ~ 1 | Subject, method = "ML")': lambda: (
        _orthodont("distance ~ age", method="ML")
    ),
    'lme(distance ~ age * Sex, data = Orthodont, random = ~ 1 | Subject, method = "ML")': lambda: (
        _orthodont("distance ~ age * Sex", method="ML")
    ),
    'lme(distance ~ age + Sex, data = Orthodont, random = ~ 1 | Subject, method = "ML")': lambda: (
        _orthodont("distance ~ age + Sex", method="ML")
    ),
    "lme(distance ~ age, data = Orthodont, random = ~ 1 | Subject)": lambda: _orthodont(
        "distance ~ age"
    ),
    "lme(distance ~ age, data = Orthodont, random = ~ age | Subject)": lambda: _orthodont(
        "distance ~ age", random="~ age | Subject"
    ),
    "lme(distance ~ age * Sex, data = Orthodont, random = ~ 1 | Subject)": lambda: _orthodont(
        "distance ~ age * Sex"
    ),
    (
        "lme(follicles ~ sin(2*pi*Time) + cos(2*pi*Time), data = Ovary, "
        'random = ~ 1 | Mare, method = "ML")'
    ): lambda: _ovary(False, "ML"),
    (
        "lme(follicles ~ sin(2*pi*Time) + cos(2*pi*Time), data = Ovary, "
        'random = ~ 1 | Mare, correlation = corAR1(), method = "ML")'
    ): lambda: _ovary(True, "ML"),
}


@cache
def fixture() -> dict[str, Any]:
    data: dict[str, Any] = load_json(FIXTURE)
    return data


@cache
def single_fit(case: str) -> LmeResult:
    return SINGLE[case][0]()


@cache
def fit_of(call: str) -> LmeResult:
    return FITS[call]()


def _check_p(got: np.ndarray, want: list[float | None], rtol: float) -> None:
    expected = np.array([np.nan if v is None else v for v in want], dtype=float)
    tiny = expected < 1e-14
    assert np.all(got[tiny] < 1e-14)
    np.testing.assert_allclose(got[~tiny], expected[~tiny], rtol=rtol)


@pytest.mark.r
@pytest.mark.slow
def test_fixture_is_current(tmp_path: Path) -> None:
    """The committed fixture is what fixtures/R/lme_anova.R writes with today's R and nlme."""
    assert_r_fixture_current("lme_anova.R", FIXTURE, tmp_path)


def test_fixture_records_versions() -> None:
    versions = fixture()["versions"]
    assert versions["R"].startswith("R version 4.2.2")
    assert versions["packages"]["nlme"] == "3.1.162"


@pytest.mark.parametrize("type", ["sequential", "marginal"])
@pytest.mark.parametrize("case", list(SINGLE))
def test_f_tests_match_nlme(case: str, type: str) -> None:
    want = fixture()["single"][case][type]
    _, f_tol, p_tol = SINGLE[case]
    table = single_fit(case).anova(type=type)
    assert list(table.columns) == ["numDF", "denDF", "F-value", "p-value"]
    assert list(table.index) == want["name"]
    np.testing.assert_array_equal(table["numDF"], want["numDF"])
    np.testing.assert_array_equal(table["denDF"], want["denDF"])
    np.testing.assert_allclose(table["F-value"], want["F-value"], rtol=f_tol)
    _check_p(table["p-value"].to_numpy(), want["p-value"], p_tol)


def test_last_term_is_the_same_in_both_types() -> None:
    fit = single_fit("bodyweight_car1")
    seq, marg = fit.anova(), fit.anova(type="marginal")
    assert seq["F-value"].iloc[-1] == pytest.approx(marg["F-value"].iloc[-1], rel=1e-10)
    assert seq.loc["Diet", "F-value"] != pytest.approx(marg.loc["Diet", "F-value"], rel=1e-3)


def test_ml_fit_without_sigma_adjustment() -> None:
    """``adjust_sigma=False`` uses ``vcov`` as it is: the F values grow by ``n/(n − p)``."""
    fit = single_fit("orthodont_interaction_ml")
    adjusted = fit.anova()["F-value"]
    raw = fit.anova(adjust_sigma=False)["F-value"]
    np.testing.assert_allclose(raw / adjusted, 108 / (108 - 4), rtol=1e-12)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(AnovaTypeError, match="sequential"):
        single_fit("orthodont_interaction").anova(type="III")


def _table_frame(record: dict[str, Any]) -> pd.DataFrame:
    cols = {k: v for k, v in record.items() if k != "name"}
    frame = pd.DataFrame(cols, index=record["name"])
    return frame.replace({None: np.nan}).infer_objects()


@pytest.mark.parametrize("case", ["ml_nested", "ml_three", "reml_random", "reml_fixed", "ar1_ml"])
def test_comparison_matches_nlme(case: str) -> None:
    rec = fixture()["compare"][case]
    fits = [fit_of(rec["calls"][name]) for name in rec["names"]]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = fits[0].anova(*fits[1:], names=rec["names"])
    messages = [str(w.message) for w in caught if issubclass(w.category, RemlComparisonWarning)]
    assert messages == rec["warnings"]
    want = _table_frame(rec["table"])
    assert list(table.columns) == list(want.columns)
    assert list(table.index) == list(want.index)
    np.testing.assert_array_equal(table["Model"], want["Model"])
    np.testing.assert_array_equal(table["df"], want["df"])
    assert list(table["Test"]) == list(want["Test"])
    for col in ("AIC", "BIC", "logLik"):
        np.testing.assert_allclose(table[col], want[col], rtol=1e-6)
    np.testing.assert_allclose(table["L.Ratio"], want["L.Ratio"], rtol=1e-6)
    np.testing.assert_allclose(table["p-value"], want["p-value"], rtol=1e-6)


def test_reml_with_different_fixed_effects_warns() -> None:
    fm1 = fit_of("lme(distance ~ age, data = Orthodont, random = ~ 1 | Subject)")
    fm2 = fit_of("lme(distance ~ age * Sex, data = Orthodont, random = ~ 1 | Subject)")
    with pytest.warns(RemlComparisonWarning, match="REML comparisons are not meaningful"):
        fm1.anova(fm2)


def test_mixed_methods_are_refused() -> None:
    rec = fixture()["errors"]["mixed_methods"]
    fm1, fm2 = (fit_of(rec["calls"][name]) for name in ("fm1", "fm2"))
    with pytest.raises(IncomparableModelsError, match=rec["error"]):
        fm1.anova(fm2)


def test_default_names_and_no_test() -> None:
    fm1 = fit_of('lme(distance ~ age, data = Orthodont, random = ~ 1 | Subject, method = "ML")')
    fm2 = fit_of(
        'lme(distance ~ age * Sex, data = Orthodont, random = ~ 1 | Subject, method = "ML")'
    )
    table = fm1.anova(fm2)
    assert list(table.index) == ["model1", "model2"]
    assert list(fm1.anova(fm2, test=False).columns) == ["Model", "df", "AIC", "BIC", "logLik"]
    with pytest.raises(ValueError, match="distinct"):
        fm1.anova(fm2, names=["a", "a"])


def test_other_data_and_other_classes_are_refused() -> None:
    fm1 = fit_of('lme(distance ~ age, data = Orthodont, random = ~ 1 | Subject, method = "ML")')
    other = lme("distance ~ age", load("Orthodont").iloc[:100], random="~ 1 | Subject", method="ML")
    with pytest.raises(IncomparableModelsError, match="same size"):
        fm1.anova(other)
    with pytest.raises(IncomparableModelsError, match="lme fits"):
        fm1.anova(fm1.fit)  # type: ignore[arg-type]


def test_terms_df_of_a_term_split_across_strata() -> None:
    """A term with a between-group column and a within-group column is tested at the inner one.

    12 rows in 4 groups of 3: base DF (4, 8).  Columns: intercept, ``a`` constant
    within groups, ``b`` varying within them, ``a`` and ``b`` one term.  Per column
    (``fixDF$X``): ``a`` costs the group stratum 1 and the intercept 1, ``b`` the
    residual 1: (max, 2, 7) = (7, 2, 7).  Per term (``fixDF$terms``): the term sits in
    the residual stratum and costs it 2, the intercept costs the group stratum 1:
    (3, 6), so (Intercept) gets max = 6 and the term 6.
    """
    from interlace.results.lme_df import fixed_effects_df, terms_df

    g = np.repeat(np.arange(4), 3)
    X = np.column_stack([np.ones(12), (g + 1.0) ** 2, np.tile([0.0, 1.0, 3.0], 4)])
    np.testing.assert_array_equal(fixed_effects_df(X, [g]), [7, 2, 7])
    np.testing.assert_array_equal(terms_df(X, [g], [[0], [1, 2]]), [6, 6])


def test_df_of_an_intercept_only_model_is_the_largest_base_df() -> None:
    """With only constant columns nlme does not reduce the base DF: 5 groups in 6 rows give
    base DF (5, 1), and the intercept gets 5 (not 5 − 1)."""
    from interlace.results.lme_df import fixed_effects_df, terms_df

    g = np.array([0, 0, 1, 2, 3, 4])
    X = np.ones((6, 1))
    np.testing.assert_array_equal(fixed_effects_df(X, [g]), [5])
    np.testing.assert_array_equal(terms_df(X, [g], [[0]]), [5])


@pytest.mark.parametrize("type", ["sequential", "marginal"])
@pytest.mark.parametrize("case", list(SINGLE))
def test_f_statistics_from_nlme_estimates(case: str, type: str) -> None:
    """Given nlme's own β̂ and vcov, the F statistics are nlme's to rounding (1e-10)."""
    rec = fixture()["single"][case]
    fit = single_fit(case)
    cov = np.array(rec["vcov"], dtype=float)
    if rec["method"] == "ML":
        p = cov.shape[0]
        cov = cov * rec["nobs"] / (rec["nobs"] - p)
    columns = list(term_columns(fit).values())
    F = f_statistics(np.array(rec["fixef"]), cov, columns, type)
    np.testing.assert_allclose(F, rec[type]["F-value"], rtol=1e-10)
