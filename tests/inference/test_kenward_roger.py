"""Kenward–Roger adjusted covariance and df against pbkrtest and lmerTest."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from inference_cases import CASES, NO_KENWARD_ROGER, fit_case
from inference_helpers import names, rel_err, vec

from interlace.inference import coef_table
from interlace.inference.kenward_roger import KenwardRoger

REML_CASES = [c for c in CASES if not c.endswith("_ml") and c not in NO_KENWARD_ROGER]


@pytest.mark.parametrize("case", REML_CASES)
def test_vcov_adj_at_r_estimates(case: str, reference: Any) -> None:
    """pbkrtest's vcovAdj from lme4's estimates, to 1e-9 relative."""
    ref = reference[case]
    fit, _ = fit_case(case)
    kr = KenwardRoger(fit.design, vec(ref["theta"]), ref["sigma"], vec(ref["beta"]))
    p = vec(ref["beta"]).size
    v_r = np.asarray(ref["kenward_roger"]["vcovAdj"], dtype=float).reshape(p, p)
    assert np.max(np.abs(kr.vcov_adj - v_r)) <= 1e-9 * np.max(np.abs(v_r))
    eye = np.eye(p)
    df = [kr.t_test(eye[j]).df for j in range(p)]
    assert rel_err(df, ref["kenward_roger"]["ddf"]) < 1e-8


@pytest.mark.parametrize("case", REML_CASES)
def test_coef_table_kenward_roger(case: str, reference: Any) -> None:
    ref = reference[case]["kenward_roger"]["coef"]
    fit, _ = fit_case(case)
    table = coef_table(fit, ddf="Kenward-Roger")
    assert list(table.index) == names(ref["rownames"])
    assert rel_err(table["Std. Error"], ref["Std. Error"]) < 1e-5
    assert rel_err(table["df"], ref["df"]) < 1e-4
    assert rel_err(table["Pr(>|t|)"], ref["Pr(>|t|)"]) < 1e-3


def test_adjustment_inflates_the_covariance() -> None:
    """Φ_A − Φ is positive semi-definite here (the small-sample inflation)."""
    fit, _ = fit_case("orthodont")
    kr = KenwardRoger(fit.design, fit.theta, fit.sigma, fit.beta)
    assert np.min(np.linalg.eigvalsh(kr.vcov_adj - kr.vcov)) > -1e-12
    np.testing.assert_allclose(kr.vcov, fit.cov_params().to_numpy(), rtol=1e-8)


def test_rank_deficient_contrast_uses_its_row_space() -> None:
    fit, _ = fit_case("orthodont")
    kr = KenwardRoger(fit.design, fit.theta, fit.sigma, fit.beta)
    L = np.eye(4)[[1, 3]]
    full = kr.f_test(L)
    doubled = kr.f_test(np.vstack([L, L.sum(axis=0)]))
    assert doubled.num_df == 2.0
    assert doubled.F == pytest.approx(full.F, rel=1e-10)
    assert doubled.den_df == pytest.approx(full.den_df, rel=1e-10)
