"""Time interlace's ``glmer`` against lme4 here; write the GLMM section of RESULTS.md.

Usage::

    .venv/bin/python benchmarks/glmm_vs_lme4.py [--quick]

As :mod:`lmm_vs_lme4` (whose conventions this follows): lme4 runs in an
Rscript subprocess (``benchmarks/glmm_lme4.R``) that times its own fits, so R
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

import json
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from pathlib import Path

import interlace.datasets as datasets
from interlace.api.glmer import glmer

ROOT = Path(__file__).resolve().parents[1]
SECTION = "\n## GLMM: interlace `glmer` vs lme4"
NEXT = "\n## Large crossed design"  # written by movielens_sim.py, kept after this section


@dataclass(frozen=True)
class Case:
    name: str
    formula: str
    data: str
    family: str
    repeats: int


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
]


def run_lme4(case: Case) -> dict[str, object]:
    out = subprocess.run(
        ["Rscript", str(ROOT / "benchmarks" / "glmm_lme4.R"), case.name, str(case.repeats)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def run_interlace(case: Case) -> dict[str, float | int]:
    data = datasets.load(case.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        glmer(case.formula, data, family=case.family)  # warm-up (imports, caches)
        wall, cpu = [], []
        for _ in range(case.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            fit = glmer(case.formula, data, family=case.family)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        tracemalloc.start()
        glmer(case.formula, data, family=case.family)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {
        "elapsed": statistics.median(wall),
        "cpu": statistics.median(cpu),
        "feval": fit.optinfo.feval,
        "objective": -2.0 * fit.llf,
        "peak_mb": peak / 2**20,
    }


def main() -> None:
    quick = "--quick" in sys.argv
    rows = []
    for case in CASES:
        if quick and case.name != "cbpp":
            continue
        r = run_lme4(case)
        p = run_interlace(case)
        rows.append((case, r, p))
        print(case.name, f"lme4 {r['elapsed']:.3f}s  interlace {p['elapsed']:.3f}s", flush=True)
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    if SECTION in old:
        head, tail = old[: old.index(SECTION)], old[old.index(SECTION) + len(SECTION) :]
        tail = tail[tail.index("\n## ") :] if "\n## " in tail else ""
    elif NEXT in old:
        head, tail = old[: old.index(NEXT)], old[old.index(NEXT) :]
    else:
        head, tail = old, ""
    path.write_text(head.rstrip("\n") + "\n" + report(rows) + tail)


def report(rows: list[tuple[Case, dict[str, object], dict[str, float | int]]]) -> str:
    """The Markdown of the GLMM section."""
    load = os.getloadavg()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        SECTION.lstrip("\n"),
        "",
        f"Written by `benchmarks/glmm_vs_lme4.py` on {stamp} (lme4 via `benchmarks/glmm_lme4.R`);"
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
        rw, rc = float(str(r["elapsed"])), float(str(r["cpu"]))
        pw, pc = float(p["elapsed"]), float(p["cpu"])
        formula = case.formula.replace("|", "\\|")  # a bar would split the Markdown cell
        lines.append(
            f"| {case.name}: `{formula}` ({case.family}) | {rw:.3f} | {pw:.3f} | {rw / pw:.1f}x |"
            f" {rc:.3f} | {pc:.3f} | {rc / pc:.1f}x | {r['feval']} / {p['feval']} |"
            f" {float(str(r['objective'])):.6f} / {float(p['objective']):.6f} |"
            f" {float(str(r['peak_mb'])):.0f} / {float(p['peak_mb']):.1f} |"
        )
    return "\n".join(["", *lines, ""])


if __name__ == "__main__":
    main()
