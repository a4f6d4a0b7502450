"""The result of a cumulative link mixed model fit (``ordinal::clmm``'s ``clmm`` object).

Names follow ``ordinal``: ``thresholds`` is ``fit$alpha`` (the free threshold
parameters), ``threshold_values`` is ``fit$Theta`` (``"1|2"``, ``"2|3"``, …),
``fe_params`` is ``fit$beta``, ``ST`` is ``fit$ST`` (the lower-triangular
factor of each term's covariance), ``llf`` is ``logLik(fit)`` with
``edf = n_alpha + p + n_ST`` degrees of freedom, ``cov_params()`` is
``vcov(fit)`` — the inverse of the finite-difference Hessian of the negative
log-likelihood in ordinal's parameters, with ``ST1, ST2, …`` rows (the log
standard deviation for a single random intercept, the standard deviations
otherwise; those below 1e-3 are left out, as ordinal does).

``anova(other, ...)`` is ordinal's likelihood-ratio table (``anova.clm``):
with the fits ordered by their number of parameters ``k_1 ≤ k_2 ≤ …``
(a stable sort), row ``i`` has ``LR.stat = 2 (ℓ_i − ℓ_{i−1})`` — not
clipped at zero, as ordinal leaves it — ``df = k_i − k_{i−1}`` and
``Pr(>Chisq) = P(χ²_df > LR.stat)``, missing when ``df = 0``.
``confint(level)`` is what R's ``confint`` gives for a clmm fit (ordinal has
no method of its own, so ``confint.default``): Wald intervals
``estimate ± z_{(1∓level)/2} se`` for the thresholds and fixed effects.
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

from interlace.errors import IncomparableModelsError, UnsupportedFeatureError
from interlace.results import criteria
from interlace.results.glmer_summary import wald_table_lines
from interlace.results.rformat import (
    RPrintout,
    coefficient_cells,
    format_fixed,
    format_r,
    print_matrix,
)
from interlace.results.summary import DIGITS
from interlace.results.tables import conditional_covariances, ranef_frames, varcorr_frame
from interlace.results.wald import chisq_p_value, normal_p_values

if TYPE_CHECKING:
    from interlace.design.clmm_design import ClmmDesign
    from interlace.engine.clmm_objective import ClmmObjective
    from interlace.optim.summary import OptSummary
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]

#: The columns of ordinal's likelihood-ratio table (``anova.clm``).
LR_COLUMNS = ("no.par", "AIC", "logLik", "LR.stat", "df", "Pr(>Chisq)")


@dataclass(frozen=True, eq=False)
class ClmmResult:
    """A fitted CLMM.  Build it with :meth:`assemble` (``clmm`` does).

    Attributes
    ----------
    design : ClmmDesign
    par : ndarray
        ordinal's parameter vector ``(α, β, ST)`` at the optimum (``fit$optRes$par``).
    objective_value : float
        Negative log-likelihood (Laplace or AGQ) at ``par``.
    link, threshold : str
    nAGQ : int
    free : ndarray of bool
        Parameters in the Hessian (not at the boundary).
    u, b : ndarray
        Spherical conditional modes and ``b = Λu`` in ``Zt``'s row order.
    theta : ndarray
        lme4's ``θ`` (the covariance factors' lower triangles) at ``par``.
    cond_var : tuple of ndarray
        Per term, ``levels x k x k`` conditional covariances of ``b`` at the
        modes, ``Λ (Λ'Z'DZΛ + I)^{-1} Λ'`` (their diagonals are ordinal's
        ``condVar``).
    optinfo : OptSummary
        The optimiser's record: start (``initial``, ordinal's ``fit$start``),
        evaluations, message, and the checks with the finite-difference
        gradient and Hessian in the free parameters (``conv``).
    formula : str
    data_name : str or None
    warnings : tuple of str
        Warnings issued by the fit.
    """

    design: ClmmDesign
    par: FloatArray
    objective_value: float
    link: str
    threshold: str
    nAGQ: int
    free: NDArray[np.bool_]
    u: FloatArray
    b: FloatArray
    theta: FloatArray
    cond_var: tuple[FloatArray, ...]
    optinfo: OptSummary
    formula: str = ""
    data_name: str | None = None
    warnings: tuple[str, ...] = field(default=())

    @classmethod
    def assemble(
        cls,
        design: ClmmDesign,
        objective: ClmmObjective,
        par: FloatArray,
        fval: float,
        *,
        link: str,
        nAGQ: int,
        free: NDArray[np.bool_],
        optinfo: OptSummary,
        formula: str,
        data_name: str | None,
    ) -> ClmmResult:
        """The result at ``par``: conditional modes and their covariances recomputed there."""
        modes = objective.modes(par)
        theta = objective.split(par)[2]
        lams = [t.lambda_block(theta) for t in objective.terms]
        blocks = objective.u_covariances(par)
        cond_var = conditional_covariances(lams, blocks)
        return cls(
            design=design,
            par=np.asarray(par, dtype=float),
            objective_value=float(fval),
            link=link,
            threshold=design.thresholds.kind,
            nAGQ=nAGQ,
            free=free,
            u=modes.u,
            b=modes.b,
            theta=theta,
            cond_var=cond_var,
            optinfo=optinfo,
            formula=formula,
            data_name=data_name,
            warnings=optinfo.conv.messages,
        )

    @property
    def gradient(self) -> FloatArray | None:
        """Finite-difference gradient in the free parameters (``None`` without ``Hess``)."""
        return self.optinfo.conv.gradient

    @property
    def hessian(self) -> FloatArray | None:
        """Finite-difference Hessian in the free parameters (``fit$Hessian``)."""
        return self.optinfo.conv.hessian

    @property
    def neval(self) -> int:
        """Objective evaluations (optimisation, polishing and Hessian)."""
        return self.optinfo.feval

    # ------------------------------------------------------------ parameters
    @property
    def n_alpha(self) -> int:
        """Number of free threshold parameters."""
        return self.design.thresholds.n_alpha

    @cached_property
    def thresholds(self) -> pd.Series:
        """``fit$alpha``: the free threshold parameters, with ordinal's names."""
        th = self.design.thresholds
        return pd.Series(self.par[: self.n_alpha], index=list(th.alpha_names), name="alpha")

    @cached_property
    def threshold_values(self) -> pd.Series:
        """``fit$Theta``: the thresholds ``θ_j`` named ``"1|2"``, ``"2|3"``, …"""
        th = self.design.thresholds
        return pd.Series(th.theta(self.thresholds.to_numpy()), index=list(th.theta_names))

    @cached_property
    def fe_params(self) -> pd.Series:
        """``fit$beta``: the fixed effects (ordinal's sign: ``θ_j − x'β``)."""
        p = len(self.design.X_names)
        values = self.par[self.n_alpha : self.n_alpha + p]
        return pd.Series(values, index=list(self.design.X_names), name="beta")

    @cached_property
    def params(self) -> pd.Series:
        """``coef(fit)``: thresholds then fixed effects."""
        return pd.concat([self.thresholds, self.fe_params]).rename("coef")

    @cached_property
    def ST(self) -> dict[str, FloatArray]:
        """``fit$ST``: per term, the lower-triangular factor of its covariance."""
        terms = self.design.random.terms
        return {t.group: t.lambda_block(self.theta) for t in terms}

    # ------------------------------------------------------------ inference
    @cached_property
    def _vcov(self) -> pd.DataFrame:
        n_st = self.par.size - self.n_alpha - len(self.design.X_names)
        names = [*self.params.index, *(f"ST{i}" for i in range(1, n_st + 1))]
        kept = [n for n, f in zip(names, self.free, strict=True) if f]
        if self.hessian is None:
            return pd.DataFrame(np.full((len(kept), len(kept)), np.nan), kept, kept)
        try:
            chol = np.linalg.cholesky(self.hessian)
            inv = np.linalg.inv(chol)
            cov = inv.T @ inv
        except np.linalg.LinAlgError:
            cov = np.full(self.hessian.shape, np.nan)
        return pd.DataFrame(cov, index=kept, columns=kept)

    def cov_params(self) -> pd.DataFrame:
        """``vcov(fit)``: thresholds, fixed effects and the free ``ST`` parameters."""
        return self._vcov.copy()

    @cached_property
    def coef_table(self) -> pd.DataFrame:
        """``coef(summary(fit))``: Estimate, Std. Error, z value, Pr(>|z|) for α then β."""
        est = self.params
        vc = self._vcov
        se = pd.Series(
            [math.sqrt(vc.loc[n, n]) if n in vc.index else math.nan for n in est.index],
            index=est.index,
        )
        z = est / se
        p = pd.Series(normal_p_values(z.to_numpy()), index=est.index)
        return pd.DataFrame({"Estimate": est, "Std. Error": se, "z value": z, "Pr(>|z|)": p})

    @property
    def bse(self) -> pd.Series:
        """Standard errors of ``fe_params``."""
        return self.coef_table["Std. Error"].loc[self.fe_params.index]

    @property
    def tvalues(self) -> pd.Series:
        """Wald z statistics of ``fe_params``."""
        return self.coef_table["z value"].loc[self.fe_params.index]

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided normal p-values of ``fe_params``."""
        return self.coef_table["Pr(>|z|)"].loc[self.fe_params.index]

    def confint(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals of the thresholds and fixed effects, as ``confint(fit)``.

        Parameters
        ----------
        level : float
            Confidence level, in (0, 1).

        Returns
        -------
        DataFrame
            Rows ``params``' names (``"1|2"``, …, then the fixed effects); columns
            the lower and upper percentages (``"2.5 %"``, ``"97.5 %"``).
        """
        from interlace.inference.confint import percent_label

        if not 0.0 < level < 1.0:
            raise ValueError(f"level must be in (0, 1), not {level!r}")
        a = (1.0 - level) / 2.0
        z = float(special.ndtri(1.0 - a))
        table = self.coef_table
        est, se = table["Estimate"].to_numpy(), table["Std. Error"].to_numpy()
        return pd.DataFrame(
            np.column_stack([est - z * se, est + z * se]),
            index=table.index,
            columns=[percent_label(a), percent_label(1.0 - a)],
        )

    # ------------------------------------------------------------ fit statistics
    @property
    def llf(self) -> float:
        """``logLik(fit)``."""
        return -self.objective_value

    @property
    def df_modelwc(self) -> int:
        """ordinal's ``edf``: all parameters, boundary ones included."""
        return int(self.par.size)

    @property
    def nobs(self) -> float:
        """``nobs(fit)``: the sum of the weights."""
        total = float(np.sum(self.design.weights))
        return int(total) if total.is_integer() else total

    @property
    def aic(self) -> float:
        """``AIC(fit)``."""
        return criteria.aic(self.llf, self.df_modelwc)

    @property
    def bic(self) -> float:
        """``BIC(fit)``."""
        return criteria.bic(self.llf, self.df_modelwc, self.nobs)

    @property
    def deviance(self) -> float:
        """``−2 llf`` (ordinal's ``deviance(fit)`` is ``NULL``; glmer's convention)."""
        return -2.0 * self.llf

    @property
    def is_singular(self) -> bool:
        """A random-effect standard deviation below 1e-4 (lme4's ``isSingular`` tolerance)."""
        sds = [np.diag(t.lambda_block(self.theta)) for t in self.design.random.terms]
        return bool(np.any(np.concatenate(sds) < 1e-4))

    @property
    def max_grad(self) -> float:
        """Largest absolute gradient at the optimum (ordinal's ``max.grad``)."""
        return float(np.max(np.abs(self.gradient))) if self.gradient is not None else math.nan

    @property
    def cond_H(self) -> float:
        """Condition number of the Hessian (ordinal's ``cond.H``)."""
        if self.hessian is None:
            return math.nan
        ev = np.linalg.eigvalsh(self.hessian)
        return float(abs(ev.max() / ev.min()))

    @property
    def converged(self) -> bool:
        """Gradient below 1e-3 and a positive definite Hessian (ordinal's checks)."""
        return bool(self.max_grad < 1e-3 and not self._vcov.isna().to_numpy().any())

    # ------------------------------------------------------------ random effects
    def varcorr(self) -> pd.DataFrame:
        """Random-effect variances, covariances, SDs and correlations.

        The layout of ``as.data.frame(VarCorr(fit))`` (``grp, var1, var2, vcov,
        sdcor``) without a residual row: the values of ordinal's ``VarCorr``.
        """
        terms = self.design.random.terms
        lams = [t.lambda_block(self.theta) for t in terms]
        return varcorr_frame(terms, lams, 1.0).iloc[:-1].reset_index(drop=True)

    @property
    def variance_components(self) -> dict[str, Any]:
        """Grouping factor → variance (scalar term) or covariance DataFrame."""
        out: dict[str, Any] = {}
        for t in self.design.random.terms:
            lam = t.lambda_block(self.theta)
            cov = lam @ lam.T
            names = list(t.names)
            out[t.group] = float(cov[0, 0]) if t.k == 1 else pd.DataFrame(cov, names, names)
        return out

    @property
    def random_effects(self) -> dict[str, pd.DataFrame]:
        """``ranef(fit)``: conditional modes of ``b`` per grouping factor."""
        terms = self.design.random.terms
        blocks = [
            self.b[int(g0) : int(g1)].reshape(t.n_levels, t.k)
            for t, g0, g1 in zip(
                terms, self.design.random.Gp[:-1], self.design.random.Gp[1:], strict=True
            )
        ]
        return ranef_frames(terms, blocks)

    def ranef(self, condVar: bool = False) -> dict[str, pd.DataFrame]:
        """``ranef(fit)``: conditional modes per grouping factor.

        With ``condVar=True`` each frame's ``attrs["postVar"]`` holds, per term
        on that factor, the ``levels x k x k`` conditional covariances of its
        effects (as for ``lmer``); their diagonals are ordinal's ``condVar(fit)``.
        """
        frames = self.random_effects
        if condVar:
            terms = self.design.random.terms
            for group, frame in frames.items():
                frame.attrs["postVar"] = [
                    cv for t, cv in zip(terms, self.cond_var, strict=True) if t.group == group
                ]
        return frames

    def coef(self) -> pd.Series:
        """``coef(fit)``: ordinal's coefficients, thresholds then fixed effects (``params``).

        ordinal's ``coef`` is this vector, not lme4's per-level coefficients:
        with thresholds in place of an intercept there is no per-level
        intercept to report.
        """
        return self.params

    @property
    def fittedvalues(self) -> pd.Series:
        """``fitted(fit)``: the probability of each row's observed category at the modes."""
        prob = self.predict(type="prob")
        assert isinstance(prob, pd.DataFrame)
        values = prob.to_numpy()[np.arange(len(prob)), self.design.y]
        return pd.Series(values, index=prob.index, name="fitted")

    def predict(
        self,
        newdata: pd.DataFrame | None = None,
        *,
        type: str = "prob",
        re_form: str | None = None,
        allow_new_levels: bool = False,
    ) -> pd.Series | pd.DataFrame:
        """Category probabilities, cumulative probabilities, classes or latent locations.

        See :func:`interlace.results.clmm_predict.predict` (``type`` is
        ``"prob"``, ``"cum.prob"``, ``"class"`` or ``"linear.predictor"``;
        ``re_form="NA"`` for population-level predictions).
        """
        from interlace.results.clmm_predict import predict

        return predict(self, newdata, type=type, re_form=re_form, allow_new_levels=allow_new_levels)

    def anova(self, *others: ClmmResult, names: Sequence[str] | None = None) -> pd.DataFrame:
        """Likelihood-ratio tests against other clmm fits, as ordinal's ``anova(fit1, fit2, ...)``.

        Parameters
        ----------
        *others : ClmmResult
            One or more further fits to the same data.
        names : sequence of str, optional
            Row names, one per fit in the order given (R uses the argument names;
            default ``"model1"``, ``"model2"``, …).

        Returns
        -------
        DataFrame
            Rows ordered by number of parameters (ties keep the order given);
            columns ``no.par, AIC, logLik, LR.stat, df, Pr(>Chisq)``, missing on the
            first row.  ``attrs["models"]`` is ordinal's ``models`` attribute
            (columns ``formula:``, ``link:``, ``threshold:``) and
            ``attrs["heading"]`` its heading.

        Raises
        ------
        UnsupportedFeatureError
            No other fit (ordinal has no single-fit anova for clmm).
        IncomparableModelsError
            A fit that is not a clmm fit, or fits of different rows, responses or
            weights (ordinal: "models were not all fitted to the same dataset").
        """
        from interlace.inference.lrt import check_comparable, model_names

        if not others:
            raise UnsupportedFeatureError(
                "anova not implemented for a single clmm fit",
                remedy="compare nested fits: fit1.anova(fit2)",
            )
        for other in others:
            if not isinstance(other, ClmmResult):
                raise IncomparableModelsError(
                    f"anova() compares clmm fits; got {type(other).__name__}",
                    remedy="pass ClmmResult objects",
                )
        fits = [self, *others]
        labels = model_names(names, len(fits))
        # the checks read only nobs and the design's rows, response and weights
        check_comparable(cast("Sequence[LmerResult]", fits), labels)
        order = sorted(range(len(fits)), key=lambda i: fits[i].df_modelwc)
        rows: list[list[float]] = []
        for j, i in enumerate(order):
            fit = fits[i]
            stat = df = p = math.nan
            if j > 0:
                prev = fits[order[j - 1]]
                stat = 2.0 * (fit.llf - prev.llf)
                df = float(fit.df_modelwc - prev.df_modelwc)
                # R: pchisq(x, df, lower.tail = FALSE) is 1 for a negative x
                p = math.nan if df == 0 else chisq_p_value(max(stat, 0.0), df)
            rows.append([fit.df_modelwc, fit.aic, fit.llf, stat, df, p])
        index = [labels[i] for i in order]
        table = pd.DataFrame(rows, index=index, columns=list(LR_COLUMNS))
        table["no.par"] = table["no.par"].astype(int)
        table.attrs["models"] = pd.DataFrame(
            {
                "formula:": [fits[i].formula for i in order],
                "link:": [fits[i].link for i in order],
                "threshold:": [fits[i].threshold for i in order],
            },
            index=index,
        )
        table.attrs["heading"] = "Likelihood ratio tests of cumulative link models:"
        return table

    def summary(self) -> ClmmSummary:
        """The summary; ``str()`` prints like ordinal's ``print(summary(fit))``."""
        return ClmmSummary(self)


class ClmmSummary(RPrintout):
    """Tables of a :class:`ClmmResult`; ``str()`` is laid out as ordinal's summary print."""

    _stat_name = "z value"

    def __init__(self, result: ClmmResult) -> None:
        self.result = result

    @property
    def coefficients(self) -> pd.DataFrame:
        """The fixed-effects rows of ``coef(summary(fit))``."""
        r = self.result
        return r.coef_table.loc[r.fe_params.index]

    @property
    def threshold_coefficients(self) -> pd.DataFrame:
        """The threshold rows (Estimate, Std. Error, z value)."""
        r = self.result
        return r.coef_table.loc[r.thresholds.index, ["Estimate", "Std. Error", "z value"]]

    def _cells(self, table: pd.DataFrame) -> list[list[str]]:
        return coefficient_cells(
            table["Estimate"].tolist(),
            table["Std. Error"].tolist(),
            table["z value"].tolist(),
            DIGITS,
        )

    def _info(self) -> list[str]:
        r = self.result
        header = ["link", "threshold", "nobs", "logLik", "AIC", "niter", "max.grad", "cond.H"]
        cells = [
            r.link,
            r.threshold,
            f"{r.nobs:g}",
            f"{r.llf:.2f}",
            f"{r.aic:.2f}",
            str(r.neval),
            f"{r.max_grad:.2e}",
            f"{r.cond_H:.1e}",
        ]
        return print_matrix([""], header, [cells], right=False)

    def _random(self) -> list[str]:
        """ordinal's ``formatVC``: variances, SDs and, with a vector term, correlations."""
        r = self.result
        terms = r.design.random.terms
        covs = [lam @ lam.T for lam in (t.lambda_block(r.theta) for t in terms)]
        sds = [np.sqrt(np.diag(cov)) for cov in covs]
        all_sd = [float(v) for sd in sds for v in sd]
        var_text = format_r([v * v for v in all_sd], DIGITS)
        sd_text = format_r(all_sd, DIGITS)
        maxk = max(t.k for t in terms)
        cells: list[list[str]] = []
        for t, cov, sd in zip(terms, covs, sds, strict=True):
            corr = [[""] * maxk for _ in range(t.k)] if maxk > 1 else [[] for _ in range(t.k)]
            if t.k > 1:
                with np.errstate(invalid="ignore", divide="ignore"):
                    cor = cov / np.outer(sd, sd)
                text = format_fixed([round(v, 3) for v in cor.ravel()], digits=7, nsmall=3)
                for i in range(t.k):
                    corr[i][:i] = text[i * t.k : i * t.k + i]
            for i, name in enumerate(t.names):
                row = len(cells)
                cells.append([t.group if i == 0 else "", name, var_text[row], sd_text[row]])
                cells[-1] += corr[i]
        header = ["Groups", "Name", "Variance", "Std.Dev."]
        if maxk > 1:
            header += ["Corr", *[""] * (maxk - 1)]
        table = print_matrix([""] * len(cells), header, cells, right=False)
        n_groups = {t.group: t.n_levels for t in terms}
        counts = ",  ".join(f"{g} {n}" for g, n in n_groups.items())
        return ["Random effects:", *table, f"Number of groups:  {counts} "]

    def _coefficients(self) -> list[str]:
        cf = self.coefficients
        if cf.empty:
            return ["", "No Coefficients"]
        return ["", "Coefficients:", *wald_table_lines(cf, self._cells(cf))]

    def _thresholds(self) -> list[str]:
        tc = self.threshold_coefficients
        table = print_matrix(list(tc.index), list(tc.columns), self._cells(tc), right=True)
        return ["", "Threshold coefficients:", *table]

    def lines(self) -> list[str]:
        """``print(summary(fit))``, line by line."""
        r = self.result
        if r.nAGQ > 1:
            title = [
                "Cumulative Link Mixed Model fitted with the adaptive Gauss-Hermite ",
                f"quadrature approximation with {r.nAGQ} quadrature points ",
            ]
        else:
            title = ["Cumulative Link Mixed Model fitted with the Laplace approximation"]
        lines = [*title, "", f"formula: {r.formula}"]
        if r.data_name:
            lines.append(f"data:    {r.data_name}")
        lines += [
            "",
            *self._info(),
            "",
            *self._random(),
            *self._coefficients(),
            *self._thresholds(),
        ]
        return lines
