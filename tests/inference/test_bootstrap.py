"""Parametric bootstrap: reproducibility, independence of workers, and the simulation model."""

from __future__ import annotations

import numpy as np
import pytest
from inference_cases import fit_case

from interlace.inference import bootstrap, confint


def test_replicates_do_not_depend_on_workers() -> None:
    fit, _ = fit_case("sleepstudy")
    one = bootstrap(fit, 12, seed=7, n_jobs=1)
    two = bootstrap(fit, 12, seed=7, n_jobs=2)
    np.testing.assert_array_equal(one.t.to_numpy(), two.t.to_numpy())
    other = bootstrap(fit, 12, seed=8)
    assert not np.array_equal(one.t.to_numpy(), other.t.to_numpy())


def test_default_statistic_is_lme4s_parameter_vector() -> None:
    fit, _ = fit_case("sleepstudy")
    boot = bootstrap(fit, 3, seed=1)
    assert list(boot.t0.index) == [".sig01", ".sig02", ".sig03", ".sigma", "(Intercept)", "Days"]
    assert boot.t.shape == (3, 6)
    assert boot.t0[".sigma"] == pytest.approx(fit.sigma)
    assert boot.t0[".sig02"] == pytest.approx(
        fit.varcorr()["sdcor"].iloc[2], rel=1e-10
    )  # the correlation row of as.data.frame(VarCorr(fit))


def test_custom_statistic() -> None:
    fit, _ = fit_case("dyestuff")
    boot = bootstrap(fit, 5, func=lambda r: np.array([r.sigma]), seed=3)
    assert boot.t.shape == (5, 1)
    assert np.all(boot.t.to_numpy() > 0)


def test_boot_interval_is_close_to_wald_for_fixed_effects() -> None:
    fit, _ = fit_case("sleepstudy")
    boot = confint(fit, method="boot", nsim=100, seed=2026)
    wald = confint(fit, method="Wald")
    for name in ("(Intercept)", "Days"):
        b, w = boot.loc[name].to_numpy(), wald.loc[name].to_numpy()
        assert b[0] < fit.fe_params[name] < b[1]
        assert 0.6 < (b[1] - b[0]) / (w[1] - w[0]) < 1.6


def test_progress_and_bad_nsim(capsys: pytest.CaptureFixture[str]) -> None:
    fit, _ = fit_case("dyestuff")
    bootstrap(fit, 2, seed=1, progress=True)
    assert "2/2 replicates" in capsys.readouterr().err
    with pytest.raises(ValueError, match="nsim"):
        bootstrap(fit, 0)
