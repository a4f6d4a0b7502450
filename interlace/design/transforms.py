"""Stateful transforms of R formulas: ``poly``, ``scale``, ``ns`` and ``bs``.

Each transform is fitted once, on the training data, and its parameters are kept
in a small frozen dataclass (R keeps them in ``attr(terms, "predvars")``), so
that the same expression can be evaluated on new data with the training state:

* ``poly(x, degree)``: orthogonal polynomials.  On the training data
  :math:`Z = Q\\,\\mathrm{diag}(R)` for the QR decomposition of
  :math:`[1, x-\\bar x, \\dots, (x-\\bar x)^d]`; the parameters are the
  three-term recurrence coefficients :math:`\\alpha_i` and squared norms
  :math:`\\|p_i\\|^2`, with :math:`p_{i+1}(x) = (x-\\alpha_{i+1}) p_i(x) -
  (\\|p_i\\|^2/\\|p_{i-1}\\|^2) p_{i-1}(x)` and columns :math:`p_i/\\|p_i\\|`.
* ``scale(x, center, scale)``: centring by the mean and scaling by the root mean
  square with divisor :math:`n-1` (the sample SD when centred).
* ``bs(x, df, knots, degree, Boundary.knots)``: the B-spline basis of
  ``splines::bs`` without intercept; interior knots at quantiles (type 7) of
  ``x``; values outside the boundary knots by a Taylor expansion at the boundary.
* ``ns(x, df, knots, Boundary.knots)``: the natural cubic spline basis of
  ``splines::ns``: cubic B-splines projected onto the null space of the second
  derivatives at the boundary knots (via the QR decomposition of that
  constraint), linear beyond the boundary knots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import BSpline

from interlace.errors import DataError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PolyState:
    """Training parameters of ``poly(x, degree)``: R's ``coefs = list(alpha, norm2)``."""

    alpha: tuple[float, ...]
    norm2: tuple[float, ...]


@dataclass(frozen=True)
class ScaleState:
    """Training parameters of ``scale()``: centre and scale (``None`` when not applied)."""

    center: float | None
    scale: float | None


@dataclass(frozen=True)
class SplineState:
    """Training parameters of ``bs()``/``ns()``: interior and boundary knots."""

    knots: tuple[float, ...]
    boundary_knots: tuple[float, float]


TransformState = PolyState | ScaleState | SplineState


def r_seq(start: float, stop: float, length_out: int) -> FloatArray:
    """R's ``seq.int(from, to, length.out=)``: ``from + i * by`` for every ``i``."""
    if length_out == 1:
        return np.array([start])
    by = (stop - start) / (length_out - 1)
    return np.asarray(start + np.arange(length_out) * by, dtype=np.float64)


def r_quantile(x: FloatArray, probs: FloatArray) -> FloatArray:
    """R's ``quantile(x, probs)`` of type 7, computed as R does."""
    xs = np.sort(x)
    index = (len(xs) - 1) * probs
    lo = np.floor(index).astype(int)
    hi = np.ceil(index).astype(int)
    h = index - lo
    out = xs[lo].copy()
    interpolate = (index > lo) & (xs[hi] != out)
    out[interpolate] = (1 - h[interpolate]) * out[interpolate] + h[interpolate] * xs[
        hi[interpolate]
    ]
    return out


# --------------------------------------------------------------------------- poly


def poly(
    x: FloatArray, degree: int, *, raw: bool = False, state: PolyState | None = None
) -> tuple[FloatArray, PolyState | None]:
    """``poly(x, degree, raw=)`` for one variable.

    Parameters
    ----------
    x
        The variable (no missing values).
    degree
        Highest degree, at least 1.
    raw
        Raw powers ``x, x^2, ...`` instead of orthogonal polynomials.
    state
        Training parameters; ``None`` fits them on ``x``.

    Returns
    -------
    basis : ndarray, shape (n, degree)
    state : PolyState or None
        ``None`` for raw polynomials, which have no state.
    """
    if np.isnan(x).any():
        raise DataError("missing values are not allowed in 'poly'")
    if degree < 1:
        raise DataError("'degree' must be at least 1")
    if raw:
        return np.column_stack([x**j for j in range(1, degree + 1)]), None
    if state is None:
        if degree >= len(np.unique(x)):
            raise DataError("'degree' must be less than number of unique points")
        xbar = float(np.mean(x))
        xc = x - xbar
        powers = np.column_stack([xc**j for j in range(degree + 1)])
        q, r = np.linalg.qr(powers)
        z = q * np.diag(r)
        norm2 = np.sum(z**2, axis=0)
        alpha = (np.sum(xc[:, None] * z**2, axis=0) / norm2 + xbar)[:degree]
        state = PolyState(tuple(float(a) for a in alpha), (1.0, *(float(v) for v in norm2)))
        return z[:, 1:] / np.sqrt(norm2[1:]), state
    alpha_arr, norm2_arr = np.asarray(state.alpha), np.asarray(state.norm2)
    z = np.ones((len(x), degree + 1))
    z[:, 1] = x - alpha_arr[0]
    for i in range(1, degree):
        z[:, i + 1] = (x - alpha_arr[i]) * z[:, i] - (norm2_arr[i + 1] / norm2_arr[i]) * z[:, i - 1]
    z = z / np.sqrt(norm2_arr[1:])
    return z[:, 1:], state


def poly_degrees(n_vars: int, degree: int) -> list[tuple[int, ...]]:
    """Degree combinations of ``polym``: ``expand.grid`` order, total degree 1..``degree``."""
    combos: list[tuple[int, ...]] = [()]
    for _ in range(n_vars):
        combos = [(*c, d) for d in range(degree + 1) for c in combos]
    return [c for c in combos if 0 < sum(c) <= degree]


# -------------------------------------------------------------------------- scale


def scale(
    x: FloatArray,
    *,
    center: bool | float = True,
    scale_: bool | float = True,
    state: ScaleState | None = None,
) -> tuple[FloatArray, ScaleState]:
    """R's ``scale(x, center=, scale=)`` for one column; missing values are skipped.

    ``center``/``scale_`` are ``True`` (estimate), ``False`` (skip) or a number.
    """
    if state is None:
        c: float | None
        if center is True:
            c = float(np.nanmean(x))
        elif center is False:
            c = None
        else:
            c = float(center)
        xc = x if c is None else x - c
        s: float | None
        if scale_ is True:
            ok = xc[~np.isnan(xc)]
            s = float(np.sqrt(np.sum(ok**2) / max(len(ok) - 1, 1)))
        elif scale_ is False:
            s = None
        else:
            s = float(scale_)
        state = ScaleState(c, s)
    out = x if state.center is None else x - state.center
    if state.scale is not None:
        out = out / state.scale
    return out, state


# ------------------------------------------------------------------------ splines


def spline_design(
    knots: FloatArray, x: FloatArray, order: int, derivs: int | NDArray[np.int_] = 0
) -> FloatArray:
    """``splines::splineDesign``: B-spline basis (or derivatives) at ``x``.

    ``derivs`` may be one integer or one per point of ``x``.
    """
    nbasis = len(knots) - order
    spline = BSpline(knots, np.eye(nbasis), order - 1, extrapolate=True)
    d = np.broadcast_to(np.asarray(derivs, dtype=int), x.shape)
    out = np.empty((len(x), nbasis))
    for nu in np.unique(d):
        rows = d == nu
        fn = spline if nu == 0 else spline.derivative(int(nu))
        out[rows] = fn(x[rows])
    return out


def _interior_knots(x: FloatArray, n_interior: int, boundary: tuple[float, float]) -> FloatArray:
    """Interior knots at the quantiles of the points inside the boundary knots."""
    if n_interior <= 0:
        return np.empty(0)
    inside = x[(x >= boundary[0]) & (x <= boundary[1])]
    probs = r_seq(0.0, 1.0, n_interior + 2)[1:-1]
    return r_quantile(inside, probs)


def _spline_state(
    x: FloatArray,
    n_interior: int | None,
    knots: FloatArray | None,
    boundary_knots: tuple[float, float] | None,
) -> SplineState:
    """Knots of a spline basis fitted on the non-missing ``x``."""
    ok = x[~np.isnan(x)]
    boundary = (float(np.min(ok)), float(np.max(ok))) if boundary_knots is None else boundary_knots
    if knots is None:
        knots = _interior_knots(ok, n_interior or 0, boundary)
    return SplineState(tuple(float(k) for k in knots), boundary)


def bs(
    x: FloatArray,
    *,
    df: int | None = None,
    knots: FloatArray | None = None,
    degree: int = 3,
    intercept: bool = False,
    boundary_knots: tuple[float, float] | None = None,
    state: SplineState | None = None,
) -> tuple[FloatArray, SplineState]:
    """``splines::bs``: B-spline basis for polynomial splines.

    Returns the basis (``NaN`` rows where ``x`` is missing) and the knots used.
    """
    order = degree + 1
    if state is None:
        n_interior = None if df is None else max(df - order + (0 if intercept else 1), 0)
        state = _spline_state(x, n_interior, knots, boundary_knots)
    lo, hi = state.boundary_knots
    all_knots = np.sort(np.concatenate([[lo] * order, state.knots, [hi] * order]))
    nbasis = len(all_knots) - order
    basis = np.full((len(x), nbasis), np.nan)
    ok = ~np.isnan(x)
    inside = ok & (x >= lo) & (x <= hi)
    basis[inside] = spline_design(all_knots, x[inside], order)
    factorial = np.cumprod([1.0, *range(1, degree + 1)])
    for pivot, rows in ((lo, ok & (x < lo)), (hi, ok & (x > hi))):
        if rows.any():
            taylor = np.column_stack([(x[rows] - pivot) ** j for j in range(order)])
            derivs = spline_design(all_knots, np.full(order, pivot), order, np.arange(order))
            basis[rows] = taylor @ (derivs / factorial[:, None])
    if not intercept:
        basis = basis[:, 1:]
    return basis, state


def ns(
    x: FloatArray,
    *,
    df: int | None = None,
    knots: FloatArray | None = None,
    intercept: bool = False,
    boundary_knots: tuple[float, float] | None = None,
    state: SplineState | None = None,
) -> tuple[FloatArray, SplineState]:
    """``splines::ns``: natural cubic spline basis.

    Returns the basis (``NaN`` rows where ``x`` is missing) and the knots used.
    """
    if state is None:
        n_interior = None if df is None else max(df - 1 - (1 if intercept else 0), 0)
        state = _spline_state(x, n_interior, knots, boundary_knots)
    lo, hi = state.boundary_knots
    all_knots = np.sort(np.concatenate([[lo] * 4, state.knots, [hi] * 4]))
    nbasis = len(all_knots) - 4
    basis = np.full((len(x), nbasis), np.nan)
    ok = ~np.isnan(x)
    inside = ok & (x >= lo) & (x <= hi)
    basis[inside] = spline_design(all_knots, x[inside], 4)
    for pivot, rows in ((lo, ok & (x < lo)), (hi, ok & (x > hi))):
        if rows.any():
            derivs = spline_design(all_knots, np.array([pivot, pivot]), 4, np.array([0, 1]))
            basis[rows] = np.column_stack([np.ones(rows.sum()), x[rows] - pivot]) @ derivs
    const = spline_design(all_knots, np.array([lo, hi]), 4, 2)
    if not intercept:
        const, basis = const[:, 1:], basis[:, 1:]
    q, _ = np.linalg.qr(const.T, mode="complete")
    return basis @ q[:, 2:], state
