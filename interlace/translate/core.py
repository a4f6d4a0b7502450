"""Shared state of a translation: symbols, findings, imports, and the ``UnsupportedError`` signal.

:class:`TranslatorCore` is the base of the translator's parts (:mod:`.models` for model
functions and accessors, :mod:`.rbase` for base-R data preparation, :mod:`.emit` for
statements and expressions).  It keeps what the script has defined so far: which R names
hold data frames, fitted models or formulas, their Python names, the contrasts set on data
columns, the packages attached, and the notes collected for the current statement.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from interlace.formula import ast
from interlace.translate import pycode
from interlace.translate.mapping import Fitter
from interlace.translate.pycode import Py
from interlace.translate.semantics import Finding

SymbolKind = Literal["frame", "model", "formula", "value"]


class UnsupportedError(Exception):
    """Internal signal: ``node`` has no translation; the message says why."""

    def __init__(self, message: str, node: ast.Node) -> None:
        super().__init__(message)
        self.node = node


@dataclass
class ModelInfo:
    """A fitted model of the script: the R call that made it and its fitter."""

    fitter: Fitter
    call: ast.Call
    reml: bool | None  # None: not an lmer fit


@dataclass
class Symbol:
    """An R name defined by the script (or bundled data it loaded)."""

    python: str
    kind: SymbolKind
    model: ModelInfo | None = None
    formula: ast.Formula | None = None


@dataclass
class TranslatorCore:
    """State shared by the parts of the translator.

    Attributes
    ----------
    source, filename : str
        The script and its name (for locations).
    strict : bool
        Raise on untranslatable code (``True``) or comment it out with a warning.
    dataset_names : collection of str
        Bundled datasets that a bare name may refer to.
    """

    source: str
    filename: str
    strict: bool
    dataset_names: Collection[str]
    symbols: dict[str, Symbol] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    contrasts: dict[str, dict[str, Py]] = field(default_factory=dict)
    contrast_defaults: tuple[str, str] | None = None
    findings: list[Finding] = field(default_factory=list)
    before: list[str] = field(default_factory=list)
    frame: Py | None = None
    noted: set[str] = field(default_factory=set)

    # -------------------------------------------------------------- parts implemented elsewhere
    def expr(self, node: ast.Node, frame: Py | None = None) -> Py:
        """Python for an R expression; ``frame``: names are columns of this data frame."""
        raise NotImplementedError

    # -------------------------------------------------------------- helpers
    def note(self, message: str, node: ast.Node) -> None:
        """Record a note (a comment in the output) about ``node``."""
        self.findings.append(Finding("note", message, node.span.start))

    def warn(self, message: str, node: ast.Node) -> None:
        """Record a warning (a comment and a TranslationWarning) about ``node``."""
        self.findings.append(Finding("warning", message, node.span.start))

    def use(self, module: str) -> None:
        """Mark a module as imported by the output (``interlace``, ``pandas``, ``numpy``)."""
        self.imports.add(module)

    def interlace(self, name: str) -> str:
        """``interlace.<name>``, importing interlace."""
        self.use("interlace")
        return f"interlace.{name}"

    def pd(self, name: str) -> str:
        """``pd.<name>``, importing pandas."""
        self.use("pandas")
        return f"pd.{name}"

    def np(self, name: str) -> str:
        """``np.<name>``, importing numpy."""
        self.use("numpy")
        return f"np.{name}"

    def define(self, r_name: str, kind: SymbolKind, **info: object) -> Symbol:
        """Record that the script assigns ``r_name``; returns its symbol (Python name kept)."""
        old = self.symbols.get(r_name)
        python = old.python if old is not None else self._fresh(r_name)
        symbol = Symbol(python, kind, **info)  # type: ignore[arg-type]
        self.symbols[r_name] = symbol
        return symbol

    def _fresh(self, r_name: str) -> str:
        base = pycode.identifier(r_name)
        taken = {s.python for s in self.symbols.values()}
        name, i = base, 2
        while name in taken:
            name, i = f"{base}_{i}", i + 1
        return name

    def load_dataset(self, name: str) -> Symbol:
        """Emit ``name = interlace.datasets.load("name")`` before the statement."""
        self.use("interlace.datasets")
        symbol = self.define(name, "frame")
        self.before.append(f"{symbol.python} = interlace.datasets.load({pycode.string(name).text})")
        return symbol

    def model_of(self, node: ast.Node) -> ModelInfo | None:
        """The model a name refers to, if the script fitted it."""
        node = strip_parens(node)
        if isinstance(node, ast.Name) and node.id in self.symbols:
            return self.symbols[node.id].model
        return None

    def is_frame(self, node: ast.Node) -> bool:
        """Whether ``node`` names a data frame of the script or a bundled dataset."""
        node = strip_parens(node)
        if not isinstance(node, ast.Name):
            return False
        symbol = self.symbols.get(node.id)
        if symbol is not None:
            return symbol.kind == "frame"
        return node.id in self.dataset_names


def strip_parens(node: ast.Node) -> ast.Node:
    """``node`` without enclosing parentheses."""
    while isinstance(node, ast.Paren):
        node = node.body
    return node
