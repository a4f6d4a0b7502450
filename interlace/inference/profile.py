"""Profile-likelihood confidence intervals (lme4's ``confint(method = "profile")``).

As lme4's ``profile.merMod`` the profiles use the **ML** deviance (REML fits are
refitted by maximum likelihood first) and the parameters of ``VarCorr``: per
random term the standard deviations and correlations (``.sig01``, …, in θ's
order: diagonal entries → standard deviations, off-diagonal → correlations),
then the residual standard deviation ``.sigma``, then the fixed effects.  For
one parameter ``ψ`` fixed at ``v`` the deviance is minimised over all the
others,

    d̃(v) = min d(ψ = v, ·),   ζ(v) = sign(v − ψ̂) √(d̃(v) − d̂),

and the bounds of the level-``1 − α`` interval solve ``ζ(v) = ∓ z_{1−α/2}``.
lme4 interpolates ``ζ`` with a spline through a grid of profile points; here
the equation is solved by root finding on the exact profile.  A standard
deviation whose profile does not reach the bound before zero gets the lower
bound 0 (as lme4 reports), a correlation ±1.

The deviance with ``σ`` not profiled is (Bates et al. 2015, eq. 34)

    d(θ, σ) = log|L_θ|² − Σ log w_i + r²_θ / σ² + n log(2πσ²),

evaluated through :class:`~interlace.engine.gaussian.GaussianObjective`.  For a
fixed effect ``β_j = v`` the model is refitted with ``x_j v`` moved into the
offset, and ``σ`` and the other fixed effects profiled out.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import nlopt
import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

from interlace.engine.gaussian import GaussianObjective
from interlace.engine.protocol import LmmDesign
from interlace.errors import InterlaceError, NumericalError
from interlace.inference.lrt import refit_ml

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]

#: Relative tolerance of the bounds (root finding).
ROOT_XTOL = 1e-8
#: Steps outwards before a bound is declared unreachable.
MAX_EXPANSIONS = 60
#: Growth factor of successive steps outwards.
STEP_GROWTH = 1.5


class ProfileError(InterlaceError, ValueError):
    """A profile that cannot be computed for this model."""

    code = "profile"


def _term_layout(design: LmmDesign) -> list[tuple[int, NDArray[np.intp]]]:
    """Per term: its dimension ``k`` and the template (θ index of each ``λ`` entry, −1 if none)."""
    out = []
    for term in design.terms:
        k = len(term.names)
        tmpl = term.cov.template()
        if tmpl is None or term.cov.n_theta != k * (k + 1) // 2:
            raise ProfileError("profile intervals need unstructured (lme4) covariance terms")
        out.append((k, np.asarray(tmpl)))
    return out


#: Relative tolerance for a zero pivot in :func:`psd_cholesky`.
PIVOT_TOL = 1e-12


def psd_cholesky(a: FloatArray) -> FloatArray | None:
    """Lower Cholesky factor of a positive *semi*-definite matrix, or ``None`` if it is not one.

    A zero pivot (a standard deviation of zero, a correlation of ±1) gives a
    zero column instead of a failure, so the profile can reach the boundary.
    """
    k = a.shape[0]
    scale = max(float(np.max(np.abs(np.diag(a)))), 1e-300)
    low = np.zeros((k, k))
    for j in range(k):
        d = a[j, j] - low[j, :j] @ low[j, :j]
        if d < -PIVOT_TOL * scale:
            return None
        low[j, j] = math.sqrt(max(d, 0.0))
        for i in range(j + 1, k):
            r = a[i, j] - low[i, :j] @ low[j, :j]
            if low[j, j] > math.sqrt(PIVOT_TOL * scale):
                low[i, j] = r / low[j, j]
            elif abs(r) > math.sqrt(PIVOT_TOL) * scale:
                return None
    return low


class VarCorrMap:
    """θ and σ ↔ standard deviations and correlations of the random effects, as lme4 orders them."""

    def __init__(self, design: LmmDesign) -> None:
        self.layout = _term_layout(design)
        self.n_theta = sum(k * (k + 1) // 2 for k, _ in self.layout)

    def to_sdcor(self, theta: FloatArray, sigma: float) -> FloatArray:
        """``(θ, σ)`` → ``[.sig01, …, .sigma]``."""
        out = np.empty(self.n_theta + 1)
        start = 0
        for k, tmpl in self.layout:
            lam = np.zeros((k, k))
            mask = tmpl >= 0
            lam[mask] = theta[start + tmpl[mask]]
            cov = sigma**2 * (lam @ lam.T)
            sd = np.sqrt(np.diag(cov))
            for i, j in zip(*np.nonzero(mask), strict=True):
                idx = start + int(tmpl[i, j])
                if i == j:
                    out[idx] = sd[i]
                else:
                    out[idx] = cov[i, j] / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else 0.0
            start += k * (k + 1) // 2
        out[-1] = sigma
        return out

    def to_theta(self, sdcor: FloatArray) -> FloatArray | None:
        """``[.sig01, …, .sigma]`` → θ, or ``None`` when a correlation matrix is not valid."""
        sigma = sdcor[-1]
        theta = np.empty(self.n_theta)
        start = 0
        for k, tmpl in self.layout:
            mask = tmpl >= 0
            sd = np.empty(k)
            corr = np.eye(k)
            for i, j in zip(*np.nonzero(mask), strict=True):
                value = sdcor[start + int(tmpl[i, j])]
                if i == j:
                    sd[i] = value
                else:
                    corr[i, j] = corr[j, i] = value
            lam = psd_cholesky(corr * np.outer(sd, sd) / sigma**2)
            if lam is None:
                return None
            for i, j in zip(*np.nonzero(mask), strict=True):
                theta[start + int(tmpl[i, j])] = lam[i, j]
            start += k * (k + 1) // 2
        return theta

    def bounds(self) -> list[tuple[float, float]]:
        """Box bounds of ``[.sig01, …, .sigma]``: SDs ≥ 0, correlations in [−1, 1], σ > 0."""
        out: list[tuple[float, float]] = [(0.0, math.inf)] * (self.n_theta + 1)
        start = 0
        for k, tmpl in self.layout:
            for i, j in zip(*np.nonzero(tmpl >= 0), strict=True):
                if i != j:
                    out[start + int(tmpl[i, j])] = (-1.0, 1.0)
            start += k * (k + 1) // 2
        out[-1] = (1e-12, math.inf)
        return out


def _varpar_deviance(
    objective: GaussianObjective, vmap: VarCorrMap
) -> Callable[[FloatArray], float]:
    """``[.sig01, …, .sigma]`` ↦ ML deviance with σ fixed (``inf`` off the parameter space)."""

    def dev(sdcor: FloatArray) -> float:
        sigma = float(sdcor[-1])
        theta = vmap.to_theta(sdcor)
        if theta is None or not sigma > 0 or not np.all(np.isfinite(theta)):
            return math.inf
        try:
            objective.predictor.update(theta)
        except (NumericalError, np.linalg.LinAlgError):
            return math.inf
        pr = objective.predictor
        s2 = sigma**2
        return float(
            pr.ldL2 - objective.ldW + pr.pwrss / s2 + objective.n * math.log(2 * math.pi * s2)
        )

    return dev


def _minimise(
    fun: Callable[[FloatArray], float], x0: FloatArray, bounds: list[tuple[float, float]]
) -> tuple[float, FloatArray]:
    """Bounded derivative-free minimisation (NLopt's BOBYQA; Brent in one dimension)."""
    lower = np.array([lo for lo, _ in bounds])
    upper = np.array([hi for _, hi in bounds])
    x0 = np.clip(x0, lower, upper)
    if x0.size == 0:
        return fun(x0), x0
    if x0.size == 1:
        hi = upper[0] if np.isfinite(upper[0]) else max(4.0 * abs(x0[0]), x0[0] + 10.0)
        res = optimize.minimize_scalar(
            lambda t: fun(np.array([t])),
            bounds=(lower[0], hi),
            method="bounded",
            options={"xatol": 1e-12 * max(1.0, abs(x0[0]))},
        )
        return float(res.fun), np.array([res.x])
    opt = nlopt.opt(nlopt.LN_BOBYQA, x0.size)
    opt.set_min_objective(lambda x, grad: fun(np.asarray(x, dtype=float)))
    opt.set_lower_bounds(lower)
    opt.set_upper_bounds(upper)
    opt.set_xtol_rel(1e-12)
    opt.set_ftol_abs(1e-13)
    opt.set_maxeval(20000)
    x = opt.optimize(x0)
    return float(opt.last_optimum_value()), np.asarray(x, dtype=float)


def _best_of_starts(
    fun: Callable[[FloatArray], float],
    warm: dict[float, FloatArray],
    v: float,
    bounds: list[tuple[float, float]],
) -> float:
    """Minimise from the optimum (first entry of ``warm``) and from the nearest profile point.

    The profiled surface can have several local minima near the boundary
    (a standard deviation at zero, a correlation at ±1); two starts and
    small continuation steps keep the profile on the global branch.
    """
    starts = [next(iter(warm.values())), warm[min(warm, key=lambda u: abs(u - v))]]
    best_value, best_x = math.inf, starts[0]
    for start in starts:
        value, x = _minimise(fun, start.copy(), bounds)
        if value < best_value:
            best_value, best_x = value, x
    warm[v] = best_x
    return best_value


class Profiler:
    """Profile deviances of one fit (refitted by ML if it was REML).

    Parameters
    ----------
    result : LmerResult
    """

    def __init__(self, result: LmerResult) -> None:
        ml = refit_ml(result) if result.REML else result
        self.ml = ml
        self.design = ml.design
        self.vmap = VarCorrMap(self.design)
        self.objective = GaussianObjective(self.design, REML=False)
        self.dev_varpar = _varpar_deviance(self.objective, self.vmap)
        self.hat_varpar = self.vmap.to_sdcor(np.atleast_1d(ml.theta), ml.sigma)
        self.base = self.dev_varpar(self.hat_varpar)
        self.names = [f".sig{i + 1:02d}" for i in range(self.vmap.n_theta)] + [".sigma"]

    # -------------------------------------------------------------- profiles
    def varpar_profile(self, i: int) -> Callable[[float], float]:
        """``v ↦ d̃(v)`` for the ``i``-th variance parameter."""
        bounds = self.vmap.bounds()
        free = [j for j in range(len(bounds)) if j != i]
        warm: dict[float, FloatArray] = {float(self.hat_varpar[i]): self.hat_varpar[free]}

        def profile(v: float) -> float:
            def fun(x: FloatArray) -> float:
                full = np.empty(len(bounds))
                full[i] = v
                full[free] = x
                return self.dev_varpar(full)

            return _best_of_starts(fun, warm, v, [bounds[j] for j in free])

        return profile

    def beta_profile(self, j: int) -> Callable[[float], float]:
        """``v ↦ d̃(v)`` for the ``j``-th fixed effect."""
        d = self.design
        if not dataclasses.is_dataclass(d) or isinstance(d, type):
            raise ProfileError("fixed-effect profiles need a dataclass design")
        X = np.asarray(d.X, dtype=float)
        keep = [c for c in range(X.shape[1]) if c != j]
        lower = np.asarray(d.lower, dtype=float)
        bounds = [(lo, math.inf) for lo in lower]
        warm: dict[float, FloatArray] = {float(self.ml.beta[j]): np.atleast_1d(self.ml.theta)}
        offset0 = np.zeros(X.shape[0]) if d.offset is None else np.asarray(d.offset, dtype=float)
        names = tuple(d.X_names[c] for c in keep)

        def profile(v: float) -> float:
            reduced = dataclasses.replace(
                d, X=X[:, keep], X_names=names, offset=offset0 + X[:, j] * v
            )
            obj = GaussianObjective(reduced, REML=False)
            return _best_of_starts(obj, warm, v, bounds)

        return profile

    # ----------------------------------------------------------------- bounds
    def bound(
        self,
        profile: Callable[[float], float],
        hat: float,
        direction: int,
        step: float,
        z: float,
        limits: tuple[float, float],
    ) -> float:
        """The ``v`` beyond ``hat`` in ``direction`` where ``|ζ(v)| = z`` (or the limit)."""

        def excess(v: float) -> float:
            return math.sqrt(max(profile(v) - self.base, 0.0)) - z

        lo_lim, hi_lim = limits
        prev = hat
        h = step
        for _ in range(MAX_EXPANSIONS):
            cand = prev + direction * h
            if cand <= lo_lim or cand >= hi_lim:
                edge = lo_lim if direction < 0 else hi_lim
                if excess(edge) < 0:
                    return edge
                return float(
                    optimize.brentq(excess, prev, edge, xtol=ROOT_XTOL * max(1.0, abs(hat)))
                )
            if excess(cand) >= 0:
                return float(
                    optimize.brentq(excess, prev, cand, xtol=ROOT_XTOL * max(1.0, abs(hat)))
                )
            prev = cand
            h *= STEP_GROWTH
        return math.nan


def profile_intervals(result: LmerResult, level: float) -> tuple[list[str], FloatArray]:
    """Profile intervals of ``.sig01 … .sigma`` and the fixed effects (rows × [lower, upper])."""
    prof = Profiler(result)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    rows: list[list[float]] = []
    bounds = prof.vmap.bounds()
    for i, hat in enumerate(prof.hat_varpar):
        f = prof.varpar_profile(i)
        lo_lim, hi_lim = bounds[i]
        step = 0.1 * abs(hat) if hat != 0 else 0.05 * prof.ml.sigma
        if hi_lim == 1.0:  # a correlation
            step = 0.05
        rows.append(
            [
                prof.bound(f, hat, -1, step, z, (lo_lim, hi_lim)),
                prof.bound(f, hat, +1, step, z, (lo_lim, hi_lim)),
            ]
        )
    se = prof.ml.bse.to_numpy()
    for j, hat in enumerate(prof.ml.beta):
        f = prof.beta_profile(j)
        lims = (-math.inf, math.inf)
        rows.append(
            [
                prof.bound(f, hat, -1, 0.5 * se[j], z, lims),
                prof.bound(f, hat, +1, 0.5 * se[j], z, lims),
            ]
        )
    names = prof.names + list(prof.ml.fe_params.index)
    return names, np.asarray(rows, dtype=float)
