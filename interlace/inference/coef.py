"""The fixed-effects coefficient table of ``summary`` with denominator df.

``ddf="satterthwaite"`` is lmerTest's ``summary(fit)$coefficients``,
``ddf="kenward-roger"`` lmerTest's ``summary(fit, ddf = "Kenward-Roger")``
(standard errors from pbkrtest's adjusted covariance ``vcovAdj``), and
``ddf="none"`` lme4's table without df and p-values.  Each row is the
t test of one unit contrast ``e_j'β = 0``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from interlace.inference.methods import ddf_method, normalise_ddf

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

#: lmerTest's and lme4's column names.
COLUMNS = ("Estimate", "Std. Error", "df", "t value", "Pr(>|t|)")


def coef_table(result: LmerResult, ddf: str = "satterthwaite") -> pd.DataFrame:
    """Estimates, standard errors, df, t values and p-values of the fixed effects.

    Parameters
    ----------
    result : LmerResult
    ddf : {"satterthwaite", "kenward-roger", "none"}
        Denominator df method (R's spellings ``"Satterthwaite"``,
        ``"Kenward-Roger"`` and ``"lme4"`` are accepted).

    Returns
    -------
    DataFrame
        Indexed by coefficient name; columns ``Estimate, Std. Error, df,
        t value, Pr(>|t|)`` (``Estimate, Std. Error, t value`` for ``"none"``).
    """
    names = list(result.fe_params.index)
    if normalise_ddf(ddf) == "none":
        est, se = result.fe_params.to_numpy(), result.bse.to_numpy()
        return pd.DataFrame({"Estimate": est, "Std. Error": se, "t value": est / se}, index=names)
    method = ddf_method(result, ddf)
    eye = np.eye(len(names))
    tests = [method.t_test(eye[j]) for j in range(len(names))]
    return pd.DataFrame(
        [[t.estimate, t.se, t.df, t.t, t.p] for t in tests], index=names, columns=list(COLUMNS)
    )
