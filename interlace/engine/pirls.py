"""Penalised iteratively reweighted least squares (PIRLS) for a GLMM's conditional modes.

The model (Bates et al. 2015, JSS 67(1), section 5; lme4's ``glmer``):

    η = o + X β + Z Λ_θ u,   μ = g⁻¹(η),   y | u ~ family(μ),   u ~ N(0, I_q).

For fixed θ (and β, unless β is estimated too), PIRLS minimises the
penalised deviance

    pdev(u) = Σ d_i(y_i, μ_i) + ‖u‖²

(``d_i`` the family's unit deviances) by repeated penalised weighted least
squares: at the current ``η`` form the working weights and response

    w_i = a_i (dμ/dη)_i² / V(μ_i),   z_i = (η_i − o_i) + (y_i − μ_i) / (dμ/dη)_i

(``a_i`` prior weights), solve

    min_u ‖W^{1/2}(z − Z Λ_θ u)‖² + ‖u‖²    (β in the offset: lme4's nAGQ ≥ 1), or
    min_{u, β} ‖W^{1/2}(z − X β − Z Λ_θ u)‖² + ‖u‖²    (lme4's nAGQ = 0),

with the shared predictor (``Λ'Z'WZΛ + I = L L'``), and move to the solution.
As lme4's ``pwrssUpdate``: stop when ``|pdev_old − pdev| / pdev < tol``
(``tolPwrss = 1e-7``); when ``pdev`` rises (or is NaN), halve the step
towards the previous iterate up to 20 times; after ``maxit`` iterations
give up.  ``log|L|²`` (and ``log|R_X|²``) are those of the last
factorisation, i.e. at the weights of the iterate before the last, as lme4
reports them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from interlace.engine.predictor import BlockedPredictor, LambdaMap
from interlace.engine.protocol import RandomTermDesign
from interlace.errors import ConvergenceError
from interlace.families import Family

FloatArray = NDArray[np.float64]

#: lme4's ``glmerControl(tolPwrss)``.
TOL_PWRSS = 1e-7
#: lme4's ``maxit`` of the deviance function.
MAXIT = 100
#: lme4's ``maxstephalfit``.
MAX_STEP_HALVINGS = 20


@dataclass(frozen=True)
class GlmResponse:
    """The response of a GLMM after the family's ``initialize`` (lme4's ``glmResp``).

    Attributes
    ----------
    family : Family
    y : ndarray
        Response (proportions for binomial).
    weights : ndarray
        Prior weights (binomial trials folded in).
    n : ndarray
        Binomial trials (ones otherwise); used by the binomial ``aic``.
    offset : ndarray
    mustart : ndarray
        The family's starting means.
    """

    family: Family
    y: FloatArray
    weights: FloatArray
    n: FloatArray
    offset: FloatArray
    mustart: FloatArray

    def dev_resids(self, mu: FloatArray) -> FloatArray:
        """Unit deviances at ``mu``."""
        return self.family.dev_resids(self.y, mu, self.weights)

    def aic(self, mu: FloatArray, dev: float) -> float:
        """−2 log-likelihood at ``mu`` (the family's ``aic``)."""
        return self._aic(mu, dev)

    @cached_property
    def _aic(self) -> Callable[[FloatArray, float], float]:
        return self.family.aic_at(self.y, self.n, self.weights)


@dataclass(frozen=True)
class PirlsFit:
    """The state PIRLS converged to.

    Attributes
    ----------
    u : list of ndarray
        Spherical conditional modes per term (levels x k).
    beta : ndarray
        Fixed effects (estimated for nAGQ = 0, else the given ones).
    eta, mu : ndarray
        Linear predictor (offset included) and mean.
    dev_resids : ndarray
        Unit deviances at ``mu``.
    sqrL : float
        ``‖u‖²``.
    ldL2, ldRX2 : float
        ``log|L|²`` and ``log|R_X|²`` of the last factorisation.
    predictor : BlockedPredictor
        The last factorisation (diagonal of ``L``; ``(R_X'R_X)^{-1}`` when β was estimated).
        :class:`Pirls` reuses it: the next fit of the same kind (β fixed or
        estimated) may reweight and refactor it, so read it before then.
    weights, z : ndarray
        Working weights and working response of the last factorisation.
    iterations : int
    """

    u: list[FloatArray]
    beta: FloatArray
    eta: FloatArray
    mu: FloatArray
    dev_resids: FloatArray
    sqrL: float
    ldL2: float
    ldRX2: float
    predictor: BlockedPredictor
    weights: FloatArray
    z: FloatArray
    iterations: int

    @property
    def pdev(self) -> float:
        """Penalised deviance ``Σ d_i + ‖u‖²``."""
        return float(np.sum(self.dev_resids)) + self.sqrL


class Pirls:
    """PIRLS for one GLMM: fixed data, called with θ (and β) per evaluation.

    Parameters
    ----------
    response : GlmResponse
    X : ndarray, shape (n, p)
    terms : sequence of RandomTermDesign
        Random terms in lme4's order.
    tol, maxit
        lme4's ``tolPwrss`` and ``maxit``.
    """

    def __init__(
        self,
        response: GlmResponse,
        X: FloatArray,
        terms: Sequence[RandomTermDesign],
        tol: float = TOL_PWRSS,
        maxit: int = MAXIT,
    ) -> None:
        self.response = response
        self.X = np.asarray(X, dtype=float)
        self.terms = list(terms)
        self.tol = tol
        self.maxit = maxit
        self.lambda_map = LambdaMap(self.terms)
        self._z = [np.asarray(t.z, dtype=float) for t in self.terms]
        self._refs = [np.asarray(t.refs, dtype=np.intp) for t in self.terms]
        #: predictors by (columns of X in the system: 0 when β is fixed, first iteration or not)
        self._predictors: dict[tuple[int, bool], BlockedPredictor] = {}
        #: starting η and its μ, dμ/dη and working weights (see _start_state)
        self._start: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None
        self.u_prev: list[FloatArray] = [
            np.zeros((len(t.levels), z.shape[1])) for t, z in zip(self.terms, self._z, strict=True)
        ]

    def unscaled_vcov(self, theta: FloatArray, fit: PirlsFit) -> FloatArray:
        """``(R_X'R_X)^{-1}`` at θ and the working weights of ``fit`` (lme4's ``pp$unsc()``)."""
        if fit.predictor.p == self.X.shape[1]:
            return fit.predictor.unscaled_vcov()
        pred = BlockedPredictor(self.terms, self.X, fit.z, fit.weights)
        pred.update(np.asarray(theta, dtype=float))
        return pred.unscaled_vcov()

    def zb(self, theta: FloatArray, u: Sequence[FloatArray]) -> FloatArray:
        """``Z Λ_θ u`` (length n)."""
        out = np.zeros(self.X.shape[0])
        for z, refs, ui, lam in zip(self._z, self._refs, u, self.lambda_map(theta), strict=True):
            b = ui @ lam.T
            out += np.einsum("ij,ij->i", z, b[refs]) if z.shape[1] > 1 else z[:, 0] * b[refs, 0]
        return out

    def fit(
        self, theta: FloatArray, eta_start: FloatArray, beta: FloatArray | None = None
    ) -> PirlsFit:
        """Run PIRLS at θ from the linear predictor ``eta_start`` (offset included).

        With ``beta`` given it stays fixed (lme4's ``uOnly``); with ``None``
        β is estimated with ``u`` (nAGQ = 0).

        Raises
        ------
        ConvergenceError
            lme4's reasons: NaN deviance, step-halving failed, no convergence
            in ``maxit`` iterations.
        """
        resp, fam = self.response, self.response.family
        theta = np.asarray(theta, dtype=float)
        u_only = beta is not None
        Xp = self.X[:, :0] if u_only else self.X
        off = resp.offset + (self.X @ beta if beta is not None else 0.0)
        eta = np.asarray(eta_start, dtype=float)
        mu, mu_eta, w = self._start_state(eta)
        u_old = self.u_prev
        beta_old = np.zeros(Xp.shape[1])
        oldpdev = math.inf
        for it in range(1, self.maxit + 1):
            if it > 1:
                mu_eta = fam.mu_eta(eta)
                w = resp.weights * mu_eta**2 / fam.variance(mu)
            z = (eta - off) + (resp.y - mu) / mu_eta
            pred = self._predictor(Xp, z, w, start=it == 1)
            pred.update(theta)
            beta_new, u_new = pred.solve()
            eta, mu, dres, pdev = self._state(theta, off, Xp, beta_new, u_new)
            if abs((oldpdev - pdev) / pdev) < self.tol:
                return self._finish(
                    u_new, beta_new if beta is None else beta, eta, mu, dres, pred, w, z, it
                )
            if math.isnan(pdev) or pdev > oldpdev:
                for _ in range(MAX_STEP_HALVINGS):
                    if not (math.isnan(pdev) or pdev > oldpdev):
                        break
                    u_new = [(a + b) / 2.0 for a, b in zip(u_old, u_new, strict=True)]
                    beta_new = (beta_old + beta_new) / 2.0
                    eta, mu, dres, pdev = self._state(theta, off, Xp, beta_new, u_new)
                if math.isnan(pdev):
                    raise ConvergenceError(
                        "PIRLS loop resulted in NaN value",
                        remedy="check the data and starting values",
                    )
                if pdev - oldpdev > self.tol:
                    raise ConvergenceError(
                        "(maxstephalfit) PIRLS step-halvings failed to reduce deviance in "
                        "pwrssUpdate",
                        remedy="rescale predictors or check for separation",
                    )
            oldpdev = pdev
            u_old, beta_old = u_new, beta_new
        raise ConvergenceError(
            f"pwrssUpdate did not converge in ({self.maxit}) iterations",
            remedy="check for complete separation or rescale predictors",
        )

    def _start_state(self, eta: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``μ``, ``dμ/dη`` and the working weights at the starting ``η``.

        Every evaluation of a stage starts from the same ``η``: they are kept
        for the next call.
        """
        if self._start is not None and np.array_equal(self._start[0], eta):
            return self._start[1], self._start[2], self._start[3]
        fam = self.response.family
        mu = fam.linkinv(eta)
        mu_eta = fam.mu_eta(eta)
        w = self.response.weights * mu_eta**2 / fam.variance(mu)
        self._start = (eta.copy(), mu, mu_eta, w)
        return mu, mu_eta, w

    def _predictor(
        self, Xp: FloatArray, z: FloatArray, w: FloatArray, start: bool
    ) -> BlockedPredictor:
        """The predictor of the system with fixed-effect columns ``Xp`` at working ``z`` and ``w``.

        Built once per kind of system and per role (first iteration or
        later); later calls only reweight it: the patterns of ``Z'WZ`` and
        its scatter kernel do not change with ``w``, and the first
        iteration's weights are the same in every evaluation of a stage, so
        that predictor keeps its weight-only parts.
        """
        key = (Xp.shape[1], start)
        pred = self._predictors.get(key)
        if pred is None:
            pred = BlockedPredictor(self.terms, Xp, z, w)
            self._predictors[key] = pred
        else:
            pred.reweight(z, w)
        return pred

    def _state(
        self,
        theta: FloatArray,
        off: FloatArray,
        Xp: FloatArray,
        beta: FloatArray,
        u: Sequence[FloatArray],
    ) -> tuple[FloatArray, FloatArray, FloatArray, float]:
        eta = off + Xp @ beta + self.zb(theta, u)
        mu = self.response.family.linkinv(eta)
        dres = self.response.dev_resids(mu)
        pdev = float(np.sum(dres)) + float(sum(np.sum(ui**2) for ui in u))
        return eta, mu, dres, pdev

    def _finish(
        self,
        u: list[FloatArray],
        beta: FloatArray,
        eta: FloatArray,
        mu: FloatArray,
        dres: FloatArray,
        pred: BlockedPredictor,
        w: FloatArray,
        z: FloatArray,
        iterations: int,
    ) -> PirlsFit:
        self.u_prev = u
        return PirlsFit(
            u=u,
            beta=np.asarray(beta, dtype=float),
            eta=eta,
            mu=mu,
            dev_resids=dres,
            sqrL=float(sum(np.sum(ui**2) for ui in u)),
            ldL2=pred.ldL2,
            ldRX2=pred.ldRX2,
            predictor=pred,
            weights=w,
            z=z,
            iterations=iterations,
        )
