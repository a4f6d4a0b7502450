"""Time interlace's ``clmm`` against ordinal's here; write the CLMM section of RESULTS.md.

Usage::

    .venv/bin/python benchmarks/clmm_vs_ordinal.py [--quick]

As the lme4 benchmarks (:mod:`sidebyside`): ordinal runs in an Rscript
subprocess (``benchmarks/ordinal_fits.R``) that times its own fits, so R
start-up is not counted; interlace is timed in this process with the formula
front end included.  Both compute the finite-difference Hessian (ordinal's
default ``Hess = TRUE``).  Each side's time is the median of several fits.
Peak memory: R's ``gc()`` maximum heap; for interlace the ``tracemalloc``
peak of one separate fit.
"""

from __future__ import annotations

import os

# One BLAS thread, like R's reference BLAS here (see lmm_vs_lme4.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time
from dataclasses import dataclass

from sidebyside import markdown_formula, run_r, table_row, time_fits, write_section

import interlace.datasets as datasets
from interlace.api.clmm import clmm

SECTION = "\n## CLMM: interlace `clmm` vs ordinal"
BEFORE = "\n## Large crossed design"  # written by movielens_sim.py, kept last


@dataclass(frozen=True)
class Case:
    name: str
    formula: str
    data: str
    repeats: int


CASES = [
    Case("soup", "SURENESS ~ PROD + (1 | RESP)", "soup", 5),
    Case("wine", "rating ~ temp + contact + (1 | judge)", "wine", 9),
    Case("wine_crossed", "rating ~ temp + contact + (1 | judge) + (1 | bottle)", "wine", 5),
    Case("soup_nested", "SURENESS ~ PROD + (1 | RESP/PRODID)", "soup", 3),
    Case("soup_crossed", "SURENESS ~ PROD + (1 | RESP) + (1 | PRODID)", "soup", 3),
]


def run_interlace(case: Case) -> dict[str, float]:
    data = datasets.load(case.data)
    fit, timing = time_fits(lambda: clmm(case.formula, data), case.repeats)
    return {**timing, "feval": fit.neval, "objective": -2.0 * fit.llf}


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    for case in CASES:
        if quick and case.name != "wine":
            continue
        r = run_r("ordinal_fits.R", case.name, case.repeats)
        p = run_interlace(case)
        rows.append((case, r, p))
        print(case.name, f"ordinal {r['elapsed']:.3f}s  interlace {p['elapsed']:.3f}s", flush=True)
    write_section(SECTION, report(rows), before=BEFORE)


def report(rows: list[tuple[Case, dict[str, object], dict[str, float]]]) -> str:
    """The Markdown of the CLMM section."""
    load = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    versions = rows[0][1] if rows else {}
    lines = [
        SECTION.lstrip("\n"),
        "",
        f"Written by `benchmarks/clmm_vs_ordinal.py` on {stamp} (ordinal"
        f" {versions.get('ordinal', '?')} via `benchmarks/ordinal_fits.R`);"
        f" load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (the 2-core machine is"
        " shared with other jobs: wall times are noisy, CPU times less so);"
        f" OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}.",
        "",
        "Default fits (Laplace; the Hessian for the standard errors on both sides). Times are",
        "medians per fit in seconds, formula processing included (repeats: soup 5, wine 9,",
        "wine crossed 5, soup nested and crossed 3; interlace after one warm-up fit).",
        "Evaluations of the objective: ordinal's `fit$neval` (its inner Newton iterations for",
        "the modes not counted), interlace's `neval` (BOBYQA with restarts, Newton polishing",
        "and the Hessian).",
        "Objective: −2 log-likelihood. Speed-up > 1 means interlace is faster.",
        "",
        "| model | ordinal wall | interlace wall | speed-up (wall) | ordinal CPU | interlace CPU |"
        " speed-up (CPU) | evals ordinal / interlace | −2 logLik ordinal / interlace |"
        " peak MB ordinal (R heap) / interlace (tracemalloc) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, r, p in rows:
        label = f"{case.name}: `{markdown_formula(case.formula)}`"
        lines.append(table_row(label, r, p, peak_digits=1))
    return "\n".join(["", *lines, ""])


if __name__ == "__main__":
    main()
