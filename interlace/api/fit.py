"""``fit``: the statsmodels-flavoured façade over :func:`interlace.lmer`.

``fit("y ~ x", data, groups=["subject", "item"])`` is the crossed
random-intercept model ``y ~ x + (1 | subject) + (1 | item)``;
``random=["(1 + x | g)"]`` adds lme4 bar terms verbatim.  The formula built
here is an ordinary lme4 formula, so every rule of :func:`interlace.lmer`
applies and the result records the formula that was fitted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from interlace.api.lmer import lmer
from interlace.errors import FormulaError
from interlace.results.lmer_result import LmerResult


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _bar_term(term: str) -> str:
    """Parenthesise a bar term the way lme4 requires (``x | g`` -> ``(x | g)``)."""
    stripped = term.strip()
    if "|" not in stripped:
        raise FormulaError(
            f"random term {term!r} has no bar",
            term=term,
            remedy="write lme4 bar terms such as '(1 + x | g)'; use groups= for random intercepts",
        )
    return stripped if stripped.startswith("(") else f"({stripped})"


def build_formula(
    formula: str,
    groups: str | Sequence[str] | None = None,
    random: str | Sequence[str] | None = None,
) -> str:
    """The lme4 formula that :func:`fit` fits.

    Parameters
    ----------
    formula : str
        The fixed part, ``"y ~ x"`` (it may already contain bar terms).
    groups : str or sequence of str, optional
        Grouping columns; each adds a random intercept ``(1 | g)``.
    random : str or sequence of str, optional
        lme4 bar terms, e.g. ``"(1 + x | g)"``.

    Returns
    -------
    str
    """
    extra = [f"(1 | {g})" for g in _as_list(groups)] + [_bar_term(t) for t in _as_list(random)]
    return " + ".join([formula.strip(), *extra]) if extra else formula.strip()


def fit(
    formula: str,
    data: pd.DataFrame,
    *,
    groups: str | Sequence[str] | None = None,
    random: str | Sequence[str] | None = None,
    method: Literal["REML", "ML"] = "REML",
    weights: Any = None,
) -> LmerResult:
    """Fit a linear mixed model with statsmodels-style arguments.

    Parameters
    ----------
    formula : str
        Fixed part, e.g. ``"y ~ x"``.
    data : DataFrame
        Never modified.
    groups : str or sequence of str, optional
        Grouping columns, each with a random intercept; several give
        crossed random effects (which statsmodels' ``MixedLM`` cannot fit
        directly).
    random : str or sequence of str, optional
        Further lme4 bar terms, e.g. ``["(0 + x | subject)"]``.
    method : {"REML", "ML"}
        Estimation criterion.
    weights : str or array, optional
        Prior weights.

    Returns
    -------
    LmerResult

    Examples
    --------
    >>> import interlace
    >>> d = interlace.datasets.load("Penicillin")
    >>> m = interlace.fit("diameter ~ 1", d, groups=["plate", "sample"])
    >>> list(m.varcorr()["grp"])
    ['plate', 'sample', 'Residual']
    """
    if method not in ("REML", "ML"):
        raise FormulaError(f"method must be 'REML' or 'ML', not {method!r}")
    return lmer(
        build_formula(formula, groups, random), data, REML=method == "REML", weights=weights
    )
