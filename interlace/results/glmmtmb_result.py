"""The result of a glmmTMB fit (``glmmTMB`` object), immutable.

glmmTMB's conventions, which differ from lme4's:

* ``llf`` is ``−fit$objective``, the Laplace approximation with all constants; ``df``
  counts every estimated parameter (``β``, ``β_zi``, ``β_d``, ``θ``; with REML ``β`` too);
  ``deviance`` is ``−2 llf`` (what the summary prints) and ``df_resid`` is ``n`` minus
  the number of outer parameters (so ``β`` is not subtracted under REML);
* ``cov_params()`` is the conditional block of the inverse Hessian of ``−log L`` in all
  outer parameters (``vcov(fit)$cond``); ``cov_params("zi")``, ``cov_params("disp")``
  the other blocks.  Under REML ``β`` is integrated out, and its covariance is
  ``(H⁻¹)_ββ + J V J'``, ``H`` the inner Hessian in ``(u, β)``, ``J = ∂β̂/∂ω`` and ``V``
  the inverse outer Hessian (TMB's ``sdreport`` for random effects);
* ``sigma`` is ``sigma(fit)``: the residual SD for gaussian, the NB size θ for nbinom2,
  ``φ`` for nbinom1, 1 for families without dispersion, NaN when the dispersion model
  has covariates;
* ``varcorr()`` has lme4's layout (``grp, var1, var2, vcov, sdcor``), the conditional
  model's terms and a ``Residual`` row for the gaussian family only;
* ``fittedvalues`` are ``μ (1 − p_zi)`` (``fitted(fit)``; ``μ/(1 − P₀)`` replaces ``μ``
  for zero-truncated families), ``resid`` the response
  residuals ``y − fitted`` (``residuals(fit)``; proportions for a binomial ``cbind``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special

from interlace.design.frame import ModelFrame
from interlace.design.lformula import LmerDesign
from interlace.design.newdata import new_design
from interlace.design.random import RandomEffects
from interlace.engine.protocol import RandomTermDesign
from interlace.engine.tmb_laplace import ParameterLayout, TmbData, TmbLaplace
from interlace.engine.tmb_optimize import TmbOptimum
from interlace.engine.tmb_sdreport import inner_covariance
from interlace.errors import IncomparableModelsError, InterlaceError, UnsupportedFeatureError
from interlace.ir.terms import GLMMTMB, FormulaIR
from interlace.optim.summary import OptSummary
from interlace.results.predict import (
    design_for,
    is_population,
    random_part,
    select_random_terms,
)
from interlace.results.tables import (
    coef_frames,
    ranef_frames,
    unique_group_names,
    varcorr_frame,
)
from interlace.results.wald import normal_p_values

if TYPE_CHECKING:
    from interlace.results.glmmtmb_summary import GlmmTMBSummary
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]

#: A standard deviation below this (relative to 1) marks a boundary (singular) fit.
SINGULAR_TOL = 1e-4


@dataclass(frozen=True, eq=False)
class SubModel:
    """A zero-inflation or dispersion model: formula, frame, matrix names, random effects."""

    formula: FormulaIR
    frame: ModelFrame | None
    X_names: tuple[str, ...]
    random: RandomEffects | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class GlmmTMBResult:
    """A fitted glmmTMB model.

    Attributes
    ----------
    design : LmerDesign
        The conditional model's design (glmmTMB dialect: no term reordering).
    data : TmbData
        The numerical model (response, all model matrices, family).
    zi, disp : SubModel
        The zero-inflation and dispersion models.
    optimum : TmbOptimum
        Outer parameters, Hessian and inner modes at the optimum.
    beta_vcov : ndarray or None
        Covariance of ``β`` under REML (``None`` for ML: a block of the inverse Hessian).
    formula, ziformula, dispformula : str
        As given.
    data_name : str or None
        Name of the data for the printout.
    warnings : tuple of str
    """

    design: LmerDesign
    data: TmbData
    zi: SubModel
    disp: SubModel
    optimum: TmbOptimum
    beta_vcov: FloatArray | None = None
    formula: str = ""
    ziformula: str = "~0"
    dispformula: str = "~1"
    data_name: str | None = None
    weights_name: str | None = None
    offset_name: str | None = None
    warnings: tuple[str, ...] = field(default=())

    # ---------------------------------------------------------------- layout
    @property
    def layout(self) -> ParameterLayout:
        """Slices of the outer parameter vector."""
        return ParameterLayout.of(self.data)

    @property
    def par(self) -> pd.Series:
        """The outer parameters with glmmTMB's names (``fit$fit$par``)."""
        return pd.Series(self.optimum.par, index=self.layout.names(), name="par")

    @property
    def REML(self) -> bool:
        """Whether ``β`` was integrated out."""
        return self.data.REML

    @property
    def family(self) -> str:
        """glmmTMB's family name."""
        return self.data.family.family

    @property
    def link(self) -> str:
        """The link's R name."""
        return self.data.family.link.name

    @property
    def optinfo(self) -> OptSummary:
        """The optimiser's record."""
        return self.optimum.optinfo

    @property
    def converged(self) -> bool:
        """Small gradient, positive definite Hessian, converged inner problem."""
        return self.optimum.converged

    # ---------------------------------------------------------- coefficients
    @property
    def beta(self) -> FloatArray:
        """Conditional-model fixed effects."""
        return self.optimum.fit.beta

    @property
    def fe_params(self) -> pd.Series:
        """``fixef(fit)$cond``."""
        return pd.Series(self.beta, index=list(self.design.X_names), name="fe_params")

    @property
    def zi_params(self) -> pd.Series:
        """``fixef(fit)$zi`` (empty without zero inflation)."""
        values = self.optimum.par[self.layout.betazi]
        return pd.Series(values, index=list(self.zi.X_names), name="zi_params", dtype=float)

    @property
    def disp_params(self) -> pd.Series:
        """``fixef(fit)$disp`` (empty for families without a dispersion)."""
        values = self.optimum.par[self.layout.betad]
        return pd.Series(values, index=list(self.disp.X_names), name="disp_params", dtype=float)

    @property
    def theta(self) -> FloatArray:
        """glmmTMB's covariance parameters (``getME(fit, "theta")``: log SDs, correlations)."""
        return np.asarray(self.optimum.par[self.layout.theta], dtype=float)

    @property
    def theta_zi(self) -> FloatArray:
        """The zero-inflation model's covariance parameters (``thetazi``)."""
        return np.asarray(self.optimum.par[self.layout.thetazi], dtype=float)

    @cached_property
    def _outer_vcov(self) -> FloatArray:
        """Inverse of the Hessian of ``−log L`` in the outer parameters."""
        hess = self.optimum.hessian
        try:
            return np.asarray(np.linalg.inv(hess), dtype=float)
        except np.linalg.LinAlgError:
            return np.full(hess.shape, np.nan)

    def cov_params(self, component: str = "cond") -> pd.DataFrame:
        """``vcov(fit)[[component]]``: ``"cond"`` (default), ``"zi"`` or ``"disp"``.

        Labels as glmmTMB's: ``zi~`` and ``d~`` prefixes for the zero-inflation and
        dispersion blocks.  Unlike glmmTMB, the dispersion block is also given when the
        dispersion model is ``~1``.

        Raises
        ------
        InterlaceError
            An unknown component.
        """
        blocks = {"cond": self.layout.beta, "zi": self.layout.betazi, "disp": self.layout.betad}
        names = {  # glmmTMB's dimnames
            "cond": list(self.design.X_names),
            "zi": [f"zi~{name}" for name in self.zi.X_names],
            "disp": [f"d~{name}" for name in self.disp.X_names],
        }
        if component not in blocks:
            raise InterlaceError(f"component must be 'cond', 'zi' or 'disp', not {component!r}")
        if component == "cond" and self.beta_vcov is not None:
            v = self.beta_vcov
        else:
            s = blocks[component]
            v = self._outer_vcov[s, s]
        return pd.DataFrame(v, index=names[component], columns=names[component])

    def _wald(self, component: str) -> pd.DataFrame:
        """Estimate, SE, z and p of one component (glmmTMB's coefficient table)."""
        est = {"cond": self.fe_params, "zi": self.zi_params, "disp": self.disp_params}[component]
        se = np.sqrt(np.diag(self.cov_params(component).to_numpy()))
        z = est.to_numpy() / se
        return pd.DataFrame(
            {"Estimate": est.to_numpy(), "Std. Error": se, "z value": z},
            index=est.index,
        ).assign(**{"Pr(>|z|)": normal_p_values(z)})

    def coef_table(self, component: str = "cond") -> pd.DataFrame:
        """``summary(fit)$coefficients[[component]]``: Wald z tests."""
        return self._wald(component)

    @property
    def bse(self) -> pd.Series:
        """Standard errors of ``fe_params``."""
        return self._wald("cond")["Std. Error"].rename("bse")

    @property
    def tvalues(self) -> pd.Series:
        """Wald z statistics of ``fe_params``."""
        return self._wald("cond")["z value"].rename("tvalues")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided normal p-values of ``fe_params``."""
        return self._wald("cond")["Pr(>|z|)"].rename("pvalues")

    # ------------------------------------------------------------ likelihood
    @property
    def llf(self) -> float:
        """``logLik(fit)``."""
        return -self.optimum.nll

    @property
    def df_model(self) -> int:
        """``attr(logLik(fit), "df")``: all estimated parameters (``β`` included under REML)."""
        return self.layout.size + (self.data.X.shape[1] if self.REML else 0)

    @property
    def df(self) -> int:
        """Alias of :attr:`df_model`."""
        return self.df_model

    @property
    def nobs(self) -> int:
        """``nobs(fit)``."""
        return self.data.n

    @property
    def df_resid(self) -> int:
        """``df.residual(fit)``: ``n`` minus the number of outer parameters."""
        return self.nobs - self.layout.size

    @property
    def aic(self) -> float:
        """``AIC(fit)``."""
        return -2.0 * self.llf + 2.0 * self.df_model

    @property
    def bic(self) -> float:
        """``BIC(fit)``."""
        return -2.0 * self.llf + math.log(self.nobs) * self.df_model

    @property
    def deviance(self) -> float:
        """``−2 logLik`` (the ``deviance`` column of glmmTMB's summary)."""
        return -2.0 * self.llf

    # ------------------------------------------------------------ dispersion
    @property
    def sigma(self) -> float:
        """``sigma(fit)`` (see the module notes)."""
        fam = self.data.family
        if not fam.has_dispersion:
            return 1.0
        if len(self.disp.X_names) != 1 or self.disp.X_names[0] != "(Intercept)":
            return math.nan
        return fam.sigma_of_phi(float(np.exp(self.disp_params.iloc[0])))

    @property
    def scale(self) -> float:
        """``sigma²``."""
        return self.sigma**2

    # -------------------------------------------------------- random effects
    @property
    def lambdas(self) -> list[FloatArray]:
        """``λ`` per term (``λ λ'`` is the term's covariance)."""
        return self.optimum.fit.lams

    def _component(self, component: str) -> tuple[Sequence[RandomTermDesign], list[FloatArray]]:
        """The random terms and their ``λ`` of ``"cond"`` or ``"zi"``.

        Raises
        ------
        InterlaceError
            Another component name.
        """
        fit = self.optimum.fit
        if component == "cond":
            return self.design.terms, fit.lams
        if component == "zi":
            return self.data.terms_zi, fit.lams_zi
        raise InterlaceError(f"component must be 'cond' or 'zi', not {component!r}")

    @cached_property
    def _modes(self) -> dict[str, list[FloatArray]]:
        """Conditional modes ``b = λ u`` per term (levels x k), per component."""
        fit = self.optimum.fit
        out: dict[str, list[FloatArray]] = {}
        for component, u_all in (("cond", fit.u), ("zi", fit.u_zi)):
            terms, lams = self._component(component)
            modes, start = [], 0
            for term, lam in zip(terms, lams, strict=True):
                size = len(term.levels) * len(term.names)
                modes.append(u_all[start : start + size].reshape(len(term.levels), -1) @ lam.T)
                start += size
            out[component] = modes
        return out

    @property
    def b(self) -> list[FloatArray]:
        """Conditional modes ``b = λ u`` of the conditional model per term (levels x k)."""
        return self._modes["cond"]

    def varcorr(self, component: str = "cond") -> pd.DataFrame:
        """``VarCorr(fit)[[component]]`` in lme4's layout (``grp, var1, var2, vcov, sdcor``).

        The conditional model of the gaussian family ends with a ``Residual`` row.
        """
        terms, lams = self._component(component)
        frame = varcorr_frame(terms, lams, 1.0).iloc[:-1]
        if self.family == "gaussian" and component == "cond":
            sigma = self.sigma
            residual = pd.DataFrame(
                [("Residual", None, None, sigma**2, sigma)], columns=frame.columns
            )
            frame = pd.concat([frame, residual], ignore_index=True)
        return frame.reset_index(drop=True)

    @property
    def variance_components(self) -> dict[str, Any]:
        """Grouping factor → variance (one effect) or covariance DataFrame; ``Residual`` → σ²."""
        out: dict[str, Any] = {}
        labels = unique_group_names([t.group for t in self.design.terms])
        for label, term, lam in zip(labels, self.design.terms, self.lambdas, strict=True):
            cov = lam @ lam.T
            names = list(term.names)
            out[label] = float(cov[0, 0]) if len(names) == 1 else pd.DataFrame(cov, names, names)
        if self.family == "gaussian":
            out["Residual"] = self.scale
        return out

    @property
    def is_singular(self) -> bool:
        """Whether a random-effect standard deviation is (nearly) zero."""
        sds = [np.sqrt(np.diag(lam @ lam.T)) for lam in self.lambdas]
        return bool(any(np.any(sd < SINGULAR_TOL) for sd in sds))

    def ranef(self, condVar: bool = False, component: str = "cond") -> dict[str, pd.DataFrame]:
        """``ranef(fit)[[component]]``: per grouping factor, levels x effects.

        With ``condVar=True`` each frame's ``attrs["condVar"]`` holds, per random term on
        that factor, a ``levels x k x k`` array with the conditional variances on the
        diagonal and NaN elsewhere (glmmTMB's ``condVar`` attribute: squared standard
        errors from ``sdreport``, see :mod:`interlace.engine.tmb_sdreport`).
        """
        terms, _ = self._component(component)
        frames = ranef_frames(terms, self._modes[component])
        if condVar:
            for group, frame in frames.items():
                frame.attrs["condVar"] = [
                    cv
                    for term, cv in zip(terms, self.cond_var[component], strict=True)
                    if term.group == group
                ]
        return frames

    @cached_property
    def cond_var(self) -> dict[str, tuple[FloatArray, ...]]:
        """Per component and term, ``levels x k x k`` conditional variances (NaN off-diagonal)."""
        variances = np.diag(inner_covariance(TmbLaplace(self.data), self.optimum))
        out: dict[str, tuple[FloatArray, ...]] = {}
        start = 0
        for component in ("cond", "zi"):
            blocks = []
            for term in self._component(component)[0]:
                nlev, k = len(term.levels), len(term.names)
                block = np.full((nlev, k, k), np.nan)
                diag = variances[start : start + nlev * k].reshape(nlev, k)
                block[:, np.arange(k), np.arange(k)] = diag
                blocks.append(block)
                start += nlev * k
            out[component] = tuple(blocks)
        return out

    @property
    def random_effects(self) -> dict[str, pd.DataFrame]:
        """Same as :meth:`ranef`."""
        return self.ranef()

    def coef(self) -> dict[str, pd.DataFrame]:
        """``coef(fit)$cond``: fixed plus random effects per level."""
        return coef_frames(self.ranef(), self.fe_params)

    # --------------------------------------------------------- fitted values
    @property
    def _linear_predictor(self) -> FloatArray:
        """``η`` of the conditional model on the fitted rows (offset included)."""
        return self.optimum.fit.eta

    def _response_mean(self, eta: FloatArray, eta_zi: FloatArray, phi: FloatArray) -> FloatArray:
        """``m (1 − p_zi)``, ``m`` the conditional mean (``μ``; ``μ/(1 − P₀)`` when truncated)."""
        mu = self.data.family.mean(eta, phi)
        if self.data.X_zi.shape[1]:
            mu = mu * special.expit(-eta_zi)
        return np.asarray(mu, dtype=float)

    @property
    def fittedvalues(self) -> pd.Series:
        """``fitted(fit)``: ``μ (1 − p_zi)``."""
        fit = self.optimum.fit
        values = self._response_mean(fit.eta, fit.eta_zi, fit.phi)
        return pd.Series(values, index=self.design.row_labels, name="fittedvalues")

    @property
    def resid(self) -> pd.Series:
        """``residuals(fit)``: response residuals (observed proportion for binomial)."""
        y = self.data.y / self.data.size
        return pd.Series(
            y - self.fittedvalues.to_numpy(), index=self.design.row_labels, name="resid"
        )

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        re_form: str | None = None,
        allow_new_levels: bool = False,
        type: str = "link",
    ) -> pd.Series:
        """``predict(fit, newdata, re.form, allow.new.levels, type)``.

        ``type="link"`` is the conditional model's ``η``; ``type="response"`` is
        ``μ (1 − p_zi)``.  ``re_form="NA"`` (or ``"~0"``) predicts at the population level
        (random effects of both models 0).

        Raises
        ------
        InterlaceError
            An unknown ``type``.
        UnsupportedFeatureError
            ``type="response"`` on new data (or with a partial ``re_form``) when the
            zero-inflation model has random effects.
        NewLevelError
            Unseen grouping levels without ``allow_new_levels``.
        """
        if type not in ("link", "response"):
            raise InterlaceError(f"type must be 'link' or 'response', not {type!r}")
        as_lmer = cast("LmerResult", self)  # predict's helpers only use the duck-typed parts
        groups = [t.group for t in self.design.terms]
        terms = select_random_terms(self.design.formula, groups, re_form, GLMMTMB)
        new = design_for(as_lmer, newdata, terms)
        eta = new.X @ self.beta
        if new.offset is not None:
            eta = eta + new.offset
        eta = eta + random_part(as_lmer, new, allow_new_levels)
        eta[new.missing] = np.nan
        index = newdata.index if newdata is not None else self.design.row_labels
        if type == "link":
            return pd.Series(eta, index=index, name="fit")
        if self.data.terms_zi and not is_population(re_form):
            if newdata is not None or re_form is not None:
                raise UnsupportedFeatureError(
                    "response predictions on new data or with re_form are not available for "
                    "zero-inflation models with random effects (only re_form='NA')",
                    remedy="use re_form='NA', or type='link'",
                )
            eta_zi = self.optimum.fit.eta_zi
        else:
            eta_zi = self._submodel_predictor(self.zi, self.data.X_zi, self.zi_params, newdata)
        eta_d = self._submodel_predictor(self.disp, self.data.X_d, self.disp_params, newdata)
        mean = self._response_mean(eta, eta_zi, np.exp(eta_d))
        return pd.Series(mean, index=index, name="fit")

    @staticmethod
    def _submodel_predictor(
        sub: SubModel, X: FloatArray, params: pd.Series, newdata: pd.DataFrame | None
    ) -> FloatArray:
        """The linear predictor of a zero-inflation or dispersion model (fitted rows or new)."""
        beta = params.to_numpy()
        if newdata is None:
            return np.asarray(X @ beta, dtype=float)
        if sub.frame is None:
            return np.zeros(len(newdata))
        new = new_design(sub.formula, sub.frame, list(sub.X_names), newdata, ())
        return np.asarray(new.X @ beta, dtype=float)

    def summary(self) -> GlmmTMBSummary:
        """glmmTMB-style summary; ``str()`` of it prints like ``print(summary(fit))``."""
        from interlace.results.glmmtmb_summary import GlmmTMBSummary

        return GlmmTMBSummary(self)

    def anova(self, *others: GlmmTMBResult, names: Sequence[str] | None = None) -> pd.DataFrame:
        """Likelihood-ratio tests against other glmmTMB fits, as ``anova(fit1, fit2, ...)``.

        glmmTMB compares the fits as they are: REML fits are not refitted.

        Parameters
        ----------
        *others : GlmmTMBResult
            One or more further fits to the same data.
        names : sequence of str, optional
            Row names, one per fit in the order given (R uses the argument names;
            default ``"model1"``, ``"model2"``, …).

        Returns
        -------
        DataFrame
            Rows ordered by ``Df`` (ties keep the order given); columns ``Df, AIC, BIC,
            logLik, deviance, Chisq, Chi Df, Pr(>Chisq)``, the last three missing on the
            first row.  ``attrs["heading"]`` is glmmTMB's heading (data, then each model
            with its ``zi=`` and ``disp=`` formulas).

        Raises
        ------
        UnsupportedFeatureError
            No other fit (glmmTMB has no single-model anova).
        IncomparableModelsError
            A fit that is not a glmmTMB fit, or fits of different rows, responses or
            weights.
        """
        from interlace.inference.lrt import lrt, model_names

        if not others:
            raise UnsupportedFeatureError(
                "no single-model anova() for glmmTMB fits",
                remedy="compare nested fits: fit1.anova(fit2)",
            )
        for other in others:
            if not isinstance(other, GlmmTMBResult):
                raise IncomparableModelsError(
                    f"anova() compares glmmTMB fits; got {type(other).__name__}",
                    remedy="pass GlmmTMBResult objects",
                )
        fits = [self, *others]
        # lrt reads nobs, REML, df_model, llf, aic, bic, formula, data_name and the design's
        # rows, response and weights, all of which a glmmTMB fit has; refit=False never
        # refits, so it needs nothing specific to lmer
        table = lrt(*cast("list[LmerResult]", fits), names=names, refit=False)
        table = table.rename(columns={"Df": "Chi Df", "npar": "Df"})
        by_name = dict(zip(model_names(names, len(fits)), fits, strict=True))
        table.attrs = {
            "heading": [
                table.attrs["heading"][0],
                "Models:",
                *[
                    f"{label}: {by_name[label].formula}, zi={by_name[label].ziformula}, "
                    f"disp={by_name[label].dispformula}"
                    for label in table.index
                ],
            ]
        }
        return table
