"""Cox models with random effects (``coxme``) in the parity schema.

coxme reports, per grouping factor, a variance (one random effect) or a matrix with the
variances on the diagonal and the *correlations* off it (``VarCorr``); the schema's ``varcorr``
has lme4's layout (rows ``grp, var1, var2`` with the covariance in ``vcov`` and the standard
deviation or correlation in ``sdcor``; ``var1`` is empty for a single random effect, whose name
coxme does not report).  The random effects are compared by position in coxme's level order
(for a grouping factor with many levels coxme puts the rare "sparse" levels first), the first
:data:`RANEF_FIRST` levels of each term, which is what coxme's reference outputs record; their
``grp`` is the position (``"1"``, ``"2"``, ...).

The schema's ``loglik`` is the integrated log-likelihood (``fit$loglik[2]``, the one coxme
maximises) with ``df`` = fixed effects + variance parameters and ``nobs`` = events
(``fit$n[1]``); ``cox_loglik`` holds coxme's three values.

:func:`coxme_reference_record` turns one fit of a frozen coxme reference file
(``fixtures/coxme/coxme_reference.json``, coxme 2.2-22) into a frozen parity record, so that
the corpus covers coxme on machines where it cannot be installed (it is not packaged for
Debian).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from interlace.parity.calls import ModelCall
from interlace.parity.schema import (
    RANEF_COLUMNS,
    VARCORR_COLUMNS,
    CoxLogLik,
    FitSummary,
    LogLik,
    empty_ranef,
)

#: Random effects compared per term: the first levels in coxme's order.
RANEF_FIRST = 3
#: Name of the one random effect of a scalar term, whose name coxme does not report.
SCALAR_EFFECT = "b"


def coxme_covariance(block: Any) -> np.ndarray:
    """The covariance matrix of one ``VarCorr`` entry (variances, correlations off-diagonal)."""
    m = np.atleast_2d(np.asarray(block, dtype=float))
    sd = np.sqrt(np.diag(m))
    cov = m * np.outer(sd, sd)
    np.fill_diagonal(cov, np.diag(m))
    return cov


def coxme_summary(
    *,
    model_class: str,
    fixef: pd.Series,
    se: pd.Series,
    loglik: CoxLogLik,
    events: int,
    varcorr: Mapping[str, np.ndarray],
    names: Mapping[str, Sequence[str]],
    ranef_first: Mapping[str, np.ndarray],
    messages: Sequence[str] = (),
    warnings: Sequence[str] = (),
    versions: Mapping[str, str] | None = None,
) -> FitSummary:
    """A :class:`FitSummary` from a coxme fit's pieces (R's or interlace's).

    Parameters
    ----------
    varcorr
        Grouping factor → covariance matrix of its random effects (k × k).
    names
        Grouping factor → names of its k effects (may be empty for k = 1).
    ranef_first
        Grouping factor → the first random effects in coxme's level order (levels × k).
    """
    n_variance = sum(m.shape[0] * (m.shape[0] + 1) // 2 for m in varcorr.values())
    return FitSummary(
        model_class=model_class,
        fixef=fixef.astype(float),
        se=se.astype(float),
        loglik=LogLik(float(loglik.integrated), len(fixef) + n_variance, int(events)),
        varcorr=_varcorr_rows(varcorr, names),
        ranef=_ranef_rows(ranef_first, names),
        cox_loglik=loglik,
        messages=tuple(messages),
        warnings=tuple(warnings),
        versions=dict(versions or {}),
    )


def _effect_names(k: int, names: Sequence[str]) -> list[str]:
    return [str(n) for n in names] if len(names) == k and k > 1 else [SCALAR_EFFECT] * k


def _varcorr_rows(
    varcorr: Mapping[str, np.ndarray], names: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    rows: list[tuple[str, str | None, str | None, float, float]] = []
    for group, cov in varcorr.items():
        k = cov.shape[0]
        if k == 1:
            rows.append((group, None, None, float(cov[0, 0]), float(np.sqrt(cov[0, 0]))))
            continue
        nm = _effect_names(k, names.get(group, ()))
        sd = np.sqrt(np.diag(cov))
        rows.extend((group, nm[i], None, float(cov[i, i]), float(sd[i])) for i in range(k))
        rows.extend(
            (group, nm[j], nm[i], float(cov[i, j]), float(cov[i, j] / (sd[i] * sd[j])))
            for j in range(k)
            for i in range(j + 1, k)
        )
    return pd.DataFrame(rows, columns=list(VARCORR_COLUMNS))


def _ranef_rows(
    ranef_first: Mapping[str, np.ndarray], names: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    rows: list[tuple[str, str, str, float]] = []
    for group, values in ranef_first.items():
        block = np.asarray(values, dtype=float)
        block = block.reshape(block.shape[0], -1)[:RANEF_FIRST]
        nm = _effect_names(block.shape[1], names.get(group, ()))
        rows.extend(
            (group, nm[j], str(i + 1), float(block[i, j]))
            for j in range(block.shape[1])
            for i in range(block.shape[0])
        )
    if not rows:
        return empty_ranef()
    return pd.DataFrame(rows, columns=list(RANEF_COLUMNS[:4]))


def random_effect_names(formula: str, group: str) -> list[str]:
    """coxme's names of the effects of ``(... | group)`` in a formula (``Intercept``, slopes)."""
    match = re.search(r"\(([^()|]*)\|\s*" + re.escape(group) + r"\s*\)", formula)
    if match is None:
        return []
    parts = [p.strip() for p in match.group(1).split("+") if p.strip()]
    return ["Intercept" if p == "1" else p for p in parts if p != "0"]


def coxme_reference_record(
    reference: Mapping[str, Any],
    call: ModelCall,
    arguments: Mapping[str, Any],
    *,
    provenance: str,
    versions: Mapping[str, str],
) -> dict[str, Any]:
    """A frozen parity record (the format of :func:`interlace.parity.api.freeze`) of one fit.

    Parameters
    ----------
    reference
        One case of a coxme reference file: ``coef``, ``se``, ``varcorr`` (a variance, or a
        matrix with correlations off the diagonal), ``loglik`` (``null``, ``integrated``,
        ``penalized``), ``n`` (events, rows) and ``ranef_first``.
    call
        The matched R call the record is for.
    arguments
        The Python values of its arguments other than formula and data.
    provenance
        Where the numbers come from, kept in the record.
    versions
        R and package versions that produced them.

    Returns
    -------
    dict
        With ``design`` ``None`` and no objective points (coxme has no deviance function to
        evaluate at given parameters).
    """
    from interlace.parity.api import CASE_FORMAT

    coef = reference["coef"]
    varcorr = {g: coxme_covariance(v) for g, v in reference["varcorr"].items()}
    names = {g: random_effect_names(call.formula, g) for g in varcorr}
    summary = coxme_summary(
        model_class=call.function,
        fixef=pd.Series(list(coef.values()), index=list(coef), dtype=float),
        se=pd.Series([reference["se"][k] for k in coef], index=list(coef), dtype=float),
        loglik=CoxLogLik(**{k: float(v) for k, v in reference["loglik"].items()}),
        events=int(reference["n"][0]),
        varcorr=varcorr,
        names=names,
        ranef_first={
            g: np.asarray(v, dtype=float).reshape(len(v), -1)
            for g, v in reference["ranef_first"].items()
        },
        versions=versions,
    )
    return {
        "format": CASE_FORMAT,
        "call": call.to_dict(),
        "arguments": dict(arguments),
        "summary": summary.to_dict(),
        "design": None,
        "objective": [],
        "provenance": provenance,
    }
