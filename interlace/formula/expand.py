"""Formula AST -> :class:`~interlace.ir.terms.FormulaIR` (lme4's ``findbars``/``nobars``).

The right-hand side is split into the fixed part (R's ``nobars``) and the random-effect
terms (``findbars`` after ``expandDoubleVerts``), in formula order:

* a bar term is ``(lhs | g)`` or ``(lhs || g)`` — inside parentheses — or a covariance
  special wrapping one, ``diag(lhs | g, hom = TRUE)``; bar terms must be joined to the
  rest of the formula by ``+``;
* the left side of a bar is a formula of its own, read with the dialect's implicit
  intercept (lme4: ``(x | g)`` is ``(1 + x | g)``; coxme: no intercept);
* ``(e || g)`` under ``double_bar="split"`` (lme4) becomes ``(1 | g)`` if ``e`` has an
  intercept, then one ``(0 + t | g)`` per term label ``t`` of ``e`` (a factor term stays
  one correlated block); under ``"diag"`` (glmmTMB) it is ``diag(e | g)``;
* grouping ``g1/g2`` gives ``g2:g1`` then ``g1`` (lme4's ``expandSlash`` order and naming),
  ``g1:g2`` one interaction, and — as in lme4 >= 1.1-36 (``reformulas``) —
  ``g1*g2`` gives ``g1``, ``g2``, ``g1:g2`` and ``g1 + g2`` gives ``g1``, ``g2``.
  Nested interactions are flattened (``g/h/k`` -> ``k:h:g``, where lme4 1.1-31 writes
  ``k:(h:g)``).

lme4's reordering of random terms by their number of levels needs the data and is done
when the design is built.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from interlace.errors import FormulaError, UnknownFunctionError
from interlace.formula import ast
from interlace.formula.deparse import deparse
from interlace.formula.functions import (
    COVARIANCE_SPECIALS,
    FUNCTIONS,
    RESPONSE_FUNCTIONS,
    UNSUPPORTED_COVARIANCE_SPECIALS,
)
from interlace.formula.operators import error_at, fixed_terms
from interlace.formula.parser import parse
from interlace.ir.terms import (
    LME4,
    CovSpec,
    Dialect,
    FormulaIR,
    RandomTerm,
    TermList,
    Variable,
)

_BARS = ("|", "||")

#: Operators that have no place in a model formula, with the reason.
FORBIDDEN_OPERATORS: Mapping[str, str] = MappingProxyType(
    {
        "$": "'$' extracts from an R object; name the data column directly (write x, "
        "not data$x) so that the model can be rebuilt for new data",
        "@": "'@' extracts a slot of an R object; name the data column directly",
        "::": "a namespace-qualified name is not a data column; name the column directly",
        ":::": "a namespace-qualified name is not a data column; name the column directly",
    }
)


@dataclass(frozen=True)
class _Bar:
    """One bar term as written: ``lhs | group`` (or ``||``) and its covariance special."""

    node: ast.BinaryOp
    covariance: CovSpec


def formula_ir(
    formula: str | ast.Formula,
    *,
    dialect: Dialect = LME4,
    columns: Sequence[str] | None = None,
) -> FormulaIR:
    """Expand a model formula into the model IR.

    Parameters
    ----------
    formula
        Formula text such as ``"y ~ x + (1 + x | g)"`` or its parsed AST.
    dialect
        The model class whose rules apply (implicit random intercept, ``||``).
    columns
        Data column names; needed only when the formula uses ``.``.

    Returns
    -------
    FormulaIR
        Response, fixed terms (with offsets) and random terms in formula order.

    Raises
    ------
    FormulaSyntaxError
        If the text does not parse.
    UnknownFunctionError
        If the formula calls a function outside the catalogue of ``functions.py``.
    FormulaError
        For a well-formed formula that is not a valid model (see the module docstring).
    """
    tree = parse(formula) if isinstance(formula, str) else formula
    text = tree.text or deparse(tree)
    _validate(tree, text)
    bars: list[_Bar] = []
    fixed_rhs = _split(tree.rhs, bars, text)
    fixed = fixed_terms(fixed_rhs, text=text, lhs=tree.lhs, columns=columns)
    random = _random_terms(bars, dialect, text)
    if dialect.requires_random and not random:
        raise FormulaError(
            f"no random-effect terms in {text!r}: {dialect.name} needs at least one, "
            "such as (1 | group)"
        )
    return FormulaIR(text, fixed.response, fixed, random, dialect)


# ------------------------------------------------------------------ checks
def _walk(node: ast.Node) -> Iterator[ast.Node]:
    yield node
    if isinstance(node, ast.Call):
        for arg in node.args:
            yield from _walk(arg.value)
    elif isinstance(node, ast.BinaryOp):
        yield from _walk(node.left)
        yield from _walk(node.right)
    elif isinstance(node, ast.UnaryOp):
        yield from _walk(node.operand)
    elif isinstance(node, ast.Paren):
        yield from _walk(node.body)
    elif isinstance(node, ast.Formula):
        if node.lhs is not None:
            yield from _walk(node.lhs)
        yield from _walk(node.rhs)


def _check_functions(node: ast.Node, text: str) -> None:
    """Every call must be in the catalogue; covariance specials must wrap a bar."""
    for sub in _walk(node):
        if isinstance(sub, ast.BinaryOp) and sub.op in FORBIDDEN_OPERATORS:
            raise error_at(FORBIDDEN_OPERATORS[sub.op], text, _operator_span(sub, text))
        if not isinstance(sub, ast.Call):
            continue
        if sub.func in UNSUPPORTED_COVARIANCE_SPECIALS and _contains_bar(sub) is not None:
            raise error_at(
                f"the covariance structure {sub.func}() is not supported; "
                "use us(), diag(), cs() or ar1()",
                text,
                sub.span,
            )
        if sub.func in FUNCTIONS or sub.func in COVARIANCE_SPECIALS:
            continue  # covariance specials are checked where bars are collected
        close = difflib.get_close_matches(sub.func, list(FUNCTIONS), n=1)
        hint = f"; did you mean {close[0]}()?" if close else ""
        raise UnknownFunctionError(
            f"unknown function {sub.func}() in the formula{hint} "
            "(the functions a formula may call are listed in interlace.formula.functions)",
            formula=text,
            position=sub.span.start,
            term=sub.func,
        )


def _validate(tree: ast.Formula, text: str) -> None:
    """Checks that need the whole formula: functions, operators, sides of ``~``."""
    if tree.lhs is not None:
        _check_functions(tree.lhs, text)
        bar = _contains_bar(tree.lhs)
        if bar is not None:
            raise error_at("a random-effect term belongs on the right of '~'", text, bar.span)
    _check_functions(tree.rhs, text)
    for sub in _walk(tree.rhs):
        if isinstance(sub, ast.Call) and sub.func in RESPONSE_FUNCTIONS:
            raise error_at(
                f"{sub.func}() makes a response; it belongs on the left of '~'", text, sub.span
            )


# ------------------------------------------------------------------ nobars / findbars
def _contains_bar(node: ast.Node) -> ast.BinaryOp | None:
    for sub in _walk(node):
        if isinstance(sub, ast.BinaryOp) and sub.op in _BARS:
            return sub
    return None


def _as_bar_term(node: ast.Node, text: str) -> _Bar | None:
    """The bar term that ``node`` is, if it is one (``(x | g)``, ``((x | g))``, ``diag(x | g)``)."""
    if isinstance(node, ast.Paren):
        body = node.body
        while isinstance(body, ast.Paren):
            body = body.body
        if isinstance(body, ast.BinaryOp) and body.op in _BARS:
            return _Bar(body, CovSpec())
        if isinstance(body, ast.Call) and body.func in COVARIANCE_SPECIALS:
            return _as_bar_term(body, text)
        return None
    if isinstance(node, ast.Call) and node.func in COVARIANCE_SPECIALS:
        return _special_bar(node, text)
    return None


def _special_bar(call: ast.Call, text: str) -> _Bar:
    positional = [a for a in call.args if a.name is None]
    inner = positional[0].value if len(positional) == 1 else None
    while isinstance(inner, ast.Paren):
        inner = inner.body
    if not (isinstance(inner, ast.BinaryOp) and inner.op == "|"):
        raise error_at(
            f"{call.func}() wraps one random-effect term, as in {call.func}(1 + x | g)",
            text,
            call.span,
        )
    hom: bool | None = None
    for arg in call.args:
        if arg.name is None:
            continue
        if arg.name != "hom" or not (
            isinstance(arg.value, ast.Constant) and arg.value.name in ("TRUE", "FALSE", "T", "F")
        ):
            raise error_at(
                f"{call.func}() takes only hom = TRUE or FALSE besides the bar term",
                text,
                arg.span,
            )
        hom = arg.value.name in ("TRUE", "T")
    return _Bar(inner, CovSpec(COVARIANCE_SPECIALS[call.func], hom))


def _split(node: ast.Node, bars: list[_Bar], text: str) -> ast.Node | None:
    """Collect the bar terms of ``node`` in order and return the rest (``nobars``)."""
    bar = _as_bar_term(node, text)
    if bar is not None:
        bars.append(bar)
        return None
    if isinstance(node, ast.BinaryOp) and node.op == "+":
        left = _split(node.left, bars, text)
        right = _split(node.right, bars, text)
        if left is None or right is None:
            return left if right is None else right
        return ast.BinaryOp("+", left, right, span=node.span)
    if isinstance(node, ast.BinaryOp) and node.op == "-" and _contains_bar(node.right) is None:
        left = _split(node.left, bars, text)
        if left is None:  # lme4's nobars would drop the '-' and keep its right side as a term
            raise error_at(
                f"'- {deparse(node.right)}' follows only random-effect terms, where lme4 reads "
                f"it as '+ {deparse(node.right)}'; write it before the random-effect terms",
                text,
                node.span,
            )
        return ast.BinaryOp("-", left, node.right, span=node.span)
    if isinstance(node, ast.Paren) and _contains_bar(node.body) is not None:
        body = _split(node.body, bars, text)
        return None if body is None else ast.Paren(body, span=node.span)
    stray = _contains_bar(node)
    if stray is not None:
        if stray is node:
            raise error_at(
                f"'{stray.op}' outside parentheses: R reads this as ({deparse(stray.left)}) "
                f"{stray.op} {deparse(stray.right)}, one random-effect term for everything on "
                f"its left; put each random-effect term in parentheses, as in (1 | g)",
                text,
                _operator_span(stray, text),
            )
        raise error_at(
            "a random-effect term must be added to the model with '+', as in y ~ x + (1 | g)",
            text,
            node.span,
        )
    if isinstance(node, ast.Call) and node.func in COVARIANCE_SPECIALS:
        raise error_at(
            f"{node.func}() wraps one random-effect term, as in {node.func}(1 + x | g)",
            text,
            node.span,
        )
    return node


def _operator_span(node: ast.BinaryOp, text: str) -> ast.Span:
    """The span of the operator token of a binary node (between its operands)."""
    start = text.find(node.op, node.left.span.end, node.right.span.start)
    return node.span if start < 0 else ast.Span(start, start + len(node.op))


# ------------------------------------------------------------------ random terms
def _random_terms(bars: list[_Bar], dialect: Dialect, text: str) -> tuple[RandomTerm, ...]:
    out: list[RandomTerm] = []
    for bar in bars:
        for term in _expand_bar(bar, dialect, text):
            key = (term.lhs.intercept, term.lhs.labels, term.group_label, term.covariance)
            if any(
                (t.lhs.intercept, t.lhs.labels, t.group_label, t.covariance) == key for t in out
            ):
                raise error_at(
                    f"the random-effect term ({term.source}) appears twice", text, bar.node.span
                )
            out.append(term)
    return tuple(out)


def _expand_bar(bar: _Bar, dialect: Dialect, text: str) -> list[RandomTerm]:
    node = bar.node
    lhs = _bar_lhs(node.left, dialect, text)
    groups = _groups(node.right, text)
    for group in groups:
        shared = {v.label for v in group} & {v.label for v in lhs.variables}
        if shared:
            raise error_at(
                f"{', '.join(sorted(shared))} is on both sides of '{node.op}': a variable "
                "cannot vary within the groups it defines",
                text,
                node.span,
            )
    if node.op == "|" or dialect.double_bar == "diag":
        covariance = bar.covariance if node.op == "|" else CovSpec("diag")
        lhs_text = deparse(node.left)
        return [_random(lhs, g, covariance, lhs_text, node.span) for g in groups]
    # lme4's expandDoubleVerts: intercept block, then one uncorrelated block per term
    pieces: list[tuple[TermList, str]] = []
    if lhs.intercept:
        pieces.append((TermList(True, (), ()), "1"))
    pieces.extend(
        (TermList(False, (term,), term.variables), f"0 + {term.label}") for term in lhs.terms
    )
    return [
        _random(piece, g, bar.covariance, lhs_text, node.span)
        for piece, lhs_text in pieces
        for g in groups
    ]


def _random(
    lhs: TermList, group: tuple[Variable, ...], cov: CovSpec, lhs_text: str, span: ast.Span
) -> RandomTerm:
    label = ":".join(v.label for v in group)
    return RandomTerm(lhs, group, cov, f"{lhs_text} | {label}", span)


def _bar_lhs(node: ast.Node, dialect: Dialect, text: str) -> TermList:
    lhs = fixed_terms(node, text=text, intercept=dialect.implicit_re_intercept)
    if not lhs.intercept and not lhs.terms:
        raise error_at(
            "a random-effect term needs something to vary: (0 | g) has no intercept and no "
            "slopes; use (1 | g) for a random intercept",
            text,
            node.span,
        )
    if lhs.offsets:
        raise error_at("offset() cannot be a random effect", text, node.span)
    return lhs


def _groups(node: ast.Node, text: str) -> list[tuple[Variable, ...]]:
    """Grouping factors of a bar's right side, in lme4's order (see module docstring)."""
    if isinstance(node, ast.Paren):
        return _groups(node.body, text)
    if isinstance(node, ast.BinaryOp) and node.op in ("/", ":", "*", "+"):
        left = _groups(node.left, text)
        right = _groups(node.right, text)
        if node.op == "/":
            return _dedupe([_join(r, left[0]) for r in right] + left)
        crossed = [_join(lt, rt) for lt in left for rt in right]
        if node.op == ":":
            return _dedupe(crossed)
        return _dedupe(left + right + (crossed if node.op == "*" else []))
    if isinstance(node, ast.Number | ast.String | ast.Constant | ast.Dot) or (
        isinstance(node, ast.UnaryOp | ast.BinaryOp)
    ):
        raise error_at(
            f"{deparse(node)} is not a grouping factor; group by a column, an interaction "
            "g1:g2 or nesting g1/g2",
            text,
            node.span,
        )
    return [(Variable(node, deparse(node)),)]


def _join(first: tuple[Variable, ...], second: tuple[Variable, ...]) -> tuple[Variable, ...]:
    seen = {v.label for v in first}
    return first + tuple(v for v in second if v.label not in seen)


def _dedupe(groups: list[tuple[Variable, ...]]) -> list[tuple[Variable, ...]]:
    out: list[tuple[Variable, ...]] = []
    for group in groups:
        if all(tuple(v.label for v in group) != tuple(v.label for v in g) for g in out):
            out.append(group)
    return out
