"""Wald confidence intervals against lme4's confint(method = "Wald")."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from inference_cases import CASES, FIT_DIFFERS, fit_case
from inference_helpers import names, vec

from interlace.inference import confint
from interlace.inference.confint import percent_label


@pytest.mark.parametrize("case", [c for c in CASES if c not in FIT_DIFFERS])
def test_wald_matches_lme4(case: str, reference: Any) -> None:
    ref = reference[case]["confint_wald"]
    fit, _ = fit_case(case)
    ci = confint(fit, method="Wald")
    assert list(ci.index) == names(ref["rownames"])
    assert list(ci.columns) == names(ref["colnames"])
    np.testing.assert_allclose(ci.iloc[:, 0], vec(ref["lower"]), rtol=1e-6)
    np.testing.assert_allclose(ci.iloc[:, 1], vec(ref["upper"]), rtol=1e-6)


def test_level_labels_are_rs() -> None:
    assert percent_label(0.025) == "2.5 %"
    assert percent_label(0.975) == "97.5 %"
    assert percent_label(0.05) == "5 %"
    assert percent_label(0.005) == "0.5 %"


def test_narrower_level_gives_narrower_interval() -> None:
    fit, _ = fit_case("sleepstudy")
    wide = confint(fit, level=0.99).loc["Days"].to_numpy()
    narrow = confint(fit, level=0.5).loc["Days"].to_numpy()
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_unknown_method_is_refused() -> None:
    fit, _ = fit_case("sleepstudy")
    with pytest.raises(ValueError, match="unknown confint method"):
        confint(fit, method="bca")


PROFILE_FAST = ["dyestuff", "dyestuff2_singular", "machines", "penicillin"]
PROFILE_SLOW = ["sleepstudy", "sleepstudy_ml", "orthodont"]


def _check_profile(case: str, reference: Any) -> None:
    """lme4's profile bounds to 1e-3 relative.

    lme4 reads the bounds off an interpolating spline through its profile
    points; near zero (a standard deviation's lower bound) that error is
    absolute, so the tolerance has a floor of 1e-5 times the interval width.
    """
    ref = reference[case]["confint_profile"]
    fit, _ = fit_case(case)
    ci = confint(fit, method="profile")
    assert list(ci.index) == names(ref["rownames"])
    lo, hi = vec(ref["lower"]), vec(ref["upper"])
    width = hi - lo
    for ours, theirs in ((ci.iloc[:, 0].to_numpy(), lo), (ci.iloc[:, 1].to_numpy(), hi)):
        assert np.all(np.abs(ours - theirs) <= 1e-3 * np.abs(theirs) + 1e-5 * width)


@pytest.mark.filterwarnings("ignore::interlace.errors.SingularFitWarning")
@pytest.mark.parametrize("case", PROFILE_FAST)
def test_profile_matches_lme4(case: str, reference: Any) -> None:
    _check_profile(case, reference)


@pytest.mark.slow
@pytest.mark.parametrize("case", PROFILE_SLOW)
def test_profile_matches_lme4_slow(case: str, reference: Any) -> None:
    _check_profile(case, reference)


def test_profile_interval_contains_the_estimate() -> None:
    fit, _ = fit_case("dyestuff")
    prof = confint(fit, method="profile").loc["(Intercept)"].to_numpy()
    beta = fit.fe_params["(Intercept)"]
    assert prof[0] < beta < prof[1]
