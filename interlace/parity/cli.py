"""``interlace parity FILE.R --data NAME=PATH.csv ...``: the harness on the command line.

Every model call in the R file (``m1 <- lmer(...)``) is fitted in R and in interlace and gets
one report.  ``--data NAME=PATH`` binds a CSV file (``.csv``, ``.csv.gz``, ``.tsv``) to the
name the R code uses; ``--data NAME`` (or ``NAME=DATASET``) binds a bundled dataset.  Names the
code uses that no ``--data`` binds are looked up among the bundled datasets.

Exit status: 0 when every report passed, 1 when any quantity failed or a fit failed, 2 for usage
errors and when R, rpy2 or an R package is missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

import pandas as pd

from interlace.errors import InterlaceError
from interlace.parity.api import LEVELS, compare_all
from interlace.parity.rbridge import RUnavailableError
from interlace.parity.report import ParityReport
from interlace.parity.tolerances import Tolerance, UnknownToleranceError

EXIT_OK = 0
EXIT_MISMATCH = 1
EXIT_USAGE = 2


def add_subparser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``parity`` subcommand to an ``argparse`` sub-parser collection.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``parity`` parser; its default ``handler`` is :func:`run`.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "parity",
        help="fit every model in an R file in R and in interlace and compare them",
        description=(
            "Fit every model call in FILE.R (lmer, glmer, glmer.nb, clmm, coxme, lme) with R "
            "(via rpy2) and with interlace, "
            "compare design, objective and fit, and print one report per model. "
            "Exit status 1 when any quantity is outside its tolerance."
        ),
    )
    parser.add_argument("file", metavar="FILE.R", help="R code with model calls")
    parser.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="bind a CSV file (or a bundled dataset) to a name used in the R code; repeatable",
    )
    parser.add_argument(
        "--tolerance",
        action="append",
        default=[],
        metavar="QUANTITY=VALUE",
        help="override a tolerance, e.g. fixef=1e-6 (absolute) or varcorr=0.01 (relative)",
    )
    parser.add_argument(
        "--level",
        action="append",
        choices=LEVELS,
        help="compare only these levels (default: design, objective and fit, and ddf when the "
        "file attaches lmerTest)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the reports as JSON")
    output.add_argument("--markdown", action="store_true", help="print the reports as Markdown")
    parser.set_defaults(handler=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run ``interlace parity``; returns the exit status (see the module docstring)."""
    try:
        with open(args.file, encoding="utf-8") as fh:
            code = fh.read()
        frames = {name: _load(spec) for name, spec in (_binding(d) for d in args.data)}
        tolerances = dict(_tolerance(t) for t in args.tolerance)
        frames.update(_bundled_for(code, frames))
        reports = compare_all(
            code,
            tolerances=tolerances,
            levels=tuple(args.level) if args.level else None,
            errors="report",
            **frames,
        )
    except RUnavailableError as exc:
        _error(str(exc))
        return EXIT_USAGE
    except (OSError, UsageError, UnknownToleranceError) as exc:
        _error(str(exc))
        return EXIT_USAGE
    except InterlaceError as exc:
        _error(str(exc))
        return EXIT_MISMATCH
    if not reports:
        _error(f"no model call found in {args.file}")
        return EXIT_USAGE
    _print(reports, args)
    return EXIT_OK if all(r.passed for r in reports) else EXIT_MISMATCH


class UsageError(Exception):
    """A malformed command-line value."""


def _binding(spec: str) -> tuple[str, str]:
    name, sep, source = spec.partition("=")
    if not name:
        raise UsageError(f"--data {spec!r}: expected NAME=PATH or a dataset NAME")
    return name, source if sep else name


def _load(spec: str) -> pd.DataFrame:
    from interlace.cli import DataSourceError, load_data

    try:
        return load_data(spec)
    except (DataSourceError, InterlaceError) as exc:
        raise UsageError(str(exc)) from None


def _tolerance(spec: str) -> tuple[str, Tolerance | float]:
    quantity, sep, value = spec.partition("=")
    try:
        if not sep:
            raise ValueError(spec)
        return quantity, float(value)
    except ValueError:
        raise UsageError(f"--tolerance {spec!r}: expected QUANTITY=NUMBER") from None


def _bundled_for(code: str, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Bundled datasets whose names appear in the code and are not bound by ``--data``."""
    from interlace import datasets

    out = {}
    for name in datasets.names():
        if name not in frames and _mentions(code, name):
            out[name] = datasets.load(name)
    return out


def _mentions(code: str, name: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", code) is not None


def _print(reports: list[ParityReport], args: argparse.Namespace) -> None:
    if args.json:
        payload = {
            "passed": all(r.passed for r in reports),
            "reports": [r.to_dict() for r in reports],
        }
        print(json.dumps(payload, indent=2, allow_nan=False))
    elif args.markdown:
        print("\n".join(r.to_markdown() for r in reports))
    else:
        print("\n\n".join(str(r) for r in reports))
        passed = sum(r.passed for r in reports)
        print(f"\n{passed} of {len(reports)} model(s) passed")


def _error(message: str) -> None:
    first, _, rest = message.partition("\n")
    print(f"interlace parity: error: {first}", file=sys.stderr)
    if rest:
        print(rest, file=sys.stderr)
