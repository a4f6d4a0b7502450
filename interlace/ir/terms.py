"""The model IR: what a formula means, before any data is seen.

``formula.expand`` produces a :class:`FormulaIR` from the AST.  It is pure
data: variables are AST expressions labelled by R's deparse; a :class:`Term`
is an interaction of variables (R's ``term.labels`` entry); a :class:`TermList`
is R's ``terms`` object (intercept flag, sorted terms, variable order,
offsets); a :class:`RandomTerm` is one bar term after the dialect's expansion
(``||`` splitting, ``/`` nesting, implicit intercept).

Ordering rules (R ``terms.formula``): terms sorted by order of interaction,
ties kept in order of first appearance; inside a term, variables in the
formula's variable order (first appearance anywhere, response included).
lme4's reordering of random terms by number of levels needs the data and is
done at design time, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from interlace.formula.ast import NO_SPAN, Node, Span


@dataclass(frozen=True)
class Variable:
    """One variable of a model: an expression and its R label (``deparse``)."""

    expr: Node = field(compare=False, hash=False)
    label: str


@dataclass(frozen=True)
class Term:
    """An interaction of variables (a main effect has one)."""

    variables: tuple[Variable, ...]

    @property
    def label(self) -> str:
        """R's term label, e.g. ``"x:cond"``."""
        return ":".join(v.label for v in self.variables)

    @property
    def order(self) -> int:
        """Order of interaction (number of variables)."""
        return len(self.variables)


@dataclass(frozen=True)
class TermList:
    """R's ``terms`` object for one formula (fixed part or a bar's left side).

    Attributes
    ----------
    intercept : bool
        Whether the model has an intercept (``attr(terms, "intercept")``).
    terms : tuple of Term
        In R's order (``term.labels``).
    variables : tuple of Variable
        Variable order: first appearance in the formula, response first.
    offsets : tuple of Variable
        ``offset(...)`` expressions, removed from ``terms``.
    response : Variable or None
        The left-hand side, if any.
    """

    intercept: bool
    terms: tuple[Term, ...]
    variables: tuple[Variable, ...] = ()
    offsets: tuple[Variable, ...] = ()
    response: Variable | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """R's ``attr(terms, "term.labels")``."""
        return tuple(t.label for t in self.terms)


CovKind = Literal["us", "diag", "cs", "ar1"]


@dataclass(frozen=True)
class CovSpec:
    """Covariance structure requested for a random term.

    ``kind`` is ``"us"`` (unstructured, lme4's default), ``"diag"``, ``"cs"`` or
    ``"ar1"``; ``hom`` is lme4's ``hom=`` flag (equal variances) where given.
    """

    kind: CovKind = "us"
    hom: bool | None = None


@dataclass(frozen=True)
class RandomTerm:
    """One random-effect term after expansion, e.g. ``(1 + Days | Subject)``.

    Attributes
    ----------
    lhs : TermList
        The bar's left side with the dialect's intercept rule applied
        (``(x | g)`` in lme4 has ``intercept=True``).
    group : tuple of Variable
        Grouping variables interacted with ``:`` in label order (``h:g`` is
        ``(h, g)``); levels vary fastest in the last one.
    covariance : CovSpec
        Requested covariance structure.
    source : str
        R's deparse of the expanded term, ``"0 + x | g"``.
    """

    lhs: TermList
    group: tuple[Variable, ...]
    covariance: CovSpec = CovSpec()
    source: str = ""
    span: Span = field(default=NO_SPAN, compare=False)

    @property
    def group_label(self) -> str:
        """lme4's name of the grouping factor, e.g. ``"h:g"``."""
        return ":".join(v.label for v in self.group)


@dataclass(frozen=True)
class Dialect:
    """The model-class differences in how formulas expand (parameters, not copies).

    Attributes
    ----------
    name : str
        ``"lme4"``, ``"glmmTMB"``, ``"ordinal"``, ``"coxme"``, ``"nlme"`` or ``"fixed"``.
    implicit_re_intercept : bool
        ``(x | g)`` means ``(1 + x | g)`` (lme4, glmmTMB, ordinal) or not (coxme).
    double_bar : {"split", "diag"}
        ``(e || g)``: lme4 splits by term; glmmTMB reads it as ``diag(e | g)``.
    reorder_re_terms : bool
        lme4 sorts random terms by decreasing number of levels; glmmTMB does not.
    requires_random : bool
        Whether a formula without random terms is an error.
    """

    name: str
    implicit_re_intercept: bool = True
    double_bar: Literal["split", "diag"] = "split"
    reorder_re_terms: bool = True
    requires_random: bool = True


LME4 = Dialect("lme4")
GLMMTMB = Dialect("glmmTMB", double_bar="diag", reorder_re_terms=False, requires_random=False)
ORDINAL = Dialect("ordinal", reorder_re_terms=False)
COXME = Dialect("coxme", implicit_re_intercept=False, reorder_re_terms=False)
FIXED = Dialect("fixed", requires_random=False)


@dataclass(frozen=True)
class FormulaIR:
    """A whole model formula after expansion.

    Attributes
    ----------
    text : str
        The formula as the user wrote it.
    response : Variable or None
        Left-hand side (``log(y)``, ``cbind(s, f)``, ``Surv(time, status)``).
    fixed : TermList
        The fixed part (``nobars``), with offsets.
    random : tuple of RandomTerm
        Random terms in formula order, already split and un-nested.
    dialect : Dialect
        The rules used to expand.
    """

    text: str
    response: Variable | None
    fixed: TermList
    random: tuple[RandomTerm, ...] = ()
    dialect: Dialect = LME4
