"""Likelihood-ratio tests between nested fits (lme4's ``anova(m1, m2, ...)``).

For fits ordered by their number of parameters ``k_1 ≤ k_2 ≤ …`` the table
compares each model with the one before it:

    Chisq_i = 2 max(0, ℓ_i − ℓ_{i−1}),   Df_i = k_i − k_{i−1},
    Pr(>Chisq)_i = P(χ²_{Df_i} > Chisq_i)   (missing when ``Df_i = 0``).

REML criteria of models with different fixed effects are not comparable, so
REML fits are refitted by maximum likelihood first (lme4's ``refit = TRUE``)
and the table says so.  Fits of different data — a different number or set
of rows, a different response or different prior weights, which change the
likelihood's constant — are refused with :class:`IncomparableModelsError`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from interlace.errors import IncomparableModelsError, InterlaceWarning

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

COLUMNS = ("npar", "AIC", "BIC", "logLik", "deviance", "Chisq", "Df", "Pr(>Chisq)")


class RefitWarning(InterlaceWarning):
    """REML fits were refitted by maximum likelihood for a likelihood-ratio test."""


def refit_ml(result: LmerResult) -> LmerResult:
    """The same model on the same design fitted by maximum likelihood."""
    from interlace.api.lmer import fit_lmer

    return fit_lmer(
        result.design,
        REML=False,
        formula=result.formula,
        data_name=result.data_name,
        weights_name=result.weights_name,
        offset_name=result.offset_name,
        fit_messages=result.fit_messages,
    )


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return x.shape == y.shape and bool(np.array_equal(x, y))


def model_names(names: Sequence[str] | None, n: int) -> list[str]:
    """Row names of a comparison of ``n`` fits: ``names``, or ``model1``, ``model2``, … (R's)."""
    labels = list(names) if names is not None else [f"model{i + 1}" for i in range(n)]
    if len(labels) != n or len(set(labels)) != n:
        raise ValueError("names must give one distinct name per model")
    return labels


def check_comparable(
    results: Sequence[LmerResult], names: Sequence[str], same_weights: bool = True
) -> None:
    """Raise :class:`IncomparableModelsError` unless all fits share rows, response and weights.

    ``same_weights=False`` skips the weights: for ``lme`` fits, whose design weights are a
    variance function's ``1/g²`` (part of the model, as nlme compares them), not prior weights.
    """
    first, name0 = results[0], names[0]
    for res, name in zip(results[1:], names[1:], strict=True):
        d0, d1 = first.design, res.design
        if res.nobs != first.nobs:
            raise IncomparableModelsError(
                f"models were not all fitted to the same size of dataset: {name0} has "
                f"{first.nobs} observations, {name} has {res.nobs}",
                remedy="fit all models to the same rows (drop missing values beforehand)",
            )
        rows0, rows1 = getattr(d0, "row_labels", None), getattr(d1, "row_labels", None)
        if rows0 is not None and rows1 is not None and not rows0.equals(rows1):
            raise IncomparableModelsError(
                f"{name0} and {name} were fitted to different rows of the data",
                remedy="fit all models to the same rows (drop missing values beforehand)",
            )
        if not _same(d0.y, d1.y):
            raise IncomparableModelsError(
                f"{name0} and {name} have different responses",
                remedy="likelihood-ratio tests need the same response in every model",
            )
        if same_weights and not _same(d0.weights, d1.weights):
            raise IncomparableModelsError(
                f"{name0} and {name} have different prior weights, so their likelihoods "
                "have different constants",
            )


def lrt(
    *results: LmerResult, names: Sequence[str] | None = None, refit: bool = True
) -> pd.DataFrame:
    """Likelihood-ratio tests of nested linear mixed models, as ``anova(m1, m2, ...)``.

    Parameters
    ----------
    *results : LmerResult
        Two or more fits to the same data.
    names : sequence of str, optional
        Row names (default ``"model1"``, ``"model2"``, … in the order given).
    refit : bool
        Refit REML fits by maximum likelihood (lme4's default); a
        :class:`RefitWarning` says when this happened.

    Returns
    -------
    DataFrame
        Rows ordered by number of parameters; columns ``npar, AIC, BIC,
        logLik, deviance, Chisq, Df, Pr(>Chisq)``.  ``attrs["heading"]``
        lists the data and the models, ``attrs["refitted"]`` the names of
        the refitted models.

    Raises
    ------
    IncomparableModelsError
        The fits use different rows, responses or prior weights.
    """
    if len(results) < 2:
        raise ValueError("lrt needs at least two fitted models")
    labels = model_names(names, len(results))
    check_comparable(results, labels)
    fits = list(results)
    refitted = [lab for lab, res in zip(labels, fits, strict=True) if res.REML] if refit else []
    if refitted:
        warnings.warn(
            "refitting model(s) with ML (instead of REML): " + ", ".join(refitted),
            RefitWarning,
            stacklevel=2,
        )
        fits = [refit_ml(r) if r.REML else r for r in fits]
    elif any(r.REML for r in fits) and not all(r.REML for r in fits):
        warnings.warn("some models fit with REML = TRUE, some not", InterlaceWarning, stacklevel=2)
    order = sorted(range(len(fits)), key=lambda i: fits[i].df_model)
    rows = []
    prev = None
    for i in order:
        f = fits[i]
        ll, k = f.llf, f.df_model
        if prev is None:
            chisq = df = p = math.nan
        else:
            chisq = 2.0 * max(0.0, ll - prev[0])
            df = float(k - prev[1])
            p = math.nan if df == 0 else float(stats.chi2.sf(chisq, df))
        rows.append([k, f.aic, f.bic, ll, -2.0 * ll, chisq, df, p])
        prev = (ll, k)
    table = pd.DataFrame(rows, index=[labels[i] for i in order], columns=list(COLUMNS))
    data_name = results[0].data_name
    table.attrs["heading"] = [
        f"Data: {data_name if data_name is not None else 'data'}",
        "Models:",
        *[f"{labels[i]}: {results[i].formula}" for i in order],
    ]
    table.attrs["refitted"] = refitted
    return table
