"""The optimiser's record of a fit (lme4's ``@optinfo``, MixedModels' ``OptSummary``)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class ConvergenceCheck:
    """lme4's post-fit checks (``@optinfo$conv$lme4``).

    Attributes
    ----------
    code : int
        0 when every check passed; lme4's negative codes otherwise
        (-1 gradient, -3 negative Hessian eigenvalue, -4 singular Hessian, ...).
    messages : tuple of str
        lme4's wording, e.g. ``"boundary (singular) fit: see help('isSingular')"``.
    singular : bool
        Whether the fit is on the boundary (then no other check ran).
    gradient, hessian : ndarray or None
        Finite-difference derivatives at the optimum (``None`` when skipped).
    """

    code: int = 0
    messages: tuple[str, ...] = ()
    gradient: FloatArray | None = None
    hessian: FloatArray | None = None
    singular: bool = False


@dataclass(frozen=True, kw_only=True)
class OptSummary:
    """What the optimiser did.

    Attributes
    ----------
    optimizer : str
        Backend name, e.g. ``"nloptwrap"`` (NLopt ``LN_BOBYQA``).
    initial, final : ndarray
        Parameters at the start and at the reported optimum.
    finitial, fmin : float
        Objective at ``initial`` and at ``final``.
    feval : int
        Objective evaluations of the optimiser (restarts included), as lme4's
        ``optinfo$feval`` counts them.
    time : float
        Wall-clock seconds of the optimisation and post-processing.
    return_code : int
        lme4's ``conv$opt``: 0, or the NLopt status when negative or 5
        (evaluation limit).
    message : str
        The backend's message (NLopt's status name).
    control : dict
        The settings used (tolerances, evaluation limit).
    warnings : tuple of str
        Optimiser warnings (lme4's ``optinfo$warnings``).
    conv : ConvergenceCheck
        Results of the post-fit checks.
    fitlog : tuple of (tuple of float, float)
        Every (parameters, objective) pair evaluated by the optimiser.
    """

    optimizer: str
    initial: FloatArray
    finitial: float
    final: FloatArray
    fmin: float
    feval: int
    time: float
    return_code: int
    message: str
    control: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    conv: ConvergenceCheck = field(default_factory=ConvergenceCheck)
    fitlog: tuple[tuple[tuple[float, ...], float], ...] = ()


class EvaluationLog:
    """Records every evaluation of an objective and the time since it was created.

    Wrap the objective with :meth:`logged`, hand the wrapped function to the
    optimiser, and build the :class:`OptSummary` with :meth:`summary`: the
    first value logged is ``finitial`` and the log is ``fitlog``.
    """

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.log: list[tuple[tuple[float, ...], float]] = []

    def logged(self, fun: Callable[[FloatArray], float]) -> Callable[[FloatArray], float]:
        """``fun``, recording each (parameters, value) pair it returns."""

        def recorded(x: FloatArray) -> float:
            value = fun(np.asarray(x, dtype=float))
            self.log.append((tuple(float(v) for v in x), value))
            return value

        return recorded

    def summary(
        self,
        *,
        optimizer: str,
        initial: FloatArray,
        final: FloatArray,
        fmin: float,
        feval: int,
        return_code: int,
        message: str,
        control: dict[str, float],
        warnings: tuple[str, ...],
        conv: ConvergenceCheck,
    ) -> OptSummary:
        """The record of the optimisation, timed up to now."""
        return OptSummary(
            optimizer=optimizer,
            initial=initial,
            finitial=self.log[0][1] if self.log else math.nan,
            final=final,
            fmin=fmin,
            feval=feval,
            time=time.perf_counter() - self.t0,
            return_code=return_code,
            message=message,
            control=control,
            warnings=warnings,
            conv=conv,
            fitlog=tuple(self.log),
        )
