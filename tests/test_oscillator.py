"""Tests for thermosim.analysis.oscillator on synthetic ring waveforms with Brownian / Adler phases.

Waveforms are ``VDD/2 (1 + tanh(5 sin phi(t)))`` (square-ish, rising through VDD/2 at phi = 2 pi k).
Expected values come from closed-form theory; tolerances come from the sampling statistics of the
estimators (stated next to each assertion). All generators are seeded.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import i0, i1

from thermosim.analysis.oscillator import phase, phase_noise, ring_metrics, rising_crossings, wrap_phase

VDD = 1.8  # V
LEVEL, HYST = VDD / 2, 0.3 * VDD  # V
F = 50e6  # Hz
T = 1 / F  # 20 ns
DT = T / 40  # 0.5 ns: 40 samples per period
N_PERIODS = 20_000
N = int(N_PERIODS * T / DT)  # 800k samples, 400 us
L = N * DT  # record length (s)
D = 0.01 / T  # rad^2/s per ring: phase SD per period sqrt(2 D T) = 0.14 rad
KAPPA = 2.0  # von Mises concentration of the locked pair
D_PSI = 2 * D  # diffusion of the phase difference: dpsi = ... + sqrt(2 * 2D) dW
K = KAPPA * D_PSI  # Adler coupling (1/s): kappa = K / (2D); 1/K = 500 ns = 25 periods
DETUNE = 1e-3  # relative frequency offset of the free ring


def wave(phi: np.ndarray) -> np.ndarray:
    return VDD / 2 * (1 + np.tanh(5 * np.sin(phi)))


def brownian_phase(rng: np.random.Generator, n: int, f: float, d: float) -> np.ndarray:
    """phi(t) = phi0 + 2 pi f t + sqrt(2 d) W(t) on t = i DT (exact increments), phi0 uniform."""
    steps = np.sqrt(2 * d * DT) * rng.standard_normal(n - 1)
    walk = np.concatenate(([0.0], np.cumsum(steps)))
    return rng.uniform(0, 2 * np.pi) + 2 * np.pi * f * DT * np.arange(n) + walk


def adler_psi(rng: np.random.Generator, n: int, k: float, d_psi: float) -> np.ndarray:
    """Euler–Maruyama for dpsi = -k sin(psi) dt + sqrt(2 d_psi) dW, started from its stationary law.

    Stationary law: von Mises with kappa = k / d_psi. Step bias O(k DT) = 1e-3, negligible here. A scalar
    recursion (0.1 s for 8e5 steps): there is no vectorised form of a nonlinear SDE.
    """
    noise = (np.sqrt(2 * d_psi * DT) * rng.standard_normal(n)).tolist()
    psi = float(rng.vonmises(0.0, k / d_psi)) if k > 0 else float(rng.uniform(-np.pi, np.pi))
    a, sin = k * DT, math.sin
    out = [0.0] * n
    for i in range(n):
        out[i] = psi
        psi = psi - a * sin(psi) + noise[i]
    return np.array(out)


@pytest.fixture(scope="module")
def rings():
    """Ring 0 free; ring 1 = ring 0 + Adler-locked psi; ring 2 independent and detuned; ring 3 = ring 0 +
    free psi (Adler with K = 0)."""
    rng = np.random.default_rng(20240607)
    phi0 = brownian_phase(rng, N, F, D)
    phases = [
        phi0,
        phi0 + adler_psi(rng, N, K, D_PSI),
        brownian_phase(rng, N, F * (1 + DETUNE), D),
        phi0 + np.sqrt(2 * D_PSI * DT) * np.cumsum(rng.standard_normal(N)),
    ]
    v = np.column_stack([wave(p) for p in phases])
    return ring_metrics(v, DT, LEVEL, HYST)


# ---------------------------------------------------------------- crossings and phase


def test_crossings_noiseless_sine():
    f, dt = 1e6, 1e-6 / 37.3  # non-integer samples per period
    t = np.arange(200_000) * dt  # ~5361 periods
    c = rising_crossings(np.sin(2 * np.pi * f * t - np.pi / 2), dt, 0.0, 0.2)  # starts at -1: armed
    exact = (np.arange(c.size) + 0.25) / f
    assert c.size == int(t[-1] * f - 0.25) + 1
    # linear interpolation of a sine across its zero: error O(dt^3 f^2) ~ 1e-3 dt, far below dt
    assert np.max(np.abs(c - exact)) < 0.01 * dt
    # a start inside the band (v = 0 rising) is not armed: the crossing at t = 0 is not counted
    c0 = rising_crossings(np.sin(2 * np.pi * f * t), dt, 0.0, 0.2)
    assert c0[0] == pytest.approx(1 / f, abs=0.01 * dt)
    assert c0.size == c.size - 1 + (c0[-1] > c[-1])


def test_hysteresis_suppresses_noise_crossings():
    rng = np.random.default_rng(3)
    f, dt, sd = 1e3, 1e-6, 0.05  # 1000 samples per period, 50 periods, noise SD 50 mV on a 1 V sine
    t = np.arange(50_000) * dt
    v = np.sin(2 * np.pi * f * t - np.pi / 2) + sd * rng.standard_normal(t.size)
    assert rising_crossings(v, dt, 0.0, 0.0).size > 100  # no hysteresis: noise chatters at the level
    # band ±0.4 V vs max noise ~4.5 SD = 0.23 V over 5e4 samples: exactly one crossing per period
    c = rising_crossings(v, dt, 0.0, 0.8)
    assert c.size == 50
    # noise can fire the trigger early by at most ~4.5 SD / (2 pi f) = 0.036 periods
    assert np.max(np.abs(c - (np.arange(50) + 0.25) / f)) < 0.05 / f


def test_phase_interpolation():
    c = np.array([1.0, 2.0, 4.0])
    got = phase(c, np.array([0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 4.5]))
    np.testing.assert_allclose(got[1:6], 2 * np.pi * np.array([0.0, 0.5, 1.0, 1.5, 2.0]))
    assert np.isnan(got[0]) and np.isnan(got[6])
    with pytest.raises(ValueError, match=">= 2 crossing"):
        phase(np.array([1.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="strictly increasing"):
        phase(np.array([1.0, 1.0, 2.0]), np.array([1.0]))
    w = wrap_phase(np.array([np.pi, -np.pi, 3 * np.pi, 0.1 - 4 * np.pi]))
    np.testing.assert_allclose(w, [np.pi, np.pi, np.pi, 0.1], atol=1e-12)


# ---------------------------------------------------------------- frequency, jitter, phase noise


def test_frequency_and_period_jitter(rings):
    f_hat, f_se = rings["frequency_hz"], rings["frequency_se_hz"]
    assert abs(f_hat[0] - F) <= 3 * f_se[0], (f_hat[0], f_se[0])
    assert abs(f_hat[2] - F * (1 + DETUNE)) <= 3 * f_se[2], (f_hat[2], f_se[2])
    # Brownian phase: periods are i.i.d. first-passage times with SD sigma = sqrt(2 D T^3) / (2 pi)
    # (0.45 ns). SD estimate from ~2e4 periods: relative SE 1/sqrt(2n) = 0.5 % -> 3 %.
    sigma = math.sqrt(2 * D * T**3) / (2 * math.pi)
    assert rings["period_jitter_s"][0] == pytest.approx(sigma, rel=0.03)
    # frequency SE = sigma / sqrt(n) / T^2 for independent periods (tau_int ~ 1): within 15 % (tau noise)
    assert f_se[0] == pytest.approx(sigma / math.sqrt(rings["n_periods"][0]) / T**2, rel=0.15)
    assert abs(rings["n_periods"][0] - N_PERIODS) <= 3


def test_phase_noise_jitter_growth(rings):
    pn = phase_noise(rings["crossings"][0])
    sigma2 = 2 * D * T**3 / (2 * math.pi) ** 2
    # Var[t_{k+N} - t_k] = N sigma^2. The slope over N = 1..20 has relative SD 3.4 % (measured over 40
    # seeds; overlapping-window theory sqrt(4N / 3n) = 3.7 % at N = 20) -> 4 SD = 14 %.
    assert pn["jitter_growth_s2_per_period"] == pytest.approx(sigma2, rel=0.14)
    assert pn["phase_diffusion_rad2_per_s"] == pytest.approx(D, rel=0.14)
    np.testing.assert_array_equal(pn["lags_periods"], np.arange(1, 21))
    np.testing.assert_allclose(pn["accumulated_jitter_var_s2"], pn["lags_periods"] * sigma2, rtol=0.2)
    assert pn["mean_period_s"] == pytest.approx(T, rel=1e-3)
    with pytest.raises(ValueError, match=">= 9 crossings"):
        phase_noise(np.arange(5.0))


# ---------------------------------------------------------------- pairs: free, locked, uncoupled


def test_free_pair_diffusion_and_drift(rings):
    j = 1  # ring 2 vs ring 0: independent rings, D each
    # D_dphi = D + D. Relative SD of the slope estimate over lags 1..10 periods: 3.3 % (measured over 30
    # seeds; each lag tau alone has relative SE sqrt(4 tau / 3 L) = 0.8..2.6 %, the intercept fit widens
    # it) -> 4 SD = 13 %.
    assert rings["phase_diffusion_rad2_per_s"][j] == pytest.approx(2 * D, rel=0.13)
    # drift = frequency difference; SE of the end-to-end phase change: sqrt(2 * 2D * L) / (2 pi L)
    drift_se = math.sqrt(2 * 2 * D * L) / (2 * math.pi * L)
    assert abs(rings["phase_diff_drift_hz"][j] - DETUNE * F) <= 3 * drift_se
    # drifting pair: R ~ 1/sqrt(n_eff) (R^2 n_eff ~ Exp(1): P(R > 3/sqrt(n_eff)) = e^-9)
    assert rings["locking_r"][j] < 3 / math.sqrt(rings["phase_diff_n_eff"][j])


def test_locked_pair_von_mises(rings):
    j = 0  # ring 1 = ring 0 + psi, Adler-locked with kappa = K / (2D) = 2
    r, r_se = rings["locking_r"][j], rings["locking_r_se"][j]
    r_theory = i1(KAPPA) / i0(KAPPA)  # 0.698
    # n_eff ~ 300 -> r_se ~ 0.02. 4 SE: the Sokal tau (hence r_se) runs ~10 % low at this n_eff, and
    # the linear phase interpolation between crossings smooths psi, raising R by ~0.002 (0.1 SE).
    assert abs(r - r_theory) <= 4 * r_se, (r, r_theory, r_se)
    assert rings["phase_diff_circstd"][j] == pytest.approx(math.sqrt(-2 * math.log(r)))
    assert abs(rings["phase_diff_mean"][j]) <= 4 * rings["phase_diff_mean_se"][j]
    # Locked: no drift beyond phase slips. Long-time diffusion in the cosine potential (Lifson–Jackson):
    # D_eff = D_psi / I0(kappa)^2, so the drift SE is sqrt(2 D_eff L) / (2 pi L) (~5 kHz) -> 3 SE.
    drift_se = math.sqrt(2 * D_PSI / i0(KAPPA) ** 2 * L) / (2 * math.pi * L)
    assert abs(rings["phase_diff_drift_hz"][j]) <= 3 * drift_se
    # histogram samples: one column per pair, wrapped to (-pi, pi], on the common grid
    psi = rings["phase_diff"]
    assert psi.shape == (rings["phase_diff_t"].size, 3)
    assert np.all((psi > -np.pi) & (psi <= np.pi))
    assert rings["phase_diff_t"].size > 0.99 * N


def test_uncoupled_pair_k0(rings):
    j = 2  # ring 3 = ring 0 + free psi (K = 0, diffusion 2D)
    # n_eff ~ D_psi L / 2 = 200 (acf of exp(i psi) is exp(-D_psi tau)); R^2 n_eff ~ Exp(1)
    assert rings["phase_diff_n_eff"][j] == pytest.approx(D_PSI * L / 2, rel=0.5)
    assert rings["locking_r"][j] < 3 / math.sqrt(rings["phase_diff_n_eff"][j])
    assert rings["phase_diffusion_rad2_per_s"][j] == pytest.approx(D_PSI, rel=0.13)  # as for the free pair


# ---------------------------------------------------------------- errors


def test_flat_ring_raises_naming_ring():
    t = np.arange(4000) * DT
    v = np.column_stack([wave(2 * np.pi * F * t), np.full(t.size, 0.3)])
    msg = r"ring 1 did not oscillate: 0 rising crossings of 0\.9 V after burn-in"
    with pytest.raises(ValueError, match=msg):
        ring_metrics(v, DT, LEVEL, HYST)
    with pytest.raises(ValueError, match="ring 0 did not oscillate: 2 rising crossings"):
        ring_metrics(v[:, 0], DT, LEVEL, HYST, burn_in_s=t[-1] - 2.5 * T)
    one = ring_metrics(v[:, 0], DT, LEVEL, HYST, burn_in_s=10 * T)  # single ring: no pairs
    assert one["frequency_hz"] == pytest.approx([F], rel=1e-6) and one["phase_diff"].shape[1] == 0
    assert one["crossings"][0][0] >= 10 * T


def test_rising_crossings_errors():
    with pytest.raises(ValueError, match="hysteresis"):
        rising_crossings(np.zeros(10), 1.0, 0.0, -0.1)
    with pytest.raises(ValueError, match="NaN"):
        rising_crossings(np.array([0.0, np.nan, 1.0]), 1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="1-D"):
        rising_crossings(np.zeros((10, 2)), 1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="dt must be > 0"):
        rising_crossings(np.zeros(10), 0.0, 0.0, 0.1)
