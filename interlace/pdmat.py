"""nlme's positive-definite matrix classes for ``lme(random = ...)``: ``pdSymm`` and ``pdDiag``.

``pdSymm(~ x)`` is a general covariance of the random effects of ``~ x``
(nlme's default, lme4's ``(x | g)``); ``pdDiag(~ x)`` a diagonal one
(lme4's ``(x || g)``).  Other nlme classes (``pdIdent``, ``pdCompSymm``,
``pdBlocked``, ...) are not provided.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PdMat:
    """A random-effects formula with its covariance class.

    Attributes
    ----------
    formula : str
        One-sided formula of the effects, e.g. ``"~ sin(2*pi*Time)"``
        (an intercept is included unless removed, as in nlme).
    kind : {"pdSymm", "pdDiag"}
    """

    formula: str
    kind: str = "pdSymm"


def pdSymm(formula: str) -> PdMat:
    """nlme's ``pdSymm(form)``: general positive-definite covariance."""
    return PdMat(formula, "pdSymm")


def pdDiag(formula: str) -> PdMat:
    """nlme's ``pdDiag(form)``: independent random effects with their own variances."""
    return PdMat(formula, "pdDiag")
