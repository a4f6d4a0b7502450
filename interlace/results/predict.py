"""Predictions from a fitted mixed model, as lme4 1.1-31's ``predict.merMod``.

The linear predictor on rows with fixed-effects matrix ``X``, offset ``o`` and,
for the random terms ``i`` that ``re_form`` includes, left-side matrices
``z_i`` and grouping levels ``g_i``, is

    η = X β̂ + o + Σ_i Σ_j z_i[:, j] b̂_i[g_i, j]

with ``b̂`` the conditional modes (``ranef``).  ``re_form=None`` (R's ``NULL``)
includes every random term, ``"NA"`` (or ``"~0"``) none, and a formula such as
``"~ (1 | Subject)"`` the effects it names: each of its bars picks, by grouping
factor and column name, effects of the fit.  A level the fit has not seen (or
a missing grouping value) is an error unless ``allow_new_levels``; its
effects are then 0, the population value.  ``type="response"`` applies the
inverse link (GLMMs; an LMM's identity link changes nothing).

Standard errors (``se_fit=True``, not in lme4 1.1-31) are those of the
population-level prediction, ``sqrt(diag(X V X'))`` with ``V = vcov(fit)``,
on the link scale, times ``|dμ/dη|`` on the response scale (delta method).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.frame import ModelFrame
from interlace.design.newdata import NewDesign, new_design, training_terms
from interlace.errors import FormulaError, InterlaceError, InterlaceWarning, NewLevelError
from interlace.formula import formula_ir
from interlace.ir.terms import LME4, Dialect, FormulaIR, RandomTerm

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

FloatArray = NDArray[np.float64]

NO_RANDOM_EFFECTS = "NA"
"""``re_form`` value for population-level predictions (R's ``re.form = NA``)."""

_NA_SPELLINGS = re.compile(r"^\s*(NA|~\s*0)\s*$")


def is_population(re_form: str | None) -> bool:
    """Whether ``re_form`` asks for no random effects (``"NA"``, ``"~0"``, ``"~ 0"``)."""
    return re_form is not None and _NA_SPELLINGS.match(re_form) is not None


def formula_of(result: LmerResult) -> FormulaIR:
    """The fit's expanded formula.

    Raises
    ------
    InterlaceError
        The fit's design does not record it.
    """
    formula = getattr(result.design, "formula", None)
    if not isinstance(formula, FormulaIR):
        raise InterlaceError("the fit's design does not record its formula, needed to predict")
    return formula


def frame_of(result: LmerResult) -> ModelFrame:
    """The fit's model frame.

    Raises
    ------
    InterlaceError
        The fit's design does not keep it.
    """
    frame = getattr(result.design, "frame", None)
    if not isinstance(frame, ModelFrame):
        raise InterlaceError(
            "the fit's design does not keep its model frame, needed to predict",
            remedy="refit with interlace.lmer or interlace.glmer",
        )
    return frame


def random_terms(result: LmerResult, re_form: str | None) -> tuple[RandomTerm, ...]:
    """The random terms ``re_form`` includes (R's ``findbars(re.form)``).

    Raises
    ------
    FormulaError
        ``re_form`` names a grouping factor the model does not have.
    """
    groups = [t.group for t in result.design.terms]
    return select_random_terms(formula_of(result), groups, re_form, LME4)


def select_random_terms(
    formula: FormulaIR, groups: Sequence[str], re_form: str | None, dialect: Dialect
) -> tuple[RandomTerm, ...]:
    """The random terms of ``formula`` that ``re_form`` keeps (all for ``None``, none for ``"NA"``).

    Parameters
    ----------
    formula
        The fit's expanded formula.
    groups
        The fit's grouping factors.
    re_form
        ``None``, a population spelling (``"NA"``, ``"~0"``) or a formula of bar terms.
    dialect
        The model class's rules for reading ``re_form``.

    Raises
    ------
    FormulaError
        ``re_form`` names a grouping factor the model does not have.
    """
    if re_form is None:
        return formula.random
    if is_population(re_form):
        return ()
    terms = formula_ir(re_form, dialect=dialect).random
    known = set(groups)
    for term in terms:
        if term.group_label not in known:
            raise FormulaError(
                f"re_form term ({term.source}) has grouping factor {term.group_label}, which is "
                f"not in the model (grouping factors: {', '.join(sorted(known))})",
                term=term.source,
            )
    return terms


def design_for(
    result: LmerResult, newdata: pd.DataFrame | None, terms: Sequence[RandomTerm]
) -> NewDesign:
    """The fit's design on ``newdata`` (or on its own rows), with the random ``terms``."""
    design = result.design
    if newdata is None:
        return training_terms(
            terms,
            frame_of(result),
            np.asarray(design.X, dtype=float),
            None if design.offset is None else np.asarray(design.offset, dtype=float),
        )
    if result.offset_name is not None:
        warnings.warn(
            f"the offset argument ({result.offset_name}) is not evaluated on new data, as in "
            "lme4; only offset() terms of the formula are",
            InterlaceWarning,
            stacklevel=3,
        )
    return new_design(
        formula_of(result),
        frame_of(result),
        list(design.X_names),
        newdata,
        terms,
        contrasts=getattr(design, "contrasts", None),  # LmerDesign records it
        X_scale=getattr(design, "X_scale", None),
    )


def random_part(result: LmerResult, new: NewDesign, allow_new_levels: bool) -> FloatArray:
    """``Σ_i z_i b̂_i[g_i]`` for the terms of ``new``; new levels contribute 0.

    Raises
    ------
    NewLevelError
        A level the fit has not seen, or a missing grouping value, without
        ``allow_new_levels``.
    InterlaceError
        A term asks for effects (columns) that the grouping factor does not have.
    """
    ranef = result.ranef()
    total = np.zeros(new.n)
    for term in new.terms:
        modes = ranef[term.group]
        absent = [name for name in term.names if name not in modes.columns]
        if absent:
            raise InterlaceError(
                f"random effects {', '.join(absent)} of ({term.source}) are not in the model "
                f"(effects of {term.group}: {', '.join(modes.columns)})",
                term=term.source,
            )
        index = pd.Index([str(level) for level in modes.index]).get_indexer(
            pd.Index([None if lv is None else str(lv) for lv in term.labels], dtype=object)
        )
        if not allow_new_levels:
            check_new_levels(term.group, term.labels, index)
        values = modes[list(term.names)].to_numpy(dtype=float)
        effects = np.where((index >= 0)[:, None], values[np.maximum(index, 0)], 0.0)
        total += np.sum(term.z * effects, axis=1)
    return total


def check_new_levels(group: str, labels: NDArray[np.object_], index: NDArray[np.intp]) -> None:
    """Raise lme4's errors for new levels and missing grouping values."""
    unseen = list(
        dict.fromkeys(
            str(lv) for lv, i in zip(labels, index, strict=True) if i < 0 and lv is not None
        )
    )
    if unseen:
        raise NewLevelError(
            f"new levels detected in newdata for grouping factor {group}: {', '.join(unseen)}",
            column=group,
            remedy="use allow_new_levels=True to predict them at the population level "
            "(random effects 0)",
        )
    if any(lv is None for lv in labels):
        raise NewLevelError(
            f"missing values in grouping factor {group} are not allowed in prediction data "
            "unless allow_new_levels is True",
            column=group,
            remedy="use allow_new_levels=True to predict those rows at the population level",
        )


def linear_predictor(
    result: LmerResult,
    newdata: pd.DataFrame | None,
    re_form: str | None,
    allow_new_levels: bool,
) -> tuple[FloatArray, NewDesign | None]:
    """``η`` on the rows of ``newdata`` (or of the fit), NaN where a predictor is missing.

    Also returns the design it used (``None`` for the fitted values themselves,
    which the fit already holds).
    """
    if newdata is None and re_form is None:
        return np.array(result._linear_predictor, dtype=float), None
    new = design_for(result, newdata, random_terms(result, re_form))
    eta = new.X @ np.asarray(result.beta, dtype=float)
    if new.offset is not None:
        eta = eta + new.offset
    eta = eta + random_part(result, new, allow_new_levels)
    eta[new.missing] = np.nan
    return eta, new


def predict(
    result: LmerResult,
    newdata: pd.DataFrame | None = None,
    *,
    re_form: str | None = None,
    allow_new_levels: bool = False,
    type: str = "link",
    se_fit: bool = False,
) -> pd.Series | pd.DataFrame:
    """Predictions of a fitted LMM or GLMM (``predict.merMod``).

    Parameters
    ----------
    result
        The fit.
    newdata
        Rows to predict; ``None`` for the fitted rows.  Never modified.
    re_form
        ``None`` (all random effects), ``"NA"``/``"~0"`` (none) or a formula of
        random terms such as ``"~ (1 | Subject)"``.
    allow_new_levels
        Predict unseen grouping levels (and missing grouping values) with
        random effects 0 instead of raising.
    type
        ``"link"`` or ``"response"``.
    se_fit
        Also return standard errors (population-level predictions only).

    Returns
    -------
    Series or DataFrame
        Indexed like ``newdata`` (or the fitted rows); with ``se_fit`` a
        DataFrame with columns ``fit`` and ``se.fit``.

    Raises
    ------
    NewLevelError
        Unseen grouping levels without ``allow_new_levels``; a fixed factor
        value that is not a training level.
    InterlaceError
        An unknown ``type``; ``se_fit`` with random effects in the prediction.
    """
    if type not in ("link", "response"):
        raise InterlaceError(f"type must be 'link' or 'response', not {type!r}")
    if se_fit and not is_population(re_form):
        raise InterlaceError(
            "se_fit is available for population-level predictions only",
            remedy="use re_form='NA'",
        )
    eta, new = linear_predictor(result, newdata, re_form, allow_new_levels)
    index = newdata.index if newdata is not None else _fitted_index(result)
    family = getattr(getattr(result, "response", None), "family", None)
    fit = eta if type == "link" or family is None else family.linkinv(eta)
    if not se_fit:
        return pd.Series(fit, index=index, name="fit")
    assert new is not None  # se_fit implies population-level predictions
    vcov = result.cov_params().to_numpy()
    se = np.sqrt(np.einsum("ij,jk,ik->i", new.X, vcov, new.X))
    if type == "response" and family is not None:
        se = se * np.abs(family.mu_eta(eta))
    se[new.missing] = np.nan
    return pd.DataFrame({"fit": fit, "se.fit": se}, index=index)


def _fitted_index(result: LmerResult) -> pd.Index:
    """Row labels of the fitted rows."""
    labels = getattr(result.design, "row_labels", None)
    return labels if isinstance(labels, pd.Index) else pd.RangeIndex(result.nobs)
