"""Translation of the model functions and their arguments, and of ``update()`` of a fit.

A model call is matched against the R function's formals (:mod:`.rargs`), then each argument
is translated by its kind from :mod:`.mapping`; arguments R accepts that do not change the fit
are dropped with a note, anything else without a translation raises :class:`UnsupportedError`.
The formula text is checked with interlace's own formula parser in the package's dialect, so
a formula interlace cannot fit is reported at translation time, at its place in the script.
"""

from __future__ import annotations

import re

from interlace.errors import FormulaError, FormulaSyntaxError
from interlace.formula import ast
from interlace.formula.deparse import deparse
from interlace.formula.expand import formula_ir
from interlace.formula.parser import parse
from interlace.ir.terms import COXME, FIXED, GLMMTMB, LME4, ORDINAL, Dialect
from interlace.translate import mapping, pycode
from interlace.translate.core import ModelInfo, TranslatorCore, UnsupportedError, strip_parens
from interlace.translate.mapping import Arg, Fitter
from interlace.translate.pycode import Py
from interlace.translate.rargs import ArgumentMatchError, MatchedCall, match_arguments
from interlace.translate.rformula import update_formula, walk
from interlace.translate.semantics import formula_findings, is_proportion, surv_status_column

_DIALECTS: dict[str, Dialect] = {
    "lme4": LME4,
    "glmmTMB": GLMMTMB,
    "ordinal": ORDINAL,
    "coxme": COXME,
    "fixed": FIXED,
}
_TRUE = ("TRUE", "T")
_FALSE = ("FALSE", "F")


def match(node: ast.Call, formals: tuple[str, ...], function: str) -> MatchedCall:
    """R's argument matching, with failures as :class:`UnsupportedError` at the argument."""
    try:
        return match_arguments(node.args, formals, function)
    except ArgumentMatchError as err:
        raise UnsupportedError(str(err), err.argument) from None


def logical(node: ast.Node) -> bool | None:
    """``True``/``False`` for the literals ``TRUE T FALSE F``, else ``None``."""
    node = strip_parens(node)
    if isinstance(node, ast.Constant) and node.name in _TRUE + _FALSE:
        return node.name in _TRUE
    return None


def text_value(node: ast.Node) -> str | None:
    """The text of a string literal or a bare name (``link = probit``), else ``None``."""
    node = strip_parens(node)
    if isinstance(node, ast.String):
        return node.value
    if isinstance(node, ast.Name):
        return node.id
    return None


def treatment_matrix(k: int, base: int) -> tuple[list[list[int]], list[str]]:
    """``contr.treatment(k, base)``: rows = levels, columns named by level number."""
    keep = [j for j in range(1, k + 1) if j != base]
    rows = [[1 if i == j else 0 for j in keep] for i in range(1, k + 1)]
    return rows, [str(j) for j in keep]


_COLUMN = re.compile(r" \(column (\d+)\)")


def surv_recoded(formula: ast.Formula, data: Py) -> Py:
    """``data`` with the ``Surv()`` status column coded as R's ``Surv()`` reads it.

    R's ``Surv()`` turns a numeric status whose largest value is 2 into ``status - 1``
    (1 = censored, 2 = event, as in ``survival::lung``); ``interlace.coxme`` takes 0/1 or
    logical statuses only, so the translation applies R's rule to a status column named in
    the formula (a status written as an expression, ``status == 2``, is left as it is).
    """
    column = surv_status_column(formula)
    if column is None:
        return data
    values = f"d[{pycode.string(column).text}]"
    recode = Py(f"lambda d: {values} - 1 if {values}.max() == 2 else {values}")
    return data.method("assign", **{column: recode})


def _same_formula(written: str, text: str) -> bool:
    """Whether ``written`` (a slice of the script) is the formula whose deparse is ``text``."""
    try:
        return bool(written) and deparse(parse(written)) == text
    except (FormulaError, FormulaSyntaxError):
        return False


class ModelCalls(TranslatorCore):
    """Model fits, their arguments, and what is done with the fitted models."""

    # ------------------------------------------------------------------ the fit
    def fit_call(self, node: ast.Call, fitter: Fitter) -> Py:
        """``interlace.<fitter>(formula, data, ...)`` for an R model call."""
        if node.namespace == mapping.LMERTEST:  # lmerTest::lmer(...)
            self.packages.add(mapping.LMERTEST)
        matched = match(node, fitter.formals, fitter.r_name)
        for arg in matched.dots:
            self._dots_argument(arg, fitter)
        args = matched.matched
        if fitter.r_name == "glmer" and self._is_gaussian(args.get("family")):
            self.note(
                "glmer() with the gaussian family and identity link is lmer() in lme4, "
                "a REML fit unless REML = FALSE",
                node,
            )
            return self.fit_call(
                ast.Call(
                    "lmer",
                    tuple(
                        ast.Argument(name, arg.value, span=arg.span)
                        for name, arg in args.items()
                        if name != "family"
                    ),
                    span=node.span,
                ),
                mapping.LMER,
            )
        formula_arg = args.get(fitter.formals[0])
        if formula_arg is None:
            raise UnsupportedError(f"{fitter.r_name}() needs a formula", node)
        formula = self.formula_value(formula_arg.value, fitter)
        data_arg = args.get("data")
        if data_arg is None:
            raise UnsupportedError(
                f"{fitter.r_name}() without data= takes its variables from the R workspace; "
                "pass the data frame",
                node,
            )
        data = self.expr(data_arg.value)
        if "subset" in args:
            mask = self.expr(args["subset"].value, frame=data)
            data = data.item(mask)
        if fitter.r_name == "coxme":
            data = surv_recoded(self.formula_node(formula_arg.value), data)
        kwargs: dict[str, Py] = {}
        for name, arg in args.items():
            if name in (fitter.formals[0], "data", "subset", "contrasts"):
                continue
            if name in fitter.ignored:
                self.note(f"{fitter.r_name}(): {name} = is dropped: it {fitter.ignored[name]}", arg)
                continue
            rule = fitter.args.get(name)
            if rule is None:
                raise UnsupportedError(
                    f"{fitter.r_name}(): argument {name} = has no interlace equivalent yet", arg
                )
            kwargs[rule.python or name] = self.argument_value(rule, arg.value, data, fitter)
        self._family_checks(fitter, args, kwargs, formula_arg.value)
        self._add_contrasts(args, kwargs, fitter)
        self._reml_notes(fitter, args, node)
        return pycode.call(self.interlace(fitter.python), (formula, data), kwargs)

    def _dots_argument(self, arg: ast.Argument, fitter: Fitter) -> None:
        if fitter.r_name == "clmm" and arg.name in ("nominal", "scale"):
            raise UnsupportedError(
                f"clmm() has no {arg.name} = argument: R ignores it (warning 'unrecognized "
                f"control elements named {arg.name!r} ignored') and fits the model without it; "
                "nominal and scale effects exist only in ordinal::clm. Remove the argument "
                "to get the model R actually fits",
                arg,
            )
        what = f"{arg.name} =" if arg.name else "an extra positional argument"
        raise UnsupportedError(f"{fitter.r_name}(): {what} is not translated", arg)

    def formula_value(self, node: ast.Node, fitter: Fitter) -> Py:
        """The formula argument: a literal (checked) or a variable holding one."""
        formula = self.formula_node(node)
        dialect = "lme4" if fitter.dialect == "fixed" else fitter.dialect
        self.findings.extend(formula_findings(formula, dialect))
        self._check_formula(formula, fitter)
        bare = strip_parens(node)
        if isinstance(bare, ast.Name) and bare.id in self.symbols:
            return Py(self.symbols[bare.id].python)
        return pycode.string(deparse(formula))

    def formula_node(self, node: ast.Node) -> ast.Formula:
        """The formula AST of a literal, a formula variable or ``as.formula("...")``."""
        bare = strip_parens(node)
        if isinstance(bare, ast.Formula):
            return bare
        if isinstance(bare, ast.Name):
            symbol = self.symbols.get(bare.id)
            if symbol is not None and symbol.formula is not None:
                return symbol.formula
        if (
            isinstance(bare, ast.Call)
            and bare.func in ("as.formula", "formula")
            and len(bare.args) == 1
            and isinstance(bare.args[0].value, ast.String)
        ):
            try:
                return parse(bare.args[0].value.value)
            except FormulaSyntaxError as err:
                raise UnsupportedError(f"the formula string does not parse: {err}", bare) from None
        raise UnsupportedError(
            "a model formula is needed here (a formula literal or a variable "
            "assigned one earlier in the script)",
            node,
        )

    def _check_formula(self, formula: ast.Formula, fitter: Fitter) -> None:
        dialect = _DIALECTS[fitter.dialect]
        has_dot = any(isinstance(n, ast.Dot) for n in walk(formula.rhs))
        try:
            text = deparse(formula)
        except TypeError:  # a script-only node such as x[1]
            raise UnsupportedError(
                "interlace cannot use this formula: indexing and other R code that is not "
                "part of the formula language; make a data column first",
                formula,
            ) from None
        if has_dot:
            return  # `.` needs the data's columns; checked when the model is fitted
        written = self.source[formula.span.start : formula.span.end]
        as_written = _same_formula(written, text)
        try:
            formula_ir(written if as_written else text, dialect=dialect)
        except (FormulaError, FormulaSyntaxError) as err:
            reason, _, _ = str(err).partition("\n")
            where: ast.Node = formula
            column = _COLUMN.search(reason)
            if as_written and column is not None:  # point at the term, not the formula
                start = formula.span.start + int(column.group(1)) - 1
                where = ast.Name("", span=ast.Span(start, start + 1))
                reason = _COLUMN.sub("", reason)
            raise UnsupportedError(f"interlace cannot use this formula: {reason}", where) from None

    def argument_value(self, rule: Arg, node: ast.Node, data: Py, fitter: Fitter) -> Py:
        """Translate one argument by its kind (see :data:`mapping.ArgKind`)."""
        kind = rule.kind
        if kind == "column":
            bare = strip_parens(node)
            if isinstance(bare, ast.Name):
                symbol = self.symbols.get(bare.id)
                if symbol is not None and symbol.kind == "value":  # a vector of the script
                    return Py(symbol.python)
                return pycode.string(bare.id)
            return self.expr(node, frame=data)
        if kind == "family":
            return self.family_value(node, fitter)
        if kind == "control":
            return self.control_value(node)
        if kind == "na_action":
            name = text_value(node) or ""
            if name in mapping.NA_ACTIONS:
                return pycode.string(mapping.NA_ACTIONS[name])
            raise UnsupportedError(
                f"na.action = {deparse(node)} is not translated "
                "(interlace has na.omit and na.fail)",
                node,
            )
        if kind == "string":
            text = text_value(node)
            return pycode.string(text) if text is not None else self.expr(node)
        if kind == "onesided":
            return self.onesided_value(node)
        if kind == "correlation":
            return self.correlation_value(node)
        if kind == "random":
            return self.random_value(node)
        if kind == "varfunc":
            return self.varfunc_value(node)
        return self.expr(node)

    def onesided_value(self, node: ast.Node) -> Py:
        """A one-sided formula (``ziformula = ~1``, ``random = ~ 1 | g``) as a string."""
        bare = strip_parens(node)
        if isinstance(bare, ast.Formula) and bare.lhs is None:
            return pycode.string(deparse(bare))
        raise UnsupportedError("only a one-sided formula is translated here (e.g. ~ 1 | g)", node)

    def correlation_value(self, node: ast.Node) -> Py:
        """``corAR1(form = ~ t | g)`` → ``interlace.corAR1(form="~t | g")``."""
        bare = strip_parens(node)
        if isinstance(bare, ast.Constant) and bare.name == "NULL":
            return Py("None")
        if not (isinstance(bare, ast.Call) and bare.func in mapping.CORRELATIONS):
            raise UnsupportedError(
                "interlace has the correlation structures "
                + ", ".join(mapping.CORRELATIONS)
                + " only",
                node,
            )
        matched = match(bare, mapping.CORRELATIONS[bare.func], bare.func)
        kwargs = {}
        for name, arg in matched.matched.items():
            if name == "form":
                kwargs["form"] = self.onesided_value(arg.value)
            elif name == "value":
                kwargs["value"] = self.expr(arg.value)
            elif logical(arg.value) is not False:  # fixed = TRUE: R keeps the value fixed
                raise UnsupportedError(
                    f"{bare.func}(fixed = TRUE) is not translated: interlace estimates the "
                    "correlation parameter",
                    arg,
                )
        return pycode.call(self.interlace(bare.func), (), kwargs)

    def varfunc_value(self, node: ast.Node) -> Py:
        """``varIdent(form = ~ 1 | g)`` → ``interlace.varIdent(form="~1 | g")``.

        Only ``form`` is translated: interlace starts δ at 0 and estimates it.
        """
        bare = strip_parens(node)
        if isinstance(bare, ast.Constant) and bare.name == "NULL":
            return Py("None")
        if not (isinstance(bare, ast.Call) and bare.func in mapping.VARFUNCS):
            raise UnsupportedError(
                "interlace has the variance functions " + ", ".join(mapping.VARFUNCS) + " only",
                node,
            )
        matched = match(bare, mapping.VARFUNCS[bare.func], bare.func)
        kwargs = {}
        for name, arg in matched.matched.items():
            if name != "form":
                raise UnsupportedError(
                    f"{bare.func}({name} = ) is not translated: interlace starts the variance "
                    "parameters at 0 and estimates them all",
                    arg,
                )
            kwargs["form"] = self.onesided_value(arg.value)
        if "form" not in kwargs:
            raise UnsupportedError(
                f"{bare.func}() without form = is not translated: nlme's default form uses "
                "fitted values, which interlace does not support",
                node,
            )
        return pycode.call(self.interlace(bare.func), (), kwargs)

    def random_value(self, node: ast.Node) -> Py:
        """nlme's ``random =``: ``~ x | g``, ``pdDiag(~ x)``, or ``list(g = ..., h = ...)``."""
        bare = strip_parens(node)
        if isinstance(bare, ast.Call) and bare.func in mapping.PD_CLASSES:
            form = match(bare, ("form", "..."), bare.func).matched.get("form")
            if form is None or len(bare.args) != 1:
                raise UnsupportedError(f"{bare.func}(): only its formula is translated", node)
            return pycode.call(self.interlace(bare.func), (self.onesided_value(form.value),))
        if isinstance(bare, ast.Call) and bare.func == "list":
            items: dict[str, Py] = {}
            for arg in bare.args:
                value = strip_parens(arg.value)
                if arg.name is None or (isinstance(value, ast.Call) and value.func == "list"):
                    raise UnsupportedError(
                        "random = list(...) needs one named entry per grouping factor", arg
                    )
                items[arg.name] = self.random_value(value)
            return pycode.mapping(items)
        if isinstance(bare, ast.Call):
            raise UnsupportedError(
                "interlace has the random-effects classes "
                + " and ".join(mapping.PD_CLASSES)
                + f" only, not {bare.func}()",
                node,
            )
        return self.onesided_value(node)

    # ------------------------------------------------------------------ family
    def _family_parts(self, node: ast.Node) -> tuple[str, str | None, ast.Node]:
        """(family name, link or None, node) of a family object, function or string."""
        bare = strip_parens(node)
        if isinstance(bare, ast.BinaryOp) and bare.op in ("::", ":::"):
            bare = bare.right  # stats::binomial
        if isinstance(bare, ast.String | ast.Name):
            return (bare.value if isinstance(bare, ast.String) else bare.id), None, bare
        if isinstance(bare, ast.Call):
            link: str | None = None
            if bare.args:
                if len(bare.args) > 1 or bare.args[0].name not in (None, "link"):
                    raise UnsupportedError(
                        f"{bare.func}(): only the link argument is translated", bare.args[-1]
                    )
                link = text_value(bare.args[0].value)
                if link is None:
                    raise UnsupportedError("the link must be a name or a string", bare.args[0])
            return bare.func, link, bare
        raise UnsupportedError("family must be a family object, function or name", node)

    def _is_gaussian(self, arg: ast.Argument | None) -> bool:
        if arg is None:
            return True  # glmer's default family is gaussian
        name, link, _ = self._family_parts(arg.value)
        return name == "gaussian" and link in (None, "identity")

    def family_value(self, node: ast.Node, fitter: Fitter) -> Py:
        """``interlace.families.<name>(link=...)``."""
        name, link, where = self._family_parts(node)
        if name in mapping.QUASI_FAMILIES:
            raise UnsupportedError(
                f"{fitter.r_name}() cannot fit the {name} family (R stops with an error too)", where
            )
        family = mapping.FAMILIES.get(name)
        if family is None or (fitter.model == "glmer" and not family.glmer):
            raise UnsupportedError(f"family {name} is not translated for {fitter.r_name}()", where)
        if link is not None and link not in family.links:
            raise UnsupportedError(
                f"{name}() has no link {link!r} in R (links: {', '.join(family.links)})", where
            )
        kwargs = {} if link in (None, family.default_link) else {"link": pycode.string(link)}
        return pycode.call(self.interlace(f"families.{family.python}"), (), kwargs)

    def _family_checks(
        self,
        fitter: Fitter,
        args: dict[str, ast.Argument],
        kwargs: dict[str, Py],
        formula_node: ast.Node,
    ) -> None:
        if fitter.model == "glmmTMB" and "family" not in kwargs:
            kwargs["family"] = pycode.call(self.interlace("families.gaussian"))
        family = args.get("family")
        if family is None or self._family_parts(family.value)[0] != "binomial":
            return
        formula = self.formula_node(formula_node)
        if "weights" not in args and is_proportion(formula):
            self.warn(
                "the binomial response is a proportion and there are no weights: R fits "
                "it as one trial per row (warning 'non-integer #successes'); give the "
                "number of trials as weights =, or write cbind(successes, failures)",
                formula,
            )

    def _reml_notes(self, fitter: Fitter, args: dict[str, ast.Argument], node: ast.Call) -> None:
        family = args.get("family")
        gaussian = family is None or self._family_parts(family.value)[0] == "gaussian"
        if fitter.model == "glmmTMB" and "REML" not in args and gaussian:
            self.note(
                "glmmTMB fits by maximum likelihood unless REML = TRUE (lmer's default "
                "is REML); interlace.glmmTMB keeps glmmTMB's default",
                node,
            )

    # ------------------------------------------------------------------ control and contrasts
    def control_value(self, node: ast.Node) -> Py:
        """``lmerControl(optimizer = "bobyqa", ...)`` → a dict of interlace settings."""
        bare = strip_parens(node)
        if not (isinstance(bare, ast.Call) and bare.func in mapping.CONTROL_FUNCTIONS):
            return self.expr(node)
        matched = match(bare, mapping.CONTROL_FORMALS, bare.func)
        glmer = bare.func == "glmerControl"
        items: dict[str, Py] = {}
        for name, arg in matched.matched.items():
            if glmer and name == "optimizer":
                self._glmer_optimizer(arg)
                continue
            settings = mapping.GLMER_CONTROL_SETTINGS if glmer else mapping.CONTROL_SETTINGS
            key = settings.get(name)
            if key is None:
                raise UnsupportedError(f"{bare.func}(): {name} = has no interlace setting yet", arg)
            items[key] = self.expr(arg.value)
        return pycode.mapping(items)

    def _glmer_optimizer(self, arg: ast.Argument) -> None:
        """``glmerControl(optimizer = "bobyqa")``: what interlace's glmer does in both stages."""
        value = strip_parens(arg.value)
        parts = (
            [strip_parens(a.value) for a in value.args]
            if isinstance(value, ast.Call) and value.func == "c"
            else [value]
        )
        if not parts or any(not (isinstance(p, ast.String) and p.value == "bobyqa") for p in parts):
            raise UnsupportedError(
                "glmerControl(): interlace's glmer uses BOBYQA in both stages; only "
                'optimizer = "bobyqa" is translated',
                arg,
            )
        self.note(
            'glmerControl(optimizer = "bobyqa") is interlace\'s glmer optimiser in both stages; '
            "the setting is dropped",
            arg,
        )

    def contrast_value(self, node: ast.Node) -> Py:
        """One coding: ``"contr.sum"``, ``contr.sum``, ``contr.sum(3)``, ``contr.SAS(3)``, ...

        ``contr.treatment(k)`` and ``contr.SAS(k)`` name their columns by level *number*, so
        they become explicit matrices; the other codings name columns alike either way.
        """
        bare = strip_parens(node)
        name = text_value(bare)
        if name is not None and name in mapping.CONTRAST_FUNCTIONS:
            return pycode.string(name)
        if not (isinstance(bare, ast.Call) and bare.func in mapping.CONTRAST_FUNCTIONS):
            raise UnsupportedError(
                "contrasts are translated from contr.treatment, contr.sum, "
                "contr.helmert, contr.poly and contr.SAS",
                node,
            )
        matched = match(bare, ("n", "base", "contrasts", "sparse", "scores"), bare.func)
        extra = [a for k, a in matched.matched.items() if k not in ("n", "base")]
        n = matched.matched.get("n")
        size = strip_parens(n.value) if n is not None else None
        if extra or not isinstance(size, ast.Number):
            raise UnsupportedError(
                f"{bare.func}(): only a number of levels (and base =) is translated",
                extra[0] if extra else bare,
            )
        k = int(size.value)
        base_arg = matched.matched.get("base")
        if bare.func in ("contr.treatment", "contr.SAS"):
            base = k
            if bare.func == "contr.treatment":
                base_node = strip_parens(base_arg.value) if base_arg else ast.Number(1.0, "1")
                if not isinstance(base_node, ast.Number):
                    raise UnsupportedError("base = must be a number", base_node)
                base = int(base_node.value)
            rows, names = treatment_matrix(k, base)
            # R names these columns by level *number*: the matrix keeps those names
            return pycode.call(
                self.pd("DataFrame"),
                (Py(repr(rows)),),
                {"columns": pycode.sequence([pycode.string(c) for c in names])},
            )
        if base_arg is not None:
            raise UnsupportedError(f"{bare.func}() has no base =", base_arg)
        return pycode.string(bare.func)

    def contrasts_items(self, node: ast.Node) -> dict[str, Py]:
        """``list(f = "contr.sum", g = contr.helmert)`` → variable → coding."""
        bare = strip_parens(node)
        if isinstance(bare, ast.Constant) and bare.name == "NULL":
            return {}
        if not (isinstance(bare, ast.Call) and bare.func == "list"):
            raise UnsupportedError("contrasts = must be list(variable = coding, ...)", node)
        items = {}
        for arg in bare.args:
            if arg.name is None:
                raise UnsupportedError("each contrasts entry needs the variable's name", arg)
            items[arg.name] = self.contrast_value(arg.value)
        return items

    def _add_contrasts(
        self, args: dict[str, ast.Argument], kwargs: dict[str, Py], fitter: Fitter
    ) -> None:
        """The call's contrasts: its own, over those set on data columns or by ``options()``.

        R's precedence: the ``contrasts`` argument, then the column's ``contrasts<-``
        attribute, then ``options(contrasts = )``.
        """
        data = strip_parens(args["data"].value)
        attached = dict(self.contrasts.get(data.id, {})) if isinstance(data, ast.Name) else {}
        own = self.contrasts_items(args["contrasts"].value) if "contrasts" in args else {}
        merged = {**attached, **own}
        if merged and self.contrast_defaults is not None:
            raise UnsupportedError(
                "interlace's contrasts= takes codings per variable or the pair "
                "of defaults of options(contrasts=), not both",
                args["data"],
            )
        if merged:
            kwargs["contrasts"] = pycode.mapping(merged)
        elif self.contrast_defaults is not None:
            kwargs["contrasts"] = Py(
                "(" + ", ".join(pycode.string(c).text for c in self.contrast_defaults) + ")"
            )
        if "contrasts" in kwargs and "contrasts" not in fitter.args:
            raise UnsupportedError(
                f"{fitter.r_name}() takes no contrasts in interlace yet", args["data"]
            )

    # ------------------------------------------------------------------ update
    def update_call(self, node: ast.Call) -> tuple[Py, ModelInfo]:
        """``update(fit, . ~ . - x, REML = FALSE)``: the changed call, fitted anew."""
        matched = match(node, ("object", "formula.", "...", "evaluate"), "update")
        obj = matched.matched.get("object")
        info = self.model_of(obj.value) if obj is not None else None
        if info is None:
            raise UnsupportedError(
                "update() is translated for models fitted earlier in the script", node
            )
        if "evaluate" in matched.matched:
            raise UnsupportedError(
                "update(evaluate =) is not translated", matched.matched["evaluate"]
            )
        old = match(info.call, info.fitter.formals, info.fitter.r_name).matched
        args = {name: arg.value for name, arg in old.items()}
        first = info.fitter.formals[0]
        if "formula." in matched.matched:
            new = self.formula_node(matched.matched["formula."].value)
            args[first] = update_formula(self.formula_node(args[first]), new)
        for arg in matched.dots:
            if arg.name is None:
                raise UnsupportedError("update(): extra arguments must be named", arg)
            args[arg.name] = arg.value
        call = ast.Call(
            info.call.func,
            tuple(ast.Argument(name, value, span=node.span) for name, value in args.items()),
            info.call.namespace,
            span=node.span,
        )
        fitter = mapping.FITTERS[call.func]
        return self.fit_call(call, fitter), self.model_info(call, fitter)

    def model_info(self, call: ast.Call, fitter: Fitter) -> ModelInfo:
        """What the script must remember about a fitted model."""
        reml: bool | None = None
        if fitter.model == "lmer" or (fitter.r_name == "glmer" and self._glmer_is_lmer(call)):
            arg = match(call, fitter.formals, fitter.r_name).matched.get("REML")
            reml = True if arg is None else logical(arg.value) is not False
        return ModelInfo(fitter, call, reml)

    def _glmer_is_lmer(self, call: ast.Call) -> bool:
        return self._is_gaussian(match(call, mapping.GLMER.formals, "glmer").matched.get("family"))
