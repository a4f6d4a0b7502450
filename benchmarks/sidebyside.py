"""What the side-by-side benchmarks share: running lme4 in R, timing interlace, a table row.

lme4 runs in an Rscript subprocess that times its own fits and prints one JSON
line (elapsed, cpu, feval, objective, peak_mb, versions), so R start-up is not
counted; interlace is timed in this process with the formula front end included,
as R's fitting functions are.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]

Fit = TypeVar("Fit")


def run_r(script: str, case: str, repeats: int) -> dict[str, object]:
    """Run ``benchmarks/<script> <case> <repeats>`` and read its last line as JSON."""
    out = subprocess.run(
        ["Rscript", str(ROOT / "benchmarks" / script), case, str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def time_fits(fit: Callable[[], Fit], repeats: int) -> tuple[Fit, dict[str, float]]:
    """Median wall and CPU seconds of ``repeats`` calls after a warm-up, and a memory peak.

    The peak is the ``tracemalloc`` maximum of one further call, in MB.  Warnings are
    silenced (they are the fits' business, not the timing's).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit()  # warm-up: imports, caches
        wall, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            result = fit()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        tracemalloc.start()
        fit()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    timing = {
        "elapsed": statistics.median(wall),
        "cpu": statistics.median(cpu),
        "peak_mb": peak / 2**20,
    }
    return result, timing


def table_row(label: str, r: dict[str, object], p: dict[str, float], peak_digits: int = 0) -> str:
    """One Markdown row: wall and CPU times and ratios, evaluations, objectives, memory."""
    rw, rc = float(str(r["elapsed"])), float(str(r["cpu"]))
    pw, pc = float(p["elapsed"]), float(p["cpu"])
    return (
        f"| {label} | {rw:.3f} | {pw:.3f} | {rw / pw:.1f}x |"
        f" {rc:.3f} | {pc:.3f} | {rc / pc:.1f}x | {r['feval']} / {int(p['feval'])} |"
        f" {float(str(r['objective'])):.6f} / {float(p['objective']):.6f} |"
        f" {float(str(r['peak_mb'])):.0f} / {float(p['peak_mb']):.{peak_digits}f} |"
    )


def markdown_formula(formula: str) -> str:
    """A formula for a Markdown table cell (a bar would split the cell)."""
    return formula.replace("|", "\\|")


def write_section(section: str, text: str, before: str | None = None) -> None:
    """Put ``text`` into ``benchmarks/RESULTS.md`` as the section headed ``section``.

    ``section`` is the heading line with its leading newline (``"\\n## CLMM ..."``).  The
    section of an earlier run is replaced up to the next ``## `` heading; a new one goes
    before the heading ``before`` (sections other scripts keep last), else at the end.
    """
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    if section in old:
        head, tail = old[: old.index(section)], old[old.index(section) + len(section) :]
        tail = tail[tail.index("\n## ") :] if "\n## " in tail else ""
    elif before is not None and before in old:
        head, tail = old[: old.index(before)], old[old.index(before) :]
    else:
        head, tail = old, ""
    path.write_text(head.rstrip("\n") + "\n" + text.rstrip("\n") + "\n" + tail)
