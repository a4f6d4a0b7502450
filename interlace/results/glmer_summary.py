"""lme4-style printed summary of a GLMM (``print(summary(glmer_fit))``).

It reuses the LMM summary (:class:`~interlace.results.summary.LmerSummary`)
and changes what differs for a ``glmerMod``: the title (method and family),
Pearson residuals, no residual row for families without a dispersion, and
the fixed-effects table with ``z value`` (``t value`` when the family has a
dispersion, as lme4 labels it) and ``Pr(>|z|)`` formatted by R's
``format.pval`` with significance stars.
"""

from __future__ import annotations

import math
import textwrap
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from interlace.results.rformat import abbreviate, format_fixed, print_matrix, print_named, r_round
from interlace.results.summary import COR_MAX, DIGITS, LmerSummary

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
        sig = max(_sig_needed(pv[i], digits) for i in sci)
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


def _sig_needed(x: float, digits: int) -> int:
    """Significant digits R keeps for ``x`` at ``digits`` (trailing zeros dropped)."""
    m = round(float(f"{x:.{digits - 1}e}".split("e")[0]) * 10 ** (digits - 1))
    sig = digits
    while sig > 1 and m % 10 == 0:
        m //= 10
        sig -= 1
    return sig


def stars(p: float) -> str:
    """R's significance stars."""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return " "


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
        return "t value" if self.result.response.family.has_scale else "z value"

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

    @cached_property
    def residuals(self) -> pd.Series:
        r = self.result
        q = np.quantile(r.resid_pearson.to_numpy() / r.sigma, [0.0, 0.25, 0.5, 0.75, 1.0])
        return pd.Series(q, index=["Min", "1Q", "Median", "3Q", "Max"])

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

    def _criterion(self) -> list[str]:
        r = self.result
        names = ["AIC", "BIC", "logLik", "deviance", "df.resid"]
        df_resid = r.nobs - r.df_model
        vals = [r.aic, r.bic, r.llf, -2.0 * r.llf, float(df_resid)]
        text = format_fixed([r_round(v, 1) for v in vals], digits=7)
        text[-1] = str(df_resid)
        return print_named(names, text).split("\n")

    def _random(self) -> list[str]:
        lines = super()._random()
        if self.result.response.family.has_scale:
            return lines
        # no dispersion: drop the residual row and re-justify the table without it
        return [lines[0], *_without_residual(lines[1:-1]), lines[-1]]

    def _fixed(self) -> list[str]:
        cf = self.coefficients
        if cf.empty:
            return []
        est_se = cf[["Estimate", "Std. Error"]].to_numpy()
        finite = np.abs(est_se[np.isfinite(est_se) & (est_se != 0)])
        digmin = 1 + np.floor(np.log10([finite.min(), finite.max()])) if finite.size else [1]
        dec = int(max(1, *(DIGITS - d for d in digmin)))
        cs = format_fixed([round(v, dec) for v in est_se.ravel()], DIGITS)
        tv = format_fixed(
            [round(v, max(1, min(5, DIGITS - 1))) for v in cf[self._stat_name]], DIGITS
        )
        pv = format_pval([float(p) for p in cf["Pr(>|z|)"]], max(1, min(5, DIGITS - 1)))
        st = [stars(float(p)) for p in cf["Pr(>|z|)"]]
        width = max(len(s) for s in st)  # R's format() pads the stars to one width
        cells = [
            [cs[2 * i], cs[2 * i + 1], tv[i], pv[i], st[i].ljust(width)] for i in range(len(cf))
        ]
        lines = ["", "Fixed effects:"]
        lines += print_matrix(list(cf.index), [*cf.columns, ""], cells, right=True)
        lines += ["---", SIGNIF_LEGEND]
        return lines + self._correlation()

    def _correlation(self) -> list[str]:
        cf = self.coefficients
        p = len(cf)
        if not 1 < p <= COR_MAX:
            return []
        vc = self.result.cov_params().to_numpy()
        sd = np.sqrt(np.diag(vc))
        cor = vc / np.outer(sd, sd)
        text = format_fixed([round(v, 3) for v in cor.ravel()], digits=7, nsmall=3)
        rn = [abbreviate(n, 11) for n in cf.index]
        cn = [abbreviate(n, 6) for n in cf.index]
        body = [[text[i * p + j] if j < i else "" for j in range(p - 1)] for i in range(1, p)]
        return [
            "",
            "Correlation of Fixed Effects:",
            *print_matrix(rn[1:], cn[:-1], body, right=False),
        ]


def _without_residual(table: list[str]) -> list[str]:
    """The random-effects table lines without the ``Residual`` row, first column narrowed.

    The LMM table pads its first column for ``Residual``; without that row
    R's first column is only as wide as ``Groups`` and the group names.
    """
    rows = [line for line in table if not line.startswith(" Residual")]
    w0 = rows[0].index(" Name") - 1
    w1 = max(len(line[1 : 1 + w0].rstrip()) for line in rows)
    return [line[: 1 + w1] + line[1 + w0 :] for line in rows]
