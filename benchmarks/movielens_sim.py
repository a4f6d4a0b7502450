"""A simulated MovieLens-1M-shaped crossed design fitted by interlace (issue 3's large case).

1,000,209 ratings of 3,706 movies by 6,040 users with heavy-tailed degrees
(log-normal user activity with at least 20 ratings per user, Zipf-like movie
popularity), ``rating ~ 1 + (1 | user) + (1 | movie)`` by REML.  Prints and
appends to benchmarks/RESULTS.md: wall and CPU seconds, evaluations and peak
memory (process maximum RSS), replacing the section of an earlier run.

Usage::

    .venv/bin/python benchmarks/movielens_sim.py [--seed 1]
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from interlace.api.lmer import lmer

N_RATINGS, N_USERS, N_MOVIES = 1_000_209, 6_040, 3_706


def simulate(rng: np.random.Generator) -> pd.DataFrame:
    """Ratings with MovieLens-1M's size and a heavy-tailed degree distribution."""
    raw = rng.lognormal(mean=0.0, sigma=1.0, size=N_USERS)
    degrees = 20 + np.floor(raw / raw.sum() * (N_RATINGS - 20 * N_USERS)).astype(int)
    degrees = np.minimum(degrees, N_MOVIES)
    below_cap = np.flatnonzero(degrees < N_MOVIES)
    degrees[below_cap[: N_RATINGS - degrees.sum()]] += 1  # exact total
    popularity = 1.0 / np.arange(1, N_MOVIES + 1) ** 0.8
    popularity /= popularity.sum()
    users = np.repeat(np.arange(N_USERS), degrees)
    movies = np.concatenate(
        [rng.choice(N_MOVIES, size=d, replace=False, p=popularity) for d in degrees]
    )
    u = rng.normal(0.0, 0.4, N_USERS)
    v = rng.normal(0.0, 0.6, N_MOVIES)
    rating = np.clip(np.rint(3.6 + u[users] + v[movies] + rng.normal(0, 0.9, users.size)), 1, 5)
    return pd.DataFrame(
        {
            "rating": rating,
            "user": pd.Categorical(users.astype(str)),
            "movie": pd.Categorical(movies.astype(str)),
        }
    )


def main() -> None:
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    data = simulate(np.random.default_rng(seed))
    lines = []
    for threads in (1, os.cpu_count() or 1):  # one thread, then every core
        numba.set_num_threads(threads)
        with threadpool_limits(limits=threads):
            t0, c0 = time.perf_counter(), time.process_time()
            fit = lmer("rating ~ 1 + (1 | user) + (1 | movie)", data)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        lines.append(
            f"| simulated MovieLens-1M shape (n = {len(data):,}; {N_USERS:,} users x "
            f"{N_MOVIES:,} movies), `rating ~ 1 + (1 \\| user) + (1 \\| movie)` | {threads} |"
            f" {wall:.1f} | {cpu:.1f} | {fit.optinfo.feval} | {rss:.2f} | {fit.objective:.4f} |"
        )
        print(lines[-1], flush=True)
    results = Path(__file__).resolve().parent / "RESULTS.md"
    header = (
        "\n## Large crossed design (interlace only)\n\n"
        "Threads: OpenBLAS and the numba kernels limited to 1, then on every core. Peak RSS is\n"
        "the process maximum so far (the second row includes the first fit's peak).\n\n"
        "| model | threads | wall s | CPU s | evals | peak RSS GB | REML criterion |\n"
        "|---|---|---|---|---|---|---|\n"
    )
    text = results.read_text() if results.exists() else ""
    marker = "\n## Large crossed design"  # replace the section of an earlier run
    text = text[: text.index(marker)] if marker in text else text
    results.write_text(text + header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
