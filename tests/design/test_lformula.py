"""``lformula`` against lme4 1.1-31's ``lFormula`` (``fixtures/R/lformula.R``), and its checks.

Every case compares the term order, ``cnms``, ``flist`` (names, levels, codes), ``Gp``,
``theta``, ``lower``, ``Lind``, ``Zt`` and ``Lambdat`` (triplets, exactly) and ``X``'s names
with R's.  R runs live when available (see ``tests/conftest.py``), else the stored JSON is used.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from interlace.design.checks import CheckControl, check_nlevels, check_zdims
from interlace.design.lformula import LmerDesign, glformula, lformula
from interlace.errors import (
    DataError,
    FewLevelsWarning,
    FormulaError,
    GroupingError,
    IdentifiabilityError,
    InterlaceWarning,
    RankDeficiencyWarning,
    ResponseTypeError,
    ScalingWarning,
    WeightsError,
)

ROOT = Path(__file__).resolve().parents[2]
STORED = ROOT / "fixtures" / "lformula"
CASE_IDS = sorted(p.stem for p in STORED.glob("*.json") if p.stem != "checks")


@pytest.fixture(scope="module")
def reference(r_outputs: Callable[[str, str], Any]) -> Any:
    return r_outputs("lformula.R", "lformula")


def data_dir(reference: Any) -> Path:
    """Where the script wrote its data: DIR/data when run live, fixtures/data when stored."""
    live = Path(reference.directory) / "data"
    return live if live.is_dir() else ROOT / "fixtures" / "data"


def load_data(reference: Any, name: str) -> pd.DataFrame:
    """A data set of the script, with R's column types (``write_dataset`` in common.R)."""
    directory = data_dir(reference)
    schema = json.loads((directory / f"lformula_{name}.json").read_text())
    raw = pd.read_csv(directory / f"lformula_{name}.csv", dtype=str, keep_default_na=False)
    out: dict[str, Any] = {}
    for spec in schema["columns"]:
        values = raw[spec["name"]].replace("", None)
        if spec["type"] in ("factor", "ordered"):
            out[spec["name"]] = pd.Categorical(
                values, categories=spec["levels"], ordered=spec["type"] == "ordered"
            )
        elif spec["type"] in ("numeric", "integer"):
            out[spec["name"]] = pd.to_numeric(values)
        else:
            out[spec["name"]] = values
    return pd.DataFrame(out)


def group_name(name: str) -> str:
    """lme4 1.1-31 labels the innermost nesting of ``g/h/k`` ``k:(h:g)``; later versions
    (reformulas) and interlace write ``k:h:g``.  Compare without the parentheses."""
    return name.replace("(", "").replace(")", "")


def triplets(m: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    coo = sp.coo_matrix(m)
    order = np.lexsort((coo.row, coo.col))
    return coo.row[order], coo.col[order], coo.data[order]


def build(reference: Any, fx: dict[str, Any]) -> LmerDesign:
    data = load_data(reference, fx["data"])
    make = glformula if fx["function"] == "glFormula" else lformula
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rows dropped for missing values (synth_na_group)
        return make(fx["formula"], data, control=fx["control"])


def expected_y(fx: dict[str, Any]) -> np.ndarray:
    """R's ``model.response``: a vector, the columns of a cbind() matrix, or factor codes
    (1-based), which a binomial family reads as 0 for the first level and 1 otherwise."""
    y = fx["y"]
    if y and isinstance(y[0], list):
        return np.column_stack(y).astype(float)
    if fx["function"] == "glFormula" and fx["formula"].startswith("yes "):
        return (np.asarray(y) > 1).astype(float)
    return np.asarray(y, dtype=float)


@pytest.mark.parametrize("case", CASE_IDS)
def test_lformula_matches_lme4(reference: Any, case: str) -> None:
    fx = reference[case]
    design = build(reference, fx)
    assert design.n == fx["n"]
    np.testing.assert_array_equal(design.y, expected_y(fx))
    if fx["offset"] is None:
        assert design.offset is None
    else:
        assert design.offset is not None
        np.testing.assert_allclose(design.offset, fx["offset"], rtol=1e-15)
    assert design.REML is (fx["function"] == "lFormula")
    assert list(design.X_names) == fx["X_names"]
    np.testing.assert_allclose(design.X, np.column_stack(fx["X"]), rtol=1e-14, atol=0)
    assert list(design.X_scale) == list(fx["X_scale"] or {})
    np.testing.assert_allclose(
        list(design.X_scale.values()), list((fx["X_scale"] or {}).values()), rtol=1e-14
    )
    assert [group_name(t.source) for t in design.terms] == [group_name(s) for s in fx["term_names"]]
    assert [(group_name(g), list(names)) for g, names in design.cnms] == [
        (group_name(c["group"]), c["names"]) for c in fx["cnms"]
    ]
    assert [group_name(str(c)) for c in design.flist.columns] == [
        group_name(f["name"]) for f in fx["flist"]
    ]
    for column, f in zip(design.flist.columns, fx["flist"], strict=True):
        cat = design.flist[column].cat
        assert list(cat.categories) == f["levels"]
        np.testing.assert_array_equal(cat.codes.to_numpy(), np.asarray(f["refs"]) - 1)
    np.testing.assert_array_equal(np.asarray(design.random.flist_assign) + 1, fx["flist_assign"])
    assert list(design.random.nl) == fx["nl"]
    np.testing.assert_array_equal(design.Gp, fx["Gp"])
    np.testing.assert_array_equal(design.theta, fx["theta"])
    np.testing.assert_array_equal(design.lower, fx["lower"])
    np.testing.assert_array_equal(design.Lind, np.asarray(fx["Lind"]) - 1)
    for name in ("Zt", "Lambdat"):
        ours = design.get(name)
        assert list(ours.shape) == fx[name]["dim"], name
        for mine, theirs in zip(triplets(ours), (fx[name][k] for k in "ijx"), strict=True):
            np.testing.assert_array_equal(mine, theirs, err_msg=name)


# ------------------------------------------------------------------------- check controls


def check_case(reference: Any, case_id: str) -> dict[str, Any]:
    case: dict[str, Any] = next(c for c in reference["checks"]["cases"] if c["id"] == case_id)
    return case


@pytest.mark.parametrize(
    ("case_id", "error"),
    [
        ("nlev_gtr_1", GroupingError),
        ("nobs_vs_nlev", GroupingError),
        ("nobs_vs_nRE", IdentifiabilityError),
    ],
)
def test_failed_checks_raise_with_lme4_message(
    reference: Any, case_id: str, error: type[Exception]
) -> None:
    case = check_case(reference, case_id)
    data = load_data(reference, case["data"])
    with pytest.raises(error) as info:
        lformula(case["formula"], data)
    message = str(info.value)
    assert message.startswith(case["error"].split(" (problems")[0])


def test_nlev_gtr_1_names_the_factor(reference: Any) -> None:
    case = check_case(reference, "nlev_gtr_1")
    with pytest.raises(GroupingError, match=r"\(problems: one\)") as info:
        lformula(case["formula"], load_data(reference, case["data"]))
    assert info.value.column == "one"


def test_nobs_vs_nlev_names_factor_and_counts(reference: Any) -> None:
    case = check_case(reference, "nobs_vs_nlev")
    with pytest.raises(GroupingError) as info:
        lformula(case["formula"], load_data(reference, case["data"]))
    message = str(info.value)
    assert message.startswith(case["error"])  # lme4's text, "(problems: id)" included
    assert "id: 60 levels; 60 observations" in message
    assert info.value.column == "id"


def test_nobs_vs_nre_is_lme4s_message(reference: Any) -> None:
    case = check_case(reference, "nobs_vs_nRE")
    with pytest.raises(IdentifiabilityError) as info:
        lformula(case["formula"], load_data(reference, case["data"]))
    assert str(info.value).split("\nRemedy")[0] == case["error"]
    assert info.value.term == "Days | Subject"


@pytest.mark.parametrize(
    ("case_id", "category"),
    [("nlev_gtreq_5", FewLevelsWarning), ("nobs_vs_nlev_warning", InterlaceWarning)],
)
def test_checks_as_warnings(reference: Any, case_id: str, category: type[Warning]) -> None:
    case = check_case(reference, case_id)
    data = load_data(reference, case["data"])
    with pytest.warns(category) as record:
        design = lformula(case["formula"], data, control=case["control"])
    got = [str(w.message) for w in record if issubclass(w.category, category)]
    assert len(got) == len(case["warnings"]) == len(design.messages)
    for ours, theirs in zip(got, case["warnings"], strict=True):
        assert ours.startswith(theirs.split(" (problems")[0])
    assert [str(w) for w in design.warnings] == got == list(design.messages)


def test_rank_z_check(reference: Any) -> None:
    case = check_case(reference, "nobs_vs_rankZ")
    data = load_data(reference, case["data"])
    with pytest.raises(IdentifiabilityError) as info:
        lformula(case["formula"], data, control=case["control"])
    assert str(info.value).split("\nRemedy")[0] == case["error"]
    ok = check_case(reference, "nobs_vs_rankZ_ok")
    assert ok["error"] is None
    lformula(ok["formula"], data, control=ok["control"])
    control = dict(case["control"], **{"check.nobs.vs.rankZ": "warningSmall"})
    with pytest.warns(InterlaceWarning, match=r"rank\(Z\) \(=60\)"):
        design = lformula(case["formula"], data, control=control)
    assert design.messages == (case["error"],)


def test_scale_check_warns_like_lme4(reference: Any) -> None:
    case = check_case(reference, "scaleX_warning")
    data = load_data(reference, case["data"])
    with pytest.warns(ScalingWarning) as record:
        design = lformula(case["formula"], data)
    (theirs,) = case["warnings"]
    ours = [str(w.message) for w in record if issubclass(w.category, ScalingWarning)]
    assert len(ours) == 1 and ours[0].startswith(theirs)
    assert "I(x * 10000) (sd 6.09e+03)" in ours[0]
    assert design.X_scale == {}


def test_scale_check_stop(reference: Any) -> None:
    case = check_case(reference, "scaleX_stop")
    with pytest.raises(DataError) as info:
        lformula(case["formula"], load_data(reference, case["data"]), control=case["control"])
    assert str(info.value).startswith(case["error"])


@pytest.mark.parametrize("action", ["silent.rescale", "message+rescale", "warn+rescale"])
def test_rescale_actions(reference: Any, action: str) -> None:
    """All rescale actions give R's silent.rescale X; only warn+rescale warns."""
    fx = reference["synth_scale_rescaled"]
    data = load_data(reference, fx["data"])
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        design = lformula(fx["formula"], data, control={"check.scaleX": action})
    np.testing.assert_allclose(design.X, np.column_stack(fx["X"]), rtol=1e-14, atol=0)
    scaling = [w for w in record if issubclass(w.category, ScalingWarning)]
    assert len(scaling) == (action == "warn+rescale")


def test_invalid_action_lists_valid_ones(reference: Any) -> None:
    case = check_case(reference, "bad_level")
    assert "invalid control level" in case["error"]  # lme4 refuses it too
    with pytest.raises(
        ValueError, match=r"invalid action 'warnign' for check\.nlev\.gtr\.1"
    ) as info:
        lformula(case["formula"], load_data(reference, case["data"]), control=case["control"])
    for valid in ("'ignore'", "'info'", "'warn'", "'raise'", "'message'", "'warning'", "'stop'"):
        assert valid in str(info.value)


def test_python_and_r_spellings_are_equivalent() -> None:
    assert CheckControl.from_mapping({"check.nlev.gtreq.5": "warning"}) == CheckControl(
        nlev_gtreq_5="warn"
    )
    assert CheckControl.from_mapping({"nobs_vs_nRE": "stop"}).nobs_vs_nRE == "raise"
    assert CheckControl.from_mapping({"optimizer": "bobyqa"}) == CheckControl()
    with pytest.raises(ValueError, match=r"check\.rankX"):
        CheckControl(rankX="drop")
    with pytest.raises(ValueError, match=r"unknown check control 'check\.nlev\.gtr1'"):
        CheckControl.from_mapping({"check.nlev.gtr1": "ignore"})
    assert CheckControl.from_mapping({"check.conv.grad": "warning"}) == CheckControl()


def test_ignored_checks_are_silent() -> None:
    control = CheckControl(nlev_gtr_1="ignore", nobs_vs_nlev="ignore", nobs_vs_nRE="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_nlevels({"g": 1, "h": 10}, 10, control) == []
        assert check_zdims([("1 | g", 10)], 10, control) == []


def test_info_action_logs(caplog: pytest.LogCaptureFixture) -> None:
    control = CheckControl(nlev_gtreq_5="info")
    with caplog.at_level("INFO", logger="interlace"):
        messages = check_nlevels({"g": 3}, 30, control)
    assert messages == [
        "grouping factors with < 5 sampled levels may give unreliable estimates (problems: g)"
    ]
    assert messages[0] in caplog.text


def test_glmer_rule_allows_as_many_levels_as_observations() -> None:
    control = CheckControl()
    assert check_nlevels({"id": 10}, 10, control, allow_n=True) == []
    assert check_zdims([("1 | id", 10)], 10, control, allow_n=True) == []
    with pytest.raises(IdentifiabilityError, match=r"\(=10\) < number of random effects \(=11\)"):
        check_zdims([("1 | id", 11)], 10, control, allow_n=True)


# ------------------------------------------------------------------------- the design object


@pytest.fixture(scope="module")
def sleep(reference: Any) -> pd.DataFrame:
    return load_data(reference, "sleepstudy")


def test_get_mirrors_getme(reference: Any, sleep: pd.DataFrame) -> None:
    design = lformula("Reaction ~ Days + (Days | Subject)", sleep)
    assert design.get("n") == 180
    assert design.get("p") == 2
    assert design.get("q") == 36
    np.testing.assert_array_equal(design.get("y"), sleep["Reaction"])
    np.testing.assert_array_equal(design.get("X")[:, 1], sleep["Days"])
    np.testing.assert_array_equal(design.get("Z").toarray(), design.Zt.toarray().T)
    np.testing.assert_array_equal(design.get("Lambda").toarray(), design.Lambdat.toarray().T)
    assert design.get("REML") is True
    assert design.get("weights") is None and design.get("offset") is None
    with pytest.raises(ValueError, match=r"unknown getME name 'Zlist'.*Lambdat"):
        design.get("Zlist")


def test_design_is_immutable(sleep: pd.DataFrame) -> None:
    design = lformula("Reaction ~ Days + (Days | Subject)", sleep)
    for array in (design.y, design.X, design.theta, design.lower, design.Lind, design.Gp):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
    with pytest.raises(AttributeError):
        design.REML = False  # type: ignore[misc]


def test_caller_data_not_modified(sleep: pd.DataFrame) -> None:
    before = sleep.copy()
    lformula("Reaction ~ Days + (Days || Subject)", sleep)
    pd.testing.assert_frame_equal(sleep, before)


def test_weights_offset_and_reml_are_recorded(sleep: pd.DataFrame) -> None:
    w = np.linspace(0.5, 2.0, len(sleep))
    design = lformula(
        "Reaction ~ Days + (1 | Subject)", sleep, REML=False, weights=w, offset="Days"
    )
    np.testing.assert_array_equal(design.weights, w)
    np.testing.assert_array_equal(design.offset, sleep["Days"])
    assert design.REML is False


def test_zero_prior_weights_are_refused_for_lmm_not_glmm(sleep: pd.DataFrame) -> None:
    """lme4's criterion has −Σ log w: lmer returns its starting θ for such weights."""
    w = np.resize([1.0, 0.0, 2.0], len(sleep))
    with pytest.raises(WeightsError, match="60 rows have zero prior weight") as info:
        lformula("Reaction ~ Days + (Days | Subject)", sleep, weights=w)
    assert info.value.column == "(weights)"
    assert list(info.value.rows[:2]) == list(sleep.index[[1, 4]])
    design = glformula("Reaction ~ Days + (Days | Subject)", sleep, weights=w)
    np.testing.assert_array_equal(design.weights, w)


def test_lmer_response_must_be_numeric(reference: Any) -> None:
    synth = load_data(reference, "synth")
    with pytest.raises(ResponseTypeError, match="response must be numeric") as info:
        lformula("yes ~ x + (1 | g)", synth)
    assert info.value.column == "yes"


def test_glmer_allows_one_level_per_observation(reference: Any) -> None:
    """lme4's glFormula accepts (1 | id) with 60 levels for 60 rows (fixture glmm_nlev_eq_n);
    lFormula refuses it (checks fixture nobs_vs_nlev)."""
    synth = load_data(reference, "synth")
    assert reference["glmm_nlev_eq_n"]["nl"] == [60]
    assert glformula("s ~ x + (1 | id)", synth).random.nl == (60,)
    with pytest.raises(GroupingError):
        lformula("s ~ x + (1 | id)", synth)


def test_no_random_term_is_a_formula_error(sleep: pd.DataFrame) -> None:
    with pytest.raises(FormulaError, match="random"):
        lformula("Reaction ~ Days", sleep)


def test_rank_deficient_columns(sleep: pd.DataFrame) -> None:
    data = sleep.assign(Days2=sleep["Days"] * 2.0)
    with pytest.warns(RankDeficiencyWarning, match="Days2"):
        design = lformula("Reaction ~ Days + Days2 + (1 | Subject)", data)
    assert design.X_names == ("(Intercept)", "Days")
    assert design.X_dropped == ("Days2",)
    assert [type(w) for w in design.warnings] == [RankDeficiencyWarning]
    assert "Days2" in str(design.warnings[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        silent = lformula(
            "Reaction ~ Days + Days2 + (1 | Subject)",
            data,
            control={"check.rankX": "silent.drop.cols"},
        )
    assert silent.X_dropped == ("Days2",)
    kept = lformula(
        "Reaction ~ Days + Days2 + (1 | Subject)", data, control={"check.rankX": "ignore"}
    )
    assert kept.X_names == ("(Intercept)", "Days", "Days2")
    with pytest.raises(IdentifiabilityError, match=r"rank\(X\) = 2 < 3 = p"):
        lformula(
            "Reaction ~ Days + Days2 + (1 | Subject)",
            data,
            control={"check.rankX": "stop.deficient"},
        )


def test_engine_term_protocol(sleep: pd.DataFrame) -> None:
    """The per-term view the engine uses: group, names, levels, refs, z, cov, theta_slice."""
    design = lformula("Reaction ~ Days + (Days | Subject)", sleep)
    (term,) = design.terms
    assert term.group == "Subject"
    assert term.names == ("(Intercept)", "Days")
    assert len(term.levels) == 18
    assert term.refs.shape == (180,)
    np.testing.assert_array_equal(term.z[:, 1], sleep["Days"])
    assert term.theta_slice == slice(0, 3)
    np.testing.assert_array_equal(
        term.lambda_block(np.array([2.0, 0.5, 3.0])), [[2.0, 0.0], [0.5, 3.0]]
    )
