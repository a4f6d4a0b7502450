"""Model classes the parity harness knows: how each is run in R and in interlace.

To add a model class (``glmer``, ``clmm``, ``coxme``, ...), write a :class:`ModelAdapter` and
register it in :data:`ADAPTERS`.  An adapter provides

* ``function``, ``qualified``, ``packages``: the R function, its qualified name (used both by
  ``match.call`` and to evaluate the call) and the R packages it needs;
* ``tolerance_class``: the row of :data:`interlace.parity.tolerances.DEFAULTS` to use;
* ``arguments``: the formal arguments interlace can reproduce, and ``ignored`` ones that are
  noted but not passed (everything else is refused with a clear error);
* ``fit``: ``(call, data, arguments) -> result``, fitting the model with interlace;
* ``summarize``: ``result -> FitSummary``;
* ``r_summary`` / ``r_design``: names of :class:`~interlace.parity.rbridge.RBridge` methods
  that shape R's fit (R code lives only in the bridge);
* optional ``design`` (``result -> DesignSummary``) and ``objective`` (``(result, θ) ->
  float``) for the design and same-θ levels, with ``r_devfun`` telling whether R's function has
  ``devFunOnly``, and ``parameters`` (``(call, summary) -> vector``) giving the argument of
  that deviance function (θ by default; ``(θ, β)`` for ``glmer`` with ``nAGQ >= 1``);
* optional ``r_ddf`` and ``ddf`` for the denominator-df level: the bridge method giving R's
  coefficient and anova tables (``(fit, anova type) -> (coef, anova)``, needing the R packages
  ``ddf_packages``) and ``(result, methods, anova type) -> (coef, anova)`` giving interlace's,
  in the layouts of :data:`~interlace.parity.schema.DDF_COLUMNS` and
  :data:`~interlace.parity.schema.ANOVA_COLUMNS`;
* optional ``r_arguments``: formal argument → name of the bridge method that evaluates it in R
  when it is not a plain number or vector (``family = binomial(link = "probit")``).

This module never imports rpy2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from interlace._version import __version__
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.schema import (
    ANOVA_COLUMNS,
    DDF_COLUMNS,
    DesignSummary,
    FitSummary,
    LogLik,
    ranef_long,
)

#: Resolved interlace arguments: Python values for the formal arguments of the call.
Arguments = Mapping[str, Any]

#: A coefficient table and an anova table with denominator df (schema layouts).
DdfTables = tuple[pd.DataFrame, pd.DataFrame]


def theta_parameters(call: ModelCall, summary: FitSummary) -> list[float]:
    """θ of a fit, the argument of lme4's ``lmer`` deviance function."""
    return [] if summary.theta is None else [float(t) for t in summary.theta]


@dataclass(frozen=True)
class ModelAdapter:
    """How the harness runs one R model function on both sides (see the module docstring)."""

    function: str
    qualified: str
    packages: tuple[str, ...]
    tolerance_class: str
    arguments: frozenset[str]
    ignored: frozenset[str]
    fit: Callable[[ModelCall, pd.DataFrame, Arguments], Any]
    summarize: Callable[[Any], FitSummary]
    r_summary: str
    r_design: str | None = None
    design: Callable[[Any], DesignSummary] | None = None
    objective: Callable[[Any, Sequence[float]], float] | None = None
    r_devfun: bool = False
    parameters: Callable[[ModelCall, FitSummary], list[float]] = theta_parameters
    r_arguments: Mapping[str, str] = field(default_factory=dict)
    ddf_packages: tuple[str, ...] = ()
    r_ddf: str | None = None
    ddf: Callable[[Any, Sequence[str], int], DdfTables] | None = None

    def check_arguments(self, call: ModelCall) -> list[str]:
        """Notes for ignored arguments.

        Raises
        ------
        ParityCallError
            For an argument interlace cannot reproduce yet.
        """
        unknown = [a for a in call.args if a not in self.arguments | self.ignored]
        if unknown:
            raise ParityCallError(
                f"{call.label}: argument(s) {', '.join(unknown)} of {self.function}() are not "
                "supported by the parity harness yet",
                remedy="supported: " + ", ".join(sorted(self.arguments)),
            )
        return [
            f"argument {a} = {call.args[a]} is not passed to interlace (compared as if absent)"
            for a in call.args
            if a in self.ignored
        ]


def _summarize_merMod(result: Any, model_class: str) -> FitSummary:
    """The :class:`FitSummary` of an ``lmer`` or ``glmer`` result (the schema is lme4's)."""
    llf = float(result.llf)
    df = round((float(result.aic) + 2.0 * llf) / 2.0)
    optinfo = result.optinfo
    messages = tuple(str(m) for m in getattr(optinfo, "warnings", ()) or ())
    return FitSummary(
        model_class=model_class,
        fixef=result.fe_params.astype(float),
        se=result.bse.astype(float),
        loglik=LogLik(llf, int(df), int(result.nobs)),
        theta=pd.Series(np.asarray(result.theta, dtype=float)),
        sigma=float(result.sigma),
        reml=bool(result.REML),
        varcorr=result.varcorr(),
        ranef=ranef_long(result.ranef()),
        is_singular=bool(result.is_singular),
        converged=bool(result.converged),
        messages=messages,
        warnings=tuple(str(w) for w in result.warnings),
        versions={"interlace": __version__, "optimizer": str(optinfo.optimizer)},
    )


def _design_merMod(result: Any) -> DesignSummary:
    design = result.design
    return DesignSummary(
        X=np.asarray(design.X, dtype=float),
        X_names=tuple(design.X_names),
        Zt=design.Zt,
        Lind=np.asarray(design.Lind),
        lower=np.asarray(design.lower, dtype=float),
        cnms=tuple((str(g), tuple(names)) for g, names in design.cnms),
    )


# --- lmer -------------------------------------------------------------------------------------


def _fit_lmer(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.lmer import lmer

    return lmer(
        call.formula,
        data,
        REML=bool(args.get("REML", True)),
        weights=args.get("weights"),
        offset=args.get("offset"),
    )


def _objective_lmer(result: Any, theta: Sequence[float]) -> float:
    from interlace.api.lmer import lmer_objective

    return float(lmer_objective(result.design, REML=result.REML)(np.asarray(theta, dtype=float)))


def _ddf_lmer(result: Any, methods: Sequence[str], anova_type: int) -> DdfTables:
    """``coef_table(ddf=method)`` and ``anova(type=anova_type, ddf=method)`` for each method."""
    coef, tests = [], []
    for method in methods:
        table = result.coef_table(ddf=method)
        coef.append(
            pd.DataFrame(
                {
                    "method": method,
                    "term": [str(t) for t in table.index],
                    "se": table["Std. Error"].to_numpy(float),
                    "df": table["df"].to_numpy(float),
                    "t": table["t value"].to_numpy(float),
                    "p": table["Pr(>|t|)"].to_numpy(float),
                },
                columns=list(DDF_COLUMNS),
            )
        )
        anova = result.anova(type=anova_type, ddf=method)
        tests.append(
            pd.DataFrame(
                {
                    "method": method,
                    "type": float(anova_type),
                    "term": [str(t) for t in anova.index],
                    "NumDF": anova["NumDF"].to_numpy(float),
                    "DenDF": anova["DenDF"].to_numpy(float),
                    "F": anova["F value"].to_numpy(float),
                    "p": anova["Pr(>F)"].to_numpy(float),
                },
                columns=list(ANOVA_COLUMNS),
            )
        )
    return pd.concat(coef, ignore_index=True), pd.concat(tests, ignore_index=True)


LMER = ModelAdapter(
    function="lmer",
    qualified="lme4::lmer",
    packages=("lme4",),
    tolerance_class="lmm",
    arguments=frozenset({"formula", "data", "REML", "weights", "offset"}),
    ignored=frozenset({"control", "verbose"}),
    fit=_fit_lmer,
    summarize=lambda result: _summarize_merMod(result, "lmer"),
    r_summary="summarize_merMod",
    r_design="design_merMod",
    design=_design_merMod,
    objective=_objective_lmer,
    r_devfun=True,
    ddf_packages=("lmerTest", "pbkrtest"),
    r_ddf="ddf_merMod",
    ddf=_ddf_lmer,
)

# --- glmer ------------------------------------------------------------------------------------


def _nAGQ(value: Any) -> int:
    """``nAGQ`` as R evaluated it (a number, or a length-1 vector)."""
    return 1 if value is None else int(np.asarray(value, dtype=float).ravel()[0])


def _fit_glmer(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.glmer import glmer
    from interlace.families import make_family

    family = args.get("family")
    if family is None:
        raise ParityCallError(
            f"{call.label}: glmer() without a family is a linear mixed model",
            remedy="use lmer(), or give the family",
        )
    return glmer(
        call.formula,
        data,
        family=make_family(str(family["family"]), str(family["link"])),
        nAGQ=_nAGQ(args.get("nAGQ")),
        weights=args.get("weights"),
        offset=args.get("offset"),
    )


def _glmer_parameters(call: ModelCall, summary: FitSummary) -> list[float]:
    """θ for ``nAGQ = 0``, else ``(θ, β)``: the argument of lme4's glmer deviance function."""
    theta = theta_parameters(call, summary)
    if call.args.get("nAGQ", "1").strip() in {"0", "0L"}:
        return theta
    return theta + [float(b) for b in summary.fixef]


def _objective_glmer(result: Any, parameters: Sequence[float]) -> float:
    """interlace's glmer deviance function in the state lme4's ``devFunOnly`` returns it.

    lme4's Laplace/AGQ deviance function starts each PIRLS from the linear predictor of the
    stage-1 optimum, and its value depends on that start at the level of PIRLS's tolerance
    (~1e-4 for cbpp); the stage-1 optimum is the best θ-only evaluation in the fit's log.
    """
    from interlace.api.glmer import glmer_deviance

    dev = glmer_deviance(result.design, result.response, result.nAGQ)
    if result.nAGQ > 0:
        n_theta = len(result.theta)
        stage1 = [e for e in result.optinfo.fitlog if len(e[0]) == n_theta]
        dev.stage0(np.asarray(min(stage1, key=lambda e: e[1])[0], dtype=float))
        dev.start_stage2()
    pars = np.asarray(parameters, dtype=float)
    return float(dev.stage0(pars) if result.nAGQ == 0 else dev(pars))


GLMER = ModelAdapter(
    function="glmer",
    qualified="lme4::glmer",
    packages=("lme4",),
    tolerance_class="glmm",
    arguments=frozenset({"formula", "data", "family", "nAGQ", "weights", "offset"}),
    ignored=frozenset({"control", "verbose"}),
    fit=_fit_glmer,
    summarize=lambda result: _summarize_merMod(result, "glmer"),
    r_summary="summarize_merMod",
    r_design="design_merMod",
    design=_design_merMod,
    objective=_objective_glmer,
    r_devfun=True,
    parameters=_glmer_parameters,
    r_arguments=MappingProxyType({"family": "evaluate_family"}),
)

ADAPTERS: Mapping[str, ModelAdapter] = MappingProxyType({"lmer": LMER, "glmer": GLMER})


def adapter_for(function: str) -> ModelAdapter:
    """The adapter of an R model function.

    Raises
    ------
    ParityCallError
        If the harness does not support the function yet.
    """
    try:
        return ADAPTERS[function]
    except KeyError:
        raise ParityCallError(
            f"{function}() is not supported by the parity harness yet",
            remedy="supported: " + ", ".join(ADAPTERS),
        ) from None


def r_functions() -> dict[str, str]:
    """Bare → qualified R function names of all adapters (for parsing R code)."""
    return {name: a.qualified for name, a in ADAPTERS.items()}
