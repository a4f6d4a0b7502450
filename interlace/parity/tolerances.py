"""Tolerances of the parity harness, per model class and quantity.

A difference ``d = interlace − R`` passes when

    |d| <= max(atol, rtol · |scale|),

where ``scale`` is the R value itself for scalar quantities, or the largest absolute R value of
the block for block quantities (random effects of one term, a design matrix).  Exact quantities
(names, counts, flags) use ``atol = rtol = 0``.

The log-likelihood is one-sided: when interlace's log-likelihood is *higher* than R's (interlace
found a better optimum), the row is reported as ``"better"`` and does not fail the report; only
``R − interlace > tolerance`` fails.

Defaults (see ``docs/parity.md`` for the reasons):

==========  ======  ======  =========  ============  =======  ==========  ======
class       fixef   SEs     θ          variance      loglik   objective   design
                                       components             at same θ
==========  ======  ======  =========  ============  =======  ==========  ======
lmm         1e-4 a  1e-3 r  5% r       5% r          1e-4 a   1e-8 r      1e-10
glmm        1e-3 a  1e-2 r  5% r       5% r          1e-3 a   1e-8 r      1e-10
clmm        1e-3 a  1e-2 r  5% r       5% r          1e-3 a   1e-6 r      1e-10
cox         1e-3 a  1e-2 r  10% r      10% r         1e-3 a   1e-8 r      1e-10
==========  ======  ======  =========  ============  =======  ==========  ======

(``a`` = absolute, ``r`` = relative; SEs also pass within the fixef absolute tolerance, θ within
1e-4 absolute and variance components within 1e-6 absolute, so that zeros of singular fits compare;
the objective also passes within 1e-6 absolute; for clmm the objective's tolerance is 1e-4
absolute or 1e-6 relative, because ordinal evaluates its Laplace objective with inexact
conditional modes; design values are absolute or relative to the
largest entry; ``glmer.nb``'s θ (``nb_theta``) is compared to 1e-3 relative; ``lme``'s
residual correlation parameters (``correlation_params``: φ of ``corAR1``/``corCAR1``, ρ of
``corCompSymm``, all in (−1, 1)) to 1e-3 absolute in every class; its variance-function
parameters (``varfunc_params``: the standard-deviation ratios of ``varIdent``, the power of
``varPower``, the exponent of ``varExp``) to 1e-3 relative or 1e-4 absolute in every class.)

Denominator-df level (lmer fits against lmerTest and pbkrtest; the same in every class), the
bar of the LMM inference work: ``ddf`` (t-test df, anova ``DenDF``) 1e-4 relative, ``pvalue``
1e-3 relative and ``statistic`` (t and F values) 1e-5 relative.  lmerTest differentiates
numerically while interlace uses analytic derivatives, so df agree to about 1e-5 relative,
not to the last digit; p-values of tiny size (1e-17) are compared relatively as well.
Class ``lme`` (``nlme::lme``) is ``lmm`` with ``statistic`` 1e-4 relative and ``pvalue``
1e-3 relative or 1e-10 absolute: its t values inherit the standard errors' agreement, and
nlme's optimiser leaves the variance components a few 1e-5 relative from interlace's (the
log-likelihoods agree to 1e-8); a tail probability's relative error is about ``|t|`` times
the t value's absolute one, so tiny p-values (5e-33 at t = 20) are compared absolutely.

Every default can be overridden per call with a mapping
from quantity name to a :class:`Tolerance` or to a number (read as an absolute tolerance for
``fixef``/``loglik``/``thresholds``/``zi``/``disp``/``correlation_params`` and as a relative
one otherwise).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from interlace.errors import InterlaceError

ToleranceClass = Literal["lmm", "lme", "glmm", "clmm", "cox"]


class UnknownToleranceError(InterlaceError, KeyError):
    """A tolerance override names a quantity or a model class that the harness does not know."""

    code = "parity-tolerance"


@dataclass(frozen=True)
class Tolerance:
    """How far interlace may be from R for one quantity.

    Parameters
    ----------
    atol
        Absolute tolerance.
    rtol
        Relative tolerance, applied to the R value (or the block's largest R value).
    one_sided
        Only a shortfall of interlace counts (log-likelihood): ``interlace − R < −tol`` fails,
        ``interlace − R > tol`` is reported as ``"better"``.
    """

    atol: float = 0.0
    rtol: float = 0.0
    one_sided: bool = False

    def bound(self, scale: float) -> float:
        """The allowed absolute difference for a value of size ``scale``."""
        return max(self.atol, self.rtol * abs(scale))

    def describe(self) -> str:
        """Short text for reports, e.g. ``"abs 0.0001"`` or ``"rel 5%"``."""
        parts = []
        if self.atol or not self.rtol:
            parts.append("exact" if not self.atol else f"abs {self.atol:g}")
        if self.rtol:
            parts.append(f"rel {self.rtol:.3g}" if self.rtol < 0.01 else f"rel {self.rtol:.0%}")
        text = " or ".join(parts)
        return f"{text}, one-sided" if self.one_sided else text


EXACT = Tolerance()

#: Relative tolerance of ``glmer.nb``'s θ in every class: R's ``optimize`` over ``log θ`` stops
#: within ``tol = 5e-5`` of its optimum, and interlace follows the same search.
NB_THETA_RTOL = 1e-3

#: The objective at the same parameters: no optimiser is involved, so rounding error only.
OBJECTIVE = Tolerance(atol=1e-6, rtol=1e-8)
#: The clmm objective.  For one random intercept (Laplace) ordinal's C code stops Newton's
#: method for the conditional modes at ``max|gradient| < 1e-4`` per level, which moves its
#: negative log-likelihood by an amount that grows with the number of levels and with the
#: distance of the modes from their start (wine, 9 judges: 3.5e-6; soup, 185 respondents:
#: 2.9e-5 at R's optimum, 6.5e-4 at a point away from it); interlace converges the modes fully.
#: With several terms or quadrature the two agree to 1e-8.
CLMM_OBJECTIVE = Tolerance(atol=1e-4, rtol=1e-6)

#: Quantities whose bare-number override is absolute (the others are relative).
ABSOLUTE_QUANTITIES = frozenset(
    {"fixef", "loglik", "thresholds", "zi", "disp", "correlation_params"}
)

#: ``lme``'s correlation parameters, bounded by 1 in absolute value, in every class.
CORRELATION_PARAMS = Tolerance(atol=1e-3)
#: ``lme``'s variance-function parameters (SD ratios, power, exponent), in every class.  The
#: log-likelihood is flat along them: nlme's optimum and interlace's agree to 2e-5 to 3e-4
#: relative (``tests/lme/test_lme_varfunc.py``) while the log-likelihoods agree to 1e-9, so the
#: bar is that of the standard errors, 1e-3 relative, with 1e-4 absolute for a power or exponent
#: near 0.
VARFUNC_PARAMS = Tolerance(atol=1e-4, rtol=1e-3)


def _table(
    fixef: float,
    se: float,
    vc: float,
    loglik: float,
    objective: Tolerance = OBJECTIVE,
    statistic: float = 1e-5,
    pvalue: Tolerance = Tolerance(rtol=1e-3),
) -> Mapping[str, Tolerance]:
    return MappingProxyType(
        {
            "fixef": Tolerance(atol=fixef),
            "se": Tolerance(atol=fixef, rtol=se),
            "theta": Tolerance(atol=1e-4, rtol=vc),
            "sigma": Tolerance(rtol=vc),
            "varcorr": Tolerance(atol=1e-6, rtol=vc),
            "ranef": Tolerance(rtol=vc),
            "loglik": Tolerance(atol=loglik, one_sided=True),
            "thresholds": Tolerance(atol=fixef),
            "zi": Tolerance(atol=fixef),
            "disp": Tolerance(atol=fixef),
            "nb_theta": Tolerance(rtol=NB_THETA_RTOL),
            "correlation_params": CORRELATION_PARAMS,
            "varfunc_params": VARFUNC_PARAMS,
            "ddf": Tolerance(rtol=1e-4),
            "pvalue": pvalue,
            "statistic": Tolerance(rtol=statistic),
            "objective": objective,
            "design": Tolerance(atol=1e-10, rtol=1e-10),
            "exact": EXACT,
        }
    )


DEFAULTS: Mapping[str, Mapping[str, Tolerance]] = MappingProxyType(
    {
        "lmm": _table(fixef=1e-4, se=1e-3, vc=0.05, loglik=1e-4),
        "lme": _table(
            fixef=1e-4,
            se=1e-3,
            vc=0.05,
            loglik=1e-4,
            statistic=1e-4,
            pvalue=Tolerance(atol=1e-10, rtol=1e-3),
        ),
        "glmm": _table(fixef=1e-3, se=1e-2, vc=0.05, loglik=1e-3),
        "clmm": _table(fixef=1e-3, se=1e-2, vc=0.05, loglik=1e-3, objective=CLMM_OBJECTIVE),
        "cox": _table(fixef=1e-3, se=1e-2, vc=0.10, loglik=1e-3),
    }
)

ToleranceOverrides = Mapping[str, "Tolerance | float"]


def tolerances_for(
    model_class: str, overrides: ToleranceOverrides | None = None
) -> Mapping[str, Tolerance]:
    """The tolerance table of a model class with per-call overrides applied.

    Parameters
    ----------
    model_class
        ``"lmm"``, ``"lme"``, ``"glmm"``, ``"clmm"`` or ``"cox"``.
    overrides
        Quantity name → :class:`Tolerance`, or a number (absolute for ``fixef``, ``loglik``,
        ``thresholds``, ``zi``, ``disp``, ``correlation_params``; relative otherwise;
        ``loglik`` stays one-sided).

    Returns
    -------
    Mapping[str, Tolerance]

    Raises
    ------
    UnknownToleranceError
        For an unknown class or quantity.
    """
    if model_class not in DEFAULTS:
        raise UnknownToleranceError(
            f"unknown tolerance class {model_class!r}; known: {', '.join(DEFAULTS)}"
        )
    table = dict(DEFAULTS[model_class])
    for quantity, value in (overrides or {}).items():
        if quantity not in table:
            raise UnknownToleranceError(
                f"unknown quantity {quantity!r} in tolerance overrides; known: "
                + ", ".join(sorted(table))
            )
        if isinstance(value, Tolerance):
            table[quantity] = value
        elif quantity in ABSOLUTE_QUANTITIES:
            table[quantity] = Tolerance(atol=float(value), one_sided=quantity == "loglik")
        else:
            table[quantity] = Tolerance(rtol=float(value))
    return MappingProxyType(table)


#: Tolerance class of each R model function the harness knows.
TOLERANCE_CLASS: Mapping[str, ToleranceClass] = MappingProxyType(
    {
        "lmer": "lmm",
        "lme": "lme",
        "glmer": "glmm",
        "glmer.nb": "glmm",
        "glmmTMB": "glmm",
        "clmm": "clmm",
        "coxme": "cox",
    }
)
