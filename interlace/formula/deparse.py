"""R's ``deparse`` of formula AST nodes: the spelling R uses for term labels and column names.

Rules (verified against R 4.2.2, see ``fixtures/R/formula_terms.R``):

* spaces around ``+ - * == != < > <= >= & && | || ~ =`` and user operators ``%op%``
  (``%in%``), none around ``^ / : $ @ ::`` and the arithmetic specials ``%%`` ``%/%``;
* prefix operators are written without a space (``-x``, ``!x``, ``~x``);
* explicit parentheses are kept; arguments are separated by ``", "`` and named ones
  written ``name = value``;
* numbers as R prints them with 15 significant digits (:func:`format_number`);
  integer literals (``2L``) lose their suffix; strings use double quotes;
* names are backquoted only when they are not syntactic R names.
"""

from __future__ import annotations

import math
import re

from interlace.formula import ast

#: Binary operators that R deparses without surrounding spaces.
UNSPACED_OPERATORS = frozenset({"^", "/", ":", "$", "@", "::", ":::", "%%", "%/%"})

#: Words that R never accepts as bare names.
RESERVED_WORDS = frozenset(
    {
        "if",
        "else",
        "repeat",
        "while",
        "function",
        "for",
        "in",
        "next",
        "break",
        "TRUE",
        "FALSE",
        "NULL",
        "Inf",
        "NaN",
        "NA",
        "NA_integer_",
        "NA_real_",
        "NA_character_",
        "NA_complex_",
    }
)

_SYNTACTIC = re.compile(r"(?:[^\W\d_]|\.(?![0-9]))[\w.]*|\.")

#: Digits R uses when it deparses a double (``options(digits)`` does not apply).
DEPARSE_DIGITS = 15

_STRING_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\v": "\\v",
    "\0": "\\0",
}


def is_syntactic(name: str) -> bool:
    """Whether ``name`` can be written without backquotes in R (``make.names`` rules).

    Parameters
    ----------
    name
        A symbol name.

    Returns
    -------
    bool
        True for names such as ``x``, ``.x``, ``x_1.b``; False for ``my var``, ``1x``, ``if``.
    """
    return _SYNTACTIC.fullmatch(name) is not None and name not in RESERVED_WORDS


def quote_name(name: str) -> str:
    """A symbol as R deparses it: backquoted only if it is not syntactic."""
    if is_syntactic(name):
        return name
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def quote_string(value: str) -> str:
    """A string literal as R deparses it (double quotes, C escapes)."""
    return '"' + "".join(_STRING_ESCAPES.get(ch, ch) for ch in value) + '"'


def format_number(value: float, *, integer: bool = False) -> str:
    """A number as R's ``deparse`` prints it.

    R formats doubles with up to 15 significant digits (the fewest that show the value to
    that precision) and chooses fixed notation when it is no wider than scientific
    notation (``formatReal`` with ``scipen = 0``): ``0.001``, ``1e-04``, ``123456``,
    ``1e+05``.  Integer literals are printed as plain integers.

    Parameters
    ----------
    value
        The number (finite).
    integer
        Whether the literal was an R integer (``2L``).

    Returns
    -------
    str
        R's spelling.
    """
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if integer and value.is_integer():
        return str(int(value))
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, exponent_text = f"{abs(value):.{DEPARSE_DIGITS - 1}e}".split("e")
    exponent = int(exponent_text)
    digits = mantissa.replace(".", "").rstrip("0")
    nsig = max(len(digits), 1)
    # widths of the two notations (R's formatReal): fixed vs d.ddde+XX
    left = exponent + 1 if exponent >= 0 else 1
    right = max(0, nsig - exponent - 1)
    fixed_width = left + (right + 1 if right > 0 else 0)
    sci_width = (nsig + 1 if nsig > 1 else 1) + (4 if abs(exponent) < 100 else 5)
    if fixed_width <= sci_width:
        return sign + f"{abs(value):.{right}f}"
    lead = digits[0] + ("." + digits[1:nsig] if nsig > 1 else "")
    return f"{sign}{lead}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


def _number(node: ast.Number) -> str:
    is_integer = node.text.endswith("L")
    return format_number(node.value, integer=is_integer)


def _argument(arg: ast.Argument) -> str:
    value = deparse(arg.value)
    if arg.name is None:
        return value
    return f"{quote_name(arg.name)} = {value}"


def _binary(node: ast.BinaryOp) -> str:
    left, right = deparse(node.left), deparse(node.right)
    if node.op in UNSPACED_OPERATORS:
        return f"{left}{node.op}{right}"
    return f"{left} {node.op} {right}"


def deparse(node: ast.Node) -> str:
    """R's ``deparse`` of an AST node, e.g. ``log(x, base = 2)`` or ``I(x * 0.001)``.

    Parameters
    ----------
    node
        Any node of :mod:`interlace.formula.ast`.

    Returns
    -------
    str
        The text R prints for the same expression (one line).
    """
    if isinstance(node, ast.Name):
        return quote_name(node.id)
    if isinstance(node, ast.Number):
        return _number(node)
    if isinstance(node, ast.String):
        return quote_string(node.value)
    if isinstance(node, ast.Constant):
        return node.name
    if isinstance(node, ast.Dot):
        return "."
    if isinstance(node, ast.BinaryOp):
        return _binary(node)
    if isinstance(node, ast.UnaryOp):
        return node.op + deparse(node.operand)
    if isinstance(node, ast.Paren):
        return "(" + deparse(node.body) + ")"
    if isinstance(node, ast.Call):
        func = quote_name(node.func)
        if node.namespace is not None:
            func = f"{quote_name(node.namespace)}::{func}"
        return func + "(" + ", ".join(_argument(a) for a in node.args) + ")"
    if isinstance(node, ast.Argument):
        return _argument(node)
    if isinstance(node, ast.Formula):
        rhs = deparse(node.rhs)
        return f"~{rhs}" if node.lhs is None else f"{deparse(node.lhs)} ~ {rhs}"
    raise TypeError(f"cannot deparse {type(node).__name__}")
