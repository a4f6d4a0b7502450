"""F tests of the fixed-effect terms (lmerTest's ``anova``) and of user contrasts (``contest``).

The table has one row per term of the fixed part: the F test of the term's
hypothesis matrix (:mod:`interlace.inference.contrasts`) with Satterthwaite
or Kenward–Roger denominator df.  Terms without a testable direction are
listed last with missing values, as lmerTest lists them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from interlace.errors import InterlaceError
from interlace.inference.contrasts import type1, type2, type3
from interlace.inference.ddf import FloatArray, FTest, as_contrast_matrix, as_rhs
from interlace.inference.fixed_terms import fixed_terms, model_frame_of
from interlace.inference.methods import ddf_method, normalise_ddf

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

#: lmerTest's column names.
COLUMNS = ("Sum Sq", "Mean Sq", "NumDF", "DenDF", "F value", "Pr(>F)")

_TYPES = {"1": 1, "I": 1, "2": 2, "II": 2, "3": 3, "III": 3}
_ROMAN = {1: "I", 2: "II", 3: "III"}


class AnovaTypeError(InterlaceError, ValueError):
    """An unknown anova ``type``."""

    code = "anova-type"


def _anova_type(type: int | str) -> int:
    found = _TYPES.get(str(type).upper())
    if found is None:
        raise AnovaTypeError(f"unknown anova type {type!r}", remedy="use 1, 2 or 3")
    return found


def _row(test: FTest) -> list[float]:
    return [test.sum_sq, test.mean_sq, test.num_df, test.den_df, test.F, test.p]


def hypotheses(
    result: LmerResult, type: int | str = 3, data: pd.DataFrame | None = None
) -> dict[str, FloatArray]:
    """The contrast matrix of each term for an anova of ``type`` (lmerTest's ``hypotheses``).

    Type 1 needs only the fit; types 2 and 3 need the model frame (kept by the
    design, or rebuilt from ``data``).
    """
    kind = _anova_type(type)
    X = np.asarray(result.design.X, dtype=float)
    if kind == 1:
        return type1(X, fixed_terms(result, None))
    frame = model_frame_of(result, data)
    terms = fixed_terms(result, frame)
    if kind == 2:
        return type2(X, terms)
    return type3(X, terms, frame)


def lme4_anova(result: LmerResult) -> pd.DataFrame:
    """lme4's ``anova(fit)``: sequential sums of squares without denominator df.

    With ``R_X`` the Cholesky factor of ``X'V⁻¹X`` (``R_X'R_X``, the inverse of
    the unscaled covariance), the effects ``R_X β̂`` are summed in squares by
    term: ``Sum Sq``, ``Mean Sq = Sum Sq / npar`` and ``F value = Mean Sq / σ̂²``.
    """
    unscaled = np.asarray(result.unscaled_vcov, dtype=float)
    r_x = np.linalg.cholesky(np.linalg.inv(unscaled)).T
    effects = (r_x @ np.asarray(result.beta, dtype=float)) ** 2
    terms = fixed_terms(result, None)
    assign = np.asarray(terms.assign)
    rows = {}
    for j, label in enumerate(terms.labels, start=1):
        cols = assign == j
        if cols.any():
            ss = float(effects[cols].sum())
            npar = int(cols.sum())
            rows[label] = [npar, ss, ss / npar, ss / npar / result.sigma**2]
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["npar", "Sum Sq", "Mean Sq", "F value"]
    )
    table.attrs["heading"] = "Analysis of Variance Table"
    return table


def anova_table(
    result: LmerResult,
    type: int | str = 3,
    ddf: str = "satterthwaite",
    data: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Type 1, 2 or 3 F tests of the fixed-effect terms, as ``lmerTest::anova``.

    Parameters
    ----------
    result : LmerResult
    type : {1, 2, 3} or {"I", "II", "III"}
    ddf : {"satterthwaite", "kenward-roger", "none"}
        ``"none"`` (or ``"lme4"``) gives lme4's own table, :func:`lme4_anova`,
        which is sequential whatever ``type`` says (as lmerTest's
        ``anova(fit, ddf = "lme4")``).
    data : DataFrame, optional
        The data the model was fitted to, when the fit does not keep its
        model frame (types 2 and 3 read the variables' types and cells).

    Returns
    -------
    DataFrame
        Indexed by term label; columns ``Sum Sq, Mean Sq, NumDF, DenDF,
        F value, Pr(>F)``.  ``attrs["heading"]`` holds lmerTest's title and
        ``attrs["hypotheses"]`` the contrast matrices.
    """
    kind = _anova_type(type)
    if normalise_ddf(ddf) == "none":
        return lme4_anova(result)
    method = ddf_method(result, ddf)
    hyps = hypotheses(result, kind, data)
    rows: dict[str, list[float]] = {}
    for label, L in hyps.items():
        if L.shape[0]:
            rows[label] = _row(method.f_test(L))
    for label, L in hyps.items():
        if not L.shape[0]:
            rows[label] = _row(FTest.empty())
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    table.attrs["heading"] = (
        f"Type {_ROMAN[kind]} Analysis of Variance Table with {method.label} method"
    )
    table.attrs["hypotheses"] = {k: v.copy() for k, v in hyps.items()}
    return table


def contest(
    result: LmerResult,
    L: ArrayLike,
    rhs: ArrayLike | None = None,
    ddf: str = "satterthwaite",
    joint: bool = True,
) -> pd.DataFrame:
    """Test a user's contrast matrix ``L β = rhs`` (lmerTest's ``contest``).

    Parameters
    ----------
    result : LmerResult
    L : array_like, shape (m, p) or (p,)
        Contrast rows over the fixed effects in ``fe_params`` order.
    rhs : array_like, optional
        Right-hand side (default 0).
    ddf : {"satterthwaite", "kenward-roger"}
    joint : bool
        One F test of all rows (``True``, columns as :func:`anova_table`) or a
        t test per row (``False``, columns ``Estimate, Std. Error, df,
        t value, Pr(>|t|)``).

    Returns
    -------
    DataFrame
    """
    method = ddf_method(result, ddf)
    mat = as_contrast_matrix(L, result.beta.size)
    c = as_rhs(rhs, mat.shape[0])
    if joint:
        return pd.DataFrame([_row(method.f_test(mat, c))], columns=list(COLUMNS))
    tests = [method.t_test(row, float(ci)) for row, ci in zip(mat, c, strict=True)]
    return pd.DataFrame(
        [[t.estimate, t.se, t.df, t.t, t.p] for t in tests],
        columns=["Estimate", "Std. Error", "df", "t value", "Pr(>|t|)"],
    )
