"""Waveforms → samples: keep the simulator points that lie on the noise grid, after burn-in."""

from __future__ import annotations

import numpy as np

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
    r = t[first:] / step_s
    k = np.rint(r)
    np.subtract(r, k, out=r)  # in place: this runs over every simulator point (1e7 for a long run)
    np.abs(r, out=r)
    on = r < GRID_TOL
    n_on = int(np.count_nonzero(on))
    # ngspice's start-up ramp (a few sub-steps inside the first noise step) is by design, not a cut step
    ramp = int(np.count_nonzero((t[first:] > 0) & (t[first:] < (1 - GRID_TOL) * step_s)))
    alignment = n_on / (len(on) - ramp)
    if n_on == len(on):  # the usual case: every point is a grid point, take views
        k_on, x_on = k.astype(np.int64), x[first:]
    else:
        k_on, x_on = k[on].astype(np.int64), x[first:][on]
    if len(k_on) > 1 and np.min(np.diff(k_on)) == 0:
        keep = np.r_[k_on[1:] != k_on[:-1], True]
        k_on, x_on = k_on[keep], x_on[keep]
    return x_on, k_on, alignment
