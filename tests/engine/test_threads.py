"""BLAS threads: one inside a fit, the caller's for large dense factorisations."""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

from interlace.engine.threads import LARGE, caller_blas_threads, one_blas_thread


def _blas_threads() -> set[int]:
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


@one_blas_thread
def _inside() -> tuple[set[int], set[int], set[int]]:
    with caller_blas_threads(LARGE - 1):
        small = _blas_threads()
    with caller_blas_threads(LARGE):
        large = _blas_threads()
    return _blas_threads(), small, large


def test_fits_run_on_one_thread_and_large_blocks_on_the_callers() -> None:
    with threadpool_limits(limits=2, user_api="blas"):
        fit, small, large = _inside()
        assert (fit, small, large) == ({1}, {1}, {2})
        assert _blas_threads() == {2}  # restored on return
    with threadpool_limits(limits=1, user_api="blas"):
        assert _inside() == ({1}, {1}, {1})


def test_nested_fits_keep_the_outer_callers_count() -> None:
    """glmer_nb calls glmer: the inner fit sees one thread as its caller's count."""

    @one_blas_thread
    def outer() -> tuple[set[int], set[int], set[int]]:
        return _inside()

    with threadpool_limits(limits=2, user_api="blas"):
        assert outer() == ({1}, {1}, {1})
