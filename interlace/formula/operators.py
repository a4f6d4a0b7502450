"""The formula algebra of R's ``terms.formula``, one table entry per operator.

A model term is a set of variables (an interaction); a formula evaluates to an ordered
list of distinct terms plus an intercept flag.  With ``L`` and ``R`` the term lists of
the two operands (R's ``model.c``):

==========  ==========================================================================
``L + R``   ``L`` then ``R``, duplicates dropped
``L : R``   ``{l ∪ r : l ∈ L, r ∈ R}`` (left-major)
``L * R``   ``L + R + L:R``
``L / R``   ``L + {(∪L) ∪ r : r ∈ R}`` — the whole left side nests the right
``L %in% R``  ``{l ∪ (∪R) : l ∈ L}``
``L ^ n``   ``L`` crossed with itself ``n - 1`` times
``L - R``   ``L`` without the terms of ``R``; ``R`` is read with the intercept parity
            flipped, so ``- 1`` removes the intercept and ``- 0`` restores it
``( L )``   ``L``: parentheses group terms but do not scope the intercept
==========  ==========================================================================

``1``/``0`` set the intercept (in the current parity), ``.`` expands to the data columns
other than the response, ``offset(e)`` is a variable kept out of the terms, and any other
expression is one variable labelled by its R deparse.  Terms are finally sorted by
order of interaction (stable), and the variables inside a term follow the formula's
variable order (first appearance, response first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from interlace.errors import FormulaError
from interlace.formula import ast
from interlace.formula.deparse import deparse
from interlace.ir.terms import Term, TermList, Variable

#: A term: the indices (into the variable order) of the variables it interacts.
Bits = frozenset[int]
Terms = tuple[Bits, ...]

_EMPTY: Bits = frozenset()


def _unique(terms: Sequence[Bits]) -> Terms:
    """Drop repeated and empty terms, keeping first appearances (R's ``TrimRepeats``)."""
    seen: set[Bits] = set()
    out: list[Bits] = []
    for term in terms:
        if term and term not in seen:
            seen.add(term)
            out.append(term)
    return tuple(out)


def _union(terms: Terms) -> Bits:
    return frozenset().union(*terms)


def plus(left: Terms, right: Terms) -> Terms:
    """``L + R``."""
    return _unique(left + right)


def interact(left: Terms, right: Terms) -> Terms:
    """``L : R``."""
    return _unique([lt | rt for lt in left for rt in right])


def cross(left: Terms, right: Terms) -> Terms:
    """``L * R = L + R + L:R``."""
    return _unique(left + right + interact(left, right))


def nest(left: Terms, right: Terms) -> Terms:
    """``L / R = L + (∪L):R``."""
    outer = _union(left)
    return _unique(left + tuple(outer | rt for rt in right))


def within(left: Terms, right: Terms) -> Terms:
    """``L %in% R``: each left term interacted with all variables of the right."""
    inner = _union(right)
    return _unique([lt | inner for lt in left])


def power(base: Terms, exponent: int) -> Terms:
    """``L ^ n``: all interactions of up to ``n`` terms of ``L``."""
    result = base
    for _ in range(exponent - 1):
        result = _unique([rt | bt for bt in base for rt in result])
    return result


#: The operators that combine two term lists (``-`` and ``^`` need the encoder).
BINARY_RULES: Mapping[str, Callable[[Terms, Terms], Terms]] = MappingProxyType(
    {"+": plus, ":": interact, "*": cross, "/": nest, "%in%": within}
)


def error_at(message: str, text: str, span: ast.Span) -> FormulaError:
    """A :class:`FormulaError` whose message shows a caret under ``span``."""
    return FormulaError(message, formula=text, position=span.start)


@dataclass
class TermEncoder:
    """Evaluates the formula algebra over one formula (R's ``EncodeVars``).

    Parameters
    ----------
    text
        The formula text, for error messages.
    columns
        Data column names, needed only to expand ``.``.
    intercept
        The intercept before any ``0``/``1``/``-1`` is read; updated while encoding.

    Attributes
    ----------
    variables : list of Variable
        The variable order: first appearance, response first.
    offsets : list of int
        Indices of the ``offset(...)`` variables.
    """

    text: str
    columns: Sequence[str] | None = None
    intercept: bool = True
    variables: list[Variable] = field(default_factory=list, init=False)
    offsets: list[int] = field(default_factory=list, init=False)
    _index: dict[str, int] = field(default_factory=dict, init=False)
    _parity: bool = field(default=True, init=False)
    _dot_excluded: set[str] = field(default_factory=set, init=False)

    # -------------------------------------------------------------- variables
    def variable(self, expr: ast.Node) -> int:
        """Index of the variable ``expr`` in the variable order (added if new)."""
        label = deparse(expr)
        if label not in self._index:
            self._index[label] = len(self.variables)
            self.variables.append(Variable(expr, label))
        return self._index[label]

    def add_response(self, lhs: ast.Node) -> Variable:
        """Register the response as the first variable; ``.`` will exclude it."""
        index = self.variable(lhs)
        self._dot_excluded.add(self.variables[index].label)
        self._dot_excluded.update(_names_in(lhs))
        return self.variables[index]

    # -------------------------------------------------------------- the algebra
    def encode(self, node: ast.Node) -> Terms:
        """The terms of ``node`` (updates :attr:`intercept` as R does)."""
        if isinstance(node, ast.Paren):
            return self.encode(node.body)
        if isinstance(node, ast.Number):
            return self._number(node)
        if isinstance(node, ast.Dot):
            return self._dot(node)
        if isinstance(node, ast.UnaryOp) and node.op in "+-":
            if node.op == "+":
                return self.encode(node.operand)
            self._subtract(node.operand)
            return ()
        if isinstance(node, ast.BinaryOp):
            return self._binary(node)
        if isinstance(node, ast.Formula):
            raise error_at("a formula cannot contain another '~'", self.text, node.span)
        if isinstance(node, ast.Call) and node.func == "offset" and node.namespace is None:
            index = self.variable(node)
            if index not in self.offsets:
                self.offsets.append(index)
            return ()
        if isinstance(node, ast.String | ast.Constant):
            raise error_at(
                f"{deparse(node)} is not a model term; write a column name or an expression",
                self.text,
                node.span,
            )
        return (frozenset({self.variable(node)}),)

    def _binary(self, node: ast.BinaryOp) -> Terms:
        if node.op == "-":
            left = self.encode(node.left)
            removed = set(self._subtract(node.right))
            return tuple(t for t in left if t not in removed)
        if node.op == "^":
            return power(self.encode(node.left), self._exponent(node.right))
        rule = BINARY_RULES.get(node.op)
        if rule is None:  # comparisons, &, | ...: one (logical) variable
            return (frozenset({self.variable(node)}),)
        left = self.encode(node.left)
        return rule(left, self.encode(node.right))

    def _subtract(self, node: ast.Node) -> Terms:
        self._parity = not self._parity
        try:
            return self.encode(node)
        finally:
            self._parity = not self._parity

    def _number(self, node: ast.Number) -> Terms:
        if node.value not in (0.0, 1.0):
            raise error_at(
                f"the number {deparse(node)} is not a model term (only 0, 1 and -1 are: "
                "they remove or add the intercept); use I() for arithmetic",
                self.text,
                node.span,
            )
        self.intercept = (node.value == 1.0) == self._parity
        return ()

    def _exponent(self, node: ast.Node) -> int:
        body = node.body if isinstance(node, ast.Paren) else node
        if isinstance(body, ast.Number) and body.value >= 1 and body.value.is_integer():
            return int(body.value)
        raise error_at(
            "the power of a term must be a positive whole number, as in (a + b + c)^2; "
            "for arithmetic powers write I(x^2)",
            self.text,
            node.span,
        )

    def _dot(self, node: ast.Dot) -> Terms:
        if self.columns is None:
            raise error_at(
                "'.' means all data columns; pass the column names to expand it",
                self.text,
                node.span,
            )
        names = [c for c in self.columns if c not in self._dot_excluded]
        return _unique([frozenset({self.variable(ast.Name(c, span=node.span))}) for c in names])

    # -------------------------------------------------------------- result
    def term_list(self, terms: Terms, response: Variable | None = None) -> TermList:
        """R's ``terms`` object: offset terms removed, sorted by order, stable."""
        offset_set = set(self.offsets)
        kept = [t for t in terms if not (t & offset_set)]
        kept.sort(key=len)
        return TermList(
            intercept=self.intercept,
            terms=tuple(Term(tuple(self.variables[i] for i in sorted(t))) for t in kept),
            variables=tuple(self.variables),
            offsets=tuple(self.variables[i] for i in self.offsets),
            response=response,
        )


def _names_in(node: ast.Node) -> set[str]:
    """Names of the plain variables used in an expression (R's ``all.vars``)."""
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Call):
        return set().union(*(_names_in(a.value) for a in node.args))
    if isinstance(node, ast.BinaryOp):
        return _names_in(node.left) | _names_in(node.right)
    if isinstance(node, ast.UnaryOp):
        return _names_in(node.operand)
    if isinstance(node, ast.Paren):
        return _names_in(node.body)
    return set()


def fixed_terms(
    rhs: ast.Node | None,
    *,
    text: str,
    lhs: ast.Node | None = None,
    columns: Sequence[str] | None = None,
    intercept: bool = True,
) -> TermList:
    """R's ``terms()`` of ``lhs ~ rhs`` (``rhs=None`` is the empty right side).

    Parameters
    ----------
    rhs
        The right-hand side (without random-effect terms).
    text
        The formula text, for error messages.
    lhs
        The response, if any: it is the first variable and is excluded from ``.``.
    columns
        Data column names, used to expand ``.``.
    intercept
        The intercept before the formula is read (``False`` for coxme random terms).

    Returns
    -------
    TermList
        Terms, intercept, variables, offsets and response.
    """
    encoder = TermEncoder(text, columns, intercept)
    response = encoder.add_response(lhs) if lhs is not None else None
    terms = encoder.encode(rhs) if rhs is not None else ()
    return encoder.term_list(terms, response)
