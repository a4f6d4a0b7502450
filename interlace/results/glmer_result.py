"""The result of a GLMM fit (lme4's ``glmerMod``), immutable.

It extends :class:`~interlace.results.lmer_result.LmerResult` with the
family, the fitted means and lme4's GLMM conventions:

* ``llf`` is ``−D/2`` with ``D`` the optimised deviance — Laplace values carry
  every normalising constant, nAGQ > 1 values do not (lme4's definitions; the
  two are not comparable);
* ``deviance`` is ``Σ`` unit deviances at the fitted means (R's
  ``deviance()`` for a ``glmerMod``), not ``−2 llf``;
* ``cov_params()`` is ``2 H⁻¹`` restricted to β, ``H`` the finite-difference
  Hessian of the deviance in (θ, β) (lme4's ``vcov.merMod`` with
  ``use.hessian = TRUE``, its default for glmer); without that Hessian
  (nAGQ = 0, ``calc_derivs = False``) ``σ² (R_X'R_X)⁻¹`` from PIRLS;
* ``sigma`` is 1 for binomial and Poisson; for families with a dispersion
  it is ``sqrt((Σ a_i (y_i − μ_i)²/V(μ_i) + ‖u‖²) / n)`` (lme4 1.1's
  ``sigma()``, which also scales ``VarCorr``);
* ``tvalues`` are Wald z statistics and ``pvalues`` their two-sided normal p-values;
* ``ranef(condVar=True)`` gives ``σ²`` times the diagonal blocks of
  ``Λ (Λ'Z'WZΛ + I)^{-1} Λ'`` at the working weights ``W`` of the last PIRLS
  factorisation (lme4's ``postVar``, the same for every nAGQ);
* ``nb_theta`` is the negative binomial θ of the family (``glmer_nb``), counted in
  ``df_model`` as lme4 counts it; ``None`` for other families.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.evaluate import FactorColumn
from interlace.engine.laplace import GlmmDeviance
from interlace.engine.pirls import GlmResponse
from interlace.engine.predictor import BlockedPredictor
from interlace.engine.protocol import LmmDesign
from interlace.errors import InterlaceError
from interlace.optim.boundary import rectify
from interlace.optim.summary import OptSummary
from interlace.results.lmer_result import LmerResult
from interlace.results.wald import normal_p_values

if TYPE_CHECKING:
    from interlace.results.glmer_summary import GlmerSummary

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class GlmerResult(LmerResult):
    """A fitted generalised linear mixed model.

    Attributes (in addition to :class:`LmerResult`'s)
    -------------------------------------------------
    response : GlmResponse
        Family, initialized response, prior weights, trials, offset.
    nAGQ : int
    mu, eta : ndarray
        Fitted means and linear predictor (offset included).
    dev_resids : ndarray
        Unit deviances at ``mu``.
    vcov : ndarray
        Covariance of the fixed effects (see the module notes); ``unscaled_vcov``
        is it divided by ``sigma²``.
    vcov_source : str
        ``"hessian"`` or ``"RX"``.
    pirls_weights : ndarray
        Working weights of the last factorisation of ``Λ'Z'WZΛ + I`` by PIRLS
        (at the iterate before the last, as the factor lme4 keeps in
        ``getME(fit, "L")``); :attr:`cond_var` is computed at them.
    """

    response: GlmResponse
    nAGQ: int
    mu: FloatArray
    eta: FloatArray
    dev_resids: FloatArray
    vcov: FloatArray
    vcov_source: str
    pirls_weights: FloatArray

    @classmethod
    def assemble(
        cls,
        design: LmmDesign,
        response: GlmResponse,
        dev: GlmmDeviance,
        optinfo: OptSummary,
        *,
        nAGQ: int,
        hessian: FloatArray | None = None,
        formula: str = "",
        data_name: str | None = None,
        weights_name: str | None = None,
        offset_name: str | None = None,
        fit_messages: tuple[str, ...] = (),
    ) -> GlmerResult:
        """Build the result from a deviance function left at ``optinfo.final`` (``mkMerMod``).

        ``hessian`` is the finite-difference Hessian of the deviance in (θ, β)
        (lme4 keeps it even for singular fits, whose checks skip it).

        θ is rectified first (columns of λ with a negative diagonal flipped, which
        leaves the model unchanged); the modes are then recomputed there.
        """
        n_theta = np.asarray(design.lower).size
        pars = np.asarray(optinfo.final, dtype=float)
        theta = rectify(pars[:n_theta], [(t.cov, t.theta_slice) for t in design.terms])
        if not np.array_equal(theta, pars[:n_theta]):
            if nAGQ == 0:
                dev.stage0(theta)
            else:
                dev(np.concatenate([theta, pars[n_theta:]]))
        fit = dev.last
        assert fit is not None
        beta = fit.beta if nAGQ == 0 else pars[n_theta:]
        fam = response.family
        lams = dev.pirls.lambda_map(theta)
        b = [ui @ lam.T for ui, lam in zip(fit.u, lams, strict=True)]
        wrss = float(np.sum(response.weights / fam.variance(fit.mu) * (response.y - fit.mu) ** 2))
        sigma = math.sqrt((wrss + fit.sqrL) / response.y.size) if fam.has_scale else 1.0
        vcov, source = sigma**2 * dev.pirls.unscaled_vcov(theta, fit), "RX"
        hess = hessian
        if hess is not None and hess.shape[0] > n_theta:
            try:
                hinv = np.linalg.inv(hess)[n_theta:, n_theta:]
                v = hinv + hinv.T
                if np.all(np.linalg.eigvalsh(v) > 0):
                    vcov, source = v, "hessian"
            except np.linalg.LinAlgError:
                pass
        return cls(
            design=design,
            REML=False,
            theta=theta,
            beta=np.asarray(beta, dtype=float),
            u=tuple(fit.u),
            b=tuple(b),
            lambdas=tuple(lams),
            sigma=sigma,
            objective=optinfo.fmin,
            ldL2=fit.ldL2,
            ldRX2=fit.ldRX2,
            pwrss=wrss + fit.sqrL,
            unscaled_vcov=vcov / sigma**2,
            optinfo=optinfo,
            formula=formula,
            data_name=data_name,
            weights_name=weights_name,
            offset_name=offset_name,
            fit_messages=fit_messages,
            warnings=fit_messages + optinfo.warnings + optinfo.conv.messages,
            response=response,
            nAGQ=nAGQ,
            mu=fit.mu,
            eta=fit.eta,
            dev_resids=fit.dev_resids,
            vcov=vcov,
            vcov_source=source,
            pirls_weights=fit.weights,
        )

    def _u_cov_blocks(self) -> list[FloatArray]:
        """Per term, the blocks of ``M^{-1}``, ``M = Λ'Z'WZΛ + I`` at θ̂ and the PIRLS weights.

        ``W`` is :attr:`pirls_weights` and :attr:`cond_var` scales by ``σ²`` (1 for
        binomial and Poisson): lme4's ``ranef(fit, condVar = TRUE)``, which reads ``M``'s
        factor from the last PIRLS iteration, for every nAGQ.
        """
        # M does not involve X or the response: the system of u alone, with a unit
        # response (any y with W y ≠ 0 keeps the factor's last pivot positive)
        n = self.pirls_weights.size
        predictor = BlockedPredictor(
            self.design.terms, np.empty((n, 0)), np.ones(n), self.pirls_weights
        )
        predictor.update(self.theta)
        return predictor.u_cov_blocks()

    # ------------------------------------------------------------ fixed effects
    @cached_property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the Wald z statistics (``Pr(>|z|)``)."""
        return pd.Series(
            normal_p_values(self.tvalues.to_numpy()),
            index=self.fe_params.index,
            name="pvalues",
        )

    # ----------------------------------------------------------------- scalars
    @property
    def family(self) -> str:
        """R's family name."""
        return self.response.family.family

    @property
    def link(self) -> str:
        """R's link name."""
        return self.response.family.link.name

    @property
    def response_coding(self) -> dict[str, int] | None:
        """How a factor or logical response was read: level -> 0 (failure) or 1 (success).

        As R's binomial family: the first level is failure and every other level is
        success (``FALSE``/``TRUE`` for a logical).  ``None`` for a numeric response.
        """
        frame = getattr(self.design, "frame", None)
        column = None if frame is None else frame.response
        if not isinstance(column, FactorColumn):
            return None
        return {level: int(i > 0) for i, level in enumerate(column.levels)}

    @property
    def has_scale(self) -> bool:
        """Whether the family has a dispersion (lme4's ``useSc``)."""
        return self.response.family.has_scale

    @property
    def nb_theta(self) -> float | None:
        """The negative binomial θ (lme4's ``getME(fit, "glmer.nb.theta")``); ``None`` otherwise."""
        return self.response.family.theta

    @property
    def df_model(self) -> int:
        """Number of parameters (``attr(logLik(fit), "df")``): β, θ, σ if any, and θ_NB.

        lme4 counts the negative binomial θ whenever the family is a negative
        binomial, estimated by ``glmer.nb`` or given.
        """
        return super().df_model + int(self.nb_theta is not None)

    @property
    def deviance(self) -> float:
        """``deviance(fit)``: the sum of the unit deviances (not ``−2 llf``)."""
        return float(np.sum(self.dev_resids))

    @property
    def REMLcrit(self) -> float | None:
        """GLMMs have no REML criterion."""
        return None

    # ---------------------------------------------------------- fitted values
    @property
    def fittedvalues(self) -> pd.Series:
        """Fitted means ``μ`` (``fitted``)."""
        return pd.Series(self.mu, name="fittedvalues")

    @property
    def resid(self) -> pd.Series:
        """Deviance residuals (``residuals(fit)``, lme4's default for GLMMs)."""
        r = np.sign(self.response.y - self.mu) * np.sqrt(np.maximum(self.dev_resids, 0.0))
        return pd.Series(r, name="resid")

    @property
    def resid_pearson(self) -> pd.Series:
        """Pearson residuals ``(y − μ) sqrt(a / V(μ))``."""
        fam = self.response.family
        r = (self.response.y - self.mu) * np.sqrt(self.response.weights / fam.variance(self.mu))
        return pd.Series(r, name="resid_pearson")

    def summary(self) -> GlmerSummary:
        """lme4-style summary; ``str()`` of it prints like ``summary(fit)``."""
        from interlace.results.glmer_summary import GlmerSummary

        return GlmerSummary(self)

    def coef_table(self, ddf: str = "none") -> pd.DataFrame:
        """lme4's coefficient table for a GLMM: Wald z tests (t for families with a scale).

        Denominator degrees of freedom (lmerTest, pbkrtest) exist for linear
        mixed models only, so ``ddf`` must be ``"none"``.
        """
        if ddf.lower() not in ("none", "lme4"):
            raise InterlaceError(
                f"ddf={ddf!r} is not defined for a GLMM: Satterthwaite and Kenward-Roger "
                "degrees of freedom (lmerTest, pbkrtest) apply to linear mixed models only",
                remedy="use coef_table() for lme4's Wald z tests",
            )
        return self.summary().coefficients

    def anova(
        self,
        *others: LmerResult,
        type: int | str = 3,
        ddf: str = "satterthwaite",
        refit: bool = True,
    ) -> pd.DataFrame:
        """Likelihood-ratio tests against other fits, as lme4's ``anova(m1, m2, ...)``.

        lmerTest's F tables do not exist for GLMMs, so at least one other fit is needed.
        """
        if not others:
            raise InterlaceError(
                "F tests of fixed-effect terms (lmerTest's anova) are not defined for a GLMM",
                remedy="compare nested fits with anova(other_fit), a likelihood-ratio test",
            )
        return super().anova(*others, refit=refit)

    def confint(
        self,
        method: str = "Wald",
        level: float = 0.95,
        *,
        nsim: int = 500,
        seed: int | None = None,
        n_jobs: int = 1,
    ) -> pd.DataFrame:
        """Wald intervals for the fixed effects (variance parameters listed with NaN), as lme4.

        Profile and bootstrap intervals for GLMMs are not implemented yet.
        """
        if method != "Wald":
            raise InterlaceError(
                f"confint(method={method!r}) is not available for GLMMs yet",
                remedy="use method='Wald'",
            )
        return super().confint(method, level)
