"""``interlace translate FILE.R [-o FILE.py] [--lenient]``: translate an R script to Python.

The lead's ``interlace/cli.py`` wires :func:`add_subparser` into the ``interlace`` command;
:func:`run` returns the exit status (0 success, 1 translation error or unreadable file).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from interlace.errors import TranslationWarning
from interlace.translate.api import translate
from interlace.translate.errors import TranslationError

EXIT_OK = 0
EXIT_ERROR = 1


def add_subparser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``translate`` subcommand (its handler is :func:`run`)."""
    parser = subparsers.add_parser(
        "translate",
        help="translate an R analysis script into Python that uses interlace",
        description=(
            "Translate FILE.R (lme4, glmmTMB, ordinal, coxme and nlme model calls, their "
            "accessors and the data preparation around them) into Python. Notes about R "
            "semantics are written as comments; untranslatable code is an error unless "
            "--lenient is given."
        ),
    )
    parser.add_argument("file", metavar="FILE.R", help="the R script ('-' reads standard input)")
    parser.add_argument("-o", "--output", metavar="FILE.py", help="write here (default: stdout)")
    parser.add_argument(
        "--lenient",
        action="store_true",
        help="comment out untranslatable statements (with a warning) instead of failing",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Translate ``args.file`` and write the result; returns the exit status."""
    try:
        if args.file == "-":
            source, name = sys.stdin.read(), "<stdin>"
        else:
            source, name = Path(args.file).read_text(encoding="utf-8"), args.file
    except OSError as err:
        print(f"interlace: error: cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return EXIT_ERROR
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", TranslationWarning)
        try:
            python = translate(source, strict=not args.lenient, filename=name)
        except TranslationError as err:
            print(f"interlace: error: {err}", file=sys.stderr)
            return EXIT_ERROR
    for warning in caught:
        print(f"interlace: warning: {warning.message}", file=sys.stderr)
    if args.output:
        Path(args.output).write_text(python, encoding="utf-8")
    else:
        sys.stdout.write(python)
    return EXIT_OK
