"""Waveforms → samples: keep the simulator points that lie on the noise grid, after burn-in."""

from __future__ import annotations

import hashlib

import numpy as np

GRID_CHUNK = 1 << 16  # points per chunk of the grid test
GRID_TOL = 1e-3  # |t/NT − k| below this (plus the drift below) counts as on the grid
# ngspice advances its time by adding each step to a float64 sum, whose rounding errors accumulate: after
# k steps t is off k·NT by up to ~k²·2⁻⁵³ NT (1e-3 NT at k = 7.2e6 for NT = 0.1 µs; numpy's cumsum of the
# steps reproduces it to the point). A point counts as on the grid within GRID_TOL + k²·2⁻⁵² NT (twice
# the bound, ~9× what is seen), at most MAX_DRIFT: a run of more than ~6e7 steps drifts further
MAX_DRIFT = 0.1


def grid_samples(
    t: np.ndarray, x: np.ndarray, step_s: float, burn_in_s: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """Samples at the noise-grid instants k·step_s ≥ burn_in_s.

    Returns (samples (n, d), step index k of each sample, alignment) where alignment is the fraction of
    simulator points after burn-in that sit on the grid (1.0 when ngspice never cut a step; the start-up
    ramp inside the first step does not count).
    Duplicate grid indices (a rejected-then-repeated point) keep the last value. Cost O(n·d).
    """
    t = np.asarray(t, float)
    x = np.asarray(x, float).reshape(len(t), -1)
    first = int(np.searchsorted(t, burn_in_s - 0.5 * step_s))
    if first >= len(t):
        raise ValueError(f"no simulator points after the burn-in of {burn_in_s:g} s (t_stop = {t[-1]:g} s)")
    t = t[first:]
    n = len(t)
    k = np.empty(n, np.int64)
    on = np.empty(n, bool)
    ramp = 0  # ngspice's start-up ramp (a few sub-steps inside the first noise step) is by design
    min_gap = None  # the smallest k[i+1] − k[i]: 0 when a grid point was written twice
    # in cache-sized chunks: a run's 1e7 points need no temporaries of their size (one pass, fast)
    for a in range(0, n, GRID_CHUNK):
        tb = t[a : a + GRID_CHUNK]
        k[a : a + len(tb)], on[a : a + len(tb)] = _on_grid(tb, step_s)
        ramp += _ramp_points(tb, step_s)
    n_on = int(np.count_nonzero(on))
    alignment = n_on / (n - ramp)
    if n_on == n:  # the usual case: every point is a grid point, take views
        k_on, x_on = k, x[first:]
    else:
        k_on, x_on = k[on], x[first:][on]
    for a in range(0, len(k_on) - 1, GRID_CHUNK):
        gap = int(np.min(np.diff(k_on[a : a + GRID_CHUNK + 1])))
        min_gap = gap if min_gap is None else min(min_gap, gap)
    if min_gap == 0:
        keep = np.r_[k_on[1:] != k_on[:-1], True]
        k_on, x_on = k_on[keep], x_on[keep]
    return x_on, k_on, alignment


def _ramp_points(t: np.ndarray, step_s: float) -> int:
    """How many of the times fall inside ngspice's start-up ramp (0 < t < one step): not counted by the
    alignment."""
    return int(np.count_nonzero((t > 0) & (t < (1 - GRID_TOL) * step_s)))


def _on_grid(t: np.ndarray, step_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(nearest grid index k, whether t is k·step within the tolerance and ngspice's drift) of each time."""
    r = t / step_s
    k = np.rint(r)
    np.subtract(r, k, out=r)
    np.abs(r, out=r)
    tol = k * k
    tol *= 2.0**-52
    np.minimum(tol, MAX_DRIFT, out=tol)
    tol += GRID_TOL
    return k, r < tol


class GridStream:
    """:func:`grid_samples` of a run as its simulator writes it, with the samples' sha256 and sorted
    columns: built block by block on the thread that reads the waveform while the simulator runs, so
    that a last merge is all that is left when it ends.

    It assumes what nearly every run shows: times never decrease, and every point from the burn-in on
    lies on the noise grid. :meth:`feed` checks that on each block; if it held for the whole run
    (``ok``), :meth:`result` is what ``grid_samples`` returns for the run's waveform, bit for bit, and
    :meth:`hexdigest` and :meth:`ordered` are its samples'. If not, the caller uses ``grid_samples``.
    """

    def __init__(self, variables: list[str], step_s: float, burn_in_s: float) -> None:
        self.variables = [v.lower() for v in variables]
        self.step_s, self.cut = step_s, burn_in_s - 0.5 * step_s  # grid_samples' first point: t ≥ cut
        self.ok, self.n = True, 0
        self._cols: list[int] | None = None
        self._last_t = -np.inf
        self._carry: tuple[np.ndarray, np.ndarray] | None = None  # the last point seen, held back
        self._ramp = 0  # points of ngspice's start-up ramp after the burn-in (grid_samples' alignment)
        self._x = np.empty((0, len(variables)))  # samples and grid indices, grown by a quarter
        self._k = np.empty(0, np.int64)
        self._sha = hashlib.sha256()
        # sorted runs (d, m) of the samples: each block's, merged into the first once they hold an eighth
        # of its size, so that the run's end leaves one merge of the first with at most an eighth of it
        self._runs: list[np.ndarray] = []

    def feed(self, names: tuple[str, ...], rows: np.ndarray) -> None:
        """One block of points (k, vectors) in file order, time first."""
        if not self.ok:
            return
        if self._cols is None:
            lower = [n.lower() for n in names]
            self._cols = [lower.index(v) for v in self.variables]
        t = rows[:, 0]
        if t[0] < self._last_t or np.any(t[1:] < t[:-1]):
            self.ok = False
            return
        self._last_t = t[-1]
        if self._carry is None:  # the burn-in has not ended before this block
            first = int(np.searchsorted(t, self.cut))
            rows, t = rows[first:], t[first:]
            if not len(t):
                return
        k, on = _on_grid(t, self.step_s)
        if not on.all() or not np.isfinite(rows).all():
            self.ok = False
            return
        self._ramp += _ramp_points(t, self.step_s)
        x = rows[:, self._cols]
        if self._carry is not None:  # the last point of the block before, held back
            x, k = np.concatenate([self._carry[0], x]), np.concatenate([self._carry[1], k])
        # a grid point written twice (ngspice's last point, at t_stop, can fall on the one before)
        # keeps its last value, as in grid_samples: every point waits for the next one's index
        keep = k[1:] != k[:-1]
        self._carry = (x[-1:], k[-1:])
        self._add(np.ascontiguousarray(x[:-1][keep]), k[:-1][keep])

    @property
    def empty(self) -> bool:
        """No point after the burn-in yet."""
        return self._carry is None

    def result(self) -> tuple[np.ndarray, np.ndarray, float]:
        """(samples (n, d), grid index of each, alignment), as :func:`grid_samples` gives them (not
        ``empty``)."""
        self._end()
        return self._x[: self.n], self._k[: self.n], self.n / (self.n - self._ramp)

    def hexdigest(self) -> str:
        """sha256 of the samples (float64, C order), as hashlib gives it for the whole array."""
        self._end()
        return self._sha.hexdigest()

    def ordered(self) -> np.ndarray:
        """The samples' columns, each sorted: (n, d), as ``np.sort(samples, axis=0)``."""
        self._end()
        self._merge()
        return self._runs[0].T if self._runs else np.empty((0, len(self.variables)))

    def _end(self) -> None:
        """Take in the point held back: the run has ended."""
        if self._carry is not None and len(self._carry[0]):
            self._add(np.ascontiguousarray(self._carry[0]), self._carry[1])
            self._carry = (self._carry[0][:0], self._carry[1][:0])

    def _add(self, x: np.ndarray, k: np.ndarray) -> None:
        """Samples (m, d) with their grid indices: hashed, stored and sorted."""
        if not len(x):
            return
        self._sha.update(x)
        n = self.n + len(x)
        if n > len(self._k):
            self._x = _grown(self._x, n, self.n)
            self._k = _grown(self._k, n, self.n)
        self._x[self.n : n], self._k[self.n : n] = x, k
        self.n = n
        self._runs.append(np.sort(x.T, axis=1))
        if 8 * sum(r.shape[1] for r in self._runs[1:]) >= self._runs[0].shape[1]:
            self._merge()

    def _merge(self) -> None:
        """The sorted runs merged into one: numpy's stable sort (timsort) finds the runs in their
        concatenation and merges them in linear time per run."""
        if len(self._runs) > 1:
            merged = np.concatenate(self._runs, axis=1)
            self._runs = [merged]
            merged.sort(axis=1, kind="stable")  # in place: no third copy of the samples


def _grown(a: np.ndarray, n: int, used: int) -> np.ndarray:
    """``a`` with room for at least n rows (a quarter more: ≤ 25 % unused), its first ``used`` rows kept."""
    out = np.empty((max(n, len(a) * 5 // 4, 1 << 16), *a.shape[1:]), a.dtype)
    out[:used] = a[:used]
    return out
