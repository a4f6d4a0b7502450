"""The ``interlace`` command.

Subcommands
-----------
``interlace fit FORMULA --data NAME_OR_CSV [--reml | --ml] [--show design]``
    Fit an lme4-style linear mixed model on a bundled dataset or a CSV file and print an
    lme4-style summary.  When the formula has no random-effect term (or with ``--show design``)
    it prints the parsed model and its design.
``interlace translate FILE.R [-o FILE.py] [--lenient]``
    Translate an R analysis script into Python that uses interlace
    (:mod:`interlace.translate.cli`).
``interlace parity FILE.R [--data NAME=PATH.csv ...]``
    Fit every model call of an R file in R and in interlace and compare them
    (:mod:`interlace.parity.cli`; needs R and rpy2).
``interlace datasets``
    List the bundled datasets.

Exit status: 0 on success, 1 when interlace reports an error about the model or the data
(a one-line message on stderr, no traceback), a translation error, or, for ``parity``, a
mismatch with R; 2 for command-line usage errors.

The design and fitting code is imported only when a subcommand needs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from interlace._version import __version__
from interlace.errors import InterlaceError

if TYPE_CHECKING:
    import pandas as pd

    from interlace.ir.terms import FormulaIR, RandomTerm, TermList

EXIT_OK = 0
EXIT_ERROR = 1

_CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")


class DataSourceError(Exception):
    """A ``--data`` argument that names neither a bundled dataset nor a readable CSV file."""


# --- data -----------------------------------------------------------------------------------


def _looks_like_path(spec: str) -> bool:
    return spec.lower().endswith(_CSV_SUFFIXES) or "/" in spec or Path(spec).is_file()


def load_data(spec: str) -> pd.DataFrame:
    """Load ``--data``: a CSV path (``.csv``, ``.csv.gz``, ``.tsv``) or a bundled dataset name.

    A path is anything with one of those suffixes, a ``/``, or the name of an existing file;
    columns are read with pandas' defaults (text columns become factors at design time, with
    R's level order).

    Parameters
    ----------
    spec
        A file path, or a dataset name such as ``"sleepstudy"``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataSourceError
        If a file cannot be read.
    interlace.datasets.DatasetNotFoundError
        If no bundled dataset has that name.
    """
    if _looks_like_path(spec):
        import pandas

        sep = "\t" if spec.lower().endswith(".tsv") else ","
        try:
            frame = pandas.read_csv(spec, sep=sep)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DataSourceError(f"cannot read data file {spec!r}: {exc}") from None
        return frame
    from interlace.datasets import load

    return load(spec)


# --- describing a model ----------------------------------------------------------------------


def _term_list(terms: TermList) -> str:
    parts = (["(Intercept)"] if terms.intercept else []) + list(terms.labels)
    return ", ".join(parts) if parts else "(none)"


def _random_term_line(term: RandomTerm) -> str:
    cov = "" if term.covariance.kind == "us" else f", covariance {term.covariance.kind}"
    return (
        f"  ({term.source}): grouping factor {term.group_label}; terms {_term_list(term.lhs)}{cov}"
    )


def describe_formula(ir: FormulaIR) -> str:
    """The parsed model in words: response, fixed terms, random terms.

    Parameters
    ----------
    ir
        The expanded formula.

    Returns
    -------
    str
    """
    lines = [
        f"Formula: {ir.text}",
        f"Response: {ir.response.label if ir.response is not None else '(none)'}",
        f"Fixed terms: {_term_list(ir.fixed)}",
    ]
    if ir.fixed.offsets:
        lines.append("Offsets: " + ", ".join(v.label for v in ir.fixed.offsets))
    if ir.random:
        lines.append(f"Random terms ({ir.dialect.name} rules):")
        lines.extend(_random_term_line(term) for term in ir.random)
    else:
        lines.append("Random terms: (none)")
    return "\n".join(lines)


def _names(values: Sequence[object], limit: int = 12) -> str:
    shown = [str(v) for v in values[:limit]]
    more = f", ... ({len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(shown) + more


def describe_design(formula: str, data: pd.DataFrame, ir: FormulaIR, *, reml: bool) -> str:
    """Dimensions and column names of the model's design matrices.

    Uses ``interlace.lformula`` (lme4's ``lFormula``) for a mixed model and
    ``interlace.model_matrix`` for a formula without random-effect terms.

    Returns
    -------
    str
    """
    from interlace import lformula, model_matrix

    if not ir.random:
        X = model_matrix(formula, data)
        return "\n".join(
            [
                f"Design: X is {X.shape[0]} x {X.shape[1]}",
                f"  X columns: {_names(list(X.columns))}",
            ]
        )
    lf = lformula(formula, data, REML=reml)
    lines = [
        f"Design (lme4's lFormula): X is {lf.X.shape[0]} x {lf.X.shape[1]}, "
        f"Zt is {lf.Zt.shape[0]} x {lf.Zt.shape[1]}, {len(lf.theta)} theta parameters",
        f"  X columns: {_names(list(lf.X_names))}",
    ]
    if lf.X_dropped:
        lines.append(f"  X columns dropped (rank deficient): {_names(list(lf.X_dropped))}")
    lines.append("  random-effect terms in lme4's order:")
    for group, columns in lf.cnms:
        nlevels = len(lf.flist[group].cat.categories)
        lines.append(f"    {group} ({nlevels} levels): {', '.join(columns)}")
    lines.append(f"  theta start: {_names([f'{t:g}' for t in lf.theta])}")
    lines.append(f"  theta lower: {_names([f'{t:g}' for t in lf.lower])}")
    return "\n".join(lines)


# --- subcommands ------------------------------------------------------------------------------


def _parse_formula(formula: str, columns: Sequence[str]) -> FormulaIR:
    """Expand ``formula`` with lme4's rules, allowing a model without random terms."""
    from interlace.formula import formula_ir
    from interlace.ir.terms import LME4

    dialect = dataclasses.replace(LME4, requires_random=False)
    return formula_ir(formula, dialect=dialect, columns=columns)


def cmd_fit(args: argparse.Namespace) -> int:
    """``interlace fit``: fit a mixed model and print its summary, or describe the model.

    Everything is computed before anything is printed, so an error leaves no partial output.
    """
    from interlace import lmer

    data = load_data(args.data)
    ir = _parse_formula(args.formula, [str(c) for c in data.columns])
    blocks: list[str] = []
    if ir.random:
        fit = lmer(args.formula, data, REML=args.REML, data_name=args.data)
        blocks.append(str(fit.summary()))
    if not ir.random or args.show == "design":
        blocks.append(
            f"Data: {args.data} ({data.shape[0]} rows, {data.shape[1]} columns)\n"
            + describe_formula(ir)
            + "\n"
            + describe_design(args.formula, data, ir, reml=args.REML)
        )
    if not ir.random:
        blocks.append("(not fitted: the formula has no random-effect term)")
    print("\n\n".join(blocks))
    return EXIT_OK


def cmd_datasets(args: argparse.Namespace) -> int:
    """``interlace datasets``: list the bundled datasets."""
    from interlace.datasets import describe, names

    rows = []
    for name in names():
        info = describe(name)
        rows.append((name, info.package, f"{info.nrow} x {info.ncol}", info.title))
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    return EXIT_OK


# --- argument parsing ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``interlace`` command."""
    parser = argparse.ArgumentParser(
        prog="interlace",
        description=(
            "R-exact mixed models in Python. Paste an lme4 model formula and get lme4's numbers."
        ),
    )
    parser.add_argument("--version", action="version", version=f"interlace {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    fit = sub.add_parser(
        "fit",
        help="fit a linear mixed model (lme4 formula) and print an lme4-style summary",
        description=(
            "Fit FORMULA, written as for lme4::lmer, to a bundled dataset or a CSV file and "
            "print an lme4-style summary. Without the fitting engine, or without a "
            "random-effect term, print the parsed model and its design."
        ),
    )
    fit.add_argument("formula", metavar="FORMULA", help='e.g. "Reaction ~ Days + (Days | Subject)"')
    fit.add_argument(
        "--data",
        required=True,
        metavar="NAME_OR_CSV",
        help="a bundled dataset (see 'interlace datasets') or a path to a CSV file",
    )
    method = fit.add_mutually_exclusive_group()
    method.add_argument(
        "--reml", dest="REML", action="store_true", default=True, help="REML fit (default)"
    )
    method.add_argument("--ml", dest="REML", action="store_false", help="maximum-likelihood fit")
    fit.add_argument(
        "--show",
        choices=["design"],
        help="also print the parsed model and its design matrices",
    )
    fit.set_defaults(handler=cmd_fit)

    from interlace.parity.cli import add_subparser as add_parity_subparser
    from interlace.translate.cli import add_subparser as add_translate_subparser

    add_translate_subparser(sub)
    add_parity_subparser(sub)

    datasets = sub.add_parser("datasets", help="list the bundled datasets")
    datasets.set_defaults(handler=cmd_datasets)
    return parser


def _report(message: str, kind: str = "error") -> None:
    first, _, rest = message.partition("\n")
    print(f"interlace: {kind}: {first}", file=sys.stderr)
    if rest:
        print(rest, file=sys.stderr)


def _run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        return handler(args)
    except (InterlaceError, DataSourceError) as exc:
        _report(str(exc))
        return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``interlace`` command.

    Warnings raised while the command runs are printed after it on standard error, each
    distinct one once, as ``interlace: warning: <class>: <message>``.

    Parameters
    ----------
    argv
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status (see the module docstring).
    """
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = _run(args.handler, args)
    distinct = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    for message in distinct:
        _report(message, kind="warning")
    return status
