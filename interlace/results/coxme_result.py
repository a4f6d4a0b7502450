"""The result of a coxme fit (``coxme::coxme``), immutable.

Conventions are coxme 2.2-22's:

* ``llf`` is the Laplace-approximated integrated partial log-likelihood (``fit$loglik[2]``,
  printed as "Integrated"); ``llf_penalized`` the penalised partial log-likelihood at the
  estimates (``loglik[3]``, "Fitted"; what R's ``logLik(fit)`` returns by default);
  ``llf_null`` the partial log-likelihood at ``beta = 0`` without random effects;
* ``nobs`` is the number of events;
* ``bse`` are square roots of the diagonal of the inverse penalised information;
* ``varcorr()`` gives, per grouping factor, the variance of a random intercept or slope,
  or for ``(1 + x | g)`` a matrix with variances on the diagonal and the correlation off it;
* ``ranef()`` lists the random effects in coxme's level order (for a grouping factor with
  many levels, the rare "sparse" levels first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.cox.design import CoxmeDesign
from interlace.cox.fit import CoxmeFit
from interlace.results.wald import chisq_p_value, normal_p_values

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class CoxmeResult:
    """A fitted Cox model with Gaussian random effects.

    Attributes
    ----------
    design : CoxmeDesign
    fit : CoxmeFit
    ties : str
    formula : str
    data_name : str or None
        Name of the data, for the printed summary.
    """

    design: CoxmeDesign
    fit: CoxmeFit
    ties: str
    formula: str
    data_name: str | None = None

    @property
    def fe_params(self) -> pd.Series:
        """Fixed-effect coefficients (coxme's ``fixef``)."""
        return pd.Series(self.fit.beta, index=list(self.design.X_names), dtype=float)

    def cov_params(self) -> pd.DataFrame:
        """Variance of the fixed effects (coxme's ``vcov``)."""
        q = self.design.layout.q
        names = list(self.design.X_names)
        return pd.DataFrame(self.fit.vcov[q:, q:], index=names, columns=names)

    @property
    def bse(self) -> pd.Series:
        """Standard errors of the fixed effects."""
        q = self.design.layout.q
        return pd.Series(
            np.sqrt(np.diag(self.fit.vcov)[q:]), index=list(self.design.X_names), dtype=float
        )

    @property
    def tvalues(self) -> pd.Series:
        """Wald z statistics."""
        return self.fe_params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided normal p-values of the z statistics."""
        return pd.Series(normal_p_values(self.tvalues), index=self.tvalues.index)

    @property
    def llf(self) -> float:
        """Integrated log-likelihood (``fit$loglik[2]``)."""
        return float(self.fit.loglik[1])

    @property
    def llf_penalized(self) -> float:
        """Penalised log-likelihood (``fit$loglik[3]``)."""
        return float(self.fit.loglik[2])

    @property
    def llf_null(self) -> float:
        """NULL log-likelihood (``fit$loglik[1]``)."""
        return float(self.fit.loglik[0])

    @property
    def nobs(self) -> int:
        """Number of events (coxme's ``nobs``)."""
        return self.design.n_events

    @property
    def n(self) -> tuple[int, int]:
        """coxme's ``n``: events and rows."""
        return self.design.n_events, self.design.n

    @property
    def iterations(self) -> tuple[int, int]:
        """coxme's ``iter``: outer evaluations and total inner Newton iterations."""
        return self.fit.iter

    @property
    def df_penalized(self) -> float:
        """Effective degrees of freedom of the penalised fit: ``p + q - trace(H^-1_bb P)``."""
        layout = self.design.layout
        precision, _ = layout.precision(self.fit.theta)
        q = layout.q
        trace = float(np.sum(self.fit.vcov[:q, :q] * precision))
        return len(self.design.X_names) + q - trace

    def varcorr(self) -> dict[str, float | pd.DataFrame]:
        """Variances (and correlations) of the random effects, by grouping factor."""
        layout = self.design.layout
        out: dict[str, float | pd.DataFrame] = {}
        for term, theta in zip(layout.terms, layout.split_theta(self.fit.theta), strict=True):
            vc = term.varcorr(theta)
            names = list(term.names())
            out[term.group] = (
                float(vc[0, 0]) if term.k == 1 else pd.DataFrame(vc, index=names, columns=names)
            )
        return out

    def ranef(self) -> dict[str, pd.Series | pd.DataFrame]:
        """Random effects by grouping factor (a Series, or a DataFrame for several effects)."""
        layout = self.design.layout
        out: dict[str, pd.Series | pd.DataFrame] = {}
        for term, index in zip(layout.terms, layout.index, strict=True):
            values = self.fit.b[index]  # (k, n_levels)
            levels = pd.Index(list(term.levels))
            if term.k == 1:
                out[term.group] = pd.Series(values[0], index=levels, name=term.names()[0])
            else:
                out[term.group] = pd.DataFrame(values.T, index=levels, columns=list(term.names()))
        return out

    def summary(self) -> str:
        """A summary laid out as coxme's ``print``."""
        idf = len(self.design.X_names) + self.design.layout.n_theta
        pdf = self.df_penalized
        events, rows = self.n
        chi_i = 2 * (self.llf - self.llf_null)
        chi_p = 2 * (self.llf_penalized - self.llf_null)
        lines = ["Cox mixed-effects model fit by maximum likelihood"]
        if self.data_name:
            lines.append(f"  Data: {self.data_name}")
        lines += [
            f"  events, n = {events}, {rows}",
            f"  Iterations= {self.iterations[0]} {self.iterations[1]} ",
            f"{'':16}{'NULL':>10} {'Integrated':>10} {'Fitted':>10}",
            f"Log-likelihood  {self.llf_null:10.4f} {self.llf:10.4f} {self.llf_penalized:10.4f}",
            "",
            f"{'':18}{'Chisq':>8} {'df':>6} {'p':>10} {'AIC':>8} {'BIC':>8}",
        ]
        for label, chi, df in (
            ("Integrated loglik", chi_i, float(idf)),
            (" Penalized loglik", chi_p, pdf),
        ):
            p = chisq_p_value(chi, df)
            aic = chi - 2 * df
            bic = chi - math.log(events) * df
            lines.append(f"{label:18}{chi:8.2f} {df:6.2f} {p:10.4g} {aic:8.2f} {bic:8.2f}")
        lines += ["", f"Model:  {self.formula}", "Fixed coefficients"]
        table = pd.DataFrame(
            {
                "coef": self.fe_params,
                "exp(coef)": np.exp(self.fe_params),
                "se(coef)": self.bse,
                "z": self.tvalues,
                "p": self.pvalues,
            }
        )
        lines += [table.to_string(float_format=lambda v: f"{v:.6g}"), "", "Random effects"]
        layout = self.design.layout
        for term, (group, vc) in zip(layout.terms, self.varcorr().items(), strict=True):
            if isinstance(vc, float):
                lines.append(
                    f" {group:10} {term.names()[0]:12} Std Dev {vc**0.5:.6g}  Variance {vc:.6g}"
                )
            else:
                lines.append(f" {group}: variances on the diagonal, correlation off it")
                lines.append(vc.to_string(float_format=lambda v: f"{v:.6g}"))
        return "\n".join(lines)
