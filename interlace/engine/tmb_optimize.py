"""The outer optimisation of glmmTMB's Laplace objective, and its Hessian.

glmmTMB minimises ``−log L(ω)`` (:mod:`interlace.engine.tmb_laplace`) over all outer
parameters jointly with ``nlminb`` and TMB's exact gradient, then ``sdreport`` inverts
the Hessian of ``−log L`` for the covariance of the estimates.  Here:

1. starting values: ``θ = 0`` (unit standard deviations, no correlation, as glmmTMB),
   ``β_zi = 0``, and ``β`` (with ``β_d``) from Newton's method on the fixed-effects-only
   log-likelihood — glmmTMB starts ``β`` at 0, but the optimum does not depend on it;
2. quasi-Newton (SciPy's BFGS) with central-difference gradients (the inner modes
   are solved to near machine precision, so the differences are smooth);
3. Newton polishing with the finite-difference Hessian until the Newton decrement
   ``g' H⁻¹ g`` is below ``1e-12`` (at most a few steps);
4. the Hessian at the optimum (second differences) for ``vcov``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from interlace.engine.tmb_laplace import LaplaceFit, TmbLaplace
from interlace.optim.summary import ConvergenceCheck, EvaluationLog, OptSummary

FloatArray = NDArray[np.float64]

_GRAD_STEP = 1e-5
_HESS_STEP = 1e-3
_POLISH_STEPS = 8
_DECREMENT_TOL = 1e-12
_GRADIENT_TOL = 1e-3
_LARGE = 1e300


@dataclass(frozen=True, eq=False)
class TmbOptimum:
    """The optimum of the outer problem.

    Attributes
    ----------
    par : ndarray
        Outer parameters (glmmTMB's ``fit$par``).
    nll : float
        ``−log L`` there (glmmTMB's ``fit$objective``).
    gradient, hessian : ndarray
        Finite-difference derivatives of ``−log L`` at ``par``.
    fit : LaplaceFit
        The inner solution at ``par``.
    optinfo : OptSummary
        The optimiser's record.
    converged : bool
        Small gradient and positive definite Hessian.
    """

    par: FloatArray
    nll: float
    gradient: FloatArray
    hessian: FloatArray
    fit: LaplaceFit
    optinfo: OptSummary
    converged: bool


def _steps(x: FloatArray, rel: float) -> FloatArray:
    return np.asarray(rel * (1.0 + np.abs(x)), dtype=float)


def central_gradient(fun: TmbLaplace, x: FloatArray, rel: float = _GRAD_STEP) -> FloatArray:
    """Central-difference gradient of ``fun`` at ``x`` (steps ``rel (1 + |x_i|)``)."""
    h = _steps(x, rel)
    g = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h[i]
        g[i] = (fun(x + e) - fun(x - e)) / (2.0 * h[i])
    return g


def hessian(fun: TmbLaplace, x: FloatArray, rel: float = _HESS_STEP) -> FloatArray:
    """Second-difference Hessian of ``fun`` at ``x`` (steps ``rel (1 + |x_i|)``)."""
    n = x.size
    h = _steps(x, rel)
    f0 = fun(x)
    hess = np.empty((n, n))
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h[i]
        hess[i, i] = (fun(x + ei) - 2.0 * f0 + fun(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(n)
            ej[j] = h[j]
            val = (fun(x + ei + ej) - fun(x + ei - ej) - fun(x - ei + ej) + fun(x - ei - ej)) / (
                4.0 * h[i] * h[j]
            )
            hess[i, j] = hess[j, i] = val
    return hess


def starting_values(objective: TmbLaplace) -> FloatArray:
    """``θ = 0``, ``β_zi = 0``, ``β`` and ``β_d`` from a fixed-effects-only Newton iteration.

    ``β`` starts at the least-squares fit of ``g(ȳ)`` (the intercept-only model), then
    Newton steps (with ``D⁺``, halved until the log-likelihood does not decrease) fit the
    model without random effects at ``φ = 1`` (the response variance for the gaussian
    family).
    """
    d, lay = objective.data, objective.layout
    start = np.zeros(lay.size)
    phi = np.ones(d.n)
    if d.family.family == "gaussian":
        phi *= max(float(np.var(d.y)), 1e-8)
    fam, w = d.family, d.weights

    def loglik(beta: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        ll, d1, d2 = fam.logdens(d.y, d.size, d.X @ beta + d.offset, phi)
        return float(np.sum(w * ll)), w * d1, w * d2

    mean = float(np.sum(w * d.y) / np.sum(w * d.size))
    target = np.full(d.n, float(fam.link.linkfun(np.array([mean]))[0])) - d.offset
    beta: FloatArray = np.zeros(d.X.shape[1])
    if d.X.shape[1]:
        beta = np.asarray(np.linalg.lstsq(d.X, target, rcond=None)[0], dtype=float)
    value, d1, d2 = loglik(beta)
    for _ in range(50):
        info = d.X.T @ (d.X * np.maximum(-d2, 1e-10)[:, None])
        try:
            step = np.linalg.solve(info, d.X.T @ d1)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-8:
            new_value, new_d1, new_d2 = loglik(beta + t * step)
            if np.isfinite(new_value) and new_value >= value:
                break
            t *= 0.5
        else:
            break
        beta, value, d1, d2 = beta + t * step, new_value, new_d1, new_d2
        if np.max(np.abs(t * step)) < 1e-8 * (1.0 + np.max(np.abs(beta))):
            break
    if not d.REML and np.all(np.isfinite(beta)):
        start[lay.beta] = beta
    if d.X_d.shape[1] and fam.family == "gaussian":
        resid = d.y - d.X @ beta - d.offset
        start[lay.betad.start] = np.log(max(float(np.mean(resid**2)), 1e-8))
    return start


def optimize_tmb(objective: TmbLaplace, start: FloatArray | None = None) -> TmbOptimum:
    """Minimise ``−log L`` over the outer parameters (see the module notes)."""
    x0 = starting_values(objective) if start is None else np.asarray(start, dtype=float)
    log = EvaluationLog()
    logged = log.logged(objective)

    def fun(x: FloatArray) -> float:
        value = logged(x)
        return value if np.isfinite(value) else _LARGE

    def grad(x: FloatArray) -> FloatArray:
        return central_gradient(objective, x)

    res = optimize.minimize(fun, x0, jac=grad, method="BFGS", options={"gtol": 1e-7})
    x = np.asarray(res.x, dtype=float)
    feval = int(res.nfev)
    nll = objective(x)
    hess = hessian(objective, x)
    g = grad(x)
    for _ in range(_POLISH_STEPS):
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            break
        decrement = float(g @ step)
        if not decrement > _DECREMENT_TOL:
            break
        t = 1.0
        while t > 1e-6:
            trial = x - t * step
            value = objective(trial)
            if value <= nll:
                break
            t *= 0.5
        else:
            break
        x, nll = trial, value
        hess = hessian(objective, x)
        g = grad(x)
    fit = objective.fit(x)
    finite = bool(np.all(np.isfinite(hess)))
    eigen = np.linalg.eigvalsh(hess) if hess.size and finite else np.empty(0)
    pd_hessian = finite and bool(np.all(eigen > 0))
    small_gradient = bool(np.max(np.abs(g), initial=0.0) < _GRADIENT_TOL)
    messages: list[str] = []
    if not pd_hessian:
        messages.append(
            "Model convergence problem; non-positive-definite Hessian matrix. "
            "See vignette('troubleshooting')"
        )
    if not small_gradient:
        messages.append(f"Model convergence problem; gradient {np.max(np.abs(g)):.3g} is not small")
    optinfo = log.summary(
        optimizer="BFGS+Newton",
        initial=x0,
        final=x,
        fmin=fit.nll,
        feval=feval,
        return_code=0 if res.success else 1,
        message=str(res.message),
        control={"gtol": 1e-7, "decrement_tol": _DECREMENT_TOL},
        warnings=tuple(messages),
        conv=ConvergenceCheck(
            code=0 if pd_hessian and small_gradient else -1,
            messages=tuple(messages),
            gradient=g,
            hessian=hess,
        ),
    )
    return TmbOptimum(
        par=x,
        nll=fit.nll,
        gradient=g,
        hessian=hess,
        fit=fit,
        optinfo=optinfo,
        converged=pd_hessian and small_gradient and fit.converged,
    )
