"""Predictions and residuals of a coxme fit.

coxme 2.2-22's ``predict.coxme`` returns the fit's ``linear.predictor``, ``X beta + Z b``
(neither centred nor including an offset), or its exponential for ``type = "risk"``, and
refuses new data; it has no ``residuals`` method.  interlace extends both the way survival
treats a Cox model whose random effects are known:

* ``type="lp"``/``"risk"`` on new rows: ``X beta + sum_i z_i b_i[g_i]`` over the random terms
  ``re_form`` keeps (:func:`~interlace.results.predict.select_random_terms`); a level the fit
  has not seen is an error unless ``allow_new_levels``, and then gets random effects 0;
* ``type="survival"``: ``S(t | x, b) = exp(-H0_s(t) exp(eta))`` with ``eta`` the linear
  predictor plus the row's ``offset()`` terms and ``H0_s`` the baseline cumulative hazard of
  the row's stratum, estimated with the fitted random effects (and offsets) in the linear
  predictor: the jump at event time ``j`` is ``sum_k wbar_j / d_jk``, Breslow's estimator
  for Breslow ties and its Efron adjustment for Efron ties (survival's ``survfit.coxph``
  defaults for the model ``coxph(Surv ~ x + offset(Zb), init = beta, iter.max = 0)``);
* residuals: ``residuals.coxph`` of that same model (:mod:`interlace.cox.residuals`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from interlace.cox.partial import tied_risk
from interlace.cox.residuals import ResidualType, cox_residuals
from interlace.cox.variance import CoxmeTerm
from interlace.design.evaluate import FactorColumn, evaluate
from interlace.design.newdata import NewDesign, NewTerm, new_design, training_terms
from interlace.errors import InterlaceError, NewLevelError
from interlace.ir.terms import COXME
from interlace.results.predict import check_new_levels, select_random_terms

if TYPE_CHECKING:
    from interlace.results.coxme_result import CoxmeResult

FloatArray = NDArray[np.float64]
PredictType = Literal["lp", "link", "risk", "survival"]

_INTERCEPT = {"(Intercept)": "Intercept"}


@dataclass(frozen=True)
class _Rows:
    """The linear predictor of the rows to predict and what ``type="survival"`` needs."""

    index: pd.Index
    lp: FloatArray
    offset: FloatArray
    strata: NDArray[np.intp] | None


def _term_for(result: CoxmeResult, group: str) -> tuple[CoxmeTerm, NDArray[np.intp]]:
    """The fitted term of grouping factor ``group`` (the formula layer's name, ``"b:a"``) and
    the positions of its effects in ``b``."""
    layout = result.design.layout
    for term, index in zip(layout.terms, layout.index, strict=True):
        if term.source_group == group:
            return term, index
    raise InterlaceError(f"the model has no random term on {group}")  # select_random_terms checks


def _random_part(result: CoxmeResult, new: NewDesign, allow_new_levels: bool) -> FloatArray:
    """``sum_i z_i b_i[g_i]`` over the terms of ``new``; unseen levels contribute 0."""
    total = np.zeros(new.n)
    for new_term in new.terms:
        total += _term_effect(result, new_term, allow_new_levels)
    return total


def _term_effect(result: CoxmeResult, new_term: NewTerm, allow_new_levels: bool) -> FloatArray:
    term, index = _term_for(result, new_term.group)
    fitted = term.names()
    wanted = [_INTERCEPT.get(name, name) for name in new_term.names]
    absent = [name for name in wanted if name not in fitted]
    if absent:
        raise InterlaceError(
            f"random effects {', '.join(absent)} of ({new_term.source}) are not in the model "
            f"(effects of {term.group}: {', '.join(fitted)})",
            term=new_term.source,
        )
    level = pd.Index(list(term.source_levels)).get_indexer(
        pd.Index([None if lv is None else str(lv) for lv in new_term.labels], dtype=object)
    )
    if not allow_new_levels:
        check_new_levels(term.group, new_term.labels, level)
    b = result.fit.b
    out = np.zeros(new_term.z.shape[0])
    seen = level >= 0
    for column, name in enumerate(wanted):
        effects = b[index[fitted.index(name)]]
        out[seen] += new_term.z[seen, column] * effects[level[seen]]
    return out


def _new_strata(result: CoxmeResult, newdata: pd.DataFrame) -> NDArray[np.intp] | None:
    """The stratum (position in the fit's strata levels) of each new row."""
    design = result.design
    variable = design.strata_variable
    if variable is None:
        return None
    column, _ = evaluate(variable.expr, newdata, design.frame.transform_state.get(variable.label))
    labels = column.labels() if isinstance(column, FactorColumn) else np.asarray(column.values)
    position = {level: i for i, level in enumerate(design.strata_levels)}
    codes = np.array([position.get(str(lv), -1) for lv in labels], dtype=np.intp)
    if np.any(codes < 0):
        unseen = sorted({str(lv) for lv, c in zip(labels, codes, strict=True) if c < 0})
        raise NewLevelError(
            f"{variable.label} has strata not in the fitted data: {', '.join(unseen)}",
            column=variable.label,
            remedy=f"use one of the fitted strata: {', '.join(design.strata_levels)}",
        )
    return codes


def _rows(
    result: CoxmeResult,
    newdata: pd.DataFrame | None,
    re_form: str | None,
    allow_new_levels: bool,
) -> _Rows:
    design = result.design
    groups = [t.source_group for t in design.layout.terms]
    terms = select_random_terms(design.formula, groups, re_form, COXME)
    if newdata is None:
        new = training_terms(terms, design.frame, design.X, design.offset)
        index, strata = design.row_labels, design.strata
    else:
        new = new_design(design.fixed_formula, design.frame, design.X_names, newdata, terms)
        index, strata = newdata.index, _new_strata(result, newdata)
    lp = new.X @ result.fit.beta + _random_part(result, new, allow_new_levels)
    lp[new.missing] = np.nan
    offset = np.zeros(new.n) if new.offset is None else np.asarray(new.offset, dtype=float)
    return _Rows(index, lp, offset, strata)


def baseline_hazard(result: CoxmeResult) -> pd.DataFrame:
    """The baseline cumulative hazard at the event times, with the fitted random effects.

    Returns
    -------
    DataFrame
        Columns ``strata`` (stratified models only), ``time`` and ``hazard`` (cumulative),
        stratum by stratum.
    """
    design = result.design
    rs = design.risk
    eta = design.offset + result._linear_predictor
    jump, _ = tied_risk(rs, design.weights * np.exp(eta), result.ties).hazard(rs)
    cumulative = np.zeros(rs.n_times)
    for s in np.unique(rs.time_stratum):
        at = rs.time_stratum == s
        cumulative[at] = np.cumsum(jump[at])
    frame = pd.DataFrame({"time": rs.times, "hazard": cumulative})
    if design.strata is not None:
        frame.insert(0, "strata", np.asarray(design.strata_levels, dtype=object)[rs.time_stratum])
    return frame


def _survival_frame(result: CoxmeResult, rows: _Rows, times: ArrayLike | None) -> pd.DataFrame:
    design = result.design
    rs = design.risk
    base = baseline_hazard(result)["hazard"].to_numpy()
    strata = np.zeros(rows.lp.size, dtype=np.intp) if rows.strata is None else rows.strata
    wanted = None if times is None else np.atleast_1d(np.asarray(times, dtype=float))
    parts = []
    for i, label in enumerate(rows.index):
        at = rs.time_stratum == strata[i]
        stratum_times, stratum_hazard = rs.times[at], base[at]
        if wanted is None:
            t, H0 = stratum_times, stratum_hazard
        else:
            step = np.searchsorted(stratum_times, wanted, side="right") - 1
            t = wanted
            H0 = np.where(step >= 0, stratum_hazard[np.maximum(step, 0)], 0.0)
        cumhaz = H0 * np.exp(rows.lp[i] + rows.offset[i])
        part = pd.DataFrame(
            {"row": [label] * t.size, "time": t, "cumhaz": cumhaz, "survival": np.exp(-cumhaz)}
        )
        if design.strata is not None:
            part.insert(1, "strata", design.strata_levels[strata[i]])
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def predict(
    result: CoxmeResult,
    newdata: pd.DataFrame | None = None,
    *,
    type: PredictType = "lp",
    re_form: str | None = None,
    allow_new_levels: bool = False,
    times: ArrayLike | None = None,
) -> pd.Series | pd.DataFrame:
    """Predictions of a coxme fit (see the module docstring).

    Parameters
    ----------
    result
        The fit.
    newdata
        Rows to predict (never modified); ``None`` for the fitted rows.  A stratified model
        needs the strata variable for ``type="survival"``.
    type
        ``"lp"`` (``X beta + Z b``; ``"link"``, the name every interlace result accepts, is
        the same), ``"risk"`` (its exponential) or ``"survival"``.
    re_form
        ``None`` (all random effects), ``"NA"``/``"~0"`` (none: the fixed part only) or a
        formula of random terms such as ``"~ (1 | inst)"``.
    allow_new_levels
        Give unseen grouping levels random effects 0 instead of raising.
    times
        For ``type="survival"``: the times at which to evaluate ``S``; ``None`` for the event
        times of each row's stratum.

    Returns
    -------
    Series or DataFrame
        ``"lp"``/``"risk"``: a Series indexed like ``newdata`` (or the fitted rows).
        ``"survival"``: a long DataFrame with columns ``row`` (the row label), ``strata``
        (stratified models), ``time``, ``cumhaz`` and ``survival``.

    Raises
    ------
    NewLevelError
        Unseen grouping levels without ``allow_new_levels``; an unseen stratum or factor level.
    InterlaceError
        An unknown ``type``; ``times`` without ``type="survival"``.
    """
    if type not in ("lp", "link", "risk", "survival"):
        raise InterlaceError(f"type must be 'lp' ('link'), 'risk' or 'survival', not {type!r}")
    if times is not None and type != "survival":
        raise InterlaceError("times applies to type='survival' only")
    rows = _rows(result, newdata, re_form, allow_new_levels)
    if type == "survival":
        return _survival_frame(result, rows, times)
    if type == "risk":
        return pd.Series(np.exp(rows.lp), index=rows.index, name="risk")
    return pd.Series(rows.lp, index=rows.index, name="lp")


def residuals(result: CoxmeResult, type: ResidualType = "martingale") -> pd.Series | pd.DataFrame:
    """Residuals of the Cox model with the random effects as an offset (survival's).

    Returns
    -------
    Series or DataFrame
        Martingale or deviance residuals indexed by the fitted rows; score residuals as a
        DataFrame with one column per fixed effect.

    Raises
    ------
    InterlaceError
        An unknown ``type``.
    """
    if type not in ("martingale", "deviance", "score"):
        raise InterlaceError(f"type must be 'martingale', 'deviance' or 'score', not {type!r}")
    design = result.design
    eta = design.offset + result._linear_predictor
    values = cox_residuals(design.risk, design.X, eta, design.weights, result.ties, type)
    if type == "score":
        return pd.DataFrame(values, index=design.row_labels, columns=list(design.X_names))
    return pd.Series(values, index=design.row_labels, name=type)
