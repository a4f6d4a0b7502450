"""nlme's ``intervals`` of ``lme`` fits: confidence intervals of the fixed effects and of the
variance parameters.

**Fixed effects.**  ``β̂_j ± t_{1−α/2, df_j} · se_j`` with ``se_j = sqrt(vcov_jj)`` (nlme's
``varFix``, not inflated for ML fits) and ``df_j`` nlme's containment DF of the
coefficient (:func:`interlace.results.lme_df.fixed_effects_df`); ``α = 1 − level``.

**Variance parameters.**  nlme's ``apVar`` (``lmeApVar``; Pinheiro & Bates 2000,
section 2.4.3) is the inverse of minus the Hessian of the log-likelihood (REML or ML,
as fitted) in the "natural" unconstrained parameters

    ψ = (per grouping level, inner to outer: log sd_1, …, log sd_k and, for a general
         (``pdSymm``) level, log((1 + ρ_ij)/(1 − ρ_ij)) for i > j, column by column;
         the correlation parameter's unconstrained value u; the variance function's
         unconstrained parameters δ; log σ),

where sd and ρ are the random effects' standard deviations and correlations on the
scale of the data (not relative to σ), and u is nlme's ``coef(corStruct)``:
``log((1 + φ)/(1 − φ))`` for AR(1), ``log(φ/(1 − φ))`` for CAR(1) and
``log((ρ + 1/(m − 1))/(1 − ρ))`` for compound symmetry (``m`` the largest group).
δ is nlme's ``coef(varStruct)`` as interlace's :mod:`interlace.varfunc` defines it:
the log SD ratios of ``varIdent``, the power of ``varPower``, the exponent of ``varExp``.
Here σ (the reference stratum's, with ``varIdent``) is not profiled out.  With
``ν = n − p`` (REML) or ``n`` (ML), ``Δ = D/σ²`` the relative covariance of the random
effects (``D`` built from the sds and correlations), θ its lme4 Cholesky parameters and
``d(θ, φ, δ)``, ``σ̂²(θ, φ, δ)`` the profiled criterion and residual variance of
:mod:`interlace.engine.gaussian` (with :mod:`interlace.engine.residual_correlation` for a
correlation structure, :mod:`interlace.engine.variance_function` for a variance function
alone),

    −2 ℓ(ψ) = d(θ, φ, δ) + ν [log(σ²/σ̂²) + σ̂²/σ² − 1],

since ``d = log|L|² [+ log|R_X|²] + log|G R G| + ν (1 + log(2π σ̂²))`` and the
unprofiled criterion replaces ``ν (1 + log 2πσ̂²)`` by ``ν log 2πσ² + ν σ̂²/σ²``.

The Hessian.  nlme's ``fdHess`` fits a quadratic exactly through ``ψ``, ``ψ ± h_i e_i``
and ``ψ + h_i e_i + h_j e_j`` with tiny steps ``h_i = max(|ψ_i|, 0.05) · ε^{1/3}``
(about 6e-6 relative).  At such steps the rounding noise of the criterion (about
1e-11 here, 1e-13 or so in nlme's C code) divided by ``h²`` dominates: nlme's own
``apVar`` moves by about 1e-3 relative when ``.relStep`` changes, and interlace's
criterion would give errors of 40%.  interlace therefore uses central differences
with ``h_i = 10⁻³ max(|ψ_i|, 1)`` (truncation error of order ``h²`` ≈ 1e-6, rounding
error ≈ 1e-11/h² ≈ 1e-5), i.e. the Hessian nlme's ``fdHess`` approximates.  A nearly
singular ``apVar`` magnifies these errors by its condition number: with ``varPower``
(δ and log σ correlated at −0.999 on Orthodont) interlace's bounds are 2e-3 from the
exact Hessian's and nlme's 3% (10% with ``.relStep = 1e-4``).  When
some eigenvalue of the Hessian is not negative, nlme's ``apVar`` is the message
"Non-positive definite approximate variance-covariance" and the intervals of the
variance parameters are an error.

Each interval is ``ψ̂_i ± z_{1−α/2} sqrt(apVar_ii)`` mapped back: ``sd = exp``,
``ρ = (e^v − 1)/(e^v + 1)``, φ through the structure's map, δ as
``coef(varStruct, unconstrained = FALSE)`` (``exp`` for ``varIdent``, the identity
otherwise), ``σ = exp``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from interlace.errors import IdentifiabilityError

if TYPE_CHECKING:
    from interlace.design.lformula import LmerDesign
    from interlace.engine.residual_correlation import CorrelatedObjective
    from interlace.engine.variance_function import VarFuncObjective
    from interlace.results.lme_result import LmeLevel, LmeResult

FloatArray = NDArray[np.float64]

#: Relative step of the central differences (see the module doc).
STEP = 1e-3
#: ``which`` values of :func:`intervals`.
WHICH = ("all", "fixed", "var-cov")
#: The columns of every table.
COLUMNS = ("lower", "est.", "upper")
#: nlme's unconstrained correlation parameter as a multiple of interlace's
#: (``CorStruct.from_natural``): AR(1) uses ``2 atanh φ``, the others the same value.
_COR_SCALE = {"corAR1": 2.0, "corCAR1": 1.0, "corCompSymm": 1.0}
_NON_PD = "Non-positive definite approximate variance-covariance"


# ----------------------------------------------------------------------------- parameters
def _level_parameters(level: LmeLevel, names: list[str]) -> list[str]:
    """nlme's natural-parameter labels of one level: ``sd(a)``, then ``cor(a,b)`` (pdSymm)."""
    labels = [f"sd({a})" for a in names]
    if level.kind == "pdSymm":
        k = len(names)
        labels += [f"cor({names[j]},{names[i]})" for j in range(k) for i in range(j + 1, k)]
    return labels


def _pairs(k: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Rows and columns ``i > j`` of a ``k x k`` lower triangle, column by column."""
    cols, rows = np.triu_indices(k, 1)
    return rows, cols


def _design(result: LmeResult) -> LmerDesign:
    """The fit's lme4 design (``lme`` keeps the unwhitened :class:`LmerDesign`)."""
    from interlace.design.lformula import LmerDesign

    design = result.fit.design
    if not isinstance(design, LmerDesign):  # pragma: no cover - lme always keeps one
        raise TypeError(f"an lme fit keeps an LmerDesign, not {type(design).__name__}")
    return design


def _correlation_objective(result: LmeResult) -> CorrelatedObjective:
    """The fit's (θ, x[, δ]) criterion with its correlation structure and layout (and
    variance function), as fitted."""
    from interlace.engine.residual_correlation import CorrelatedObjective

    cor, layout = result.correlation, result.correlation_layout
    if cor is None or layout is None:  # pragma: no cover - callers check
        raise ValueError("the fit has no correlation structure")
    design = _design(result)
    return CorrelatedObjective(
        design.terms,
        np.asarray(design.X, dtype=float),
        design.X_names,
        np.asarray(design.y, dtype=float),
        np.asarray(design.theta, dtype=float),
        np.asarray(design.lower, dtype=float),
        cor,
        layout,
        result.fit.REML,
        result.varfunc,
    )


def _varfunc_labels(result: LmeResult) -> tuple[list[str], list[str]]:
    """nlme's ``apVar`` names of δ (``varStruct``, ``varStruct1``, …, or
    ``varStruct.power``/``varStruct.expon``) and its ``intervals`` row names (the
    non-reference strata, or the parameter)."""
    varfunc = result.varfunc
    if varfunc is None:
        return [], []
    if varfunc.codes is None:
        return [f"varStruct.{name}" for name in varfunc.names], list(varfunc.names)
    k = varfunc.n_params
    pars = ["varStruct"] if k == 1 else [f"varStruct{i + 1}" for i in range(k)]
    return pars, list(varfunc.names[1:])


class NaturalLikelihood:
    """The fit's log-likelihood (REML or ML) in nlme's natural parameters ψ, σ not profiled.

    Parameters
    ----------
    result : LmeResult

    Attributes
    ----------
    pars : Series
        nlme's ``attr(fit$apVar, "Pars")``, ψ at the fit (see the module doc),
        indexed as nlme: ``reStruct.<level><i>`` (``reStruct.<level>`` for one
        parameter), levels inner to outer, then ``corStruct``, the variance
        function's (``varStruct``, ``varStruct1``, …, ``varStruct.power``) and
        ``lSigma``.

    Raises
    ------
    IdentifiabilityError
        A random-effect standard deviation or correlation on its boundary
        (0, ±1), where ψ is infinite.
    """

    def __init__(self, result: LmeResult) -> None:
        from interlace.engine.gaussian import GaussianObjective

        self.result = result
        fit = result.fit
        n, p = fit.design.X.shape
        self.nu = n - p if fit.REML else n
        self.cor = result.correlation
        self.plain: GaussianObjective | None = None
        self.weighted: VarFuncObjective | None = None
        self.correlated: CorrelatedObjective | None = None
        self.max_size = 0
        if self.cor is not None:
            self.correlated = _correlation_objective(result)
            self.max_size = self.correlated.layout.max_size
        elif result.varfunc is not None:
            from interlace.engine.variance_function import VarFuncObjective

            self.weighted = VarFuncObjective(_design(result), result.varfunc, fit.REML)
        else:
            self.plain = GaussianObjective(fit.design, REML=fit.REML)
        self.pars = self._pars()
        self.n_delta = 0 if result.varfunc is None else result.varfunc.n_params

    def _pars(self) -> pd.Series:
        result = self.result
        values: list[float] = []
        index: list[str] = []
        for level in reversed(result.levels):
            names, cov = result.level_covariance(level)
            sd = np.sqrt(np.diag(cov))
            with np.errstate(divide="ignore", invalid="ignore"):
                psi = list(np.log(sd))
                if level.kind == "pdSymm":
                    rows, cols = _pairs(len(names))
                    rho = cov[rows, cols] / (sd[rows] * sd[cols])
                    psi += list(np.log((1.0 + rho) / (1.0 - rho)))
            if not np.all(np.isfinite(psi)):
                raise IdentifiabilityError(
                    "cannot get confidence intervals on var-cov components: a random-effect "
                    f"standard deviation or correlation of level {level.name!r} is on its "
                    "boundary",
                    remedy='use which="fixed", or simplify the random effects',
                )
            values += psi
            stem = f"reStruct.{level.name}"
            index += [stem] if len(psi) == 1 else [f"{stem}{i + 1}" for i in range(len(psi))]
        if self.cor is not None and result.phi is not None:
            values.append(self.to_unconstrained(result.phi))
            index.append("corStruct")
        if result.varfunc_delta is not None:
            values += [float(d) for d in result.varfunc_delta]
            index += _varfunc_labels(result)[0]
        values.append(math.log(result.sigma))
        index.append("lSigma")
        return pd.Series(values, index=pd.Index(index), name="Pars")

    def to_unconstrained(self, phi: float) -> float:
        """nlme's unconstrained value of the correlation parameter."""
        assert self.cor is not None
        return _COR_SCALE[self.cor.r_name] * self.cor.from_natural(phi, self.max_size)

    def to_natural(self, u: float) -> float:
        """The correlation parameter from nlme's unconstrained value."""
        assert self.cor is not None
        return self.cor.to_natural(u / _COR_SCALE[self.cor.r_name], self.max_size)

    def theta(self, psi: FloatArray, sigma: float) -> FloatArray:
        """lme4's θ of the random effects described by ``psi`` (levels inner to outer)."""
        design = _design(self.result)
        theta = np.asarray(design.theta, dtype=float).copy()
        start = 0
        for level in reversed(self.result.levels):
            k = sum(design.terms[i].k for i in level.terms)
            sd = np.exp(psi[start : start + k])
            start += k
            corr = np.eye(k)
            if level.kind == "pdSymm":
                rows, cols = _pairs(k)
                v = psi[start : start + rows.size]
                start += rows.size
                corr[rows, cols] = corr[cols, rows] = np.tanh(v / 2.0)
            delta = corr * np.outer(sd, sd) / sigma**2
            first = 0
            for i in level.terms:
                term = design.terms[i]
                lam = np.linalg.cholesky(delta[first : first + term.k, first : first + term.k])
                first += term.k
                template = term.cov.template()
                if template is None:  # pragma: no cover - lme uses linear structures only
                    raise NotImplementedError(term.cov)
                used = template >= 0
                theta[term.theta_slice][template[used]] = lam[used]
        return theta

    def _criterion(self, theta: FloatArray, psi: FloatArray) -> tuple[float, float]:
        """The profiled criterion ``d`` and ``σ̂²`` at θ (and φ, δ from ψ); σ̂² is NaN
        where ``d`` is infinite."""
        delta = psi[psi.size - 1 - self.n_delta : psi.size - 1]
        if self.plain is not None:
            return self.plain(theta), self.plain.sigma() ** 2
        if self.weighted is not None:
            value = self.weighted(np.r_[theta, delta])
            if not math.isfinite(value):
                return value, math.nan
            return value, self.weighted.at(delta).sigma() ** 2
        assert self.cor is not None and self.correlated is not None
        x = float(psi[psi.size - 2 - self.n_delta]) / _COR_SCALE[self.cor.r_name]
        value = self.correlated(np.r_[theta, x, delta])
        if not math.isfinite(value):
            return value, math.nan
        return value, self.correlated.at(self.correlated.phi(x), delta)[0].sigma() ** 2

    def __call__(self, psi: FloatArray) -> float:
        """ℓ(ψ) (``−inf`` where Δ or the criterion cannot be factored)."""
        psi = np.asarray(psi, dtype=float)
        sigma2 = math.exp(2.0 * psi[-1])
        try:
            theta = self.theta(psi, math.sqrt(sigma2))
        except np.linalg.LinAlgError:
            return -math.inf
        d, s2 = self._criterion(theta, psi)
        if not math.isfinite(d):
            return -math.inf
        return -0.5 * (d + self.nu * (math.log(sigma2 / s2) + s2 / sigma2 - 1.0))


def central_hessian(
    fun: Callable[[FloatArray], float], pars: FloatArray, steps: FloatArray
) -> FloatArray:
    """The Hessian of ``fun`` at ``pars`` by central differences with steps ``h``.

    ``H_ii = (f(+h_i) − 2 f(0) + f(−h_i)) / h_i²`` and
    ``H_ij = (f(+h_i +h_j) − f(+h_i −h_j) − f(−h_i +h_j) + f(−h_i −h_j)) / (4 h_i h_j)``;
    both have a truncation error of order ``h²``.
    """
    pars = np.asarray(pars, dtype=float)
    h = np.asarray(steps, dtype=float)
    k = pars.size
    shift = np.diag(h)
    f0 = fun(pars)
    hess = np.empty((k, k))
    for i in range(k):
        up, down = fun(pars + shift[i]), fun(pars - shift[i])
        hess[i, i] = (up - 2.0 * f0 + down) / h[i] ** 2
        for j in range(i):
            corners = [fun(pars + a * shift[i] + b * shift[j]) for a in (1, -1) for b in (1, -1)]
            hess[i, j] = hess[j, i] = (corners[0] - corners[1] - corners[2] + corners[3]) / (
                4.0 * h[i] * h[j]
            )
    return hess


def approximate_vcov(likelihood: NaturalLikelihood, pars: pd.Series | None = None) -> pd.DataFrame:
    """nlme's ``fit$apVar``: ``(−∇²ℓ)⁻¹`` at ψ, the Hessian by :func:`central_hessian`.

    Parameters
    ----------
    likelihood : NaturalLikelihood
    pars : Series, optional
        ψ in the order of ``likelihood.pars`` (default: the fit's).

    Raises
    ------
    IdentifiabilityError
        The Hessian is not negative definite (nlme's "Non-positive definite
        approximate variance-covariance").
    """
    psi = likelihood.pars if pars is None else pars
    values = psi.to_numpy(dtype=float)
    hess = central_hessian(likelihood, values, STEP * np.maximum(np.abs(values), 1.0))
    if not (np.all(np.isfinite(hess)) and np.all(np.linalg.eigvalsh(hess) < 0)):
        raise IdentifiabilityError(
            f"cannot get confidence intervals on var-cov components: {_NON_PD}",
            remedy='use which="fixed" for the fixed effects only, or simplify the '
            "random effects or the correlation structure",
        )
    return pd.DataFrame(np.linalg.inv(-hess), index=psi.index, columns=psi.index)


# ----------------------------------------------------------------------------- intervals
def _table(lower: FloatArray, est: FloatArray, upper: FloatArray, index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(dict(zip(COLUMNS, (lower, est, upper), strict=True)), index=index)


def fixed_intervals(result: LmeResult, level: float = 0.95) -> pd.DataFrame:
    """``intervals(fit, which = "fixed")$fixed``: t intervals with nlme's DF."""
    est = result.fe_params.to_numpy(dtype=float)
    df = result.fixed_df.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        q = np.where(df > 0, stats.t.ppf(0.5 + level / 2.0, np.maximum(df, 1.0)), np.nan)
    half = q * result.bse.to_numpy(dtype=float)
    return _table(est - half, est, est + half, result.fe_params.index)


def variance_intervals(result: LmeResult, level: float = 0.95) -> dict[str, pd.DataFrame]:
    """The ``reStruct``, ``corStruct``, ``varStruct`` and ``sigma`` tables of nlme's
    ``intervals``.

    ``reStruct`` is indexed by (level, parameter), levels outer to inner as
    nlme prints them; ``corStruct`` by the structure's parameter; ``varStruct``
    by the non-reference strata (``varIdent``) or the parameter (``power``,
    ``expon``), as SD ratios, power or exponent; ``sigma`` by ``"sigma"``.
    """
    likelihood = NaturalLikelihood(result)
    ap_var = approximate_vcov(likelihood)
    est = likelihood.pars.to_numpy(dtype=float)
    half = stats.norm.ppf(0.5 + level / 2.0) * np.sqrt(np.diag(ap_var.to_numpy()))
    bounds = np.column_stack([est - half, est, est + half])
    out: dict[str, pd.DataFrame] = {}
    frames = []
    start = 0
    for lv in reversed(result.levels):
        names, _ = result.level_covariance(lv)
        labels = _level_parameters(lv, names)
        block = bounds[start : start + len(labels)]
        start += len(labels)
        k = len(names)
        block = np.vstack([np.exp(block[:k]), np.tanh(block[k:] / 2.0)])
        frames.append(
            pd.DataFrame(
                block,
                index=pd.MultiIndex.from_product([[lv.name], labels], names=["level", None]),
                columns=list(COLUMNS),
            )
        )
    out["reStruct"] = pd.concat(frames[::-1])
    cor = result.correlation
    if cor is not None:
        row = [likelihood.to_natural(u) for u in bounds[start]]
        out["corStruct"] = pd.DataFrame([row], index=[cor.parameter_name], columns=list(COLUMNS))
        start += 1
    varfunc = result.varfunc
    if varfunc is not None:
        k = varfunc.n_params
        block = bounds[start : start + k]
        lower, est, upper = (varfunc.natural(block[:, c]).to_numpy()[-k:] for c in range(3))
        out["varStruct"] = _table(lower, est, upper, pd.Index(_varfunc_labels(result)[1]))
    out["sigma"] = pd.DataFrame([np.exp(bounds[-1])], index=["sigma"], columns=list(COLUMNS))
    return out


def intervals(
    result: LmeResult,
    level: float = 0.95,
    which: str = "all",
) -> dict[str, pd.DataFrame]:
    """nlme's ``intervals(fit, level, which)`` (see the module doc and
    :meth:`LmeResult.intervals <interlace.results.lme_result.LmeResult.intervals>`)."""
    if which not in WHICH:
        raise ValueError(f"which must be one of {', '.join(map(repr, WHICH))}, not {which!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, not {level!r}")
    out: dict[str, pd.DataFrame] = {}
    if which != "var-cov":
        out["fixed"] = fixed_intervals(result, level)
    if which != "fixed":
        out.update(variance_intervals(result, level))
    return out
