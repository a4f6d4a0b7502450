"""glmmTMB-style printed summary (``print(summary(fit))`` of a ``glmmTMB`` fit).

Blocks, as glmmTMB 1.1.5 prints them: the family and formulas; the information
criteria (``AIC BIC logLik deviance df.resid``); the conditional model's random
effects (lme4's ``formatVC`` table with glmmTMB's trailing correlation column and a
``Residual`` row for the gaussian family); the dispersion line; one Wald z table per
model component (``Conditional model``, ``Zero-inflation model``, ``Dispersion model``)
as R's ``printCoefmat`` formats it, each followed by the significance legend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.engine.protocol import RandomTermDesign
from interlace.results.glmer_summary import wald_table_lines
from interlace.results.rformat import (
    coefficient_cells,
    format_fixed,
    print_matrix,
    print_named,
    r_round,
    zapsmall,
)
from interlace.results.tables import unique_group_names

if TYPE_CHECKING:
    from interlace.results.glmmtmb_result import GlmmTMBResult

#: ``max(3, getOption("digits") - 3)``.
DIGITS = 4
_COMPONENTS = (
    ("cond", "Conditional model:"),
    ("zi", "Zero-inflation model:"),
    ("disp", "Dispersion model:"),
)


def coefmat_lines(table: pd.DataFrame, digits: int = DIGITS) -> list[str]:
    """R's ``printCoefmat(zap.ind = 3)`` of an ``Estimate, Std. Error, z value, Pr(>|z|)`` table."""
    z = zapsmall([float(v) for v in table["z value"]], digits)  # glmmTMB's zap.ind = 3
    est, se = table["Estimate"].tolist(), table["Std. Error"].tolist()
    cells = coefficient_cells(est, se, z, digits)
    return wald_table_lines(table, cells, digits)


class GlmmTMBSummary:
    """Summary tables of a :class:`GlmmTMBResult`; ``str()`` prints like glmmTMB.

    Attributes
    ----------
    coefficients : dict of str to DataFrame
        Wald tables per component (``cond``, ``zi``, ``disp``; empty ones left out).
    varcor : DataFrame
        :meth:`GlmmTMBResult.varcorr`.
    """

    def __init__(self, result: GlmmTMBResult) -> None:
        self.result = result

    @cached_property
    def coefficients(self) -> dict[str, pd.DataFrame]:
        r = self.result
        out = {}
        for comp, _ in _COMPONENTS:
            table = r.coef_table(comp)
            if not table.empty and not (comp == "disp" and r.dispformula.strip() == "~1"):
                out[comp] = table
        return out

    @cached_property
    def varcor(self) -> pd.DataFrame:
        return self.result.varcorr()

    def _title(self) -> list[str]:
        r = self.result
        lines = [f" Family: {r.family}  ( {r.link} )", f"Formula:          {r.formula}"]
        if r.data.X_zi.shape[1]:
            lines.append(f"Zero inflation:         {r.ziformula}")
        if r.dispformula.strip() != "~1":
            lines.append(f"Dispersion:             {r.dispformula}")
        if r.data_name:
            lines.append(f"Data: {r.data_name}")
        return lines

    def _criterion(self) -> list[str]:
        r = self.result
        names = ["AIC", "BIC", "logLik", "deviance", "df.resid"]
        vals = [r.aic, r.bic, r.llf, r.deviance, float(r.df_resid)]
        text = format_fixed([r_round(v, 1) for v in vals], digits=7)
        text[-1] = str(r.df_resid)
        return print_named(names, text).split("\n")

    def _random(self) -> list[str]:
        r = self.result
        lines: list[str] = []
        for component, heading in _COMPONENTS[:2]:
            terms, lams = r._component(component)
            if terms:
                lines += ["", heading, *self._random_table(component, terms, lams)]
        return ["Random effects:", *lines] if lines else []

    def _random_table(
        self, component: str, terms: Sequence[RandomTermDesign], lams: list[NDArray[np.float64]]
    ) -> list[str]:
        """lme4's ``formatVC`` table of one component and its ``Number of obs`` line."""
        r = self.result
        groups, names, sds, corrs = [], [], [], []
        maxk = max(len(t.names) for t in terms)
        labels = unique_group_names([t.group for t in terms])
        for label, term, lam in zip(labels, terms, lams, strict=True):
            cov = lam @ lam.T
            sd = np.sqrt(np.diag(cov))
            k = len(term.names)
            with np.errstate(invalid="ignore", divide="ignore"):
                cor = cov / np.outer(sd, sd)
            cells = format_fixed([r_round(v, 2) for v in cor.ravel()], digits=7, nsmall=2)
            for i, name in enumerate(term.names):
                groups.append(label if i == 0 else "")
                names.append(name)
                sds.append(sd[i])
                corrs.append([cells[i * k + j] if j < i else "" for j in range(maxk)])
        if r.family == "gaussian" and component == "cond":
            groups.append("Residual")
            names.append("")
            sds.append(r.sigma)
            corrs.append([""] * maxk)
        var_text = format_fixed([s**2 for s in sds], DIGITS)
        sd_text = format_fixed(sds, DIGITS)
        header = ["Groups", "Name", "Variance", "Std.Dev."]
        if maxk > 1:
            header += ["Corr"] + [""] * (maxk - 1)
        else:
            corrs = [[] for _ in corrs]
        table: list[list[str]] = [
            [g, n, v, s, *c]
            for g, n, v, s, c in zip(groups, names, var_text, sd_text, corrs, strict=True)
        ]
        ngrps: dict[str, int] = {}
        for t in terms:
            ngrps.setdefault(t.group, len(t.levels))
        grp_text = "; ".join(f"{g}, {n}" for g, n in ngrps.items())
        return [
            *print_matrix([""] * len(table), header, table, right=False),
            f"Number of obs: {r.nobs}, groups:  {grp_text}",
        ]

    def _dispersion(self) -> list[str]:
        r = self.result
        fam = r.data.family
        if not fam.has_dispersion or math.isnan(r.sigma):
            return []
        if fam.classic_dispersion:
            what, name, value = "Dispersion estimate", "sigma^2", r.sigma**2
        else:
            what, name, value = "Dispersion parameter", "", r.sigma
        # R's formatC(value, digits = 3): C's %4.3g
        return ["", f"{what} for {r.family} family ({name}): {value:4.3g} "]

    def _tables(self) -> list[str]:
        lines: list[str] = []
        for comp, heading in _COMPONENTS:
            table = self.coefficients.get(comp)
            if table is not None:
                lines += ["", heading, *coefmat_lines(table)]
        return lines

    def __str__(self) -> str:
        r = self.result
        lines = [
            *self._title(),
            "",
            *self._criterion(),
            "",
            *self._random(),
            *self._dispersion(),
            *self._tables(),
        ]
        if r.optinfo.conv.messages:
            lines += ["", *r.optinfo.conv.messages]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)
