"""ClmmResult against the shared API ("Every fitted result") and ordinal's printout."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from clmm_fixtures import CASES, FIT_CASES, Case, fitted

from interlace.errors import ConvergenceWarning
from interlace.optim.summary import OptSummary


def _case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def test_every_fitted_result_members() -> None:
    fit = fitted(_case("wine_judge"))
    names = list(fit.fe_params.index)
    for series in (fit.bse, fit.tvalues, fit.pvalues):
        assert isinstance(series, pd.Series)
        assert list(series.index) == names
    np.testing.assert_allclose(fit.tvalues, fit.fe_params / fit.bse)
    vc = fit.cov_params()
    assert isinstance(vc, pd.DataFrame)
    np.testing.assert_allclose(np.sqrt(np.diag(vc.loc[names, names])), fit.bse)
    assert fit.aic == pytest.approx(-2 * fit.llf + 2 * 7)
    assert fit.bic == pytest.approx(-2 * fit.llf + math.log(72) * 7)
    assert fit.deviance == pytest.approx(-2 * fit.llf)
    assert fit.nobs == 72
    assert list(fit.varcorr().columns) == ["grp", "var1", "var2", "vcov", "sdcor"]
    assert fit.variance_components["judge"] == pytest.approx(fit.varcorr()["vcov"].iloc[0])
    assert fit.random_effects.keys() == fit.ranef().keys() == {"judge"}
    assert list(fit.thresholds.index) == ["1|2", "2|3", "3|4", "4|5"]
    pd.testing.assert_series_equal(fit.coef(), fit.params)
    assert fit.converged
    assert not fit.is_singular
    assert isinstance(fit.optinfo, OptSummary)
    assert fit.optinfo.feval == fit.neval > 0
    assert fit.optinfo.fmin == pytest.approx(-fit.llf)
    assert fit.optinfo.conv.code == 0
    assert isinstance(str(fit.summary()), str)


def test_fitted_values_are_ordinals() -> None:
    case = _case("wine_crossed")
    ref, fit = case.reference(), fitted(case)
    assert isinstance(fit.fittedvalues, pd.Series)
    np.testing.assert_allclose(fit.fittedvalues, ref["fitted"], rtol=2e-4)


def test_zero_standard_deviation_is_singular() -> None:
    case = _case("wine_crossed")
    ref, fit = case.reference(), fitted(case)
    (bottle_sd,) = next(v for v in ref["varcorr"] if v["group"] == "bottle")["stddev"]
    assert bottle_sd < 1e-4  # ordinal's estimate is on the boundary too
    assert fit.is_singular
    assert list(fit.cov_params().index)[-1] == "ST1"  # bottle's SD left out, as ordinal does


@pytest.mark.parametrize("case", FIT_CASES)
def test_summary_random_effects_block_is_ordinals(case: Case) -> None:
    ref, fit = case.reference(), fitted(case)
    ours, theirs = str(fit.summary()).split("\n"), ref["summary"].split("\n")

    def block(lines: list[str]) -> list[str]:
        start = lines.index("Random effects:")
        end = next(i for i, line in enumerate(lines) if line.startswith("Number of groups"))
        return lines[start : end + 1]

    mine, rs = block(ours), block(theirs)
    # wine_crossed: ordinal's bottle SD 4e-6 prints in scientific notation, interlace's 0 in
    # fixed notation (R prints an exact 0 so too): only the names are compared there
    boundary = fit.is_singular
    assert len(mine) == len(rs)
    assert mine[0] == rs[0]
    assert mine[1] == rs[1] or boundary  # column headings (with Corr for a vector term)
    assert mine[-1] == rs[-1]  # Number of groups
    for a, b in zip(mine[2:-1], rs[2:-1], strict=True):
        # groups and names as ordinal prints them; numbers to the last printed digit or so
        ta, tb = a.split(), b.split()
        assert len(ta) == len(tb)
        for x, y in zip(ta, tb, strict=True):
            if x[0].isdigit() or x[0] == "-":
                assert float(x) == pytest.approx(float(y), rel=1e-3, abs=1e-4) or boundary
            else:
                assert x == y
    for heading in ("Coefficients:", "Threshold coefficients:"):
        i, j = ours.index(heading), theirs.index(heading)
        assert ours[i + 1] == theirs[j + 1]  # the column headings
        assert [line.split()[0] for line in ours[i + 2 : i + 4]] == [
            line.split()[0] for line in theirs[j + 2 : j + 4]
        ]


def test_non_convergence_is_reported() -> None:
    from interlace.api.clmm import clmm
    from interlace.datasets import load

    with pytest.warns(ConvergenceWarning, match=r"max\|gradient\|"):
        fit = clmm(
            "rating ~ temp + contact + (1 | judge)",
            load("wine"),
            control={"maxeval": 20, "restarts": 0, "newton_steps": 0},
        )
    assert not fit.converged
    assert fit.optinfo.conv.code == -1
    assert fit.warnings == fit.optinfo.conv.messages
