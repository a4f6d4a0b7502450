"""lme4-style printed summary of a linear mixed model (``print(summary(fit))``)."""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.results.rformat import (
    RPrintout,
    abbreviate,
    coefficient_cells,
    format_fixed,
    print_matrix,
    print_named,
    r_round,
    zapsmall,
)
from interlace.results.tables import unique_group_names

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

#: lme4's ``digits = max(3, getOption("digits") - 3)``.
DIGITS = 4
#: lme4's ``getOption("lme4.summary.cor.max")``.
COR_MAX = 12


class LmerSummary(RPrintout):
    """Summary tables of an :class:`LmerResult`; ``str()`` prints like lme4.

    Attributes
    ----------
    coefficients : DataFrame
        ``Estimate``, ``Std. Error``, ``t value``.
    varcor : DataFrame
        ``as.data.frame(VarCorr(fit))``.
    residuals : Series
        Quantiles of the scaled Pearson residuals.
    """

    def __init__(self, result: LmerResult) -> None:
        self.result = result

    @property
    def _stat_name(self) -> str:
        """The column of the Wald statistics."""
        return "t value"

    @cached_property
    def coefficients(self) -> pd.DataFrame:
        r = self.result
        return pd.DataFrame(
            {"Estimate": r.fe_params, "Std. Error": r.bse, self._stat_name: r.tvalues}
        )

    @cached_property
    def varcor(self) -> pd.DataFrame:
        return self.result.varcorr()

    @cached_property
    def residuals(self) -> pd.Series:
        r = self.result
        q = np.quantile(r.resid_pearson.to_numpy() / r.sigma, [0.0, 0.25, 0.5, 0.75, 1.0])
        return pd.Series(q, index=["Min", "1Q", "Median", "3Q", "Max"])

    # ----------------------------------------------------------------- blocks
    def _title(self) -> list[str]:
        r = self.result
        method = "REML" if r.REML else "maximum likelihood "
        lines = [f"Linear mixed model fit by {method} ['lmerMod']"]
        if r.formula:
            lines.append(f"Formula: {r.formula}")
        if r.data_name:
            lines.append(f"   Data: {r.data_name}")
        if r.weights_name:
            lines.append(f"Weights: {r.weights_name}")
        if r.offset_name:
            lines.append(f" Offset: {r.offset_name}")
        return lines

    def _criterion(self) -> list[str]:
        r = self.result
        if r.REML:
            return [f"REML criterion at convergence: {_r_scalar(r_round(r.objective, 1))}"]
        names = ["AIC", "BIC", "logLik", "deviance", "df.resid"]
        df_resid = r.nobs - r.df_model
        vals = [r.aic, r.bic, r.llf, r.objective, float(df_resid)]
        text = format_fixed([r_round(v, 1) for v in vals], digits=7)
        text[-1] = str(df_resid)
        return print_named(names, text).split("\n")

    def _resids(self) -> list[str]:
        q = zapsmall(self.residuals.tolist(), DIGITS + 1)
        return [
            "Scaled residuals: ",
            *print_named(list(self.residuals.index), format_fixed(q, DIGITS)).split("\n"),
        ]

    def _random(self) -> list[str]:
        r = self.result
        terms = r.design.terms
        groups, names, sds, corrs = [], [], [], []
        maxk = max(len(t.names) for t in terms)
        labels = unique_group_names([t.group for t in terms])
        for label, term, lam in zip(labels, terms, r.lambdas, strict=True):
            cov = r.scale * (lam @ lam.T)
            sd = np.sqrt(np.diag(cov))
            k = len(term.names)
            with np.errstate(invalid="ignore", divide="ignore"):
                cor = cov / np.outer(sd, sd)
            cells = format_fixed([r_round(v, 2) for v in cor.ravel()], digits=7, nsmall=2)
            for i, name in enumerate(term.names):
                groups.append(label if i == 0 else "")
                names.append(name)
                sds.append(sd[i])
                corrs.append([cells[i * k + j] if j < i else "" for j in range(maxk - 1)])
        if r.has_scale:
            groups.append("Residual")
            names.append("")
            sds.append(r.sigma)
            corrs.append([""] * (maxk - 1))
        var_text = format_fixed([s**2 for s in sds], DIGITS)
        sd_text = format_fixed(sds, DIGITS)
        header = ["Groups", "Name", "Variance", "Std.Dev."]
        if maxk > 1:
            header += ["Corr"] + [""] * (maxk - 2)
        table: list[list[str]] = [
            [g, n, v, s, *c]
            for g, n, v, s, c in zip(groups, names, var_text, sd_text, corrs, strict=True)
        ]
        ngrps: dict[str, int] = {}
        for t in terms:
            ngrps.setdefault(t.group, len(t.levels))
        grp_text = "; ".join(f"{g}, {n}" for g, n in ngrps.items())
        return [
            "Random effects:",
            *print_matrix([""] * len(table), header, table, right=False),
            f"Number of obs: {r.nobs}, groups:  {grp_text}",
        ]

    def _fixed(self) -> list[str]:
        cf = self.coefficients
        if cf.empty:  # lme4 prints no fixed-effects block
            return []
        cells = self._coefficient_cells()
        table = print_matrix(list(cf.index), list(cf.columns), cells, right=True)
        return ["", "Fixed effects:", *table, *self._correlation(self.result.unscaled_vcov)]

    def _coefficient_cells(self) -> list[list[str]]:
        """Estimate, standard error and statistic per coefficient, rounded as lme4 prints them."""
        cf = self.coefficients
        return coefficient_cells(
            cf["Estimate"].tolist(), cf["Std. Error"].tolist(), cf[self._stat_name].tolist(), DIGITS
        )

    def _correlation(self, vcov: NDArray[np.float64]) -> list[str]:
        """The correlation block of the fixed effects from their covariance ``vcov`` (any scale).

        lme4 omits it for one coefficient, and above ``COR_MAX`` it only
        sends a message (not printed).
        """
        names = list(self.coefficients.index)
        p = len(names)
        if not 1 < p <= COR_MAX:
            return []
        sd = np.sqrt(np.diag(vcov))
        cor = vcov / np.outer(sd, sd)
        text = format_fixed([round(v, 3) for v in cor.ravel()], digits=7, nsmall=3)
        rn = [abbreviate(n, 11) for n in names]
        cn = [abbreviate(n, 6) for n in names]
        body = [[text[i * p + j] if j < i else "" for j in range(p - 1)] for i in range(1, p)]
        return [
            "",
            "Correlation of Fixed Effects:",
            *print_matrix(rn[1:], cn[:-1], body, right=False),
        ]

    def _messages(self) -> list[str]:
        fit = list(self.result.fit_messages)
        lines = ["fit warnings:", *fit] if fit else []
        return lines + self._optimizer_messages()

    def _optimizer_messages(self) -> list[str]:
        info = self.result.optinfo
        msgs = list(info.conv.messages)
        if info.return_code == 0 and not msgs and not info.warnings:
            return []
        status = "(OK)" if info.return_code == 0 else f"({info.message})"
        return [
            f"optimizer ({info.optimizer}) convergence code: {info.return_code} {status}",
            *msgs,
            *info.warnings,
            "",
        ]

    def lines(self) -> list[str]:
        """``print(summary(fit))``, line by line."""
        return [
            *self._title(),
            "",
            *self._criterion(),
            "",
            *self._resids(),
            "",
            *self._random(),
            *self._fixed(),
            *self._messages(),
        ]


def _r_scalar(x: float) -> str:
    """A number as ``cat()`` prints it (up to 7 significant digits)."""
    if math.isfinite(x) and x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return format_fixed([x], 7)[0].strip()
