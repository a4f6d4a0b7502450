"""R semantics that differ from a naive reading of a model formula (R_SEMANTICS.md §4–5).

The checks here look at a formula as the target package reads it and return
:class:`Finding` records; the emitter turns them into comments in the output and, for
``warning`` findings, into :class:`~interlace.errors.TranslationWarning`.  They never change
the formula: interlace reads formulas with each package's own rules, so the translation is
exact; the findings tell the user where R's model may not be the one they meant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from interlace.formula import ast
from interlace.formula.deparse import deparse

#: Formula operators whose operands are still formula terms (not ordinary R code).
_FORMULA_OPERATORS = frozenset({"+", "-", "*", "/", ":", "%in%", "^", "|", "||"})
#: Specials whose argument is a random-effect term (``diag(x | g)``).
_TERM_SPECIALS = frozenset({"us", "diag", "cs", "ar1", "homdiag", "homcs", "hetar1", "toep"})


@dataclass(frozen=True)
class Finding:
    """Something the user should know about how R reads the code.

    Attributes
    ----------
    level : {"warning", "note"}
        ``warning``: R's model is probably not the intended one; ``note``: R's rule, stated.
    message : str
    position : int
        0-based offset in the script of the construct.
    """

    level: Literal["warning", "note"]
    message: str
    position: int


def _terms(node: ast.Node) -> Iterator[ast.Node]:
    """Every node of ``node`` reached through formula operators (not inside function calls)."""
    yield node
    if isinstance(node, ast.Paren):
        yield from _terms(node.body)
    elif isinstance(node, ast.BinaryOp) and node.op in _FORMULA_OPERATORS:
        yield from _terms(node.left)
        yield from _terms(node.right)
    elif isinstance(node, ast.UnaryOp):
        yield from _terms(node.operand)
    elif isinstance(node, ast.Call) and node.func in _TERM_SPECIALS and node.args:
        yield from _terms(node.args[0].value)


def _strip(node: ast.Node) -> ast.Node:
    while isinstance(node, ast.Paren):
        node = node.body
    return node


def power_without_i(formula: ast.Formula) -> list[Finding]:
    """``x^2`` outside ``I()``: R's interaction power of one term, which is just ``x``."""
    out = []
    for node in _terms(formula.rhs):
        if isinstance(node, ast.BinaryOp) and node.op == "^":
            base = _strip(node.left)
            if not (isinstance(base, ast.BinaryOp) and base.op in ("+", "-")):
                text = deparse(node)
                out.append(
                    Finding(
                        "warning",
                        f"in a formula R reads {text} as the interaction power of "
                        f"{deparse(node.left)} with itself, which is just {deparse(node.left)}; "
                        f"write I({text}) or poly({deparse(node.left)}, 2) for the square",
                        node.span.start,
                    )
                )
    return out


def _bars(formula: ast.Formula) -> Iterator[ast.BinaryOp]:
    for node in _terms(formula.rhs):
        if isinstance(node, ast.BinaryOp) and node.op in ("|", "||"):
            yield node


def double_bar(formula: ast.Formula, dialect: str) -> list[Finding]:
    """``(x || g)`` means different models in lme4 and glmmTMB (R_SEMANTICS §4.3)."""
    out = []
    for bar in _bars(formula):
        if bar.op != "||":
            continue
        lhs, group = deparse(bar.left), deparse(bar.right)
        if dialect == "glmmTMB":
            message = (
                f"glmmTMB reads ({lhs} || {group}) as diag({lhs} | {group}): one block "
                "with uncorrelated columns; interlace.glmmTMB does the same"
            )
        else:
            message = (
                f"lme4 splits ({lhs} || {group}) term by term into (1 | {group}) + "
                f"(0 + term | {group}); a factor term stays one correlated block "
                "(glmmTMB would read it as diag()); interlace.lmer/glmer follow lme4"
            )
        out.append(Finding("note", message, bar.span.start))
    return out


def _has_explicit_intercept(node: ast.Node) -> bool:
    for term in _terms(node):
        if isinstance(term, ast.Number) and term.value == 1:
            return True
    return False


def coxme_slopes(formula: ast.Formula) -> list[Finding]:
    """coxme adds no random intercept to ``(x | g)`` (lme4 does)."""
    out = []
    for bar in _bars(formula):
        lhs = _strip(bar.left)
        if not _has_explicit_intercept(lhs) and not (isinstance(lhs, ast.Number)):
            text, group = deparse(bar.left), deparse(bar.right)
            out.append(
                Finding(
                    "note",
                    f"coxme reads ({text} | {group}) without a random intercept (lme4 would add "
                    f"one); write (1 + {text} | {group}) for both; interlace.coxme follows coxme",
                    bar.span.start,
                )
            )
    return out


def surv_status_column(formula: ast.Formula) -> str | None:
    """The status column of a ``Surv(time, status)`` response, if it is a bare name."""
    lhs = formula.lhs
    if not (isinstance(lhs, ast.Call) and lhs.func == "Surv" and len(lhs.args) >= 2):
        return None
    status = _strip(lhs.args[-1].value)
    return status.id if isinstance(status, ast.Name) else None


def surv_status(formula: ast.Formula) -> list[Finding]:
    """How ``Surv(time, status)`` reads the status codes."""
    column, lhs = surv_status_column(formula), formula.lhs
    if column is None or not isinstance(lhs, ast.Call):
        return []
    return [
        Finding(
            "note",
            f"{deparse(lhs)}: R's Surv() reads a status of 0/FALSE as censored and 1/TRUE as "
            "an event, and a status whose largest value is 2 (as in survival::lung) as "
            "1 = censored, 2 = event; interlace.coxme takes 0/1 or logical statuses only, so "
            f"the translation recodes {column} with R's rule (assign(...) below)",
            lhs.args[-1].value.span.start,
        )
    ]


def is_proportion(formula: ast.Formula) -> bool:
    """Whether the response is written as a ratio (``s/n`` or ``I(s/n)``)."""
    lhs = formula.lhs
    if lhs is None:
        return False
    node = _strip(lhs)
    if isinstance(node, ast.Call) and node.func == "I" and len(node.args) == 1:
        node = _strip(node.args[0].value)
    return isinstance(node, ast.BinaryOp) and node.op == "/"


def formula_findings(formula: ast.Formula, dialect: str) -> list[Finding]:
    """All findings for a formula of a model function with the given dialect."""
    found = power_without_i(formula) + double_bar(formula, dialect)
    if dialect == "coxme":
        found += coxme_slopes(formula) + surv_status(formula)
    return found
