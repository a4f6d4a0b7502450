"""The blocked PLS factor and the profiled objective against lme4's deviance function."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from lmm_fixtures import (
    SMALL_CASES,
    FixtureDesign,
    beta_of,
    design,
    design_from_spec,
    load,
)

from interlace.engine.gaussian import GaussianObjective, profiled_deviance
from interlace.engine.predictor import BlockedPredictor


def _dense_reference(d: FixtureDesign, theta: np.ndarray) -> tuple[float, float, float, np.ndarray]:
    """ldL2, ldRX2, pwrss and beta from one dense Cholesky of Ω_θ (lme4's Lambdat/Lind)."""
    lt = d.Lambdat.copy()
    lt.data = theta[d.Lind]
    w = np.ones(d.y.size) if d.weights is None else d.weights
    sw = np.sqrt(w)
    y = d.y - (0 if d.offset is None else d.offset)
    v = (lt @ d.Zt).toarray() * sw
    m = np.column_stack([v.T, d.X * sw[:, None], y * sw])
    omega = m.T @ m
    q = v.shape[0]
    omega[np.arange(q), np.arange(q)] += 1.0
    chol = np.linalg.cholesky(omega)
    diag = np.diag(chol)
    p = d.X.shape[1]
    upper = chol[:-1, :-1].T
    sol = np.linalg.solve(upper, chol[-1, :-1])
    return (
        2 * np.sum(np.log(diag[:q])),
        2 * np.sum(np.log(diag[q : q + p])),
        diag[-1] ** 2,
        sol[q:],
    )


def _thetas(case: str) -> list[np.ndarray]:
    return [
        np.atleast_1d(np.asarray(pt["theta"], dtype=float))
        for pt in load(case)["deviance_function"]
    ]


@pytest.mark.parametrize("case", SMALL_CASES)
def test_objective_matches_lme4_devfun(case: str) -> None:
    d = design(case)
    obj = GaussianObjective(d, REML=d.REML)
    for pt in load(case)["deviance_function"]:
        value = obj(np.atleast_1d(np.asarray(pt["theta"], dtype=float)))
        assert value == pytest.approx(pt["value"], rel=1e-8)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_blocked_factor_matches_dense_cholesky(case: str) -> None:
    d = design(case)
    y = d.y - (0 if d.offset is None else d.offset)
    pred = BlockedPredictor(d.terms, d.X, y, d.weights)
    rng = np.random.default_rng(1)
    for theta in _thetas(case):
        theta = theta + np.where(d.lower == 0, 0.3, 0.1) * rng.random(theta.size)
        pred.update(theta)
        ldl2, ldrx2, pwrss, beta = _dense_reference(d, theta)
        assert pred.ldL2 == pytest.approx(ldl2, rel=1e-10, abs=1e-9)
        assert pred.ldRX2 == pytest.approx(ldrx2, rel=1e-10, abs=1e-9)
        assert pred.pwrss == pytest.approx(pwrss, rel=1e-10)
        np.testing.assert_allclose(pred.solve()[0], beta, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_solve_at_lme4_theta_gives_lme4_estimates(case: str) -> None:
    d = design(case)
    fit = load(case)["fit"]
    obj = GaussianObjective(d, REML=d.REML)
    obj(np.atleast_1d(np.asarray(fit["theta"], dtype=float)))
    beta, u = obj.predictor.solve()
    np.testing.assert_allclose(beta, beta_of(fit)[1], rtol=1e-7)
    assert obj.sigma() == pytest.approx(fit["sigma"], rel=1e-7)
    b = obj.predictor.b(u)
    for group, ref in fit["ranef"].items():
        cols = [
            np.concatenate(
                [bi for t, bi in zip(d.terms, b, strict=True) if t.group == group], axis=1
            )
        ]
        want = np.asarray(ref["values"], dtype=float).reshape(cols[0].shape)
        np.testing.assert_allclose(cols[0], want, rtol=1e-6, atol=1e-6 * np.abs(want).max())


def test_term_order_does_not_change_the_objective() -> None:
    """Penicillin with its two crossed terms swapped (and theta swapped) gives the same value."""
    d = design("penicillin")
    t0, t1 = d.terms
    swapped = replace(
        d, terms=(replace(t1, theta_slice=slice(0, 1)), replace(t0, theta_slice=slice(1, 2)))
    )
    theta = np.array([1.3, 0.4])
    a = GaussianObjective(d)(theta)
    b = GaussianObjective(swapped)(theta[::-1])
    assert a == pytest.approx(b, rel=1e-12)


def test_rank_deficient_X_makes_the_objective_infinite() -> None:
    d = design("sleepstudy_slope")
    bad = replace(d, X=np.column_stack([d.X, 2.0 * d.X[:, 1]]), X_names=(*d.X_names, "Days2"))
    assert GaussianObjective(bad)(np.array([1.0, 0.0, 1.0])) == math.inf


def test_profiled_deviance_formula() -> None:
    """ML and REML criteria from their parts (Bates et al. 2015, eqs. 34 and 41)."""
    n, p, ldl2, ldrx2, pwrss = 10, 2, 1.5, 0.7, 3.0
    ml = ldl2 + n * (1 + math.log(2 * math.pi * pwrss / n))
    reml = ldl2 + ldrx2 + (n - p) * (1 + math.log(2 * math.pi * pwrss / (n - p)))
    assert profiled_deviance(ldl2, ldrx2, pwrss, n, p, False) == pytest.approx(ml)
    assert profiled_deviance(ldl2, ldrx2, pwrss, n, p, True) == pytest.approx(reml)
    assert profiled_deviance(ldl2, ldrx2, pwrss, n, p, True, ldW=0.5) == pytest.approx(reml - 0.5)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_start_matches_lme4(case: str) -> None:
    """lme4's start: 1/0 pattern, or sqrt(v_i / v_e) for scalar intercept-only models."""
    d = design(case)
    start = GaussianObjective(d, REML=d.REML).start()
    np.testing.assert_allclose(start, _thetas(case)[0], rtol=1e-10)


@pytest.mark.parametrize("case", SMALL_CASES)
def test_sparse_path_matches_lme4_and_blocked(case: str) -> None:
    """lme4's general sparse route (Zt, Lambdat, Lind) gives the same criterion and solution."""
    d = design(case)
    sparse = GaussianObjective(d, REML=d.REML, method="sparse")
    blocked = GaussianObjective(d, REML=d.REML, method="blocked")
    for pt in load(case)["deviance_function"]:
        theta = np.atleast_1d(np.asarray(pt["theta"], dtype=float))
        assert sparse(theta) == pytest.approx(pt["value"], rel=1e-8)
        blocked(theta)
        (bs, us), (bb, ub) = sparse.predictor.solve(), blocked.predictor.solve()
        np.testing.assert_allclose(bs, bb, rtol=1e-8, atol=1e-10)
        for a, b in zip(us, ub, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(
            sparse.predictor.unscaled_vcov(),
            blocked.predictor.unscaled_vcov(),
            rtol=1e-8,
            atol=1e-12,
        )


def test_scatter_kernel_with_a_vector_valued_later_term() -> None:
    """Many-level scalar term first (sparse A_R0, scatter kernel), then a (1 + x | g2) term."""
    rng = np.random.default_rng(7)
    n, l1, l2 = 600, 150, 60
    g1, g2 = rng.integers(0, l1, n), rng.integers(0, l2, n)
    x = rng.normal(size=n)
    b1, b2 = rng.normal(size=l1), rng.normal(size=l2)
    y = 1 + 0.5 * x + b1[g1] + b2[g2] * (1 + x) + rng.normal(size=n)
    spec = {
        "y": y,
        "X": np.column_stack([np.ones(n), x]),
        "X_names": ["(Intercept)", "x"],
        "weights": rng.uniform(0.5, 2.0, n),
        "offset": np.zeros(n),
        "terms": [
            {
                "group": "g1",
                "cnms": ["(Intercept)"],
                "levels": [str(i) for i in range(l1)],
                "refs": g1,
                "z": np.ones((n, 1)),
            },
            {
                "group": "g2",
                "cnms": ["(Intercept)", "x"],
                "levels": [str(i) for i in range(l2)],
                "refs": g2,
                "z": np.column_stack([np.ones(n), x]),
            },
        ],
    }
    d = design_from_spec(spec, REML=True)
    blocked = GaussianObjective(d, method="blocked")
    sparse = GaussianObjective(d, method="sparse")
    assert blocked.predictor._scatter is not None  # type: ignore[union-attr]
    for theta in (np.array([0.8, 1.1, -0.3, 0.6]), np.array([0.2, 0.5, 0.4, 1.3])):
        assert blocked(theta) == pytest.approx(sparse(theta), rel=1e-10)
        np.testing.assert_allclose(
            blocked.predictor.solve()[0], sparse.predictor.solve()[0], rtol=1e-9
        )


def test_scatter_kernels_agree_with_a_dense_product() -> None:
    """NumPy pair kernel and (with numba) the compiled kernel: upper triangle of D(s − A W A')D."""
    import scipy.sparse as sp

    from interlace.engine.kernels import HAVE_NUMBA
    from interlace.engine.predictor import _CompiledScatter, _PairScatter

    rng = np.random.default_rng(3)
    a = sp.random(40, 300, density=0.1, format="csr", random_state=rng)
    w = rng.random(300)
    scale = rng.uniform(0.5, 2.0, size=40)
    s0 = rng.normal(size=(40, 40))
    want = np.diag(scale) @ (s0 - (a.toarray() * w) @ a.toarray().T) @ np.diag(scale)
    upper = np.triu_indices(40)
    kernels: list[_PairScatter | _CompiledScatter] = [_PairScatter(a)]
    if HAVE_NUMBA:  # all columns scattered; the densest few by BLAS (some rows); most by BLAS
        kernels += [_CompiledScatter(a, dense_min) for dense_min in (10**9, 9, 2)]
        assert not kernels[2].all_rows and kernels[3].all_rows  # type: ignore[union-attr]
    for kernel in kernels:
        s = kernel.scaled_schur(s0, w, scale)
        np.testing.assert_allclose(s[upper], want[upper], rtol=1e-12, atol=1e-12)


def test_auto_uses_the_sparse_path_for_a_nested_factor() -> None:
    """Classes nested in 1,600 schools: the dense block would be almost all zeros."""
    from interlace.engine.predictor import BlockedPredictor
    from interlace.engine.sparse_predictor import SparsePredictor

    rng = np.random.default_rng(11)
    n_school = 1600
    cls = np.repeat(np.arange(2 * n_school), 3)
    school = cls // 2
    n = cls.size
    y = rng.normal(size=n_school)[school] + rng.normal(size=2 * n_school)[cls] + rng.normal(size=n)
    spec = {
        "y": y,
        "X": np.ones((n, 1)),
        "X_names": ["(Intercept)"],
        "weights": np.ones(n),
        "offset": np.zeros(n),
        "terms": [
            {
                "group": g,
                "cnms": ["(Intercept)"],
                "levels": [str(i) for i in range(int(r.max()) + 1)],
                "refs": r,
                "z": np.ones((n, 1)),
            }
            for g, r in (("class:school", cls), ("school", school))
        ],
    }
    d = design_from_spec(spec, REML=True)
    auto = GaussianObjective(d)
    assert isinstance(auto.predictor, SparsePredictor)
    blocked = GaussianObjective(d, method="blocked")
    assert isinstance(blocked.predictor, BlockedPredictor)
    theta = np.array([0.9, 1.2])
    assert auto(theta) == pytest.approx(blocked(theta), rel=1e-10)
