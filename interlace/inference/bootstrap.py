"""Parametric bootstrap of an LMM (lme4's ``bootMer`` and ``confint(method = "boot")``).

Each replicate simulates a new response from the fitted model — new random
effects and new residuals (lme4's ``simulate`` with ``use.u = FALSE``),

    y* = X β̂ + o + Σ_i Z_i (σ̂ Λ_i u_i*) + σ̂ W^{-1/2} ε*,   u*, ε* ~ N(0, I),

refits the model to ``y*`` (same design, same REML/ML criterion, started at
θ̂) and applies a statistic to the refit.  Replicate ``i`` draws from its own
random stream, ``SeedSequence(seed).spawn(nsim)[i]``, so the results do not
depend on the number of workers or on the order in which replicates finish.
Percentile intervals are the ``α/2`` and ``1 − α/2`` sample quantiles of the
replicates (R's ``quantile`` type 7); lme4 passes the replicates to
``boot::boot.ci``, whose percentile rule interpolates slightly differently,
and R's random numbers differ from NumPy's, so bootstrap intervals agree with
R's only up to Monte Carlo error.
"""

from __future__ import annotations

import dataclasses
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.errors import InterlaceError
from interlace.inference.profile import VarCorrMap

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]
Statistic = Callable[["LmerResult"], "pd.Series | FloatArray"]


class BootstrapError(InterlaceError, ValueError):
    """A bootstrap that cannot be run as asked."""

    code = "bootstrap"


@dataclass(frozen=True)
class BootResult:
    """Replicates of a parametric bootstrap (lme4's ``bootMer`` value).

    Attributes
    ----------
    t0 : Series
        The statistic on the original fit.
    t : DataFrame
        One row per replicate (``NaN`` where the refit failed).
    seed : int or None
        The seed the replicates were drawn from.
    """

    t0: pd.Series
    t: pd.DataFrame
    seed: int | None


def variance_parameter_names(result: LmerResult) -> list[str]:
    """lme4's old-style names of θ and σ: ``.sig01``, ``.sig02``, …, ``.sigma``.

    ``.sigma`` is listed only for models with a scale parameter (lme4's ``useSc``).
    """
    sig = [f".sig{i + 1:02d}" for i in range(np.atleast_1d(result.theta).size)]
    return [*sig, ".sigma"] if result.has_scale else sig


def varpar_and_fixef(result: LmerResult) -> pd.Series:
    """``.sig01 … .sigma`` (standard deviations and correlations) and the fixed effects.

    The parameters lme4's ``confint(method = "boot")`` reports, in its order.
    """
    vmap = VarCorrMap(result.design)
    sdcor = vmap.to_sdcor(np.atleast_1d(result.theta), result.sigma)
    names = variance_parameter_names(result)
    return pd.concat([pd.Series(sdcor, index=names), result.fe_params.rename(None)])


def _replicate(result: LmerResult, func: Statistic, seq: np.random.SeedSequence) -> FloatArray:
    from interlace.api.lmer import fit_lmer  # the api imports the results, which import this
    from interlace.results.simulate import simulate  # as lme4's bootMer: simulate(), then refit

    y = simulate(result, 1, np.random.default_rng(seq))["sim_1"].to_numpy()
    design = dataclasses.replace(result.design, y=y)  # type: ignore[type-var]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            refit = fit_lmer(design, REML=result.REML, start=np.atleast_1d(result.theta))
        except InterlaceError:
            return np.full(len(np.atleast_1d(func(result))), np.nan)
    return np.asarray(func(refit), dtype=float)


def bootstrap(
    result: LmerResult,
    nsim: int,
    func: Statistic | None = None,
    seed: int | None = None,
    n_jobs: int = 1,
    progress: bool = False,
) -> BootResult:
    """Parametric bootstrap of ``func`` over ``nsim`` simulated refits (lme4's ``bootMer``).

    Parameters
    ----------
    result : LmerResult
    nsim : int
        Number of replicates.
    func : callable, optional
        Statistic of a fit (a Series or a vector); default
        :func:`varpar_and_fixef`.
    seed : int, optional
        Seed of the replicates' random streams (``None``: fresh entropy).
    n_jobs : int
        Worker threads; the replicates do not depend on it.
    progress : bool
        Report progress on standard error.

    Returns
    -------
    BootResult
    """
    if nsim < 1:
        raise BootstrapError(f"nsim must be at least 1, not {nsim}")
    if not dataclasses.is_dataclass(result.design):
        raise BootstrapError("the bootstrap needs a dataclass design to replace the response")
    stat = varpar_and_fixef if func is None else func
    t0_raw = stat(result)
    t0 = t0_raw if isinstance(t0_raw, pd.Series) else pd.Series(np.asarray(t0_raw, dtype=float))
    seqs = np.random.SeedSequence(seed).spawn(nsim)
    rows: list[FloatArray] = [np.empty(0)] * nsim
    step = max(1, nsim // 10)

    def run(i: int) -> None:
        rows[i] = _replicate(result, stat, seqs[i])

    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
        for done, _ in enumerate(pool.map(run, range(nsim)), start=1):
            if progress and (done % step == 0 or done == nsim):
                print(f"bootstrap: {done}/{nsim} replicates", file=sys.stderr)
    t = pd.DataFrame(np.vstack(rows), columns=t0.index)
    return BootResult(t0=t0, t=t, seed=seed)


def percentile_intervals(boot: BootResult, level: float) -> FloatArray:
    """Rows × [lower, upper]: the ``(1 ± level)/2`` quantiles of the replicates (NaN dropped)."""
    a = (1.0 - level) / 2.0
    values = boot.t.to_numpy()
    return np.asarray(np.nanquantile(values, [a, 1.0 - a], axis=0).T, dtype=float)
