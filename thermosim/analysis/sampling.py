"""Waveforms → samples: keep the simulator points that lie on the noise grid, after burn-in."""

from __future__ import annotations

import numpy as np

GRID_CHUNK = 1 << 16  # points per chunk of the grid test
GRID_TOL = 1e-3  # |t/NT − k| below this counts as on the grid (ngspice's time drifts ~1e-5 NT per 1e6 steps)


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
    ramp_end = (1 - GRID_TOL) * step_s
    ramp = 0  # ngspice's start-up ramp (a few sub-steps inside the first noise step) is by design
    min_gap = None  # the smallest k[i+1] − k[i]: 0 when a grid point was written twice
    # in cache-sized chunks: a run's 1e7 points need no temporaries of their size (one pass, fast)
    for a in range(0, n, GRID_CHUNK):
        tb = t[a : a + GRID_CHUNK]
        r = tb / step_s
        kb = np.rint(r)
        np.subtract(r, kb, out=r)
        np.abs(r, out=r)
        np.less(r, GRID_TOL, out=on[a : a + len(tb)])
        k[a : a + len(tb)] = kb
        ramp += int(np.count_nonzero((tb > 0) & (tb < ramp_end)))
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
