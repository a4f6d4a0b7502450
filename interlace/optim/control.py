"""Settings of the fitting functions, named after lme4's ``lmerControl`` and ``glmerControl``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self, cast

from interlace.errors import InterlaceError


class ControlError(InterlaceError, ValueError):
    """An unknown or invalid control setting."""

    code = "control"


@dataclass(frozen=True, kw_only=True)
class Control:
    """Settings of a fitting function, given as this class or as a mapping of R's names.

    Subclasses are the settings of one function (``lmerControl``, ``glmerControl``).
    """

    #: The fitting function, as named in error messages.
    function: ClassVar[str]

    @classmethod
    def coerce(cls, control: Self | Mapping[str, Any] | None) -> Self:
        """Accept an instance, a mapping of its fields (R's dotted names too) or ``None``."""
        if control is None:
            return cls()
        if isinstance(control, cls):
            return control
        names = {f.name for f in fields(cls)}
        kw = {}
        for key, value in cast("Mapping[str, Any]", control).items():
            name = key.replace(".", "_")
            if name not in names:
                raise ControlError(
                    f"unknown {cls.function} control setting {key!r}",
                    remedy=f"use one of {sorted(names)}",
                )
            kw[name] = value
        return cls(**kw)._validated()

    def _validated(self) -> Self:
        """The settings read from a mapping, once checked (subclasses add checks)."""
        return self


#: The values of ``LmerControl.optimizer``.
OPTIMIZERS = ("auto", "nloptwrap", "bobyqa", "L-BFGS-B", None)


@dataclass(frozen=True, kw_only=True)
class LmerControl(Control):
    """Settings of ``lmer`` (lme4's ``lmerControl``, with Python spelling).

    Attributes
    ----------
    optimizer : str or None
        ``"nloptwrap"`` (NLopt BOBYQA, lme4's default; ``"bobyqa"`` is an alias);
        ``"L-BFGS-B"`` (quasi-Newton with the analytic gradient: models whose random
        terms are all scalar, e.g. crossed intercepts); ``"auto"`` (the default):
        ``"L-BFGS-B"`` where it applies and each evaluation factors a dense block of
        at least :data:`~interlace.optim.optimize.GRADIENT_MIN_BLOCK` columns, so that
        evaluations dominate the time, else ``"nloptwrap"``.  Both reach the same
        optimum; L-BFGS-B in several times fewer evaluations.  ``None`` (R's
        ``optimizer = NULL``) skips the optimisation: the result is evaluated at the
        starting θ.
    restart_edge : bool
        Restart the optimiser when a θ on its bound would decrease the objective
        by moving inside.
    boundary_tol : float
        θ within this distance of a bound are snapped to it when the objective
        does not increase (0 disables).
    calc_derivs : bool
        Compute the finite-difference gradient and Hessian for the checks.
    check_conv_grad : float
        Tolerance of the scaled-gradient check (``check.conv.grad``).
    check_conv_singular : float
        Tolerance of ``isSingular`` (``check.conv.singular``).
    check_conv_hess : float
        Tolerance of the Hessian eigenvalue check (``check.conv.hess``).
    check_conv_nobsmax, check_conv_nparmax : float
        The derivative checks are skipped for more observations than
        ``check_conv_nobsmax`` or at least ``check_conv_nparmax`` parameters, and
        for singular fits: the defaults of lme4 >= 1.1-38 (lme4 1.1-31 always
        computes them; set both to ``inf`` for that).
    optCtrl : mapping
        Backend settings: BOBYQA's (``xtol_abs``, ``ftol_abs``, ``maxeval``, ...) or
        L-BFGS-B's (``ftol_rel``, ``gtol``, ``maxeval``).
    """

    optimizer: str | None = "auto"
    restart_edge: bool = True
    boundary_tol: float = 1e-5
    calc_derivs: bool = True
    check_conv_grad: float = 2e-3
    check_conv_singular: float = 1e-4
    check_conv_hess: float = 1e-6
    check_conv_nobsmax: float = 1e4
    check_conv_nparmax: float = 10
    optCtrl: Mapping[str, float] = field(default_factory=dict)

    function: ClassVar[str] = "lmer"

    def _validated(self) -> LmerControl:
        """The settings, once the optimiser is known to be available."""
        if self.optimizer not in OPTIMIZERS:
            raise ControlError(
                f"optimizer {self.optimizer!r} is not available",
                remedy="use one of 'auto', 'nloptwrap', 'bobyqa', 'L-BFGS-B' or None",
            )
        return self
