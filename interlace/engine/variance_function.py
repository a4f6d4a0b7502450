"""Profiled REML/ML criterion of a linear mixed model with a variance function.

The model (nlme's ``lme`` with ``weights = varFunc``; Pinheiro & Bates 2000,
section 5.2) is

    y = X β + Z b + ε,   b ~ N(0, σ² Λ_θ Λ_θ'),   ε ~ N(0, σ² G(δ)²),

with ``G(δ) = diag(g_i(δ))`` (:mod:`interlace.varfunc`).  For fixed δ this is
the linear mixed model with prior weights ``W = G^{-2}``, ``w_i = 1/g_i²``,
whose profiled criterion :class:`~interlace.engine.gaussian.GaussianObjective`
computes (Bates et al. 2015, eqs. 34 and 41, including ``−log|W|``):
``V = Z Λ Λ' Z' + G²`` is ``G Ṽ G`` for the weighted model's ``Ṽ``, so
``log|V| = log|Ṽ| + 2 Σ log g_i = log|Ṽ| − Σ log w_i``, while ``r'V^{-1}r`` and
``X'V^{-1}X`` are the weighted model's.  Hence

    −2 ℓ(θ, δ) = d_{W(δ)}(θ),

the weighted criterion (REML without ``log|X'X|``, as nlme), profiled over β
and σ (``σ̂² = r²_θ/(n − p)`` for REML, ``r²_θ/n`` for ML).  It is minimised
jointly over θ and the unconstrained δ.  nlme's log-likelihood is the same
number: it fits the model to ``y_i/g_i`` and adds ``Σ log(1/g_i)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from interlace.design.lformula import LmerDesign
from interlace.engine.gaussian import GaussianObjective
from interlace.engine.predictor import BlockedPredictor
from interlace.errors import NumericalError
from interlace.varfunc import BoundVarFunc

FloatArray = NDArray[np.float64]


class VarFuncObjective:
    """(θ, δ) ↦ −2 log-likelihood (REML or ML) with ``Var(ε_i) = σ² g_i(δ)²``.

    Parameters
    ----------
    design : LmerDesign
        The unweighted design (no prior weights or offset).
    varfunc : BoundVarFunc
    REML : bool

    Notes
    -----
    The parameter vector is ``[θ, δ]``.  The weighted objective is refilled in
    place for every new δ (:meth:`BlockedPredictor.reweight`), or rebuilt on
    the sparse path.  A point where the factorisation fails evaluates to ``inf``.
    """

    def __init__(self, design: LmerDesign, varfunc: BoundVarFunc, REML: bool) -> None:
        self.design = design
        self.varfunc = varfunc
        self.REML = REML
        self.n_theta = int(np.asarray(design.lower).size)
        self.lower = np.r_[
            np.asarray(design.lower, dtype=float), np.full(varfunc.n_params, -np.inf)
        ]
        self._delta = varfunc.start()
        self.inner = GaussianObjective(self.weighted(self._delta), REML=REML)
        self.n_evals = 0

    def weighted(self, delta: FloatArray) -> LmerDesign:
        """The design with the prior weights ``1/g_i(δ)²``."""
        return replace(self.design, weights=self.varfunc.weights(delta))

    def at(self, delta: FloatArray) -> GaussianObjective:
        """The weighted objective at ``delta`` (the last one is kept)."""
        delta = np.asarray(delta, dtype=float)
        if np.array_equal(delta, self._delta):
            return self.inner
        w = self.varfunc.weights(delta)
        if not np.all(np.isfinite(w)) or not np.all(w > 0):
            raise NumericalError("variance weights are not finite and positive")
        pr = self.inner.predictor
        if isinstance(pr, BlockedPredictor):
            pr.reweight(np.asarray(self.design.y, dtype=float), w)
            self.inner.ldW = float(np.sum(np.log(w)))
        else:
            self.inner = GaussianObjective(self.weighted(delta), REML=self.REML)
        self._delta = delta.copy()
        return self.inner

    def __call__(self, params: Sequence[float] | FloatArray) -> float:
        """−2 log-likelihood (REML or ML) at ``params = [θ, δ]``."""
        self.n_evals += 1
        params = np.asarray(params, dtype=float)
        try:
            objective = self.at(params[self.n_theta :])
        except (NumericalError, FloatingPointError, OverflowError):
            return math.inf
        value = objective(params[: self.n_theta])
        return value if math.isfinite(value) else math.inf
