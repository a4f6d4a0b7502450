"""Comparisons at the harness's three levels, each producing report rows.

1. **design** (:func:`compare_designs`): X column names and values, Zt dimensions and values,
   ``Lind``, θ lower bounds and the random-effect terms (``cnms``);
2. **objective at the same θ** (:func:`compare_objectives`): R's deviance function evaluated at
   interlace's θ and interlace's objective at R's θ, which separates an objective bug from an
   optimiser difference;
3. **final fit** (:func:`compare_fits`): fixed effects, SEs, θ, σ, log-likelihood (one-sided),
   variance components, conditional modes and the per-class extras (thresholds, zero-inflation
   and dispersion coefficients, ``glmer.nb``'s θ, ``lme``'s correlation and variance-function
   parameters, coxme's three log-likelihoods);

and, opt-in for linear mixed models, the **denominator-df** level (:func:`compare_ddf`): the
coefficient tables (df, t, p; Kenward–Roger's adjusted SE) and type-3 anova tables (NumDF,
DenDF, F, p) of lmerTest with Satterthwaite's and Kenward–Roger's method.

:func:`compare_summaries` puts the fit level (and the ddf level when the summaries carry its
tables) into a :class:`ParityReport` (for instance to compare against a frozen R summary).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from interlace.parity.report import ParityReport, Row, Verdict
from interlace.parity.schema import DesignSummary, FitSummary, ObjectivePoint
from interlace.parity.tolerances import (
    EXACT,
    TOLERANCE_CLASS,
    Tolerance,
    ToleranceOverrides,
    tolerances_for,
)

Tolerances = Mapping[str, Tolerance]

#: Denominator-df methods whose coefficient table has its own standard errors.
TABLE_SE_METHODS = frozenset({"kenward-roger", "nlme"})


def numeric_row(
    level: str,
    quantity: str,
    r: float | None,
    interlace: float | None,
    tolerance: Tolerance,
    *,
    scale: float | None = None,
) -> Row:
    """Compare two numbers.

    Parameters
    ----------
    level, quantity
        Labels of the row.
    r, interlace
        The two values; ``None`` or ``NaN`` on one side only is ``"missing"``.
    tolerance
        Applied to ``interlace − r`` with ``scale`` (default ``|r|``) for the relative part.
    scale
        Size that the relative tolerance refers to.

    Returns
    -------
    Row
    """
    r_missing, py_missing = _is_missing(r), _is_missing(interlace)
    if r_missing or py_missing:
        verdict: Verdict = "ok" if r_missing and py_missing else "missing"
        return Row(level, quantity, r, interlace, None, tolerance.describe(), verdict)
    assert r is not None and interlace is not None
    difference = float(interlace) - float(r)
    bound = tolerance.bound(float(r) if scale is None else scale)
    if tolerance.one_sided:
        verdict = "FAIL" if difference < -bound else "better" if difference > bound else "ok"
    else:
        verdict = "ok" if abs(difference) <= bound else "FAIL"
    return Row(
        level, quantity, float(r), float(interlace), difference, tolerance.describe(), verdict
    )


def exact_row(level: str, quantity: str, r: object, interlace: object) -> Row:
    """Compare two values that must be equal (names, counts, flags)."""
    if r is None or interlace is None:
        verdict: Verdict = "ok" if r is None and interlace is None else "missing"
    else:
        verdict = "ok" if r == interlace else "FAIL"
    return Row(level, quantity, r, interlace, None, EXACT.describe(), verdict)


def compare_series(
    level: str, name: str, r: pd.Series | None, interlace: pd.Series | None, tolerance: Tolerance
) -> list[Row]:
    """Compare two labelled vectors element by element, matching labels (R's order first)."""
    if r is None and interlace is None:
        return []
    r = pd.Series(dtype=float) if r is None else r
    interlace = pd.Series(dtype=float) if interlace is None else interlace
    labels = list(r.index) + [i for i in interlace.index if i not in r.index]
    return [
        numeric_row(
            level,
            f"{name}[{label}]",
            _get(r, label),
            _get(interlace, label),
            tolerance,
        )
        for label in labels
    ]


def compare_fits(r: FitSummary, interlace: FitSummary, tolerances: Tolerances) -> list[Row]:
    """Rows of the final-fit level.

    Parameters
    ----------
    r, interlace
        Summaries of the same model fitted by R and by interlace.
    tolerances
        A table from :func:`interlace.parity.tolerances.tolerances_for`.

    Returns
    -------
    list of Row
    """
    level = "fit"
    rows = compare_series(level, "fixef", r.fixef, interlace.fixef, tolerances["fixef"])
    rows += compare_series(level, "se", r.se, interlace.se, tolerances["se"])
    rows += _compare_theta(r.theta, interlace.theta, tolerances["theta"])
    if r.sigma is not None or interlace.sigma is not None:
        rows.append(numeric_row(level, "sigma", r.sigma, interlace.sigma, tolerances["sigma"]))
    rows.append(
        numeric_row(level, "logLik", r.loglik.value, interlace.loglik.value, tolerances["loglik"])
    )
    rows.append(exact_row(level, "logLik df", r.loglik.df, interlace.loglik.df))
    rows.append(exact_row(level, "nobs", r.loglik.nobs, interlace.loglik.nobs))
    if r.reml is not None or interlace.reml is not None:
        rows.append(exact_row(level, "REML", r.reml, interlace.reml))
    near_zero = _near_zero_sd(r, tolerances)
    rows += _compare_varcorr(r.varcorr, interlace.varcorr, tolerances["varcorr"], near_zero)
    rows += _compare_ranef(r.ranef, interlace.ranef, _with_floor(tolerances["ranef"], near_zero))
    if r.is_singular is not None and interlace.is_singular is not None:
        rows.append(exact_row(level, "isSingular", r.is_singular, interlace.is_singular))
    rows += compare_series(
        level, "thresholds", r.thresholds, interlace.thresholds, tolerances["thresholds"]
    )
    rows += compare_series(level, "zi", r.zi, interlace.zi, tolerances["zi"])
    rows += compare_series(level, "disp", r.disp, interlace.disp, tolerances["disp"])
    if r.nb_theta is not None or interlace.nb_theta is not None:
        rows.append(
            numeric_row(level, "nb_theta", r.nb_theta, interlace.nb_theta, tolerances["nb_theta"])
        )
    rows += compare_series(
        level,
        "correlation",
        r.correlation_params,
        interlace.correlation_params,
        tolerances["correlation_params"],
    )
    rows += compare_series(
        level, "varfunc", r.varfunc_params, interlace.varfunc_params, tolerances["varfunc_params"]
    )
    rows += _compare_cox(r, interlace, tolerances)
    return rows


def compare_ddf(r: FitSummary, interlace: FitSummary, tolerances: Tolerances) -> list[Row]:
    """Rows of the denominator-df level, matched by (method, term) in R's order.

    Coefficient tables: ``df`` (tolerance ``ddf``), ``t`` (``statistic``), ``p`` (``pvalue``)
    and, for Kenward–Roger and nlme, the table's standard error ``se`` (``se``: Kenward–Roger's
    adjusted one, nlme's inflated by ``sqrt(N/(N − p))`` for ML fits; Satterthwaite's is the
    fit's SE, already compared at the fit level).  Anova tables: ``NumDF`` (exact),
    ``DenDF`` (``ddf``), ``F`` (``statistic``) and ``p`` (``pvalue``).
    """
    columns = {"df": "ddf", "t": "statistic", "p": "pvalue"}
    rows = _compare_tables(
        r.ddf, interlace.ddf, "{column}[{term}] ({method})", columns, tolerances, {"se": "se"}
    )
    columns = {"NumDF": "exact", "DenDF": "ddf", "F": "statistic", "p": "pvalue"}
    return rows + _compare_tables(
        r.anova, interlace.anova, "anova {column}[{term}] ({method})", columns, tolerances, {}
    )


def _compare_tables(
    r: pd.DataFrame | None,
    interlace: pd.DataFrame | None,
    label: str,
    columns: Mapping[str, str],
    tolerances: Tolerances,
    table_se: Mapping[str, str],
) -> list[Row]:
    """One row per (method, term, column); ``table_se`` columns only for the methods of
    :data:`TABLE_SE_METHODS`."""
    if r is None and interlace is None:
        return []
    keyed = [
        {} if frame is None else {(row.method, row.term): row for row in frame.itertuples()}
        for frame in (r, interlace)
    ]
    rows = []
    for key in list(keyed[0]) + [k for k in keyed[1] if k not in keyed[0]]:
        method, term = key
        extra = table_se if method in TABLE_SE_METHODS else {}
        for column, quantity in {**extra, **columns}.items():
            r_value, py_value = (
                None if key not in side else getattr(side[key], column) for side in keyed
            )
            name = label.format(column=column, term=term, method=method)
            rows.append(
                exact_row("ddf", name, r_value, py_value)
                if quantity == "exact"
                else numeric_row("ddf", name, r_value, py_value, tolerances[quantity])
            )
    return rows


def compare_designs(
    r: DesignSummary, interlace: DesignSummary, tolerances: Tolerances
) -> list[Row]:
    """Rows of the design level: X, Zt, ``Lind``, lower bounds and ``cnms``."""
    level = "design"
    tol = tolerances["design"]
    rows = [
        exact_row(level, "X column names", ", ".join(r.X_names), ", ".join(interlace.X_names)),
        exact_row(level, "X dimensions", _dims(r.X.shape), _dims(interlace.X.shape)),
    ]
    if r.X.shape == interlace.X.shape:
        rows.append(_matrix_row(level, "X values", r.X, interlace.X, tol))
    rows.append(exact_row(level, "Zt dimensions", _dims(r.Zt.shape), _dims(interlace.Zt.shape)))
    if r.Zt.shape == interlace.Zt.shape:
        diff = sp.csc_matrix(interlace.Zt) - sp.csc_matrix(r.Zt)
        rows.append(
            _matrix_row(level, "Zt values", sp.csc_matrix(r.Zt).data, diff.data, tol, is_diff=True)
        )
    rows.append(exact_row(level, "cnms", _cnms_text(r.cnms), _cnms_text(interlace.cnms)))
    rows.append(exact_row(level, "Lind", _ints_text(r.Lind), _ints_text(interlace.Lind)))
    rows.append(
        exact_row(level, "theta lower", _floats_text(r.lower), _floats_text(interlace.lower))
    )
    return rows


def compare_objectives(points: Iterable[ObjectivePoint], tolerances: Tolerances) -> list[Row]:
    """Rows of the objective level: both objectives at the same θ."""
    return [
        numeric_row(
            "objective",
            f"objective at {p.label} ({_floats_text(np.asarray(p.theta))})",
            p.r,
            p.interlace,
            tolerances["objective"],
        )
        for p in points
    ]


def compare_summaries(
    r: FitSummary,
    interlace: FitSummary,
    *,
    tolerances: ToleranceOverrides | None = None,
    tolerance_class: str | None = None,
    title: str | None = None,
) -> ParityReport:
    """Compare two fit summaries (for example against a frozen R summary).

    Parameters
    ----------
    r, interlace
        The reference summary and interlace's.
    tolerances
        Per-quantity overrides (see :func:`~interlace.parity.tolerances.tolerances_for`).
    tolerance_class
        ``"lmm"``, ``"glmm"``, ``"clmm"`` or ``"cox"``; derived from ``r.model_class`` when
        omitted.
    title
        Report title; the model class by default.

    Returns
    -------
    ParityReport
    """
    cls = tolerance_class or TOLERANCE_CLASS.get(r.model_class, "lmm")
    table = tolerances_for(cls, tolerances)
    return ParityReport(
        title=title or r.model_class,
        rows=tuple(compare_fits(r, interlace, table) + compare_ddf(r, interlace, table)),
        notes=tuple(side_notes(r, interlace)),
        meta={"tolerance_class": cls},
    )


def side_notes(r: FitSummary, interlace: FitSummary) -> list[str]:
    """Messages and warnings of both sides, as report notes."""
    notes: list[str] = []
    for side, summary in (("R", r), ("interlace", interlace)):
        notes.extend(f"{side} message: {m}" for m in summary.messages)
        notes.extend(f"{side} warning: {w}" for w in summary.warnings)
        if summary.converged is False:
            notes.append(f"{side} reports that the optimiser did not converge")
    return notes


# --- helpers ----------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float | np.floating) and math.isnan(value))


def _get(series: pd.Series, label: Any) -> float | None:
    return float(series[label]) if label in series.index else None


def _compare_theta(
    r: pd.Series | None, interlace: pd.Series | None, tolerance: Tolerance
) -> list[Row]:
    """θ compared by position (interlace may not name its elements), labelled with R's names."""
    if r is None and interlace is None:
        return []
    r_values = [] if r is None else [float(v) for v in r]
    py_values = [] if interlace is None else [float(v) for v in interlace]
    names = [str(n) for n in (r.index if r is not None else [])]
    rows = []
    for i in range(max(len(r_values), len(py_values))):
        label = names[i] if i < len(names) else str(i + 1)
        rows.append(
            numeric_row(
                "fit",
                f"theta[{label}]",
                r_values[i] if i < len(r_values) else None,
                py_values[i] if i < len(py_values) else None,
                tolerance,
            )
        )
    return rows


def _varcorr_key(row: pd.Series) -> str:
    names = [str(row["grp"])] + [
        str(row[c]) for c in ("var1", "var2") if not _is_missing(row[c]) and row[c] != ""
    ]
    return f"{names[0]} " + ",".join(names[1:]) if len(names) > 1 else names[0]


def _keyed(frame: pd.DataFrame) -> dict[str, pd.Series]:
    return {_varcorr_key(row): row for _, row in frame.iterrows()} if len(frame) else {}


def _near_zero_sd(r: FitSummary, tolerances: Tolerances) -> float:
    """The size of a standard deviation that θ's absolute tolerance allows: ``atol(θ) · σ``.

    A random-effect SD is σθ (θ alone where there is no residual scale), so near a singular
    fit, where the relative tolerance of a variance component means nothing, an SD (and the
    conditional modes of its term) may differ by what a θ within tolerance allows.
    """
    return tolerances["theta"].atol * (1.0 if r.sigma is None else abs(r.sigma))


def _with_floor(tolerance: Tolerance, atol: float) -> Tolerance:
    return dataclasses.replace(tolerance, atol=max(tolerance.atol, atol))


def _compare_varcorr(
    r: pd.DataFrame, interlace: pd.DataFrame, tolerance: Tolerance, near_zero_sd: float
) -> list[Row]:
    """Each ``VarCorr`` row; standard deviations also pass within ``near_zero_sd``."""
    r_rows, py_rows = _keyed(r), _keyed(interlace)
    rows = []
    for key in list(r_rows) + [k for k in py_rows if k not in r_rows]:
        row = r_rows.get(key, py_rows.get(key))
        is_sd = row is None or _is_missing(row["var2"]) or row["var2"] == ""
        for column in ("vcov", "sdcor"):
            tol = _with_floor(tolerance, near_zero_sd) if column == "sdcor" and is_sd else tolerance
            rows.append(
                numeric_row(
                    "fit",
                    f"varcorr[{key}].{column}",
                    _cell(r_rows.get(key), column),
                    _cell(py_rows.get(key), column),
                    tol,
                )
            )
    return rows


def _cell(row: pd.Series | None, column: str) -> float | None:
    return None if row is None else float(row[column])


def _compare_ranef(r: pd.DataFrame, interlace: pd.DataFrame, tolerance: Tolerance) -> list[Row]:
    """One row per (grouping factor, term) block: the largest difference against block scale."""
    if not len(r) and not len(interlace):
        return []
    keys = ["grpvar", "term", "grp"]
    merged = pd.merge(
        r.assign(grp=r["grp"].astype(str)),
        interlace.assign(grp=interlace["grp"].astype(str)),
        on=keys,
        how="outer",
        suffixes=("_R", "_py"),
        sort=False,
    )
    rows = []
    for (grpvar, term), block in merged.groupby(["grpvar", "term"], sort=False):
        quantity = f"ranef[{grpvar} {term}]"
        for column in ("condval", "condsd"):
            cr, cp = f"{column}_R", f"{column}_py"
            if cr not in block or cp not in block:
                continue
            r_vals, py_vals = block[cr].to_numpy(float), block[cp].to_numpy(float)
            if column == "condsd" and (np.isnan(r_vals).all() or np.isnan(py_vals).all()):
                continue
            name = quantity if column == "condval" else f"{quantity}.condsd"
            absent = int(np.isnan(r_vals).sum() + np.isnan(py_vals).sum())
            if absent:
                rows.append(Row("fit", name, None, None, None, tolerance.describe(), "missing"))
                continue
            scale = float(np.max(np.abs(r_vals))) if r_vals.size else 0.0
            worst = int(np.argmax(np.abs(py_vals - r_vals)))
            rows.append(
                numeric_row(
                    "fit",
                    f"{name} (max |diff| at {block['grp'].iloc[worst]})",
                    float(r_vals[worst]),
                    float(py_vals[worst]),
                    tolerance,
                    scale=scale,
                )
            )
    return rows


def _compare_cox(r: FitSummary, interlace: FitSummary, tolerances: Tolerances) -> list[Row]:
    if r.cox_loglik is None and interlace.cox_loglik is None:
        return []
    rows = []
    for part in ("null", "integrated", "penalized"):
        rv = None if r.cox_loglik is None else getattr(r.cox_loglik, part)
        pv = None if interlace.cox_loglik is None else getattr(interlace.cox_loglik, part)
        tol = tolerances["loglik"] if part != "null" else tolerances["fixef"]
        rows.append(numeric_row("fit", f"coxme loglik {part}", rv, pv, tol))
    return rows


def _matrix_row(
    level: str,
    quantity: str,
    r_values: np.ndarray,
    other: np.ndarray,
    tolerance: Tolerance,
    *,
    is_diff: bool = False,
) -> Row:
    """Largest absolute difference of two arrays (or of a difference array) against R's scale."""
    r_arr = np.asarray(r_values, dtype=float)
    diff = np.asarray(other, dtype=float) if is_diff else np.asarray(other, dtype=float) - r_arr
    worst = float(np.max(np.abs(diff))) if diff.size else 0.0
    scale = float(np.max(np.abs(r_arr))) if r_arr.size else 0.0
    verdict: Verdict = "ok" if worst <= tolerance.bound(scale) else "FAIL"
    return Row(
        level,
        f"{quantity}: max |interlace − R| vs max |R|",
        scale,
        None,
        worst,
        tolerance.describe(),
        verdict,
    )


def _dims(shape: Sequence[int]) -> str:
    return " x ".join(str(int(s)) for s in shape)


def _cnms_text(cnms: Sequence[tuple[str, Sequence[str]]]) -> str:
    return "; ".join(f"{g}: {', '.join(names)}" for g, names in cnms)


def _ints_text(values: np.ndarray) -> str:
    return " ".join(str(int(v)) for v in np.asarray(values).ravel())


def _floats_text(values: np.ndarray) -> str:
    return " ".join(f"{float(v):.6g}" for v in np.asarray(values, dtype=float).ravel())
