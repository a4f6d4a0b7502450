"""Family and link objects against R's (fixtures/glmm/families.json from fixtures/R/glmm.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from interlace.errors import NonIntegerResponseWarning, ResponseDomainError
from interlace.families import (
    Gamma,
    binomial,
    gaussian,
    get_family,
    inverse_gaussian,
    make_family,
    poisson,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "glmm" / "families.json"
CASES: list[dict[str, Any]] = json.loads(FIXTURE.read_text())["families"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['family']}-{c['link']}")
def test_family_functions_match_r(case: dict[str, Any]) -> None:
    fam = make_family(case["family"], case["link"])
    mu, y, wt, n = (np.asarray(case[k], dtype=float) for k in ("mu", "y", "wt", "n"))
    eta = fam.linkfun(mu)
    np.testing.assert_allclose(eta, case["eta"], rtol=1e-13)
    np.testing.assert_allclose(fam.linkinv(eta), case["linkinv"], rtol=1e-13)
    np.testing.assert_allclose(fam.mu_eta(eta), case["mu_eta"], rtol=1e-13)
    np.testing.assert_allclose(fam.variance(mu), case["variance"], rtol=1e-13)
    dev = fam.dev_resids(y, mu, wt)
    np.testing.assert_allclose(dev, case["dev_resids"], rtol=1e-12, atol=1e-15)
    assert fam.aic(y, n, mu, wt, float(np.sum(dev))) == pytest.approx(case["aic"], rel=1e-12)


def test_constructors_and_names() -> None:
    assert binomial("probit").link.name == "probit"
    assert get_family("binomial").link.name == "logit"
    assert get_family("inverse_gaussian").link.name == "1/mu^2"
    assert get_family(poisson).family == "poisson"
    assert Gamma().link.name == "inverse"
    assert gaussian("log").family == "gaussian"
    with pytest.raises(ValueError, match="not available for poisson"):
        poisson("logit")
    with pytest.raises(ValueError, match="quasi"):
        get_family("quasipoisson")


def test_lme4_clamps_logit_inverse() -> None:
    mu = binomial().linkinv(np.array([-800.0, 0.0, 800.0]))
    eps = np.finfo(float).eps
    np.testing.assert_array_equal(mu, [eps, 0.5, 1 - eps])


def test_binomial_cbind_initialize_folds_trials_into_weights() -> None:
    y = np.array([[2.0, 12.0], [0.0, 5.0], [3.0, 0.0]])
    init = binomial().initialize(y)
    np.testing.assert_allclose(init.y, [2 / 14, 0.0, 1.0])
    np.testing.assert_allclose(init.weights, [14.0, 5.0, 3.0])
    np.testing.assert_allclose(init.n, [14.0, 5.0, 3.0])
    np.testing.assert_allclose(init.mustart, [2.5 / 15, 0.5 / 6, 3.5 / 4])


def test_domain_errors_name_rows() -> None:
    with pytest.raises(ResponseDomainError, match="0 <= y <= 1") as err:
        binomial().initialize(np.array([0.0, 1.0, 1.5, 2.0]), row_labels=["a", "b", "c", "d"])
    assert err.value.rows == ["c", "d"]
    with pytest.raises(ResponseDomainError, match="negative values") as err:
        poisson().initialize(np.array([1.0, -1.0, 0.0]))
    assert err.value.rows == [1]
    with pytest.raises(ResponseDomainError, match="non-positive"):
        Gamma().initialize(np.array([1.0, 0.0]))
    with pytest.raises(ResponseDomainError, match="positive values only"):
        inverse_gaussian().initialize(np.array([-1.0, 2.0]))


def test_non_integer_counts_warn_once() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        binomial().initialize(np.array([[1.5, 2.0], [0.5, 1.0]]))
    assert [w.category for w in caught] == [NonIntegerResponseWarning]
    assert "non-integer counts" in str(caught[0].message)
