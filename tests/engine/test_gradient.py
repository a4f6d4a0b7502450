"""The analytic gradient of the LMM criterion, and L-BFGS-B fits that use it.

The gradient is checked against fourth-order central differences of the criterion
(mathematics: no reference numbers), the traces it is built from against the dense
inverse, and the fits against lme4's (issue 3's parity bar).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from lmm_fixtures import SMALL_CASES, assert_parity_bar, design, load

from interlace.api.lmer import fit_lmer
from interlace.engine import kernels
from interlace.engine.gaussian import GaussianObjective
from interlace.engine.predictor import BlockedPredictor
from interlace.optim.bobyqa import OptimizerResult
from interlace.optim.control import ControlError, LmerControl
from interlace.optim.lbfgsb import lbfgsb
from interlace.optim.optimize import GRADIENT_MIN_BLOCK, optimize_theta, uses_gradient

SCALAR_CASES = [c for c in SMALL_CASES if GaussianObjective(design(c)).has_gradient]
VECTOR_CASES = [c for c in SMALL_CASES if c not in SCALAR_CASES]


def _central_difference(obj: GaussianObjective, theta: np.ndarray, h: float) -> np.ndarray:
    out = np.empty(theta.size)
    for k in range(theta.size):
        e = np.zeros(theta.size)
        e[k] = h
        f = [obj(theta + c * e) for c in (-2.0, -1.0, 1.0, 2.0)]
        out[k] = (f[0] - 8.0 * f[1] + 8.0 * f[2] - f[3]) / (12.0 * h)
    return out


def test_the_scalar_cases_are_the_expected_ones() -> None:
    # intercepts, nested and crossed factors, a scalar slope (Days, age) and weights
    assert {"penicillin", "pastes", "machines", "orthodont_zerocorr"} <= set(SCALAR_CASES)
    assert {"sleepstudy_slope", "orthodont", "chickweight"} <= set(VECTOR_CASES)


@pytest.mark.parametrize("case", SCALAR_CASES)
@pytest.mark.parametrize("REML", [True, False])
def test_gradient_matches_central_differences(case: str, REML: bool) -> None:
    obj = GaussianObjective(design(case), REML=REML)
    for theta in (obj.start(), 0.6 * obj.start() + 0.2):
        obj(theta)
        grad = obj.gradient()
        fd = _central_difference(obj, theta, 1e-4)
        scale = max(1.0, float(np.max(np.abs(fd))))
        np.testing.assert_allclose(grad, fd, atol=2e-6 * scale)


def test_gradient_component_is_zero_on_the_boundary() -> None:
    # the criterion is even in each scalar θ_k, so its derivative at θ_k = 0 is 0
    obj = GaussianObjective(design("penicillin"))
    theta = np.array([0.0, 1.2])
    obj(theta)
    grad = obj.gradient()
    assert grad[0] == 0.0
    assert obj(np.array([1e-3, 1.2])) > obj(theta) - 1e-9 or grad[1] != 0.0
    np.testing.assert_allclose(grad[1], _central_difference(obj, theta, 1e-4)[1], rtol=1e-6)


def _dense_inverse_traces(pr: BlockedPredictor, with_x: bool) -> np.ndarray:
    """Per term, tr of its block of the inverse, from the dense matrices (scalar terms)."""
    zs = []
    for term, lam in zip(pr.terms, pr.lams, strict=True):
        refs = np.asarray(term.refs)
        z = sp.csr_matrix(
            (np.asarray(term.z)[:, 0], (np.arange(refs.size), refs)),
            shape=(refs.size, len(term.levels)),
        ).toarray()
        zs.append(z * lam[0, 0])
    sw = np.sqrt(np.asarray(pr._w))
    zl = np.hstack(zs) * sw[:, None]
    q = zl.shape[1]
    m = zl.T @ zl + np.eye(q)
    if with_x:
        x = pr.X * sw[:, None]
        m = np.block([[m, zl.T @ x], [x.T @ zl, x.T @ x]])
    diag = np.diag(np.linalg.inv(m))
    sizes = np.cumsum([0] + [len(t.levels) for t in pr.terms])
    return np.array([diag[a:b].sum() for a, b in itertools.pairwise(sizes)])


@pytest.mark.parametrize("case", ["penicillin", "pastes", "machines", "sleepstudy_split_ml"])
@pytest.mark.parametrize("with_x", [True, False])
def test_inverse_traces_match_the_dense_inverse(case: str, with_x: bool) -> None:
    obj = GaussianObjective(design(case))
    obj(0.7 * obj.start() + 0.1)
    pr = obj.predictor
    assert isinstance(pr, BlockedPredictor)
    np.testing.assert_allclose(
        pr.inverse_traces(with_x), _dense_inverse_traces(pr, with_x), rtol=1e-10
    )


@pytest.mark.skipif(not kernels.HAVE_NUMBA, reason="numba (the speed extra) not installed")
def test_compiled_solve_norms_match_numpy() -> None:
    rng = np.random.default_rng(3)
    r, n_cols = 300, 500  # more than one tile of rows
    v = np.asfortranarray(np.tril(rng.standard_normal((r + 5, r + 5))))
    v[np.triu_indices(r + 5, 1)] = 9.0  # the strict upper triangle must not be read
    a = sp.csc_matrix(sp.random(r + 5, n_cols, density=0.05, random_state=4))
    a.sort_indices()
    scale, w = rng.uniform(0.5, 2.0, r + 5), rng.uniform(0.1, 1.0, n_cols)
    total, norms = kernels.weighted_solve_norms(
        v,
        a.indptr.astype(np.int64),
        a.indices.astype(np.int64),
        a.data,
        scale,
        w,
        r,
    )
    low = np.tril(v)[:r, :r]
    va = low @ (a.toarray()[:r] * scale[:r, None])
    assert total == pytest.approx(float(np.sum(w * np.sum(va**2, axis=0))), rel=1e-12)
    np.testing.assert_allclose(norms, np.sum(low**2, axis=0), rtol=1e-12)


@pytest.mark.parametrize("case", SCALAR_CASES)
def test_lbfgsb_fits_meet_the_parity_bar(case: str) -> None:
    d = design(case)
    r = fit_lmer(d, REML=d.REML, control={"optimizer": "L-BFGS-B"})
    assert r.optinfo.optimizer == "L-BFGS-B"
    assert r.optinfo.feval < load_feval_bound(case)
    assert_parity_bar(r, case)


def load_feval_bound(case: str) -> int:
    """Fewer evaluations than lme4's BOBYQA needed, plus a margin for tiny problems."""
    return int(load(case)["fit"]["feval"]) + 5


@pytest.mark.parametrize("case", VECTOR_CASES)
def test_lbfgsb_refuses_vector_valued_terms(case: str) -> None:
    d = design(case)
    with pytest.raises(ControlError, match="scalar"):
        fit_lmer(d, REML=d.REML, control={"optimizer": "L-BFGS-B"})


def test_auto_chooses_the_gradient_for_large_dense_blocks_only() -> None:
    assert uses_gradient("auto", True, GRADIENT_MIN_BLOCK)
    assert not uses_gradient("auto", True, GRADIENT_MIN_BLOCK - 1)
    assert not uses_gradient("auto", False, 10 * GRADIENT_MIN_BLOCK)
    assert not uses_gradient("nloptwrap", True, 10 * GRADIENT_MIN_BLOCK)
    assert uses_gradient("L-BFGS-B", True, 1)
    with pytest.raises(ControlError, match="nloptwrap"):
        uses_gradient("L-BFGS-B", False, 1)
    d = design("penicillin")
    assert fit_lmer(d, REML=d.REML).optinfo.optimizer == "nloptwrap"  # small: lme4's path


def _quadratic(center: np.ndarray) -> tuple[object, object]:
    last = [np.zeros_like(center)]

    def fun(x: np.ndarray) -> float:
        last[0] = np.array(x)
        return float(np.sum((x - center) ** 2 * np.arange(1, x.size + 1)))

    def grad() -> np.ndarray:
        return np.asarray(2.0 * (last[0] - center) * np.arange(1, center.size + 1))

    return fun, grad


def test_lbfgsb_finds_a_bounded_minimum() -> None:
    fun, grad = _quadratic(np.array([2.0, -1.0, 0.5]))
    res = lbfgsb(fun, grad, np.ones(3), np.zeros(3))  # type: ignore[arg-type]
    assert isinstance(res, OptimizerResult)
    assert res.return_code == 0 and res.status == 1
    np.testing.assert_allclose(res.par, [2.0, 0.0, 0.5], atol=1e-6)
    assert res.fval == pytest.approx(2.0, abs=1e-9)  # (0 - (-1))² · 2


def test_lbfgsb_reports_the_evaluation_limit() -> None:
    fun, grad = _quadratic(np.array([20.0, -1.0, 5.0]))
    res = lbfgsb(fun, grad, np.ones(3), np.zeros(3), control={"maxeval": 2})  # type: ignore[arg-type]
    assert res.return_code == 5
    assert res.feval <= 2 + 10  # the limit is checked after each line search


def test_optimize_theta_refuses_lbfgsb_without_a_gradient() -> None:
    fun, _ = _quadratic(np.array([1.0]))
    with pytest.raises(ControlError, match="gradient"):
        optimize_theta(fun, np.ones(1), np.zeros(1), LmerControl(optimizer="L-BFGS-B"))  # type: ignore[arg-type]
    # "auto" without a gradient is BOBYQA
    res = optimize_theta(fun, np.ones(1) * 3, np.zeros(1), LmerControl())  # type: ignore[arg-type]
    assert res.optimizer == "nloptwrap"
    assert res.final[0] == pytest.approx(1.0, abs=1e-3)


def test_optctrl_settings_choose_and_are_checked() -> None:
    big = 10 * GRADIENT_MIN_BLOCK
    # settings only BOBYQA reads make "auto" choose BOBYQA; shared ones do not
    assert not uses_gradient("auto", True, big, {"xtol_abs": 1e-10})
    assert uses_gradient("auto", True, big, {"maxeval": 50})
    with pytest.raises(ControlError, match="xtol_abs"):
        uses_gradient("L-BFGS-B", True, big, {"xtol_abs": 1e-10})
    with pytest.raises(ControlError, match="gtol"):
        uses_gradient("nloptwrap", True, big, {"gtol": 1e-8})
    with pytest.raises(ControlError, match="gtol"):
        uses_gradient("auto", False, 1, {"gtol": 1e-8})
