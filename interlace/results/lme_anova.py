"""nlme's ``anova`` of ``lme`` fits: F tests of the fixed-effect terms, likelihood-ratio tables.

**One fit.**  Let ``V`` be the covariance of the fixed effects β̂ (``vcov``),
inflated by ``n / (n − p)`` for ML fits (nlme's ``adjustSigma``), and ``U``
the upper-triangular Cholesky factor of ``V⁻¹`` (``U'U = V⁻¹``).  Under
β = 0 the vector ``c = U β̂`` is standard normal, and its ``i``-th entry
involves only the coefficients from the ``i``-th on.  For a term with the
columns ``a`` (``k = |a|`` of them):

    sequential (type I):  F = ‖c_a‖² / k,
    marginal:             F = β̂_a' (V_aa)⁻¹ β̂_a / k,

the first testing the term after the terms before it, the second the term
after all the others (nlme projects ``c`` on the columns ``a`` of ``U⁻ᵀ``,
which is the same quadratic form).  The denominator DF are nlme's
containment DF of the terms (:func:`interlace.results.lme_df.terms_df`) and
``p = P(F_{k, denDF} > F)``.  nlme computes ``1 − pf(F, k, denDF)``, which is
0 (or a multiple of the machine epsilon) below about 1e-15; interlace gives
the upper tail itself.

**Several fits** ``1..m`` (in the order given), with log-likelihoods ``ℓ_i``
and ``k_i`` parameters: ``AIC``, ``BIC`` and ``logLik`` of each fit (the
REML criterion for REML fits, BIC with ``n − p`` observations), and when
some ``k_i`` differ, for each ``i > 1`` with ``k_i ≠ k_{i−1}``:

    L.Ratio_i = 2 |ℓ_i − ℓ_{i−1}|,   p_i = P(χ²_{|k_i − k_{i−1}|} > L.Ratio_i),

labelled ``"i−1 vs i"``.  All fits must use the same estimation method and
data; REML fits with different fixed effects are compared with a warning,
as nlme does (their REML criteria are not comparable).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special

from interlace.errors import IncomparableModelsError, InterlaceWarning
from interlace.results.wald import chisq_p_value

if TYPE_CHECKING:
    from interlace.results.lme_result import LmeResult

FloatArray = NDArray[np.float64]

#: nlme's columns of the F-test table.
F_COLUMNS = ("numDF", "denDF", "F-value", "p-value")
#: nlme's columns of the comparison table (the last three only when it tests).
LRT_COLUMNS = ("Model", "df", "AIC", "BIC", "logLik", "Test", "L.Ratio", "p-value")
#: ``type`` values of the F-test table.
TYPES = ("sequential", "marginal")
INTERCEPT = "(Intercept)"


class RemlComparisonWarning(InterlaceWarning):
    """REML fits with different fixed effects were compared (their criteria are not comparable)."""


def term_columns(result: LmeResult) -> dict[str, list[int]]:
    """nlme's ``attr(fixDF, "assign")``: the columns of ``X`` of each term, in term order.

    ``"(Intercept)"`` comes first when the model has one; terms without
    columns are left out.
    """
    from interlace.inference.fixed_terms import fixed_terms

    terms = fixed_terms(result.fit, None)
    assign = np.asarray(terms.assign)
    labels = ((INTERCEPT,) if terms.fixed.intercept else ()) + terms.labels
    first = 0 if terms.fixed.intercept else 1
    out = {
        label: np.flatnonzero(assign == j).tolist() for j, label in enumerate(labels, start=first)
    }
    return {label: cols for label, cols in out.items() if cols}


def _level_codes(result: LmeResult) -> list[NDArray[np.intp]]:
    """The 0-based group of every row at each grouping level, outer to inner."""
    design = result.fit.design
    return [np.asarray(design.terms[level.terms[0]].refs, dtype=np.intp) for level in result.levels]


def f_statistics(
    beta: FloatArray, cov: FloatArray, columns: Sequence[Sequence[int]], type: str = "sequential"
) -> FloatArray:
    """The F statistic of each term (see the module doc).

    Parameters
    ----------
    beta : ndarray, shape (p,)
        The fixed effects.
    cov : ndarray, shape (p, p)
        Their covariance (already adjusted for ML fits).
    columns : sequence of sequences of int
        The coefficients of each term, in term order.
    type : {"sequential", "marginal"}

    Raises
    ------
    AnovaTypeError
        An unknown ``type``.
    """
    from interlace.inference.anova import AnovaTypeError

    if type not in TYPES:
        raise AnovaTypeError(
            f"unknown anova type {type!r} for an lme fit", remedy="use 'sequential' or 'marginal'"
        )
    beta = np.asarray(beta, dtype=float)
    cov = np.asarray(cov, dtype=float)
    F = np.empty(len(columns))
    if type == "sequential":
        effects = np.linalg.cholesky(np.linalg.inv(cov)).T @ beta
        for i, cols in enumerate(columns):
            c = effects[list(cols)]
            F[i] = float(c @ c) / len(cols)
    else:
        for i, cols in enumerate(columns):
            b, v = beta[list(cols)], cov[np.ix_(list(cols), list(cols))]
            F[i] = float(b @ np.linalg.solve(v, b)) / len(cols)
    return F


def f_tests(result: LmeResult, type: str = "sequential", adjust_sigma: bool = True) -> pd.DataFrame:
    """nlme's ``anova(fit, type = type)``: an F test per fixed-effect term.

    Parameters
    ----------
    result : LmeResult
    type : {"sequential", "marginal"}
    adjust_sigma : bool
        Inflate the covariance of ML fits by ``n / (n − p)`` (nlme's ``adjustSigma``).

    Returns
    -------
    DataFrame
        Indexed by term label (``"(Intercept)"`` first); columns ``numDF, denDF,
        F-value, p-value`` (``p-value`` missing where ``denDF`` is 0).

    Raises
    ------
    AnovaTypeError
        An unknown ``type``.
    """
    from interlace.results.lme_df import terms_df

    cov = result.cov_params().to_numpy(dtype=float)
    if adjust_sigma:
        cov = cov * result.ml_variance_factor
    columns = term_columns(result)
    F = f_statistics(result.fe_params.to_numpy(dtype=float), cov, list(columns.values()), type)
    X = np.asarray(result.fit.design.X, dtype=float)
    den_df = terms_df(X, _level_codes(result), list(columns.values()))
    num_df = np.array([len(cols) for cols in columns.values()], dtype=np.int64)
    with np.errstate(invalid="ignore"):
        p = np.where(den_df > 0, special.fdtrc(num_df, np.maximum(den_df, 1), F), np.nan)
    return pd.DataFrame(
        {"numDF": num_df, "denDF": den_df, "F-value": F, "p-value": p},
        index=pd.Index(list(columns)),
    )


def _fixed_signature(result: LmeResult) -> tuple[tuple[str, ...], bool]:
    """The sorted term labels and the intercept flag, as nlme compares fixed parts."""
    from interlace.inference.fixed_terms import fixed_terms

    terms = fixed_terms(result.fit, None)
    return tuple(sorted(terms.labels)), terms.fixed.intercept


def compare(
    results: Sequence[LmeResult], names: Sequence[str] | None = None, test: bool = True
) -> pd.DataFrame:
    """nlme's ``anova(fit1, fit2, ...)``: information criteria and likelihood-ratio tests.

    Parameters
    ----------
    results : sequence of LmeResult
        Two or more fits to the same data, in the order to compare them.
    names : sequence of str, optional
        Row names, one per fit (nlme uses the argument expressions; default
        ``"model1"``, ``"model2"``, …).
    test : bool
        Add the ``Test, L.Ratio, p-value`` columns (when some fits differ in
        their number of parameters, as nlme does).

    Returns
    -------
    DataFrame
        Rows in the order given; columns ``Model, df, AIC, BIC, logLik`` and
        possibly ``Test, L.Ratio, p-value`` (missing, and ``Test`` empty, on
        the first row and between fits with equal ``df``).

    Raises
    ------
    IncomparableModelsError
        A fit that is not an lme fit, fits by different estimation methods, or
        fits of different rows, responses or weights.

    Warns
    -----
    RemlComparisonWarning
        REML fits with different fixed effects (nlme compares them with a warning).
    """
    from interlace.inference.lrt import check_comparable, model_names
    from interlace.results.lme_result import LmeResult

    fits = list(results)
    if len(fits) < 2:
        raise ValueError("comparing lme fits needs at least two of them")
    labels = model_names(names, len(fits))
    for fit in fits:
        if not isinstance(fit, LmeResult):
            raise IncomparableModelsError(
                f"anova() compares lme fits; got {type(fit).__name__}",
                remedy="pass LmeResult objects",
            )
    if len({fit.method for fit in fits}) > 1:
        raise IncomparableModelsError(
            "all fitted objects must have the same estimation method",
            remedy="fit all models with method='ML' to compare different fixed effects",
        )
    check_comparable([fit.fit for fit in fits], labels, same_weights=False)
    if fits[0].method == "REML" and len({_fixed_signature(fit) for fit in fits}) > 1:
        warnings.warn(
            "fitted objects with different fixed effects. REML comparisons are not meaningful.",
            RemlComparisonWarning,
            stacklevel=3,
        )
    df = np.array([fit.df_model for fit in fits], dtype=np.int64)
    ll = np.array([fit.llf for fit in fits])
    table = pd.DataFrame(
        {
            "Model": np.arange(1, len(fits) + 1),
            "df": df,
            "AIC": [fit.aic for fit in fits],
            "BIC": [fit.bic for fit in fits],
            "logLik": ll,
        },
        index=pd.Index(labels),
    )
    ddf = np.diff(df)
    if test and np.any(ddf != 0):
        tests, ratio, p = [""], [math.nan], [math.nan]
        for i, d in enumerate(ddf, start=1):
            tested = d != 0
            tests.append(f"{i} vs {i + 1}" if tested else "")
            lr = 2.0 * abs(float(ll[i] - ll[i - 1]))
            ratio.append(lr if tested else math.nan)
            p.append(chisq_p_value(lr, abs(int(d))) if tested else math.nan)
        table["Test"] = tests
        table["L.Ratio"] = ratio
        table["p-value"] = p
    return table
