"""Risk sets of a Cox model: which rows are at risk at each distinct event time.

A row with entry time ``start`` (``-inf`` for ``Surv(time, status)``), exit time ``stop``
and stratum ``s`` is at risk at an event time ``t`` of its stratum when
``start < t <= stop``.  Event times are numbered stratum by stratum; within a stratum
they are sorted, so the event times at which a row is at risk form one contiguous run
``lo <= j < hi`` of that numbering.  Sums over a risk set are then differences of
cumulative sums (see :mod:`interlace.cox.partial`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


@dataclass(frozen=True, eq=False)
class RiskSets:
    """Index structure of the risk sets of one data set.

    Attributes
    ----------
    n_times : int
        Number of distinct event times, over all strata (``J``).
    lo, hi : ndarray of int, shape (n,)
        Row ``i`` is at risk at the event times ``lo[i] <= j < hi[i]``.
    event : ndarray of bool, shape (n,)
        Whether the row ends with an event.
    time_of_event : ndarray of int, shape (n_events,)
        The event-time index of each event row (rows in order ``np.flatnonzero(event)``).
    n_dead : ndarray of float, shape (J,)
        Number of events at each event time (``ndead`` in coxme's C code).
    wt_ave : ndarray of float, shape (J,)
        Mean case weight of the events at each event time.
    enter, leave : scipy.sparse.csr_matrix, shape (J + 1, n)
        One-hot rows ``lo`` and ``hi``: ``cumsum(enter @ v - leave @ v)`` is the risk-set
        sum of ``v`` at every event time.
    dies : scipy.sparse.csr_matrix, shape (J, n)
        One-hot rows of the event time of each event row (zero rows for censored rows).
    times : ndarray of float, shape (J,)
        The event times, stratum by stratum, increasing within a stratum.
    time_stratum : ndarray of int, shape (J,)
        The stratum of each event time.
    """

    n_times: int
    lo: IntArray
    hi: IntArray
    event: NDArray[np.bool_]
    time_of_event: IntArray
    n_dead: FloatArray
    wt_ave: FloatArray
    enter: sp.csr_matrix
    leave: sp.csr_matrix
    dies: sp.csr_matrix
    times: FloatArray
    time_stratum: IntArray

    def at_risk_sum(self, values: FloatArray | sp.csr_matrix) -> FloatArray:
        """Risk-set sums ``sum_{i at risk at j} values[i]`` for every event time ``j``.

        ``values`` has shape ``(n,)`` or ``(n, p)`` (dense or CSR); the result ``(J,)`` or
        ``(J, p)``, dense.
        """
        delta = self.enter @ values - self.leave @ values
        if not isinstance(delta, np.ndarray):
            delta = delta.toarray()
        return np.asarray(np.cumsum(delta, axis=0)[: self.n_times])

    def over_risk_times(self, per_time: FloatArray) -> FloatArray:
        """``sum_{j: lo[i] <= j < hi[i]} per_time[j]`` for every row ``i``.

        ``per_time`` has shape ``(J,)`` or ``(J, p)``; the result ``(n,)`` or ``(n, p)``.
        """
        prefix = np.cumsum(per_time, axis=0)
        prefix = np.concatenate((np.zeros((1, *prefix.shape[1:])), prefix))
        return np.asarray(prefix[self.hi] - prefix[self.lo])


def _one_hot(rows: IntArray, cols: IntArray, shape: tuple[int, int]) -> sp.csr_matrix:
    data = np.ones(rows.size)
    return sp.csr_matrix((data, (rows, cols)), shape=shape)


def risk_sets(
    start: FloatArray | None,
    stop: FloatArray,
    status: FloatArray,
    strata: IntArray | None = None,
    weights: FloatArray | None = None,
) -> RiskSets:
    """Build the risk sets of right-censored or counting-process data.

    Parameters
    ----------
    start
        Entry times (``Surv(start, stop, status)``), or ``None`` for ``Surv(time, status)``.
    stop
        Exit (event or censoring) times.
    status
        1 for an event, 0 for censoring.
    strata
        0-based stratum of each row, or ``None`` for one stratum.
    weights
        Case weights (default 1).
    """
    n = stop.size
    event = np.asarray(status) == 1
    strata = np.zeros(n, dtype=np.intp) if strata is None else np.asarray(strata, dtype=np.intp)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    lo = np.zeros(n, dtype=np.intp)
    hi = np.zeros(n, dtype=np.intp)
    death_index = np.full(n, -1, dtype=np.intp)
    offset = 0
    all_times: list[FloatArray] = []
    time_stratum: list[IntArray] = []
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        times = np.unique(stop[rows][event[rows]])
        all_times.append(times)
        time_stratum.append(np.full(times.size, s, dtype=np.intp))
        if start is not None:
            lo[rows] = offset + np.searchsorted(times, start[rows], side="right")
        else:
            lo[rows] = offset
        hi[rows] = offset + np.searchsorted(times, stop[rows], side="right")
        dead = rows[event[rows]]
        death_index[dead] = offset + np.searchsorted(times, stop[dead], side="left")
        offset += times.size
    n_times = offset
    dead_rows = np.flatnonzero(event)
    time_of_event = death_index[dead_rows]
    n_dead = np.bincount(time_of_event, minlength=n_times).astype(float)
    wt_sum = np.bincount(time_of_event, weights=w[dead_rows], minlength=n_times)
    wt_ave = np.divide(wt_sum, n_dead, out=np.zeros(n_times), where=n_dead > 0)
    every = np.arange(n, dtype=np.intp)
    return RiskSets(
        n_times=n_times,
        lo=lo,
        hi=hi,
        event=event,
        time_of_event=time_of_event,
        n_dead=n_dead,
        wt_ave=wt_ave,
        enter=_one_hot(lo, every, (n_times + 1, n)),
        leave=_one_hot(hi, every, (n_times + 1, n)),
        dies=_one_hot(time_of_event, dead_rows, (n_times, n)),
        times=np.concatenate(all_times).astype(np.float64),
        time_stratum=np.concatenate(time_stratum),
    )
