"""Probabilistic bit (p-bit): a noisy bistable latch read out as a random telegraph signal.

Input is a uniformly sampled differential voltage ``x = v(a) - v(b)`` (volts) of a cross-coupled
inverter pair, swinging between about -VDD and +VDD with noise-driven switching, and the sample step
``dt`` (seconds). Pure numpy/scipy; no SPICE objects.

Reference model (two-state Markov / telegraph process with rates ``k01`` (0→1) and ``k10`` (1→0), 1/s):
``p1 = k01 / (k01 + k10)``, correlation time ``tau_c = 1 / (k01 + k10)``, autocorrelation of the 0/1
series ``rho(lag) = exp(-lag * dt / tau_c)``, so the integrated autocorrelation time in samples is
``tau_int = (1 + exp(-dt/tau_c)) / (1 - exp(-dt/tau_c)) ≈ 2 tau_c / dt``; mean dwell times ``1/k01`` in
state 0 and ``1/k10`` in state 1; mean switching rate ``2 k01 k10 / (k01 + k10)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .stats import integrated_autocorr_time

__all__ = ["binarize", "fit_sigmoid", "pbit_stats"]

MAX_WIDTH_PER_SPAN = 10.0  # fit_sigmoid: a fitted |width| above this many bias spans means "no sigmoid"


def binarize(x: np.ndarray, low: float, high: float, initial: int | None = None) -> np.ndarray:
    """Schmitt-trigger (hysteretic) 0/1 state of a sampled signal.

    ``state[i] = 1`` if ``x[i] >= high``, ``0`` if ``x[i] <= low``, otherwise ``state[i-1]`` (hysteresis:
    noise between the thresholds never toggles the state). Before the first sample outside the band the
    state is ``initial``, or, if it is None, ``int(x[0] >= (low + high) / 2)``. NaN samples count as inside
    the band. Units of ``x``, ``low``, ``high`` must agree (volts).

    Vectorised: the index of the last decisive sample is carried forward with ``np.maximum.accumulate``.
    Cost: O(n) time, O(n) memory (one int64 index array). Returns ``int8`` array of shape ``(n,)``.

    Raises ValueError unless ``low < high`` (finite), ``x`` is 1-D, and ``initial`` is None, 0 or 1.
    """
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"binarize: need finite thresholds with low < high, got low={low}, high={high}")
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"binarize: x must be 1-D, got shape {x.shape}")
    if initial is not None and initial not in (0, 1):
        raise ValueError(f"binarize: initial must be None, 0 or 1, got {initial!r}")
    if x.size == 0:
        return np.zeros(0, dtype=np.int8)
    if initial is None:
        initial = int(x[0] >= 0.5 * (low + high))
    up = x >= high
    decisive = up | (x <= low)
    last = np.where(decisive, np.arange(x.size), -1)
    np.maximum.accumulate(last, out=last)
    state = np.where(last >= 0, up[np.maximum(last, 0)], bool(initial))
    return state.astype(np.int8)


def _runs(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run-length encoding: (value of each run, length of each run in samples). Cost: O(n)."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(state)) + 1))
    lengths = np.diff(np.concatenate((starts, [state.size])))
    return state[starts], lengths


def pbit_stats(state: np.ndarray, dt: float, c: float = 5.0, thin: int = 1) -> dict:
    """Occupancy, error bar, correlation time and dwell times of a 0/1 telegraph series.

    Keys (SI units):

    - ``p1``: fraction of samples in state 1 (estimates ``k01/(k01+k10)``).
    - ``p1_se``: ``sqrt(p1 (1 - p1) tau_int / n)``, the standard error of ``p1`` for correlated samples.
    - ``tau_int_s``: ``tau_int * dt`` with ``tau_int`` the integrated autocorrelation time (samples) of the
      0/1 series (Sokal window ``c``; see :func:`~thermosim.analysis.stats.integrated_autocorr_time`).
      Telegraph theory: ``tau_int = (1 + e^{-dt/tau_c}) / (1 - e^{-dt/tau_c}) ≈ 2 tau_c / dt`` samples with
      ``tau_c = 1/(k01 + k10)``, i.e. ``tau_int_s ≈ 2 tau_c``.
    - ``n_eff``: ``n / tau_int``, the effective number of independent samples.
    - ``switches``: number of 0↔1 transitions; ``switch_rate_hz = switches / (n dt)`` (theory
      ``2 k01 k10 / (k01 + k10)``).
    - ``mean_dwell_s``: ``{"0": ..., "1": ...}`` mean duration (run length × dt) of a visit to each state,
      over complete visits only (the first and last runs are censored and dropped); NaN if none.
      Theory ``1/k01`` and ``1/k10``.
    - ``mean_dwell_se_s``: ``{"0", "1"}`` standard error ``std(dwell) / sqrt(count)`` (visits to one state
      are independent for a Markov process); NaN with fewer than 2 visits.
    - ``dwell_count``: ``{"0", "1"}`` number of complete visits.
    - ``n_samples``: n.

    If the series never switches, ``p1_se``, ``tau_int_s`` and ``n_eff`` are NaN (no fluctuation to
    estimate an error from) and ``switches`` is 0. ``thin`` is passed to the autocorrelation-time
    estimate (cheaper for long, oversampled series). Cost: O(n log n) for ``tau_int`` plus O(n).

    Raises ValueError for a non-1-D series, fewer than 2 samples, values other than 0/1, or ``dt <= 0``.
    """
    s = np.asarray(state)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"pbit_stats: need a 1-D 0/1 series with >= 2 samples, got shape {s.shape}")
    if not np.all((s == 0) | (s == 1)):
        raise ValueError("pbit_stats: state must contain only 0 and 1 (use binarize() on the voltage first)")
    if not dt > 0:
        raise ValueError(f"pbit_stats: dt must be > 0, got {dt!r}")
    s = s.astype(np.int8)
    n = s.size
    p1 = float(s.mean())
    values, lengths = _runs(s)
    switches = int(values.size - 1)
    if switches == 0:
        tau = se = tau_s = n_eff = math.nan
    else:
        tau = integrated_autocorr_time(s, c=c, thin=thin)
        se = math.sqrt(p1 * (1.0 - p1) * tau / n)
        tau_s = tau * dt
        n_eff = n / tau
    inner_vals, inner_len = values[1:-1], lengths[1:-1] * dt
    dwell, dwell_se, count = {}, {}, {}
    for v in (0, 1):
        d = inner_len[inner_vals == v]
        count[str(v)] = int(d.size)
        dwell[str(v)] = float(d.mean()) if d.size else math.nan
        dwell_se[str(v)] = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size >= 2 else math.nan
    return {
        "p1": p1,
        "p1_se": se,
        "tau_int_s": tau_s,
        "n_eff": n_eff,
        "switches": switches,
        "switch_rate_hz": switches / (n * dt),
        "mean_dwell_s": dwell,
        "mean_dwell_se_s": dwell_se,
        "dwell_count": count,
        "n_samples": n,
    }


def _logistic(b: np.ndarray, b0: float, w: float) -> np.ndarray:
    from scipy.special import expit

    return expit((b - b0) / w)


def _sigmoid_start(b: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Starting values: centre by linear interpolation at p = 0.5, width from the slope there.

    For the logistic, ``dp/db = 1/(4w)`` at the centre. If the data never cross 0.5 the centre is the bias
    of the point closest to 0.5 and the slope is the end-to-end slope. ``b`` must be sorted.
    """
    q = p - 0.5
    cross = np.flatnonzero((q[:-1] * q[1:] <= 0) & (p[:-1] != p[1:]))
    if cross.size:
        i = int(cross[0])
        b0 = float(b[i] + (b[i + 1] - b[i]) * (0.5 - p[i]) / (p[i + 1] - p[i]))
        lo, hi = max(i - 1, 0), min(i + 2, b.size - 1)  # slope over the neighbouring points
        slope = (p[hi] - p[lo]) / (b[hi] - b[lo])
    else:
        b0 = float(b[int(np.argmin(np.abs(q)))])
        slope = (p[-1] - p[0]) / (b[-1] - b[0])
    if slope == 0:  # no local slope (e.g. a plateau at 0.5): a width of a quarter of the bias span
        return b0, float(b[-1] - b[0]) / 4.0
    return b0, float(1.0 / (4.0 * slope))


def fit_sigmoid(bias: np.ndarray, p1: np.ndarray, p1_se: np.ndarray) -> dict:
    """Weighted least-squares fit of ``p(b) = 1 / (1 + exp(-(b - b0) / w))`` to a p-bit transfer curve.

    ``bias`` (volts or amps: ``center`` and ``width`` come out in the same unit), ``p1`` the measured
    probabilities of state 1 and ``p1_se`` their standard errors, used as absolute ``sigma`` in
    ``scipy.optimize.curve_fit`` (``absolute_sigma=True``: parameter SEs come from the stated error bars,
    not rescaled by the fit quality). A decreasing curve gives a negative ``width``.

    Returns ``center`` (b0), ``center_se``, ``width`` (w), ``width_se``, ``chi2 = sum(((p - fit)/se)^2)``
    and ``dof = n - 2``; if the model holds and the SEs are right, ``chi2 ~ chi-square(dof)``.
    Cost: O(n) per iteration of Levenberg–Marquardt (n points, a few dozen iterations).

    Starting values: ``b0`` by linear interpolation where the data cross p = 0.5, ``w = 1/(4 slope)`` from
    the local slope there (the logistic has ``dp/db = 1/(4w)`` at its centre).

    Raises ValueError for fewer than 3 points, mismatched shapes, non-finite data, a zero/negative/NaN
    standard error (a point with p1 = 0 or 1 has zero binomial SE: give it a floor), a flat dataset, or a
    fit that fails: no convergence, undetermined (infinite) parameter SEs, or a fit that degenerates to a
    flat line (``|w| > MAX_WIDTH_PER_SPAN`` × bias span, typical of V- or bump-shaped data). Data that are
    non-monotone but still admit a finite sigmoid (e.g. a zig-zag trending upwards) are fitted; their large
    ``chi2`` says the model does not hold.
    """
    from scipy.optimize import OptimizeWarning, curve_fit

    b, p, se = (np.asarray(v, dtype=float).ravel() for v in (bias, p1, p1_se))
    if not b.size == p.size == se.size:
        raise ValueError(f"fit_sigmoid: bias, p1, p1_se sizes differ: {b.size}, {p.size}, {se.size}")
    if b.size < 3:
        raise ValueError(f"fit_sigmoid: need at least 3 points to fit 2 parameters, got {b.size}")
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(p))):
        raise ValueError("fit_sigmoid: bias and p1 must be finite")
    if not np.all(se > 0):  # False for NaN too
        bad = int(np.argmax(~(se > 0)))
        raise ValueError(
            f"fit_sigmoid: p1_se must be finite and > 0; point {bad} has se={float(se[bad])!r} "
            "(a point with p1 = 0 or 1 has zero binomial SE: give it a floor)"
        )
    order = np.argsort(b, kind="stable")
    b, p, se = b[order], p[order], se[order]
    if np.ptp(b) == 0 or np.ptp(p) == 0:
        raise ValueError("fit_sigmoid: flat dataset (all bias or all p1 values equal); no sigmoid to fit")
    b0, w = _sigmoid_start(b, p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            popt, pcov = curve_fit(_logistic, b, p, p0=(b0, w), sigma=se, absolute_sigma=True, maxfev=2000)
    except (RuntimeError, OptimizeWarning, FloatingPointError) as exc:
        raise ValueError(f"fit_sigmoid: logistic fit failed (non-monotone or flat data?): {exc}") from exc
    perr = np.sqrt(np.diag(pcov))
    if not (np.all(np.isfinite(popt)) and np.all(np.isfinite(perr))):
        raise ValueError(
            "fit_sigmoid: logistic fit has undetermined parameters (non-monotone or flat data?): "
            f"center={popt[0]!r}±{perr[0]!r}, width={popt[1]!r}±{perr[1]!r}"
        )
    span = float(b[-1] - b[0])
    if abs(popt[1]) > MAX_WIDTH_PER_SPAN * span:
        # p changes by < span/(4|w|) < 2.5 % across the data: the fit has degenerated to a flat line
        raise ValueError(
            f"fit_sigmoid: logistic fit degenerated to a flat line (|width| = {abs(popt[1]):.3g} > "
            f"{MAX_WIDTH_PER_SPAN:g} x bias span {span:.3g}); data are flat or non-monotone"
        )
    resid = (p - _logistic(b, *popt)) / se
    return {
        "center": float(popt[0]),
        "center_se": float(perr[0]),
        "width": float(popt[1]),
        "width_se": float(perr[1]),
        "chi2": float(resid @ resid),
        "dof": int(b.size - 2),
    }
