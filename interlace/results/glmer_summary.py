"""lme4-style printed summary of a GLMM (``print(summary(glmer_fit))``).

It reuses the LMM summary (:class:`~interlace.results.summary.LmerSummary`),
whose residual quantiles (Pearson) and random-effects table (a residual row
only for families with a dispersion, ``GlmerResult.has_scale``) serve both,
and changes what differs for a ``glmerMod``: the title (method and family)
and the fixed-effects table with ``z value`` (``t value`` when the family
has a dispersion, as lme4 labels it) and ``Pr(>|z|)`` formatted by R's
``format.pval`` with significance stars.
"""

from __future__ import annotations

import math
import textwrap
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from interlace.results.rformat import format_fixed, print_matrix, sig_needed
from interlace.results.summary import DIGITS, LmerSummary

if TYPE_CHECKING:
    from interlace.results.glmer_result import GlmerResult

#: R's ``strwrap`` width for the title (``0.9 * getOption("width")``).
TITLE_WIDTH = 72
SIGNIF_LEGEND = "Signif. codes:  0 ‘***’ 0.001 ‘**’ 0.01 ‘*’ 0.05 ‘.’ 0.1 ‘ ’ 1"


def format_pval(pv: list[float], digits: int = 3) -> list[str]:
    """R's ``format.pval(pv, digits)`` with ``eps = .Machine$double.eps``."""
    eps = float(np.finfo(float).eps)
    out = [""] * len(pv)
    small = [i for i, p in enumerate(pv) if p < eps]
    rest = [i for i, p in enumerate(pv) if p >= eps]
    expo = {i: math.floor(math.log10(pv[i])) if pv[i] > 0 else -50 for i in rest}
    fixed = [i for i in rest if expo[i] >= -3 or (expo[i] == -4 and digits > 1)]
    sci = [i for i in rest if i not in fixed]
    if fixed:
        for i, s in zip(fixed, format_fixed([pv[i] for i in fixed], digits), strict=True):
            out[i] = s.strip()
    if sci:
        sig = max(sig_needed(pv[i], digits) for i in sci)
        for i in sci:
            out[i] = f"{pv[i]:.{sig - 1}e}"
    if small:
        d = max(1, digits - 2)
        sep = " "
        if rest:
            nc = max(len(out[i]) for i in rest)
            if d > 1 and d + 6 > nc:
                d = max(1, nc - 7)
            sep = "" if d == 1 and nc <= 6 else " "
        elif d == 1:
            sep = ""
        for i in small:
            out[i] = f"<{sep}{eps:.{d - 1}e}"
    return out


def stars(p: float) -> str:
    """R's significance stars."""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return " "


def wald_table_lines(
    table: pd.DataFrame, cells: list[list[str]], digits: int = DIGITS
) -> list[str]:
    """R's ``printCoefmat`` of a Wald z table, then ``---`` and the significance legend.

    ``cells`` are the formatted estimate, standard error and statistic of each row
    (:func:`~interlace.results.rformat.coefficient_cells`); the p-values of
    ``table["Pr(>|z|)"]`` and their stars (padded to one width, as R's ``format()``
    does) are added here.
    """
    p_values = [float(p) for p in table["Pr(>|z|)"]]
    pv = format_pval(p_values, max(1, min(5, digits - 1)))
    st = [stars(p) for p in p_values]
    width = max(len(s) for s in st)
    rows = [[*row, pv[i], st[i].ljust(width)] for i, row in enumerate(cells)]
    printed = print_matrix(list(table.index), [*table.columns, ""], rows, right=True)
    return [*printed, "---", SIGNIF_LEGEND]


class GlmerSummary(LmerSummary):
    """Summary tables of a :class:`GlmerResult`; ``str()`` prints like lme4.

    Attributes
    ----------
    coefficients : DataFrame
        ``Estimate``, ``Std. Error``, ``z value`` (``t value`` with a
        dispersion), ``Pr(>|z|)``.
    """

    result: GlmerResult

    def __init__(self, result: GlmerResult) -> None:
        super().__init__(result)

    @property
    def _stat_name(self) -> str:
        """``z value``; ``t value`` when the family has a dispersion, as lme4 labels it."""
        return "t value" if self.result.has_scale else "z value"

    @cached_property
    def coefficients(self) -> pd.DataFrame:
        r = self.result
        return pd.DataFrame(
            {
                "Estimate": r.fe_params,
                "Std. Error": r.bse,
                self._stat_name: r.tvalues,
                "Pr(>|z|)": r.pvalues,
            }
        )

    def _title(self) -> list[str]:
        r = self.result
        method = (
            "Laplace Approximation"
            if r.nAGQ == 1
            else f"Adaptive Gauss-Hermite Quadrature, nAGQ = {r.nAGQ}"
        )
        title = f"Generalized linear mixed model fit by maximum likelihood ({method}) [glmerMod]"
        lines = textwrap.wrap(title, width=TITLE_WIDTH - 1, subsequent_indent="  ")
        lines.append(f" Family: {r.family}  ( {r.link} )")
        return lines + super()._title()[1:]

    def _fixed(self) -> list[str]:
        cf = self.coefficients
        if cf.empty:
            return []
        table = wald_table_lines(cf, self._coefficient_cells())
        vcov = self.result.cov_params().to_numpy()
        return ["", "Fixed effects:", *table, *self._correlation(vcov)]
