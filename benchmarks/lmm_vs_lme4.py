"""Time interlace's ``lmer`` against lme4 on the same machine; write benchmarks/RESULTS.md.

Usage::

    .venv/bin/python benchmarks/lmm_vs_lme4.py [--quick]

lme4 runs in an Rscript subprocess that times its own fits (``system.time``),
so R start-up is not counted.  interlace is timed in this process with the
formula front end included, as ``lmer()`` is in R.  Peak memory: R's
``gc()`` maximum heap; for interlace the ``tracemalloc`` peak of one separate
fit (Python and NumPy allocations) and the process's maximum RSS.

R's reference BLAS uses one core.  interlace is timed twice: limited to one
thread (OpenBLAS and the numba kernels), and on all of the machine's cores.
Needs the ``speed`` extra (numba).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from dataclasses import dataclass

import numba
import numpy as np
from sidebyside import ROOT, markdown_formula, run_r, table_row, time_fits
from threadpoolctl import threadpool_limits

import interlace.datasets as datasets
from interlace.api.lmer import lmer

#: interlace runs on one thread, then on every core
THREADS = (1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Case:
    name: str
    formula: str
    data: str
    REML: bool
    repeats: int  # lme4's fits (interlace: at least 5)
    optimizers: tuple[str, ...] = ("auto",)  # interlace's settings timed


#: InstEval is also timed with lme4's own optimiser (BOBYQA), beside the default
#: (which there is L-BFGS-B with the analytic gradient)
CASES = [
    Case("sleepstudy", "Reaction ~ Days + (Days | Subject)", "sleepstudy", True, 20),
    Case("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin", True, 20),
    Case(
        "insteval_ml",
        "y ~ service + (1 | s) + (1 | d) + (1 | dept)",
        "InstEval",
        False,
        1,
        ("auto", "nloptwrap"),
    ),
    Case(
        "insteval_reml",
        "y ~ service * dept + (1 | s) + (1 | d)",
        "InstEval",
        True,
        1,
        ("auto", "nloptwrap"),
    ),
]


def run_interlace(case: Case, threads: int, optimizer: str) -> tuple[dict[str, float], str]:
    data = datasets.load(case.data)
    numba.set_num_threads(threads)
    control = {"optimizer": optimizer}
    with threadpool_limits(limits=threads):
        fit, timing = time_fits(
            lambda: lmer(case.formula, data, REML=case.REML, control=control),
            max(case.repeats, 5),
        )
    return {**timing, "feval": fit.optinfo.feval, "objective": fit.objective}, str(
        fit.optinfo.optimizer
    )


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    for case in CASES:
        if quick and case.name.startswith("insteval"):
            continue
        r = run_r("lme4_fits.R", case.name, case.repeats)
        for optimizer in case.optimizers:
            for threads in THREADS:
                p, used = run_interlace(case, threads, optimizer)
                rows.append((case, threads, used, r, p))
                print(
                    case.name,
                    used,
                    f"lme4 {r['elapsed']:.3f}s  interlace {p['elapsed']:.3f}s",
                    flush=True,
                )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    marker = "\n## "  # later sections (glmm_vs_lme4.py, movielens_sim.py) are kept
    kept = old[old.index(marker) :] if marker in old else ""
    path.write_text(report(rows, rss) + kept)


Row = tuple[Case, int, str, dict[str, object], dict[str, float]]


def report(rows: list[Row], rss: float) -> str:
    """The Markdown of RESULTS.md."""
    load = os.getloadavg()
    first = rows[0][3]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "# interlace `lmer` vs lme4 — timings on this machine",
        "",
        f"Written by `benchmarks/lmm_vs_lme4.py` on {stamp}.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, NumPy {np.__version__}; "
        f"{first['R']}, lme4 {first['lme4']}.",
        f"Load average when written: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        "(the box is shared; wall times under load are noisy, CPU times less so).",
        "Threads: R uses the single-threaded reference BLAS; interlace is timed on one thread",
        f"(OpenBLAS and numba limited to 1) and on all {os.cpu_count()} cores.",
        "",
        "Times are medians per fit in seconds (formula processing included on both sides;",
        "interlace: at least 5 fits after a warm-up, lme4: the stated repeats, 1 for InstEval).",
        "interlace's optimiser is named in each row: the default (`optimizer='auto'`) is",
        "L-BFGS-B with the analytic gradient for InstEval and lme4's BOBYQA (`nloptwrap`) for",
        "the small models; InstEval is also timed with `optimizer='nloptwrap'`.",
        "Evaluations: objective evaluations by the optimiser (lme4's `optinfo$feval`; with",
        "L-BFGS-B each also computes the gradient). Both then evaluate finite-difference",
        "derivatives for the convergence checks, except that interlace skips them for",
        "n > 10,000 (as lme4 >= 1.1-38 does; lme4 1.1-31 here still computes them:",
        "about 18 more evaluations for insteval_ml and 8 for insteval_reml).",
        "",
        "| model | lme4 wall | interlace wall | speed-up (wall) | lme4 CPU | interlace CPU |"
        " speed-up (CPU) | evals lme4 / interlace | objective lme4 / interlace |"
        " peak MB lme4 (R heap) / interlace (tracemalloc) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, threads, used, r, p in rows:
        ml = "" if case.REML else " (ML)"
        label = f"{case.name}: `{markdown_formula(case.formula)}`{ml}, {used}, "
        label += f"{threads} thread" + ("s" if threads > 1 else "")
        lines.append(table_row(label, r, p))
    lines += ["", f"Maximum RSS of the Python benchmark process: {rss:.0f} MB.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
