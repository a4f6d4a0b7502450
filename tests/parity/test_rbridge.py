"""The R bridge: data round trips with factor levels, order and NA intact; calls read by R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from interlace import datasets
from interlace.errors import DataError
from interlace.parity.rbridge import RBridge, RCallError, RUnavailableError, bridge

pytestmark = pytest.mark.r


@pytest.fixture(scope="module")
def r() -> RBridge:
    pytest.importorskip("rpy2")
    return bridge()


def _assert_same_column(original: pd.Series, back: pd.Series) -> None:
    if isinstance(original.dtype, pd.CategoricalDtype):
        assert isinstance(back.dtype, pd.CategoricalDtype)
        assert list(back.cat.categories) == [str(c) for c in original.cat.categories]
        assert back.cat.ordered == original.cat.ordered
        np.testing.assert_array_equal(back.cat.codes, original.cat.codes)
    elif pd.api.types.is_datetime64_any_dtype(original.dtype):
        np.testing.assert_array_equal(
            back.to_numpy("datetime64[s]"), original.to_numpy("datetime64[s]")
        )
    elif pd.api.types.is_numeric_dtype(original.dtype) and not pd.api.types.is_bool_dtype(
        original.dtype
    ):
        np.testing.assert_array_equal(
            back.to_numpy(float, na_value=np.nan), original.to_numpy(float, na_value=np.nan)
        )
    else:
        assert list(back.isna()) == list(original.isna())
        assert [v for v in back if not pd.isna(v)] == [v for v in original if not pd.isna(v)]


@pytest.mark.parametrize("name", datasets.names())
def test_bundled_datasets_round_trip(r: RBridge, name: str) -> None:
    frame = datasets.load(name)
    back = r.from_r(r.to_r(frame))
    assert list(back.columns) == list(frame.columns)
    assert len(back) == len(frame)
    for column in frame.columns:
        _assert_same_column(frame[column], back[column])


def test_levels_order_ordered_and_na(r: RBridge) -> None:
    frame = pd.DataFrame(
        {
            "f": pd.Categorical(["b", "a", None, "c"], categories=["c", "b", "a"]),
            "o": pd.Categorical(
                ["lo", "hi", "mid", None], categories=["lo", "mid", "hi"], ordered=True
            ),
            "n": pd.Categorical([3, 1, 2, 10], categories=[10, 3, 2, 1]),
            "x": [1.5, np.nan, 3.0, 4.0],
            "i": [1, 2, 3, 4],
            "I": pd.array([1, None, 3, 4], dtype="Int64"),
            "s": ["a", None, "B", "c"],
            "b": [True, False, True, False],
            "B": pd.array([True, None, False, True], dtype="boolean"),
        }
    )
    original = frame.copy()
    r_frame = r.to_r(frame)
    pd.testing.assert_frame_equal(frame, original)  # the caller's frame is untouched
    back = r.from_r(r_frame)
    for column in frame.columns:
        _assert_same_column(frame[column], back[column])
    assert list(back["n"].cat.categories) == ["10", "3", "2", "1"]  # order kept, as strings
    assert back["o"].cat.ordered and not back["f"].cat.ordered
    assert back["I"].isna().tolist() == [False, True, False, False]
    assert str(back["B"].dtype) == "boolean" and back["B"].isna().tolist()[1]


def test_r_sees_the_levels_in_order(r: RBridge) -> None:
    cake = datasets.load("cake")
    env = r.environment({"cake": cake})
    # R evaluates with the factor as sent: an ordered factor gets polynomial contrasts
    values = r.evaluate_argument("as.integer(temperature)", "cake", env)
    np.testing.assert_array_equal(values, cake["temperature"].cat.codes.to_numpy() + 1)


def test_unsupported_column_is_named(r: RBridge) -> None:
    frame = pd.DataFrame({"ok": [1.0, 2.0], "odd": [1, "a"]})
    with pytest.raises(DataError, match="column 'odd'"):
        r.to_r(frame)


def test_calls_are_matched_by_r(r: RBridge) -> None:
    code = """
library(lme4)
m1 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)
sleepstudy$x <- 1
m2 = lme4::lmer(data = sleepstudy, REML = FALSE, Reaction ~ 1 + (1 | Subject))
lmer(Yield ~ 1 + (1 | Batch), Dyestuff)
"""
    parsed = r.parse_calls(code, {"lmer": "lme4::lmer"})
    assert [c.name for c in parsed.calls] == ["m1", "m2", None]
    m2 = parsed.calls[1]
    assert dict(m2.args) == {
        "formula": "Reaction ~ 1 + (1 | Subject)",
        "data": "sleepstudy",
        "REML": "FALSE",
    }
    assert m2.data_name == "sleepstudy"
    assert parsed.skipped == ("library(lme4)", "sleepstudy$x <- 1")


def test_syntax_error_is_reported(r: RBridge) -> None:
    with pytest.raises(RCallError, match="parsing the R code"):
        r.parse_calls("m <- lmer(y ~ x +", {"lmer": "lme4::lmer"})


def test_missing_r_package_names_the_debian_package(r: RBridge) -> None:
    with pytest.raises(RUnavailableError, match="notapkg0") as info:
        r.require(["lme4", "notapkg0"])
    assert "apt-get install r-cran-notapkg0" in str(info.value)


def test_fit_keeps_the_call_short_and_captures_messages(r: RBridge) -> None:
    call = r.parse_calls("m <- lmer(Yield ~ 1 + (1 | Batch), Dyestuff2)", {"lmer": "lme4::lmer"})
    env = r.environment({"Dyestuff2": datasets.load("Dyestuff2")})
    fit = r.fit(call.calls[0], "lme4::lmer", env)
    assert any("boundary (singular) fit" in m for m in fit.messages)
    import rpy2.robjects as ro

    deparsed = ro.r("function(m) paste(deparse(m@call), collapse = '')")(fit.handle)[0]
    assert deparsed == "lme4::lmer(formula = Yield ~ 1 + (1 | Batch), data = Dyestuff2)"


def test_r_errors_carry_r_message(r: RBridge) -> None:
    parsed = r.parse_calls("lmer(Yield ~ nope + (1 | Batch), Dyestuff)", {"lmer": "lme4::lmer"})
    env = r.environment({"Dyestuff": datasets.load("Dyestuff")})
    with pytest.raises(RCallError, match="nope") as info:
        r.fit(parsed.calls[0], "lme4::lmer", env)
    assert "object 'nope' not found" in info.value.r_message


def test_complex_column_is_refused(r: RBridge) -> None:
    with pytest.raises(DataError, match="column 'z'"):
        r.to_r(pd.DataFrame({"z": [1 + 2j, 3j]}))
