"""Predictions of a cumulative link mixed model (beyond ``ordinal``, which has no ``predict.clmm``).

For a row with fixed-effects row ``x``, offset ``o`` and random-effects part
``z'b̂`` (conditional modes, or 0 for ``re_form="NA"`` and for new levels with
``allow_new_levels=True``), the latent location is ``s = x'β + o + z'b̂`` and

* ``type="linear.predictor"``: ``s``;
* ``type="cum.prob"``: ``P(Y ≤ j) = F(θ_j − s)`` for every category ``j``
  (the last column is 1);
* ``type="prob"``: ``P(Y = j)``, the differences of the cumulative ones;
* ``type="class"``: the most probable category (an ordered Categorical).

The design of new rows is built as for ``lmer``/``glmer`` predictions
(:mod:`interlace.design.newdata`: training levels, contrasts and transform
states; unseen factor levels are errors).  Rows with a missing predictor give
``NaN``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.newdata import NewDesign, new_design, training_terms
from interlace.engine.cumulative import get_cumulative_link
from interlace.errors import InterlaceError
from interlace.ir.terms import ORDINAL, RandomTerm
from interlace.results.predict import random_part, select_random_terms

if TYPE_CHECKING:
    from interlace.results.clmm_result import ClmmResult

FloatArray = NDArray[np.float64]

PREDICT_TYPES = ("prob", "cum.prob", "class", "linear.predictor")


def _terms(result: ClmmResult, re_form: str | None) -> tuple[RandomTerm, ...]:
    """The random terms ``re_form`` keeps (all for ``None``, none for ``"NA"``)."""
    groups = [t.group for t in result.design.random.terms]
    return select_random_terms(result.design.formula, groups, re_form, ORDINAL)


def _design(result: ClmmResult, newdata: pd.DataFrame | None, re_form: str | None) -> NewDesign:
    design = result.design
    terms = _terms(result, re_form)
    if newdata is None:
        return training_terms(terms, design.frame, design.X, design.offset)
    return new_design(
        design.formula,
        design.frame,
        list(design.X_names),
        newdata,
        terms,
        contrasts=design.contrasts,
    )


def latent_location(
    result: ClmmResult,
    newdata: pd.DataFrame | None = None,
    *,
    re_form: str | None = None,
    allow_new_levels: bool = False,
) -> FloatArray:
    """``s = x'β + o + z'b̂`` per row; ``NaN`` where a predictor is missing."""
    new = _design(result, newdata, re_form)
    s = new.X @ result.fe_params.to_numpy()
    if new.offset is not None:
        s = s + new.offset
    s = s + random_part(cast(Any, result), new, allow_new_levels)
    s[new.missing] = np.nan
    return np.asarray(s, dtype=float)


def predict(
    result: ClmmResult,
    newdata: pd.DataFrame | None = None,
    *,
    type: str = "prob",
    re_form: str | None = None,
    allow_new_levels: bool = False,
) -> pd.Series | pd.DataFrame:
    """Predictions on ``newdata`` (or the fitted rows); see the module docstring.

    Raises
    ------
    InterlaceError
        An unknown ``type``.
    NewLevelError
        Unseen grouping levels without ``allow_new_levels``, or a new level of a
        fixed factor.
    FormulaError
        ``re_form`` names a grouping factor the model does not have.
    """
    if type not in PREDICT_TYPES:
        raise InterlaceError(f"type must be one of {PREDICT_TYPES}, not {type!r}")
    s = latent_location(result, newdata, re_form=re_form, allow_new_levels=allow_new_levels)
    index = newdata.index if newdata is not None else result.design.row_labels
    if type == "linear.predictor":
        return pd.Series(s, index=index, name="linear.predictor")
    levels = list(result.design.y_levels)
    link = get_cumulative_link(result.link)
    theta = result.threshold_values.to_numpy()
    cum = link.cdf(theta[None, :] - s[:, None])
    cum = np.column_stack([cum, np.where(np.isnan(s), np.nan, 1.0)])
    if type == "cum.prob":
        return pd.DataFrame(cum, index=index, columns=levels)
    prob = np.diff(cum, axis=1, prepend=0.0)
    if type == "prob":
        return pd.DataFrame(prob, index=index, columns=levels)
    codes = np.where(np.isnan(s), -1, np.argmax(np.nan_to_num(prob, nan=-1.0), axis=1)).tolist()
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=pd.Index(levels), ordered=True),
        index=index,
        name="class",
    )
