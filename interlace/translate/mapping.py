"""The translation tables: R functions and their arguments → interlace's Python API.

Everything the translator knows about R's model functions is data in this module:
their formals (in R's order, for R's argument matching), how each supported argument is
translated (its *kind*, see :mod:`interlace.translate.emit`), which arguments R accepts but
that do not change the estimates (dropped with a note), the family objects and links, the
``lmerControl``/``glmerControl`` settings, and the accessors applied to a fitted model.
An argument that is in the formals but not in a table is reported as not translated.

The formals were read from R 4.2.2 with lme4 1.1-31, glmmTMB 1.1.5, ordinal 2022.11,
nlme 3.1-162 (``names(formals(f))``) and from coxme 2.2 (``R_SEMANTICS.md`` §6.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

ModelClass = Literal["lmer", "glmer", "glmmTMB", "clmm", "coxme", "lme"]
"""The result families the accessors distinguish (``glmer.nb`` fits are ``glmer``)."""

ArgKind = Literal[
    "formula",  # a model formula (literal or a variable holding one) -> string
    "onesided",  # a one-sided formula -> string
    "data",  # the data frame
    "subset",  # rows of the data frame (R evaluates it in the data)
    "column",  # a column of the data: a bare name -> "name", an expression -> values
    "family",  # a family object, function or name
    "control",  # lmerControl(...) / glmerControl(...)
    "contrasts",  # list(f = "contr.sum", ...)
    "na_action",  # na.omit / na.fail
    "string",  # a character string (or a bare name R turns into one, e.g. link = probit)
    "value",  # any expression
    "correlation",  # nlme correlation structure corAR1(...) etc.
    "varfunc",  # nlme variance function varIdent(...) etc.
    "random",  # nlme random effects: ~ x | g, pdDiag(~ x), list(g = ...)
]


@dataclass(frozen=True)
class Arg:
    """How one R argument is translated: the Python keyword (``None``: positional) and kind."""

    python: str | None
    kind: ArgKind


@dataclass(frozen=True)
class Fitter:
    """One R model function.

    Attributes
    ----------
    r_name : str
        The R function (``glmer.nb``).
    package : str
        Its R package.
    python : str
        The interlace function (``interlace.<python>``).
    model : ModelClass
        Which accessor table applies to its result.
    formals : tuple of str
        R's formals in order (``"..."`` included), for argument matching.
    args : mapping
        Supported arguments → :class:`Arg`.
    ignored : mapping
        Arguments R accepts that do not change the fit → why they are dropped.
    dialect : str
        The formula dialect of the package (``lme4``, ``glmmTMB``, ``ordinal``, ``coxme``).
    """

    r_name: str
    package: str
    python: str
    model: ModelClass
    formals: tuple[str, ...]
    args: Mapping[str, Arg]
    ignored: Mapping[str, str] = field(default_factory=dict)
    dialect: str = "lme4"


_PRINTING = "only changes what R prints while fitting"

_LMER_FORMALS = (
    "formula",
    "data",
    "REML",
    "control",
    "start",
    "verbose",
    "subset",
    "weights",
    "na.action",
    "offset",
    "contrasts",
    "devFunOnly",
)
_GLMER_FORMALS = (
    "formula",
    "data",
    "family",
    "control",
    "start",
    "verbose",
    "nAGQ",
    "subset",
    "weights",
    "na.action",
    "offset",
    "contrasts",
    "mustart",
    "etastart",
    "devFunOnly",
)
_COMMON: dict[str, Arg] = {
    "formula": Arg(None, "formula"),
    "data": Arg(None, "data"),
    "subset": Arg(None, "subset"),
    "weights": Arg("weights", "column"),
    "offset": Arg("offset", "column"),
    "na.action": Arg("na_action", "na_action"),
    "contrasts": Arg("contrasts", "contrasts"),
}

LMER = Fitter(
    "lmer",
    "lme4",
    "lmer",
    "lmer",
    _LMER_FORMALS,
    MappingProxyType(
        {
            **_COMMON,
            "REML": Arg("REML", "value"),
            "control": Arg("control", "control"),
            "start": Arg("start", "value"),
        }
    ),
    MappingProxyType({"verbose": _PRINTING}),
)
GLMER = Fitter(
    "glmer",
    "lme4",
    "glmer",
    "glmer",
    _GLMER_FORMALS,
    MappingProxyType(
        {
            **_COMMON,
            "family": Arg("family", "family"),
            "nAGQ": Arg("nAGQ", "value"),
            "control": Arg("control", "control"),
        }
    ),
    MappingProxyType({"verbose": _PRINTING}),
)
GLMER_NB = Fitter(
    "glmer.nb",
    "lme4",
    "glmer_nb",
    "glmer",
    # glmer.nb(..., interval, tol, verbose, nb.control, initCtrl) passes `...` to glmer
    tuple(f for f in _GLMER_FORMALS if f != "family"),
    MappingProxyType({k: v for k, v in GLMER.args.items() if k != "family"}),
    MappingProxyType({"verbose": _PRINTING}),
)
GLMMTMB = Fitter(
    "glmmTMB",
    "glmmTMB",
    "glmmTMB",
    "glmmTMB",
    (
        "formula",
        "data",
        "family",
        "ziformula",
        "dispformula",
        "weights",
        "offset",
        "contrasts",
        "na.action",
        "se",
        "verbose",
        "doFit",
        "control",
        "REML",
        "start",
        "map",
        "sparseX",
    ),
    MappingProxyType(
        {
            **{k: v for k, v in _COMMON.items() if k != "subset"},
            "family": Arg("family", "family"),
            "ziformula": Arg("ziformula", "onesided"),
            "dispformula": Arg("dispformula", "onesided"),
            "REML": Arg("REML", "value"),
        }
    ),
    MappingProxyType(
        {
            "verbose": _PRINTING,
            "se": "only decides whether R computes standard errors; interlace always does",
        }
    ),
    dialect="glmmTMB",
)
CLMM = Fitter(
    "clmm",
    "ordinal",
    "clmm",
    "clmm",
    (
        "formula",
        "data",
        "weights",
        "start",
        "subset",
        "na.action",
        "contrasts",
        "Hess",
        "model",
        "link",
        "doFit",
        "control",
        "nAGQ",
        "threshold",
        "...",
    ),
    MappingProxyType(
        {
            **{k: v for k, v in _COMMON.items() if k != "offset"},
            "link": Arg("link", "string"),
            "threshold": Arg("threshold", "string"),
            "nAGQ": Arg("nAGQ", "value"),
        }
    ),
    MappingProxyType(
        {
            "Hess": "only decides whether R keeps the Hessian; interlace always computes it",
            "model": "only decides whether R keeps the model frame",
        }
    ),
    dialect="ordinal",
)
COXME = Fitter(
    "coxme",
    "coxme",
    "coxme",
    "coxme",
    (
        "formula",
        "data",
        "weights",
        "subset",
        "na.action",
        "init",
        "control",
        "ties",
        "varlist",
        "vfixed",
        "vinit",
        "x",
        "y",
        "refine.n",
        "random",
        "fixed",
        "variance",
        "...",
    ),
    MappingProxyType(
        {
            **{k: v for k, v in _COMMON.items() if k not in ("offset", "contrasts")},
            "ties": Arg("ties", "string"),
        }
    ),
    MappingProxyType(
        {
            "x": "only decides whether R keeps the design matrix",
            "y": "only decides whether R keeps the response",
        }
    ),
    dialect="coxme",
)
LME = Fitter(
    "lme",
    "nlme",
    "lme",
    "lme",
    (
        "fixed",
        "data",
        "random",
        "correlation",
        "weights",
        "subset",
        "method",
        "na.action",
        "control",
        "contrasts",
        "keep.data",
    ),
    MappingProxyType(
        {
            "fixed": Arg(None, "formula"),
            "data": Arg(None, "data"),
            "subset": Arg(None, "subset"),
            "random": Arg("random", "random"),
            "correlation": Arg("correlation", "correlation"),
            "weights": Arg("weights", "varfunc"),
            "method": Arg("method", "string"),
            "na.action": Arg("na_action", "na_action"),
            "contrasts": Arg("contrasts", "contrasts"),
        }
    ),
    MappingProxyType({"keep.data": "only decides whether R keeps the data in the fit"}),
    dialect="fixed",
)

FITTERS: Mapping[str, Fitter] = MappingProxyType(
    {f.r_name: f for f in (LMER, GLMER, GLMER_NB, GLMMTMB, CLMM, COXME, LME)}
)
"""R function name → :class:`Fitter`."""

# ---------------------------------------------------------------------------------- families


@dataclass(frozen=True)
class Family:
    """An R family: interlace's name, the links R allows and the default link."""

    python: str
    links: tuple[str, ...]
    default_link: str
    glmer: bool = True  # usable with lme4::glmer (glmmTMB takes all)


FAMILIES: Mapping[str, Family] = MappingProxyType(
    {
        "binomial": Family("binomial", ("logit", "probit", "cauchit", "log", "cloglog"), "logit"),
        "poisson": Family("poisson", ("log", "identity", "sqrt"), "log"),
        "Gamma": Family("Gamma", ("inverse", "identity", "log"), "inverse"),
        "inverse.gaussian": Family(
            "inverse_gaussian", ("1/mu^2", "inverse", "identity", "log"), "1/mu^2"
        ),
        "gaussian": Family("gaussian", ("identity", "log", "inverse"), "identity"),
        "nbinom1": Family("nbinom1", ("log",), "log", glmer=False),
        "nbinom2": Family("nbinom2", ("log",), "log", glmer=False),
        "beta_family": Family("beta_family", ("logit",), "logit", glmer=False),
        "betabinomial": Family("betabinomial", ("logit",), "logit", glmer=False),
        "truncated_poisson": Family("truncated_poisson", ("log",), "log", glmer=False),
        "truncated_nbinom1": Family("truncated_nbinom1", ("log",), "log", glmer=False),
        "truncated_nbinom2": Family("truncated_nbinom2", ("log",), "log", glmer=False),
        "tweedie": Family("tweedie", ("log",), "log", glmer=False),
        "genpois": Family("genpois", ("log",), "log", glmer=False),
        "compois": Family("compois", ("log",), "log", glmer=False),
        "t_family": Family("t_family", ("identity",), "identity", glmer=False),
        "lognormal": Family("lognormal", ("log",), "log", glmer=False),
        "ziGamma": Family("ziGamma", ("inverse", "log"), "inverse", glmer=False),
    }
)
"""R family name → :class:`Family`."""

QUASI_FAMILIES = frozenset({"quasi", "quasibinomial", "quasipoisson"})

# ---------------------------------------------------------------------------------- control

CONTROL_FUNCTIONS = frozenset({"lmerControl", "glmerControl"})

CONTROL_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "optimizer": "optimizer",
        "restart_edge": "restart_edge",
        "boundary.tol": "boundary_tol",
        "calc.derivs": "calc_derivs",
        "optCtrl": "optCtrl",
    }
)
"""``lmerControl`` settings with an interlace equivalent (R → Python key)."""

GLMER_CONTROL_SETTINGS: Mapping[str, str] = MappingProxyType(
    {"boundary.tol": "boundary_tol", "calc.derivs": "calc_derivs"}
)
"""``glmerControl`` settings with an interlace equivalent (``optimizer`` is checked apart)."""

CONTROL_FORMALS = (
    "optimizer",
    "restart_edge",
    "boundary.tol",
    "calc.derivs",
    "use.last.params",
    "sparseX",
    "standardize.X",
    "check.nobs.vs.rankZ",
    "check.nobs.vs.nlev",
    "check.nlev.gtreq.5",
    "check.nlev.gtr.1",
    "check.nobs.vs.nRE",
    "check.rankX",
    "check.scaleX",
    "check.formula.LHS",
    "check.conv.grad",
    "check.conv.singular",
    "check.conv.hess",
    "optCtrl",
    "mod.type",
    "tolPwrss",
    "compDev",
    "nAGQ0initStep",
    "check.response.not.const",
)

NA_ACTIONS: Mapping[str, str] = MappingProxyType({"na.omit": "omit", "na.fail": "fail"})

CONTRAST_FUNCTIONS = frozenset(
    {"contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS"}
)

CORRELATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "corAR1": ("value", "form", "fixed"),
        "corCAR1": ("value", "form", "fixed"),
        "corCompSymm": ("value", "form", "fixed"),
    }
)
"""nlme correlation structures interlace has, with their R formals."""

VARFUNCS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "varIdent": ("value", "form", "fixed"),
        "varPower": ("value", "form", "fixed"),
        "varExp": ("value", "form", "fixed"),
    }
)
"""nlme variance functions interlace has for ``lme(weights = )``, with their R formals."""

PD_CLASSES = ("pdSymm", "pdDiag")
"""nlme positive-definite classes interlace has for ``lme(random = )``."""

# ---------------------------------------------------------------------------------- accessors


@dataclass(frozen=True)
class Accessor:
    """A function applied to a fitted model.

    Attributes
    ----------
    python : str
        Attribute or method name on the result.
    method : bool
        ``True``: a method call ``fit.name(...)``; ``False``: an attribute ``fit.name``.
    formals : tuple of str
        R's formals after the model (for argument matching).
    args : mapping
        Supported R arguments → Python keyword (``None``: positional).
    ignored : mapping
        R arguments that do not change the value → why.
    models : frozenset
        Model classes for which R has this accessor.
    unavailable : frozenset
        Model classes for which R has it but interlace's result does not (yet).
    overrides : mapping
        Model classes whose result spells it otherwise → (``python``, ``method``).
    """

    python: str
    method: bool = False
    formals: tuple[str, ...] = ("...",)
    args: Mapping[str, str | None] = field(default_factory=dict)
    ignored: Mapping[str, str] = field(default_factory=dict)
    models: frozenset[str] = frozenset({"lmer", "glmer", "glmmTMB", "clmm", "coxme", "lme"})
    unavailable: frozenset[str] = frozenset()
    overrides: Mapping[str, tuple[str, bool]] = field(default_factory=dict)


_MERMOD = frozenset({"lmer", "glmer"})
_NOT_CLMM = frozenset({"lmer", "glmer", "glmmTMB", "coxme", "lme"})

ACCESSORS: Mapping[str, Accessor] = MappingProxyType(
    {
        "fixef": Accessor("fe_params", models=_NOT_CLMM),
        "ranef": Accessor(
            "ranef",
            method=True,
            formals=("condVar", "drop", "whichel", "postVar", "..."),
            args={"condVar": "condVar"},
        ),
        "coef": Accessor("coef", method=True, overrides={"coxme": ("fe_params", False)}),
        "VarCorr": Accessor("varcorr", method=True),
        "sigma": Accessor("sigma", models=frozenset({"lmer", "glmer", "glmmTMB", "lme"})),
        "logLik": Accessor("llf"),
        "AIC": Accessor("aic"),
        "BIC": Accessor("bic"),
        "deviance": Accessor(
            "deviance", models=frozenset({"lmer", "glmer", "glmmTMB", "clmm", "lme"})
        ),
        "nobs": Accessor("nobs"),
        "vcov": Accessor("cov_params", method=True),
        "fitted": Accessor("fittedvalues", models=_NOT_CLMM),
        "isSingular": Accessor("is_singular", formals=("tol",), models=_MERMOD),
        "REMLcrit": Accessor("REMLcrit", models=frozenset({"lmer"})),
        "predict": Accessor(
            "predict",
            method=True,
            formals=(
                "newdata",
                "newparams",
                "re.form",
                "ReForm",
                "REForm",
                "REform",
                "random.only",
                "terms",
                "type",
                "allow.new.levels",
                "na.action",
                "...",
            ),
            args={
                "newdata": None,
                "re.form": "re_form",
                "type": "type",
                "allow.new.levels": "allow_new_levels",
            },
            models=frozenset({"lmer", "glmer", "glmmTMB", "coxme", "lme"}),
        ),
        "simulate": Accessor(
            "simulate",
            method=True,
            formals=(
                "nsim",
                "seed",
                "use.u",
                "re.form",
                "ReForm",
                "REForm",
                "REform",
                "newdata",
                "newparams",
                "family",
                "allow.new.levels",
                "na.action",
                "...",
            ),
            args={"nsim": None, "seed": "seed"},
            models=frozenset({"lmer", "glmer", "glmmTMB"}),
        ),
        "confint": Accessor(
            "confint",
            method=True,
            formals=(
                "parm",
                "level",
                "method",
                "zeta",
                "nsim",
                "boot.type",
                "FUN",
                "quiet",
                "oldNames",
                "...",
            ),
            args={"method": "method", "level": "level", "nsim": "nsim", "parm": "parm"},
            ignored={"quiet": "only silences R's progress messages"},
            models=frozenset({"lmer", "glmer", "glmmTMB", "clmm"}),
        ),
        "residuals": Accessor(
            "resid",
            formals=("type", "scaled", "..."),
            models=_NOT_CLMM,
            args={"type": "type"},
            overrides={"coxme": ("residuals", True)},
        ),
        "intervals": Accessor(
            "intervals",
            method=True,
            formals=("level", "which", "..."),
            args={"level": "level", "which": "which"},
            models=frozenset({"lme"}),
        ),
    }
)
"""R accessor → :class:`Accessor` (``resid`` is an alias of ``residuals``)."""

ACCESSOR_ALIASES: Mapping[str, str] = MappingProxyType({"resid": "residuals"})

#: The residual types of interlace's coxme results (survival's ``residuals.coxph`` types).
COXME_RESIDUALS = ("martingale", "deviance", "score")

#: coxme's ``predict(fit, type = )`` types.
COXME_PREDICT_TYPES = ("lp", "risk")

#: What ``confint(fit)`` does by default in R, per model class.
CONFINT_DEFAULT_METHOD: Mapping[str, str] = MappingProxyType(
    {
        "lmer": "profile",
        "glmer": "profile",
        "glmmTMB": "Wald",
    }
)

#: The result attribute with R's ``attr(logLik(fit), "df")``, per model class (the df column
#: of ``AIC(fit1, fit2)``).
MODEL_DF: Mapping[str, str] = MappingProxyType(
    {
        "lmer": "df_model",
        "glmer": "df_model",
        "glmmTMB": "df_model",
        "lme": "df_model",
        "clmm": "df_modelwc",
        "coxme": "df_penalized",
    }
)

#: ``fit$name`` components with an interlace attribute, per model class.
COMPONENTS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "clmm": {"beta": "fe_params", "alpha": "thresholds", "Theta": "thresholds"},
        "lme": {"sigma": "sigma", "coefficients": "fe_params"},
        "coxme": {"loglik": "llf"},
    }
)

#: ``summary(fit)$name`` → attribute of the fit (``coefficients`` is the coefficient table).
SUMMARY_PARTS: Mapping[str, str] = MappingProxyType(
    {"sigma": "sigma", "varcor": "variance_components", "logLik": "llf"}
)

#: ``fixef(glmmTMB_fit)$component`` → attribute.
GLMMTMB_PARTS: Mapping[str, str] = MappingProxyType(
    {"cond": "fe_params", "zi": "zi_params", "disp": "disp_params"}
)

#: Options whose only effect is on printing (``options(digits = 4)``).
PRINT_OPTIONS = frozenset({"digits", "width", "scipen", "show.signif.stars", "OutDec"})

#: Packages whose ``library()`` has a meaning for the translation.
LMERTEST = "lmerTest"
