"""Designs and reference values read from fixtures/lmm/*.json (written by fixtures/R/lmm.R).

The design is lme4's own (``getME``), so engine tests do not depend on the
formula front end.  ``FixtureDesign`` has the fields of the engine's
``LmmDesign`` protocol.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.design.covariance import CovarianceStructure, Unstructured

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lmm"
SMALL_CASES = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.startswith("insteval"))


@dataclass(frozen=True)
class FixtureTerm:
    group: str
    names: tuple[str, ...]
    levels: tuple[str, ...]
    refs: NDArray[np.int32]
    z: NDArray[np.float64]
    cov: CovarianceStructure
    theta_slice: slice


@dataclass(frozen=True)
class FixtureDesign:
    y: NDArray[np.float64]
    X: NDArray[np.float64]
    X_names: tuple[str, ...]
    Zt: sp.csc_matrix
    Lambdat: sp.csc_matrix
    Lind: NDArray[np.intp]
    theta: NDArray[np.float64]
    lower: NDArray[np.float64]
    weights: NDArray[np.float64] | None
    offset: NDArray[np.float64] | None
    terms: tuple[FixtureTerm, ...]
    REML: bool = True


@cache
def load(case: str) -> dict[str, Any]:
    """The parsed JSON of one case."""
    with open(FIXTURES / f"{case}.json") as fh:
        out: dict[str, Any] = json.load(fh)
    return out


def _lambdat(
    terms: tuple[FixtureTerm, ...], theta: NDArray[np.float64]
) -> tuple[sp.csc_matrix, NDArray[np.intp]]:
    """lme4's Lambdat (block diagonal, λ' per level) and Lind."""
    blocks, lind = [], []
    for t in terms:
        tmpl = t.cov.template()
        assert tmpl is not None
        upper = tmpl.T  # Lambdat holds λ'
        rows, cols = np.nonzero(upper >= 0)
        block = sp.csc_matrix((np.ones(len(rows)), (rows, cols)), shape=upper.shape)
        block.sort_indices()
        r, c = block.nonzero()
        order = np.lexsort((r, c))
        idx = upper[r[order], c[order]] + t.theta_slice.start
        for _ in t.levels:
            blocks.append(block)
            lind.append(idx)
    lt = sp.block_diag(blocks, format="csc")
    ind = np.concatenate(lind).astype(np.intp)
    lt.data = theta[ind]
    return lt, ind


def as_list(value: Any) -> list[Any]:
    """A JSON vector: R's ``auto_unbox`` writes length-one vectors as scalars, NULL as null."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def beta_of(fit: dict[str, Any]) -> tuple[list[str], list[float]]:
    """Names and values of ``fixef`` (an empty model writes ``[]``)."""
    beta = fit["beta"]
    return (list(beta), list(beta.values())) if isinstance(beta, dict) else ([], [])


def design_from_spec(d: dict[str, Any], REML: bool) -> FixtureDesign:
    """A design from a dict in the layout of the fixtures' ``design`` entry."""
    y = np.asarray(d["y"], dtype=float)
    n = y.size
    X = np.asarray(d["X"], dtype=float).reshape(n, len(as_list(d["X_names"])))
    terms, start, zts = [], 0, []
    for t in d["terms"]:
        names = tuple(as_list(t["cnms"]))
        k = len(names)
        cov = Unstructured(k)
        levels = tuple(as_list(t["levels"]))
        z = np.asarray(t["z"], dtype=float).reshape(n, k)
        refs = np.asarray(t["refs"], dtype=np.int32)
        terms.append(
            FixtureTerm(t["group"], names, levels, refs, z, cov, slice(start, start + cov.n_theta))
        )
        start += cov.n_theta
        cols = (refs[:, None].astype(np.int64) * k + np.arange(k)).ravel()
        zts.append(
            sp.csc_matrix(
                (z.ravel(), (cols, np.repeat(np.arange(n), k))), shape=(len(levels) * k, n)
            )
        )
    tt = tuple(terms)
    theta0 = np.concatenate([t.cov.theta0() for t in tt])
    lower = np.concatenate([t.cov.lower() for t in tt])
    lt, lind = _lambdat(tt, theta0)
    w = np.asarray(d["weights"], dtype=float)
    off = np.asarray(d["offset"], dtype=float)
    return FixtureDesign(
        y=y,
        X=X,
        X_names=tuple(as_list(d["X_names"])),
        Zt=sp.vstack(zts, format="csc"),
        Lambdat=lt,
        Lind=lind,
        theta=theta0,
        lower=lower,
        weights=None if np.all(w == 1) else w,
        offset=None if np.all(off == 0) else off,
        terms=tt,
        REML=REML,
    )


@cache
def design(case: str) -> FixtureDesign:
    """The lme4 design of a small case."""
    f = load(case)
    return design_from_spec(f["design"], bool(f["fit"]["REML"]))


@cache
def insteval_design(case: str) -> FixtureDesign:
    """InstEval designs rebuilt from the exported codes (same level order as R)."""
    with gzip.open(FIXTURES / "data" / "InstEval.csv.gz", "rt") as fh:
        header = fh.readline().strip().replace('"', "").split(",")
        raw = np.loadtxt(fh, delimiter=",")
    col = {h: raw[:, i] for i, h in enumerate(header)}
    n = raw.shape[0]
    service = col["service"]
    codes = {g: col[g].astype(np.int32) for g in ("s", "d", "dept")}
    nlev = {g: int(codes[g].max()) + 1 for g in codes}
    names = load(case)["fit"]["beta"]
    if case == "insteval_ml":
        X = np.column_stack([np.ones(n), service])
        groups = ["s", "d", "dept"]
    else:  # y ~ service * dept: dept treatment dummies and their products with service
        dept = np.eye(nlev["dept"])[codes["dept"]][:, 1:]
        X = np.column_stack([np.ones(n), service, dept, dept * service[:, None]])
        groups = ["s", "d"]
    # lme4 orders terms by decreasing number of levels: s (2972), d (1128), dept (14)
    terms = []
    for g in groups:
        terms.append(
            {
                "group": g,
                "cnms": ["(Intercept)"],
                "levels": [str(j + 1) for j in range(nlev[g])],
                "refs": codes[g],
                "z": np.ones((n, 1)),
            }
        )
    d = {
        "y": col["y"],
        "X": X,
        "X_names": list(names),
        "terms": terms,
        "weights": np.ones(n),
        "offset": np.zeros(n),
    }
    return design_from_spec(d, bool(load(case)["fit"]["REML"]))


def assert_printout_close(ours: list[str], theirs: list[str]) -> None:
    """Same lines and words; numbers may differ by one unit in R's last printed digit."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        ta, tb = a.split(), b.split()
        assert len(ta) == len(tb), (a, b)
        for x, y in zip(ta, tb, strict=True):
            try:
                xv, yv = float(x), float(y)
            except ValueError:
                assert x == y, (a, b)
                continue
            last_digit = 10.0 ** -len(y.partition(".")[2])  # one unit in the printed place
            assert abs(xv - yv) <= max(2e-3 * abs(yv), 1.01 * last_digit), (a, b)


def rel(a: object, b: object) -> float:
    """Largest relative difference of ``a`` from ``b``."""
    x, y = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    assert x.shape == y.shape
    return float(np.max(np.abs(x - y) / np.abs(y), initial=0.0))


def _absolute(a: object, b: object) -> float:
    x, y = np.ravel(np.asarray(a, dtype=float)), np.ravel(np.asarray(b, dtype=float))
    assert x.shape == y.shape
    return float(np.max(np.abs(x - y), initial=0.0))


def _values(fit: dict[str, Any], key: str) -> list[float]:
    v = fit[key]
    return list(v.values()) if isinstance(v, dict) else as_list(v)


#: Issue 3's parity bar: (distance, tolerance) per quantity.
PARITY_BAR = {
    "objective": (rel, 1e-6),
    "theta": (_absolute, 1e-3),
    "beta": (rel, 1e-5),
    "se": (rel, 1e-4),
    "sigma": (rel, 1e-5),
}


def assert_parity_bar(r: Any, case: str) -> None:
    """A fit against lme4's within issue 3's bar.

    Where lme4's default stopping point is itself farther than the bar from the
    optimum (the fixture's ``fit_tight`` is lme4 refitted with tight tolerances),
    the comparison is with that converged lme4 fit instead, and only then.
    """
    f, tight = load(case)["fit"], load(case)["fit_tight"]
    ours = {
        "objective": r.objective,
        "theta": r.theta,
        "beta": r.fe_params.to_numpy(),
        "se": r.bse.to_numpy(),
        "sigma": r.sigma,
    }
    for key, (dist, bar) in PARITY_BAR.items():
        if dist(ours[key], _values(f, key)) < bar:
            continue
        # lme4's own answer must then be off the converged optimum by more than the bar
        assert dist(_values(f, key), _values(tight, key)) >= bar, key
        assert dist(ours[key], _values(tight, key)) < bar, key
