"""R's ``update.formula``: ``.`` in the new formula stands for the old side.

Used by the translation of ``update(fit, . ~ . - x)``.  R simplifies the result through
``terms.formula``; here a right side ``. + t`` / ``. - t`` edits the old top-level terms, and
whatever is left (removing a term that only exists inside an interaction, say) is written as
``- t`` for interlace's formula algebra, which reproduces R's terms.
"""

from __future__ import annotations

from interlace.formula import ast
from interlace.formula.deparse import deparse


def walk(node: ast.Node) -> list[ast.Node]:
    """``node`` and all nodes below it."""
    out = [node]
    for child in vars(node).values():
        if isinstance(child, ast.Node):
            out.extend(walk(child))
        elif isinstance(child, tuple):
            for item in child:
                if isinstance(item, ast.Node):
                    out.extend(walk(item))
    return out


def _signed_terms(node: ast.Node, sign: str = "+") -> list[tuple[str, ast.Node]] | None:
    """A top-level ``a + b - c`` chain as (sign, term) pairs; ``None`` for anything else."""
    if isinstance(node, ast.BinaryOp) and node.op in ("+", "-"):
        left = _signed_terms(node.left, sign)
        if left is None:
            return None
        return [*left, (node.op, node.right)]
    if isinstance(node, ast.UnaryOp) and node.op in ("+", "-"):
        return [(node.op, node.operand)]
    return [(sign, node)]


def _chain(pairs: list[tuple[str, ast.Node]]) -> ast.Node:
    if not pairs:
        return ast.Number(1.0, "1")
    sign, first = pairs[0]
    node: ast.Node = first if sign == "+" else ast.UnaryOp("-", first)
    for sign, term in pairs[1:]:
        node = ast.BinaryOp(sign, node, term)
    return node


def _substitute_dot(node: ast.Node, value: ast.Node) -> ast.Node:
    if isinstance(node, ast.Dot):
        return value
    changes = {}
    for key, child in vars(node).items():
        if isinstance(child, ast.Node):
            changes[key] = _substitute_dot(child, value)
        elif isinstance(child, tuple) and child and isinstance(child[0], ast.Node):
            changes[key] = tuple(_substitute_dot(c, value) for c in child)  # type: ignore[assignment]
    return type(node)(**{**vars(node), **changes})


def update_formula(old: ast.Formula, new: ast.Formula) -> ast.Formula:
    """R's ``update.formula``: ``.`` stands for the old side.

    A right side ``. + t`` / ``. - t`` edits the old top-level terms (adding a term that
    is already there or removing one that is not at top level is left to the formula
    algebra, which gives R's terms); any other use of ``.`` substitutes ``(old)``.
    """
    lhs = (
        old.lhs
        if new.lhs is None
        else (_substitute_dot(new.lhs, old.lhs) if old.lhs is not None else new.lhs)
    )
    pairs = _signed_terms(new.rhs)
    old_pairs = _signed_terms(old.rhs)
    if (
        pairs
        and isinstance(pairs[0][1], ast.Dot)
        and pairs[0][0] == "+"
        and old_pairs
        and not any(isinstance(n, ast.Dot) for _, t in pairs[1:] for n in walk(t))
    ):
        result = list(old_pairs)
        for sign, term in pairs[1:]:
            key = deparse(term)
            present = [i for i, (s, t) in enumerate(result) if s == "+" and deparse(t) == key]
            if sign == "-" and present:
                del result[present[0]]
            elif not (sign == "+" and present):
                result.append((sign, term))
        rhs = _chain(result)
    else:
        rhs = _substitute_dot(new.rhs, ast.Paren(old.rhs))
    formula = ast.Formula(lhs, rhs)
    return ast.Formula(lhs, rhs, text=deparse(formula))
