"""Optimisation of θ: the BOBYQA backend, boundary handling, lme4's convergence checks."""

from interlace.optim.control import ControlError, LmerControl
from interlace.optim.optimize import optimize_theta
from interlace.optim.summary import ConvergenceCheck, OptSummary

__all__ = ["ControlError", "ConvergenceCheck", "LmerControl", "OptSummary", "optimize_theta"]
