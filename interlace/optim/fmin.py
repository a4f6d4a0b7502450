"""One-dimensional minimisation on an interval, as R's ``optimize`` does it.

Brent's method (Brent 1973, the ``fmin`` of Forsythe, Malcolm and Moler that
R's ``optimize`` calls): golden-section steps combined with parabolic
interpolation through the three best points.  The first point is the
golden-section point ``a + c (b − a)``, ``c = (3 − √5)/2``; a new point is
never closer than ``tol₁ = √ε |x| + tol/3`` to the current best ``x``; the
search stops when ``|x − m| ≤ 2 tol₁ − (b − a)/2``, ``m`` the midpoint of the
bracket ``[a, b]``.  ``f`` is called exactly as often and at the same points
as R calls it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

#: the golden-section ratio of the smaller step, (3 − √5)/2
GOLDEN = 0.5 * (3.0 - math.sqrt(5.0))

#: R's default ``tol`` of ``optimize``: ``.Machine$double.eps^0.25``
DEFAULT_TOL = 2.220446049250313e-16**0.25


@dataclass(frozen=True)
class Fmin:
    """The result of :func:`fmin` (R's ``list(minimum, objective)``, plus the count).

    Attributes
    ----------
    minimum : float
        The point returned.
    objective : float
        ``f(minimum)``.
    nevals : int
        Number of calls of ``f``.
    """

    minimum: float
    objective: float
    nevals: int


def fmin(f: Callable[[float], float], lower: float, upper: float, tol: float = DEFAULT_TOL) -> Fmin:
    """Minimise ``f`` on ``[lower, upper]`` as R's ``optimize(f, c(lower, upper), tol = tol)``.

    Raises
    ------
    ValueError
        ``lower`` is not below ``upper``.
    """
    if not lower < upper:
        raise ValueError("'xmin' not less than 'xmax'")
    sqeps = math.sqrt(2.220446049250313e-16)
    a, b = lower, upper
    x = w = v = a + GOLDEN * (b - a)
    fx = fw = fv = f(x)
    nevals = 1
    d = e = 0.0
    tol3 = tol / 3.0
    while True:
        mid = 0.5 * (a + b)
        tol1 = sqeps * abs(x) + tol3
        tol2 = 2.0 * tol1
        if abs(x - mid) <= tol2 - 0.5 * (b - a):
            return Fmin(x, fx, nevals)
        p = q = r = 0.0
        if abs(e) > tol1:  # trial parabola through x, w, v
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            else:
                q = -q
            r, e = e, d
        if abs(p) >= abs(0.5 * q * r) or p <= q * (a - x) or p >= q * (b - x):
            e = (b - x) if x < mid else (a - x)  # golden section into the larger part
            d = GOLDEN * e
        else:  # parabolic step, kept away from the ends of the bracket
            d = p / q
            u = x + d
            if u - a < tol2 or b - u < tol2:
                d = tol1 if x < mid else -tol1
        if abs(d) >= tol1:
            u = x + d
        else:
            u = x + (tol1 if d > 0.0 else -tol1)
        fu = f(u)
        nevals += 1
        if fu <= fx:
            if u < x:
                b = x
            else:
                a = x
            v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv, w, fw = w, fw, u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu
