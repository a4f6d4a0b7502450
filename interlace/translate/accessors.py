"""Translation of what is done with fitted models: accessors, ``summary``, ``anova``.

Each accessor is a row of :data:`interlace.translate.mapping.ACCESSORS` (the result's
attribute or method, the R formals for argument matching, the supported arguments, and the
model classes for which R has it).  Model-specific rules live here: glmmTMB's
``fixef(fit)$zi``, coxme's penalized ``logLik``, lmerTest's ``summary``/``anova``, R's default
``confint`` method per class, and the ML refit of ``anova(fit1, fit2)``.
"""

from __future__ import annotations

from interlace.formula import ast
from interlace.formula.deparse import deparse
from interlace.translate import mapping, pycode
from interlace.translate.core import UnsupportedError, strip_parens
from interlace.translate.mapping import Accessor
from interlace.translate.models import ModelCalls, match, text_value
from interlace.translate.pycode import Py
from interlace.translate.rargs import MatchedCall


class AccessorCalls(ModelCalls):
    """Accessors of fitted models, their summaries and comparisons."""

    # ------------------------------------------------------------------ accessors
    def model_class(self, node: ast.Node) -> str:
        """The model class of a fitted-model expression (``lmer`` when unknown)."""
        info = self.model_of(node)
        return info.fitter.model if info is not None else "lmer"

    def accessor_call(self, node: ast.Call, name: str) -> Py:
        """``fixef(fit)`` → ``fit.fe_params`` etc."""
        acc = mapping.ACCESSORS[mapping.ACCESSOR_ALIASES.get(name, name)]
        if not node.args or node.args[0].name not in (None, "object", "x", "fit"):
            raise UnsupportedError(f"{name}() needs the fitted model as its first argument", node)
        target = node.args[0].value
        cls = self.model_class(target)
        if cls not in acc.models:
            raise UnsupportedError(f"R has no {name}() for {cls} fits", node)
        if cls in acc.unavailable:
            raise UnsupportedError(
                f"{name}() of a {cls} fit is not translated: interlace's {cls} results have "
                f"no {acc.python} yet",
                node,
            )
        fit = self.expr(target)
        rest = ast.Call(node.func, node.args[1:], span=node.span)
        if name in ("AIC", "BIC") and rest.args:
            return self._information_criteria(node, name, acc)
        matched = match(rest, acc.formals, name)
        if cls == "glmmTMB" and name == "fixef":
            return pycode.mapping({k: fit.attr(v) for k, v in mapping.GLMMTMB_PARTS.items()})
        if cls == "coxme" and name in ("logLik", "AIC", "BIC"):
            return self._coxme_loglik(node, name, matched, fit)
        for extra in matched.dots:
            raise UnsupportedError(
                f"{name}(): {extra.name or 'an extra argument'} is not translated", extra
            )
        if cls == "coxme":
            self._coxme_notes(node, name, matched)
        positional: list[Py] = []
        kwargs: dict[str, Py] = {}
        for formal, arg in matched.matched.items():
            self._accessor_argument(name, acc, cls, formal, arg, positional, kwargs)
        if name == "confint" and cls == "clmm":  # ordinal's confint: Wald intervals only
            if matched.matched.keys() - {"level"}:
                raise UnsupportedError("confint() of a clmm fit takes only level =", node)
        elif name == "confint" and "method" not in kwargs:
            kwargs["method"] = pycode.string(mapping.CONFINT_DEFAULT_METHOD[cls])
        if name in ("residuals", "resid") and cls == "glmer" and "type" not in matched.matched:
            raise UnsupportedError(
                "residuals() of a GLMM are deviance residuals in R; interlace's "
                'resid are response residuals: write type = "response"',
                node,
            )
        python, method = acc.overrides.get(cls, (acc.python, acc.method))
        if method:
            return fit.method(python, *positional, **kwargs)
        return fit.attr(python)

    def _coxme_notes(self, node: ast.Call, name: str, matched: MatchedCall) -> None:
        """Where interlace's coxme results go beyond coxme 2.2-22 (which R would not run)."""
        if name == "fitted":
            self.note(
                "coxme has no fitted() method (R returns NULL); interlace gives the fit's "
                "linear predictor X beta + Z b (fit$linear.predictor)",
                node,
            )
        elif name in ("residuals", "resid"):
            if "type" not in matched.matched:
                self.note(
                    "coxme has no residuals() method (R returns NULL); interlace gives the "
                    "martingale residuals of the Cox model with the random effects as an "
                    "offset (survival's residuals.coxph)",
                    node,
                )
        elif name == "predict" and "newdata" in matched.matched:
            self.note(
                "coxme 2.2-22's predict() stops on newdata ('not yet supported'); interlace "
                "predicts new rows with their groups' random effects",
                node,
            )

    def _accessor_argument(
        self,
        name: str,
        acc: Accessor,
        cls: str,
        formal: str,
        arg: ast.Argument,
        positional: list[Py],
        kwargs: dict[str, Py],
    ) -> None:
        value = strip_parens(arg.value)
        if formal in acc.ignored:
            self.note(f"{name}(): {formal} = is dropped: it {acc.ignored[formal]}", arg)
        elif name == "isSingular" and formal == "tol":
            if not (isinstance(value, ast.Number) and value.value == 1e-4):
                raise UnsupportedError("isSingular(tol =) other than 1e-4 is not translated", arg)
        elif name in ("residuals", "resid") and formal == "type":
            kind = text_value(value)
            if cls == "coxme" and kind in mapping.COXME_RESIDUALS:
                kwargs["type"] = pycode.string(kind)
            elif cls == "coxme":
                raise UnsupportedError(
                    "residuals() of a coxme fit are translated for type = "
                    + ", ".join(f'"{t}"' for t in mapping.COXME_RESIDUALS),
                    arg,
                )
            elif kind != "response":
                raise UnsupportedError('only residuals(type = "response") is translated', arg)
        elif cls == "coxme" and name == "predict" and formal == "type":
            kind = text_value(value)
            if kind not in mapping.COXME_PREDICT_TYPES:
                raise UnsupportedError('predict() of a coxme fit has type = "lp" or "risk"', arg)
            kwargs["type"] = pycode.string(kind)
        elif formal == "re.form" and formal in acc.args:
            kwargs["re_form"] = self._re_form(value)
        elif name == "confint" and formal == "method":
            text = text_value(value) or ""
            full = [m for m in ("profile", "Wald", "boot") if m.startswith(text)]
            if len(full) != 1:
                raise UnsupportedError("confint(method =) must be profile, Wald or boot", arg)
            kwargs["method"] = pycode.string(full[0])
        elif formal in acc.args:
            python = acc.args[formal]
            py = self.expr(value)
            if python is None:
                positional.append(py)
            else:
                kwargs[python] = py
        else:
            raise UnsupportedError(f"{name}(): {formal} = is not translated", arg)

    def _re_form(self, node: ast.Node) -> Py:
        if isinstance(node, ast.Constant) and node.name == "NA":
            return pycode.string("~0")
        if isinstance(node, ast.Constant) and node.name == "NULL":
            return Py("None")
        if isinstance(node, ast.Formula):
            return pycode.string(deparse(node))
        raise UnsupportedError("re.form must be NULL, NA or a formula", node)

    def _coxme_loglik(self, node: ast.Call, name: str, matched: MatchedCall, fit: Py) -> Py:
        """coxme's ``logLik(fit, type =)``, ``AIC(fit)`` and ``BIC(fit)``.

        coxme's ``logLik`` is by default the "penalized" type, which is the partial
        log-likelihood at the estimates (``fit$loglik[3] + fit$penalty``); ``AIC`` and ``BIC``
        use it with the effective degrees of freedom of the penalised fit.
        """
        type_arg = matched.matched.get("type") or next(
            (a for a in matched.dots if a.name == "type"), None
        )
        if name != "logLik":
            if type_arg is not None or matched.dots:
                raise UnsupportedError(f"{name}() of a coxme fit takes no other arguments", node)
            return fit.attr(mapping.ACCESSORS[name].python)
        kind = text_value(type_arg.value) if type_arg is not None else "penalized"
        if kind == "integrated":
            return fit.attr("llf")
        if kind == "penalized":
            if type_arg is None:
                self.note(
                    "logLik() of a coxme fit is by default the penalized type: the partial "
                    "log-likelihood at the estimates (fit$loglik[3] + fit$penalty), not the "
                    'integrated likelihood of type = "integrated"',
                    node,
                )
            return fit.attr("llf_fitted")
        raise UnsupportedError('logLik(type =) of a coxme fit is "penalized" or "integrated"', node)

    def _information_criteria(self, node: ast.Call, name: str, acc: Accessor) -> Py:
        """``AIC(fit1, fit2)``: R's data frame of the models' df and AIC, one row per model."""
        rows: dict[str, tuple[Py, Py]] = {}
        for arg in node.args:
            if arg.name is not None:
                raise UnsupportedError(f"{name}(): {arg.name} = is not translated", arg)
            fit = self.expr(arg.value)
            df = mapping.MODEL_DF[self.model_class(arg.value)]
            rows[deparse(arg.value)] = (fit.attr(df), fit.attr(acc.python))
        columns = {
            "df": pycode.sequence([df for df, _ in rows.values()]),
            name: pycode.sequence([value for _, value in rows.values()]),
        }
        return pycode.call(
            self.pd("DataFrame"),
            (pycode.mapping(columns),),
            {"index": pycode.sequence([pycode.string(k) for k in rows])},
        )

    # ------------------------------------------------------------------ summary and anova
    def summary_call(self, node: ast.Call) -> Py:
        """``summary(fit)`` and lmerTest's ``summary(fit, ddf = ...)``."""
        if not node.args:
            raise UnsupportedError("summary() needs an argument", node)
        target = node.args[0].value
        if self.is_frame(target):
            self.note("summary() of a data frame: pandas' describe() has another layout", node)
            return self.expr(target).method("describe", include=pycode.string("all"))
        fit = self.expr(target)
        for arg in node.args[1:]:
            if arg.name == "ddf" and self.model_class(target) == "lmer":
                return fit.method("coef_table", ddf=self._ddf(arg.value))
            raise UnsupportedError(
                f"summary(): {arg.name or 'an extra argument'} is not translated", arg
            )
        return fit.method("summary")

    def _ddf(self, node: ast.Node) -> Py:
        text = (text_value(node) or "").lower()
        for full, python in (
            ("satterthwaite", "satterthwaite"),
            ("kenward-roger", "kenward-roger"),
            ("lme4", "none"),
        ):
            if text and full.startswith(text):
                return pycode.string(python)
        raise UnsupportedError("ddf must be Satterthwaite, Kenward-Roger or lme4", node)

    def coef_table(self, target: ast.Node, where: ast.Node) -> Py:
        """``coef(summary(fit))`` / ``summary(fit)$coefficients``."""
        cls = self.model_class(target)
        fit = self.expr(target)
        if cls == "lmer":
            ddf = "satterthwaite" if mapping.LMERTEST in self.packages else "none"
            return fit.method("coef_table", ddf=pycode.string(ddf))
        if cls in ("glmer", "glmmTMB"):
            columns = {
                "Estimate": "fe_params",
                "Std. Error": "bse",
                "z value": "tvalues",
                "Pr(>|z|)": "pvalues",
            }
            return pycode.call(
                self.pd("DataFrame"),
                (pycode.mapping({k: fit.attr(v) for k, v in columns.items()}),),
            )
        if cls == "lme":  # summary(fit)$tTable
            return fit.method("coef_table")
        raise UnsupportedError(f"the coefficient table of a {cls} fit is not translated", where)

    def anova_call(self, node: ast.Call) -> Py:
        """``anova(fit)`` (F tests) or ``anova(fit1, fit2, ...)`` (likelihood-ratio tests)."""
        matched = match(node, ("object", "...", "refit", "model.names", "type", "ddf"), "anova")
        obj = matched.matched.get("object")
        if obj is None:
            raise UnsupportedError("anova() needs a fitted model", node)
        fit = self.expr(obj.value)
        cls = self.model_class(obj.value)
        others = [a for a in matched.dots if a.name is None]
        for arg in matched.dots:
            if arg.name is not None:
                raise UnsupportedError(f"anova(): {arg.name} = is not translated", arg)
        kwargs: dict[str, Py] = {}
        if others and cls == "coxme":
            if matched.matched.keys() - {"object"}:
                raise UnsupportedError("anova() of coxme fits takes only the fits", node)
            return fit.method("anova", *(self.expr(a.value) for a in others))
        if others and cls in ("glmmTMB", "clmm", "lme"):
            return self._named_anova(node, matched, cls, [obj.value, *(a.value for a in others)])
        if others:
            refit = matched.matched.get("refit")
            if refit is not None:
                kwargs["refit"] = self.expr(refit.value)
            infos = [self.model_of(a.value) for a in [obj, *others]]
            if refit is None and any(i is not None and i.reml for i in infos):
                self.note(
                    "anova() refits REML fits by maximum likelihood before the "
                    "likelihood-ratio test (R: 'refitting model(s) with ML'); "
                    "interlace does the same",
                    node,
                )
            return fit.method("anova", *(self.expr(a.value) for a in others), **kwargs)
        if cls == "lme":
            return self._lme_anova(node, matched, fit)
        if cls != "lmer":
            raise UnsupportedError(f"anova() of a single {cls} fit is not translated", node)
        lmertest = mapping.LMERTEST in self.packages
        type_arg, ddf_arg = matched.matched.get("type"), matched.matched.get("ddf")
        kwargs["type"] = (
            self._anova_type(type_arg.value) if type_arg else Py("3" if lmertest else "1")
        )
        kwargs["ddf"] = (
            self._ddf(ddf_arg.value)
            if ddf_arg
            else pycode.string("satterthwaite" if lmertest else "none")
        )
        if not lmertest:
            self.note(
                "anova() of one lmer fit without lmerTest: lme4's sequential F "
                "statistics, without denominator df or p-values",
                node,
            )
        return fit.method("anova", **kwargs)

    def _named_anova(
        self, node: ast.Call, matched: MatchedCall, cls: str, fits: list[ast.Node]
    ) -> Py:
        """``anova(fit1, fit2, ...)`` of glmmTMB, clmm or lme fits:
        ``fit1.anova(fit2, ..., names=[...])``, likelihood-ratio tests of the fits as they
        are (none of these packages refits REML fits), rows named by the R expressions as
        the packages name them."""
        if matched.matched.keys() - {"object"}:
            raise UnsupportedError(f"anova() of {cls} fits takes only the fits", node)
        names = pycode.sequence([pycode.string(deparse(f)) for f in fits])
        first, *rest = (self.expr(f) for f in fits)
        return first.method("anova", *rest, names=names)

    def _lme_anova(self, node: ast.Call, matched: MatchedCall, fit: Py) -> Py:
        """``anova(fit)`` of one lme fit: nlme's F tests, ``type = "sequential"`` or
        ``"marginal"``."""
        if matched.matched.keys() - {"object", "type"}:
            raise UnsupportedError("anova() of one lme fit: only type = is translated", node)
        type_arg = matched.matched.get("type")
        if type_arg is None:
            return fit.method("anova")
        text = text_value(type_arg.value) or ""
        chosen = [t for t in ("sequential", "marginal") if text and t.startswith(text)]
        if len(chosen) != 1:  # R's match.arg: a unique prefix
            raise UnsupportedError('type must be "sequential" or "marginal"', type_arg.value)
        return fit.method("anova", type=pycode.string(chosen[0]))

    def _anova_type(self, node: ast.Node) -> Py:
        bare = strip_parens(node)
        roman = {"I": "1", "II": "2", "III": "3", "1": "1", "2": "2", "3": "3"}
        text = text_value(bare) if not isinstance(bare, ast.Number) else bare.text
        if text in roman:
            return Py(roman[text])
        raise UnsupportedError("type must be I, II or III", node)
