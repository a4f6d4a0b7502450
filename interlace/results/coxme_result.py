"""The result of a coxme fit (``coxme::coxme``), immutable.

Conventions are coxme 2.2-22's:

* ``llf`` is the Laplace-approximated integrated partial log-likelihood (``fit$loglik[2]``,
  printed as "Integrated"); ``llf_penalized`` the penalised partial log-likelihood
  ``PPL = l - b' Sigma^-1 b / 2`` at the estimates (``loglik[3]``); ``penalty`` is
  ``b' Sigma^-1 b / 2`` (``fit$penalty``), so ``llf_penalized + penalty`` is the partial
  log-likelihood ``l`` itself, which coxme's print shows as "Fitted" and R's ``logLik(fit)``
  returns by default (with ``df = fit$df[2]``); ``llf_null`` is ``l`` at ``beta = 0`` without
  random effects;
* ``nobs`` is the number of events; ``aic`` and ``bic`` are R's ``AIC(fit)`` and ``BIC(fit)``
  from that default ``logLik``: ``-2 l + k df[2]`` with ``k = 2`` and ``log(events)``;
* ``bse`` are square roots of the diagonal of the inverse penalised information;
* ``variance_components`` is coxme's ``VarCorr``: per grouping factor, the variance of a
  random intercept or slope, or for ``(1 + x | g)`` a matrix with variances on the diagonal
  and the correlation off it; ``varcorr()`` lays the same numbers out as lme4's
  ``as.data.frame(VarCorr(fit))``;
* ``random_effects`` lists the random effects in coxme's level order (for a grouping factor
  with many levels, the rare "sparse" levels first);
* ``fittedvalues`` is coxme's ``fit$linear.predictor``: ``X beta + Z b``, neither centred nor
  including an offset;
* ``anova(*others)`` is coxme's ``anova.coxmelist``: for fits ``1..K`` of one response on the
  same rows, the integrated log-likelihoods ``l_k``, ``Chisq_k = |2 (l_k - l_{k-1})|``,
  ``Df_k = |df_k - df_{k-1}|`` with ``df = p + n_theta`` (``fit$df[1]``), and the upper
  chi-squared tail ``P(>|Chi|)`` (1 when ``Df`` and ``Chisq`` are 0, 0 when only ``Df`` is).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from interlace.cox.design import CoxmeDesign
from interlace.cox.fit import ITER_MAX, CoxmeFit
from interlace.cox.residuals import ResidualType
from interlace.errors import IncomparableModelsError, InterlaceError, InterlaceWarning
from interlace.results import coxme_predict
from interlace.results.coxme_predict import PredictType
from interlace.results.rformat import format_fixed, print_matrix
from interlace.results.tables import unique_group_names
from interlace.results.wald import chisq_p_value, normal_p_values

FloatArray = NDArray[np.float64]

#: A random-effect standard deviation (or Cholesky pivot) below this makes a fit singular
#: (lme4's ``isSingular`` tolerance on the log-hazard scale, which has no residual SD).
SINGULAR_TOL = 1e-4


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
    ties: Literal["efron", "breslow"]
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
    def penalty(self) -> float:
        """``b' Sigma^-1 b / 2`` at the estimates (``fit$penalty``)."""
        precision, _ = self.design.layout.precision(self.fit.theta)
        return float(self.fit.b @ precision @ self.fit.b) / 2

    @property
    def llf_fitted(self) -> float:
        """Partial log-likelihood at the estimates: "Fitted" in coxme's print, ``logLik(fit)``."""
        return self.llf_penalized + self.penalty

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
    def df_integrated(self) -> int:
        """Degrees of freedom of the integrated likelihood (``fit$df[1]``): ``p + n_theta``."""
        return len(self.design.X_names) + self.design.layout.n_theta

    @property
    def df_penalized(self) -> float:
        """Effective degrees of freedom of the penalised fit: ``p + q - trace(H^-1_bb P)``."""
        layout = self.design.layout
        precision, _ = layout.precision(self.fit.theta)
        q = layout.q
        trace = float(np.sum(self.fit.vcov[:q, :q] * precision))
        return len(self.design.X_names) + q - trace

    @property
    def aic(self) -> float:
        """R's ``AIC(fit)``: ``-2 logLik(fit) + 2 df[2]`` (coxme's default, penalised logLik)."""
        return -2 * self.llf_fitted + 2 * self.df_penalized

    @property
    def bic(self) -> float:
        """R's ``BIC(fit)``: ``-2 logLik(fit) + log(events) df[2]``."""
        return -2 * self.llf_fitted + math.log(self.nobs) * self.df_penalized

    @property
    def variance_components(self) -> dict[str, float | pd.DataFrame]:
        """coxme's ``VarCorr``: a variance per term, or variances and correlations (a matrix)."""
        layout = self.design.layout
        out: dict[str, float | pd.DataFrame] = {}
        for term, theta in zip(layout.terms, layout.split_theta(self.fit.theta), strict=True):
            vc = term.varcorr(theta)
            names = list(term.names())
            out[term.group] = (
                float(vc[0, 0]) if term.k == 1 else pd.DataFrame(vc, index=names, columns=names)
            )
        return out

    def varcorr(self) -> pd.DataFrame:
        """Variances, covariances, SDs and correlations (lme4's ``as.data.frame(VarCorr)``).

        Columns ``grp, var1, var2, vcov, sdcor``: per term its variances (``var2`` missing,
        ``sdcor`` the SD), then its covariances (``sdcor`` the correlation).
        """
        layout = self.design.layout
        labels = unique_group_names([t.group for t in layout.terms])
        rows: list[tuple[str, str | None, str | None, float, float]] = []
        for label, term, theta in zip(
            labels, layout.terms, layout.split_theta(self.fit.theta), strict=True
        ):
            V = term.covariance(theta)
            sd = np.sqrt(np.diag(V))
            names = term.names()
            rows += [
                (label, name, None, float(V[i, i]), float(sd[i])) for i, name in enumerate(names)
            ]
            rows += [
                (label, names[i], names[j], float(V[i, j]), float(V[i, j] / (sd[i] * sd[j])))
                for i in range(len(names))
                for j in range(i + 1, len(names))
            ]
        return pd.DataFrame(rows, columns=["grp", "var1", "var2", "vcov", "sdcor"])

    @property
    def random_effects(self) -> dict[str, pd.DataFrame]:
        """Random effects by grouping factor: levels (coxme's order) x effect names."""
        layout = self.design.layout
        return {
            term.group: pd.DataFrame(
                self.fit.b[index].T, index=pd.Index(list(term.levels)), columns=list(term.names())
            )
            for term, index in zip(layout.terms, layout.index, strict=True)
        }

    def ranef(self, condVar: bool = False) -> dict[str, pd.DataFrame]:
        """coxme's ``ranef(fit)`` (see :attr:`random_effects`).

        Raises
        ------
        InterlaceError
            ``condVar=True``: coxme reports no conditional variances.
        """
        if condVar:
            raise InterlaceError(
                "coxme reports no conditional variances of the random effects",
                remedy="use condVar=False",
            )
        return self.random_effects

    @cached_property
    def _linear_predictor(self) -> FloatArray:
        return np.asarray(self.design.layout.Z @ self.fit.b + self.design.X @ self.fit.beta)

    @property
    def fittedvalues(self) -> pd.Series:
        """coxme's ``fit$linear.predictor``: ``X beta + Z b`` on the rows used (no offset)."""
        return pd.Series(self._linear_predictor, index=self.design.row_labels, name="lp")

    @property
    def is_singular(self) -> bool:
        """Whether a random-effect SD (a Cholesky pivot of a term's covariance) is below 1e-4."""
        layout = self.design.layout
        for term, theta in zip(layout.terms, layout.split_theta(self.fit.theta), strict=True):
            try:
                pivots = np.diag(np.linalg.cholesky(term.covariance(theta)))
            except np.linalg.LinAlgError:
                return True
            if np.any(pivots < SINGULAR_TOL):
                return True
        return False

    @property
    def converged(self) -> bool:
        """The outer BFGS converged (``optim``'s code 0) and so did the final Newton fit."""
        return self.fit.optimizer.convergence == 0 and self.fit.final_converged

    @property
    def optinfo(self) -> dict[str, Any]:
        """The optimiser's record: evaluations, final objective, convergence, messages."""
        opt = self.fit.optimizer
        messages = []
        if opt.convergence != 0:
            messages.append(f"optim (BFGS) convergence code {opt.convergence}")
        if not self.fit.final_converged:
            messages.append(f"the final Newton fit did not converge in {ITER_MAX} iterations")
        return {
            "optimizer": "BFGS",
            "fn_count": opt.fn_count,
            "gr_count": opt.gr_count,
            "convergence": opt.convergence,
            "objective": opt.fun,
            "theta": self.fit.theta.copy(),
            "iter": self.fit.iter,
            "messages": messages,
        }

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        type: PredictType = "lp",
        re_form: str | None = None,
        allow_new_levels: bool = False,
        times: ArrayLike | None = None,
    ) -> pd.Series | pd.DataFrame:
        """Linear predictor, risk or survival curves (:mod:`interlace.results.coxme_predict`)."""
        return coxme_predict.predict(
            self,
            newdata,
            type=type,
            re_form=re_form,
            allow_new_levels=allow_new_levels,
            times=times,
        )

    def residuals(self, type: ResidualType = "martingale") -> pd.Series | pd.DataFrame:
        """Martingale, deviance or score residuals (see :mod:`interlace.results.coxme_predict`)."""
        return coxme_predict.residuals(self, type)

    @property
    def resid(self) -> pd.Series:
        """Martingale residuals (the default of survival's ``residuals.coxph``)."""
        values = self.residuals("martingale")
        assert isinstance(values, pd.Series)
        return values

    def summary(self) -> CoxmeSummary:
        """A summary whose ``str()`` is laid out as coxme's ``print``."""
        return CoxmeSummary(self)

    @property
    def response(self) -> str:
        """The left side of the formula, ``Surv(...)``, as written."""
        return self.formula.split("~", 1)[0].strip()

    def anova(self, *others: CoxmeResult) -> pd.DataFrame:
        """Likelihood-ratio tests of nested coxme fits (coxme's ``anova(fit1, fit2, ...)``).

        Parameters
        ----------
        *others
            Further coxme fits, in the order of the comparison (each row is tested against
            the row before it).

        Returns
        -------
        pandas.DataFrame
            Index ``1..K``; columns ``loglik`` (integrated), ``Chisq``, ``Df`` and
            ``P(>|Chi|)`` (``NaN`` on the first row).

        Raises
        ------
        IncomparableModelsError
            When the fits differ in their number of rows or of events (coxme stops too).

        Warns
        -----
        InterlaceWarning
            A fit whose response differs from the first fit's is dropped, as coxme does.
        """
        if not others:
            raise InterlaceError(
                "anova() of one coxme fit is not available (coxme's single-fit table tests "
                "the fixed-effect terms one by one)",
                remedy="compare nested fits: fit1.anova(fit2)",
            )
        fits = [self, *others]
        for other in others:
            if not isinstance(other, CoxmeResult):
                raise InterlaceError(
                    f"anova() compares coxme fits; got {type(other).__name__}",
                    remedy="pass CoxmeResult objects",
                )
        kept = [f for f in fits if f.response == self.response]
        if len(kept) < len(fits):
            dropped = [f.response for f in fits if f.response != self.response]
            warnings.warn(
                f"models with response {', '.join(dropped)} removed because the response "
                f"differs from model 1 ({self.response})",
                InterlaceWarning,
                stacklevel=2,
            )
        if any(f.n[1] != self.n[1] for f in kept):
            raise IncomparableModelsError(
                "the models do not have the same size of dataset",
                remedy="fit every model to the same rows",
            )
        if any(f.n[0] != self.n[0] for f in kept):
            raise IncomparableModelsError(
                "the models do not have the same number of events",
                remedy="fit every model to the same rows",
            )
        loglik = np.array([f.llf for f in kept])
        df = np.array([float(f.df_integrated) for f in kept])
        chisq = np.r_[np.nan, np.abs(2 * np.diff(loglik))]
        ddf = np.r_[np.nan, np.abs(np.diff(df))]
        p = [math.nan] + [
            (1.0 if c <= 0 else 0.0) if d == 0 else chisq_p_value(float(c), float(d))
            for c, d in zip(chisq[1:], ddf[1:], strict=True)
        ]
        return pd.DataFrame(
            {"loglik": loglik, "Chisq": chisq, "Df": ddf, "P(>|Chi|)": p},
            index=pd.RangeIndex(1, len(kept) + 1),
        )


class CoxmeSummary:
    """coxme's ``print(fit)``, with its tables as DataFrames.

    Attributes
    ----------
    loglik : pandas.DataFrame
        NULL, Integrated and Fitted log-likelihoods.
    chisq : pandas.DataFrame
        coxme's likelihood-ratio table (``Chisq, df, p, AIC, BIC``), where "AIC" and "BIC" are
        on coxme's chi-square scale (``Chisq - 2 df``, ``Chisq - log(events) df``).
    coefficients : pandas.DataFrame
        ``coef, exp(coef), se(coef), z, p``.
    random : pandas.DataFrame
        :meth:`CoxmeResult.varcorr`.
    """

    def __init__(self, result: CoxmeResult) -> None:
        self.result = result
        self.loglik = pd.DataFrame(
            [[result.llf_null, result.llf, result.llf_fitted]],
            index=["Log-likelihood"],
            columns=["NULL", "Integrated", "Fitted"],
        )
        rows = []
        for chi, df in (
            (2 * (result.llf - result.llf_null), float(result.df_integrated)),
            (2 * (result.llf_fitted - result.llf_null), result.df_penalized),
        ):
            rows.append(
                [chi, df, chisq_p_value(chi, df), chi - 2 * df, chi - math.log(result.nobs) * df]
            )
        self.chisq = pd.DataFrame(
            rows,
            index=["Integrated loglik", " Penalized loglik"],
            columns=["Chisq", "df", "p", "AIC", "BIC"],
        )
        beta = result.fe_params
        self.coefficients = pd.DataFrame(
            {
                "coef": beta,
                "exp(coef)": np.exp(beta),
                "se(coef)": result.bse,
                "z": result.tvalues,
                "p": result.pvalues,
            }
        )
        self.random = result.varcorr()

    def _random_lines(self) -> list[str]:
        """coxme's random-effects table: group, variable, SD, variance, correlations."""
        layout = self.result.design.layout
        labels, variables, numbers = [], [], []
        for term, theta in zip(
            layout.terms, layout.split_theta(self.result.fit.theta), strict=True
        ):
            vc = term.varcorr(theta)
            for j, name in enumerate(term.names()):
                labels.append(term.group if j == 0 else "")
                variables.append(name)
                numbers.append([math.sqrt(vc[j, j]), vc[j, j], *vc[j, j + 1 :]])
        width = max(len(row) for row in numbers)
        flat = format_fixed([v for row in numbers for v in row])
        cells, k = [], 0
        for label, variable, row in zip(labels, variables, numbers, strict=True):
            texts = [s.strip() for s in flat[k : k + len(row)]]
            k += len(row)
            cells.append([label, variable, *texts, *[""] * (width - len(row))])
        header = ["Group", "Variable", "Std Dev", "Variance"]
        if width > 2:
            header += ["Corr", *[""] * (width - 3)]
        return print_matrix([""] * len(cells), header, cells, right=False)

    def __str__(self) -> str:
        result = self.result
        events, rows = result.n
        lines = ["Cox mixed-effects model fit by maximum likelihood"]
        if result.data_name:
            lines.append(f"  Data: {result.data_name}")
        lines += [
            f"  events, n = {events}, {rows}",
            f"  Iterations= {result.iterations[0]} {result.iterations[1]} ",
            self.loglik.to_string(float_format=lambda v: f"{v:.4f}"),
            "",
        ]
        chisq = self.chisq.copy()
        for column in ("Chisq", "df", "AIC", "BIC"):
            chisq[column] = chisq[column].round(2)
        chisq["p"] = [float(f"{p:.5g}") for p in chisq["p"]]
        lines += [chisq.to_string(), "", f"Model:  {result.formula}"]
        if len(self.coefficients):
            table = self.coefficients.copy()
            table["z"] = table["z"].round(2)
            table["p"] = [float(f"{p:.2g}") for p in table["p"]]
            lines += ["Fixed coefficients", table.to_string(float_format=lambda v: f"{v:.6g}")]
        lines += ["", "Random effects", *self._random_lines()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)
