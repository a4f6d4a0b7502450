"""``lmer()`` end to end (formula front end + engine) against lme4's fits."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from lmm_fixtures import as_list, beta_of, load

import interlace.datasets as datasets
from interlace.api.lmer import fit_lmer, lmer, lmer_objective
from interlace.errors import RankDeficiencyWarning
from interlace.optim.control import ControlError, LmerControl


def _sleep_w() -> pd.DataFrame:
    """fixtures/R/lmm.R's sleep_w: w = 1 + (Days %% 3) / 2, off = 2 * Days, Days2 = 2 * Days."""
    d = datasets.load("sleepstudy")
    return d.assign(w=1 + (d["Days"] % 3) / 2, off=2 * d["Days"], Days2=2 * d["Days"])


def _cake() -> pd.DataFrame:
    d = datasets.load("cake")
    return d.assign(off=d["temp"] / 10)


# case -> (formula, data, keyword arguments), as in fixtures/R/lmm.R
CASES: dict[str, tuple[str, str, dict[str, object]]] = {
    "sleepstudy_slope": ("Reaction ~ Days + (Days | Subject)", "sleepstudy", {}),
    "sleepstudy_zerocorr": ("Reaction ~ Days + (Days || Subject)", "sleepstudy", {}),
    "sleepstudy_split_ml": (
        "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
        "sleepstudy",
        {"REML": False},
    ),
    "dyestuff": ("Yield ~ 1 + (1 | Batch)", "Dyestuff", {}),
    "dyestuff2": ("Yield ~ 1 + (1 | Batch)", "Dyestuff2", {}),
    "penicillin": ("diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin", {}),
    "pastes": ("strength ~ 1 + (1 | batch/cask)", "Pastes", {}),
    "cake": ("angle ~ recipe * temperature + (1 | recipe:replicate)", "cake", {}),
    "orthodont": ("distance ~ age * Sex + (age | Subject)", "Orthodont", {}),
    "machines": ("score ~ Machine + (1 | Worker) + (1 | Worker:Machine)", "Machines", {}),
    "chickweight": ("log(weight) ~ Time * Diet + (1 + Time | Chick)", "ChickWeight", {}),
    "sleep_weights": ("Reaction ~ Days + (Days | Subject)", "sleep_w", {"weights": "w"}),
    "sleep_offset": ("Reaction ~ Days + (Days | Subject)", "sleep_w", {"offset": "off"}),
    "sleep_offset_term": (
        "Reaction ~ Days + offset(off) + (1 | Subject)",
        "sleep_w",
        {"REML": False},
    ),
    "cake_offset_ml": (
        "angle ~ recipe + temperature + (1 | recipe:replicate)",
        "cake_off",
        {"offset": "off", "REML": False},
    ),
}


def _data(name: str) -> pd.DataFrame:
    if name == "sleep_w":
        return _sleep_w()
    if name == "cake_off":
        return _cake()
    return datasets.load(name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_lmer_matches_lme4(case: str) -> None:
    formula, data_name, kw = CASES[case]
    r = lmer(formula, _data(data_name), **kw)  # type: ignore[arg-type]
    f = load(case)["fit"]
    assert r.objective == pytest.approx(f["objective"], rel=1e-6)
    np.testing.assert_allclose(r.theta, np.atleast_1d(f["theta"]), atol=1e-3)
    assert list(r.fe_params.index) == beta_of(f)[0]
    np.testing.assert_allclose(r.fe_params.to_numpy(), beta_of(f)[1], rtol=1e-5)
    np.testing.assert_allclose(r.bse.to_numpy(), as_list(f["se"]), rtol=1e-4)
    assert r.sigma == pytest.approx(f["sigma"], rel=1e-5)
    assert r.varcorr()["grp"].tolist() == as_list(f["varcorr"]["grp"])
    assert r.is_singular == f["is_singular"]


def test_summary_names_the_call() -> None:
    r = lmer("Reaction ~ Days + (Days | Subject)", _sleep_w(), weights="w")
    text = str(r.summary())
    assert "Formula: Reaction ~ Days + (Days | Subject)\nWeights: w\n" in text


def test_rank_deficient_columns_are_dropped_and_reported() -> None:
    with pytest.warns(RankDeficiencyWarning):
        r = lmer("Reaction ~ Days + Days2 + (1 | Subject)", _sleep_w())
    f = load("sleep_rankdef")["fit"]
    assert list(r.fe_params.index) == beta_of(f)[0]
    assert r.objective == pytest.approx(f["objective"], rel=1e-6)
    assert "fit warnings:" in str(r.summary())


def test_data_is_not_modified() -> None:
    data = _sleep_w()
    before = data.copy()
    lmer("Reaction ~ Days + (Days | Subject)", data, weights="w")
    pd.testing.assert_frame_equal(data, before)


def test_start_and_control() -> None:
    data = datasets.load("sleepstudy")
    f = load("sleepstudy_slope")["fit"]
    r = lmer("Reaction ~ Days + (Days | Subject)", data, start={"theta": f["theta"]})
    assert r.optinfo.feval < 43  # from lme4's optimum: fewer evaluations than from the default
    np.testing.assert_allclose(r.theta, f["theta"], atol=1e-3)
    capped = lmer(
        "Reaction ~ Days + (Days | Subject)",
        data,
        control={"optCtrl": {"maxeval": 5}, "calc.derivs": False},
    )
    assert capped.optinfo.return_code == 5 and not capped.converged
    assert any("convergence code 5" in w for w in capped.warnings)
    with pytest.raises(ControlError):
        lmer("Reaction ~ Days + (Days | Subject)", data, start=[1.0, 0.0])
    with pytest.raises(ControlError):
        lmer("Reaction ~ Days + (Days | Subject)", data, control={"bogus": 1})


def test_devfun_exit_matches_lme4() -> None:
    """``lmer_objective`` is lme4's ``devFunOnly = TRUE``."""
    from interlace.design.lformula import lformula

    design = lformula("Reaction ~ Days + (Days | Subject)", datasets.load("sleepstudy"))
    devfun = lmer_objective(design)
    for pt in load("sleepstudy_slope")["deviance_function"]:
        assert devfun(np.asarray(pt["theta"])) == pytest.approx(pt["value"], rel=1e-8)
    r = fit_lmer(design, control=LmerControl(calc_derivs=False))
    assert r.optinfo.conv.gradient is None


@pytest.mark.slow
def test_insteval_ml_matches_lme4() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = lmer(
            "y ~ service + (1 | s) + (1 | d) + (1 | dept)", datasets.load("InstEval"), REML=False
        )
    f = load("insteval_ml")["fit"]
    assert r.objective == pytest.approx(f["objective"], rel=1e-6)
    np.testing.assert_allclose(r.theta, f["theta"], atol=1e-3)
    np.testing.assert_allclose(r.fe_params.to_numpy(), beta_of(f)[1], rtol=1e-5)


def test_fit_lmer_uses_the_designs_criterion() -> None:
    from lmm_fixtures import design

    d = design("sleepstudy_split_ml")  # an ML design
    assert not fit_lmer(d).REML
    assert fit_lmer(d).objective == pytest.approx(
        load("sleepstudy_split_ml")["fit"]["objective"], rel=1e-6
    )
    assert fit_lmer(d, REML=True).REML


def test_design_checks_travel_in_control() -> None:
    """lme4 spells design checks and optimiser settings in one lmerControl."""
    from interlace.api.lmer import split_control

    ctrl, checks = split_control({"check.nlev.gtr.1": "ignore", "boundary.tol": 0.0})
    assert ctrl.boundary_tol == 0.0 and checks == {"check.nlev.gtr.1": "ignore"}
    data = datasets.load("sleepstudy")
    with pytest.raises(ValueError, match=r"check\.bogus"):
        lmer("Reaction ~ Days + (Days | Subject)", data, control={"check.bogus": "ignore"})
    r = lmer(
        "Reaction ~ Days + (Days | Subject)",
        data,
        control={"check.scaleX": "ignore", "calc.derivs": False},
    )
    assert r.optinfo.conv.gradient is None


def test_start_below_the_bounds_is_moved_onto_them() -> None:
    from interlace.errors import StartingValuesWarning

    data = datasets.load("Dyestuff")
    with pytest.warns(StartingValuesWarning):
        r = lmer("Yield ~ 1 + (1 | Batch)", data, start=[-1.0])
    assert r.objective == pytest.approx(load("dyestuff")["fit"]["objective"], rel=1e-6)


def test_no_optimizer_evaluates_at_the_start() -> None:
    """lme4's optimizer = NULL: the fit at lme4's own θ reproduces lme4's estimates."""
    f = load("orthodont")["fit"]
    r = lmer(
        "distance ~ age * Sex + (age | Subject)",
        datasets.load("Orthodont"),
        start=f["theta"],
        control={"optimizer": None},
    )
    assert r.optinfo.feval == 0 and r.optinfo.return_code == 1000 and not r.converged
    np.testing.assert_array_equal(r.theta, f["theta"])
    assert r.objective == pytest.approx(f["objective"], rel=1e-10)
    np.testing.assert_allclose(r.fe_params.to_numpy(), beta_of(f)[1], rtol=1e-8)
    np.testing.assert_allclose(r.bse.to_numpy(), as_list(f["se"]), rtol=1e-8)
    assert "convergence code: 1000 (no optimization)" in str(r.summary())


def test_findings_are_issued_as_interlace_warnings() -> None:
    from interlace.errors import ConvergenceWarning, SingularFitWarning

    with pytest.warns(SingularFitWarning, match="boundary"):
        r = lmer("Yield ~ 1 + (1 | Batch)", datasets.load("Dyestuff2"))
    assert r.is_singular
    with pytest.warns(ConvergenceWarning, match="convergence code 5"):
        lmer(
            "Reaction ~ Days + (Days | Subject)",
            datasets.load("sleepstudy"),
            control={"optCtrl": {"maxeval": 5}},
        )
