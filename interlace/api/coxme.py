"""``coxme``: Cox proportional-hazards models with Gaussian random effects, as ``coxme::coxme``.

The façade composes the stages: :func:`~interlace.cox.design.coxme_design` (formula and
data to response, strata, ``X`` and the random layout), :func:`~interlace.cox.fit.coxme_fit`
(coxme 2.2-22's penalised partial likelihood, Laplace integrated likelihood and BFGS over
the variance parameters) and :class:`~interlace.results.coxme_result.CoxmeResult`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from interlace.cox.design import coxme_design
from interlace.cox.fit import coxme_fit
from interlace.cox.variance import CORINIT, VARINIT
from interlace.engine.threads import one_blas_thread
from interlace.errors import InterlaceError
from interlace.results.coxme_result import CoxmeResult

_CONTROL_KEYS = frozenset({"varinit", "corinit"})


class CoxmeControlError(InterlaceError, ValueError):
    """An unknown or invalid ``control`` setting of :func:`coxme`."""

    code = "control"


@one_blas_thread
def coxme(
    formula: str,
    data: pd.DataFrame,
    *,
    ties: Literal["efron", "breslow"] = "efron",
    weights: str | Any | None = None,
    control: Mapping[str, Any] | None = None,
    data_name: str | None = None,
) -> CoxmeResult:
    """Fit a Cox model with Gaussian random effects, as ``coxme::coxme`` does.

    Parameters
    ----------
    formula
        ``"Surv(time, status) ~ x + strata(s) + (1 | g)"``; also
        ``Surv(start, stop, status)``, ``(1 + x | g)`` and ``(x | g)`` (coxme adds no
        implicit intercept to a random slope).
    data
        The data; never modified.
    ties
        ``"efron"`` (default) or ``"breslow"``.
    weights
        Case weights: a column name or an array (positive).
    control
        coxme.control settings: ``varinit`` (starting variances) and ``corinit``
        (starting correlations).
    data_name
        Name shown by ``summary()``.

    Returns
    -------
    CoxmeResult
    """
    if ties not in ("efron", "breslow"):
        raise CoxmeControlError(f"ties must be 'efron' or 'breslow', not {ties!r}")
    settings = dict(control or {})
    unknown = set(settings) - _CONTROL_KEYS
    if unknown:
        raise CoxmeControlError(
            f"unknown coxme control setting(s): {sorted(unknown)}",
            remedy=f"use {sorted(_CONTROL_KEYS)}",
        )
    design = coxme_design(formula, data, weights=weights)
    fit = coxme_fit(
        design.risk,
        design.X,
        design.layout,
        design.offset,
        design.weights,
        ties,
        varinit=tuple(settings.get("varinit", VARINIT)),
        corinit=tuple(settings.get("corinit", CORINIT)),
    )
    return CoxmeResult(design, fit, ties, formula, data_name)
