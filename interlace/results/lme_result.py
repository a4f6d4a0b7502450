"""The result of an ``nlme::lme`` fit (:func:`interlace.lme`), immutable.

It wraps an :class:`~interlace.results.lmer_result.LmerResult` on the
original (unwhitened) design holding the estimates — θ, β̂, the conditional
modes ``b̂``, σ̂ and ``(X̃'Ṽ^{-1}X̃)^{-1}`` from the pre-whitened fit, and the
objective ``−2 ℓ`` including ``log|G R G|`` (``G`` the variance function's
factors, ``I`` without one; with one the design carries the weights ``1/g_i²``)
— and presents them the nlme way:
grouping levels outer to inner named by their innermost variable, nested
levels labelled ``outer/inner``, nlme's containment DF for the t tests, and
nlme's BIC (``n − p`` observations for REML fits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from interlace.correlation import CorStruct
from interlace.optim.summary import OptSummary
from interlace.results import criteria
from interlace.results.lmer_result import LmerResult
from interlace.results.tables import VARCORR_COLUMNS, VarCorrRow, covariance_rows
from interlace.varfunc import BoundVarFunc

if TYPE_CHECKING:
    from interlace.engine.residual_correlation import GroupLayout
    from interlace.results.lme_summary import LmeSummary


@dataclass(frozen=True)
class LmeLevel:
    """One grouping level of an lme fit.

    Attributes
    ----------
    name : str
        nlme's name of the level (its innermost grouping variable).
    groups : tuple of str
        Grouping variables, outer to this one.
    formula : str
        The level's random-effects formula (``"~ age"``).
    kind : str
        ``"pdSymm"`` or ``"pdDiag"``.
    terms : tuple of int
        Indices of the level's lme4 terms (one; two or more for ``pdDiag``).
    """

    name: str
    groups: tuple[str, ...]
    formula: str
    kind: str
    terms: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class LmeResult:
    """A fitted ``lme`` model.

    Attributes
    ----------
    fit : LmerResult
        The estimates on the original design (see the module doc).
    levels : tuple of LmeLevel
        Grouping levels, outer to inner.
    fixed_df : Series
        nlme's denominator DF per coefficient (``fit$fixDF$X``).
    correlation : CorStruct or None
    phi : float or None
        The estimated correlation parameter.
    correlation_groups : tuple of str
        Grouping variables of the correlation structure.
    correlation_layout : GroupLayout or None
        The rows' correlation groups and times (``form``'s covariate), as fitted.
    varfunc : BoundVarFunc or None
        The variance function (``weights=``) on the fitted rows.
    varfunc_delta : ndarray or None
        Its estimated unconstrained parameters δ.
    fixed : str
        The call's ``fixed`` formula.
    data_name : str or None
    """

    fit: LmerResult
    levels: tuple[LmeLevel, ...]
    fixed_df: pd.Series
    correlation: CorStruct | None = None
    phi: float | None = None
    correlation_groups: tuple[str, ...] = ()
    correlation_layout: GroupLayout | None = None
    varfunc: BoundVarFunc | None = None
    varfunc_delta: np.ndarray | None = None
    fixed: str = ""
    data_name: str | None = None

    # ------------------------------------------------------------ fixed effects
    @property
    def fe_params(self) -> pd.Series:
        """Fixed effects (``fixef``)."""
        return self.fit.fe_params

    @property
    def bse(self) -> pd.Series:
        """Standard errors (``sqrt(diag(vcov(fit)))``)."""
        return self.fit.bse

    @property
    def ml_variance_factor(self) -> float:
        """nlme's ``adjustSigma`` factor of the fixed effects' covariance: ``n/(n − p)`` for ML
        fits, 1 for REML fits (used by the summary's t tests and ``anova``)."""
        if self.fit.REML:
            return 1.0
        n, p = self.nobs, len(self.fe_params)
        return n / (n - p)

    @cached_property
    def _table_se(self) -> pd.Series:
        """The summary's standard errors: ``bse`` times ``sqrt(ml_variance_factor)``.

        nlme's ``summary.lme(adjustSigma = TRUE)`` inflates ML standard errors so.
        """
        return self.bse * math.sqrt(self.ml_variance_factor)

    @cached_property
    def tvalues(self) -> pd.Series:
        """t statistics of nlme's summary: ``fe_params`` over its (ML-adjusted) standard errors."""
        return (self.fe_params / self._table_se).rename("tvalues")

    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the t statistics with nlme's DF (``NaN`` where DF is 0)."""
        from scipy import stats

        df = self.fixed_df.to_numpy(dtype=float)
        t = np.abs(self.tvalues.to_numpy())
        with np.errstate(invalid="ignore"):
            p = np.where(df > 0, 2.0 * stats.t.sf(t, np.where(df > 0, df, 1.0)), np.nan)
        return pd.Series(p, index=self.fe_params.index, name="pvalues")

    def coef_table(self) -> pd.DataFrame:
        """nlme's ``summary(fit)$tTable``: ``Value, Std.Error, DF, t-value, p-value``.

        For ML fits the standard errors are nlme's adjusted ones (see :attr:`tvalues`).
        """
        return pd.DataFrame(
            {
                "Value": self.fe_params,
                "Std.Error": self._table_se,
                "DF": self.fixed_df,
                "t-value": self.tvalues,
                "p-value": self.pvalues,
            }
        )

    def cov_params(self) -> pd.DataFrame:
        """Covariance of the fixed effects (``vcov``)."""
        return self.fit.cov_params()

    # ----------------------------------------------------------------- scalars
    @property
    def method(self) -> str:
        """``"REML"`` or ``"ML"``."""
        return "REML" if self.fit.REML else "ML"

    @property
    def sigma(self) -> float:
        """Residual standard deviation (``fit$sigma``)."""
        return self.fit.sigma

    @property
    def scale(self) -> float:
        """σ²."""
        return self.fit.scale

    @property
    def theta(self) -> np.ndarray:
        """Relative covariance parameters in lme4's term order."""
        return self.fit.theta

    @property
    def nobs(self) -> int:
        """Number of observations."""
        return self.fit.nobs

    @property
    def df_model(self) -> int:
        """``attr(logLik(fit), "df")``: β, the covariance parameters, σ, φ and δ."""
        n_delta = 0 if self.varfunc_delta is None else self.varfunc_delta.size
        return self.fit.df_model + (0 if self.phi is None else 1) + n_delta

    @property
    def llf(self) -> float:
        """``logLik(fit)`` (REML or ML)."""
        return self.fit.llf

    @property
    def deviance(self) -> float:
        """−2 logLik."""
        return -2.0 * self.llf

    @property
    def aic(self) -> float:
        """``AIC(fit)``."""
        return criteria.aic(self.llf, self.df_model)

    @property
    def bic(self) -> float:
        """``BIC(fit)``: nlme counts ``n − p`` observations for REML fits."""
        n = self.nobs - (len(self.fe_params) if self.fit.REML else 0)
        return criteria.bic(self.llf, self.df_model, n)

    @property
    def correlation_params(self) -> pd.Series:
        """``coef(fit$modelStruct$corStruct, unconstrained = FALSE)`` (empty without one)."""
        if self.correlation is None or self.phi is None:
            return pd.Series([], dtype=float, name="correlation_params")
        return pd.Series(
            [self.phi], index=[self.correlation.parameter_name], name="correlation_params"
        )

    @property
    def varfunc_params(self) -> pd.Series:
        """``coef(fit$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)``: the
        standard-deviation ratios of ``varIdent`` (reference stratum 1), the power of
        ``varPower`` or the exponent of ``varExp``; empty without a variance function."""
        if self.varfunc is None or self.varfunc_delta is None:
            return pd.Series([], dtype=float, name="varfunc_params")
        return self.varfunc.natural(self.varfunc_delta)

    # ---------------------------------------------------------- random effects
    def level_covariance(self, level: LmeLevel) -> tuple[list[str], np.ndarray]:
        """Names and covariance matrix of one level's random effects (its terms combined)."""
        names: list[str] = []
        blocks = []
        for i in level.terms:
            term, lam = self.fit.design.terms[i], self.fit.lambdas[i]
            names += list(term.names)
            blocks.append(self.scale * (lam @ lam.T))
        k = len(names)
        cov = np.zeros((k, k))
        start = 0
        for block in blocks:
            m = block.shape[0]
            cov[start : start + m, start : start + m] = block
            start += m
        return names, cov

    def varcorr(self) -> pd.DataFrame:
        """``grp, var1, var2, vcov, sdcor`` per level (outer to inner), then the residual.

        ``sdcor`` holds standard deviations on variance rows and correlations
        on covariance rows (``pdDiag`` levels have no covariance rows).
        """
        rows: list[VarCorrRow] = []
        for level in self.levels:
            names, cov = self.level_covariance(level)
            rows += covariance_rows(level.name, names, cov, covariances=level.kind == "pdSymm")
        rows.append(("Residual", None, None, self.scale, self.sigma))
        return pd.DataFrame(rows, columns=VARCORR_COLUMNS)

    @cached_property
    def variance_components(self) -> dict[str, float | pd.DataFrame]:
        """Level → variance (one effect) or covariance matrix; ``"Residual"`` → σ²."""
        out: dict[str, float | pd.DataFrame] = {}
        for level in self.levels:
            names, cov = self.level_covariance(level)
            out[level.name] = (
                float(cov[0, 0])
                if len(names) == 1
                else pd.DataFrame(cov, index=names, columns=names)
            )
        out["Residual"] = self.scale
        return out

    def ranef(self) -> dict[str, pd.DataFrame]:
        """``ranef(fit)`` per level, outer to inner; nested levels labelled ``outer/inner``."""
        out: dict[str, pd.DataFrame] = {}
        for level in self.levels:
            frames = []
            for i in level.terms:
                term = self.fit.design.terms[i]
                labels = [str(v).replace(":", "/") for v in term.levels]
                frames.append(
                    pd.DataFrame(self.fit.b[i], index=pd.Index(labels), columns=list(term.names))
                )
            out[level.name] = pd.concat(frames, axis=1) if len(frames) > 1 else frames[0]
        return out

    @property
    def random_effects(self) -> dict[str, pd.DataFrame]:
        """Same as :meth:`ranef`."""
        return self.ranef()

    def coef(self) -> dict[str, pd.DataFrame]:
        """``coef(fit, level = j)`` for every level: fixed effects plus the random effects
        of that level and the levels outside it."""
        ranef = self.ranef()
        fe = self.fe_params
        out: dict[str, pd.DataFrame] = {}
        for depth, level in enumerate(self.levels):
            labels = list(ranef[level.name].index)
            frame = pd.DataFrame(
                np.tile(fe.to_numpy(), (len(labels), 1)),
                index=pd.Index(labels),
                columns=fe.index,
            )
            for outer in self.levels[: depth + 1]:
                re = ranef[outer.name]
                keys = ["/".join(lab.split("/")[: len(outer.groups)]) for lab in labels]
                for name in re.columns:
                    if name in frame.columns:
                        frame[name] = frame[name] + re[name].reindex(keys).to_numpy()
            out[level.name] = frame
        return out

    # ---------------------------------------------------------- fitted values
    @property
    def fittedvalues(self) -> pd.Series:
        """Fitted values at the innermost level, ``X β̂ + Z b̂`` (nlme's ``fitted``)."""
        return self.fit.fittedvalues

    @property
    def resid(self) -> pd.Series:
        """Residuals at the innermost level, ``y − fitted`` (nlme's ``residuals``)."""
        return self.fit.resid

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        re_form: str | None = None,
        allow_new_levels: bool = False,
        type: str = "link",
    ) -> pd.Series:
        """Predictions from the fixed and random effects (``predict.merMod`` semantics).

        ``re_form`` names random terms in lme4's spelling of the fit's
        grouping factors (``"~ (1 | Subject)"``, ``"NA"`` for none).  The
        residual correlation does not enter the predictions (nlme's
        ``predict.lme`` does not use it either).
        """
        return self.fit.predict(
            newdata, re_form=re_form, allow_new_levels=allow_new_levels, type=type
        )

    # ------------------------------------------------------------- diagnostics
    @property
    def is_singular(self) -> bool:
        """A variance parameter on its boundary (lme4's ``isSingular`` rule on θ)."""
        return self.fit.is_singular

    @property
    def converged(self) -> bool:
        """The optimiser succeeded and the convergence checks passed."""
        return self.optinfo.return_code == 0 and self.optinfo.conv.code == 0

    @property
    def optinfo(self) -> OptSummary:
        """The optimiser record; ``final`` is ``[θ, x]`` with ``x`` φ's unconstrained value,
        ``[θ, δ]`` with a variance function, or ``[θ, x, δ]`` with both."""
        return self.fit.optinfo

    @property
    def warnings(self) -> tuple[str, ...]:
        """Warnings of the design, the optimiser and the checks."""
        return self.fit.warnings

    @property
    def n_groups(self) -> dict[str, int]:
        """Number of groups per level, outer to inner (``fit$dims$ngrps``)."""
        return {
            level.name: len(self.fit.design.terms[level.terms[0]].levels) for level in self.levels
        }

    def anova(
        self,
        *others: LmeResult,
        type: str = "sequential",
        adjust_sigma: bool = True,
        names: Sequence[str] | None = None,
        test: bool = True,
    ) -> pd.DataFrame:
        """nlme's ``anova``: F tests of the fixed-effect terms, or a comparison with other fits.

        Parameters
        ----------
        *others : LmeResult
            Further fits to compare with this one (``anova(fit1, fit2, ...)``).
        type : {"sequential", "marginal"}
            With no other fits: each term after the terms before it (type I)
            or after all the others.
        adjust_sigma : bool
            With no other fits: inflate ML fits' covariance by ``n / (n − p)``
            (nlme's ``adjustSigma``).
        names : sequence of str, optional
            With other fits: row names, this fit's first (default ``"model1"``,
            ``"model2"``, …; nlme uses the argument expressions).
        test : bool
            With other fits: add the likelihood-ratio tests.

        Returns
        -------
        DataFrame
            One fit: indexed by term label, columns ``numDF, denDF, F-value,
            p-value``.  Several: one row per fit in the order given, columns
            ``Model, df, AIC, BIC, logLik, Test, L.Ratio, p-value``.  See
            :mod:`interlace.results.lme_anova`.

        Raises
        ------
        AnovaTypeError
            An unknown ``type``.
        IncomparableModelsError
            Other fits that are not lme fits, use another estimation method or
            other data.

        Warns
        -----
        RemlComparisonWarning
            REML fits with different fixed effects (nlme warns and compares).
        """
        from interlace.results.lme_anova import compare, f_tests

        if others:
            return compare([self, *others], names=names, test=test)
        return f_tests(self, type=type, adjust_sigma=adjust_sigma)

    def intervals(self, level: float = 0.95, which: str = "all") -> dict[str, pd.DataFrame]:
        """nlme's ``intervals(fit, level, which)``: approximate confidence intervals.

        Parameters
        ----------
        level : float
            Confidence level.
        which : {"all", "fixed", "var-cov"}
            The fixed effects, the variance parameters, or both.

        Returns
        -------
        dict of DataFrame
            Columns ``lower, est., upper`` as nlme prints them.  ``"fixed"``:
            ``β̂ ± t · se`` with nlme's DF, by coefficient.  ``"reStruct"``: the
            random effects' ``sd(x)`` and ``cor(x,y)``, indexed by (level,
            parameter), levels outer to inner (``ci["reStruct"].loc["Subject"]``).
            ``"corStruct"``: the correlation parameter (``Phi``/``Rho``), when the
            fit has one.  ``"varStruct"``: the variance function's parameters
            (varIdent's SD ratios by stratum, ``power``, ``expon``), when the fit has
            one.  ``"sigma"``: the residual standard deviation.  The
            variance parameters' intervals are Wald intervals on nlme's
            unconstrained scale from ``apVar``; see
            :mod:`interlace.results.lme_intervals`.

        Raises
        ------
        IdentifiabilityError
            nlme's "Non-positive definite approximate variance-covariance" (or a
            variance parameter on its boundary) with ``which`` other than ``"fixed"``.
        ValueError
            An unknown ``which`` or a ``level`` outside (0, 1).
        """
        from interlace.results.lme_intervals import intervals

        return intervals(self, level=level, which=which)

    def summary(self) -> LmeSummary:
        """nlme-style summary; ``str()`` of it prints like ``print(summary(fit))``."""
        from interlace.results.lme_summary import LmeSummary

        return LmeSummary(self)
