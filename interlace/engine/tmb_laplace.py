"""glmmTMB's objective: the Laplace approximation of the marginal likelihood.

glmmTMB (Brooks et al. 2017, R Journal 9(2)) has three linear predictors on the same
rows: the conditional model ``η = X β + Z b + o``, the zero-inflation model
``η_zi = X_zi β_zi`` (``p = logit⁻¹(η_zi)``) and the dispersion model ``η_d = X_d β_d``
(``φ = exp(η_d)``).  The random effects ``b`` of term ``i`` are ``N(0, Σ_i(θ))`` per
level, ``Σ_i`` in glmmTMB's parameters (:mod:`interlace.engine.tmb_covariance`).  Writing
``b = Λ_θ u`` with ``u ~ N(0, I_q)`` and ``ℓ_i`` the conditional log-density of
observation ``i`` (:mod:`interlace.families.tmb_family`), zero-inflated as

    ℓ_i^zi = log(p_i + (1 − p_i) exp(ℓ_i))   if y_i = 0,
    ℓ_i^zi = log(1 − p_i) + ℓ_i              otherwise,

the joint log density of ``(y, u)`` is, up to ``−(q/2) log 2π``,

    ψ(u) = Σ_i w_i ℓ_i^zi(η_i) − ½ ‖u‖²,       η = X β + Z Λ_θ u + o.

TMB (with glmmTMB's ``random = "b"``) integrates ``u`` out by the Laplace approximation
around the mode ``û`` (inner problem); the outer parameters ``ω = (β, β_zi, β_d, θ)`` are
then optimised jointly (nlminb), nothing profiled.  The negative log-likelihood is

    −log L(ω) = −Σ_i w_i ℓ_i^zi(η̂_i) + ½ ‖û‖² + ½ log|H|,   H = Λ'Z' D Z Λ + I,

with ``D = diag(−w_i ∂²ℓ_i^zi/∂η_i²)`` the *observed* curvature at ``û`` (TMB uses the
exact Hessian of the joint density, not Fisher's expected one).  The ``2π`` terms of the
prior and of the Laplace approximation cancel.

The mode solves ``∂ψ/∂u = Λ'Z' (w ∘ ∂ℓ/∂η) − u = 0`` by Newton's method, ``H δ = ∂ψ/∂u``,
with step halving so that ``ψ`` increases.  Where ``H`` is not positive definite (the
observed ``D`` can be negative for zero-inflated or negative binomial rows away from the
mode) the step uses ``D⁺ = max(D, 0)`` (and no mixed curvature), an ascent direction; the
value at the mode always uses the observed ``H``.  The zero-inflated derivatives, with
``r = (1 − p) exp(ℓ) / (p + (1 − p) exp(ℓ))`` on zero rows and ``r = 1`` elsewhere, are

    ∂ℓ^zi/∂η = r ℓ',    ∂²ℓ^zi/∂η² = r (ℓ'' + ℓ'²) − r² ℓ'².

The zero-inflation model may have random effects too, ``η_zi = X_zi β_zi + Z_zi Λ_zi u_zi``
with ``u_zi ~ N(0, I)``: they join the inner variables and the prior, and ``H`` gains the
blocks of ``B = Z_zi Λ_zi``, ``H = A'D_ηA + B'D_ζB + A'D_ηζB + B'D_ηζA + I`` (``A = ZΛ``),
with the curvatures of ``ℓ^zi`` in ``η_zi`` and the mixed one (:meth:`TmbLaplace._loglik`).

With ``REML = True`` glmmTMB also integrates ``β`` (flat prior): the inner variables are
``(u, β)``, ``H`` gains the ``X`` blocks (``[ZΛ X]' D [ZΛ X] + diag(I_q, 0)``) and
``−(p/2) log 2π`` is added (the flat prior has no normalising constant).

``H`` is factored densely (Cholesky) up to :data:`DENSE_LIMIT` inner variables and by
SuperLU with symmetric pivoting above (its pivots show whether ``H`` is positive definite).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray
from scipy import special

from interlace.engine.protocol import RandomTermDesign
from interlace.engine.tmb_covariance import TmbCovariance
from interlace.families.tmb_family import TmbFamily

FloatArray = NDArray[np.float64]

#: Largest number of inner variables factored densely (a dense Cholesky is slower than
#: SuperLU on the sparse ``H`` of larger models).
DENSE_LIMIT = 60
_MAX_NEWTON = 200
_MAX_HALVINGS = 40
_STEP_TOL = 1e-11
_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, eq=False)
class TmbData:
    """Everything fixed for one glmmTMB fit.

    Attributes
    ----------
    family : TmbFamily
    y : ndarray, shape (n,)
        The response (successes for the binomial family).
    size : ndarray, shape (n,)
        Binomial trials (ones for other families).
    weights : ndarray, shape (n,)
        Prior weights multiplying each row's log-density.
    X, X_zi, X_d : ndarray
        Conditional, zero-inflation and dispersion model matrices (``X_zi`` and ``X_d``
        may have no columns: no zero inflation, no dispersion parameter).
    offset : ndarray, shape (n,)
    Zt : sparse matrix, shape (q, n)
    terms : sequence of RandomTermDesign
        The random terms, in the order of ``Zt`` and ``θ``.
    covs : tuple of TmbCovariance
        Their covariance parameterisations.
    REML : bool
        Integrate ``β`` out as well.
    Zt_zi, terms_zi, covs_zi
        The zero-inflation model's random terms (none by default).
    """

    family: TmbFamily
    y: FloatArray
    size: FloatArray
    weights: FloatArray
    X: FloatArray
    X_zi: FloatArray
    X_d: FloatArray
    offset: FloatArray
    Zt: sp.csc_matrix
    terms: Sequence[RandomTermDesign]
    covs: tuple[TmbCovariance, ...]
    REML: bool = False
    Zt_zi: sp.csc_matrix | None = None
    terms_zi: Sequence[RandomTermDesign] = ()
    covs_zi: tuple[TmbCovariance, ...] = ()

    @property
    def n(self) -> int:
        """Number of observations."""
        return int(self.y.size)

    @property
    def q(self) -> int:
        """Number of random effects of the conditional model."""
        return int(self.Zt.shape[0])

    @property
    def q_zi(self) -> int:
        """Number of random effects of the zero-inflation model."""
        return 0 if self.Zt_zi is None else int(self.Zt_zi.shape[0])


@dataclass(frozen=True)
class ParameterLayout:
    """Slices of the outer parameter vector, in glmmTMB's order.

    ``beta, betazi, betad, theta, thetazi``; with REML ``beta`` is an inner variable and
    its slice is empty.
    """

    beta: slice
    betazi: slice
    betad: slice
    theta: slice
    thetazi: slice

    @classmethod
    def of(cls, data: TmbData) -> ParameterLayout:
        """The layout for ``data``."""
        sizes = [
            0 if data.REML else data.X.shape[1],
            data.X_zi.shape[1],
            data.X_d.shape[1],
            sum(c.n_theta for c in data.covs),
            sum(c.n_theta for c in data.covs_zi),
        ]
        ends = np.cumsum(sizes)
        starts = ends - np.asarray(sizes)
        b, z, d, t, tz = (slice(int(s), int(e)) for s, e in zip(starts, ends, strict=True))
        return cls(b, z, d, t, tz)

    @property
    def size(self) -> int:
        """Length of the outer parameter vector."""
        return self.thetazi.stop

    def names(self) -> list[str]:
        """glmmTMB's names of the entries (``names(fit$fit$par)``)."""
        out: list[str] = []
        for label, part in (
            ("beta", self.beta),
            ("betazi", self.betazi),
            ("betad", self.betad),
            ("theta", self.theta),
            ("thetazi", self.thetazi),
        ):
            out += [label] * (part.stop - part.start)
        return out


@dataclass(frozen=True, eq=False)
class LaplaceFit:
    """The inner solution at one outer parameter vector.

    Attributes
    ----------
    nll : float
        ``−log L`` (``inf`` when the mode or its Hessian could not be found).
    u : ndarray, shape (q,)
        Spherical conditional modes.
    u_zi : ndarray, shape (q_zi,)
        Those of the zero-inflation model.
    beta : ndarray
        Fixed effects (the inner ``β̂`` with REML, else the outer ones).
    eta, eta_zi, phi : ndarray, shape (n,)
        Linear predictors and dispersion at the mode.
    lams, lams_zi : list of ndarray
        ``λ`` of every term (conditional and zero-inflation models).
    logdet : float
        ``log|H|``.
    converged : bool
        Whether the inner Newton iteration converged.
    """

    nll: float
    u: FloatArray
    u_zi: FloatArray
    beta: FloatArray
    eta: FloatArray
    eta_zi: FloatArray
    phi: FloatArray
    lams: list[FloatArray]
    lams_zi: list[FloatArray]
    logdet: float
    converged: bool


@dataclass(frozen=True, eq=False)
class _Curvature:
    """Per row, minus the second derivatives of ``w ℓ^zi`` in ``η``, in ``η_zi`` and mixed."""

    eta: FloatArray
    zi: FloatArray
    mixed: FloatArray

    def clamped(self) -> _Curvature:
        """A positive semi-definite replacement: diagonals ``max(·, 0)``, no mixed term."""
        return _Curvature(
            np.maximum(self.eta, 0.0), np.maximum(self.zi, 0.0), np.zeros_like(self.mixed)
        )


class TmbLaplace:
    """``ω ↦ −log L(ω)`` for glmmTMB's model (see the module notes).

    Calls warm-start the inner Newton iteration at the previous mode.  The inner
    variables are ``v = (u, u_zi, β)`` (``β`` under REML only).
    """

    def __init__(self, data: TmbData) -> None:
        self.data = data
        self.layout = ParameterLayout.of(data)
        self.zero = data.y == 0
        q, q_zi = data.q, data.q_zi
        p_inner = data.X.shape[1] if data.REML else 0
        self.penalty = np.r_[np.ones(q + q_zi), np.zeros(p_inner)]
        self._theta_slices = _slices([c.n_theta for c in data.covs])
        self._theta_zi_slices = _slices([c.n_theta for c in data.covs_zi])
        cols = _term_columns(data.terms, 0)
        if data.REML:
            cols.append(np.broadcast_to(q + q_zi + np.arange(p_inner), (data.n, p_inner)))
        self._cols = np.hstack(cols) if cols else np.zeros((data.n, 0), dtype=np.intp)
        zi_cols = _term_columns(data.terms_zi, q)
        self._cols_zi = np.hstack(zi_cols) if zi_cols else np.zeros((data.n, 0), dtype=np.intp)
        self._v = np.zeros(self.penalty.size)

    # ------------------------------------------------------------------ pieces
    def lambdas(self, theta: FloatArray) -> list[FloatArray]:
        """``λ`` of every conditional-model term at glmmTMB's ``θ``."""
        pairs = zip(self.data.covs, self._theta_slices, strict=True)
        return [cov.factor(theta[s]) for cov, s in pairs]

    def lambdas_zi(self, theta_zi: FloatArray) -> list[FloatArray]:
        """``λ`` of every zero-inflation term at glmmTMB's ``θ_zi``."""
        pairs = zip(self.data.covs_zi, self._theta_zi_slices, strict=True)
        return [cov.factor(theta_zi[s]) for cov, s in pairs]

    def lambda_matrix(self, lams: list[FloatArray], zi: bool = False) -> sp.csr_matrix:
        """``Λ_θ`` (block diagonal: ``I ⊗ λ_i`` per term) of the conditional or zi model."""
        terms = self.data.terms_zi if zi else self.data.terms
        pairs = zip(terms, lams, strict=True)
        blocks = [sp.kron(sp.identity(len(t.levels)), lam) for t, lam in pairs]
        return sp.csr_matrix(sp.block_diag(blocks) if blocks else (0, 0))

    def _scatter(self, values: FloatArray, cols: NDArray[np.intp]) -> sp.csr_matrix:
        """The ``n x m`` CSR matrix with ``values`` in columns ``cols`` of each row."""
        d = self.data
        indptr = np.arange(d.n + 1) * values.shape[1]
        shape = (d.n, self.penalty.size)
        return sp.csr_matrix((values.ravel(), cols.ravel(), indptr), shape=shape)

    def _inner_matrix(self, lams: list[FloatArray]) -> sp.csr_matrix:
        """``∂η/∂v``: ``Z Λ_θ`` in the ``u`` columns (and ``X`` in the ``β`` ones with REML).

        Row ``j`` of term ``i``'s block is ``z_i[j] λ_i`` in the columns of its level, so
        the matrix is one scatter of those values.
        """
        d = self.data
        vals = [np.asarray(t.z, dtype=float) @ lam for t, lam in zip(d.terms, lams, strict=True)]
        if d.REML:
            vals.append(d.X)
        values = np.hstack(vals) if vals else np.zeros((d.n, 0))
        return self._scatter(values, self._cols)

    def _inner_matrix_zi(self, lams_zi: list[FloatArray]) -> sp.csr_matrix | None:
        """``∂η_zi/∂v``: ``Z_zi Λ_zi`` in the ``u_zi`` columns; ``None`` without zi effects."""
        d = self.data
        if not d.terms_zi:
            return None
        pairs = zip(d.terms_zi, lams_zi, strict=True)
        values = np.hstack([np.asarray(t.z, dtype=float) @ lam for t, lam in pairs])
        return self._scatter(values, self._cols_zi)

    def _loglik(
        self, eta: FloatArray, eta_zi: FloatArray, phi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, _Curvature]:
        """Weighted ``ℓ^zi``, its derivatives in ``η`` and ``η_zi``, and its curvature.

        As a log-sum-exp over a structural zero (``log p``) and the count part
        (``log(1 − p) + ℓ``), with weights ``s`` and ``r = 1 − s`` on zero rows (``s = 0``
        elsewhere): ``∂/∂η_zi = s(1 − p) − r p``, ``∂²/∂η_zi² = −p(1 − p) + s(1 − p)² +
        r p² − (∂/∂η_zi)²`` and ``∂²/∂η∂η_zi = −r ℓ' (p + ∂/∂η_zi)``.
        """
        d = self.data
        ll, d1, d2 = d.family.logdens(d.y, d.size, eta, phi)
        zeros = np.zeros(d.n)
        e1, e2, mixed = zeros, zeros, zeros
        if d.X_zi.shape[1]:
            log_p, log_1mp = special.log_expit(eta_zi), special.log_expit(-eta_zi)
            p = np.exp(log_p)
            lz = log_1mp + ll
            total = np.where(self.zero, np.logaddexp(log_p, lz), lz)
            r = np.where(self.zero, np.exp(lz - total), 1.0)
            s = 1.0 - r
            e1 = s * (1.0 - p) - r * p
            e2 = -p * (1.0 - p) + s * (1.0 - p) ** 2 + r * p**2 - e1**2
            mixed = -r * d1 * (p + e1)
            d2 = r * (d2 + d1**2) - (r * d1) ** 2
            d1 = r * d1
            ll = total
        w = d.weights
        return w * ll, w * d1, w * e1, _Curvature(-w * d2, -w * e2, -w * mixed)

    # ------------------------------------------------------------------ inner
    def fit(self, par: FloatArray) -> LaplaceFit:
        """The modes ``(û, û_zi)`` and ``−log L`` at the outer parameters ``par``."""
        d, lay = self.data, self.layout
        par = np.asarray(par, dtype=float)
        lams = self.lambdas(par[lay.theta])
        lams_zi = self.lambdas_zi(par[lay.thetazi])
        A = self._inner_matrix(lams)
        B = self._inner_matrix_zi(lams_zi)
        beta_outer = par[lay.beta]
        eta0 = d.offset + (d.X @ beta_outer if not d.REML else 0.0)
        zeta0 = d.X_zi @ par[lay.betazi]
        phi = np.exp(d.X_d @ par[lay.betad]) if d.X_d.shape[1] else np.ones(d.n)
        pen = self.penalty

        def psi(v: FloatArray) -> tuple[float, _State]:
            eta = eta0 + A @ v
            eta_zi = zeta0 + (B @ v if B is not None else 0.0)
            with np.errstate(all="ignore"):  # outside the domain: NaN, rejected below
                ll, g_eta, g_zi, curv = self._loglik(eta, eta_zi, phi)
            value = float(np.sum(ll) - 0.5 * np.sum(pen * v**2))
            grad = A.T @ g_eta - pen * v
            if B is not None:
                grad = grad + B.T @ g_zi
            state = _State(eta, eta_zi, grad, curv)
            return (value if np.isfinite(value) else -np.inf), state

        v = self._v.copy() if np.all(np.isfinite(self._v)) else np.zeros(pen.size)
        value, state = psi(v)
        if not np.isfinite(value):
            v = np.zeros(pen.size)
            value, state = psi(v)
        converged = pen.size == 0
        for _ in range(_MAX_NEWTON if pen.size else 0):
            step = _newton_step(A, B, state.curvature, pen, state.grad)
            if step is None or not np.all(np.isfinite(step)):
                break
            t = 1.0
            for _ in range(_MAX_HALVINGS):
                trial = v + t * step
                new_value, new_state = psi(trial)
                if np.isfinite(new_value) and new_value >= value - 1e-12 * abs(value):
                    break
                t *= 0.5
            else:
                break
            v, value, state = trial, new_value, new_state
            if np.max(np.abs(t * step)) < _STEP_TOL * (1.0 + np.max(np.abs(v))):
                converged = True
                break
        logdet = _logdet(A, B, state.curvature, pen) if pen.size else 0.0
        nll = -value + 0.5 * logdet
        if d.REML:
            nll -= 0.5 * d.X.shape[1] * _LOG_2PI
        if not np.isfinite(nll):
            nll = np.inf
        else:
            self._v = v
        q, q_zi = d.q, d.q_zi
        beta = v[q + q_zi :] if d.REML else beta_outer
        return LaplaceFit(
            nll=float(nll),
            u=v[:q].copy(),
            u_zi=v[q : q + q_zi].copy(),
            beta=np.asarray(beta, dtype=float).copy(),
            eta=state.eta,
            eta_zi=state.eta_zi,
            phi=phi,
            lams=lams,
            lams_zi=lams_zi,
            logdet=float(logdet),
            converged=converged,
        )

    def inner_hessian(self, par: FloatArray) -> FloatArray:
        """The observed ``H`` (dense) at the mode for ``par``, in the order of ``v``."""
        fit = self.fit(par)
        _, _, _, curv = self._loglik(fit.eta, fit.eta_zi, fit.phi)
        A = self._inner_matrix(fit.lams)
        B = self._inner_matrix_zi(fit.lams_zi)
        return np.asarray(_hessian(A, B, curv, self.penalty).toarray(), dtype=float)

    def __call__(self, par: FloatArray) -> float:
        """``−log L`` at ``par``."""
        return self.fit(par).nll


@dataclass(frozen=True, eq=False)
class _State:
    """Linear predictors, gradient and curvature of ``ψ`` at one ``v``."""

    eta: FloatArray
    eta_zi: FloatArray
    grad: FloatArray
    curvature: _Curvature


def _slices(sizes: list[int]) -> list[slice]:
    """Consecutive slices of the given sizes."""
    ends = np.cumsum([0, *sizes])
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(ends)]


def _term_columns(terms: Sequence[RandomTermDesign], offset: int) -> list[NDArray[np.intp]]:
    """Per term, the inner-variable column of each entry of its ``z`` (levels contiguous)."""
    cols = []
    for term in terms:
        k = len(term.names)
        refs = np.asarray(term.refs, dtype=np.intp)
        cols.append(offset + refs[:, None] * k + np.arange(k)[None, :])
        offset += len(term.levels) * k
    return cols


def _hessian(
    A: sp.csr_matrix, B: sp.csr_matrix | None, curv: _Curvature, pen: FloatArray
) -> sp.csc_matrix:
    """``H = A'D_ηA + B'D_ζB + A'D_ηζB + B'D_ηζA + diag(pen)``."""
    out = A.T @ sp.csr_matrix(A.multiply(curv.eta[:, None])) + sp.diags(pen)
    if B is not None:
        cross = A.T @ sp.csr_matrix(B.multiply(curv.mixed[:, None]))
        out = out + B.T @ sp.csr_matrix(B.multiply(curv.zi[:, None])) + cross + cross.T
    return sp.csc_matrix(out)


@dataclass(frozen=True, eq=False)
class _Factor:
    """A factorisation of a positive definite ``H``: its log-determinant and a solver."""

    logdet: float
    solve: Callable[[FloatArray], FloatArray]


def _factor(
    A: sp.csr_matrix, B: sp.csr_matrix | None, curv: _Curvature, pen: FloatArray
) -> _Factor | None:
    """Factor ``H`` (:func:`_hessian`); ``None`` unless positive definite.

    Small ``H``: a dense Cholesky.  Larger: SuperLU with symmetric, diagonal pivoting (a
    fill-reducing ordering of ``H + H'``), whose pivots are those of ``L D L'``: all
    positive exactly when ``H`` is positive definite.
    """
    h = _hessian(A, B, curv, pen)
    if not np.all(np.isfinite(h.data)):
        return None
    if h.shape[0] <= DENSE_LIMIT:
        try:
            chol = np.linalg.cholesky(h.toarray())
        except np.linalg.LinAlgError:
            return None
        logdet = 2.0 * float(np.sum(np.log(np.diagonal(chol))))
        return _Factor(logdet, lambda b: np.asarray(sla.cho_solve((chol, True), b), dtype=float))
    try:
        lu = spla.splu(
            h,
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
    except RuntimeError:
        return None
    pivots = lu.U.diagonal()
    if not np.all(pivots > 0):
        return None
    return _Factor(float(np.sum(np.log(pivots))), lambda b: np.asarray(lu.solve(b), dtype=float))


def _newton_step(
    A: sp.csr_matrix, B: sp.csr_matrix | None, curv: _Curvature, pen: FloatArray, grad: FloatArray
) -> FloatArray | None:
    """``H⁻¹ ∇ψ``, with ``D⁺ = max(D, 0)`` when the observed ``H`` is not positive definite."""
    factor = _factor(A, B, curv, pen) or _factor(A, B, curv.clamped(), pen)
    return None if factor is None else factor.solve(grad)


def _logdet(A: sp.csr_matrix, B: sp.csr_matrix | None, curv: _Curvature, pen: FloatArray) -> float:
    """``log|H|`` of the observed ``H``; ``inf`` when it is not positive definite."""
    factor = _factor(A, B, curv, pen)
    return np.inf if factor is None else factor.logdet
