"""Energy from waveforms: the power a supply delivers (pure numpy, SI units)."""

from __future__ import annotations

import numpy as np


def supply_power(t: np.ndarray, v: np.ndarray, i: np.ndarray, t_from_s: float = 0.0) -> float:
    """Mean power delivered by a source over t ≥ t_from_s: P = −(1/T)∫ v·i dt (W).

    ``i`` is the current into the source's + terminal (ngspice's convention), so a source delivering power
    has v·i < 0. The integral is the trapezoid rule on the simulator's own time points (exact for the
    piecewise-linear waveforms ngspice interpolates between them). Cost O(n).
    """
    t, v, i = (np.asarray(a, float) for a in (t, v, i))
    keep = t >= t_from_s
    if keep.sum() < 2:
        raise ValueError(f"supply_power: fewer than 2 time points after t = {t_from_s:g} s")
    t, p = t[keep], -(v * i)[keep]
    return float(np.trapezoid(p, t) / (t[-1] - t[0]))
