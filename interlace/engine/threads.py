"""BLAS threads: one for a fit's many small factorisations, the caller's for its large dense ones.

OpenBLAS threads spin while they wait for work.  For the small matrices that make up most
fits (``k x k`` blocks per level, systems of a few hundred columns) a second thread gains
nothing, and on a machine whose cores are busy with other jobs the waiting threads slow every
call down many-fold (measured here at a load of 6 on 2 cores: a 181 x 181 Cholesky
factorisation 0.3 ms on one thread, 200 ms on two; a clmm fit of soup with nested terms 4.7 s
against 120 s).  A fit therefore runs with one BLAS thread (:func:`one_blas_thread`, used by
every model function), and only the dense factorisations large enough to gain from threads
(the Schur complement of a crossed design with :data:`LARGE` columns or more, billions of
flops) get back the thread count the caller had (:func:`caller_blas_threads`).
Set ``OPENBLAS_NUM_THREADS`` (or use threadpoolctl) to choose that count.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

#: Dense factorisations of at least this many columns use the caller's BLAS threads.  Measured
#: on this project's 2-core machine: InstEval's 1,145 columns are slower on two threads (1.95 s
#: per fit against 2.26 s), the 3,708 of a MovieLens-1M-shaped design faster (31 s against 19 s).
LARGE = 2000

P = ParamSpec("P")
R = TypeVar("R")

_controller: list[Any] = []
#: The caller's BLAS thread count, per nesting level of :func:`one_blas_thread`.
_caller_threads: list[int] = []


def _blas() -> Any:
    """threadpoolctl's controller of the BLAS libraries (found on first use, when loaded)."""
    if not _controller:
        from threadpoolctl import ThreadpoolController

        _controller.append(ThreadpoolController().select(user_api="blas"))
    return _controller[0]


@contextmanager
def _limited(n: int) -> Iterator[None]:
    with _blas().limit(limits=n):
        yield


def one_blas_thread(fit: Callable[P, R]) -> Callable[P, R]:
    """Run ``fit`` with one BLAS thread, remembering the caller's count for large blocks."""

    @functools.wraps(fit)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        counts = [lib["num_threads"] for lib in _blas().info()]
        _caller_threads.append(max(counts, default=1))
        try:
            with _limited(1):
                return fit(*args, **kwargs)
        finally:
            _caller_threads.pop()

    return wrapped


@contextmanager
def caller_blas_threads(size: int) -> Iterator[None]:
    """Inside a fit, give a dense factorisation of ``size`` columns the caller's BLAS threads.

    Outside a fit, or for fewer than :data:`LARGE` columns, nothing changes.
    """
    if size < LARGE or not _caller_threads or _caller_threads[-1] <= 1:
        yield
        return
    with _limited(_caller_threads[-1]):
        yield
