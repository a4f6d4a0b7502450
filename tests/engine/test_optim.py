"""Optimiser backend, boundary handling and lme4's convergence checks."""

from __future__ import annotations

import numpy as np
import pytest
from lmm_fixtures import SMALL_CASES, design, load

from interlace.design.covariance import Diagonal, Unstructured
from interlace.engine.gaussian import GaussianObjective
from interlace.optim.bobyqa import bobyqa
from interlace.optim.boundary import inward_restart, is_singular, rectify, snap_to_boundary
from interlace.optim.control import ControlError, LmerControl
from interlace.optim.convergence import (
    SINGULAR_MESSAGE,
    check_convergence,
    check_hessian,
    deriv12,
)
from interlace.optim.optimize import optimize_theta


def _quadratic(x: np.ndarray) -> float:
    return float((x[0] - 1.0) ** 2 + 2.0 * (x[1] + 0.5) ** 2 + x[0] * x[1])


def test_bobyqa_finds_a_bounded_minimum() -> None:
    # unconstrained minimum of the quadratic is at x1 < 0; the bound x1 >= 0 is active
    res = bobyqa(_quadratic, np.array([2.0, 2.0]), np.array([-np.inf, 0.0]))
    np.testing.assert_allclose(res.par, [1.0, 0.0], atol=1e-5)
    assert res.return_code == 0 and res.feval > 0


def test_bobyqa_reports_the_evaluation_limit() -> None:
    res = bobyqa(
        _quadratic, np.array([2.0, 2.0]), np.array([-np.inf, -np.inf]), control={"maxeval": 5}
    )
    assert res.return_code == 5 and res.message == "NLOPT_MAXEVAL_REACHED"


def test_deriv12_is_exact_for_a_quadratic() -> None:
    x = np.array([0.3, -0.2])
    g, h = deriv12(_quadratic, x, _quadratic(x))
    np.testing.assert_allclose(g, [2 * (x[0] - 1) + x[1], 4 * (x[1] + 0.5) + x[0]], atol=1e-7)
    np.testing.assert_allclose(h, [[2.0, 1.0], [1.0, 4.0]], atol=1e-5)


def test_check_hessian_codes() -> None:
    assert check_hessian(np.array([[2.0, 0.0], [0.0, 1.0]]), 1e-6) == (0, [])
    code, msgs = check_hessian(np.array([[2.0, 0.0], [0.0, -1.0]]), 1e-6)
    assert code == -3 and "1 negative eigenvalues" in msgs[0]
    code, _ = check_hessian(np.array([[1.0, 1.0], [1.0, 1.0]]), 1e-6)
    assert code == -4


def test_check_convergence_skips_derivatives_for_singular_fits() -> None:
    out = check_convergence(
        np.array([0.0, 0.5]), np.array([0.0, 0.0]), np.array([10.0, 10.0]), np.eye(2)
    )
    assert out.messages == (SINGULAR_MESSAGE,) and out.code == 0


def test_check_convergence_flags_a_large_gradient() -> None:
    out = check_convergence(np.array([1.0]), np.array([0.0]), np.array([0.5]), np.eye(1))
    assert out.code == -1 and "max|grad| = 0.5" in out.messages[0]


def test_snap_to_boundary_only_when_not_worse() -> None:
    lower = np.zeros(2)
    theta = np.array([5e-6, 0.5])
    snapped, _ = snap_to_boundary(lambda t: float(np.sum(t)), theta, 0.5 + 5e-6, lower, 1e-5)
    np.testing.assert_array_equal(snapped, [0.0, 0.5])
    kept, _ = snap_to_boundary(
        lambda t: float(np.sum((t - 1) ** 2)), theta, float(np.sum((theta - 1) ** 2)), lower, 1e-5
    )
    np.testing.assert_array_equal(kept, theta)


def test_inward_restart() -> None:
    lower = np.zeros(1)
    restart = inward_restart(lambda t: float((t[0] - 1) ** 2), np.zeros(1), lower)
    assert restart is not None and restart[0] == pytest.approx(0.1)
    assert inward_restart(lambda t: float((t[0] + 1) ** 2), np.zeros(1), lower) is None


def test_rectify_flips_columns_with_negative_diagonal() -> None:
    cov = Unstructured(2)  # theta = (l11, l21, l22)
    blocks = [(cov, slice(0, 3)), (Diagonal(1), slice(3, 4))]
    out = rectify(np.array([-1.0, 0.5, -2.0, 3.0]), blocks)
    np.testing.assert_array_equal(out, [1.0, -0.5, 2.0, 3.0])
    a, b = cov.fill(np.array([-1.0, 0.5, -2.0])), cov.fill(out[:3])
    np.testing.assert_allclose(a @ a.T, b @ b.T)


def test_is_singular_uses_diagonal_parameters_only() -> None:
    lower = np.array([0.0, -np.inf, 0.0])
    assert is_singular(np.array([1.0, 0.0, 5e-5]), lower)
    assert not is_singular(np.array([1.0, 0.0, 0.5]), lower)


def test_control_coercion() -> None:
    ctrl = LmerControl.coerce({"boundary.tol": 0.0, "optCtrl": {"maxeval": 10}})
    assert ctrl.boundary_tol == 0.0 and ctrl.optCtrl["maxeval"] == 10
    with pytest.raises(ControlError):
        LmerControl.coerce({"no_such_option": 1})
    with pytest.raises(ControlError):
        LmerControl.coerce({"optimizer": "Nelder_Mead"})


@pytest.mark.parametrize("case", SMALL_CASES)
def test_evaluation_counts_close_to_lme4(case: str) -> None:
    """Same backend and settings as lme4's nloptwrap: evaluation counts agree closely."""
    d = design(case)
    obj = GaussianObjective(d, REML=d.REML)
    summary = optimize_theta(obj, obj.start(), obj.lower)
    want = load(case)["fit"]["feval"]
    assert abs(summary.feval - want) <= max(5, 0.25 * want)
    assert summary.fmin == pytest.approx(load(case)["fit"]["objective"], rel=1e-6)
    assert summary.fitlog[0][1] == summary.finitial


def test_derivative_checks_are_skipped_as_lme4_1_1_38_does() -> None:
    d = design("sleepstudy_slope")
    obj = GaussianObjective(d)
    full = optimize_theta(obj, obj.start(), obj.lower, nobs=180)
    assert full.conv.gradient is not None and full.conv.hessian is not None
    big = optimize_theta(obj, obj.start(), obj.lower, nobs=20_000)
    assert big.conv.gradient is None and big.fmin == pytest.approx(full.fmin)
    always = LmerControl(check_conv_nobsmax=np.inf)
    assert (
        optimize_theta(obj, obj.start(), obj.lower, always, nobs=20_000).conv.gradient is not None
    )
    d2 = design("dyestuff2")  # singular: no derivatives, only the singular message
    obj2 = GaussianObjective(d2)
    singular = optimize_theta(obj2, obj2.start(), obj2.lower, nobs=30)
    assert singular.conv.gradient is None and singular.conv.messages == (SINGULAR_MESSAGE,)
