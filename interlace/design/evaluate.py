"""Evaluate formula expressions against a DataFrame, the way R's ``model.frame`` does.

An expression (the ``expr`` of a :class:`~interlace.ir.terms.Variable`) is walked
node by node; nothing is passed to ``eval``.  Names are data columns, operators
are R's vectorised arithmetic, comparison and logical operators, and calls are
looked up in :data:`FUNCTIONS` (one small function per R function).  The result
is a :class:`Column`:

* :class:`NumericColumn`: an ``n x k`` float matrix (``k = 1`` for a plain
  variable; ``poly``/``ns``/``bs``/``cbind`` give ``k > 1``), ``NaN`` = NA;
* :class:`FactorColumn`: integer codes into ``levels`` (``-1`` = NA), the
  ``ordered`` flag, an optional contrasts attribute (set by ``C()``) and the
  kind of data it came from (a factor, character data or a logical).

R types map as R's ``model.frame``/``model.matrix`` map them: logical values are
a factor with levels ``FALSE, TRUE`` whatever is observed; character data
becomes a factor whose levels are sorted by R's collation
(:mod:`interlace.design.collation`) once the rows are known; a pandas
``Categorical`` keeps its category order (ordered = R ordered factor); numbers
passed to ``factor()`` get numerically sorted levels spelled as R prints them;
datetime columns are numbers, seconds since 1970-01-01 UTC (R's ``POSIXct``).

Stateful transforms (``poly``, ``scale``, ``ns``, ``bs``) record their
parameters in evaluation order: ``evaluate(expr, data)`` returns the column and
a tuple of states, and ``evaluate(expr, new_data, state)`` reuses them.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.design import transforms
from interlace.design.collation import Collation, icu_sort_key, sort_levels
from interlace.design.contrasts import ContrastSpec, contrast_spec_from_node
from interlace.errors import DataError, FormulaError, MissingVariableError, UnknownFunctionError
from interlace.formula import ast
from interlace.formula.deparse import deparse, format_number

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
FactorKind = Literal["factor", "character", "logical"]
_S = TypeVar("_S", transforms.PolyState, transforms.ScaleState, transforms.SplineState)


@dataclass(frozen=True, eq=False)
class NumericColumn:
    """A numeric variable: ``values`` is ``n x k``; ``colnames`` suffixes when ``k > 1``."""

    values: FloatArray
    colnames: tuple[str, ...] | None = None

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.values.shape[0])

    @property
    def ncol(self) -> int:
        """Number of columns."""
        return int(self.values.shape[1])

    def is_missing(self) -> NDArray[np.bool_]:
        """Rows with a missing value in any column."""
        return np.asarray(np.isnan(self.values).any(axis=1), dtype=np.bool_)

    def take(self, rows: IntArray) -> NumericColumn:
        """The column restricted to ``rows`` (positions)."""
        return NumericColumn(self.values[rows], self.colnames)


@dataclass(frozen=True, eq=False)
class FactorColumn:
    """A factor: ``codes`` index ``levels`` (``-1`` = NA).

    Attributes
    ----------
    codes : ndarray of int
    levels : tuple of str
    ordered : bool
        An R ordered factor (polynomial contrasts by default).
    contrasts : ContrastSpec or None
        The ``contrasts`` attribute set by ``C()``.
    kind : {"factor", "character", "logical"}
        What the data was: character data is re-levelled on the rows kept
        (R converts it after ``na.omit``); logical data keeps ``FALSE, TRUE``.
    """

    codes: IntArray
    levels: tuple[str, ...]
    ordered: bool = False
    contrasts: ContrastSpec | None = None
    kind: FactorKind = "factor"

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.codes.shape[0])

    @property
    def nlevels(self) -> int:
        """Number of levels."""
        return len(self.levels)

    def is_missing(self) -> NDArray[np.bool_]:
        """Rows with a missing value."""
        return self.codes < 0

    def take(self, rows: IntArray) -> FactorColumn:
        """The factor restricted to ``rows`` (positions), levels unchanged."""
        return FactorColumn(self.codes[rows], self.levels, self.ordered, self.contrasts, self.kind)

    def drop_unused_levels(self) -> FactorColumn:
        """R's ``droplevels``: keep only the observed levels, in their order."""
        used = np.zeros(len(self.levels), dtype=bool)
        used[self.codes[self.codes >= 0]] = True
        if used.all():
            return self
        remap = np.cumsum(used) - 1
        codes = np.where(self.codes >= 0, remap[np.maximum(self.codes, 0)], -1)
        levels = tuple(lv for lv, u in zip(self.levels, used, strict=True) if u)
        return FactorColumn(codes, levels, self.ordered, self.contrasts, self.kind)

    def labels(self) -> NDArray[np.object_]:
        """The values as strings (``None`` = NA)."""
        lv = np.array([*self.levels, None], dtype=object)
        return lv[np.where(self.codes >= 0, self.codes, len(self.levels))]


Column = NumericColumn | FactorColumn
State = tuple[transforms.TransformState | None, ...]


# ---------------------------------------------------------------- internal values


@dataclass(frozen=True, eq=False)
class _Logical:
    """A logical vector: 0/1 with ``NaN`` = NA."""

    values: FloatArray


@dataclass(frozen=True, eq=False)
class _Character:
    """A character vector (``None`` = NA)."""

    values: NDArray[np.object_]


Value = (
    FloatArray | NumericColumn | FactorColumn | _Logical | _Character | str | float | bool | None
)


@dataclass
class _Context:
    """What one evaluation needs: the data, the transform states in and out."""

    data: pd.DataFrame
    collation: Collation
    state_in: State | None
    state_out: list[transforms.TransformState | None] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.data)

    def next_state(self, kind: type[_S]) -> _S | None:
        """The training state of the next stateful call, when re-evaluating."""
        if self.state_in is None:
            return None
        i = len(self.state_out)
        prior = self.state_in[i] if i < len(self.state_in) else None
        if not isinstance(prior, kind):
            raise DataError("transform state does not match the expression")
        return prior


def evaluate(
    expr: ast.Node,
    data: pd.DataFrame,
    state: State | None = None,
    *,
    collation: Collation = "icu",
) -> tuple[Column, State]:
    """Evaluate one model variable.

    Parameters
    ----------
    expr
        The variable's expression (AST node).
    data
        The data; never modified.
    state
        Transform states from a previous evaluation on training data, or ``None``
        to fit them here.
    collation
        Level order of character data: ``"icu"`` (R in a UTF-8 locale) or ``"C"``.

    Returns
    -------
    column : Column
    state : tuple
        The parameters of the stateful transforms, in evaluation order.

    Raises
    ------
    MissingVariableError
        A name that is not a column (the message suggests the closest column).
    UnknownFunctionError
        A call to a function interlace does not evaluate.
    """
    ctx = _Context(data, collation, state)
    value = _eval(expr, ctx)
    return to_column(value, ctx.n, collation), tuple(ctx.state_out)


def to_column(value: Value, n: int, collation: Collation = "icu") -> Column:
    """Turn an evaluated value into a :class:`Column` of length ``n`` (scalars recycled)."""
    if isinstance(value, NumericColumn | FactorColumn):
        return value
    if isinstance(value, _Logical):
        return _logical_factor(value.values)
    if isinstance(value, _Character):
        return _character_factor(value.values, collation)
    if isinstance(value, str):
        return _character_factor(np.full(n, value, dtype=object), collation)
    if isinstance(value, bool):
        return _logical_factor(np.full(n, float(value)))
    if value is None:
        raise DataError("expression evaluates to NULL")
    arr = np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()
    return NumericColumn(arr.reshape(n, 1))


def _logical_factor(values: FloatArray) -> FactorColumn:
    codes = np.where(np.isnan(values), -1, values != 0).astype(np.int64)
    return FactorColumn(codes, ("FALSE", "TRUE"), kind="logical")


def _character_factor(values: NDArray[np.object_], collation: Collation) -> FactorColumn:
    present = pd.unique(values[pd.notna(values)])
    levels = tuple(sort_levels([str(v) for v in present], collation))
    return _factor_from_strings(values, levels, kind="character")


def _factor_from_strings(
    values: NDArray[np.object_], levels: Sequence[str], *, kind: FactorKind = "factor"
) -> FactorColumn:
    """Codes of ``values`` in ``levels`` (values not among the levels are NA)."""
    codes = pd.Categorical(values, categories=list(levels)).codes
    return FactorColumn(np.asarray(codes, dtype=np.int64), tuple(levels), kind=kind)


def relevel_character(column: FactorColumn, collation: Collation = "icu") -> FactorColumn:
    """Levels of character data recomputed from the values present (after row dropping)."""
    if column.kind != "character":
        return column
    return _character_factor(column.labels(), collation)


# ------------------------------------------------------------------ data columns


def _missing_variable(name: str, data: pd.DataFrame) -> MissingVariableError:
    columns = [str(c) for c in data.columns]
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if not close:
        close = [c for c in columns if c.lower() == name.lower()][:1]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return MissingVariableError(
        f"variable {name!r} is not a column of the data{hint}",
        column=name,
        remedy=f"use one of the columns: {', '.join(columns[:20])}" if not close else None,
    )


def _data_column(series: pd.Series, collation: Collation) -> Value:
    """R's view of one DataFrame column."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = dtype.categories
        levels = tuple(_level_string(c) for c in cats)
        codes = np.array(series.cat.codes, dtype=np.int64, copy=True)
        return FactorColumn(codes, levels, bool(dtype.ordered))
    if pd.api.types.is_bool_dtype(dtype):
        return _Logical(np.asarray(series.astype("float64").to_numpy(na_value=np.nan), float))
    if pd.api.types.is_datetime64_any_dtype(dtype):  # R's POSIXct: seconds since the epoch
        times = series.dt.tz_convert("UTC").dt.tz_localize(None) if series.dt.tz else series
        seconds = (times - pd.Timestamp("1970-01-01")) / pd.Timedelta(1, "s")
        return np.asarray(seconds.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    if pd.api.types.is_numeric_dtype(dtype):
        return np.array(series.to_numpy(dtype=float, na_value=np.nan), dtype=float, copy=True)
    values = series.to_numpy(dtype=object)
    missing = pd.isna(series).to_numpy()
    present = values[~missing]
    if pd.api.types.is_object_dtype(dtype) and all(isinstance(v, bool | np.bool_) for v in present):
        return _Logical(np.where(missing, np.nan, np.array([bool(v) for v in values], float)))
    text = np.array(series.astype(str).to_numpy(dtype=object), dtype=object, copy=True)
    text[missing] = None  # a private copy: never write into the caller's data
    return _Character(text)


def _level_string(value: object) -> str:
    """A level as R prints it (numbers with R's number formatting)."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | np.integer | np.floating):
        return format_number(float(value))
    return str(value)


# ------------------------------------------------------------------- evaluation


def _eval(node: ast.Node, ctx: _Context) -> Value:
    if isinstance(node, ast.Name):
        if node.id in ctx.data.columns:
            return _data_column(ctx.data[node.id], ctx.collation)
        if node.id == "pi":
            return math.pi
        raise _missing_variable(node.id, ctx.data)
    if isinstance(node, ast.Number):
        return node.value
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Constant):
        return _CONSTANTS[node.name]
    if isinstance(node, ast.Paren):
        return _eval(node.body, ctx)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, ctx)
        if node.op == "!":
            return _Logical(_logical_not(_as_logical(operand)))
        num = _as_numeric(operand)
        return -num if node.op == "-" else num
    if isinstance(node, ast.BinaryOp):
        return _binary(node, ctx)
    if isinstance(node, ast.Call):
        impl = FUNCTIONS.get(node.func)
        if impl is None:
            raise UnknownFunctionError(
                f"function {node.func!r} cannot be evaluated in a formula",
                term=node.func,
                remedy="compute the variable in the DataFrame first",
            )
        return impl(node, ctx)
    raise FormulaError(f"cannot evaluate {deparse(node)!r} as a model variable")


_CONSTANTS: dict[str, Value] = {
    "TRUE": True,
    "T": True,
    "FALSE": False,
    "F": False,
    "NA": np.nan,
    "NaN": np.nan,
    "Inf": math.inf,
    "NULL": None,
}


def _as_numeric(value: Value) -> Any:
    """Numeric view: logical → 0/1, factor → codes + 1 (R's ``as.numeric``)."""
    if isinstance(value, NumericColumn):
        return value.values[:, 0] if value.ncol == 1 else value.values
    if isinstance(value, _Logical):
        return value.values
    if isinstance(value, FactorColumn):
        return np.where(value.codes >= 0, value.codes + 1.0, np.nan)
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, _Character | str) or value is None:
        raise DataError("non-numeric argument to a numeric function or operator")
    return value


def _as_logical(value: Value) -> Any:
    if isinstance(value, _Logical):
        return value.values
    num = _as_numeric(value)
    return np.where(np.isnan(num), np.nan, num != 0)


def _logical_not(values: Any) -> Any:
    return np.where(np.isnan(values), np.nan, 1.0 - values)


def _compare(op: str, left: Value, right: Value) -> _Logical:
    """R's comparison operators; with a string or factor on either side both sides are
    compared as character (ordering by collation, as R does)."""
    if op not in ("==", "!=") and (
        isinstance(left, FactorColumn) or isinstance(right, FactorColumn)
    ):
        return _compare_ordered(op, left, right)
    if isinstance(left, _Character | FactorColumn | str) or isinstance(
        right, _Character | FactorColumn | str
    ):
        av, bv = np.broadcast_arrays(_string_view(left), _string_view(right))
        res = np.full(av.shape, np.nan)
        for i, (x, y) in enumerate(zip(av.ravel(), bv.ravel(), strict=True)):
            if x is not None and y is not None:
                ordered = op in ("==", "!=")
                res[i] = (
                    _COMPARE[op](x, y)
                    if ordered
                    else _COMPARE[op](icu_sort_key(x), icu_sort_key(y))
                )
        return _Logical(res)
    a, b = np.asarray(_as_numeric(left), float), np.asarray(_as_numeric(right), float)
    with np.errstate(invalid="ignore"):
        res = _COMPARE[op](a, b).astype(float)
    return _Logical(np.where(np.isnan(a) | np.isnan(b), np.nan, res))


def _compare_ordered(op: str, left: Value, right: Value) -> _Logical:
    """``<``, ``>``, ... with a factor: by level position for ordered factors (R's
    ``Ops.ordered``); R gives NA for unordered factors, here an error."""
    factor = left if isinstance(left, FactorColumn) else right
    assert isinstance(factor, FactorColumn)
    if not factor.ordered:
        raise DataError(f"'{op}' is not meaningful for (unordered) factors")
    position = {lv: float(i) for i, lv in enumerate(factor.levels)}

    def rank(value: Value) -> FloatArray:
        strings = _string_view(value)
        return np.array([position.get(v, np.nan) if v is not None else np.nan for v in strings])

    return _compare(op, rank(left), rank(right))


def _string_view(value: Value) -> NDArray[np.object_]:
    """Character view of a value (``None`` = NA): R's ``as.character``."""
    if isinstance(value, FactorColumn):
        return value.labels()
    if isinstance(value, _Character):
        return value.values
    if isinstance(value, str):
        return np.array([value], dtype=object)
    if isinstance(value, _Logical):
        return _logical_strings(value.values)
    num = np.atleast_1d(np.asarray(_as_numeric(value), dtype=float))
    return np.array([None if np.isnan(v) else format_number(float(v)) for v in num], object)


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}


def _r_mod(a: Any, b: Any) -> Any:
    return a - np.floor(a / b) * b


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "^": np.power,
    "%%": _r_mod,
    "%/%": lambda a, b: np.floor(a / b),
}


def _binary(node: ast.BinaryOp, ctx: _Context) -> Value:
    left, right = _eval(node.left, ctx), _eval(node.right, ctx)
    if node.op in _COMPARE:
        return _compare(node.op, left, right)
    if node.op in ("&", "&&", "|", "||"):
        a, b = np.asarray(_as_logical(left), float), np.asarray(_as_logical(right), float)
        if node.op in ("&", "&&"):
            res = np.where((a == 0) | (b == 0), 0.0, np.where(np.isnan(a) | np.isnan(b), np.nan, 1))
        else:
            res = np.where((a == 1) | (b == 1), 1.0, np.where(np.isnan(a) | np.isnan(b), np.nan, 0))
        return _Logical(res)
    fn = _ARITHMETIC.get(node.op)
    if fn is None:
        raise FormulaError(
            f"operator {node.op!r} cannot be evaluated inside a variable", term=deparse(node)
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(fn(_as_numeric(left), _as_numeric(right)), dtype=float)


# ------------------------------------------------------------- argument binding


def _bind(node: ast.Call, params: Sequence[str], *, extra: bool = False) -> dict[str, ast.Node]:
    """Match a call's arguments to R parameter names (exact names, then positions).

    With ``extra`` unmatched named arguments are kept (R's ``...``).
    """
    bound: dict[str, ast.Node] = {}
    positional: list[ast.Node] = []
    for arg in node.args:
        if arg.name is None:
            positional.append(arg.value)
        elif arg.name in params or extra:
            bound[arg.name] = arg.value
        else:
            raise FormulaError(f"unused argument {arg.name!r} in {node.func}()", term=deparse(node))
    # positional arguments fill the parameters before ``...``; the rest go to ``...``
    before_dots = params[: params.index("...")] if "..." in params else params
    free = [p for p in before_dots if p not in bound]
    if len(positional) > len(free) and "..." not in params:
        raise FormulaError(f"too many arguments to {node.func}()", term=deparse(node))
    for name, value in zip(free, positional, strict=False):
        bound[name] = value
    for i, value in enumerate(positional[len(free) :]):
        bound[f"...{i}"] = value
    return bound


def _literal(node: ast.Node | None, ctx: _Context, default: Any = None) -> Any:
    """A constant argument (number, string, logical, ``c(...)`` of those)."""
    if node is None:
        return default
    if isinstance(node, ast.Call) and node.func == "c":
        return [_literal(a.value, ctx) for a in node.args]
    value = _eval(node, ctx)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    return value


def _vector_arg(node: ast.Node | None, ctx: _Context) -> Any:
    """A constant vector argument as a list (``c(1, 2)`` or a scalar)."""
    value = _literal(node, ctx)
    if value is None:
        return None
    return value if isinstance(value, list) else [value]


def _numeric_arg(node: ast.Node, ctx: _Context) -> FloatArray:
    arr = np.asarray(_as_numeric(_eval(node, ctx)), dtype=float)
    return np.broadcast_to(arr, (ctx.n,)).copy() if arr.ndim == 0 else arr


def _factor_arg(node: ast.Node, ctx: _Context) -> FactorColumn:
    """An argument as a factor (``as.factor`` semantics)."""
    return _as_factor(_eval(node, ctx), ctx)


def _record(ctx: _Context, st: transforms.TransformState | None) -> None:
    ctx.state_out.append(st)


# ---------------------------------------------------------------- R functions


def _math(fn: Callable[[Any], Any]) -> Callable[[ast.Call, _Context], Value]:
    def impl(node: ast.Call, ctx: _Context) -> Value:
        args = _bind(node, ("x",))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(fn(_as_numeric(_eval(args["x"], ctx))), dtype=float)

    return impl


def _f_identity(node: ast.Call, ctx: _Context) -> Value:
    """``I(x)``: the value unchanged (logical stays logical)."""
    return _eval(_bind(node, ("x",))["x"], ctx)


def _f_log(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "base"))
    x = _as_numeric(_eval(args["x"], ctx))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)
        if "base" in args:
            out = out / np.log(_as_numeric(_eval(args["base"], ctx)))
    return np.asarray(out, dtype=float)


def _f_round(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "digits"))
    digits = int(_literal(args.get("digits"), ctx, 0))
    return np.round(np.asarray(_as_numeric(_eval(args["x"], ctx)), float), digits)


def _f_as_numeric(node: ast.Call, ctx: _Context) -> Value:
    value = _eval(_bind(node, ("x",))["x"], ctx)
    if isinstance(value, _Character):
        return np.array([float(v) if v is not None else np.nan for v in value.values])
    return np.asarray(_as_numeric(value), dtype=float)


def _f_as_integer(node: ast.Call, ctx: _Context) -> Value:
    return np.trunc(np.asarray(_f_as_numeric(node, ctx), dtype=float))


def _f_as_character(node: ast.Call, ctx: _Context) -> Value:
    """``as.character(x)``: numbers spelled as R prints them, factors by their labels."""
    value = _eval(_bind(node, ("x",))["x"], ctx)
    return _Character(np.array(np.broadcast_to(_string_view(value), (ctx.n,)), dtype=object))


def _logical_strings(values: FloatArray) -> NDArray[np.object_]:
    return np.array(
        [None if np.isnan(v) else ("TRUE" if v else "FALSE") for v in values], dtype=object
    )


_TRUE_STRINGS = frozenset({"TRUE", "true", "T", "True"})
_FALSE_STRINGS = frozenset({"FALSE", "false", "F", "False"})


def _f_as_logical(node: ast.Call, ctx: _Context) -> Value:
    """``as.logical(x)``: numbers are ``TRUE`` when non-zero; R's spellings of strings."""
    value = _eval(_bind(node, ("x",))["x"], ctx)
    if isinstance(value, _Character | FactorColumn):
        strings = _string_view(value)
        return _Logical(
            np.array(
                [
                    1.0 if s in _TRUE_STRINGS else 0.0 if s in _FALSE_STRINGS else np.nan
                    for s in strings
                ]
            )
        )
    return _Logical(np.asarray(_as_logical(value), dtype=float))


def _as_factor(value: Value, ctx: _Context, levels: list[Any] | None = None) -> FactorColumn:
    """R's ``factor(x, levels=)`` / ``as.factor(x)`` of any value."""
    if isinstance(value, FactorColumn) and levels is None:
        return FactorColumn(value.codes, value.levels, value.ordered, value.contrasts)
    if isinstance(value, _Character | FactorColumn | _Logical | str):
        strings = np.array(np.broadcast_to(_string_view(value), (ctx.n,)), dtype=object)
        names = None if levels is None else [_level_string(lv) for lv in levels]
        return _strings_factor(strings, names, ctx)
    num = np.broadcast_to(np.asarray(_as_numeric(value), dtype=float), (ctx.n,))
    return _numbers_factor(num, levels)


def _strings_factor(
    strings: NDArray[np.object_], levels: list[str] | None, ctx: _Context
) -> FactorColumn:
    if levels is None:
        levels = sort_levels([s for s in strings if s is not None], ctx.collation)
    return _factor_from_strings(strings, levels)


def _numbers_factor(num: FloatArray, levels: list[Any] | None) -> FactorColumn:
    ok = ~np.isnan(num)
    uniq = np.unique(num[ok])  # values are matched through their R spelling, as R does
    spelled = np.array([format_number(float(v)) for v in uniq], dtype=object)
    strings = np.full(len(num), None, dtype=object)
    strings[ok] = spelled[np.searchsorted(uniq, num[ok])]
    names = spelled if levels is None else [format_number(float(lv)) for lv in levels]
    return _factor_from_strings(strings, [str(v) for v in names])


def _f_factor(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "levels", "labels", "exclude", "ordered"))
    for unsupported in ("labels", "exclude"):
        if unsupported in args:
            raise FormulaError(f"factor({unsupported}=) is not supported", term=deparse(node))
    levels = _vector_arg(args.get("levels"), ctx)
    value = _eval(args["x"], ctx)
    if isinstance(value, FactorColumn) and levels is None and value.kind == "factor":
        base = value.drop_unused_levels()  # factor(f) drops unused levels
    else:
        base = _as_factor(value, ctx, levels)
    ordered = bool(_literal(args.get("ordered"), ctx, False))
    keep_ordered = base.ordered and "ordered" not in args
    return FactorColumn(base.codes, base.levels, ordered or keep_ordered)


def _f_as_factor(node: ast.Call, ctx: _Context) -> Value:
    return _as_factor(_eval(_bind(node, ("x",))["x"], ctx), ctx)


def _f_ordered(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "levels"))
    levels = _vector_arg(args.get("levels"), ctx)
    base = _as_factor(_eval(args["x"], ctx), ctx, levels)
    return FactorColumn(base.codes, base.levels, ordered=True)


def _f_relevel(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "ref"))
    f = _factor_arg(args["x"], ctx)
    if f.ordered:
        raise DataError("'relevel' only for unordered factors", term=deparse(node))
    ref = _literal(args.get("ref"), ctx)
    if isinstance(ref, str):
        if ref not in f.levels:
            raise DataError(f"'ref' must be an existing level: {ref!r}", term=deparse(node))
        pos = f.levels.index(ref)
    else:
        pos = int(ref) - 1
    order = [pos, *[i for i in range(f.nlevels) if i != pos]]
    remap = np.empty(f.nlevels, dtype=np.int64)
    remap[order] = np.arange(f.nlevels)
    codes = np.where(f.codes >= 0, remap[np.maximum(f.codes, 0)], -1)
    return FactorColumn(codes, tuple(f.levels[i] for i in order), False, f.contrasts)


def _f_contrast(node: ast.Call, ctx: _Context) -> Value:
    """``C(f, contr, how.many, ...)``: a factor with a contrasts attribute."""
    args = _bind(node, ("object", "contr", "how.many", "..."), extra=True)
    f = _eval(args["object"], ctx)
    if not isinstance(f, FactorColumn):  # R: nlevels() of a non-factor is 0
        raise DataError("object not interpretable as a factor", term=deparse(node))
    if "how.many" in args:
        raise FormulaError("C(how.many=) is not supported", term=deparse(node))
    options = {k: _literal(v, ctx) for k, v in args.items() if k not in ("object", "contr")}
    if any(k.startswith("...") for k in options):
        raise FormulaError("extra arguments to C() must be named", term=deparse(node))
    spec = contrast_spec_from_node(args.get("contr"), options, f.ordered, deparse(node))
    return FactorColumn(f.codes, f.levels, f.ordered, spec)


def _f_interaction(node: ast.Call, ctx: _Context) -> Value:
    """``interaction(a, b, ...)``: levels with the first factor varying fastest."""
    args = _bind(node, ("...", "drop", "sep", "lex.order"), extra=False)
    factors = [_factor_arg(v, ctx) for k, v in args.items() if k.startswith("...")]
    if "lex.order" in args or "drop" in args:
        raise FormulaError("interaction(drop=, lex.order=) is not supported", term=deparse(node))
    sep = str(_literal(args.get("sep"), ctx, "."))
    codes = np.zeros(ctx.n, dtype=np.int64)
    levels: list[str] = [""]
    stride = 1
    missing = np.zeros(ctx.n, dtype=bool)
    for i, f in enumerate(factors):
        codes = codes + np.maximum(f.codes, 0) * stride
        missing |= f.codes < 0
        stride *= f.nlevels
        levels = [prev + (sep if i else "") + lv for lv in f.levels for prev in levels]
    codes = np.where(missing, -1, codes)
    return FactorColumn(codes, tuple(levels), False)


def _f_strata(node: ast.Call, ctx: _Context) -> Value:
    """``survival::strata(...)``: levels ``name=level``, the last variable varying fastest,
    unobserved combinations dropped, later labels padded as R's ``format`` pads them."""
    args = _bind(node, ("...", "na.group", "shortlabel", "sep"))
    if "na.group" in args or "shortlabel" in args:
        raise FormulaError("strata(na.group=, shortlabel=) is not supported", term=deparse(node))
    sep = str(_literal(args.get("sep"), ctx, ", "))
    nodes = [v for k, v in args.items() if k.startswith("...")]
    codes = np.zeros(ctx.n, dtype=np.int64)
    labels: list[str] = [""]
    missing = np.zeros(ctx.n, dtype=bool)
    for i, arg in enumerate(nodes):
        f = _factor_arg(arg, ctx)
        names = [f"{deparse(arg)}={lv}" for lv in f.levels]
        if i:
            width = max(len(s) for s in names)
            names = [s.ljust(width) for s in names]
        codes = codes * f.nlevels + np.maximum(f.codes, 0)
        missing |= f.codes < 0
        labels = [prev + (sep if i else "") + s for prev in labels for s in names]
    codes = np.where(missing, -1, codes)
    full = FactorColumn(codes, tuple(labels))
    return full.drop_unused_levels()


def _format_g(value: float, digits: int) -> str:
    """C's ``%.{digits}g`` (R's ``formatC(x, digits = digits, width = 1)``)."""
    return f"{value:.{digits}g}" if value != 0 else "0"


def _f_cut(node: ast.Call, ctx: _Context) -> Value:
    """``cut(x, breaks)`` with R's labels (``formatC(breaks, digits = 3)``), ``right = TRUE``."""
    args = _bind(node, ("x", "breaks", "labels", "include.lowest", "right", "dig.lab"))
    for unsupported in ("labels", "include.lowest", "right"):
        if unsupported in args:
            raise FormulaError(f"cut({unsupported}=) is not supported", term=deparse(node))
    x = _numeric_arg(args["x"], ctx)
    breaks_arg = _vector_arg(args["breaks"], ctx)
    if len(breaks_arg) == 1:
        nb = int(breaks_arg[0]) + 1
        lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
        dx = hi - lo
        if dx == 0:
            dx = abs(lo) if lo != 0 else 1.0
            breaks = transforms.r_seq(lo - dx / 1000, hi + dx / 1000, nb)
        else:
            breaks = transforms.r_seq(lo, hi, nb)
            breaks[0], breaks[-1] = lo - dx / 1000, hi + dx / 1000
    else:
        breaks = np.sort(np.asarray(breaks_arg, dtype=float))
    dig = int(_literal(args.get("dig.lab"), ctx, 3))
    for digits in range(dig, max(12, dig) + 1):
        text = [_format_g(b + 0.0, digits) for b in breaks]
        if all(a != b for a, b in itertools.pairwise(text)):
            break
    levels = tuple(f"({a},{b}]" for a, b in itertools.pairwise(text))
    codes = np.searchsorted(breaks, x, side="left") - 1
    bad = np.isnan(x) | (codes < 0) | (codes >= len(levels))
    return FactorColumn(np.where(bad, -1, codes).astype(np.int64), levels, False)


def _f_poly(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "...", "degree", "coefs", "raw"), extra=False)
    xs = [args["x"], *[v for k, v in args.items() if k.startswith("...")]]
    if "coefs" in args:
        raise FormulaError("poly(coefs=) is not supported", term=deparse(node))
    raw = bool(_literal(args.get("raw"), ctx, False))
    if len(xs) == 2 and isinstance(xs[1], ast.Number):  # poly(x, 2): the dot is the degree
        args["degree"] = xs.pop()
    degree = int(_literal(args.get("degree"), ctx, 1))
    bases = []
    for x_node in xs:
        x = _numeric_arg(x_node, ctx)
        prior = None if raw else ctx.next_state(transforms.PolyState)
        basis, st = transforms.poly(x, degree, raw=raw, state=prior)
        if not raw:
            _record(ctx, st)
        bases.append(basis)
    if len(bases) == 1:
        return NumericColumn(bases[0], tuple(str(j) for j in range(1, degree + 1)))
    combos = transforms.poly_degrees(len(bases), degree)
    cols = [
        np.prod([b[:, d - 1] if d else np.ones(ctx.n) for b, d in zip(bases, c, strict=True)], 0)
        for c in combos
    ]
    return NumericColumn(np.column_stack(cols), tuple(".".join(map(str, c)) for c in combos))


def _f_scale(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "center", "scale"))
    x = _numeric_arg(args["x"], ctx)
    center = _literal(args.get("center"), ctx, True)
    scale_ = _literal(args.get("scale"), ctx, True)
    prior = ctx.next_state(transforms.ScaleState)
    out, st = transforms.scale(x, center=center, scale_=scale_, state=prior)
    _record(ctx, st)
    return NumericColumn(out.reshape(-1, 1))


def _knots_arg(node: ast.Node | None, ctx: _Context) -> FloatArray | None:
    values = _vector_arg(node, ctx)
    return None if values is None else np.asarray(values, dtype=float)


def _boundary_arg(node: ast.Node | None, ctx: _Context) -> tuple[float, float] | None:
    values = _vector_arg(node, ctx)
    return None if values is None else (float(values[0]), float(values[1]))


def _f_bs(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "df", "knots", "degree", "intercept", "Boundary.knots"))
    x = _numeric_arg(args["x"], ctx)
    df = _literal(args.get("df"), ctx)
    basis, st = transforms.bs(
        x,
        df=None if df is None else int(df),
        knots=_knots_arg(args.get("knots"), ctx),
        degree=int(_literal(args.get("degree"), ctx, 3)),
        intercept=bool(_literal(args.get("intercept"), ctx, False)),
        boundary_knots=_boundary_arg(args.get("Boundary.knots"), ctx),
        state=ctx.next_state(transforms.SplineState),
    )
    _record(ctx, st)
    return NumericColumn(basis, tuple(str(j) for j in range(1, basis.shape[1] + 1)))


def _f_ns(node: ast.Call, ctx: _Context) -> Value:
    args = _bind(node, ("x", "df", "knots", "intercept", "Boundary.knots"))
    x = _numeric_arg(args["x"], ctx)
    df = _literal(args.get("df"), ctx)
    basis, st = transforms.ns(
        x,
        df=None if df is None else int(df),
        knots=_knots_arg(args.get("knots"), ctx),
        intercept=bool(_literal(args.get("intercept"), ctx, False)),
        boundary_knots=_boundary_arg(args.get("Boundary.knots"), ctx),
        state=ctx.next_state(transforms.SplineState),
    )
    _record(ctx, st)
    return NumericColumn(basis, tuple(str(j) for j in range(1, basis.shape[1] + 1)))


def _f_offset(node: ast.Call, ctx: _Context) -> Value:
    return np.asarray(_numeric_arg(_bind(node, ("object",))["object"], ctx), dtype=float)


def _f_cbind(node: ast.Call, ctx: _Context) -> Value:
    """``cbind(...)`` (binomial responses): a numeric matrix named by the arguments."""
    cols = [_numeric_arg(a.value, ctx) for a in node.args]
    names = tuple(
        a.name if a.name is not None else (a.value.id if isinstance(a.value, ast.Name) else "")
        for a in node.args
    )
    return NumericColumn(np.column_stack(cols), names)


def _f_surv(node: ast.Call, ctx: _Context) -> Value:
    """``Surv(time, event)`` or ``Surv(time, time2, event)``: numeric matrix."""
    args = _bind(node, ("time", "time2", "event"))
    if "event" not in args:  # two arguments: time and event
        args = {"time": args["time"], "status": args["time2"]}
        names: tuple[str, ...] = ("time", "status")
    else:
        args = {"start": args["time"], "stop": args["time2"], "status": args["event"]}
        names = ("start", "stop", "status")
    cols = [_numeric_arg(v, ctx) for v in args.values()]
    return NumericColumn(np.column_stack(cols), names)


FUNCTIONS: dict[str, Callable[[ast.Call, _Context], Value]] = {
    "I": _f_identity,
    "log": _f_log,
    "log2": _math(np.log2),
    "log10": _math(np.log10),
    "log1p": _math(np.log1p),
    "exp": _math(np.exp),
    "expm1": _math(np.expm1),
    "sqrt": _math(np.sqrt),
    "abs": _math(np.abs),
    "sin": _math(np.sin),
    "cos": _math(np.cos),
    "tan": _math(np.tan),
    "floor": _math(np.floor),
    "ceiling": _math(np.ceil),
    "trunc": _math(np.trunc),
    "sign": _math(np.sign),
    "round": _f_round,
    "as.numeric": _f_as_numeric,
    "as.integer": _f_as_integer,
    "as.character": _f_as_character,
    "as.logical": _f_as_logical,
    "factor": _f_factor,
    "as.factor": _f_as_factor,
    "ordered": _f_ordered,
    "relevel": _f_relevel,
    "C": _f_contrast,
    "interaction": _f_interaction,
    "cut": _f_cut,
    "poly": _f_poly,
    "scale": _f_scale,
    "bs": _f_bs,
    "ns": _f_ns,
    "offset": _f_offset,
    "strata": _f_strata,
    "cbind": _f_cbind,
    "Surv": _f_surv,
}
"""R functions that :func:`evaluate` implements, by R name."""
