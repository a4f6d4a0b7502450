"""nlme's variance functions for ``lme(weights=)``: ``varIdent``, ``varPower``, ``varExp``.

A variance function gives the residual of row ``i`` the variance
``Var(ε_i) = σ² g_i(δ)²``:

==============  ===================  ==========================  ==============================
structure       ``g_i(δ)``           unconstrained parameters    printed (``coef(unconstrained
                                                                 = FALSE)``)
==============  ===================  ==========================  ==============================
``varIdent``    ``exp(δ_{s(i)})``    ``δ_s = log(σ_s / σ_1)``    ``1, exp(δ_2), ...``
``varPower``    ``|v_i|^δ``          ``δ`` (``power``)           ``δ``
``varExp``      ``exp(δ v_i)``       ``δ`` (``expon``)           ``δ``
==============  ===================  ==========================  ==============================

``s(i)`` is the stratum of row ``i`` (``form = ~ 1 | g``, or ``~ 1 | a*b`` for the
combinations of several variables) and ``v_i`` the covariate of ``form = ~ v``.
As in nlme's ``Initialize.varIdent``, the reference stratum (ratio 1, no
parameter) is the first stratum met in the data ordered by the random-effects
groups (``lme`` sorts its data so before initialising the variance function);
the others follow in that order.  All parameters start at 0 (``g_i = 1``).

For fixed δ the model is a linear mixed model with prior weights
``w_i = 1/g_i²``; its log-likelihood includes ``Σ log(1/g_i) = ½ Σ log w_i``
(nlme's ``logLik(varStruct)``), see :mod:`interlace.engine.variance_function`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.correlation import split_top
from interlace.errors import DataError, FormulaError, MissingVariableError

FloatArray = NDArray[np.float64]
Kind = Literal["varIdent", "varPower", "varExp"]

#: The summary's ``Structure:`` line per variance function (nlme's ``summary.varFunc``).
STRUCTURES: dict[str, str] = {
    "varIdent": "Different standard deviations per stratum",
    "varPower": "Power of variance covariate",
    "varExp": "Exponential of variance covariate",
}
_PARAMETER = {"varPower": "power", "varExp": "expon"}


@dataclass(frozen=True)
class VarFunc:
    """An unfitted variance function (nlme's ``varIdent(form)`` etc.).

    Attributes
    ----------
    kind : {"varIdent", "varPower", "varExp"}
    form : str
        nlme's ``form`` as given.
    covariate : str or None
        The covariate expression (``varPower``, ``varExp``).
    strata : tuple of str
        The stratifying variables (``varIdent``).
    """

    kind: Kind
    form: str
    covariate: str | None
    strata: tuple[str, ...]

    @property
    def structure(self) -> str:
        """nlme's description of the structure."""
        return STRUCTURES[self.kind]

    def bind(self, data: pd.DataFrame, order: NDArray[np.intp]) -> BoundVarFunc:
        """The variance function on the rows of ``data``.

        Parameters
        ----------
        data : DataFrame
            The model frame's rows (never modified).
        order : ndarray of int
            Row positions in nlme's order (sorted by the random-effects groups):
            fixes the reference stratum of ``varIdent``.

        Raises
        ------
        MissingVariableError
            A variable of ``form`` is not in the data.
        DataError
            A covariate that is not one numeric column, or zero with ``varPower``.
        """
        if self.kind == "varIdent":
            missing = [g for g in self.strata if g not in data.columns]
            if missing:
                raise MissingVariableError(
                    f"variable {missing[0]!r} of the varIdent form is not in the data",
                    column=missing[0],
                )
            labels = data[list(self.strata)].astype(str).agg("*".join, axis=1).to_numpy()
            names = tuple(pd.unique(labels[order]))
            lookup = {name: j for j, name in enumerate(names)}
            codes = np.array([lookup[s] for s in labels], dtype=np.intp)
            return BoundVarFunc(self, names, codes, None)
        from interlace.api.model_matrix import model_matrix

        mm = model_matrix(f"~ 0 + {self.covariate}", data)
        if mm.shape[1] != 1:
            raise DataError(
                f"variance covariate {self.covariate!r} must be one numeric column",
                term="weights",
            )
        v = np.asarray(mm.iloc[:, 0].to_numpy(), dtype=float)
        if self.kind == "varPower" and np.any(v == 0.0):
            raise DataError(
                f"varPower: the covariate {self.covariate!r} is 0 in some rows, "
                "so their variance would be 0",
                term="weights",
            )
        return BoundVarFunc(self, (_PARAMETER[self.kind],), None, v)


@dataclass(frozen=True, eq=False)
class BoundVarFunc:
    """A variance function evaluated on a data set's rows.

    Attributes
    ----------
    spec : VarFunc
    names : tuple of str
        ``varIdent``: the strata, reference first; otherwise the parameter's name.
    codes : ndarray of int or None
        ``varIdent``: the stratum of every row (index into ``names``).
    covariate : ndarray or None
        ``varPower``/``varExp``: ``v_i``.
    """

    spec: VarFunc
    names: tuple[str, ...]
    codes: NDArray[np.intp] | None
    covariate: FloatArray | None

    @property
    def n_params(self) -> int:
        """Number of unconstrained parameters δ."""
        return len(self.names) - 1 if self.codes is not None else 1

    def start(self) -> FloatArray:
        """nlme's starting δ: zeros (every ``g_i = 1``)."""
        return np.zeros(self.n_params)

    def log_g(self, delta: FloatArray) -> FloatArray:
        """``log g_i(δ)`` of every row."""
        delta = np.asarray(delta, dtype=float)
        if self.codes is not None:
            return np.r_[0.0, delta][self.codes]
        assert self.covariate is not None
        if self.spec.kind == "varPower":
            return float(delta[0]) * np.log(np.abs(self.covariate))
        return float(delta[0]) * self.covariate

    def weights(self, delta: FloatArray) -> FloatArray:
        """The prior weights ``w_i = 1 / g_i(δ)²``."""
        return np.exp(-2.0 * self.log_g(delta))

    def natural(self, delta: FloatArray) -> pd.Series:
        """``coef(varStruct, unconstrained = FALSE, allCoef = TRUE)``: the SD ratios (reference
        stratum 1) for ``varIdent``, else the power or exponent."""
        delta = np.asarray(delta, dtype=float)
        values = np.exp(np.r_[0.0, delta]) if self.codes is not None else delta
        return pd.Series(values, index=list(self.names), name="varfunc_params")


def _parse(kind: Kind, form: str | None) -> VarFunc:
    """Parse ``form`` for a variance function of class ``kind``."""
    if form is None:
        raise FormulaError(
            f"{kind}() needs form= (nlme's default form uses fitted values, "
            "which interlace does not support)",
            term="weights",
            remedy=f"write e.g. {kind}(form='~ 1 | g')"
            if kind == "varIdent"
            else f"{kind}(form='~ v')",
        )
    text = form.strip()
    sides = split_top(text[1:], "|") if text.startswith("~") else []
    if not sides or len(sides) > 2 or not sides[0]:
        raise FormulaError(
            f"{kind} form {form!r} must be a one-sided formula such as '~ 1 | g' or '~ v'",
            formula=form,
            term="weights",
        )
    strata = tuple(split_top(sides[1], "*")) if len(sides) == 2 else ()
    if kind == "varIdent":
        if sides[0] != "1" or not strata or any(not s for s in strata):
            raise FormulaError(
                f"varIdent form {form!r} must look like '~ 1 | g' (or '~ 1 | a*b')",
                formula=form,
                term="weights",
            )
        return VarFunc(kind, form, None, strata)
    if strata or sides[0] == "1" or "fitted(" in sides[0]:
        raise FormulaError(
            f"{kind} form {form!r} is not supported: interlace supports a covariate "
            "'~ v' without strata (not fitted values)",
            formula=form,
            term="weights",
        )
    return VarFunc(kind, form, sides[0], ())


def varIdent(form: str | None = None) -> VarFunc:
    """nlme's ``varIdent(form = ~ 1 | g)``: a residual standard deviation per stratum of ``g``."""
    return _parse("varIdent", form)


def varPower(form: str | None = None) -> VarFunc:
    """nlme's ``varPower(form = ~ v)``: residual standard deviation ``σ |v|^δ``."""
    return _parse("varPower", form)


def varExp(form: str | None = None) -> VarFunc:
    """nlme's ``varExp(form = ~ v)``: residual standard deviation ``σ exp(δ v)``."""
    return _parse("varExp", form)
