"""R's number formatting rules, as far as lme4's printed summaries need them.

``format_fixed`` follows R's ``formatReal`` in fixed notation: each value
needs at most ``digits`` significant digits; all values share the largest
number of decimals any of them needs.  ``abbreviate`` follows R's
``abbreviate()`` (drop lower-case vowels from the right, then lower-case
letters, never the first character).  ``format_r`` is ``format(x, digits)``
with R's choice between fixed and scientific notation; ``RPrintout`` is the
base of the printed summaries.  ``sig_needed`` is the number of
significant digits R keeps for a value, and ``coefficient_cells`` rounds a
coefficient table as ``printCoefmat`` does (shared by the lme4, GLMM and
ordinal summaries).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

_VOWELS = set("aeiou")


def _decimals_needed(x: float, digits: int) -> int:
    """Decimals R shows for ``x`` at ``digits`` significant digits (trailing zeros dropped)."""
    if x == 0 or not math.isfinite(x):
        return 0
    ax = abs(x)
    kp = math.floor(math.log10(ax))
    mant = round(ax / 10.0**kp, digits - 1)
    if mant >= 10.0:
        kp += 1
        mant /= 10.0
    m = round(mant * 10 ** (digits - 1))
    sig = digits
    while sig > 1 and m % 10 == 0:
        m //= 10
        sig -= 1
    return max(0, sig - kp - 1)


def format_fixed(values: Sequence[float], digits: int = 7, nsmall: int = 0) -> list[str]:
    """R's ``format(x, digits = digits, nsmall = nsmall)`` for a numeric vector."""
    rgt = max([_decimals_needed(float(v), digits) for v in values] + [nsmall])
    out = []
    for v in values:
        v = float(v)
        if math.isnan(v):
            out.append("NaN" if v != v else "NA")
            continue
        s = f"{v:.{rgt}f}"
        if s.startswith("-") and float(s) == 0:
            s = s[1:]
        out.append(s)
    width = max((len(s) for s in out), default=0)
    return [s.rjust(width) for s in out]


def format_r(values: Sequence[float], digits: int = 7) -> list[str]:
    """R's ``format(x, digits = digits)``: fixed notation unless scientific is narrower.

    Scientific notation keeps the significant digits the most demanding
    finite, non-zero value needs (``sig_needed``), shared by all values.
    """
    fixed = format_fixed(values, digits)
    finite = [abs(float(v)) for v in values if math.isfinite(v) and v != 0]
    if not finite:
        return fixed
    sig = max(sig_needed(v, digits) for v in finite)
    sci = [f"{v:.{sig - 1}e}" if math.isfinite(v) else str(v) for v in values]
    width = max(len(t) for t in sci)
    if max(len(t) for t in fixed) <= width:
        return fixed
    return [t.rjust(width) for t in sci]


def r_round(x: float, digits: float) -> float:
    """R's ``round(x, digits)`` with ``digits`` rounded to an integer first."""
    return round(x, math.floor(digits + 0.5))


def zapsmall(values: Sequence[float], digits: int) -> list[float]:
    """R's ``zapsmall``: round relative to the largest magnitude."""
    mx = max(abs(float(v)) for v in values)
    d = digits - math.log10(mx) if mx > 0 else digits
    return [r_round(float(v), max(0.0, d)) for v in values]


def abbreviate(name: str, minlength: int) -> str:
    """R's ``abbreviate(name, minlength)`` (default method, not strict).

    Spaces are word boundaries that do not count towards the length (they are
    removed at the end); lower-case vowels, then lower-case letters, then any
    other characters that do not start a word are dropped from the right.
    """
    chars = list(name.strip())
    if len(chars) <= minlength:
        return "".join(chars)

    def length() -> int:
        return sum(not c.isspace() for c in chars)

    tests = (
        lambda c: c in _VOWELS,
        lambda c: c.islower(),
        lambda c: not c.isspace(),
    )
    for test in tests:
        i = len(chars) - 1
        while i > 0 and length() > minlength:
            if not chars[i - 1].isspace() and test(chars[i]):
                del chars[i]
            i -= 1
    return chars[0] + "".join(c for c in chars[1:] if not c.isspace())


class RPrintout:
    """A summary whose ``str()`` (and ``repr()``) is R's printout: :meth:`lines` joined."""

    def lines(self) -> list[str]:
        """The printout, line by line."""
        raise NotImplementedError

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return str(self)


def print_named(names: Sequence[str], values: Sequence[str]) -> str:
    """Two lines as R prints a named vector: one common right-justified width, trailing space."""
    width = max(len(t) for t in [*names, *values])
    top = " ".join(n.rjust(width) for n in names)
    bottom = " ".join(v.rjust(width) for v in values)
    return f"{top} \n{bottom} "


def print_matrix(
    rownames: Sequence[str],
    colnames: Sequence[str],
    cells: Sequence[Sequence[str]],
    right: bool,
) -> list[str]:
    """Lines as R prints a character matrix with ``quote = FALSE``."""
    rw = max((len(r) for r in rownames), default=0)
    widths = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(colnames)]

    def just(s: str, w: int) -> str:
        return s.rjust(w) if right else s.ljust(w)

    lines = [" " * rw + "".join(" " + just(c, w) for c, w in zip(colnames, widths, strict=True))]
    for r, row in zip(rownames, cells, strict=True):
        cols = "".join(" " + just(s, w) for s, w in zip(row, widths, strict=True))
        lines.append(r.ljust(rw) + cols)
    return lines


def sig_needed(x: float, digits: int) -> int:
    """Significant digits R keeps for ``x`` at ``digits`` (trailing zeros dropped)."""
    m = round(float(f"{x:.{digits - 1}e}".split("e")[0]) * 10 ** (digits - 1))
    sig = digits
    while sig > 1 and m % 10 == 0:
        m //= 10
        sig -= 1
    return sig


def coefficient_cells(
    estimates: Sequence[float],
    std_errors: Sequence[float],
    statistics: Sequence[float],
    digits: int,
) -> list[list[str]]:
    """Estimate, standard error and Wald statistic per row, as R's ``printCoefmat`` rounds them.

    Estimates and standard errors share one number of decimals: enough for
    ``digits`` significant digits of the smallest non-zero magnitude among
    them, at least 1; the statistics are rounded to ``max(1, min(5, digits - 1))``
    decimals.  Each column is then formatted as R's ``format(x, digits)``.
    """
    est_se = [float(v) for pair in zip(estimates, std_errors, strict=True) for v in pair]
    finite = [abs(v) for v in est_se if math.isfinite(v) and v != 0]
    digmin = [1 + math.floor(math.log10(v)) for v in (min(finite), max(finite))] if finite else [1]
    dec = int(max(1, *(digits - d for d in digmin)))
    cs = format_fixed([float(np.round(v, dec)) for v in est_se], digits)
    stat_dec = max(1, min(5, digits - 1))
    tv = format_fixed([float(np.round(float(v), stat_dec)) for v in statistics], digits)
    return [[cs[2 * i], cs[2 * i + 1], tv[i]] for i in range(len(tv))]
