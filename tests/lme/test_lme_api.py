"""lme's façade, objective and errors (expected values from lmer or from the mathematics)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from interlace.api.lme import lme, parse_random
from interlace.api.lmer import lmer
from interlace.correlation import CorStruct, corAR1, corCAR1, corCompSymm, parse_form
from interlace.datasets import load
from interlace.design.lformula import lformula
from interlace.engine.residual_correlation import CorrelatedObjective, GroupLayout, whiten
from interlace.errors import DataError, FormulaError, InterlaceError
from interlace.pdmat import PdMat, pdDiag
from interlace.results.lme_df import fixed_effects_df


@pytest.mark.parametrize(
    ("fixed", "random", "bars", "data", "method"),
    [
        ("distance ~ age", "~ age | Subject", "(age | Subject)", "Orthodont", "REML"),
        ("distance ~ age", "~ age | Subject", "(age | Subject)", "Orthodont", "ML"),
        ("strength ~ 1", "~ 1 | batch/cask", "(1 | batch) + (1 | batch:cask)", "Pastes", "REML"),
        (
            "score ~ Machine",
            {"Worker": "~ 1", "Machine": "~ 1"},
            "(1 | Worker) + (1 | Worker:Machine)",
            "Machines",
            "ML",
        ),
    ],
)
def test_without_correlation_lme_is_lmer(
    fixed: str, random: object, bars: str, data: str, method: str
) -> None:
    frame = load(data)
    fit = lme(fixed, frame, random=random, method=method)  # type: ignore[arg-type]
    ref = lmer(f"{fixed} + {bars}", frame, REML=method == "REML")
    assert fit.llf == ref.llf
    np.testing.assert_array_equal(fit.fe_params, ref.fe_params)
    np.testing.assert_array_equal(fit.bse, ref.bse)
    np.testing.assert_array_equal(fit.theta, ref.theta)
    assert fit.sigma == ref.sigma
    np.testing.assert_array_equal(fit.fittedvalues, ref.fittedvalues)


def _dense_criterion(
    X: np.ndarray, y: np.ndarray, Z: np.ndarray, G: np.ndarray, R: np.ndarray, REML: bool
) -> float:
    """−2 log-likelihood profiled over β and σ, by dense algebra: V = Z G Z' + R."""
    n, p = X.shape
    V = Z @ G @ Z.T + R
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    r = y - X @ beta
    rss = float(r @ Vi @ r)
    nu = n - p if REML else n
    crit = nu * (1 + math.log(2 * math.pi * rss / nu)) + np.linalg.slogdet(V)[1]
    return crit + np.linalg.slogdet(X.T @ Vi @ X)[1] if REML else crit


@pytest.mark.parametrize("REML", [True, False])
@pytest.mark.parametrize("cor", [corAR1(), corCAR1(form="~ age | Subject"), corCompSymm()])
def test_whitened_criterion_is_the_correlated_likelihood(REML: bool, cor: CorStruct) -> None:
    data = load("Orthodont")
    design = lformula("distance ~ age + (age | Subject)", data, REML=REML)
    codes = np.asarray(design.terms[0].refs, dtype=np.intp)
    times = (
        data["age"].to_numpy(float)
        if cor.form.covariate
        else pd.Series(codes).groupby(codes).cumcount().to_numpy(float) + 1
    )
    layout = GroupLayout.from_codes(codes, np.asarray(times, dtype=float))
    objective = CorrelatedObjective(
        design.terms,
        design.X,
        design.X_names,
        design.y,
        design.theta,
        design.lower,
        cor,
        layout,
        REML,
    )
    theta = np.array([1.3, -0.2, 0.15])
    x = 0.4
    phi = objective.phi(x)
    # the same model by dense algebra
    lam = np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    Z = design.Zt.T.toarray()
    G = np.kron(np.eye(len(design.terms[0].levels)), lam @ lam.T)
    R = np.zeros((design.n, design.n))
    for rows, t in layout.batches:
        block = cor.correlation(phi, t)
        for g in range(rows.shape[0]):
            R[np.ix_(rows[g], rows[g])] = block[g]
    want = _dense_criterion(design.X, design.y, Z, G, R, REML)
    assert objective(np.r_[theta, x]) == pytest.approx(want, rel=1e-10)


def test_whitening_at_no_correlation_is_the_identity() -> None:
    codes = np.array([0, 1, 0, 1, 1])
    layout = GroupLayout.from_codes(codes, np.array([1.0, 1, 2, 2, 3]))
    cols = np.arange(10.0).reshape(5, 2)
    white, logdet = whiten(corAR1(), 0.0, layout, cols)
    np.testing.assert_array_equal(white, cols)
    assert logdet == 0.0


def test_correlation_matrices() -> None:
    t = np.array([[1.0, 2.0, 4.0]])
    np.testing.assert_allclose(
        corCAR1().correlation(0.5, t)[0],
        [[1, 0.5, 0.125], [0.5, 1, 0.25], [0.125, 0.25, 1]],
    )
    np.testing.assert_allclose(
        corCompSymm().correlation(0.3, t)[0], [[1, 0.3, 0.3], [0.3, 1, 0.3], [0.3, 0.3, 1]]
    )
    cs = corCompSymm()
    for x in (-3.0, 0.0, 2.5):
        rho = cs.to_natural(x, 4)
        assert -1 / 3 < rho < 1
        assert cs.from_natural(rho, 4) == pytest.approx(x)
    assert corAR1().from_natural(corAR1().to_natural(0.7, 1), 1) == pytest.approx(0.7)


def test_parse_form_and_random() -> None:
    form = parse_form("~ I(age/2) | Subject")
    assert (form.covariate, form.groups) == ("I(age/2)", ("Subject",))
    assert parse_form("~ 1 | a/b").groups == ("a", "b")
    assert parse_form("~ t").groups == ()
    levels = parse_random("~ x | a/b")
    assert [lv.groups for lv in levels] == [("a",), ("a", "b")]
    assert parse_random({"g": pdDiag("~ x")})[0].kind == "pdDiag"


def test_correlation_params_and_repr() -> None:
    fit = lme("distance ~ age", load("Orthodont"), random="~ 1 | Subject", correlation=corAR1())
    assert list(fit.correlation_params.index) == ["Phi"]
    assert fit.correlation_params.iloc[0] == fit.phi
    assert fit.df_model == 5
    # the row order within a subject is the AR(1) order: an integer covariate of the
    # positions gives the same model
    data = load("Orthodont").assign(pos=lambda d: d["age"] / 2)
    again = lme(
        "distance ~ age", data, random="~ 1 | Subject", correlation=corAR1(form="~ pos | Subject")
    )
    assert again.llf == pytest.approx(fit.llf, abs=1e-7)
    assert again.phi == pytest.approx(fit.phi, abs=1e-5)
    assert "corAR1" in repr(corAR1())
    coef = fit.coef()["Subject"]
    assert coef["(Intercept)"].iloc[0] == pytest.approx(
        fit.fe_params["(Intercept)"] + fit.ranef()["Subject"]["(Intercept)"].iloc[0]
    )


def test_nested_coef_adds_outer_effects() -> None:
    fit = lme("strength ~ 1", load("Pastes"), random="~ 1 | batch/cask")
    ranef = fit.ranef()
    assert list(ranef) == ["batch", "cask"]
    label = ranef["cask"].index[0]
    outer = label.split("/")[0]
    want = (
        fit.fe_params["(Intercept)"]
        + ranef["batch"].loc[outer, "(Intercept)"]
        + ranef["cask"].loc[label, "(Intercept)"]
    )
    assert fit.coef()["cask"].loc[label, "(Intercept)"] == pytest.approx(want)


def test_fixed_effects_df_containment() -> None:
    # 4 groups of 3: x varies within groups, w only between, intercept constant
    g = np.repeat(np.arange(4), 3)
    x = np.tile([1.0, 2.0, 3.0], 4)
    w = np.array([0.0, 1.0, 0.0, 1.0])[g]
    X = np.column_stack([np.ones(12), x, w])
    # strata: groups 4, residual 12 − 4 = 8; x at residual (8 − 1), w at groups (4 − 1 − 1)
    np.testing.assert_array_equal(fixed_effects_df(X, [g]), [7, 7, 2])
    # no intercept: strata but the first gain one
    np.testing.assert_array_equal(fixed_effects_df(X[:, 1:], [g]), [8, 3])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"weights": "varIdent"}, FormulaError, "weights="),
        ({"correlation": "corARMA"}, FormulaError, "correlation="),
        ({"method": "GLS"}, FormulaError, "method"),
        ({"random": {"Subject": PdMat("~ age", "pdIdent")}}, FormulaError, "pdIdent"),
        ({"random": pdDiag("~ age")}, FormulaError, "grouping factor"),
        ({"random": "Subject"}, FormulaError, "random must"),
        ({"correlation": corAR1(form="~ age | Sex")}, FormulaError, "incompatible"),
        ({"correlation": corCAR1(form="~ Sex | Subject")}, DataError, "numeric"),
    ],
)
def test_unsupported_and_invalid_arguments(
    kwargs: dict[str, object], error: type[InterlaceError], match: str
) -> None:
    args: dict[str, object] = {"random": "~ 1 | Subject", **kwargs}
    with pytest.raises(error, match=match):
        lme("distance ~ age", load("Orthodont"), **args)  # type: ignore[arg-type]


def test_ar1_covariate_must_be_integer_and_unique() -> None:
    data = load("Orthodont").assign(half=lambda d: d["age"] / 4, same=1.0)
    with pytest.raises(DataError, match="integer"):
        lme(
            "distance ~ age",
            data,
            random="~ 1 | Subject",
            correlation=corAR1(form="~ half | Subject"),
        )
    with pytest.raises(DataError, match="unique"):
        lme(
            "distance ~ age",
            data,
            random="~ 1 | Subject",
            correlation=corCAR1(form="~ same | Subject"),
        )


def test_data_is_not_modified() -> None:
    data = load("Orthodont")
    before = data.copy()
    lme("distance ~ age", data, random="~ 1 | Subject", correlation=corCAR1(form="~ age | Subject"))
    pd.testing.assert_frame_equal(data, before)


def test_missing_values_fail_by_default_and_can_be_omitted() -> None:
    data = load("Orthodont")
    data.loc[3, "distance"] = np.nan
    with pytest.raises(DataError, match="missing values"):
        lme("distance ~ age", data, random="~ 1 | Subject")
    with pytest.warns(UserWarning, match="1 of 108 rows dropped"):
        fit = lme(
            "distance ~ age", data, random="~ 1 | Subject", correlation=corAR1(), na_action="omit"
        )
    assert fit.nobs == 107
    assert len(fit.fittedvalues) == 107


def test_predict_without_newdata_is_fitted() -> None:
    data = load("Orthodont")
    fit = lme("distance ~ age", data, random="~ age | Subject", correlation=corAR1())
    np.testing.assert_allclose(fit.predict(), fit.fittedvalues)
    population = fit.predict(data.head(2), re_form="NA").to_numpy()
    want = fit.fe_params["(Intercept)"] + fit.fe_params["age"] * data["age"].head(2).to_numpy()
    np.testing.assert_allclose(population, want)
