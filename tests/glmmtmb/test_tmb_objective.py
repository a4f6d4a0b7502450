"""The Laplace objective at glmmTMB's optimum equals glmmTMB's objective (no optimiser involved)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from interlace.api.glmmtmb import glmmtmb_model
from interlace.engine import tmb_laplace
from interlace.engine.tmb_covariance import TmbDiagonal, TmbUnstructured
from interlace.engine.tmb_laplace import TmbLaplace

from .cases import CASES, load, matrix, values


def _objective(name: str) -> TmbLaplace:
    case = CASES[name]
    return TmbLaplace(glmmtmb_model(case.formula, load(case.data), **case.kwargs).data)


@pytest.mark.parametrize("name", sorted(CASES))
def test_objective_at_r_parameters(name: str, tmb_reference: Any) -> None:
    ref = tmb_reference[name]
    objective = _objective(name)
    assert objective.layout.names() == ref["par"]["names"]
    value = objective(values(ref["par"]))
    assert value == pytest.approx(ref["objective"], abs=1e-7, rel=1e-10)
    assert -value == pytest.approx(ref["logLik"], abs=1e-7, rel=1e-10)


@pytest.mark.parametrize("name", ["sleepstudy_us", "sleepstudy_diag", "salamanders_zinb2"])
def test_covariance_parameterisation_gives_r_varcorr(name: str, tmb_reference: Any) -> None:
    ref = tmb_reference[name]
    objective = _objective(name)
    theta = np.asarray(ref["theta"], dtype=float)
    for lam, (group, block) in zip(objective.lambdas(theta), ref["varcorr"].items(), strict=True):
        np.testing.assert_allclose(lam @ lam.T, matrix(block), rtol=1e-10, err_msg=group)


def test_unstructured_correlation_formula() -> None:
    """For two effects TMB's correlation is θ₃ / sqrt(1 + θ₃²)."""
    theta = np.array([np.log(2.0), np.log(0.5), -0.7])
    cov = TmbUnstructured(2).covariance(theta)
    assert np.sqrt(np.diag(cov)) == pytest.approx([2.0, 0.5])
    assert cov[0, 1] / 1.0 == pytest.approx(-0.7 / np.sqrt(1.49))
    assert TmbUnstructured(3).n_theta == 6
    assert np.allclose(TmbDiagonal(2).covariance(np.log([3.0, 4.0])), np.diag([9.0, 16.0]))


def test_sparse_factorisation_agrees_with_dense(
    tmb_reference: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = tmb_reference["salamanders_zip"]
    par = values(ref["par"])
    dense = _objective("salamanders_zip")(par)
    monkeypatch.setattr(tmb_laplace, "DENSE_LIMIT", 0)
    assert _objective("salamanders_zip")(par) == pytest.approx(dense, rel=1e-11)
