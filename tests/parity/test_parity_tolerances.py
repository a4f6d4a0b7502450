"""Tolerance tables: documented defaults at least as strict as issue 4 asks; overrides."""

from __future__ import annotations

import math

import pytest

from interlace.parity.tolerances import (
    DEFAULTS,
    Tolerance,
    UnknownToleranceError,
    tolerances_for,
)


@pytest.mark.parametrize(
    ("cls", "fixef", "vc"),
    [("lmm", 1e-4, 0.05), ("glmm", 1e-3, 0.05), ("clmm", 1e-3, 0.05), ("cox", 1e-3, 0.10)],
)
def test_defaults_at_least_as_strict_as_the_issue(cls: str, fixef: float, vc: float) -> None:
    table = DEFAULTS[cls]
    assert table["fixef"].atol <= fixef and table["fixef"].rtol == 0
    for quantity in ("varcorr", "theta", "sigma", "ranef"):
        assert table[quantity].rtol <= vc
    assert table["loglik"].one_sided


def test_bound_is_the_larger_of_absolute_and_relative() -> None:
    tol = Tolerance(atol=1e-4, rtol=0.05)
    assert tol.bound(1.0) == pytest.approx(0.05)
    assert tol.bound(-1e-6) == pytest.approx(1e-4)
    assert Tolerance().bound(123.0) == 0.0


def test_describe() -> None:
    assert Tolerance().describe() == "exact"
    assert Tolerance(atol=1e-4).describe() == "abs 0.0001"
    assert Tolerance(rtol=0.05).describe() == "rel 5%"
    assert Tolerance(atol=1e-4, one_sided=True).describe() == "abs 0.0001, one-sided"


def test_number_overrides_are_absolute_for_fixef_and_relative_for_variance_components() -> None:
    table = tolerances_for("lmm", {"fixef": 1e-8, "varcorr": 0.01, "loglik": 1e-9})
    assert table["fixef"] == Tolerance(atol=1e-8)
    assert table["varcorr"] == Tolerance(rtol=0.01)
    assert table["loglik"] == Tolerance(atol=1e-9, one_sided=True)
    assert table["se"] == DEFAULTS["lmm"]["se"]  # untouched
    assert DEFAULTS["lmm"]["fixef"].atol == 1e-4  # the defaults are not mutated


def test_tolerance_object_override() -> None:
    table = tolerances_for("glmm", {"theta": Tolerance(atol=0.5)})
    assert table["theta"].bound(0.0) == 0.5


def test_unknown_names_raise() -> None:
    with pytest.raises(UnknownToleranceError, match="unknown quantity 'beta'"):
        tolerances_for("lmm", {"beta": 1.0})
    with pytest.raises(KeyError, match="unknown tolerance class"):
        tolerances_for("gam")


def test_tables_cover_the_same_quantities() -> None:
    keys = {cls: set(table) for cls, table in DEFAULTS.items()}
    assert len({frozenset(k) for k in keys.values()}) == 1
    assert all(not math.isnan(t.atol) for t in DEFAULTS["lmm"].values())
