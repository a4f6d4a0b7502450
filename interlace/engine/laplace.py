"""lme4's GLMM deviance functions: nAGQ = 0, Laplace (nAGQ = 1) and adaptive Gauss–Hermite.

With ``û`` the conditional modes from PIRLS (:mod:`interlace.engine.pirls`)
and ``L`` the Cholesky factor of ``Λ'Z'WZΛ + I`` at the working weights,
lme4's Laplace approximation to −2 log-likelihood is (Bates et al. 2015;
``glmResp::Laplace``)

    D_1(θ, β) = −2 log p(y | û) + ‖û‖² + log|L|²,

where ``−2 log p(y | û)`` is the family's ``aic`` (with every normalising
constant: binomial coefficients, ``log y!``, the Gamma density).  For
nAGQ = 0 (:meth:`GlmmDeviance.stage0`) β is estimated inside PIRLS and the
same expression is a function of θ alone.

Adaptive Gauss–Hermite quadrature (nAGQ = k > 1) needs a single scalar
random-effect term, so that the integral factors over its ``q`` levels.
With ``d_j(u) = u_j² + Σ_{i in level j} d_i`` (unit deviances ``d_i``),
``s_j = 1 / L_jj`` and the normalised rule ``(z_m, w_m)`` of
:mod:`interlace.engine.quadrature` (lme4's ``glmerAGQ``):

    D_k(θ, β) = Σ_j d_j(û) + log|L|² − 2 Σ_j log Σ_m w_m exp(−(d_j(û + z_m s) − d_j(û))/2 + z_m²/2).

This uses the unit deviances, not the ``aic``: lme4's nAGQ > 1 values lack
the normalising constants of the Laplace values, so log-likelihoods from
the two are not comparable (cbpp: −92.03 with Laplace, −50.06 with nAGQ = 2
in lme4).  Both are reproduced as lme4 computes them.

Every evaluation starts PIRLS from the same linear predictor ``lp0`` (plus
the offset), as lme4's deviance functions do: for nAGQ = 0 the one after
lme4's first PIRLS from ``mustart`` at the starting θ
(:meth:`GlmmDeviance.initial_step`), for nAGQ ≥ 1 the one at the end of the
nAGQ = 0 stage (:meth:`GlmmDeviance.start_stage2`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from interlace.engine.pirls import Pirls, PirlsFit
from interlace.engine.quadrature import GHRule, gh_rule
from interlace.errors import InterlaceError

FloatArray = NDArray[np.float64]

#: lme4's refusal of quadrature for other designs.
AGQ_SCALAR_MESSAGE = (
    "nAGQ > 1 is only available for models with a single, scalar random-effects term"
)


class GlmmDeviance:
    """θ ↦ nAGQ = 0 deviance and (θ, β) ↦ Laplace or AGQ deviance, for one GLMM.

    Parameters
    ----------
    pirls : Pirls
        The data and PIRLS settings.
    nAGQ : int
        Quadrature points of the second stage: 1 (Laplace) or up to 100.

    Attributes
    ----------
    n_theta : int
        Number of covariance parameters (the first entries of ``pars``).
    lp0 : ndarray
        Starting linear predictor (offset excluded) of every evaluation.
    last : PirlsFit or None
        PIRLS result of the last evaluation.
    n_evals : int
    """

    def __init__(self, pirls: Pirls, nAGQ: int = 1) -> None:
        self.pirls = pirls
        self.nAGQ = nAGQ
        self.rule: GHRule | None = None
        if nAGQ > 1:
            terms = pirls.terms
            if len(terms) != 1 or np.asarray(terms[0].z).shape[1] != 1:
                raise InterlaceError(AGQ_SCALAR_MESSAGE, remedy="use nAGQ = 1 (Laplace)")
            self.rule = gh_rule(nAGQ)
        resp = pirls.response
        self.n_theta = sum(t.cov.n_theta for t in pirls.terms)
        self.lp0 = resp.family.linkfun(resp.mustart)
        self.last: PirlsFit | None = None
        self.n_evals = 0

    @property
    def offset(self) -> FloatArray:
        """The model's offset."""
        return self.pirls.response.offset

    def initial_step(self, theta: FloatArray) -> PirlsFit:
        """lme4's first PIRLS (β and u) from ``linkfun(mustart)``; sets ``lp0``."""
        self.lp0 = self.pirls.response.family.linkfun(self.pirls.response.mustart)
        fit = self._run(theta, None)
        self.lp0 = fit.eta - self.offset
        return fit

    def start_stage2(self) -> None:
        """lme4's ``updateGlmerDevfun``: later evaluations start from the last linear predictor."""
        if self.last is None:
            raise InterlaceError("start_stage2 needs an evaluation of the nAGQ = 0 stage first")
        self.lp0 = self.last.eta - self.offset

    def _run(self, theta: FloatArray, beta: FloatArray | None) -> PirlsFit:
        self.n_evals += 1
        fit = self.pirls.fit(np.asarray(theta, dtype=float), self.offset + self.lp0, beta)
        self.last = fit
        return fit

    def laplace_value(self, fit: PirlsFit) -> float:
        """``aic(μ) + ‖u‖² + log|L|²`` of a PIRLS result."""
        resp = self.pirls.response
        return resp.aic(fit.mu, float(np.sum(fit.dev_resids))) + fit.sqrL + fit.ldL2

    def stage0(self, theta: FloatArray) -> float:
        """nAGQ = 0 deviance at θ (β estimated by PIRLS)."""
        return self.laplace_value(self._run(theta, None))

    def __call__(self, pars: FloatArray) -> float:
        """Laplace (nAGQ = 1) or AGQ deviance at ``pars = (θ, β)``."""
        pars = np.asarray(pars, dtype=float)
        theta, beta = pars[: self.n_theta], pars[self.n_theta :]
        fit = self._run(theta, beta)
        if self.rule is None:
            return self.laplace_value(fit)
        return self.agq_value(theta, beta, fit)

    def agq_value(self, theta: FloatArray, beta: FloatArray, fit: PirlsFit) -> float:
        """Adaptive Gauss–Hermite deviance around the modes of ``fit``."""
        assert self.rule is not None
        pirls, resp = self.pirls, self.pirls.response
        refs = np.asarray(pirls.terms[0].refs, dtype=np.intp)
        u0 = fit.u[0][:, 0]
        q = u0.size
        devc0 = u0**2 + np.bincount(refs, weights=fit.dev_resids, minlength=q)
        z = np.asarray(pirls.terms[0].z, dtype=float)[:, 0]
        lam = float(pirls.lambda_map(theta)[0][0, 0])
        # L is diagonal: L_jj² = 1 + λ² Σ_{i in level j} w_i z_i² at the last working weights
        sd = 1.0 / np.sqrt(
            1.0 + lam**2 * np.bincount(refs, weights=fit.weights * z**2, minlength=q)
        )
        off = resp.offset + pirls.X @ beta
        mult = np.zeros(q)
        for zk, wk in zip(self.rule.z, self.rule.w, strict=True):
            if zk == 0.0:
                mult += wk
                continue
            uk = u0 + zk * sd
            mu = resp.family.linkinv(off + pirls.zb(theta, [uk[:, None]]))
            devc = uk**2 + np.bincount(refs, weights=resp.dev_resids(mu), minlength=q)
            mult += wk * np.exp(-0.5 * (devc - devc0) + 0.5 * zk**2)
        return float(np.sum(devc0) + fit.ldL2 - 2.0 * np.sum(np.log(mult)))
