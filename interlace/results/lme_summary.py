"""nlme-style printed summary of an ``lme`` fit (``print(summary(fit))``).

The blocks follow nlme 3.1's ``print.summary.lme``: criteria, random effects
per level (outer to inner, nested levels named ``inner %in% outer``), the
correlation structure, the variance function, the ``tTable`` (``format(zapsmall(x))`` per column,
p-values rounded to 4 decimals), the correlation of the fixed effects,
quantiles of the standardized (Pearson) residuals and the group counts.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from interlace.formula.deparse import deparse
from interlace.formula.parser import parse
from interlace.results.rformat import (
    RPrintout,
    abbreviate,
    format_fixed,
    format_r,
    print_matrix,
    print_named,
    zapsmall,
)

if TYPE_CHECKING:
    from interlace.results.lme_result import LmeLevel, LmeResult

_STRUCTURES = {
    "pdSymm": "General positive-definite, Log-Cholesky parametrization",
    "pdDiag": "Diagonal",
}


def _deparse(text: str) -> str:
    """R's deparse of a formula."""
    return str(deparse(parse(text)))


def _format_each(values: list[float]) -> list[str]:
    """Each value formatted on its own (R prints a numeric matrix column by column)."""
    return [format_fixed([v])[0] for v in values]


class LmeSummary(RPrintout):
    """Summary tables of an :class:`LmeResult`; ``str()`` prints like nlme.

    Attributes
    ----------
    tTable : DataFrame
        ``Value, Std.Error, DF, t-value, p-value``.
    residuals : Series
        Quantiles of the standardized residuals ``(y − fitted) / (σ g_i)`` (``g_i = 1``
        without a variance function).
    """

    def __init__(self, result: LmeResult) -> None:
        self.result = result

    @cached_property
    def tTable(self) -> pd.DataFrame:
        return self.result.coef_table()

    @cached_property
    def residuals(self) -> pd.Series:
        r = self.result
        pearson = r.fit.resid_pearson.to_numpy()
        q = np.quantile(pearson / r.sigma, [0.0, 0.25, 0.5, 0.75, 1.0])
        return pd.Series(q, index=["Min", "Q1", "Med", "Q3", "Max"])

    def _level_label(self, i: int) -> str:
        groups = self.result.levels[i].groups
        return " %in% ".join(reversed(groups))

    def _header(self) -> list[str]:
        r = self.result
        kind = "REML" if r.method == "REML" else "maximum likelihood"
        cells = [_format_each([r.aic, r.bic, r.llf])]
        return [
            f"Linear mixed-effects model fit by {kind}",
            f"  Data: {r.data_name or 'data'} ",
            *print_matrix([" "], ["AIC", "BIC", "logLik"], cells, right=True),
        ]

    def _level(self, i: int, level: LmeLevel, last: bool) -> list[str]:
        r = self.result
        names, cov = r.level_covariance(level)
        sd = np.sqrt(np.diag(cov)).tolist()
        lines = [f" Formula: {_deparse(level.formula)} | {self._level_label(i)}"]
        if len(names) > 1:
            lines.append(f" Structure: {_STRUCTURES[level.kind]}")
        if len(names) == 1 or level.kind == "pdDiag":
            cols = names + (["Residual"] if last else [])
            values = sd + ([r.sigma] if last else [])
            lines += print_matrix(["StdDev:"], cols, [_format_each(values)], right=True)
            return lines
        k = len(names)
        corr = cov / np.outer(sd, sd)
        low = format_fixed([round(v, 3) for v in corr[np.tril_indices(k, -1)]])
        cells = [[""] * k for _ in range(k)]
        pos = iter(low)
        for a, b in zip(*np.tril_indices(k, -1), strict=True):
            cells[a][b + 1] = next(pos)
        for j, name in enumerate(names[:-1]):
            cells[0][j + 1] = abbreviate(name, 6)
        rows = list(names)
        if last:
            rows.append("Residual")
            cells.append([""] * k)
            sd = [*sd, r.sigma]
        for row, text in zip(cells, format_fixed(sd), strict=True):
            row[0] = text
        header = ["StdDev", "Corr", *[""] * (k - 2)]
        lines += print_matrix(rows, header, cells, right=False)
        return lines

    def _random(self) -> list[str]:
        lines = ["Random effects:"]
        levels = self.result.levels
        for i, level in enumerate(levels):
            lines += self._level(i, level, i == len(levels) - 1)
            lines.append("")
        return lines

    def _correlation_structure(self) -> list[str]:
        r = self.result
        cor = r.correlation
        if cor is None or r.phi is None:
            return []
        cov = cor.form.covariate or "1"
        form = _deparse(f"~ {cov} | {'/'.join(r.correlation_groups)}")
        return [
            f"Correlation Structure: {cor.label}",
            f" Formula: {form} ",
            " Parameter estimate(s):",
            *print_named([cor.parameter_name], format_fixed([r.phi])).split("\n"),
        ]

    def _variance_function(self) -> list[str]:
        r = self.result
        if r.varfunc is None:
            return []
        params = r.varfunc_params
        return [
            "Variance function:",
            f" Structure: {r.varfunc.spec.structure}",
            f" Formula: {_deparse(r.varfunc.spec.form)} ",
            " Parameter estimates:",
            *print_named(list(params.index), format_fixed(params.tolist())).split("\n"),
        ]

    def _fixed(self) -> list[str]:
        r = self.result
        tt = self.tTable
        cols = [format_fixed(zapsmall(tt[c].tolist(), 7)) for c in tt.columns[:-1]]
        cols.append(format_r([round(v, 4) for v in tt["p-value"]]))
        cells = [list(row) for row in zip(*cols, strict=True)]
        lines = [
            f"Fixed effects:  {_deparse(r.fixed)} ",
            *print_matrix(list(tt.index), list(tt.columns), cells, right=True),
        ]
        p = len(tt)
        if p > 1:
            vcov = r.cov_params().to_numpy()
            sd = np.sqrt(np.diag(vcov))
            corr = vcov / np.outer(sd, sd)
            low = format_fixed([round(v, 3) for v in corr[np.tril_indices(p, -1)]])
            body = [[""] * (p - 1) for _ in range(p - 1)]
            pos = iter(low)
            for a, b in zip(*np.tril_indices(p, -1), strict=True):
                body[a - 1][b] = next(pos)
            names = list(tt.index)
            lines += [
                " Correlation: ",
                *print_matrix(names[1:], [abbreviate(n, 6) for n in names[:-1]], body, False),
            ]
        return lines

    def _tail(self) -> list[str]:
        r = self.result
        res = self.residuals
        lines = [
            "",
            "Standardized Within-Group Residuals:",
            *print_named(list(res.index), format_fixed(res.tolist())).split("\n"),
            "",
            f"Number of Observations: {r.nobs}",
        ]
        counts = list(r.n_groups.values())
        if len(counts) == 1:
            return [*lines, f"Number of Groups: {counts[0]} "]
        labels = [self._level_label(i) for i in range(len(counts))]
        values = [str(c) for c in counts]
        return [*lines, "Number of Groups: ", *print_named(labels, values).split("\n")]

    def lines(self) -> list[str]:
        """``print(summary(fit))``, line by line."""
        return [
            *self._header(),
            "",
            *self._random(),
            *self._correlation_structure(),
            *self._variance_function(),
            *self._fixed(),
            *self._tail(),
        ]
