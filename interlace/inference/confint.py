"""Confidence intervals for the parameters of a linear mixed model (lme4's ``confint``).

``method="Wald"``: for each fixed effect ``β̂_j ± z_{1−α/2} se_j`` with the
normal quantile, as lme4 computes it; the variance parameters (``.sig01``,
…, ``.sigma``) get no Wald interval and are listed with missing values.
``method="profile"``: likelihood-profile intervals of every parameter
(:mod:`interlace.inference.profile`).  ``method="boot"``: percentile intervals
of a parametric bootstrap (:mod:`interlace.inference.bootstrap`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from interlace.errors import InterlaceError
from interlace.inference.bootstrap import (
    bootstrap,
    percentile_intervals,
    variance_parameter_names,
)
from interlace.inference.profile import profile_intervals

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult


class ConfintMethodError(InterlaceError, ValueError):
    """An unknown or unavailable ``confint`` method."""

    code = "confint-method"


def percent_label(p: float) -> str:
    """R's ``format.perc``: ``0.025 → "2.5 %"`` (three significant digits)."""
    return f"{float(f'{100.0 * p:.3g}'):g} %"


def confint(
    result: LmerResult,
    method: str = "Wald",
    level: float = 0.95,
    *,
    nsim: int = 500,
    seed: int | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Confidence intervals, as ``confint(fit, method = method, level = level)``.

    Parameters
    ----------
    result : LmerResult
    method : {"Wald", "profile", "boot"}
    level : float
        Confidence level, in (0, 1).
    nsim, seed, n_jobs
        Replicates, seed and worker threads of ``method="boot"`` (lme4's
        default ``nsim = 500``); the intervals do not depend on ``n_jobs``.

    Returns
    -------
    DataFrame
        Rows ``.sig01 … .sigma`` then the fixed effects; columns the lower
        and upper percentages (``"2.5 %"``, ``"97.5 %"``).
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), not {level!r}")
    kind = str(method).lower()
    if kind not in ("wald", "profile", "boot"):
        raise ConfintMethodError(
            f"unknown confint method {method!r}", remedy="use 'Wald', 'profile' or 'boot'"
        )
    a = (1.0 - level) / 2.0
    cols = [percent_label(a), percent_label(1.0 - a)]
    if kind == "profile":
        names, bounds = profile_intervals(result, level)
        return pd.DataFrame(bounds, index=names, columns=cols)
    if kind == "boot":
        boot = bootstrap(result, nsim, seed=seed, n_jobs=n_jobs)
        return pd.DataFrame(percentile_intervals(boot, level), index=boot.t0.index, columns=cols)
    z = float(stats.norm.ppf(1.0 - a))
    est, se = result.fe_params.to_numpy(), result.bse.to_numpy()
    fixed = pd.DataFrame(
        np.column_stack([est - z * se, est + z * se]), index=result.fe_params.index, columns=cols
    )
    varpar = pd.DataFrame(np.nan, index=variance_parameter_names(result), columns=cols)
    return pd.concat([varpar, fixed])
