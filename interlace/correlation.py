"""nlme's within-group residual correlation structures: ``corAR1``, ``corCAR1``, ``corCompSymm``.

A structure describes, for one group of observations with covariate values
``t_1, ..., t_m`` (positions ``1..m`` when ``form`` has no covariate), the
``m x m`` correlation matrix ``R(φ)`` of the residuals:

==================  =========  ========================================  =======================
structure           parameter  ``R_jk`` (``j != k``)                      range
==================  =========  ========================================  =======================
``corAR1``          ``Phi``    ``φ^|t_j − t_k|`` (integer ``t``)          ``−1 < φ < 1``
``corCAR1``         ``Phi``    ``φ^|t_j − t_k|`` (continuous ``t``)       ``0 < φ < 1``
``corCompSymm``     ``Rho``    ``ρ``                                      ``−1/(m_max − 1) < ρ < 1``
==================  =========  ========================================  =======================

``form`` is nlme's one-sided formula ``~ t | g`` (or ``~ 1 | g``, ``~ t``,
``~ 1 | a/b``); without it the groups are the innermost random-effects
grouping and the covariate the row order within a group.

Interface notes (what a new structure must provide)
---------------------------------------------------
- ``parameter_name`` (nlme's coefficient name), ``label`` (the summary's
  "Correlation Structure:" text) and ``default_value`` (nlme's start);
- ``correlation(phi, times)``: the ``(G, m, m)`` matrices of ``G`` groups of size ``m``;
- ``to_natural(x, max_size)`` / ``from_natural(phi, max_size)``: the map from
  the unconstrained optimisation scale to the parameter and back;
- ``check_covariate(times, groups)``: nlme's checks of the covariate.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from interlace.errors import DataError, FormulaError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CorForm:
    """A parsed nlme correlation formula ``~ covariate | g1/g2``.

    Attributes
    ----------
    text : str
        The formula as given.
    covariate : str or None
        The covariate expression; ``None`` for ``~ 1`` (positions within a group).
    groups : tuple of str
        Grouping variables, outer to inner (empty: the random-effects grouping).
    """

    text: str
    covariate: str | None
    groups: tuple[str, ...]


def split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def parse_form(form: str) -> CorForm:
    """Parse nlme's ``~ t | g`` (``~ 1 | g``, ``~ t``, ``~ 1 | a/b``).

    Raises
    ------
    FormulaError
        Not a one-sided formula, or more than one ``|``.
    """
    text = form.strip()
    if not text.startswith("~"):
        raise FormulaError(
            f"correlation form {form!r} must be a one-sided formula such as '~ 1 | g'",
            formula=form,
            position=0,
        )
    sides = split_top(text[1:], "|")
    if len(sides) > 2 or not sides[0]:
        raise FormulaError(
            f"correlation form {form!r} must look like '~ t | g', '~ 1 | g' or '~ t'",
            formula=form,
        )
    covariate = None if sides[0] == "1" else sides[0]
    groups = tuple(split_top(sides[1], "/")) if len(sides) == 2 else ()
    if any(not g for g in groups):
        raise FormulaError(f"empty grouping variable in correlation form {form!r}", formula=form)
    return CorForm(text=form, covariate=covariate, groups=groups)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


class CorStruct(ABC):
    """Base class of the correlation structures (see the module notes).

    Parameters
    ----------
    form : str, optional
        nlme's ``form``: ``"~ t | g"``, ``"~ 1 | g"``, ``"~ t"``.  Default ``~ 1``
        with the innermost random-effects grouping.
    value : float, optional
        Starting value of the parameter (nlme's ``value``).
    """

    #: nlme's name of the coefficient (``coef(cs, unconstrained = FALSE)``).
    parameter_name: str = ""
    #: nlme's description, printed after "Correlation Structure:".
    label: str = ""
    #: nlme's constructor name.
    r_name: str = ""
    #: nlme's default starting value.
    default_value: float = 0.0

    def __init__(self, form: str | None = None, value: float | None = None) -> None:
        self.form = parse_form(form) if form is not None else CorForm("~1", None, ())
        self.value = self.default_value if value is None else float(value)

    def __repr__(self) -> str:
        return f"{self.r_name}(form = {self.form.text}, value = {self.value!r})"

    @abstractmethod
    def correlation(self, phi: float, times: FloatArray) -> FloatArray:
        """The ``(G, m, m)`` correlations of ``G`` groups with ``(G, m)`` covariates ``times``."""

    @abstractmethod
    def to_natural(self, x: float, max_size: int) -> float:
        """The parameter from its unconstrained value ``x``."""

    @abstractmethod
    def from_natural(self, phi: float, max_size: int) -> float:
        """The unconstrained value of the parameter ``phi``."""

    @abstractmethod
    def check_covariate(self, times: FloatArray, groups: NDArray[np.intp]) -> None:
        """nlme's checks of the covariate within groups."""

    def _unique_within(self, times: FloatArray, groups: NDArray[np.intp]) -> None:
        pairs = np.column_stack([groups, times])
        if np.unique(pairs, axis=0).shape[0] != pairs.shape[0]:
            raise DataError(
                f"covariate must have unique values within groups for {self.r_name!r} objects",
                remedy=f"check the covariate of correlation form {self.form.text!r}",
            )


def _power_matrices(phi: float, times: FloatArray) -> FloatArray:
    """``φ^|t_j − t_k|`` for every group (rows of ``times``)."""
    lags = np.abs(times[:, :, None] - times[:, None, :])
    return np.asarray(np.power(phi, lags), dtype=float)


class CorAR1(CorStruct):
    """nlme's ``corAR1``: autoregressive of order 1 in an integer covariate."""

    parameter_name = "Phi"
    label = "AR(1)"
    r_name = "corAR1"

    def correlation(self, phi: float, times: FloatArray) -> FloatArray:
        return _power_matrices(phi, times)

    def to_natural(self, x: float, max_size: int) -> float:
        return math.tanh(x)

    def from_natural(self, phi: float, max_size: int) -> float:
        return math.atanh(phi)

    def check_covariate(self, times: FloatArray, groups: NDArray[np.intp]) -> None:
        if np.any(times != np.round(times)):
            raise DataError(
                "covariate must have integer values for 'corAR1' objects",
                remedy="use corCAR1 for a continuous covariate, or '~ 1 | g' for the row order",
            )
        self._unique_within(times, groups)


class CorCAR1(CorStruct):
    """nlme's ``corCAR1``: continuous-time autoregressive of order 1."""

    parameter_name = "Phi"
    label = "Continuous AR(1)"
    r_name = "corCAR1"
    default_value = 0.2

    def correlation(self, phi: float, times: FloatArray) -> FloatArray:
        return _power_matrices(phi, times)

    def to_natural(self, x: float, max_size: int) -> float:
        return _logistic(x)

    def from_natural(self, phi: float, max_size: int) -> float:
        return math.log(phi / (1.0 - phi))

    def check_covariate(self, times: FloatArray, groups: NDArray[np.intp]) -> None:
        self._unique_within(times, groups)


class CorCompSymm(CorStruct):
    """nlme's ``corCompSymm``: equal correlation ``ρ`` between any two observations of a group."""

    parameter_name = "Rho"
    label = "Compound symmetry"
    r_name = "corCompSymm"

    @staticmethod
    def _lower(max_size: int) -> float:
        return -1.0 / (max_size - 1) if max_size > 1 else -1.0

    def correlation(self, phi: float, times: FloatArray) -> FloatArray:
        m = times.shape[1]
        out = np.full((times.shape[0], m, m), phi)
        out[:, np.arange(m), np.arange(m)] = 1.0
        return out

    def to_natural(self, x: float, max_size: int) -> float:
        lo = self._lower(max_size)
        return lo + (1.0 - lo) * _logistic(x)

    def check_covariate(self, times: FloatArray, groups: NDArray[np.intp]) -> None:
        """None: compound symmetry does not use the covariate."""

    def from_natural(self, phi: float, max_size: int) -> float:
        lo = self._lower(max_size)
        s = (phi - lo) / (1.0 - lo)
        return math.log(s / (1.0 - s))


def corAR1(form: str | None = None, value: float | None = None) -> CorAR1:
    """nlme's ``corAR1(value, form)``: AR(1) within groups (integer covariate or row order)."""
    return CorAR1(form, value)


def corCAR1(form: str | None = None, value: float | None = None) -> CorCAR1:
    """nlme's ``corCAR1(value, form)``: continuous-time AR(1) within groups."""
    return CorCAR1(form, value)


def corCompSymm(form: str | None = None, value: float | None = None) -> CorCompSymm:
    """nlme's ``corCompSymm(value, form)``: compound symmetry within groups."""
    return CorCompSymm(form, value)
