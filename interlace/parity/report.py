"""The parity report: one row per compared quantity, with a verdict.

Verdicts
--------
``"ok"``
    Within tolerance.
``"better"``
    One-sided quantity (log-likelihood) where interlace is better than R by more than the
    tolerance: reported, not a failure.
``"FAIL"``
    Outside tolerance.
``"missing"``
    Present on one side only (a coefficient R estimates and interlace does not, say): a failure.
``"info"``
    Shown for context, not compared (optimiser, messages).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Verdict = Literal["ok", "better", "FAIL", "missing", "info"]
FAILING: frozenset[str] = frozenset({"FAIL", "missing"})
TABLE_COLUMNS = ("level", "quantity", "R", "interlace", "difference", "tolerance", "verdict")
_WIDTHS = (9, 50, 22, 22, 10, 24, 7)  # terminal column caps


@dataclass(frozen=True)
class Row:
    """One compared quantity.

    Attributes
    ----------
    level : str
        ``"design"``, ``"objective"`` or ``"fit"``.
    quantity : str
        What is compared, e.g. ``"fixef[Days]"``.
    r, interlace : object
        The two values (numbers, strings or flags).
    difference : float or None
        ``interlace − R`` for numbers (relative to the block scale for block quantities).
    tolerance : str
        Human-readable tolerance.
    verdict : Verdict
    """

    level: str
    quantity: str
    r: object
    interlace: object
    difference: float | None
    tolerance: str
    verdict: Verdict


@dataclass(frozen=True)
class ParityReport:
    """Result of comparing one model fitted in R and in interlace.

    Attributes
    ----------
    title : str
        Usually the model's name and R call.
    rows : tuple of Row
    notes : tuple of str
        Context: messages and warnings of each side, skipped comparison levels.
    meta : Mapping[str, object]
        Versions, tolerance class, mode (``"live"`` or ``"frozen"``).
    """

    title: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether no row failed (``"FAIL"`` or ``"missing"``)."""
        return not any(row.verdict in FAILING for row in self.rows)

    @property
    def failures(self) -> pd.DataFrame:
        """The failing rows of :attr:`table`."""
        table = self.table
        return table[table["verdict"].isin(sorted(FAILING))].reset_index(drop=True)

    @property
    def table(self) -> pd.DataFrame:
        """One row per quantity: level, quantity, R, interlace, difference, tolerance, verdict."""
        return pd.DataFrame(
            [
                (r.level, r.quantity, r.r, r.interlace, r.difference, r.tolerance, r.verdict)
                for r in self.rows
            ],
            columns=list(TABLE_COLUMNS),
        ).astype({"R": object, "interlace": object, "difference": float})

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "title": self.title,
            "passed": self.passed,
            "rows": [
                {
                    "level": r.level,
                    "quantity": r.quantity,
                    "R": _json_value(r.r),
                    "interlace": _json_value(r.interlace),
                    "difference": _json_value(r.difference),
                    "tolerance": r.tolerance,
                    "verdict": r.verdict,
                }
                for r in self.rows
            ],
            "notes": list(self.notes),
            "meta": {k: _json_value(v) for k, v in self.meta.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON (``NaN`` written as ``null``)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_markdown(self) -> str:
        """The report as a GitHub-flavoured Markdown section with a table."""
        status = "PASSED" if self.passed else "FAILED"
        lines = [f"### {_escape(self.title)}: {status}", ""]
        lines.append("| " + " | ".join(TABLE_COLUMNS) + " |")
        lines.append("|" + "|".join("---" for _ in TABLE_COLUMNS) + "|")
        for row in self.rows:
            cells = _cells(row)
            lines.append("| " + " | ".join(_escape(c) for c in cells) + " |")
        if self.notes:
            lines.append("")
            lines.extend(f"- {_escape(note)}" for note in self.notes)
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        cells = [list(TABLE_COLUMNS)] + [_cells(row) for row in self.rows]
        widths = [min(max(len(c[i]) for c in cells), cap) for i, cap in enumerate(_WIDTHS)]
        status = "PASSED" if self.passed else "FAILED"
        failed = sum(row.verdict in FAILING for row in self.rows)
        head = f"{self.title}\n{status}: {len(self.rows)} quantities compared, {failed} failed"
        lines = [head, ""]
        for i, c in enumerate(cells):
            lines.append("  ".join(_clip(c[j], widths[j]).ljust(widths[j]) for j in range(len(c))))
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        failing = [row for row in self.rows if row.verdict in FAILING]
        if failing:
            lines.append("")
            lines.extend(
                f"{row.verdict}: {row.quantity}: R {_format(row.r)}, interlace "
                f"{_format(row.interlace)} (tolerance {row.tolerance})"
                for row in failing
            )
        if self.notes:
            lines.append("")
            lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(line.rstrip() for line in lines)


def _format(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return "NaN" if math.isnan(value) else f"{float(value):.10g}"
    return str(value)


def _cells(row: Row) -> list[str]:
    diff = "" if row.difference is None else f"{row.difference:.3g}"
    return [
        row.level,
        row.quantity,
        _format(row.r),
        _format(row.interlace),
        diff,
        row.tolerance,
        row.verdict,
    ]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _json_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_json_value(v) for v in value]
    return str(value)
