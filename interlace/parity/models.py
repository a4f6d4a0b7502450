"""Model classes the parity harness knows: how each is run in R and in interlace.

The adapters: ``lmer``, ``glmer``, ``glmer.nb`` (lme4), ``clmm`` (ordinal), ``coxme``,
``lme`` (nlme) and ``glmmTMB``.  To add a model class, write a :class:`ModelAdapter` and
register it in :data:`ADAPTERS`.  An adapter provides

* ``function``, ``qualified``, ``packages``: the R function, its qualified name (used both by
  ``match.call`` and to evaluate the call) and the R packages it needs; ``signature``, when
  given, is R text of a function whose formals ``match.call`` uses instead (for a function
  whose formals are ``...``, such as ``glmer.nb``, or whose package may be missing);
* ``tolerance_class``: the row of :data:`interlace.parity.tolerances.DEFAULTS` to use;
* ``arguments``: the formal arguments interlace can reproduce, and ``ignored`` ones that are
  noted but not passed (everything else is refused with a clear error);
* ``fit``: ``(call, data, arguments) -> result``, fitting the model with interlace;
* ``summarize``: ``result -> FitSummary``;
* ``r_summary`` / ``r_design``: names of :class:`~interlace.parity.rbridge.RBridge` methods
  that shape R's fit (R code lives only in the bridge);
* optional ``design`` (``result -> DesignSummary``) and ``objective`` (``(result, θ) ->
  float``) for the design and same-θ levels, with ``r_objective`` naming the bridge method
  that evaluates R's objective at given parameters (lme4's ``devFunOnly`` deviance function,
  ordinal's ``doFit = FALSE`` negative log-likelihood, glmmTMB's ``fit$obj$fn``),
  ``parameters`` (``(call, summary) -> vector``) giving its argument (θ by default; ``(θ, β)``
  for ``glmer`` with ``nAGQ >= 1``; ``(α, β, θ)`` for ``clmm``; glmmTMB's ``par``) and
  ``away`` (``(parameters, summary, design) -> vector``) the second point frozen records
  hold, away from R's optimum;
* optional ``r_ddf`` and ``ddf`` for the denominator-df level: the bridge method giving R's
  coefficient and anova tables (``(fit, anova type) -> (coef, anova)``, needing the R packages
  ``ddf_packages``) and ``(result, methods, anova type) -> (coef, anova)`` giving interlace's,
  in the layouts of :data:`~interlace.parity.schema.DDF_COLUMNS` and
  :data:`~interlace.parity.schema.ANOVA_COLUMNS` (``lme``: nlme's ``tTable`` with method
  ``"nlme"``, and no anova rows);
* ``ddf_by_default``: compare the denominator-df level unless levels are chosen (``lme``,
  whose DF are part of nlme's summary; for ``lmer`` the level is on when the code attaches
  lmerTest);
* optional ``r_arguments``: formal argument → name of the bridge method that evaluates it in R
  (``family = binomial(link = "probit")``, ``subset = Days > 1``,
  ``contrasts = list(f = contr.sum)``), even when the argument names a column
  (``subset = keep``); other arguments that are flags or column names are passed as they are.

The R arguments ``subset``, ``contrasts`` and ``na.action`` mean the same for every model
function (:func:`frame_arguments`): R evaluates ``subset`` with the data in scope and the rows it
keeps are taken from the data frame (and from any weights or offset R evaluated) before
interlace fits; ``contrasts`` becomes interlace's ``contrasts`` mapping (a coding name or a
matrix per variable); ``na.action`` is ``na.omit`` or ``na.exclude`` (the same fit: it only
pads residuals and fitted values) → ``na_action="omit"``, ``na.fail`` → ``"fail"``.

This module never imports rpy2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from interlace._version import __version__
from interlace.parity.calls import ModelCall, ParityCallError
from interlace.parity.cox import coxme_covariance, coxme_summary
from interlace.parity.schema import (
    ANOVA_COLUMNS,
    DDF_COLUMNS,
    CoxLogLik,
    DesignSummary,
    FitSummary,
    LogLik,
    empty_anova,
    ranef_long,
)

#: Resolved interlace arguments: Python values for the formal arguments of the call.
Arguments = Mapping[str, Any]

#: A coefficient table and an anova table with denominator df (schema layouts).
DdfTables = tuple[pd.DataFrame, pd.DataFrame]


def theta_parameters(call: ModelCall, summary: FitSummary) -> list[float]:
    """θ of a fit, the argument of lme4's ``lmer`` deviance function."""
    return [] if summary.theta is None else [float(t) for t in summary.theta]


def theta_away(
    parameters: Sequence[float], summary: FitSummary, design: DesignSummary | None
) -> list[float] | None:
    """lme4's θ (leading the parameters) moved to ``max(lower, θ/2 + 0.3)``, the rest kept."""
    if design is None:
        return None
    off = np.asarray(parameters, dtype=float).copy()
    k = design.lower.size
    off[:k] = np.maximum(design.lower, 0.5 * off[:k] + 0.3)
    return off.tolist()


_NA_ACTIONS = MappingProxyType({"na.omit": "omit", "na.exclude": "omit", "na.fail": "fail"})


def frame_arguments(
    call: ModelCall, data: pd.DataFrame, args: Arguments
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The data after ``subset``, and the interlace keywords of ``contrasts`` and ``na.action``.

    Returns
    -------
    data : pandas.DataFrame
        ``data`` itself, or a new frame of the rows ``subset`` keeps (in R's order).
    keywords : dict
        ``contrasts`` and ``na_action`` for interlace's model functions, and ``weights`` and
        ``offset`` restricted to the kept rows when R evaluated them to a vector.

    Raises
    ------
    ParityCallError
        For ``na.action = na.pass``, which interlace does not have.
    """
    keywords: dict[str, Any] = {}
    rows = args.get("subset")
    if rows is not None:
        positions = np.asarray(rows, dtype=np.int64) - 1
        data = data.iloc[positions]
        for name in ("weights", "offset"):
            value = args.get(name)
            if isinstance(value, np.ndarray) and value.ndim == 1 and value.size > 1:
                keywords[name] = value[positions]
    if args.get("contrasts") is not None:
        keywords["contrasts"] = {str(k): _contrast(v) for k, v in dict(args["contrasts"]).items()}
    action = args.get("na.action")
    if action is not None:
        if str(action) not in _NA_ACTIONS:
            raise ParityCallError(
                f"{call.label}: na.action = {action} has no interlace equivalent",
                remedy="use na.omit, na.exclude or na.fail",
            )
        keywords["na_action"] = _NA_ACTIONS[str(action)]
    return data, keywords


def _contrast(entry: Mapping[str, Any]) -> Any:
    """One entry of :meth:`RBridge.evaluate_contrasts` as interlace's ``contrasts`` value."""
    if "coding" in entry:
        return str(entry["coding"])
    matrix = np.asarray(entry["matrix"], dtype=float)
    names = list(entry.get("colnames") or [])
    return pd.DataFrame(matrix, columns=names) if names else matrix


#: Bridge methods for the arguments every model function shares.
FRAME_R_ARGUMENTS: Mapping[str, str] = MappingProxyType(
    {
        "subset": "evaluate_subset",
        "contrasts": "evaluate_contrasts",
        "na.action": "evaluate_na_action",
    }
)
FRAME_ARGUMENTS = frozenset(FRAME_R_ARGUMENTS)


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
    r_objective: str | None = None
    parameters: Callable[[ModelCall, FitSummary], list[float]] = theta_parameters
    away: Callable[[Sequence[float], FitSummary, DesignSummary | None], list[float] | None] = (
        theta_away
    )
    signature: str | None = None
    r_arguments: Mapping[str, str] = field(default_factory=dict)
    ddf_packages: tuple[str, ...] = ()
    r_ddf: str | None = None
    ddf: Callable[[Any, Sequence[str], int], DdfTables] | None = None
    ddf_by_default: bool = False

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

    data, keywords = frame_arguments(call, data, args)
    return lmer(
        call.formula,
        data,
        REML=bool(args.get("REML", True)),
        **{"weights": args.get("weights"), "offset": args.get("offset"), **keywords},
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
    arguments=frozenset({"formula", "data", "REML", "weights", "offset"}) | FRAME_ARGUMENTS,
    ignored=frozenset({"control", "verbose"}),
    fit=_fit_lmer,
    summarize=lambda result: _summarize_merMod(result, "lmer"),
    r_summary="summarize_merMod",
    r_design="design_merMod",
    design=_design_merMod,
    objective=_objective_lmer,
    r_objective="deviance_at",
    r_arguments=FRAME_R_ARGUMENTS,
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
    data, keywords = frame_arguments(call, data, args)
    return glmer(
        call.formula,
        data,
        family=make_family(str(family["family"]), str(family["link"])),
        nAGQ=_nAGQ(args.get("nAGQ")),
        **{"weights": args.get("weights"), "offset": args.get("offset"), **keywords},
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
    arguments=frozenset({"formula", "data", "family", "nAGQ", "weights", "offset"})
    | FRAME_ARGUMENTS,
    ignored=frozenset({"control", "verbose"}),
    fit=_fit_glmer,
    summarize=lambda result: _summarize_merMod(result, "glmer"),
    r_summary="summarize_merMod",
    r_design="design_merMod",
    design=_design_merMod,
    objective=_objective_glmer,
    r_objective="deviance_at",
    parameters=_glmer_parameters,
    r_arguments=MappingProxyType({"family": "evaluate_family", **FRAME_R_ARGUMENTS}),
)

# --- glmer.nb ---------------------------------------------------------------------------------


def _fit_glmer_nb(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.glmer_nb import glmer_nb

    data, keywords = frame_arguments(call, data, args)
    return glmer_nb(
        call.formula,
        data,
        nAGQ=_nAGQ(args.get("nAGQ")),
        **{"weights": args.get("weights"), "offset": args.get("offset"), **keywords},
    )


def _summarize_glmer_nb(result: Any) -> FitSummary:
    summary = _summarize_merMod(result, "glmer.nb")
    return dataclasses.replace(summary, nb_theta=float(result.nb_theta))


#: ``glmer.nb``'s formals are ``...`` (passed on to ``glmer``) and its own; ``match.call``
#: needs names, so calls are matched against this signature.
GLMER_NB_SIGNATURE = (
    "function(formula, data = NULL, control, start, verbose, nAGQ = 1L, subset, weights, "
    "na.action, offset, contrasts = NULL, mustart, etastart, interval, tol, nb.control, "
    "initCtrl) NULL"
)

GLMER_NB = ModelAdapter(
    function="glmer.nb",
    qualified="lme4::glmer.nb",
    packages=("lme4", "MASS"),
    tolerance_class="glmm",
    arguments=frozenset({"formula", "data", "nAGQ", "weights", "offset"}) | FRAME_ARGUMENTS,
    ignored=frozenset({"control", "verbose"}),
    fit=_fit_glmer_nb,
    summarize=_summarize_glmer_nb,
    r_summary="summarize_glmer_nb",
    r_design="design_merMod",
    design=_design_merMod,
    r_arguments=FRAME_R_ARGUMENTS,
    signature=GLMER_NB_SIGNATURE,
)

# --- clmm ---------------------------------------------------------------------------------------


def _fit_clmm(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.clmm import clmm

    data, keywords = frame_arguments(call, data, args)
    return clmm(
        call.formula,
        data,
        link=args.get("link", "logit"),
        threshold=args.get("threshold", "flexible"),
        nAGQ=_nAGQ(args.get("nAGQ")),
        **{"weights": args.get("weights"), **keywords},
    )


def _summarize_clmm(result: Any) -> FitSummary:
    """The :class:`FitSummary` of a ``ClmmResult`` (ordinal's quantities)."""
    return FitSummary(
        model_class="clmm",
        fixef=result.fe_params.astype(float),
        se=result.coef_table["Std. Error"].astype(float),
        loglik=LogLik(float(result.llf), int(result.df_modelwc), int(result.nobs)),
        theta=pd.Series(np.asarray(result.theta, dtype=float)),
        varcorr=result.varcorr(),
        ranef=ranef_long(result.ranef()),
        converged=bool(result.converged),
        thresholds=result.thresholds.astype(float),
        warnings=tuple(str(w) for w in result.warnings),
        versions={"interlace": __version__},
    )


def _clmm_parameters(call: ModelCall, summary: FitSummary) -> list[float]:
    """``(α, β, θ)``: thresholds, fixed effects and lme4's θ of the covariance factor."""
    alpha = [] if summary.thresholds is None else [float(a) for a in summary.thresholds]
    return alpha + [float(b) for b in summary.fixef] + theta_parameters(call, summary)


def _clmm_away(
    parameters: Sequence[float], summary: FitSummary, design: DesignSummary | None
) -> list[float]:
    """θ moved to ``θ/2 + 0.3`` (standard deviations stay positive), α and β kept."""
    off = np.asarray(parameters, dtype=float).copy()
    n = 0 if summary.theta is None else len(summary.theta)
    off[off.size - n :] = 0.5 * off[off.size - n :] + 0.3
    return off.tolist()


def theta_to_st(theta: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """ordinal's ``ST`` parameters from lme4's θ (the inverse of ``st_to_theta``).

    Each term's θ is its factor's lower triangle by columns; ordinal's parameters are the
    factor's diagonal, then its strict lower triangle by columns (``ST2par``).
    """
    out, pos = [], 0
    for k in sizes:
        n = k * (k + 1) // 2
        factor = np.zeros((k, k))
        cols, rows = np.triu_indices(k)  # (col, row) pairs with row >= col, by columns
        factor[rows, cols] = theta[pos : pos + n]
        strict = rows != cols
        out.append(np.r_[np.diag(factor), factor[rows[strict], cols[strict]]])
        pos += n
    return np.concatenate(out) if out else np.zeros(0)


def _objective_clmm(result: Any, parameters: Sequence[float]) -> float:
    """interlace's clmm objective (negative log-likelihood) at ``(α, β, θ)``."""
    from interlace.api.clmm import clmm_objective

    objective, _ = clmm_objective(result.design, result.link, result.nAGQ)
    pars = np.asarray(parameters, dtype=float)
    n_fe = objective.n_alpha + objective.p
    theta = pars[n_fe:]
    st = np.log(theta) if objective.log_sd else theta_to_st(theta, [t.k for t in objective.terms])
    return float(objective(np.r_[pars[:n_fe], st]))


CLMM = ModelAdapter(
    function="clmm",
    qualified="ordinal::clmm",
    packages=("ordinal",),
    tolerance_class="clmm",
    arguments=frozenset({"formula", "data", "link", "threshold", "nAGQ", "weights"})
    | FRAME_ARGUMENTS,
    ignored=frozenset({"Hess", "model", "control"}),
    fit=_fit_clmm,
    summarize=_summarize_clmm,
    r_summary="summarize_clmm",
    objective=_objective_clmm,
    r_objective="clmm_objective_at",
    parameters=_clmm_parameters,
    away=_clmm_away,
    r_arguments=MappingProxyType(
        {"link": "evaluate_string", "threshold": "evaluate_string", **FRAME_R_ARGUMENTS}
    ),
)

# --- coxme --------------------------------------------------------------------------------------


def _fit_coxme(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.coxme import coxme

    return coxme(call.formula, data, ties=args.get("ties", "efron"), weights=args.get("weights"))


def _summarize_coxme(result: Any) -> FitSummary:
    """The :class:`FitSummary` of a ``CoxmeResult`` (see :mod:`interlace.parity.cox`).

    ``variance_components`` is coxme's ``VarCorr`` (correlations off the diagonal) and
    ``random_effects`` its ``ranef`` (levels in coxme's order).
    """
    blocks = result.variance_components
    names = {
        str(g): [str(c) for c in v.columns] if isinstance(v, pd.DataFrame) else []
        for g, v in blocks.items()
    }
    ranef = {str(g): np.asarray(v, dtype=float) for g, v in result.random_effects.items()}
    return coxme_summary(
        model_class="coxme",
        fixef=result.fe_params,
        se=result.bse,
        loglik=CoxLogLik(float(result.llf_null), float(result.llf), float(result.llf_penalized)),
        events=int(result.nobs),
        varcorr={str(g): coxme_covariance(v) for g, v in blocks.items()},
        names=names,
        ranef_first={g: v.reshape(v.shape[0], -1) for g, v in ranef.items()},
        versions={"interlace": __version__},
    )


#: coxme's formals (coxme 2.2-22), so that calls parse where coxme is not installed.
COXME_SIGNATURE = (
    "function(formula, data, weights, subset, na.action, init, control, "
    'ties = c("efron", "breslow"), varlist, vfixed, vinit, x = FALSE, y = TRUE, '
    "refine.n = 0, random, fixed, variance, ...) NULL"
)

COXME = ModelAdapter(
    function="coxme",
    qualified="coxme::coxme",
    packages=("coxme", "survival"),
    tolerance_class="cox",
    arguments=frozenset({"formula", "data", "ties", "weights"}),
    ignored=frozenset({"x", "y"}),
    fit=_fit_coxme,
    summarize=_summarize_coxme,
    r_summary="summarize_coxme",
    r_arguments=MappingProxyType({"ties": "evaluate_string"}),
    signature=COXME_SIGNATURE,
)

# --- lme ----------------------------------------------------------------------------------------


def lme_random(spec: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """interlace's ``random`` from :meth:`RBridge.evaluate_random`: grouping factor → pdMat.

    The levels keep R's order (outer first), which is how :func:`interlace.lme` reads a
    mapping with several keys; ``~ x | g`` becomes ``{"g": pdSymm("~x")}``, the same model.
    """
    from interlace.pdmat import PdMat

    return {str(g): PdMat(str(level["formula"]), str(level["kind"])) for g, level in spec.items()}


def lme_correlation(call: ModelCall, spec: Mapping[str, Any] | None) -> Any:
    """interlace's correlation structure from :meth:`RBridge.evaluate_correlation`.

    Raises
    ------
    ParityCallError
        For a structure other than ``corAR1``, ``corCAR1`` and ``corCompSymm``, or a parameter
        held fixed (``fixed = TRUE``).
    """
    from interlace import correlation

    if spec is None:
        return None
    constructors = {
        "corAR1": correlation.corAR1,
        "corCAR1": correlation.corCAR1,
        "corCompSymm": correlation.corCompSymm,
    }
    make = _nlme_structure(
        call, spec, "correlation", constructors, "holds its parameter fixed", "drop fixed = TRUE"
    )
    return make(str(spec["form"]), float(spec["value"]))


def lme_weights(call: ModelCall, spec: Mapping[str, Any] | None) -> Any:
    """interlace's variance function from :meth:`RBridge.evaluate_varfunc`.

    nlme's starting values (``value``) are not passed: interlace starts every variance function
    at δ = 0, nlme's default start.

    Raises
    ------
    ParityCallError
        For a class other than ``varIdent``, ``varPower`` and ``varExp`` (``varFixed``,
        ``varConstPower``, ``varComb``), or parameters held fixed (``fixed =``).
    """
    from interlace import varfunc

    if spec is None:
        return None
    constructors = {
        "varIdent": varfunc.varIdent,
        "varPower": varfunc.varPower,
        "varExp": varfunc.varExp,
    }
    make = _nlme_structure(
        call, spec, "weights", constructors, "holds parameters fixed", "drop fixed ="
    )
    return make(str(spec["form"]))


def _nlme_structure(
    call: ModelCall,
    spec: Mapping[str, Any],
    argument: str,
    constructors: Mapping[str, Callable[..., Any]],
    fixed: str,
    remedy: str,
) -> Callable[..., Any]:
    """interlace's constructor for the nlme structure R read for ``argument`` (its ``class``).

    Raises :class:`ParityCallError` for a class without an interlace equivalent, or when
    ``spec["fixed"]`` (parameters held fixed: ``fixed`` says how, ``remedy`` what to drop).
    """
    text = call.args.get(argument, "")
    if spec["class"] not in constructors:
        raise ParityCallError(
            f"{call.label}: {argument} = {text} ({spec['class']}) has no interlace equivalent",
            remedy="supported: " + ", ".join(constructors),
        )
    if spec["fixed"]:
        raise ParityCallError(
            f"{call.label}: {argument} = {text} {fixed}, which interlace does not do",
            remedy=remedy,
        )
    return constructors[spec["class"]]


_LME_METHODS: Mapping[str, Literal["REML", "ML"]] = MappingProxyType({"REML": "REML", "ML": "ML"})


def _fit_lme(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.lme import lme

    random = args.get("random")
    if random is None:
        raise ParityCallError(
            f"{call.label}: lme() without random takes its grouping from a groupedData object, "
            "which the harness does not pass to R",
            remedy="give random = ~ x | g",
        )
    method = str(args.get("method", "REML"))
    if method not in _LME_METHODS:
        raise ParityCallError(f"{call.label}: method = {method} is not REML or ML")
    data, keywords = frame_arguments(call, data, args)
    return lme(
        call.require("fixed"),
        data,
        random=lme_random(random),
        correlation=lme_correlation(call, args.get("correlation")),
        weights=lme_weights(call, args.get("weights")),
        method=_LME_METHODS[method],
        **keywords,
    )


def _summarize_lme(result: Any) -> FitSummary:
    """The :class:`FitSummary` of an ``LmeResult`` (see :meth:`RBridge.summarize_lme`)."""
    cor = result.correlation_params.astype(float)
    varfunc = result.varfunc_params.astype(float)
    return FitSummary(
        model_class="lme",
        fixef=result.fe_params.astype(float),
        se=result.bse.astype(float),
        loglik=LogLik(float(result.llf), int(result.df_model), int(result.nobs)),
        sigma=float(result.sigma),
        reml=result.method == "REML",
        varcorr=result.varcorr(),
        ranef=ranef_long(result.ranef()),
        converged=bool(result.converged),
        correlation_params=cor if len(cor) else None,
        varfunc_params=varfunc if len(varfunc) else None,
        warnings=tuple(str(w) for w in result.warnings),
        versions={"interlace": __version__, "optimizer": str(result.optinfo.optimizer)},
    )


def _ddf_lme(result: Any, methods: Sequence[str], anova_type: int) -> DdfTables:
    """``coef_table()`` (nlme's ``tTable``) as method ``"nlme"``; no anova rows."""
    table = result.coef_table()
    coef = pd.DataFrame(
        {
            "method": "nlme",
            "term": [str(t) for t in table.index],
            "se": table["Std.Error"].to_numpy(float),
            "df": table["DF"].to_numpy(float),
            "t": table["t-value"].to_numpy(float),
            "p": table["p-value"].to_numpy(float),
        },
        columns=list(DDF_COLUMNS),
    )
    return coef, empty_anova()


LME = ModelAdapter(
    function="lme",
    qualified="nlme::lme",
    packages=("nlme",),
    tolerance_class="lme",
    arguments=frozenset({"fixed", "data", "random", "correlation", "weights", "method"})
    | FRAME_ARGUMENTS,
    ignored=frozenset({"control", "keep.data"}),
    fit=_fit_lme,
    summarize=_summarize_lme,
    r_summary="summarize_lme",
    r_arguments=MappingProxyType(
        {
            "random": "evaluate_random",
            "correlation": "evaluate_correlation",
            "weights": "evaluate_varfunc",
            "method": "evaluate_string",
            **FRAME_R_ARGUMENTS,
        }
    ),
    r_ddf="ddf_lme",
    ddf=_ddf_lme,
    ddf_by_default=True,
)

# --- glmmTMB ------------------------------------------------------------------------------------


def _fit_glmmTMB(call: ModelCall, data: pd.DataFrame, args: Arguments) -> Any:
    from interlace.api.glmmtmb import glmmTMB
    from interlace.families.tmb_family import tmb_family

    family = args.get("family")
    data, keywords = frame_arguments(call, data, args)
    return glmmTMB(
        call.formula,
        data,
        family="gaussian"
        if family is None
        else tmb_family(str(family["family"]), str(family["link"])),
        ziformula=str(args.get("ziformula", "~0")),
        dispformula=str(args.get("dispformula", "~1")),
        REML=bool(args.get("REML", False)),
        **{"weights": args.get("weights"), "offset": args.get("offset"), **keywords},
    )


def _tmb_theta_names(result: Any) -> list[str]:
    """glmmTMB's names of θ: ``theta``, ``theta.1``, ... then ``thetazi``, ... (``make.unique``)."""
    names: list[str] = []
    for label, n in (("theta", len(result.theta)), ("thetazi", len(result.theta_zi))):
        names += [label if i == 0 else f"{label}.{i}" for i in range(n)]
    return names


def _summarize_glmmTMB(result: Any) -> FitSummary:
    """The :class:`FitSummary` of a ``GlmmTMBResult`` (see :meth:`RBridge.summarize_glmmTMB`)."""
    blocks = [result.cov_params(c) for c in ("cond", "zi", "disp")]
    se = pd.concat([pd.Series(np.sqrt(np.diag(b.to_numpy())), index=b.index) for b in blocks])
    return FitSummary(
        model_class="glmmTMB",
        fixef=result.fe_params.astype(float),
        se=se.astype(float),
        loglik=LogLik(float(result.llf), int(result.df), int(result.nobs)),
        theta=pd.Series(
            np.r_[result.theta, result.theta_zi], index=_tmb_theta_names(result), dtype=float
        ),
        sigma=float(result.sigma) if np.isfinite(result.sigma) else None,
        reml=bool(result.REML),
        varcorr=result.varcorr(),
        ranef=ranef_long(result.ranef()),
        converged=bool(result.converged),
        zi=result.zi_params.astype(float),
        disp=result.disp_params.astype(float),
        warnings=tuple(str(w) for w in result.warnings),
        versions={"interlace": __version__, "optimizer": str(result.optinfo.optimizer)},
    )


def _tmb_parameters(call: ModelCall, summary: FitSummary) -> list[float]:
    """glmmTMB's ``par``: ``beta`` (not under REML), ``betazi``, ``betad``, ``theta``,
    ``thetazi``."""
    parts = [] if summary.reml else [summary.fixef]
    parts += [s for s in (summary.zi, summary.disp, summary.theta) if s is not None]
    return [float(v) for part in parts for v in part]


def _tmb_away(
    parameters: Sequence[float], summary: FitSummary, design: DesignSummary | None
) -> list[float]:
    """θ (log SDs, correlation parameters: unbounded) moved to ``θ/2 + 0.3``, the rest kept."""
    off = np.asarray(parameters, dtype=float).copy()
    n = 0 if summary.theta is None else len(summary.theta)
    off[off.size - n :] = 0.5 * off[off.size - n :] + 0.3
    return off.tolist()


def _objective_glmmTMB(result: Any, parameters: Sequence[float]) -> float:
    """interlace's Laplace ``−log L`` (TMB's ``obj$fn``) at glmmTMB's ``par``."""
    from interlace.engine.tmb_laplace import TmbLaplace

    return float(TmbLaplace(result.data)(np.asarray(parameters, dtype=float)))


#: glmmTMB's formals have no ``subset``; its ``ziformula``/``dispformula`` are evaluated in R
#: (``zi = ~mined`` is matched to ``ziformula`` by ``match.call``) and deparsed.
GLMMTMB = ModelAdapter(
    function="glmmTMB",
    qualified="glmmTMB::glmmTMB",
    packages=("glmmTMB",),
    tolerance_class="glmm",
    arguments=frozenset(
        {
            "formula",
            "data",
            "family",
            "ziformula",
            "dispformula",
            "REML",
            "weights",
            "offset",
            "contrasts",
            "na.action",
        }
    ),
    ignored=frozenset({"control", "verbose", "se", "sparseX"}),
    fit=_fit_glmmTMB,
    summarize=_summarize_glmmTMB,
    r_summary="summarize_glmmTMB",
    objective=_objective_glmmTMB,
    r_objective="tmb_objective_at",
    parameters=_tmb_parameters,
    away=_tmb_away,
    r_arguments=MappingProxyType(
        {
            "family": "evaluate_family",
            "ziformula": "evaluate_formula",
            "dispformula": "evaluate_formula",
            "contrasts": "evaluate_contrasts",
            "na.action": "evaluate_na_action",
        }
    ),
)

ADAPTERS: Mapping[str, ModelAdapter] = MappingProxyType(
    {
        "lmer": LMER,
        "glmer": GLMER,
        "glmer.nb": GLMER_NB,
        "clmm": CLMM,
        "coxme": COXME,
        "lme": LME,
        "glmmTMB": GLMMTMB,
    }
)


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
    """Bare R function name → R text of the function ``match.call`` matches its calls with."""
    return {name: a.signature or a.qualified for name, a in ADAPTERS.items()}
