"""What the engine needs from a model design (structural types).

:func:`interlace.design.lformula` returns an ``LmerDesign`` that satisfies
:class:`LmmDesign`; tests may build lighter objects with the same fields.
Random terms are in lme4's order (decreasing number of levels), which is
also the order of ``theta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from interlace.design.covariance import CovarianceStructure


class RandomTermDesign(Protocol):
    """One random-effect term: ``Z_i`` in factor form.

    Attributes
    ----------
    group : str
        lme4's name of the grouping factor (``"Subject"``, ``"cask:batch"``).
    names : sequence of str
        Column names of the term (lme4's ``cnms`` entry).
    levels : sequence of str
        Levels of the grouping factor, in lme4's order.
    refs : ndarray of int
        0-based level index of every row.
    z : ndarray, shape (n, k)
        The term's model-matrix columns.
    cov : CovarianceStructure
        Fills the ``k x k`` relative covariance factor ``lambda`` from theta.
    theta_slice : slice
        This term's part of the full ``theta``.
    """

    @property
    def group(self) -> str: ...
    @property
    def names(self) -> Sequence[str]: ...
    @property
    def levels(self) -> Sequence[str]: ...
    @property
    def refs(self) -> NDArray[np.integer]: ...
    @property
    def z(self) -> NDArray[np.float64]: ...
    @property
    def cov(self) -> CovarianceStructure: ...
    @property
    def theta_slice(self) -> slice: ...


class LmmDesign(Protocol):
    """The numerical content of lme4's ``lFormula()`` result.

    Attributes
    ----------
    y : ndarray, shape (n,)
    X : ndarray, shape (n, p)
        Fixed-effects model matrix, full column rank.
    X_names : sequence of str
    Zt : scipy.sparse matrix, shape (q, n)
    Lambdat : scipy.sparse CSC matrix, shape (q, q)
        Transposed relative covariance factor at the starting theta.
    Lind : ndarray of int
        0-based index into ``theta`` of each stored entry of ``Lambdat``.
    theta, lower : ndarray
        Starting values and lower bounds of ``theta``.
    weights, offset : ndarray or None
        Prior weights and offset (``None`` when absent).
    terms : sequence of RandomTermDesign
    REML : bool
        The criterion the design was built for (lme4's ``lFormula(REML=)``).
    """

    @property
    def y(self) -> NDArray[np.float64]: ...
    @property
    def X(self) -> NDArray[np.float64]: ...
    @property
    def X_names(self) -> Sequence[str]: ...
    @property
    def Zt(self) -> sp.sparray | sp.spmatrix: ...
    @property
    def Lambdat(self) -> sp.sparray | sp.spmatrix: ...
    @property
    def Lind(self) -> NDArray[np.integer]: ...
    @property
    def theta(self) -> NDArray[np.float64]: ...
    @property
    def lower(self) -> NDArray[np.float64]: ...
    @property
    def weights(self) -> NDArray[np.float64] | None: ...
    @property
    def offset(self) -> NDArray[np.float64] | None: ...
    @property
    def terms(self) -> Sequence[RandomTermDesign]: ...
    @property
    def REML(self) -> bool: ...


class Predictor(Protocol):
    """The shared linear algebra a response model builds on (interface notes).

    A new factorisation (e.g. a GPU or supernodal one) must provide:

    - ``update(theta)``: set θ and refactor ``Λ'Z'WZΛ + I`` and ``R_X``; raise
      :class:`~interlace.errors.NumericalError` when that fails;
    - ``ldL2``, ``ldRX2``, ``pwrss``: ``log|L_θ|²``, ``log|R_X|²`` and the
      penalised weighted RSS after the last update, ``theta`` its θ;
    - ``solve()``: ``(β̂, û)`` with ``û`` per term as ``levels x k`` arrays;
    - ``b(u)``: ``Λ_θ u`` per term; ``lams``: the ``k x k`` factors per term;
    - ``unscaled_vcov()``: ``(R_X' R_X)^{-1}``;
    - ``u_cov_blocks()``: per term, the ``levels x k x k`` diagonal blocks of
      ``(Λ'Z'WZΛ + I)^{-1}`` (conditional covariances of ``u`` over σ²).
    """

    ldL2: float
    ldRX2: float
    pwrss: float
    theta: NDArray[np.float64]
    lams: list[NDArray[np.float64]]

    def update(self, theta: NDArray[np.float64]) -> None: ...
    def solve(self) -> tuple[NDArray[np.float64], list[NDArray[np.float64]]]: ...
    def b(self, u: Sequence[NDArray[np.float64]]) -> list[NDArray[np.float64]]: ...
    def unscaled_vcov(self) -> NDArray[np.float64]: ...
    def u_cov_blocks(self) -> list[NDArray[np.float64]]: ...
