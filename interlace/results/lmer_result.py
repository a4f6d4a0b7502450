"""The result of a linear mixed-model fit (lme4's ``lmerMod``), immutable.

:func:`assemble_lmer` builds it from the objective left at the optimum
(lme4's ``mkMerMod``); every derived quantity is computed on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.engine.gaussian import GaussianObjective, profiled_deviance
from interlace.engine.protocol import LmmDesign
from interlace.optim.boundary import is_singular, rectify
from interlace.optim.summary import OptSummary
from interlace.results import criteria
from interlace.results.tables import (
    coef_frames,
    conditional_covariances,
    ranef_frames,
    unique_group_names,
    varcorr_frame,
)

if TYPE_CHECKING:
    from interlace.results.summary import LmerSummary

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class LmerResult:
    """A fitted linear mixed model.

    Attributes
    ----------
    design : LmmDesign
        The model design the fit used.
    REML : bool
        REML (``True``) or maximum likelihood.
    theta : ndarray
        Relative covariance parameters (``getME(fit, "theta")``).
    beta : ndarray
        Fixed effects, in ``design.X_names`` order.
    u, b : tuple of ndarray
        Spherical and data-scale random effects, per term (levels x k).
    lambdas : tuple of ndarray
        ``k x k`` relative covariance factors per term.
    sigma : float
        Residual standard deviation (``sigma(fit)``).
    objective : float
        REML criterion or ML deviance at the optimum.
    ldL2, ldRX2, pwrss : float
        ``log|L_θ|²``, ``log|R_X|²`` and the penalised weighted RSS.
    unscaled_vcov : ndarray
        ``(R_X' R_X)^{-1}``.
    optinfo : OptSummary
        The optimiser's record, with the convergence checks.
    formula : str
        The model formula as given.
    data_name, weights_name, offset_name : str or None
        How the call named the data, weights and offset (printed by ``summary``).
    fit_messages : tuple of str
        Messages of the design checks (lme4's ``fitMsgs``, e.g. dropped columns).
    warnings : tuple of str
        Every warning and message of the design, the optimiser and the checks.
    """

    design: LmmDesign
    REML: bool
    theta: FloatArray
    beta: FloatArray
    u: tuple[FloatArray, ...]
    b: tuple[FloatArray, ...]
    lambdas: tuple[FloatArray, ...]
    sigma: float
    objective: float
    ldL2: float
    ldRX2: float
    pwrss: float
    unscaled_vcov: FloatArray
    optinfo: OptSummary
    formula: str = ""
    data_name: str | None = None
    weights_name: str | None = None
    offset_name: str | None = None
    fit_messages: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------ fixed effects
    @cached_property
    def fe_params(self) -> pd.Series:
        """Fixed effects with R's names (``fixef``)."""
        return pd.Series(self.beta, index=list(self.design.X_names), name="fe_params")

    def cov_params(self) -> pd.DataFrame:
        """Covariance matrix of the fixed effects (``vcov``)."""
        names = list(self.design.X_names)
        return pd.DataFrame(self.scale * self.unscaled_vcov, index=names, columns=names)

    @cached_property
    def bse(self) -> pd.Series:
        """Standard errors of the fixed effects."""
        se = self.sigma * np.sqrt(np.diag(self.unscaled_vcov))
        return pd.Series(se, index=self.fe_params.index, name="bse")

    @cached_property
    def tvalues(self) -> pd.Series:
        """Wald t statistics, ``fe_params / bse``."""
        return (self.fe_params / self.bse).rename("tvalues")

    # ----------------------------------------------------------------- scalars
    @property
    def scale(self) -> float:
        """Residual variance σ²."""
        return self.sigma**2

    @property
    def nobs(self) -> int:
        """Number of observations (``nobs``)."""
        return int(self.design.X.shape[0])

    @property
    def has_scale(self) -> bool:
        """Whether the model has a residual scale σ (lme4's ``useSc``): always for an LMM."""
        return True

    @property
    def df_model(self) -> int:
        """Number of estimated parameters (``attr(logLik(fit), "df")``): β, θ and σ if any."""
        return int(self.design.X.shape[1] + self.theta.size + int(self.has_scale))

    @property
    def llf(self) -> float:
        """Log-likelihood (``logLik``): the REML log-likelihood for REML fits."""
        return -0.5 * self.objective

    @property
    def aic(self) -> float:
        """``AIC(fit)``."""
        return criteria.aic(self.llf, self.df_model)

    @property
    def bic(self) -> float:
        """``BIC(fit)``."""
        return criteria.bic(self.llf, self.df_model, self.nobs)

    @property
    def REMLcrit(self) -> float | None:
        """REML criterion at the optimum (``REMLcrit``); ``None`` for ML fits."""
        return self.objective if self.REML else None

    @property
    def deviance(self) -> float:
        """``deviance(fit)``: the REML criterion for REML fits (lme4 1.1), else −2 logLik."""
        return self.objective

    def deviance_ml(self) -> float:
        """ML deviance at the estimates (``deviance(fit, REML = FALSE)``)."""
        ldw = 0.0 if self.design.weights is None else float(np.sum(np.log(self.design.weights)))
        return profiled_deviance(
            self.ldL2, self.ldRX2, self.pwrss, self.nobs, int(self.design.X.shape[1]), False, ldw
        )

    # ---------------------------------------------------------- random effects
    def varcorr(self) -> pd.DataFrame:
        """``as.data.frame(VarCorr(fit))``: ``grp, var1, var2, vcov, sdcor``.

        The residual row is last, and only there when the model has a scale.
        """
        frame = varcorr_frame(self.design.terms, self.lambdas, self.sigma)
        return frame if self.has_scale else frame.iloc[:-1].reset_index(drop=True)

    @cached_property
    def variance_components(self) -> dict[str, float | pd.DataFrame]:
        """Grouping factor → variance (scalar term) or covariance matrix; ``"Residual"`` → σ².

        ``"Residual"`` is there only when the model has a scale.
        """
        out: dict[str, float | pd.DataFrame] = {}
        labels = unique_group_names([t.group for t in self.design.terms])
        for label, term, lam in zip(labels, self.design.terms, self.lambdas, strict=True):
            cov = self.scale * (lam @ lam.T)
            names = list(term.names)
            out[label] = (
                float(cov[0, 0])
                if len(names) == 1
                else pd.DataFrame(cov, index=names, columns=names)
            )
        if self.has_scale:
            out["Residual"] = self.scale
        return out

    def ranef(self, condVar: bool = False) -> dict[str, pd.DataFrame]:
        """Conditional modes of the random effects per grouping factor (``ranef``).

        With ``condVar=True`` each frame's ``attrs["postVar"]`` holds, per
        random term on that factor, the conditional covariance matrices of its
        effects as a ``levels x k x k`` array (lme4's ``postVar`` attribute,
        which is a list when a factor has several terms).
        """
        frames = ranef_frames(self.design.terms, self.b)
        if condVar:
            for group, frame in frames.items():
                frame.attrs["postVar"] = [
                    pv
                    for term, pv in zip(self.design.terms, self.cond_var, strict=True)
                    if term.group == group
                ]
        return frames

    @cached_property
    def cond_var(self) -> tuple[FloatArray, ...]:
        """Per term, ``levels x k x k`` conditional covariances of ``b`` (``σ² Λ M^{-1} Λ'``).

        Recomputed from the design at the estimated θ on first use.
        """
        return conditional_covariances(self.lambdas, self._u_cov_blocks(), self.scale)

    def _u_cov_blocks(self) -> list[FloatArray]:
        """Per term, the blocks of ``M^{-1}``, ``M = Λ'Z'WZΛ + I`` at the estimates."""
        objective = GaussianObjective(self.design, REML=self.REML)
        objective(self.theta)
        return objective.predictor.u_cov_blocks()

    @property
    def random_effects(self) -> dict[str, pd.DataFrame]:
        """Same as :meth:`ranef`."""
        return self.ranef()

    def coef(self) -> dict[str, pd.DataFrame]:
        """Per-level coefficients: fixed plus random effects (``coef``)."""
        return coef_frames(self.ranef(), self.fe_params)

    # ---------------------------------------------------------- fitted values
    @cached_property
    def _linear_predictor(self) -> FloatArray:
        d = self.design
        eta = np.asarray(d.X, dtype=float) @ self.beta
        for term, bi in zip(d.terms, self.b, strict=True):
            eta = eta + np.sum(np.asarray(term.z, dtype=float) * bi[np.asarray(term.refs)], axis=1)
        if d.offset is not None:
            eta = eta + np.asarray(d.offset, dtype=float)
        return eta

    @property
    def fittedvalues(self) -> pd.Series:
        """Fitted values ``X β̂ + Z b̂ + offset`` (``fitted``)."""
        return pd.Series(self._linear_predictor, name="fittedvalues")

    @property
    def resid(self) -> pd.Series:
        """Response residuals ``y − fitted`` (``resid``)."""
        return pd.Series(
            np.asarray(self.design.y, dtype=float) - self._linear_predictor, name="resid"
        )

    @property
    def resid_pearson(self) -> pd.Series:
        """Pearson residuals ``(y − fitted) sqrt(w)`` (``residuals(fit, "pearson")``)."""
        w = self.design.weights
        r = self.resid.to_numpy() * (1.0 if w is None else np.sqrt(w))
        return pd.Series(r, name="resid_pearson")

    @overload
    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        re_form: str | None = None,
        allow_new_levels: bool = False,
        type: str = "link",
        se_fit: Literal[False] = False,
    ) -> pd.Series: ...

    @overload
    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        re_form: str | None = None,
        allow_new_levels: bool = False,
        type: str = "link",
        se_fit: Literal[True],
    ) -> pd.DataFrame: ...

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        re_form: str | None = None,
        allow_new_levels: bool = False,
        type: str = "link",
        se_fit: bool = False,
    ) -> pd.Series | pd.DataFrame:
        """Predictions as lme4's ``predict.merMod``; see :func:`interlace.results.predict.predict`.

        ``re_form=None`` includes every random effect, ``"NA"`` (or ``"~0"``)
        none, a formula such as ``"~ (1 | Subject)"`` those it names.
        """
        from interlace.results.predict import predict

        return predict(
            self,
            newdata,
            re_form=re_form,
            allow_new_levels=allow_new_levels,
            type=type,
            se_fit=se_fit,
        )

    def simulate(
        self,
        nsim: int = 1,
        seed: int | np.random.Generator | None = None,
        *,
        re_form: str | None = "NA",
    ) -> pd.DataFrame:
        """Responses simulated from the fit, as lme4's ``simulate.merMod``.

        See :func:`interlace.results.simulate.simulate`; the default
        ``re_form="NA"`` draws new random effects (R's default), ``None``
        conditions on all the fitted ones.
        """
        from interlace.results.simulate import simulate

        return simulate(self, nsim, seed, re_form=re_form)

    # ------------------------------------------------------------- diagnostics
    @property
    def is_singular(self) -> bool:
        """Boundary fit (``isSingular``, tolerance 1e-4)."""
        return is_singular(self.theta, np.asarray(self.design.lower, dtype=float))

    @property
    def converged(self) -> bool:
        """No optimiser failure and no failed convergence check (singular fits do converge)."""
        return self.optinfo.return_code == 0 and self.optinfo.conv.code == 0

    def summary(self) -> LmerSummary:
        """lme4-style summary; ``str()`` of it prints like ``summary(fit)``."""
        from interlace.results.summary import LmerSummary

        return LmerSummary(self)

    def coef_table(self, ddf: str = "satterthwaite") -> pd.DataFrame:
        """Fixed-effect table with denominator df, as ``summary()`` of lmerTest / pbkrtest.

        Parameters
        ----------
        ddf : {"satterthwaite", "kenward-roger", "none"}
            ``"none"`` gives lme4's three columns.

        Returns
        -------
        DataFrame
            Columns ``Estimate, Std. Error, df, t value, Pr(>|t|)``.
        """
        from interlace.inference import coef_table

        return coef_table(self, ddf=ddf)

    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the t statistics with Satterthwaite df (lmerTest's default)."""
        return self.coef_table("satterthwaite")["Pr(>|t|)"].rename("pvalues")

    def anova(
        self,
        *others: LmerResult,
        type: int | str = 3,
        ddf: str = "satterthwaite",
        refit: bool = True,
    ) -> pd.DataFrame:
        """F tests of the fixed-effect terms, or likelihood-ratio tests against other fits.

        With no other fits: lmerTest's ``anova(fit, type, ddf)`` table (columns
        ``Sum Sq, Mean Sq, NumDF, DenDF, F value, Pr(>F)``).  With others:
        lme4's ``anova(m1, m2, ...)``, refitting REML fits by ML when ``refit``.
        """
        from interlace.inference import anova_table, lrt

        if others:
            return lrt(self, *others, refit=refit)
        return anova_table(self, type=type, ddf=ddf)

    def confint(
        self,
        method: str = "Wald",
        level: float = 0.95,
        *,
        nsim: int = 500,
        seed: int | None = None,
        n_jobs: int = 1,
    ) -> pd.DataFrame:
        """Confidence intervals as lme4's ``confint(fit, method = ...)``.

        Parameters
        ----------
        method : {"Wald", "profile", "boot"}
        level : float
        nsim, seed, n_jobs
            Parametric bootstrap settings (``method="boot"``).
        """
        from interlace.inference import confint

        return confint(self, method=method, level=level, nsim=nsim, seed=seed, n_jobs=n_jobs)


def assemble_lmer(
    design: LmmDesign,
    objective: GaussianObjective,
    optinfo: OptSummary,
    *,
    formula: str = "",
    data_name: str | None = None,
    weights_name: str | None = None,
    offset_name: str | None = None,
    fit_messages: tuple[str, ...] = (),
) -> LmerResult:
    """Build the result from an objective evaluated at ``optinfo.final`` (lme4's ``mkMerMod``).

    θ is rectified first (columns of λ with a negative diagonal flipped, which
    leaves the covariance and the objective unchanged).
    """
    theta = rectify(
        np.asarray(optinfo.final, dtype=float), [(t.cov, t.theta_slice) for t in design.terms]
    )
    pr = objective.predictor
    fmin = objective.value() if np.array_equal(pr.theta, theta) else objective(theta)
    beta, u = pr.solve()
    b = pr.b(u)
    return LmerResult(
        design=design,
        REML=objective.REML,
        theta=theta,
        beta=beta,
        u=tuple(u),
        b=tuple(b),
        lambdas=tuple(pr.lams),
        sigma=objective.sigma(),
        objective=fmin,
        ldL2=pr.ldL2,
        ldRX2=pr.ldRX2,
        pwrss=pr.pwrss,
        unscaled_vcov=pr.unscaled_vcov(),
        optinfo=optinfo,
        formula=formula,
        data_name=data_name,
        weights_name=weights_name,
        offset_name=offset_name,
        fit_messages=fit_messages,
        warnings=fit_messages + optinfo.warnings + optinfo.conv.messages,
    )
