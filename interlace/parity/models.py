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
  ``devFunOnly``.

This module never imports rpy2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from interlace._version import __version__
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.schema import DesignSummary, FitSummary, LogLik, ranef_long

#: Resolved interlace arguments: Python values for the formal arguments of the call.
Arguments = Mapping[str, Any]


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


def _summarize_lmer(result: Any) -> FitSummary:
    llf = float(result.llf)
    df = round((float(result.aic) + 2.0 * llf) / 2.0)
    optinfo = result.optinfo
    messages = tuple(str(m) for m in getattr(optinfo, "warnings", ()) or ())
    return FitSummary(
        model_class="lmer",
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


def _design_lmer(result: Any) -> DesignSummary:
    design = result.design
    return DesignSummary(
        X=np.asarray(design.X, dtype=float),
        X_names=tuple(design.X_names),
        Zt=design.Zt,
        Lind=np.asarray(design.Lind),
        lower=np.asarray(design.lower, dtype=float),
        cnms=tuple((str(g), tuple(names)) for g, names in design.cnms),
    )


def _objective_lmer(result: Any, theta: Sequence[float]) -> float:
    from interlace.api.lmer import lmer_objective

    return float(lmer_objective(result.design, REML=result.REML)(np.asarray(theta, dtype=float)))


LMER = ModelAdapter(
    function="lmer",
    qualified="lme4::lmer",
    packages=("lme4",),
    tolerance_class="lmm",
    arguments=frozenset({"formula", "data", "REML", "weights", "offset"}),
    ignored=frozenset({"control", "verbose"}),
    fit=_fit_lmer,
    summarize=_summarize_lmer,
    r_summary="summarize_merMod",
    r_design="design_merMod",
    design=_design_lmer,
    objective=_objective_lmer,
    r_devfun=True,
)

ADAPTERS: Mapping[str, ModelAdapter] = MappingProxyType({"lmer": LMER})


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
