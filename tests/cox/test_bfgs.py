"""R's optim(method = "BFGS") path, against R (fixtures/R/optim_bfgs.R)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from interlace.optim.bfgs import optim_bfgs


def _rosenbrock(x: np.ndarray) -> float:
    return float(100 * (x[1] - x[0] * x[0]) ** 2 + (1 - x[0]) ** 2)


def _quadratic3(x: np.ndarray) -> float:
    return float((x[0] - 1) ** 2 + 10 * (x[1] - 2) ** 2 + 100 * (x[2] - 3) ** 2 + x[0] * x[1])


def _exp1(x: np.ndarray) -> float:
    return float(np.exp(x[0]) - 2 * x[0] + 0.1 * x[0] ** 4)


FUNCTIONS: dict[str, Callable[[np.ndarray], float]] = {
    "rosenbrock": _rosenbrock,
    "quadratic3": _quadratic3,
    "exp1": _exp1,
}


def test_optim_bfgs_follows_r(r_outputs: Callable[[str, str], Any]) -> None:
    """Same estimates, value and evaluation counts as R's optim."""
    for case in r_outputs("optim_bfgs.R", "optim")["bfgs"]["cases"]:
        start = np.atleast_1d(np.array(case["start"], dtype=float))
        result = optim_bfgs(FUNCTIONS[case["name"]], start, reltol=case["reltol"])
        label = f"{case['name']} reltol={case['reltol']}"
        np.testing.assert_allclose(result.x, case["par"], rtol=1e-9, atol=1e-12, err_msg=label)
        assert result.fun == pytest.approx(case["value"], rel=1e-8, abs=1e-14), label
        assert [result.fn_count, result.gr_count] == case["counts"], label
        assert result.convergence == case["convergence"], label
