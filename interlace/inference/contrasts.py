"""Hypothesis matrices of lmerTest's type 1, 2 and 3 anova tables.

Each term of the fixed part gets a contrast matrix ``L`` (rows = tested
directions, columns = coefficients of the fitted ``X``); the F test of
``L β = 0`` is the term's row of the table.

* **Type 1** (sequential): the rows of ``T'`` for the term's columns, where
  ``X'X = T U`` is the Doolittle (unit lower × upper) factorisation; each
  term is tested after the terms before it.
* **Type 2**: a term contained in no other term is tested marginally (the
  identity rows of its coefficients).  Otherwise its columns and those of
  the terms containing it are moved last and the sequential (Doolittle)
  contrast of the term is taken: the term adjusted for everything except
  the terms containing it.
* **Type 3**: hypotheses on the cell means, independent of the contrast
  coding.  With ``X_T`` the design in treatment contrasts (aliased columns
  dropped) and ``X_C`` the design with every term coded by indicators of all
  its cells, ``L = (X_T⁺ X_C)'`` expresses each cell parameter in ``X_T``'s
  coefficients.  Working from the highest-order terms down, the columns of a
  term are replaced by their residuals after regression on the columns of
  the terms containing it (so that the term's hypothesis is orthogonal to
  its interactions); the rows belonging to ``X_T``'s own columns are kept and
  mapped to the fitted coding with ``X_T⁺ X``.

This is the construction of lmerTest 3.1 (``get_contrasts_type1``,
``get_contrasts_type2_unfolded``, ``get_contrasts_type3``), including its
rounding (``zapsmall``) and its Doolittle tolerances, so that the hypotheses
and hence the F statistics agree with it.
"""

from __future__ import annotations

import warnings

import numpy as np

from interlace.design.frame import ModelFrame
from interlace.design.rank import rank_check
from interlace.errors import InterlaceError, InterlaceWarning
from interlace.inference.ddf import FloatArray
from interlace.inference.fixed_terms import FixedTerms, cell_design, treatment_design

#: Doolittle's zero tolerance (lmerTest's ``eps``).
DOOLITTLE_EPS = 1e-6
#: Rows of a type 3 contrast with absolute sum below this are dropped.
ZERO_ROW_TOL = 1e-8
#: Relative singular-value cut of the generalised inverse (``MASS::ginv``).
GINV_TOL = float(np.sqrt(np.finfo(float).eps))


def zapsmall(x: FloatArray, digits: int = 7) -> FloatArray:
    """R's ``zapsmall``: round to ``digits`` significant digits of the largest entry."""
    if x.size == 0:
        return x
    mx = float(np.max(np.abs(x)))
    places = max(0, digits - int(np.ceil(np.log10(mx)))) if mx > 0 else digits
    return np.asarray(np.round(x, places), dtype=float)


def ginv(x: FloatArray) -> FloatArray:
    """Moore–Penrose inverse over singular values above ``sqrt(eps)`` times the largest."""
    return np.asarray(np.linalg.pinv(x, rcond=GINV_TOL), dtype=float)


def doolittle_lower(x: FloatArray) -> FloatArray:
    """Unit lower factor ``T`` of ``x = T U`` (Doolittle), entries below 1e-6 set to 0."""
    n = x.shape[0]
    lower = np.eye(n)
    upper = np.zeros((n, n))
    for i in range(n):
        upper[i] = x[i] - lower[i, :i] @ upper[:i]
        if i + 1 < n:
            col = x[i + 1 :, i] - lower[i + 1 :, :i] @ upper[:i, i]
            lower[i + 1 :, i] = 0.0 if abs(upper[i, i]) < DOOLITTLE_EPS else col / upper[i, i]
    lower[np.abs(lower) < DOOLITTLE_EPS] = 0.0
    return lower


def _sequential(X: FloatArray) -> FloatArray:
    """Rows = sequential contrasts of the columns of ``X`` (``t(doolittle(X'X)$L)``)."""
    if X.shape[1] == 1:
        return np.ones((1, 1))
    return doolittle_lower(X.T @ X).T


def type1(X: FloatArray, terms: FixedTerms) -> dict[str, FloatArray]:
    """Type 1 (sequential) hypotheses per term."""
    L = _sequential(X)
    return {label: L[cols] for label, cols in terms.columns().items()}


def _few_terms(X: FloatArray, terms: FixedTerms) -> bool:
    return X.shape[1] <= 1 or len(terms.labels) <= 1


def type2(X: FloatArray, terms: FixedTerms) -> dict[str, FloatArray]:
    """Type 2 hypotheses per term (lmerTest's "unfolded" type 2)."""
    if _few_terms(X, terms):
        return type1(X, terms)
    cols = terms.columns()
    contained = terms.containment()
    p = X.shape[1]
    out: dict[str, FloatArray] = {}
    for label in terms.labels:
        if not contained[label]:
            out[label] = np.eye(p)[cols[label]]
            continue
        moved = [c for t in [label, *contained[label]] for c in cols[t]]
        order = [c for c in range(p) if c not in moved] + moved
        Lc = _sequential(X[:, order])
        own = [i for i, c in enumerate(order) if c in cols[label]]
        back = np.argsort(order)
        out[label] = Lc[np.ix_(np.asarray(own, dtype=np.intp), back)]
    return out


def _residuals(x: FloatArray, y: FloatArray) -> FloatArray:
    """Residuals of the least-squares regression of the columns of ``y`` on ``x``."""
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return np.asarray(y - x @ coef, dtype=float)


def type3(X: FloatArray, terms: FixedTerms, frame: ModelFrame) -> dict[str, FloatArray]:
    """Type 3 hypotheses per term, expressed in the fitted coding of ``X``."""
    if _few_terms(X, terms):
        return type1(X, terms)
    full = treatment_design(frame, terms.fixed)
    keep = rank_check(full.X, full.colnames).keep
    xt = full.X[:, keep]
    xt_names = tuple(full.colnames[j] for j in keep)
    xt_assign = tuple(full.assign[j] for j in keep)
    same = xt.shape == X.shape and np.array_equal(xt, X)
    rdx, rdx_names = cell_design(frame, terms.fixed)
    empty = [name for name, col in zip(rdx_names, rdx.T, strict=True) if not col.any()]
    if empty:
        warnings.warn(
            f"Missing cells for: {', '.join(empty)}. Interpret type III hypotheses with care.",
            InterlaceWarning,
            stacklevel=3,
        )
    L = zapsmall((ginv(xt) @ rdx).T)
    cols = terms.columns(xt_assign)
    contained = terms.containment()
    by_order = sorted(range(len(terms.labels)), key=lambda j: -terms.orders[j])
    for j in by_order:
        label = terms.labels[j]
        outer = [c for t in contained[label] for c in cols[t]]
        if outer and cols[label]:
            L[:, cols[label]] = zapsmall(_residuals(L[:, outer], L[:, cols[label]]))
    position = {name: i for i, name in enumerate(rdx_names)}
    missing = [name for name in xt_names if name not in position]
    if missing:
        raise InterlaceError(
            "type 3 hypotheses: treatment-coded columns without a cell column: "
            + ", ".join(missing)
        )
    L = L[[position[name] for name in xt_names]]
    to_fit = np.eye(X.shape[1]) if same else zapsmall(ginv(xt) @ X)
    out: dict[str, FloatArray] = {}
    for label in terms.labels:
        Lt = L[:, cols[label]].T
        Lt = Lt[np.sum(np.abs(Lt), axis=1) > ZERO_ROW_TOL]
        out[label] = Lt @ to_fit
    return out
