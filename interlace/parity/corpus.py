"""A corpus of parity cases declared as data, run live or against frozen R results.

A corpus is a JSON file holding a list of cases::

    [{"id": "sleepstudy_slope",
      "code": "lmer(Reaction ~ Days + (Days | Subject), sleepstudy)",
      "datasets": ["sleepstudy"],
      "tolerance_class": "lmm",
      "tolerances": {}}]

``datasets`` names bundled datasets (:mod:`interlace.datasets`), bound in R under the same
names; ``files`` binds CSV files (paths relative to the corpus file) to names.

A case whose R package cannot be installed everywhere (coxme is not packaged for Debian) may
declare a ``reference``: R outputs recorded elsewhere, with their provenance::

    {"id": "coxme_kidney_frailty",
     "code": "coxme(Surv(time, status) ~ age + sex + (1 | id), data = kidney)",
     "files": {"kidney": "../coxme/kidney.csv"}, "tolerance_class": "cox",
     "reference": {"file": "../coxme/coxme_reference.json", "case": "kidney_frailty",
                   "provenance": "coxme 2.2-22 reference outputs"}}

Freezing such a case runs it in R when its packages are installed; otherwise its record is
converted from the reference (:func:`interlace.parity.cox.coxme_reference_record`) and the
command says so instead of failing.

The repository's corpus is ``fixtures/parity/corpus.json``; freezing it writes one record per
case next to it (``fixtures/parity/<id>.json``, see :func:`interlace.parity.api.freeze`)::

    python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze

Without ``--freeze`` the command runs every case live and exits with status 1 on any failure;
``--case ID`` (repeatable) restricts either mode to the named cases, for instance to record
newly declared cases without re-recording the others::

    python -m interlace.parity.corpus fixtures/parity/corpus.json --freeze --case lme_machines_cs
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from interlace.parity.api import compare, compare_frozen, freeze, freeze_reference
from interlace.parity.calls import ParityCallError
from interlace.parity.rbridge import RUnavailableError
from interlace.parity.report import ParityReport


@dataclass(frozen=True)
class ParityCase:
    """One declared parity case.

    Attributes
    ----------
    id : str
        File-name-safe identifier.
    code : str
        One R model call, possibly after ``library()`` lines (``library(lmerTest)`` records
        and compares the denominator-df level).
    datasets : tuple of str
        Bundled datasets the call uses, bound under their own names.
    tolerance_class : str
        ``"lmm"``, ``"glmm"``, ``"clmm"`` or ``"cox"`` (documentation of intent; the model
        function determines the class used).
    tolerances : Mapping[str, float]
        Per-quantity overrides, with the reason in the corpus file's ``note``.
    files : Mapping[str, Path]
        CSV files bound to names (resolved against the corpus file's directory).
    reference : Mapping[str, str] or None
        ``file`` (resolved), ``case`` and ``provenance`` of recorded R outputs used when the
        case's R packages are missing.
    """

    id: str
    code: str
    datasets: tuple[str, ...]
    tolerance_class: str = "lmm"
    tolerances: Mapping[str, float] = field(default_factory=dict)
    files: Mapping[str, Path] = field(default_factory=dict)
    reference: Mapping[str, str] | None = None

    def frames(self) -> dict[str, pd.DataFrame]:
        """The case's data frames, by name (bundled datasets, then CSV files)."""
        from interlace import datasets

        frames = {name: datasets.load(name) for name in self.datasets}
        frames.update({name: pd.read_csv(path) for name, path in self.files.items()})
        return frames


def load_corpus(path: str | Path) -> list[ParityCase]:
    """Read a corpus file.

    Raises
    ------
    ParityCallError
        For a malformed entry or a duplicated id.
    """
    with Path(path).open(encoding="utf-8") as fh:
        entries: list[dict[str, Any]] = json.load(fh)
    here = Path(path).resolve().parent
    cases = []
    for entry in entries:
        reference = entry.get("reference")
        try:
            cases.append(
                ParityCase(
                    id=str(entry["id"]),
                    code=str(entry["code"]),
                    datasets=tuple(entry.get("datasets", ())),
                    tolerance_class=str(entry.get("tolerance_class", "lmm")),
                    tolerances=dict(entry.get("tolerances", {})),
                    files={k: here / v for k, v in entry.get("files", {}).items()},
                    reference=None
                    if reference is None
                    else {
                        "file": str(here / reference["file"]),
                        "case": str(reference["case"]),
                        "provenance": str(reference["provenance"]),
                    },
                )
            )
        except KeyError as exc:
            raise ParityCallError(f"corpus entry {entry!r} lacks {exc.args[0]!r}") from None
    ids = [c.id for c in cases]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise ParityCallError(f"duplicated corpus ids: {', '.join(duplicated)}")
    return cases


def run_live(case: ParityCase, levels: Sequence[str] | None = None) -> ParityReport:
    """Compare the case live (R via rpy2); ``levels`` as for :func:`~interlace.parity.compare`."""
    return compare(case.code, tolerances=case.tolerances, levels=levels, **case.frames())


def frozen_path(case: ParityCase, directory: str | Path) -> Path:
    """Where the frozen record of a case lives."""
    return Path(directory) / f"{case.id}.json"


def run_frozen(case: ParityCase, directory: str | Path) -> ParityReport:
    """Compare the case against its frozen record in ``directory`` (no R needed)."""
    return compare_frozen(
        frozen_path(case, directory), tolerances=case.tolerances, levels=None, **case.frames()
    )


def freeze_case(case: ParityCase, directory: str | Path) -> tuple[Path, str | None]:
    """Run the case in R and write its frozen record.

    Returns
    -------
    path : Path
        The file written.
    skipped : str or None
        Why R was not run, for a case converted from its ``reference`` because its R
        packages are missing; ``None`` when R ran it.

    Raises
    ------
    RUnavailableError
        When an R package is missing and the case has no reference.
    """
    skipped = None
    try:
        (record,) = freeze(case.code, ddf=None, **case.frames())
    except RUnavailableError as exc:
        if case.reference is None:
            raise
        record = freeze_reference(
            case.code,
            reference_case(case.reference["file"], case.reference["case"]),
            provenance=case.reference["provenance"],
            **case.frames(),
        )
        skipped = (
            f"{str(exc).splitlines()[0]}; record converted from {case.reference['provenance']}"
        )
    record["id"] = case.id
    path = frozen_path(case, directory)
    path.write_text(json.dumps(record, separators=(",", ":")) + "\n", encoding="utf-8")
    return path, skipped


def reference_case(path: str | Path, case_id: str) -> dict[str, Any]:
    """One case (by ``id``) of a reference file with ``generated_with`` and ``cases``.

    Raises
    ------
    ParityCallError
        If the file has no such case.
    """
    with Path(path).open(encoding="utf-8") as fh:
        data = json.load(fh)
    for case in data["cases"]:
        if case["id"] == case_id:
            return {**case, "generated_with": data.get("generated_with", {})}
    raise ParityCallError(f"{path} has no case {case_id!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m interlace.parity.corpus CORPUS.json [--freeze] [--case ID ...]``."""
    parser = argparse.ArgumentParser(prog="python -m interlace.parity.corpus")
    parser.add_argument("corpus", help="corpus JSON file")
    parser.add_argument(
        "--freeze", action="store_true", help="write frozen records next to the corpus file"
    )
    parser.add_argument(
        "--case", action="append", default=[], metavar="ID", help="only this case; repeatable"
    )
    args = parser.parse_args(argv)
    cases = load_corpus(args.corpus)
    unknown = sorted(set(args.case) - {c.id for c in cases})
    if unknown:
        parser.error(f"no case {', '.join(unknown)} in {args.corpus}")
    if args.case:
        cases = [c for c in cases if c.id in args.case]
    directory = Path(args.corpus).parent
    failed = 0
    for case in cases:
        if args.freeze:
            path, skipped = freeze_case(case, directory)
            if skipped:
                print(f"skipped {case.id} in R ({skipped}) -> {path}")
            else:
                print(f"froze {case.id} -> {path}")
            continue
        report = run_live(case)
        failed += not report.passed
        print(f"{case.id}: {'passed' if report.passed else 'FAILED'}")
        if not report.passed:
            print(report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
