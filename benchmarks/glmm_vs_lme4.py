"""Time interlace's ``glmer`` against lme4 here; write the GLMM section of RESULTS.md.

Usage::

    .venv/bin/python benchmarks/glmm_vs_lme4.py [--quick]

As :mod:`lmm_vs_lme4` (whose conventions this follows): lme4 runs in an
Rscript subprocess (``benchmarks/lme4_fits.R``) that times its own fits, so R
start-up is not counted; interlace is timed in this process with the formula
front end included.  Peak memory: R's ``gc()`` maximum heap; for interlace
the ``tracemalloc`` peak of one separate fit.  The section replaces the one
of an earlier run and sits before the large-design section of
``movielens_sim.py``.
"""

from __future__ import annotations

import os

# One BLAS thread, like R's reference BLAS here (see lmm_vs_lme4.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time
from dataclasses import dataclass

import pandas as pd
from sidebyside import markdown_formula, run_r, table_row, time_fits, write_section

import interlace.datasets as datasets
from interlace.api.glmer import glmer

SECTION = "\n## GLMM: interlace `glmer` vs lme4"
NEXT = "\n## Large crossed design"  # written by movielens_sim.py, kept after this section


@dataclass(frozen=True)
class Case:
    name: str
    formula: str
    data: str
    family: str
    repeats: int


def insteval_good() -> pd.DataFrame:
    """InstEval's ratings of 4 and 5 against the rest (as ``InstEvalGood`` in lme4_fits.R)."""
    data = datasets.load("InstEval")
    return data.assign(good=(data["y"].astype(int) > 3).astype(float))


CASES = [
    Case(
        "cbpp",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        "cbpp",
        "binomial",
        20,
    ),
    Case(
        "grouseticks",
        "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)",
        "grouseticks",
        "poisson",
        5,
    ),
    Case(
        "verbagg",
        "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
        "VerbAgg",
        "binomial",
        5,
    ),
    Case("insteval_good", "good ~ service + (1 | s) + (1 | d)", "InstEvalGood", "binomial", 1),
]

#: Data sets derived for a case, by the name used in ``Case.data``.
DERIVED = {"InstEvalGood": insteval_good}


def run_interlace(case: Case) -> dict[str, float]:
    data = DERIVED[case.data]() if case.data in DERIVED else datasets.load(case.data)
    fit, timing = time_fits(lambda: glmer(case.formula, data, family=case.family), case.repeats)
    return {**timing, "feval": fit.optinfo.feval, "objective": -2.0 * fit.llf}


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    for case in CASES:
        if quick and case.name != "cbpp":
            continue
        r = run_r("lme4_fits.R", case.name, case.repeats)
        p = run_interlace(case)
        rows.append((case, r, p))
        print(case.name, f"lme4 {r['elapsed']:.3f}s  interlace {p['elapsed']:.3f}s", flush=True)
    write_section(SECTION, report(rows), before=NEXT)


def report(rows: list[tuple[Case, dict[str, object], dict[str, float]]]) -> str:
    """The Markdown of the GLMM section."""
    load = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        SECTION.lstrip("\n"),
        "",
        f"Written by `benchmarks/glmm_vs_lme4.py` on {stamp} (lme4 via `benchmarks/lme4_fits.R`);"
        f" load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f};"
        f" OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}.",
        "",
        "Default fits (nAGQ = 1, Laplace; both stages, derivatives for the convergence checks on",
        "both sides). Times are medians per fit in seconds, formula processing included.",
        "Evaluations: lme4's `optinfo$feval` counts the second stage only; interlace's `feval`",
        "counts both stages. Objective: −2 log-likelihood.",
        "",
        "| model | lme4 wall | interlace wall | speed-up (wall) | lme4 CPU | interlace CPU |"
        " speed-up (CPU) | evals lme4 / interlace | −2 logLik lme4 / interlace |"
        " peak MB lme4 (R heap) / interlace (tracemalloc) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, r, p in rows:
        label = f"{case.name}: `{markdown_formula(case.formula)}` ({case.family})"
        lines.append(table_row(label, r, p, peak_digits=1))
    return "\n".join(["", *lines, ""])


if __name__ == "__main__":
    main()
