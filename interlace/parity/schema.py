"""One tidy schema for a fitted mixed model, filled from R or from interlace.

:class:`FitSummary` holds what the parity harness compares: fixed effects and their standard
errors, θ, σ, the log-likelihood with its degrees of freedom and number of observations, the
REML flag, the variance components in the layout of ``as.data.frame(VarCorr(fit))`` and the
conditional modes in the long layout of ``as.data.frame(ranef(fit))``.  Model classes add
optional parts: ``clmm`` thresholds, ``glmmTMB`` zero-inflation and dispersion coefficients,
``glmer.nb``'s negative binomial θ, ``coxme``'s three log-likelihoods (NULL, integrated,
penalised), ``lme``'s within-group correlation parameters and variance-function parameters
and, for linear mixed models, the tables that carry denominator degrees of freedom
(Satterthwaite / Kenward–Roger): the coefficient table of lmerTest's ``summary`` and its
type-3 ``anova`` table, one block per method.

A summary serialises to plain JSON (:meth:`FitSummary.to_dict`, :meth:`FitSummary.from_dict`),
which is the frozen-mode fixture format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

VARCORR_COLUMNS = ("grp", "var1", "var2", "vcov", "sdcor")
RANEF_COLUMNS = ("grpvar", "term", "grp", "condval", "condsd")
DDF_COLUMNS = ("method", "term", "se", "df", "t", "p")
ANOVA_COLUMNS = ("method", "type", "term", "NumDF", "DenDF", "F", "p")


@dataclass(frozen=True)
class LogLik:
    """A log-likelihood as R's ``logLik()`` reports it.

    Attributes
    ----------
    value : float
    df : int
        Number of estimated parameters (``attr(, "df")``).
    nobs : int
        Number of observations (``attr(, "nobs")``).
    """

    value: float
    df: int
    nobs: int


@dataclass(frozen=True)
class CoxLogLik:
    """``coxme``'s log-likelihood triple ``fit$loglik``: NULL, integrated, penalised."""

    null: float
    integrated: float
    penalized: float


@dataclass(frozen=True)
class FitSummary:
    """What the parity harness compares for one fitted model.

    Attributes
    ----------
    model_class : str
        The R function that fits the model (``"lmer"``, ``"glmer"``, ``"clmm"``, ...).
    fixef : pandas.Series
        Fixed effects indexed by R's coefficient names, in R's order.
    se : pandas.Series
        Standard errors by coefficient name: those of ``fixef`` and, for ``clmm``, those of the
        thresholds first (the rows of ordinal's coefficient table).
    loglik : LogLik
    theta : pandas.Series or None
        θ (``getME(fit, "theta")``), indexed by lme4's names where known; for ``glmmTMB``
        the ``theta`` and ``thetazi`` entries of ``fit$fit$par`` (log standard deviations).
    sigma : float or None
        Residual standard deviation where the family has one.
    reml : bool or None
        Whether the criterion is REML.
    varcorr : pandas.DataFrame
        Columns ``grp, var1, var2, vcov, sdcor`` (missing ``var1``/``var2`` are ``None``).
    ranef : pandas.DataFrame
        Columns ``grpvar, term, grp, condval`` and, when known, ``condsd``.
    is_singular, converged : bool or None
    thresholds, zi, disp : pandas.Series or None
        ``clmm`` thresholds (``fit$alpha``); ``glmmTMB`` ``fixef(fit)$zi`` and ``$disp``.
    nb_theta : float or None
        The negative binomial θ of ``glmer.nb`` (``getME(fit, "glmer.nb.theta")``).
    cox_loglik : CoxLogLik or None
    correlation_params : pandas.Series or None
        ``lme``'s residual correlation parameters, ``coef(fit$modelStruct$corStruct,
        unconstrained = FALSE)`` (``Phi`` of ``corAR1``/``corCAR1``, ``Rho`` of
        ``corCompSymm``); ``None`` without a correlation structure.
    varfunc_params : pandas.Series or None
        ``lme``'s variance-function parameters, ``coef(fit$modelStruct$varStruct,
        unconstrained = FALSE, allCoef = TRUE)``: the standard-deviation ratios of
        ``varIdent`` by stratum (the reference stratum's is 1), ``power`` of ``varPower``,
        ``expon`` of ``varExp``; ``None`` without a variance function.
    ddf : pandas.DataFrame or None
        Coefficient tables with denominator df, columns ``method, term, se, df, t, p``
        (``method`` is ``"satterthwaite"`` or ``"kenward-roger"``; ``se`` is the adjusted
        standard error for Kenward–Roger).
    anova : pandas.DataFrame or None
        F tests of the fixed-effect terms, columns ``method, type, term, NumDF, DenDF, F, p``.
    messages, warnings : tuple of str
        Messages and warnings issued while fitting.
    versions : Mapping[str, str]
        Software versions of the side that produced the summary.
    """

    model_class: str
    fixef: pd.Series
    se: pd.Series
    loglik: LogLik
    theta: pd.Series | None = None
    sigma: float | None = None
    reml: bool | None = None
    varcorr: pd.DataFrame = field(default_factory=lambda: empty_varcorr())
    ranef: pd.DataFrame = field(default_factory=lambda: empty_ranef())
    is_singular: bool | None = None
    converged: bool | None = None
    thresholds: pd.Series | None = None
    zi: pd.Series | None = None
    disp: pd.Series | None = None
    nb_theta: float | None = None
    cox_loglik: CoxLogLik | None = None
    correlation_params: pd.Series | None = None
    varfunc_params: pd.Series | None = None
    ddf: pd.DataFrame | None = None
    anova: pd.DataFrame | None = None
    messages: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    versions: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (full precision floats; ``NaN`` as ``None``; ``varfunc_params``
        only when there is a variance function)."""
        return {
            "model_class": self.model_class,
            "fixef": _series_dict(self.fixef),
            "se": _series_dict(self.se),
            "loglik": {
                "value": _num(self.loglik.value),
                "df": self.loglik.df,
                "nobs": self.loglik.nobs,
            },
            "theta": None if self.theta is None else _series_dict(self.theta),
            "sigma": _num(self.sigma),
            "reml": self.reml,
            "varcorr": _frame_dict(self.varcorr),
            "ranef": _frame_dict(self.ranef),
            "is_singular": self.is_singular,
            "converged": self.converged,
            "thresholds": None if self.thresholds is None else _series_dict(self.thresholds),
            "zi": None if self.zi is None else _series_dict(self.zi),
            "disp": None if self.disp is None else _series_dict(self.disp),
            "nb_theta": _num(self.nb_theta),
            "cox_loglik": None
            if self.cox_loglik is None
            else {
                "null": self.cox_loglik.null,
                "integrated": self.cox_loglik.integrated,
                "penalized": self.cox_loglik.penalized,
            },
            "correlation_params": None
            if self.correlation_params is None
            else _series_dict(self.correlation_params),
            "ddf": None if self.ddf is None else _frame_dict(self.ddf),
            "anova": None if self.anova is None else _frame_dict(self.anova),
            "messages": list(self.messages),
            "warnings": list(self.warnings),
            "versions": dict(self.versions),
            # only when present: records without a variance function keep their format
            **(
                {}
                if self.varfunc_params is None
                else {"varfunc_params": _series_dict(self.varfunc_params)}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitSummary:
        """Rebuild a summary written by :meth:`to_dict`."""
        ll = data["loglik"]
        cox = data.get("cox_loglik")
        return cls(
            model_class=data["model_class"],
            fixef=_series_from(data["fixef"]),
            se=_series_from(data["se"]),
            loglik=LogLik(_float(ll["value"]), int(ll["df"]), int(ll["nobs"])),
            theta=_optional_series(data.get("theta")),
            sigma=None if data.get("sigma") is None else float(data["sigma"]),
            reml=data.get("reml"),
            varcorr=_frame_from(data.get("varcorr"), VARCORR_COLUMNS),
            ranef=_frame_from(data.get("ranef"), RANEF_COLUMNS[:4]),
            is_singular=data.get("is_singular"),
            converged=data.get("converged"),
            thresholds=_optional_series(data.get("thresholds")),
            zi=_optional_series(data.get("zi")),
            disp=_optional_series(data.get("disp")),
            nb_theta=None if data.get("nb_theta") is None else float(data["nb_theta"]),
            cox_loglik=None if cox is None else CoxLogLik(**{k: float(v) for k, v in cox.items()}),
            correlation_params=_optional_series(data.get("correlation_params")),
            varfunc_params=_optional_series(data.get("varfunc_params")),
            ddf=None if data.get("ddf") is None else _frame_from(data["ddf"], DDF_COLUMNS),
            anova=None if data.get("anova") is None else _frame_from(data["anova"], ANOVA_COLUMNS),
            messages=tuple(data.get("messages", ())),
            warnings=tuple(data.get("warnings", ())),
            versions=dict(data.get("versions", {})),
        )


def empty_varcorr() -> pd.DataFrame:
    """A ``VarCorr`` table without rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in VARCORR_COLUMNS})


def empty_ranef() -> pd.DataFrame:
    """A ``ranef`` long table without rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RANEF_COLUMNS[:4]})


def empty_anova() -> pd.DataFrame:
    """An anova table of the denominator-df level without rows (for models R has none of)."""
    return pd.DataFrame({c: pd.Series(dtype=float) for c in ANOVA_COLUMNS})


def ranef_long(blocks: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Long ``ranef`` table from a dict grouping factor → DataFrame (levels × terms).

    Parameters
    ----------
    blocks
        As returned by ``ranef()`` of an interlace result.

    Returns
    -------
    pandas.DataFrame
        Columns ``grpvar, term, grp, condval``, ordered like ``as.data.frame(ranef(fit))``
        (grouping factor, then term, then level).
    """
    rows: list[tuple[str, str, str, float]] = []
    for grpvar, frame in blocks.items():
        for term in frame.columns:
            rows.extend(
                (str(grpvar), str(term), str(level), float(value))
                for level, value in frame[term].items()
            )
    if not rows:
        return empty_ranef()
    return pd.DataFrame(rows, columns=list(RANEF_COLUMNS[:4]))


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _float(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _num(float(value))
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _series_dict(series: pd.Series) -> dict[str, Any]:
    return {"names": [str(i) for i in series.index], "values": [_cell(v) for v in series]}


def _series_from(data: Mapping[str, Sequence[Any]]) -> pd.Series:
    values = [math.nan if v is None else float(v) for v in data["values"]]
    return pd.Series(values, index=pd.Index(list(data["names"]), dtype=object), dtype=float)


def _optional_series(data: Mapping[str, Sequence[Any]] | None) -> pd.Series | None:
    return None if data is None else _series_from(data)


def _frame_dict(frame: pd.DataFrame) -> dict[str, list[Any]]:
    return {str(c): [_cell(v) for v in frame[c]] for c in frame.columns}


def _frame_from(data: Mapping[str, Sequence[Any]] | None, columns: Sequence[str]) -> pd.DataFrame:
    if not data:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    out = {}
    for name, values in data.items():
        numeric = all(v is None or isinstance(v, int | float) for v in values) and any(
            v is not None for v in values
        )
        out[name] = (
            pd.Series([math.nan if v is None else float(v) for v in values], dtype=float)
            if numeric and not all(isinstance(v, bool) for v in values)
            else pd.Series(list(values), dtype=object)
        )
    return pd.DataFrame(out)


@dataclass(frozen=True)
class DesignSummary:
    """The model design as lme4's ``getME``/``lFormula`` exposes it.

    Attributes
    ----------
    X : numpy.ndarray
        Fixed-effects model matrix (n × p).
    X_names : tuple of str
        Its column names.
    Zt : scipy.sparse matrix
        Transposed random-effects model matrix (q × n).
    Lind : numpy.ndarray
        0-based index of θ for each non-zero of ``Lambdat``.
    lower : numpy.ndarray
        Lower bounds of θ.
    cnms : tuple of (str, tuple of str)
        Grouping factor and column names of each random-effect term, in lme4's order.
    """

    X: np.ndarray
    X_names: tuple[str, ...]
    Zt: Any
    Lind: np.ndarray
    lower: np.ndarray
    cnms: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class ObjectivePoint:
    """Both sides' objective (REML criterion or deviance) at one θ.

    Attributes
    ----------
    label : str
        Where θ comes from, e.g. ``"theta_interlace"``.
    theta : tuple of float
    r : float
        R's deviance function (``devFunOnly = TRUE``) at ``theta``.
    interlace : float
        interlace's objective at ``theta``.
    """

    label: str
    theta: tuple[float, ...]
    r: float
    interlace: float
