"""``compare(code, **frames)``: fit the same model in R and in interlace and compare them.

Live mode
    R reads the code (``match.call`` against the model function), fits each call with the data
    bound by name in a fresh environment, and its results are shaped into a
    :class:`~interlace.parity.schema.FitSummary`; interlace fits the same model from the matched
    arguments.  Three levels are compared (see :mod:`interlace.parity.compare`).
Frozen mode
    :func:`freeze` records what R produced for each call (the matched call, the fit summary,
    the design and R's objective at a few θ, with R and package versions) as plain JSON;
    :func:`compare_frozen` compares interlace against such a record without R;
    :func:`freeze_reference` writes such a record from R outputs recorded elsewhere (coxme,
    which cannot be installed everywhere).
Denominator-df level
    Opt-in (``levels`` with ``"ddf"``), and on by default when the code attaches lmerTest
    (``library(lmerTest)``) or calls ``lmerTest::lmer``: for lmer fits, lmerTest's coefficient
    table and type-3 ``anova`` with Satterthwaite's and (REML fits) Kenward–Roger's method
    (pbkrtest) against ``coef_table(ddf=...)`` and ``anova(type=3, ddf=...)``.  Always on for
    lme fits (unless levels are chosen): nlme's ``summary(fit)$tTable`` (containment DF)
    against ``coef_table()``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from interlace._version import __version__
from interlace.parity.calls import ModelCall, ParityCallError, is_symbol
from interlace.parity.compare import (
    compare_ddf,
    compare_designs,
    compare_fits,
    compare_objectives,
    side_notes,
)
from interlace.parity.cox import coxme_reference_record
from interlace.parity.models import ModelAdapter, adapter_for, r_functions
from interlace.parity.rbridge import ParsedCode, RBridge, RCallError, RFit, bridge
from interlace.parity.report import ParityReport, Row
from interlace.parity.schema import DesignSummary, FitSummary, ObjectivePoint
from interlace.parity.tolerances import TOLERANCE_CLASS, ToleranceOverrides, tolerances_for

LEVELS = ("design", "objective", "fit", "ddf")
#: Levels compared when none are chosen (plus ``"ddf"``: see :func:`default_levels`).
DEFAULT_LEVELS = ("design", "objective", "fit")
#: The anova type of the denominator-df level (lmerTest's default).
ANOVA_TYPE = 3
_LMERTEST = re.compile(
    r"^(?:suppressPackageStartupMessages\()?(?:library|require)\(\s*[\"']?lmerTest[\"']?\s*[,)]"
)
_R_LOGICAL = {"TRUE": True, "T": True, "FALSE": False, "F": False}
_HARMLESS = ("library(", "require(", "suppressPackageStartupMessages(", "options(")
_UNSUPPORTED_MODEL = re.compile(
    r"^(?:[\w.]+\s*(?:<-|=)\s*)?(?:\w+::)?(?:"
    + "|".join(re.escape(f) for f in TOLERANCE_CLASS)
    + r")\(",
)
CASE_FORMAT = 1


@dataclass(frozen=True)
class _Run:
    """Both sides of one call (interlace's result is ``None`` when interlace failed)."""

    call: ModelCall
    adapter: ModelAdapter
    result: Any
    error: str | None
    notes: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def compare(
    code: str,
    *,
    tolerances: ToleranceOverrides | None = None,
    levels: Sequence[str] | None = None,
    **frames: pd.DataFrame,
) -> ParityReport:
    """Fit one R model call in R and in interlace and compare the results.

    Parameters
    ----------
    code
        R code with exactly one model call, e.g.
        ``"lmer(Reaction ~ Days + (Days | Subject), sleepstudy)"``; the call may be assigned
        (``m1 <- lmer(...)``) and accompanied by ``library()`` lines.
    tolerances
        Per-quantity overrides of the default tolerances (``{"fixef": 1e-6}``).
    levels
        Which of ``"design"``, ``"objective"``, ``"fit"``, ``"ddf"`` to compare.  By default
        the first three, and ``"ddf"`` too when the code attaches lmerTest
        (``library(lmerTest)``) or calls ``lmerTest::lmer``, and for lme fits.
    **frames
        The data frames the code names (``sleepstudy=df``).

    Returns
    -------
    ParityReport

    Raises
    ------
    ParityCallError
        If the code has no or several model calls, or a call cannot be reproduced.
    interlace.parity.rbridge.RUnavailableError
        If R, rpy2 or a needed R package (lmerTest and pbkrtest for ``"ddf"``) is missing.
    interlace.parity.rbridge.RCallError
        If R fails to fit the model.
    """
    reports = _compare_code(code, frames, tolerances, levels, "raise")
    if len(reports) != 1:
        raise ParityCallError(
            f"compare() needs exactly one model call, the code has {len(reports)}",
            remedy="use interlace.parity.compare_all() for several calls",
        )
    return reports[0]


def compare_all(
    code: str,
    *,
    tolerances: ToleranceOverrides | None = None,
    levels: Sequence[str] | None = None,
    errors: Literal["raise", "report"] = "raise",
    **frames: pd.DataFrame,
) -> list[ParityReport]:
    """Like :func:`compare`, for every model call in ``code`` (one report each, in order).

    Parameters
    ----------
    errors
        ``"raise"``: an R error or an unsupported call raises.  ``"report"``: it becomes a
        failing report for that call, and the other calls are still compared.
    """
    return _compare_code(code, frames, tolerances, levels, errors)


def _compare_code(
    code: str,
    frames: Mapping[str, pd.DataFrame],
    tolerances: ToleranceOverrides | None,
    levels: Sequence[str] | None,
    errors: Literal["raise", "report"],
) -> list[ParityReport]:
    if levels is not None:
        _check_levels(levels)
    b = bridge()
    parsed = b.parse_calls(code, r_functions())
    lmertest = attaches_lmertest(parsed)
    unsupported = [s for s in parsed.skipped if _UNSUPPORTED_MODEL.match(s)]
    if unsupported and errors == "raise":
        raise ParityCallError(
            f"model call not supported by the parity harness yet: {unsupported[0]}",
            remedy="supported: " + ", ".join(r_functions()),
        )
    skipped = tuple(
        f"statement not run on either side: {s}"
        for s in parsed.skipped
        if not s.startswith(_HARMLESS) and s not in unsupported
    )
    reports = [
        ParityReport(
            s,
            (
                Row(
                    "fit", "call", "not supported by the parity harness yet", None, None, "", "FAIL"
                ),
            ),
            skipped,
            {"mode": "live"},
        )
        for s in unsupported
    ]
    for call in parsed.calls:
        try:
            adapter = adapter_for(call.function)
            chosen = default_levels(adapter, lmertest) if levels is None else levels
            reports.append(_compare_live(b, call, frames, tolerances, chosen, skipped))
        except (RCallError, ParityCallError) as exc:
            if errors == "raise":
                raise
            side = "R fit" if isinstance(exc, RCallError) else "call"
            row = Row("fit", side, str(exc), None, None, "exact", "FAIL")
            reports.append(ParityReport(call.label, (row,), skipped, {"mode": "live"}))
    return reports


def freeze(code: str, *, ddf: bool | None = None, **frames: pd.DataFrame) -> list[dict[str, Any]]:
    """Record R's results for every model call in ``code`` (frozen-mode reference cases).

    Parameters
    ----------
    code
        R code with model calls.
    ddf
        Record the denominator-df tables too (lmer fits: lmerTest's coefficient and type-3
        anova tables, in the summary's ``ddf`` and ``anova``; lme fits: nlme's ``tTable``);
        by default when the code attaches lmerTest, and for lme fits, as for :func:`compare`.
    **frames
        The data frames the code names.

    Returns
    -------
    list of dict
        Plain-JSON records with keys ``format``, ``call``, ``arguments`` (the Python values of
        the arguments other than formula and data: flags, column names, or the values R
        computed for an expression such as ``weights = 1 + Days``), ``summary``, ``design``
        (or ``None``) and ``objective`` (R's objective at R's parameters and at a point away
        from the optimum given by the adapter's ``away``, when the model class has an objective
        R can evaluate: lme4's deviance function at θ and at ``max(lower, θ/2 + 0.3)``, for a
        glmer fit with ``nAGQ >= 1`` at ``(θ, β)`` with β kept at R's; ordinal's negative
        log-likelihood at ``(α, β, θ)`` and with θ moved to ``θ/2 + 0.3``).
    """
    b = bridge()
    cases = []
    parsed = b.parse_calls(code, r_functions())
    lmertest = attaches_lmertest(parsed)
    for call in parsed.calls:
        adapter = adapter_for(call.function)
        with_ddf = "ddf" in default_levels(adapter, lmertest) if ddf is None else ddf
        with_ddf = with_ddf and adapter.r_ddf is not None
        fit, versions, env = _fit_in_r(b, adapter, call, frames, ddf=with_ddf)
        summary = _r_summary(b, adapter, fit, versions, ddf=with_ddf)
        design = getattr(b, adapter.r_design)(fit) if adapter.r_design else None
        arguments = _live_arguments(b, adapter, call, _frame_for(call, frames), env)
        objective: list[dict[str, Any]] = []
        if adapter.r_objective and summary.theta is not None:
            pars = [float(v) for v in adapter.parameters(call, summary)]
            off = adapter.away(pars, summary, design)
            if off is not None:
                thetas = {"theta_R": pars, "theta_off": off}
                values = getattr(b, adapter.r_objective)(
                    call, adapter.qualified, env, list(thetas.values())
                )
                objective = [
                    {"label": label, "theta": t, "value": v}
                    for (label, t), v in zip(thetas.items(), values, strict=True)
                ]
        cases.append(
            {
                "format": CASE_FORMAT,
                "call": call.to_dict(),
                "arguments": {
                    k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in arguments.items()
                },
                "summary": summary.to_dict(),
                "design": None if design is None else _design_dict(design),
                "objective": objective,
            }
        )
    return cases


def freeze_reference(
    code: str, reference: Mapping[str, Any], *, provenance: str, **frames: pd.DataFrame
) -> dict[str, Any]:
    """A frozen record of one coxme call from recorded R outputs, without fitting it in R.

    R still reads the call (``match.call`` against coxme's formals, which the harness knows)
    and evaluates its arguments with the data in scope, so the record has the same call and
    arguments as one written by :func:`freeze`; the numbers come from ``reference`` (see
    :func:`interlace.parity.cox.coxme_reference_record`).

    Parameters
    ----------
    code
        R code with one ``coxme`` call.
    reference
        The recorded fit, with the versions that produced it in ``generated_with``.
    provenance
        Where the numbers come from (``"coxme 2.2-22 reference outputs"``).
    **frames
        The data frames the code names.

    Raises
    ------
    ParityCallError
        If the code has not exactly one call, or the call is not a coxme call.
    """
    b = bridge()
    calls = b.parse_calls(code, r_functions()).calls
    if len(calls) != 1 or calls[0].function != "coxme":
        raise ParityCallError("a reference record needs R code with exactly one coxme() call")
    call = calls[0]
    adapter = adapter_for(call.function)
    env = b.environment(frames)
    arguments = _live_arguments(b, adapter, call, _frame_for(call, frames), env)
    versions = {str(k): str(v) for k, v in reference.get("generated_with", {}).items()}
    return coxme_reference_record(
        reference, call, arguments, provenance=provenance, versions=versions
    )


def compare_frozen(
    case: Mapping[str, Any] | str | Path,
    *,
    tolerances: ToleranceOverrides | None = None,
    levels: Sequence[str] | None = None,
    **frames: pd.DataFrame,
) -> ParityReport:
    """Compare interlace against a case recorded by :func:`freeze` (no R needed).

    Parameters
    ----------
    case
        The record, or the path of a JSON file holding it.
    tolerances, **frames
        As for :func:`compare`.
    levels
        As for :func:`compare`; by default ``"ddf"`` is compared when the record holds the
        denominator-df tables.
    """
    if levels is not None:
        _check_levels(levels)
    record = _load_case(case)
    call = ModelCall.from_dict(record["call"])
    adapter = adapter_for(call.function)
    notes = adapter.check_arguments(call)
    data = _frame_for(call, frames)
    arguments = {
        k: np.asarray(v, dtype=float) if isinstance(v, list) else v
        for k, v in record.get("arguments", {}).items()
    }
    run = _run_interlace(call, adapter, data, arguments, notes)
    r_summary = FitSummary.from_dict(record["summary"])
    if levels is None:
        levels = DEFAULT_LEVELS + (("ddf",) if r_summary.ddf is not None else ())
    table = tolerances_for(adapter.tolerance_class, tolerances)
    rows: list[Row] = []
    if run.result is not None:
        if "design" in levels and record.get("design") and adapter.design is not None:
            r_design = _design_from_dict(record["design"])
            rows += compare_designs(r_design, adapter.design(run.result), table)
        if "objective" in levels and adapter.objective is not None:
            points = [
                ObjectivePoint(
                    p["label"],
                    tuple(p["theta"]),
                    float(p["value"]),
                    adapter.objective(run.result, p["theta"]),
                )
                for p in record.get("objective", [])
            ]
            rows += compare_objectives(points, table)
    meta = {"mode": "frozen", **{f"version {k}": v for k, v in r_summary.versions.items()}}
    if record.get("provenance"):
        meta["provenance"] = str(record["provenance"])
    return _report(run, r_summary, rows, table, levels, meta, ())


# --- live mode ----------------------------------------------------------------------------------


def default_levels(adapter: ModelAdapter, lmertest: bool) -> tuple[str, ...]:
    """The levels compared when none are chosen: :data:`DEFAULT_LEVELS`, and ``"ddf"`` when
    the code attaches lmerTest (``lmertest``) or the model's DF are part of R's summary
    (``lme``)."""
    ddf = lmertest or adapter.ddf_by_default
    return DEFAULT_LEVELS + (("ddf",) if ddf else ())


def attaches_lmertest(parsed: ParsedCode) -> bool:
    """Whether R code attaches lmerTest (``library(lmerTest)``) or calls ``lmerTest::lmer``."""
    return any(_LMERTEST.match(s) for s in parsed.skipped) or any(
        c.source.startswith("lmerTest::") for c in parsed.calls
    )


def _fit_in_r(
    b: RBridge,
    adapter: ModelAdapter,
    call: ModelCall,
    frames: Mapping[str, pd.DataFrame],
    *,
    ddf: bool,
) -> tuple[RFit, dict[str, str], Any]:
    packages = adapter.packages + (adapter.ddf_packages if ddf else ())
    b.require(packages)
    versions = b.versions(packages)
    _frame_for(call, frames)
    env = b.environment(frames)
    return b.fit(call, adapter.qualified, env), versions, env


def _r_summary(
    b: RBridge, adapter: ModelAdapter, fit: RFit, versions: Mapping[str, str], *, ddf: bool
) -> FitSummary:
    """R's summary of a fit, with the denominator-df tables when ``ddf``."""
    summary: FitSummary = getattr(b, adapter.r_summary)(fit, versions)
    if not ddf or adapter.r_ddf is None:
        return summary
    coef, anova = getattr(b, adapter.r_ddf)(fit, ANOVA_TYPE)
    return dataclasses.replace(summary, ddf=coef, anova=anova)


def _compare_live(
    b: RBridge,
    call: ModelCall,
    frames: Mapping[str, pd.DataFrame],
    tolerances: ToleranceOverrides | None,
    levels: Sequence[str],
    skipped: tuple[str, ...],
) -> ParityReport:
    adapter = adapter_for(call.function)
    notes = adapter.check_arguments(call)
    ddf = "ddf" in levels and adapter.r_ddf is not None
    fit, versions, env = _fit_in_r(b, adapter, call, frames, ddf=ddf)
    r_summary = _r_summary(b, adapter, fit, versions, ddf=ddf)
    data = _frame_for(call, frames)
    run = _run_interlace(call, adapter, data, _live_arguments(b, adapter, call, data, env), notes)
    table = tolerances_for(adapter.tolerance_class, tolerances)
    rows: list[Row] = []
    if run.result is not None:
        if "design" in levels and adapter.design is not None and adapter.r_design is not None:
            r_design = getattr(b, adapter.r_design)(fit)
            rows += compare_designs(r_design, adapter.design(run.result), table)
        if "objective" in levels and adapter.objective is not None and adapter.r_objective:
            rows += compare_objectives(
                _objective_points(b, adapter, call, env, run.result, r_summary), table
            )
    meta = {"mode": "live", **{f"version {k}": v for k, v in versions.items()}}
    return _report(run, r_summary, rows, table, levels, meta, skipped)


def _objective_points(
    b: RBridge, adapter: ModelAdapter, call: ModelCall, env: Any, result: Any, r: FitSummary
) -> list[ObjectivePoint]:
    assert adapter.objective is not None and adapter.r_objective is not None
    thetas = {
        "theta_interlace": adapter.parameters(call, adapter.summarize(result)),
        "theta_R": adapter.parameters(call, r),
    }
    evaluate = getattr(b, adapter.r_objective)
    r_values = evaluate(call, adapter.qualified, env, list(thetas.values()))
    return [
        ObjectivePoint(label, tuple(theta), r_value, adapter.objective(result, theta))
        for (label, theta), r_value in zip(thetas.items(), r_values, strict=True)
    ]


def _live_arguments(
    b: RBridge, adapter: ModelAdapter, call: ModelCall, data: pd.DataFrame, env: Any
) -> dict[str, Any]:
    """Python values of the passed arguments; R evaluates what is not a literal or a column."""
    out = {}
    for name, text in call.args.items():
        if name in {"formula", "fixed", "data"} or name not in adapter.arguments:
            continue
        if name in adapter.r_arguments:
            out[name] = getattr(b, adapter.r_arguments[name])(text, call.data_name, env)
            continue
        literal = _literal(text, data)
        if literal is not _NOT_LITERAL:
            out[name] = literal
            continue
        value = b.evaluate_argument(text, call.data_name, env)
        out[name] = bool(value[0]) if name == "REML" else value
    return out


# --- both modes ---------------------------------------------------------------------------------

_NOT_LITERAL = object()


def _literal(text: str, data: pd.DataFrame) -> Any:
    """``TRUE``/``FALSE`` → bool, a column name → itself, otherwise ``_NOT_LITERAL``."""
    if text in _R_LOGICAL:
        return _R_LOGICAL[text]
    if is_symbol(text) and text.strip("`") in data.columns:
        return text.strip("`")
    return _NOT_LITERAL


def _frame_for(call: ModelCall, frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    name = call.data_name
    if name not in frames:
        given = ", ".join(frames) or "none"
        raise ParityCallError(
            f"{call.label} uses data {name!r}, which was not given (given: {given})",
            remedy=f"pass it as {name}=DataFrame",
        )
    return frames[name]


def _run_interlace(
    call: ModelCall,
    adapter: ModelAdapter,
    data: pd.DataFrame,
    arguments: Mapping[str, Any],
    notes: Sequence[str],
) -> _Run:
    error: str | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = adapter.fit(call, data, arguments)
        except Exception as exc:  # an interlace failure is a parity finding, reported as such
            result, error = None, f"{type(exc).__name__}: {exc}"
    issued = tuple(dict.fromkeys(str(w.message) for w in caught))
    return _Run(call, adapter, result, error, tuple(notes), issued)


def _report(
    run: _Run,
    r_summary: FitSummary,
    rows: list[Row],
    table: Mapping[str, Any],
    levels: Sequence[str],
    meta: Mapping[str, Any],
    skipped: tuple[str, ...],
) -> ParityReport:
    notes = list(run.notes) + list(skipped)
    if run.result is None:
        rows = [Row("fit", "interlace fit", "fitted", run.error, None, "exact", "FAIL")]
        notes += [f"interlace warning: {w}" for w in run.warnings]
    else:
        py_summary = run.adapter.summarize(run.result)
        if "fit" in levels:
            rows = rows + compare_fits(r_summary, py_summary, table)
        if "ddf" in levels:
            rows = rows + _ddf_rows(run, r_summary, py_summary, table)
        extra = tuple(w for w in run.warnings if w not in py_summary.warnings)
        py_summary = dataclasses.replace(py_summary, warnings=py_summary.warnings + extra)
        notes += side_notes(r_summary, py_summary)
    return ParityReport(
        title=run.call.label,
        rows=tuple(rows),
        notes=tuple(notes),
        meta={
            "tolerance_class": run.adapter.tolerance_class,
            "version interlace": __version__,
            **meta,
        },
    )


def _ddf_rows(
    run: _Run, r_summary: FitSummary, py_summary: FitSummary, table: Mapping[str, Any]
) -> list[Row]:
    """The denominator-df level: interlace's tables for the methods R reported."""
    adapter = run.adapter
    if adapter.ddf is None:
        reason = f"not defined for {adapter.function} fits"
        return [Row("ddf", "ddf tables", reason, None, None, "", "info")]
    if r_summary.ddf is None:
        return [Row("ddf", "ddf tables", None, "not recorded for R", None, "", "missing")]
    methods = list(dict.fromkeys(str(m) for m in r_summary.ddf["method"]))
    try:
        coef, anova = adapter.ddf(run.result, methods, ANOVA_TYPE)
    except Exception as exc:  # an interlace failure is a parity finding, reported as such
        error = f"{type(exc).__name__}: {exc}"
        return [Row("ddf", "interlace ddf tables", "computed", error, None, "exact", "FAIL")]
    return compare_ddf(r_summary, dataclasses.replace(py_summary, ddf=coef, anova=anova), table)


def _check_levels(levels: Sequence[str]) -> None:
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown:
        raise ParityCallError(
            f"unknown comparison level(s) {', '.join(unknown)}; known: {', '.join(LEVELS)}"
        )


def _load_case(case: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(case, Mapping):
        return case
    with Path(case).open(encoding="utf-8") as fh:
        record: Mapping[str, Any] = json.load(fh)
    return record


def _design_dict(design: DesignSummary) -> dict[str, Any]:
    zt = sp.coo_matrix(design.Zt)
    return {
        "X": np.asarray(design.X, dtype=float).tolist(),
        "X_names": list(design.X_names),
        "Zt": {
            "shape": list(zt.shape),
            "i": zt.row.tolist(),
            "j": zt.col.tolist(),
            "x": zt.data.tolist(),
        },
        "Lind": np.asarray(design.Lind).tolist(),
        "lower": np.asarray(design.lower, dtype=float).tolist(),
        "cnms": [[g, list(names)] for g, names in design.cnms],
    }


def _design_from_dict(data: Mapping[str, Any]) -> DesignSummary:
    zt = data["Zt"]
    p = len(data["X_names"])
    return DesignSummary(
        X=np.asarray(data["X"], dtype=float).reshape(-1, p),
        X_names=tuple(data["X_names"]),
        Zt=sp.coo_matrix((zt["x"], (zt["i"], zt["j"])), shape=tuple(zt["shape"])).tocsc(),
        Lind=np.asarray(data["Lind"], dtype=np.int64),
        lower=np.asarray(data["lower"], dtype=float),
        cnms=tuple((str(g), tuple(names)) for g, names in data["cnms"]),
    )
