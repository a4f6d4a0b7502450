"""Contrast matrices and their column-name suffixes, as R's ``contr.*`` functions.

A contrast matrix has one row per level and ``k`` columns; a factor coded by
contrasts contributes the columns ``varname + suffix``.  The suffixes are the
matrix's column names in R:

=================  ===========================================  ======================
coding             matrix (3 levels)                            suffixes
=================  ===========================================  ======================
contr.treatment    ``[0 0; 1 0; 0 1]`` (``base`` row is zero)   levels except the base
contr.SAS          treatment with the last level as base        first ``k - 1`` levels
contr.sum          ``[1 0; 0 1; -1 -1]``                        ``1 2``
contr.helmert      ``[-1 -1; 1 -1; 0 2]``                       ``1 2``
contr.poly         orthonormal polynomials in scores ``1..k``    ``.L .Q .C ^4 ^5 ...``
user matrix        as given                                     its column names or ``1..k``
=================  ===========================================  ======================

When ``C()`` gets a coding *function* (``C(f, contr.treatment)``) or extra
arguments (``C(f, treatment, base = 2)``), R calls the function with the number
of levels instead of the level names, so the suffixes become numbers (``2 3``,
``1 3``) and R records a matrix; a short name (``C(f, treatment)``) or a string
keeps the level names.  :class:`ContrastSpec` records which case applies.

Which coding a factor gets (R's precedence): the ``contrasts`` argument of the
model function, then the factor's own attribute (``C()``), then the global
default (``contr.treatment`` for unordered factors and logicals, ``contr.poly``
for ordered factors), see :func:`choose_contrasts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design.transforms import poly
from interlace.errors import DataError, FormulaError
from interlace.formula import ast

FloatArray = NDArray[np.float64]

#: The short names ``C()`` accepts for R's coding functions.
SHORT_NAMES = {
    "treatment": "contr.treatment",
    "sum": "contr.sum",
    "helmert": "contr.helmert",
    "poly": "contr.poly",
    "SAS": "contr.SAS",
}


@dataclass(frozen=True)
class Contrast:
    """A contrast matrix and its column names (``None``: R names the columns ``1..k``)."""

    matrix: FloatArray
    colnames: tuple[str, ...] | None

    def suffixes(self) -> tuple[str, ...]:
        """The column-name suffixes R appends to the variable's name."""
        if self.colnames is not None:
            return self.colnames
        return tuple(str(j) for j in range(1, self.matrix.shape[1] + 1))


@dataclass(frozen=True, eq=False)
class ContrastSpec:
    """A requested coding: an R coding function by name, or a user matrix.

    Attributes
    ----------
    name : str or None
        ``"contr.treatment"``, ``"contr.sum"``, ... (``None`` for a matrix).
    options : tuple of (str, value)
        Extra arguments of the coding function (``base``).
    numbered : bool
        Call the function with the number of levels instead of their names, as
        ``C(f, contr, base = 2)`` and ``C(f, contr.treatment(3))`` do in R; the
        suffixes are then numbers.
    matrix : ndarray or None
        A user matrix (rows = levels).
    colnames : tuple of str or None
        Column names of the user matrix.
    """

    name: str | None = None
    options: tuple[tuple[str, Any], ...] = field(default=())
    numbered: bool = False
    matrix: FloatArray | None = None
    colnames: tuple[str, ...] | None = None

    def build(self, levels: Sequence[str]) -> Contrast:
        """The contrast matrix for these levels."""
        n = len(levels)
        if n < 2:
            raise DataError("contrasts can be applied only to factors with 2 or more levels")
        if self.matrix is not None:
            if self.matrix.shape[0] != n:
                raise DataError(
                    f"wrong number of contrast matrix rows: {self.matrix.shape[0]} for {n} levels"
                )
            if self.matrix.shape[1] < n - 1:
                raise DataError("a contrast matrix with fewer than nlevels - 1 columns")
            k = n - 1
            names = None if self.colnames is None else self.colnames[:k]
            return Contrast(np.asarray(self.matrix[:, :k], dtype=float), names)
        assert self.name is not None
        fn = CODINGS.get(self.name)
        if fn is None:
            raise DataError(f"unknown contrast function {self.name!r}")
        given = [str(i) for i in range(1, n + 1)] if self.numbered else list(levels)
        return fn(given, **dict(self.options))


def contr_treatment(levels: Sequence[str], base: int = 1) -> Contrast:
    """R's ``contr.treatment(levels, base)``: indicators of all levels but ``base`` (1-based)."""
    n = len(levels)
    if not 1 <= base <= n:
        raise DataError(f"baseline group number {base} out of range")
    keep = [j for j in range(n) if j != base - 1]
    return Contrast(np.eye(n)[:, keep], tuple(levels[j] for j in keep))


def contr_sas(levels: Sequence[str]) -> Contrast:
    """R's ``contr.SAS``: treatment contrasts with the last level as the base."""
    return contr_treatment(levels, base=len(levels))


def contr_sum(levels: Sequence[str]) -> Contrast:
    """R's ``contr.sum``: the last level is minus the sum of the others (no column names)."""
    n = len(levels)
    return Contrast(np.vstack([np.eye(n - 1), -np.ones(n - 1)]), None)


def contr_helmert(levels: Sequence[str]) -> Contrast:
    """R's ``contr.helmert``: level ``j`` against the mean of the levels before it."""
    n = len(levels)
    mat = np.zeros((n, n - 1))
    for j in range(1, n):
        mat[:j, j - 1] = -1.0
        mat[j, j - 1] = float(j)
    return Contrast(mat, None)


def contr_poly(levels: Sequence[str], scores: Sequence[float] | None = None) -> Contrast:
    """R's ``contr.poly``: orthonormal polynomials in ``scores`` (default ``1..n``)."""
    n = len(levels)
    x = np.arange(1.0, n + 1) if scores is None else np.asarray(scores, dtype=float)
    basis, _ = poly(x, n - 1)
    names = [".L", ".Q", ".C", *(f"^{j}" for j in range(4, n))][: n - 1]
    return Contrast(basis, tuple(names))


CODINGS: dict[str, Callable[..., Contrast]] = {
    "contr.treatment": contr_treatment,
    "contr.SAS": contr_sas,
    "contr.sum": contr_sum,
    "contr.helmert": contr_helmert,
    "contr.poly": contr_poly,
}
"""R's coding functions by name."""

DEFAULT_CONTRASTS = ("contr.treatment", "contr.poly")
"""R's ``options("contrasts")``: unordered, ordered."""


def coding_name(name: str) -> str:
    """The full R name of a coding (``sum`` → ``contr.sum``); unknown names raise."""
    full = SHORT_NAMES.get(name, name)
    if full not in CODINGS:
        raise FormulaError(
            f"unknown contrasts {name!r}",
            remedy="use one of " + ", ".join([*SHORT_NAMES, *CODINGS]),
        )
    return full


def contrast_spec_from_node(
    node: ast.Node | None, options: Mapping[str, Any], ordered: bool, term: str
) -> ContrastSpec:
    """The coding requested by ``C(f, contr, ...)``.

    Parameters
    ----------
    node
        The ``contr`` argument: a name (``sum``, ``contr.sum``), a string, or a
        call ``contr.treatment(3, base = 2)``; ``None`` means the default coding.
    options
        Extra named arguments of ``C()`` (passed on to the coding function).
    ordered
        Whether the factor is ordered (chooses the default).
    term
        The deparsed ``C()`` call, for error messages.
    """
    opts = tuple((k, _option(v)) for k, v in options.items())
    numbered = bool(opts)
    if node is None:
        return ContrastSpec(DEFAULT_CONTRASTS[1 if ordered else 0], opts, numbered)
    if isinstance(node, ast.Name):
        # a short name (``sum``) is stored as the function's name, like a string; the full
        # name (``contr.sum``) is the function itself, which R calls with the number of levels
        return ContrastSpec(coding_name(node.id), opts, numbered or node.id not in SHORT_NAMES)
    if isinstance(node, ast.String):
        return ContrastSpec(coding_name(node.value), opts, numbered)
    if isinstance(node, ast.Call) and node.func in CODINGS:
        call_opts = []
        for arg in node.args[1:]:
            if arg.name is None or not isinstance(arg.value, ast.Number | ast.Constant):
                raise FormulaError(f"unsupported contrasts call in {term}", term=term)
            call_opts.append((arg.name, _option(arg.value)))
        return ContrastSpec(node.func, (*opts, *call_opts), numbered=True)
    raise FormulaError(f"unsupported contrasts argument in {term}", term=term)


def _option(value: Any) -> Any:
    if isinstance(value, ast.Number):
        return int(value.value) if float(value.value).is_integer() else value.value
    if isinstance(value, ast.Constant):
        return value.name in ("TRUE", "T")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def as_contrast_spec(value: Any) -> ContrastSpec:
    """A user's contrasts entry: a name, a :class:`ContrastSpec`, a matrix or a DataFrame."""
    if isinstance(value, ContrastSpec):
        return value
    if isinstance(value, str):
        return ContrastSpec(coding_name(value))
    if isinstance(value, pd.DataFrame):
        return ContrastSpec(
            matrix=value.to_numpy(dtype=float), colnames=tuple(str(c) for c in value.columns)
        )
    mat = np.asarray(value, dtype=float)
    if mat.ndim == 1:
        mat = mat.reshape(-1, 1)
    if mat.ndim != 2:
        raise DataError("a contrast matrix must be two-dimensional")
    return ContrastSpec(matrix=mat)


@dataclass(frozen=True)
class ContrastOptions:
    """The ``contrasts`` argument, normalised.

    Attributes
    ----------
    per_variable : dict
        Variable label → requested coding (R's ``contrasts.arg``).
    defaults : (str, str)
        Codings for unordered and ordered factors (R's ``options("contrasts")``).
    """

    per_variable: Mapping[str, ContrastSpec] = field(default_factory=dict)
    defaults: tuple[str, str] = DEFAULT_CONTRASTS


def contrast_options(arg: Any) -> ContrastOptions:
    """Normalise the ``contrasts`` argument of the model functions.

    Accepts ``None``; a dict ``{"f": "contr.sum" | "sum" | matrix | DataFrame}``;
    or a pair of coding names ``("contr.sum", "contr.poly")`` meaning R's
    ``options(contrasts = ...)`` for every factor.
    """
    if arg is None:
        return ContrastOptions()
    if isinstance(arg, ContrastOptions):
        return arg
    if isinstance(arg, Mapping):
        return ContrastOptions({str(k): as_contrast_spec(v) for k, v in arg.items()})
    if isinstance(arg, tuple | list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
        return ContrastOptions(defaults=(coding_name(arg[0]), coding_name(arg[1])))
    raise DataError("contrasts must be a dict of variable -> coding, or a pair of coding names")


def choose_contrasts(
    label: str, ordered: bool, attribute: ContrastSpec | None, options: ContrastOptions
) -> ContrastSpec:
    """R's precedence: ``contrasts`` argument > ``C()`` attribute > global default."""
    if label in options.per_variable:
        return options.per_variable[label]
    if attribute is not None:
        return attribute
    return ContrastSpec(options.defaults[1 if ordered else 0])
