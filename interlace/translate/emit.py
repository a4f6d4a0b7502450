"""Python source generation: statements and expressions of an R script.

:class:`Translator` walks the statements of a parsed script in order, keeping track of
what each R name holds (data frame, fitted model, formula), and writes Python that uses
interlace's API, pandas and numpy.  A statement that cannot be translated raises
:class:`~interlace.translate.errors.TranslationError` (``strict=True``) or becomes a marked
``# interlace: untranslated:`` comment with a
:class:`~interlace.errors.TranslationWarning` (``strict=False``).  Notes about R semantics
(:mod:`.semantics`) are written as ``# interlace: note:`` / ``# interlace: warning:`` comments
above the statement they concern; warnings are also issued as ``TranslationWarning``.

R prints the value of a top-level expression; the translation wraps it in ``print()``.
"""

from __future__ import annotations

import re
import textwrap
import warnings
from collections.abc import Callable

from interlace.errors import TranslationWarning
from interlace.formula import ast
from interlace.formula.deparse import deparse
from interlace.translate import ast as rast
from interlace.translate import mapping, pycode
from interlace.translate.accessors import AccessorCalls
from interlace.translate.core import SymbolKind, UnsupportedError, strip_parens
from interlace.translate.errors import TranslationError, locate
from interlace.translate.models import logical, match, text_value
from interlace.translate.pycode import Py
from interlace.translate.rbase import BaseCalls

_CONSTANTS = {
    "TRUE": "True",
    "T": "True",
    "FALSE": "False",
    "F": "False",
    "NULL": "None",
    "NA": 'float("nan")',
    "NaN": 'float("nan")',
    "Inf": 'float("inf")',
    "NA_real_": 'float("nan")',
    "NA_integer_": "None",
    "NA_character_": "None",
}
_ARITHMETIC = {
    "+": "+",
    "-": "-",
    "*": "*",
    "/": "/",
    "^": "**",
    "%%": "%",
    "%/%": "//",
    "==": "==",
    "!=": "!=",
    "<": "<",
    ">": ">",
    "<=": "<=",
    ">=": ">=",
    "&": "&",
    "|": "|",
    "&&": "and",
    "||": "or",
}
_CONTROL = {
    "for": "for loops",
    "while": "while loops",
    "repeat": "repeat loops",
    "if": "if/else",
    "function": "function definitions",
    "break": "break/next",
    "next": "break/next",
}
#: Functions that return a data frame, and those that do when given one.
_FRAME_MAKERS = frozenset(
    {
        "read.csv",
        "read.csv2",
        "read.table",
        "read.delim",
        "subset",
        "transform",
        "na.omit",
        "data.frame",
    }
)
_FRAME_PRESERVERS = frozenset({"droplevels", "head", "tail"})
_PACKAGE_LOADERS = frozenset({"library", "require", "requireNamespace"})
_QUIET_WRAPPERS = frozenset(
    {"suppressPackageStartupMessages", "suppressMessages", "suppressWarnings", "invisible"}
)
_WIDTH = 96
_IMPORTS = {
    "interlace": "import interlace",
    "interlace.datasets": "import interlace.datasets",
    "numpy": "import numpy as np",
    "pandas": "import pandas as pd",
}


class Translator(AccessorCalls, BaseCalls):
    """Translate a parsed R script to Python source (see the module docstring)."""

    # ------------------------------------------------------------------ driver
    def run(self, program: rast.Program) -> str:
        """The Python source for ``program``."""
        body: list[str] = []
        previous_end = 0
        for statement in program.statements:
            body.extend(self._comments(previous_end, statement.span.start))
            body.extend(self._translate_statement(statement))
            previous_end = statement.span.end
        body.extend(self._comments(previous_end, len(self.source)))
        header = [_IMPORTS[m] for m in sorted(self.imports) if m in _IMPORTS]
        if "interlace.datasets" in self.imports and "interlace" in self.imports:
            header.remove("import interlace")
        lines = header + ([""] if header and body else []) + body
        return "\n".join(lines).rstrip() + "\n"

    def _comments(self, start: int, end: int) -> list[str]:
        """R comments between two statements, kept as Python comments."""
        return [
            "# " + m.group(1).strip() if m.group(1).strip() else "#"
            for m in re.finditer(r"#+'?([^\n]*)", self.source[start:end])
        ]

    def _translate_statement(self, node: ast.Node) -> list[str]:
        self.findings, self.before = [], []
        try:
            lines = self.statement(node)
        except UnsupportedError as err:
            error = TranslationError(
                str(err), self.source, err.node.span.start, filename=self.filename
            )
            if self.strict:
                raise error from None
            warnings.warn(str(error), TranslationWarning, stacklevel=4)
            lines = self._untranslated(node, str(err))
            self.findings = []
        return [*self._finding_lines(), *self.before, *map(_wrap_comment, lines)]

    def _untranslated(self, node: ast.Node, reason: str) -> list[str]:
        text = self.source[node.span.start : node.span.end]
        out = [f"# interlace: untranslated: {reason}"]
        out += ["#     " + line for line in text.splitlines()]
        return out

    def _finding_lines(self) -> list[str]:
        out = []
        for finding in self.findings:
            where = locate(self.source, finding.position, self.filename)
            if finding.level == "warning":
                warnings.warn(f"{where}: {finding.message}", TranslationWarning, stacklevel=5)
            elif finding.message in self.noted:
                continue  # a note is written once per script
            self.noted.add(finding.message)
            out += textwrap.wrap(
                finding.message,
                _WIDTH,
                initial_indent=(f"# interlace: {finding.level}: "),
                subsequent_indent="#     ",
            )
        return out

    # ------------------------------------------------------------------ statements
    def statement(self, node: ast.Node) -> list[str]:
        """Python lines for one top-level R statement."""
        if isinstance(node, rast.Assign):  # (x <- 1) is an expression: it prints
            return self.assignment(node)
        if isinstance(node, ast.Call):
            special = self._special_statement(node)
            if special is not None:
                return special
        if isinstance(node, rast.Control | rast.Block):
            return [self.expr(node).text]  # raises UnsupportedError
        return pycode.line("print(", self.expr(node), ")")

    def _special_statement(self, node: ast.Call) -> list[str] | None:
        func = node.func
        if func in _QUIET_WRAPPERS and len(node.args) == 1:
            inner = strip_parens(node.args[0].value)
            if isinstance(inner, ast.Call) and inner.func in _PACKAGE_LOADERS:
                return self._library(inner)
            if func == "invisible":
                return [self.expr(inner).text]
        if func in _PACKAGE_LOADERS:
            return self._library(node)
        if func == "data":
            return self._data(node)
        if func == "options":
            return self._options(node)
        if func == "set.seed":
            self.note(
                "set.seed(): R's random numbers cannot be reproduced in Python; pass "
                "seed= to the functions that simulate",
                node,
            )
            return []
        if func == "print":
            return self._print(node)
        if func == "str" and len(node.args) == 1:
            return [self.expr(node.args[0].value).method("info").text]
        if (
            func == "summary"
            and len(node.args) == 1
            and mapping.LMERTEST in self.packages
            and self.model_class(node.args[0].value) == "lmer"
            and not self.is_frame(node.args[0].value)
        ):
            fit = self.expr(node.args[0].value)
            self.note(
                "with lmerTest, summary() shows Satterthwaite df and p-values in its "
                'coefficient table, coef_table(ddf="satterthwaite"); the rest of the summary '
                "(lme4's layout) is summary()",
                node,
            )
            return [f"print({fit.method('coef_table', ddf=pycode.string('satterthwaite')).text})"]
        return None

    def _library(self, node: ast.Call) -> list[str]:
        if not node.args:
            raise UnsupportedError(f"{node.func}() needs a package", node)
        package = text_value(node.args[0].value)
        if package is None:
            raise UnsupportedError(
                f"{node.func}() of a computed package name is not translated", node
            )
        self.packages.add(package)
        line = f"# {deparse(node)}: not needed in Python"
        if package == mapping.LMERTEST:
            line += " (summary() and anova() are translated as lmerTest's)"
        return [line]

    def _data(self, node: ast.Call) -> list[str]:
        names = []
        for arg in node.args:
            if arg.name in ("package", "envir", "lib.loc", "verbose", "overwrite"):
                continue
            if arg.name == "list":
                value = strip_parens(arg.value)
                items = (
                    value.args
                    if isinstance(value, ast.Call) and value.func == "c"
                    else (ast.Argument(None, value),)
                )
                names += [(text_value(a.value), a) for a in items]
            elif arg.name is None:
                names.append((text_value(arg.value), arg))
            else:
                raise UnsupportedError(f"data(): {arg.name} = is not translated", arg)
        for name, where in names:
            if name is None or name not in self.dataset_names:
                raise UnsupportedError(
                    f"dataset {name!r} is not bundled with interlace; "
                    "load it from a file with read.csv()",
                    where,
                )
            self.load_dataset(name)
        return []

    def _options(self, node: ast.Call) -> list[str]:
        out = []
        for arg in node.args:
            if arg.name == "contrasts":
                self.contrast_defaults = self._contrast_pair(arg.value)
                out.append(
                    f"# {deparse(node)}: passed to the model calls below as "
                    f"contrasts={self.contrast_defaults!r}"
                )
            elif arg.name in mapping.PRINT_OPTIONS:
                out.append(
                    f"# options({arg.name} = {deparse(arg.value)}): only changes R's printing"
                )
            else:
                raise UnsupportedError(f"options({arg.name or ''}) is not translated", arg)
        return out

    def _contrast_pair(self, node: ast.Node) -> tuple[str, str]:
        bare = strip_parens(node)
        if isinstance(bare, ast.Call) and bare.func == "c" and len(bare.args) == 2:
            texts = [text_value(a.value) for a in bare.args]
            if all(t in mapping.CONTRAST_FUNCTIONS for t in texts):
                first, second = texts
                if bare.args[0].name == "ordered" or bare.args[1].name == "unordered":
                    first, second = second, first
                return first or "", second or ""
        raise UnsupportedError('options(contrasts =) must be c("contr.x", "contr.y")', node)

    def _print(self, node: ast.Call) -> list[str]:
        if not node.args or node.args[0].name not in (None, "x"):
            raise UnsupportedError("print() needs an argument", node)
        for arg in node.args[1:]:
            self.note(
                f"print(): {arg.name or 'an extra argument'} = is dropped: it only "
                "changes R's printed layout",
                arg,
            )
        return pycode.line("print(", self.expr(node.args[0].value), ")")

    def assignment(self, node: rast.Assign) -> list[str]:
        """``x <- value`` and the replacement forms ``df$x <-``, ``levels(x) <-``, ..."""
        if node.op in ("<<-", "->>"):
            raise UnsupportedError("superassignment (<<-) is not translated", node)
        target, value = strip_parens(node.target), node.value
        inner = strip_parens(value)
        if isinstance(inner, rast.Assign):  # a <- b <- value: b first, then a <- b
            chained = rast.Assign(node.op, node.target, inner.target, span=node.span)
            return self.assignment(inner) + self.assignment(chained)
        if isinstance(target, ast.Name | ast.String):
            return self._assign_name(target, value)
        if isinstance(target, ast.Call):
            return self._replacement(target, value)
        column = self._column_target(target)
        if column is not None:
            frame, name = column
            self._forget_contrasts(frame, name)
            lhs = self.expr(frame).item(pycode.string(name))
            return pycode.line(f"{lhs.text} = ", self.expr(value))
        raise UnsupportedError(
            f"assignment to {deparse(target) if _deparsable(target) else 'this'} is not translated",
            target,
        )

    def _assign_name(self, target: ast.Name | ast.String, value: ast.Node) -> list[str]:
        r_name = target.id if isinstance(target, ast.Name) else target.value
        bare = strip_parens(value)
        if isinstance(bare, ast.Formula):
            py = self.expr(bare)
            symbol = self.define(r_name, "formula", formula=bare)
            return pycode.line(f"{symbol.python} = ", py)
        if isinstance(bare, ast.Call) and bare.func in mapping.FITTERS:
            fitter = mapping.FITTERS[bare.func]
            py = self.fit_call(bare, fitter)
            info = self.model_info(bare, fitter)
            symbol = self.define(r_name, "model", model=info)
            return pycode.line(f"{symbol.python} = ", py)
        if isinstance(bare, ast.Call) and bare.func == "update":
            py, info = self.update_call(bare)
            symbol = self.define(r_name, "model", model=info)
            return pycode.line(f"{symbol.python} = ", py)
        py = self.expr(value)
        kind: SymbolKind = "frame" if self._is_frame_value(bare) else "value"
        if kind == "frame" and isinstance(bare, ast.Name):
            py = py.method("copy")  # R copies on assignment; a Python name would alias
        if isinstance(bare, ast.Name) and bare.id in self.symbols:  # an alias
            old = self.symbols[bare.id]
            symbol = self.define(r_name, old.kind, model=old.model, formula=old.formula)
        else:
            symbol = self.define(r_name, kind)
        if kind == "frame" and isinstance(bare, ast.Name | ast.Call):
            source = _frame_source(bare)
            if source is not None and source in self.contrasts:
                self.contrasts[r_name] = dict(self.contrasts[source])
        return pycode.line(f"{symbol.python} = ", py)

    def _is_frame_value(self, node: ast.Node) -> bool:
        """Whether an expression gives a data frame (tracked for data contexts and copies)."""
        if isinstance(node, ast.Call):
            if node.func in _FRAME_MAKERS:
                return True
            if node.func in _FRAME_PRESERVERS:
                return bool(node.args) and self.is_frame(node.args[0].value)
        if isinstance(node, rast.Index) and not node.double:
            return self.is_frame(node.obj)
        return self.is_frame(node)

    def _column_target(self, node: ast.Node) -> tuple[ast.Node, str] | None:
        """``df$x``, ``df[["x"]]`` or ``df[, "x"]`` as (frame, column)."""
        if isinstance(node, ast.BinaryOp) and node.op == "$":
            member = node.right
            name = member.id if isinstance(member, ast.Name) else text_value(member)
            return (node.left, name) if name is not None else None
        if isinstance(node, rast.Index):
            args = [a.value for a in node.args]
            if node.double and len(args) == 1 and isinstance(args[0], ast.String):
                return node.obj, args[0].value
            if (
                not node.double
                and len(args) == 2
                and isinstance(args[0], rast.Empty)
                and isinstance(args[1], ast.String)
            ):
                return node.obj, args[1].value
        return None

    def _forget_contrasts(self, frame: ast.Node, column: str) -> None:
        """R drops a column's contrasts attribute when the column is replaced."""
        if isinstance(frame, ast.Name):
            self.contrasts.get(frame.id, {}).pop(column, None)

    def _replacement(self, target: ast.Call, value: ast.Node) -> list[str]:
        """``levels(x) <- v``, ``contrasts(x) <- v``, ``names(df) <- v``."""
        if len(target.args) != 1:
            raise UnsupportedError(f"{target.func}(...) <- is not translated", target)
        inner = strip_parens(target.args[0].value)
        lhs = self.expr(inner)
        if target.func == "levels":
            renamed = lhs.attr("cat").method("rename_categories", self.expr(value))
            return pycode.line(f"{lhs.text} = ", renamed)
        if target.func in ("names", "colnames"):
            return [f"{lhs.attr('columns').text} = {self.expr(value).text}"]
        if target.func == "contrasts":
            column = self._column_target(inner)
            frame = column[0] if column is not None else None
            if column is None or not isinstance(frame, ast.Name):
                raise UnsupportedError(
                    "contrasts(df$x) <- is translated for a column of a named data frame", target
                )
            name = column[1]
            coding = self.contrast_value(value)
            self.contrasts.setdefault(frame.id, {})[name] = coding
            return [
                f"# {deparse(target)} <- {deparse(value)}: passed to the model calls "
                f"on {frame.id} as contrasts={{{pycode.string(name).text}: {coding.text}}}"
            ]
        raise UnsupportedError(f"{target.func}(...) <- is not translated", target)

    # ------------------------------------------------------------------ expressions
    def expr(self, node: ast.Node, frame: Py | None = None) -> Py:
        """Python for an R expression; ``frame``: bare names are columns of this frame.

        As in R, the data context holds for the whole expression, function arguments
        included (``subset(df, x > mean(x))``).
        """
        if frame is None:
            return self._expr(node)
        saved, self.frame = self.frame, frame
        try:
            return self._expr(node)
        finally:
            self.frame = saved

    def _expr(self, node: ast.Node) -> Py:
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Number):
            if node.text.endswith("i"):
                raise UnsupportedError("complex numbers are not translated", node)
            return Py(_number(node))
        if isinstance(node, ast.String):
            return pycode.string(node.value)
        if isinstance(node, ast.Constant):
            return Py(_CONSTANTS[node.name])
        if isinstance(node, ast.Paren):
            return self._expr(node.body)
        if isinstance(node, ast.Formula):
            return pycode.string(deparse(node))
        if isinstance(node, ast.UnaryOp):
            operand = self._expr(node.operand)
            if node.op == "!":
                return pycode.call(self.np("logical_not"), (operand,))
            return pycode.unary(node.op, operand)
        if isinstance(node, ast.BinaryOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, rast.Index):
            return self.index(node)
        if isinstance(node, rast.Control):
            what = _CONTROL.get(node.keyword, node.keyword)
            raise UnsupportedError(
                f"{what} are not translated: translate the model calls one by one", node
            )
        if isinstance(node, rast.Block):
            raise UnsupportedError("{ } blocks are not translated", node)
        if isinstance(node, rast.Assign):
            raise UnsupportedError("an assignment inside an expression is not translated", node)
        if isinstance(node, rast.Apply):
            raise UnsupportedError("calls of computed functions are not translated", node)
        raise UnsupportedError("this expression is not translated", node)

    def name(self, node: ast.Name) -> Py:
        """A variable: a data column (in a data context), a script name or a bundled dataset."""
        symbol = self.symbols.get(node.id)
        if self.frame is not None and (symbol is None or symbol.kind == "frame"):
            # R looks in the data first; a value the script assigned is taken as meant
            return self.frame.item(pycode.string(node.id))
        if symbol is None and node.id in self.dataset_names:
            symbol = self.load_dataset(node.id)
        if symbol is not None:
            return Py(symbol.python)
        if node.id == "pi":
            return Py(self.np("pi"))
        return Py(pycode.identifier(node.id))

    def binary(self, node: ast.BinaryOp) -> Py:
        """Operators, ``$`` extraction and pipes."""
        op = node.op
        if op in ("$", "@"):
            return self.dollar(node)
        if op in ("|>", "%>%"):
            rhs = strip_parens(node.right)
            if not isinstance(rhs, ast.Call):
                raise UnsupportedError(
                    "a pipe into something other than a call is not translated", node
                )
            args = rhs.args
            if any(isinstance(a.value, ast.Dot) for a in args):  # magrittr's placeholder
                args = tuple(
                    ast.Argument(a.name, node.left, span=a.span)
                    if isinstance(a.value, ast.Dot)
                    else a
                    for a in args
                )
            else:
                args = (ast.Argument(None, node.left, span=node.left.span), *args)
            piped = ast.Call(rhs.func, args, rhs.namespace, span=node.span)
            return self._expr(piped)
        if op in ("::", ":::"):
            if isinstance(node.right, ast.Name) and node.right.id in self.dataset_names:
                return self.name(node.right)
            raise UnsupportedError(f"{deparse(node)} is not translated", node)
        left, right = self._expr(node.left), self._expr(node.right)
        if op == "%in%":
            return pycode.call(self.np("isin"), (left, right))
        if op == ":":
            return pycode.call(self.np("arange"), (left, pycode.plus_one(right)))
        if op in _ARITHMETIC:
            return pycode.binary(_ARITHMETIC[op], left, right)
        raise UnsupportedError(f"the operator {op} is not translated", node)

    def dollar(self, node: ast.BinaryOp) -> Py:
        """``x$name``: model components, summary tables, or list/column extraction."""
        member = node.right
        name = member.id if isinstance(member, ast.Name) else text_value(member) or ""
        left = strip_parens(node.left)
        if isinstance(left, ast.Call) and left.func == "summary" and len(left.args) == 1:
            target = left.args[0].value
            if name in ("coefficients", "coef", "tTable"):
                return self.coef_table(target, node)
            attr = mapping.SUMMARY_PARTS.get(name)
            if attr is None or self.is_frame(target):
                raise UnsupportedError(f"summary(...)${name} is not translated", node)
            return self.expr(target).attr(attr)
        if isinstance(left, ast.Call) and left.func == "VarCorr" and len(left.args) == 1:
            # one grouping factor's variance or covariance matrix
            fit = self.expr(left.args[0].value)
            return fit.attr("variance_components").item(pycode.string(name))
        if (
            isinstance(left, ast.Call)
            and left.func == "fixef"
            and len(left.args) == 1
            and (self.model_class(left.args[0].value) == "glmmTMB")
        ):
            attr = mapping.GLMMTMB_PARTS.get(name)
            if attr is None:
                raise UnsupportedError(f"fixef(fit)${name} is not a glmmTMB component", node)
            return self.expr(left.args[0].value).attr(attr)
        info = self.model_of(left)
        if info is not None:
            attr = mapping.COMPONENTS.get(info.fitter.model, {}).get(name)
            if attr is None:
                raise UnsupportedError(
                    f"the component {name} of a {info.fitter.r_name} fit is not "
                    "translated; use the accessor functions",
                    node,
                )
            return self.expr(left).attr(attr)
        return self._expr(node.left).item(pycode.string(name))

    def index(self, node: rast.Index) -> Py:
        """``x[["name"]]``, ``df[rows, ]``, ``df[, cols]``, ``df[rows, cols]``."""
        obj = self._expr(node.obj)
        args = [a.value for a in node.args]
        if any(_positional_index(a) for a in args) or any(a.name is not None for a in node.args):
            raise UnsupportedError(
                "indexing by position is not translated (R counts from 1, "
                "Python from 0); index by name or condition",
                node,
            )
        if node.double:
            if len(args) == 1 and not isinstance(args[0], rast.Empty):
                return obj.item(self.expr(args[0]))
            raise UnsupportedError("x[[i, j]] is not translated", node)
        if len(args) == 1 and not isinstance(args[0], rast.Empty):
            return obj.item(self.expr(args[0]))
        if len(args) == 2:
            rows, cols = args
            if isinstance(cols, rast.Empty) and not isinstance(rows, rast.Empty):
                return obj.item(self.expr(rows))
            if isinstance(rows, rast.Empty) and not isinstance(cols, rast.Empty):
                return obj.item(self.expr(cols))
            if not isinstance(rows, rast.Empty):
                return Py(
                    f"{obj.at_least(pycode.ATOM)}.loc[{self.expr(rows).text}, "
                    f"{self.expr(cols).text}]"
                )
        raise UnsupportedError("this indexing is not translated", node)

    def call(self, node: ast.Call) -> Py:
        """Function calls: model functions, accessors, data preparation, maths."""
        func = node.func
        if func in mapping.FITTERS:
            return self.fit_call(node, mapping.FITTERS[func])
        handlers: dict[str, Callable[[ast.Call], Py]] = {
            "summary": self.summary_call,
            "anova": self.anova_call,
            "update": lambda n: self.update_call(n)[0],
            "coef": self._coef,
            "getME": self._get_me,
            "print": self._print_value,
            "I": self._identity,
        }
        if func in handlers:
            return handlers[func](node)
        if func in mapping.ACCESSORS or func in mapping.ACCESSOR_ALIASES:
            return self.accessor_call(node, func)
        if func in ("as.data.frame",) and len(node.args) == 1:
            inner = strip_parens(node.args[0].value)
            if isinstance(inner, ast.Call) and inner.func == "VarCorr":
                return self.expr(inner)
        base = self.base_handlers().get(func)
        if base is not None:
            return base(node)
        raise UnsupportedError(f"the R function {func}() has no translation", node)

    def _coef(self, node: ast.Call) -> Py:
        structure = self._cor_struct_fit(node.args[0].value) if node.args else None
        if structure is not None:
            return self._correlation_coef(node, structure)
        if len(node.args) == 1:
            inner = strip_parens(node.args[0].value)
            if isinstance(inner, ast.Call) and inner.func == "summary" and len(inner.args) == 1:
                return self.coef_table(inner.args[0].value, node)
            if self.model_class(inner) == "clmm":
                fit = self.expr(inner)
                return pycode.call(
                    self.pd("concat"),
                    (pycode.sequence([fit.attr("thresholds"), fit.attr("fe_params")]),),
                )
        return self.accessor_call(node, "coef")

    def _cor_struct_fit(self, node: ast.Node) -> ast.Node | None:
        """The lme fit of ``fit$modelStruct$corStruct``, else ``None``."""
        path: list[str] = []
        bare = strip_parens(node)
        while isinstance(bare, ast.BinaryOp) and bare.op == "$" and len(path) < 2:
            path.insert(0, text_value(bare.right) or "")
            bare = strip_parens(bare.left)
        if path == ["modelStruct", "corStruct"] and self.model_class(bare) == "lme":
            return bare
        return None

    def _correlation_coef(self, node: ast.Call, fit: ast.Node) -> Py:
        """``coef(fit$modelStruct$corStruct, unconstrained = FALSE)``: the correlation
        parameter on its natural scale (nlme's default is its unconstrained transform)."""
        matched = match(node, ("object", "unconstrained", "..."), "coef").matched
        unconstrained = matched.get("unconstrained")
        if unconstrained is None or logical(unconstrained.value) is not False:
            raise UnsupportedError(
                "coef() of an lme correlation structure is translated with "
                "unconstrained = FALSE (the parameter itself, interlace's "
                "correlation_params); nlme's default is its unconstrained transform",
                node,
            )
        return self.expr(fit).attr("correlation_params")

    def _get_me(self, node: ast.Call) -> Py:
        matched = match(node, ("object", "name", "..."), "getME").matched
        what = text_value(matched["name"].value) if "name" in matched else None
        if what not in ("theta", "beta"):
            raise UnsupportedError('getME() is translated for "theta" and "beta"', node)
        fit = self.expr(matched["object"].value)
        return fit.attr("theta") if what == "theta" else fit.attr("fe_params")

    def _print_value(self, node: ast.Call) -> Py:
        if not node.args:
            raise UnsupportedError("print() needs an argument", node)
        return self.expr(node.args[0].value)

    def _identity(self, node: ast.Call) -> Py:
        if len(node.args) != 1:
            raise UnsupportedError("I() takes one argument", node)
        return self.expr(node.args[0].value)


def _wrap_comment(line: str) -> str:
    """A long comment line folded to the line length (code lines are laid out by pycode)."""
    if not line.startswith("#") or len(line) <= pycode.LINE_LENGTH:
        return line
    return "\n".join(textwrap.wrap(line, pycode.LINE_LENGTH, subsequent_indent="#     "))


def _number(node: ast.Number) -> str:
    """A number literal; whole numbers in exponent form as integers (``1e5`` → ``100000``),
    which Python accepts wherever R's double would go, including counts such as ``nsim``."""
    text = node.text.removesuffix("L")
    if "e" in text.lower() and not text.lower().startswith("0x") and node.value.is_integer():
        return str(int(node.value)) if abs(node.value) < 1e15 else text
    return text


def _positional_index(node: ast.Node) -> bool:
    """Whether an index is written with numbers (``1``, ``-1``, ``2:3``, ``c(1, 3)``)."""
    node = strip_parens(node)
    if isinstance(node, ast.Number):
        return True
    if isinstance(node, ast.UnaryOp) and node.op in ("-", "+"):
        return _positional_index(node.operand)
    if isinstance(node, ast.BinaryOp) and node.op == ":":
        return True
    if isinstance(node, ast.Call) and node.func in ("c", "seq", "seq_len", "which", "rev"):
        return node.func != "c" or any(_positional_index(a.value) for a in node.args)
    return False


def _deparsable(node: ast.Node) -> bool:
    try:
        deparse(node)
    except TypeError:
        return False
    return True


def _frame_source(node: ast.Node) -> str | None:
    """The data frame a frame-valued expression was derived from (for its contrasts)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call) and node.args:
        first = strip_parens(node.args[0].value)
        if isinstance(first, ast.Name) and node.func in (
            "subset",
            "transform",
            "na.omit",
            "droplevels",
        ):
            return first.id
    return None
