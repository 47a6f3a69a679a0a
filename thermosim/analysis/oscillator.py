"""Coupled noisy ring oscillators: crossing times, phases, frequency, jitter, locking and phase diffusion.

Input: uniformly sampled voltages of one observed node per ring, shape ``(n, m)`` (or ``(n,)`` for one
ring), sample step ``dt`` (s), the crossing ``level`` (V, e.g. VDD/2) and a ``hysteresis`` band (V).
Times are seconds from the first sample (sample ``i`` is at ``t = i dt``); phases are radians. Pure
numpy/scipy; no SPICE objects.

Phase model: ring ``j`` has phase ``phi_j(t)`` with ``phi_j = 2 pi k`` at its k-th rising crossing and
linear interpolation in between. A free-running oscillator with white noise has Brownian phase
``phi(t) = 2 pi f t + sqrt(2 D) W(t)`` (``D`` in rad²/s): periods are i.i.d. with variance
``sigma^2 = 2 D T^3 / (2 pi)^2`` and the timing error accumulates as ``Var[t_{k+N} - t_k] = N sigma^2``.
"""

from __future__ import annotations

import math

import numpy as np

from .stats import integrated_autocorr_time, mean_with_se

__all__ = ["phase", "phase_noise", "ring_metrics", "rising_crossings", "wrap_phase"]

TWO_PI = 2.0 * math.pi


def wrap_phase(x: np.ndarray) -> np.ndarray:
    """Wrap angles (rad) to ``(-pi, pi]``: ``pi - ((pi - x) mod 2 pi)``. Cost: O(n)."""
    return math.pi - np.mod(math.pi - np.asarray(x, dtype=float), TWO_PI)


def rising_crossings(v: np.ndarray, dt: float, level: float, hysteresis: float) -> np.ndarray:
    """Times (s) of rising crossings of ``level`` by a uniformly sampled signal, with hysteresis.

    A crossing is counted when the signal reaches ``v >= level`` after having been strictly below
    ``level - hysteresis/2`` since the previous counted crossing (a Schmitt trigger armed below the band),
    so noise near the level does not add crossings. The signal must be seen below the band before the
    first crossing is counted. The time is interpolated linearly between the bracketing samples:
    ``t = (i - 1 + (level - v[i-1]) / (v[i] - v[i-1])) dt`` where ``v[i-1] < level <= v[i]``; for a smooth
    signal the error is O(dt² · curvature) (far below dt).

    Vectorised (latched index via ``np.maximum.accumulate``). Cost: O(n) time and memory.
    Raises ValueError for non-1-D or non-finite ``v``, ``dt <= 0`` or a negative/non-finite hysteresis.
    """
    x = np.asarray(v, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"rising_crossings: v must be 1-D (one ring), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("rising_crossings: v contains NaN or inf")
    if not dt > 0:
        raise ValueError(f"rising_crossings: dt must be > 0, got {dt!r}")
    if not (math.isfinite(hysteresis) and hysteresis >= 0):
        raise ValueError(f"rising_crossings: hysteresis must be finite and >= 0, got {hysteresis!r}")
    if x.size < 2:
        return np.zeros(0)
    high = x >= level
    decisive = high | (x < level - 0.5 * hysteresis)
    last = np.where(decisive, np.arange(x.size), -1)
    np.maximum.accumulate(last, out=last)
    disarmed = np.where(last >= 0, high[np.maximum(last, 0)], True)  # unknown start: not armed
    i = np.flatnonzero(~disarmed[:-1] & disarmed[1:]) + 1  # armed at i-1, so v[i-1] < level <= v[i]
    frac = (level - x[i - 1]) / (x[i] - x[i - 1])
    return (i - 1 + frac) * dt


def phase(crossings: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Unwrapped phase (rad) at times ``t`` (s) from rising-crossing times.

    ``phi(t) = 2 pi (k + (t - c_k) / (c_{k+1} - c_k))`` for ``c_k <= t <= c_{k+1}`` (phase 0 at the first
    crossing); NaN before the first and after the last crossing. Cost: O(len(t) log len(crossings)).
    Raises ValueError for fewer than 2 crossings or crossings that are not strictly increasing.
    """
    c = np.asarray(crossings, dtype=float)
    if c.ndim != 1 or c.size < 2:
        raise ValueError(f"phase: need >= 2 crossing times, got shape {c.shape}")
    if not np.all(np.diff(c) > 0):
        raise ValueError("phase: crossing times must be strictly increasing")
    return np.interp(t, c, TWO_PI * np.arange(c.size), left=np.nan, right=np.nan)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    """Ordinary least-squares slope of y on x (with intercept)."""
    xc = x - x.mean()
    return float(xc @ (y - y.mean()) / (xc @ xc))


def phase_noise(crossings: np.ndarray, max_lag: int = 20) -> dict:
    """Period jitter and accumulated jitter of one free-running oscillator from its crossing times (s).

    Periods ``T_k = c_{k+1} - c_k``; ``mean_period_s`` ``T``; ``period_jitter_s`` = std(T_k) (ddof=1).
    Accumulated jitter ``x_N(k) = c_{k+N} - c_k - N T`` for ``N = 1..N_max`` (overlapping windows,
    ``N_max = min(max_lag, n_periods // 4)``): ``accumulated_jitter_var_s2[N-1] = Var_k[x_N(k)]``. With
    white (independent-period) noise ``Var[x_N] = N sigma^2``; ``jitter_growth_s2_per_period`` is the
    least-squares slope (with intercept, which absorbs white crossing-detection error) of that variance vs
    N. ``phase_diffusion_rad2_per_s`` converts it: ``D = 2 pi^2 slope / T^3`` (since
    ``Var[phi inc over N periods] = (2 pi / T)^2 N sigma^2 = 2 D N T``). Also returns ``lags_periods``
    (N values) and ``n_periods``. Cost: O(N_max · n).

    Raises ValueError with fewer than 8 periods (9 crossings) or non-increasing crossings.
    """
    c = np.asarray(crossings, dtype=float)
    if c.ndim != 1 or c.size < 9:
        raise ValueError(f"phase_noise: need >= 9 crossings (8 periods), got {c.size}")
    periods = np.diff(c)
    if not np.all(periods > 0):
        raise ValueError("phase_noise: crossing times must be strictly increasing")
    n_per = periods.size
    t_mean = float(periods.mean())
    n_max = max(2, min(int(max_lag), n_per // 4))
    lags = np.arange(1, n_max + 1)
    var = np.array([np.var(c[n:] - c[:-n], ddof=1) for n in lags])
    slope = _slope(lags.astype(float), var)
    return {
        "mean_period_s": t_mean,
        "period_jitter_s": float(periods.std(ddof=1)),
        "n_periods": int(n_per),
        "lags_periods": lags,
        "accumulated_jitter_var_s2": var,
        "jitter_growth_s2_per_period": slope,
        "phase_diffusion_rad2_per_s": 2.0 * math.pi**2 * slope / t_mean**3,
    }


def _pair_metrics(dphi: np.ndarray, dt: float, period: float, max_lag_periods: int) -> dict:
    """Locking and diffusion statistics of one unwrapped phase-difference series on a uniform grid."""
    from scipy.stats import circmean, circstd

    n = dphi.size
    w = wrap_phase(dphi)
    mu = float(wrap_phase(circmean(w, high=math.pi, low=-math.pi)))
    dev = w - mu
    cos_d, sin_d = np.cos(dev), np.sin(dev)
    r = float(math.hypot(np.mean(np.cos(w)), np.mean(np.sin(w))))
    thin = max(1, int(period / dt) // 4)  # the phase difference is smooth within a period
    tau_c = integrated_autocorr_time(cos_d, thin=thin)
    tau_s = integrated_autocorr_time(sin_d, thin=thin)
    duration = (n - 1) * dt
    # Var[dphi(t + tau) - dphi(t)] = 2 D tau at lags of whole periods (sub-period lags see the linear
    # interpolation between crossings); the intercept absorbs the interpolation error.
    lag_samples = np.unique(np.rint(np.arange(1, max_lag_periods + 1) * period / dt).astype(int))
    lag_samples = lag_samples[(lag_samples >= 1) & (lag_samples <= n // 10)]
    if lag_samples.size >= 2:
        var = np.array([np.var(dphi[k:] - dphi[:-k]) for k in lag_samples])
        diffusion = 0.5 * _slope(lag_samples * dt, var)
    else:
        diffusion = math.nan
    return {
        "phase_diff_mean": mu,
        "phase_diff_mean_se": math.sqrt(np.var(sin_d) * tau_s / n) / r if r > 0 else math.nan,
        "locking_r": r,
        "locking_r_se": math.sqrt(np.var(cos_d) * tau_c / n),
        "phase_diff_circstd": float(circstd(w, high=math.pi, low=-math.pi)),
        "phase_diff_drift_hz": float((dphi[-1] - dphi[0]) / duration / TWO_PI) if duration > 0 else math.nan,
        "phase_diffusion_rad2_per_s": diffusion,
        "phase_diff_n_eff": n / max(tau_c, tau_s),
        "phase_diff": w,
    }


def ring_metrics(
    v: np.ndarray,
    dt: float,
    level: float,
    hysteresis: float,
    burn_in_s: float = 0.0,
    max_lag_periods: int = 10,
) -> dict:
    """Frequency, jitter, and pairwise locking / phase diffusion of m sampled ring oscillators.

    ``v``: shape ``(n, m)`` (or ``(n,)``), one observed node per ring (V); ``dt`` (s); rising crossings of
    ``level`` with ``hysteresis`` (see :func:`rising_crossings`); crossings before ``burn_in_s`` are dropped.

    Per ring (arrays of shape ``(m,)``): ``frequency_hz = 1 / mean(period)``; ``frequency_se_hz =
    se(mean period) / mean(period)^2`` with the period SE from :func:`~thermosim.analysis.stats.mean_with_se`
    (accounts for correlated periods, e.g. anti-correlated ones in a locked ring); ``period_jitter_s``
    = std(period); ``n_periods``. Also ``crossings``: list of the m crossing-time arrays (s) used.

    Per pair (ring k vs ring 0, k = 1..m-1; arrays of shape ``(m-1,)``), on the common grid
    ``t_i = i dt`` inside every ring's first..last crossing (``phase_diff_t``, shape ``(n_grid,)``), with
    ``dphi = phi_k - phi_0`` (unwrapped) and ``psi`` its wrap to ``(-pi, pi]``:

    - ``phase_diff``: psi, shape ``(n_grid, m-1)`` (for histograms).
    - ``phase_diff_mean``: circular mean of psi (``scipy.stats.circmean``), in ``(-pi, pi]``;
      ``phase_diff_mean_se`` ≈ ``sqrt(var(sin(psi - mean)) tau / n) / R``.
    - ``locking_r``: mean resultant length ``R = |<exp(i psi)>|`` (1 = locked, ~0 = drifting); for a noisy
      Adler pair (``dpsi = -K sin psi dt + sqrt(2 D_psi) dW``) psi is von Mises with ``kappa = K / D_psi``
      and ``R = I1(kappa) / I0(kappa)``. ``locking_r_se`` = ``sqrt(var(cos(psi - mean)) tau / n)`` (delta
      method; valid when R ≫ 1/sqrt(n_eff)). Unlocked pairs give ``R ~ 1/sqrt(phase_diff_n_eff)``.
    - ``phase_diff_circstd``: ``sqrt(-2 ln R)`` (``scipy.stats.circstd``).
    - ``phase_diff_n_eff``: ``n_grid / max(tau_int(cos(psi - mean)), tau_int(sin(psi - mean)))``.
    - ``phase_diff_drift_hz``: ``(dphi(end) - dphi(start)) / duration / 2 pi`` — ≈ 0 for a locked pair,
      the frequency difference ``f_k - f_0`` for a drifting one.
    - ``phase_diffusion_rad2_per_s``: ``D_dphi = slope / 2`` where ``slope`` is the least-squares slope
      (with intercept) of ``Var[dphi(t + tau) - dphi(t)]`` vs ``tau`` at ``tau`` = 1..``max_lag_periods``
      mean periods of ring 0 (lags up to n_grid/10). Sub-period lags are not used: between crossings the
      phase is interpolated linearly. For two free rings with phase diffusion ``D`` each (the Brownian model
      above), ``D_dphi = 2 D``; for a locked pair it is the short-time (τ ≪ 1/K) diffusion of psi.

    Cost: O(m n) for crossings and phases plus O(n log n) per pair for the autocorrelation times.
    Raises ValueError (naming the ring) if a ring has fewer than 3 rising crossings after burn-in, or if
    the rings' crossing ranges do not overlap.
    """
    x = np.asarray(v, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"ring_metrics: v must have shape (n,) or (n, m) with n >= 2, got {np.shape(v)}")
    n, m = x.shape
    crossings, freq, freq_se, jitter, n_periods = [], [], [], [], []
    for j in range(m):
        c = rising_crossings(x[:, j], dt, level, hysteresis)
        c = c[c >= burn_in_s]
        if c.size < 3:
            raise ValueError(
                f"ring {j} did not oscillate: {c.size} rising crossings of {level:g} V after burn-in "
                f"({burn_in_s:g} s; hysteresis {hysteresis:g} V)"
            )
        periods = np.diff(c)
        t_mean, t_se = mean_with_se(periods)
        crossings.append(c)
        freq.append(1.0 / t_mean)
        freq_se.append(t_se / t_mean**2)
        jitter.append(float(periods.std(ddof=1)))
        n_periods.append(periods.size)
    t_lo = max(c[0] for c in crossings)
    t_hi = min(c[-1] for c in crossings)
    i_lo, i_hi = math.ceil(t_lo / dt), math.floor(t_hi / dt)
    i_lo += i_lo * dt < t_lo  # guard against rounding in t/dt: every grid time inside every range
    i_hi -= i_hi * dt > t_hi
    i_grid = np.arange(i_lo, i_hi + 1)
    if i_grid.size < 2:
        raise ValueError(
            f"ring_metrics: the rings' crossing ranges do not overlap (common window {t_lo:g}..{t_hi:g} s)"
        )
    t_grid = i_grid * dt
    phi0 = phase(crossings[0], t_grid)
    period0 = 1.0 / freq[0]
    pairs = [
        _pair_metrics(phase(crossings[k], t_grid) - phi0, dt, period0, max_lag_periods) for k in range(1, m)
    ]
    out = {
        "frequency_hz": np.array(freq),
        "frequency_se_hz": np.array(freq_se),
        "period_jitter_s": np.array(jitter),
        "n_periods": np.array(n_periods),
        "crossings": crossings,
        "phase_diff_t": t_grid,
    }
    for key in (
        "phase_diff_mean",
        "phase_diff_mean_se",
        "locking_r",
        "locking_r_se",
        "phase_diff_circstd",
        "phase_diff_drift_hz",
        "phase_diffusion_rad2_per_s",
        "phase_diff_n_eff",
    ):
        out[key] = np.array([p[key] for p in pairs], dtype=float)
    out["phase_diff"] = (
        np.column_stack([p["phase_diff"] for p in pairs]) if pairs else np.zeros((t_grid.size, 0))
    )
    return out
