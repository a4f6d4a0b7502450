"""The catalogue of functions allowed inside formulas.

A formula is never evaluated as code: every call in it must name a function listed
here (or a covariance special wrapping a random-effect bar, see :data:`COVARIANCE_SPECIALS`).
The catalogue says what kind of function each one is; the evaluator of model variables
imports it and implements each entry.

Kinds
-----
``"elementwise"``
    A numeric function applied value by value (``log``, ``exp``, ...).
``"identity"``
    ``I()``: evaluate the arithmetic inside as written.
``"stateful"``
    A transform whose parameters are learnt from the training data and reused for
    new data (R's ``predvars``): ``poly``, ``scale``, ``ns``, ``bs``.
``"factor"``
    Builds or recodes a factor, or converts a type (``factor``, ``relevel``, ``C``, ``cut``,
    ``as.numeric``, ...).
``"special"``
    Changes the model's structure rather than making a variable: ``offset`` (added to the
    linear predictor), ``strata`` (coxme strata), and the responses ``cbind``
    (successes/failures) and ``Surv`` (survival times).
``"vector"``
    ``c()``, which only builds constant arguments such as ``knots = c(1, 2)``.
``"contrast"``
    R's contrast functions (``contr.treatment``, ``contr.sum``, ...), which only appear as
    arguments of ``C()``, as in ``C(f, contr.treatment(3, base = 2))``.

``"vector"`` and ``"contrast"`` functions are arguments, never model variables
(:data:`ARGUMENT_KINDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

from interlace.ir.terms import CovKind

FunctionKind = Literal[
    "elementwise", "identity", "stateful", "factor", "special", "vector", "contrast"
]

#: Kinds of functions that only build arguments of other functions.
ARGUMENT_KINDS: frozenset[FunctionKind] = frozenset({"vector", "contrast"})

_BY_KIND: dict[FunctionKind, tuple[str, ...]] = {
    "elementwise": (
        "log",
        "exp",
        "sqrt",
        "abs",
        "log2",
        "log10",
        "log1p",
        "expm1",
        "sin",
        "cos",
        "tan",
        "floor",
        "ceiling",
        "round",
        "sign",
        "trunc",
    ),
    "identity": ("I",),
    "stateful": ("poly", "scale", "ns", "bs"),
    "factor": (
        "factor",
        "as.factor",
        "ordered",
        "relevel",
        "C",
        "interaction",
        "cut",
        "as.numeric",
        "as.integer",
        "as.character",
        "as.logical",
    ),
    "special": ("offset", "strata", "cbind", "Surv"),
    "vector": ("c",),
    "contrast": ("contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS"),
}

#: Function name -> kind, for every function a formula may call.
FUNCTIONS: Mapping[str, FunctionKind] = MappingProxyType(
    {name: kind for kind, names in _BY_KIND.items() for name in names}
)

#: Covariance specials that may wrap a bar term, ``diag(x | g)`` (lme4 >= 2.0, glmmTMB),
#: and the covariance kind of the IR each one requests.
COVARIANCE_SPECIALS: Mapping[str, CovKind] = MappingProxyType(
    {"us": "us", "diag": "diag", "cs": "cs", "ar1": "ar1"}
)

#: glmmTMB covariance structures that interlace does not fit (yet): an error when they wrap a
#: bar term (``exp`` alone is the exponential function).
UNSUPPORTED_COVARIANCE_SPECIALS = frozenset(
    {
        "ou",
        "exp",
        "gau",
        "mat",
        "toep",
        "rr",
        "homdiag",
        "propto",
        "hetar1",
        "homcs",
        "homtoep",
        "equalto",
    }
)

#: Functions whose result is a response (left-hand side only).
RESPONSE_FUNCTIONS = frozenset({"cbind", "Surv"})


def function_kind(name: str) -> FunctionKind | None:
    """The kind of a formula function, or ``None`` if the catalogue does not know it.

    Parameters
    ----------
    name
        The function name as written (without a ``pkg::`` prefix).

    Returns
    -------
    str or None
        One of the kinds described in the module docstring.
    """
    return FUNCTIONS.get(name)
