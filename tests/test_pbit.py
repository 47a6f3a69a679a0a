"""Tests for thermosim.analysis.pbit against an exact two-state Markov chain and synthetic logistic data.

Expected values come from closed-form theory; tolerances come from the sampling statistics of the
estimators (stated next to each assertion). All generators are seeded.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import chi2 as chi2_dist

from thermosim.analysis.pbit import binarize, fit_sigmoid, pbit_stats

DT = 1e-9  # s
K01, K10 = 2e6, 3e6  # 1/s: p1 = 0.4, tau_c = 200 ns = 200 samples
N = 4_000_000  # samples (4 ms): ~9600 switches, ~10^4 effective samples


def markov_chain(rng: np.random.Generator, n: int, k01: float, k10: float, dt: float) -> np.ndarray:
    """Exact stationary discrete-time two-state chain with transition matrix expm(Q dt).

    Per-step switching probabilities ``p01 = k01/k (1 - lam)``, ``p10 = k10/k (1 - lam)`` with
    ``k = k01 + k10`` and ``lam = exp(-k dt)``; then ``rho(lag) = lam**lag`` exactly and the stationary
    law is ``p1 = k01/k``. Visits are geometric (memoryless), so drawing the first state from the
    stationary law and every run length (the first included) from its geometric law is exact.
    Vectorised: alternate run lengths, then ``np.repeat``.
    """
    k = k01 + k10
    lam = math.exp(-k * dt)
    p01, p10 = k01 / k * (1 - lam), k10 / k * (1 - lam)
    first = int(rng.random() < k01 / k)
    m = int(1.2 * n / (1 / p01 + 1 / p10)) + 50  # cycles: 20 % more than needed on average
    lens = np.empty(2 * m, dtype=np.int64)
    p_first, p_second = (p10, p01) if first else (p01, p10)
    lens[0::2] = rng.geometric(p_first, m)
    lens[1::2] = rng.geometric(p_second, m)
    assert lens.sum() >= n
    states = (np.arange(2 * m) + first) % 2
    return np.repeat(states, lens)[:n].astype(np.int8)


@pytest.fixture(scope="module")
def chain():
    rng = np.random.default_rng(20240601)
    s = markov_chain(rng, N, K01, K10, DT)
    x = (2.0 * s - 1.0) + 0.05 * rng.standard_normal(N)  # ±1 V plus 50 mV Gaussian noise
    return s, x


# ---------------------------------------------------------------- binarize


def test_binarize_exact_small():
    x = np.array([0.0, 0.6, 0.2, -0.2, -0.6, 0.1, 0.7, 0.5, -0.5])
    # band (-0.5, 0.5): 0.0 -> initial (0.0 >= midpoint 0 -> 1); thresholds are inclusive
    np.testing.assert_array_equal(binarize(x, -0.5, 0.5), [1, 1, 1, 1, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(binarize(x, -0.5, 0.5, initial=0), [0, 1, 1, 1, 0, 0, 1, 1, 0])
    # a decisive first sample overrides `initial`
    np.testing.assert_array_equal(binarize(np.array([-1.0, 0.0]), -0.5, 0.5, initial=1), [0, 0])
    assert binarize(x, -0.5, 0.5).dtype == np.int8
    assert binarize(np.array([]), -0.5, 0.5).size == 0


def test_binarize_recovers_chain_exactly(chain):
    s, x = chain
    # noise SD 50 mV; thresholds at ±0.5 V sit 10 SD from either level (P ~ 1e-23 per sample).
    np.testing.assert_array_equal(binarize(x, -0.5, 0.5), s)


def test_hysteresis_prevents_chatter():
    rng = np.random.default_rng(7)
    hover = 0.05 * rng.standard_normal(100_000)  # hovering at 0: max |x| ~ 4.5 SD = 0.23 V < 0.5 V
    x = np.concatenate([np.full(10, 1.0), hover, np.full(10, -1.0), hover])
    state = binarize(x, -0.5, 0.5)
    assert np.count_nonzero(np.diff(state)) == 1  # only the real 1 -> 0 transition
    np.testing.assert_array_equal(state[: 10 + hover.size], 1)
    np.testing.assert_array_equal(state[10 + hover.size :], 0)
    # the same signal through a (nearly) zero-width band chatters on every noise sign change
    naive = binarize(x, -1e-12, 1e-12)
    assert np.count_nonzero(np.diff(naive)) > 10_000


def test_binarize_errors():
    with pytest.raises(ValueError, match=r"low < high.*low=0\.5, high=-0\.5"):
        binarize(np.zeros(3), 0.5, -0.5)
    with pytest.raises(ValueError, match="low < high"):
        binarize(np.zeros(3), 0.2, 0.2)
    with pytest.raises(ValueError, match="1-D"):
        binarize(np.zeros((3, 2)), -0.5, 0.5)
    with pytest.raises(ValueError, match="initial"):
        binarize(np.zeros(3), -0.5, 0.5, initial=2)


# ---------------------------------------------------------------- pbit_stats


def test_pbit_stats_markov_theory(chain):
    s, _ = chain
    st = pbit_stats(s, DT)
    k = K01 + K10
    lam = math.exp(-k * DT)

    # p1 vs k01/k: 3 of the reported (autocorrelation-aware) standard errors.
    assert abs(st["p1"] - K01 / k) <= 3 * st["p1_se"], (st["p1"], st["p1_se"])

    # tau_int vs exact (1+lam)/(1-lam) = 400 samples. Sokal window M ~ 5 tau = 2000, relative SE of the
    # estimate ~ sqrt(2(2M+1)/n) = sqrt(8002/4e6) = 4.5 %; truncation bias ~ e^-10 and mean-subtraction
    # bias ~ 2M/n = 0.1 % are negligible -> 3 relative SE.
    tau_theory = (1 + lam) / (1 - lam)
    rel_se = math.sqrt(2 * (2 * 5 * tau_theory + 1) / N)
    assert abs(st["tau_int_s"] / (tau_theory * DT) - 1) <= 3 * rel_se, st["tau_int_s"]
    assert st["n_eff"] == pytest.approx(N * DT / st["tau_int_s"])
    assert st["tau_int_s"] == pytest.approx(2 / k, rel=3 * rel_se)  # ≈ 2 tau_c

    # Dwell times vs 1/k01 and 1/k10, SE = std/sqrt(count) (independent visits). The discrete chain's
    # exact mean dwell is dt/p01 = (1/k01) * k dt / (1 - lam) = 1.0025/k01: a 0.25 % bias, ~0.2 SE
    # at ~4800 visits per state (relative SE ~ 1/sqrt(4800) = 1.4 %).
    for state, rate in (("0", K01), ("1", K10)):
        d, d_se = st["mean_dwell_s"][state], st["mean_dwell_se_s"][state]
        assert st["dwell_count"][state] > 4000
        assert d_se == pytest.approx(d / math.sqrt(st["dwell_count"][state]), rel=0.1)  # exponential
        assert abs(d - 1 / rate) <= 3 * d_se, (state, d, 1 / rate, d_se)

    # Switching rate vs the chain's exact 2 p01 p10 / (p01 + p10) per step. The count of ~4800 cycles
    # has relative SD sqrt(CV^2 / cycles) with cycle CV^2 = (1/k01^2 + 1/k10^2) / (1/k01 + 1/k10)^2
    # = 0.52, i.e. ~1.0 % -> allow 4 %.
    p01, p10 = K01 / k * (1 - lam), K10 / k * (1 - lam)
    assert st["switch_rate_hz"] == pytest.approx(2 * p01 * p10 / (p01 + p10) / DT, rel=0.04)
    assert st["switch_rate_hz"] == pytest.approx(st["switches"] / (N * DT))


def test_pbit_stats_exact_small():
    s = np.array([0, 0, 1, 1, 1, 0, 1, 1])
    st = pbit_stats(s, 2.0)
    assert st["p1"] == 5 / 8 and st["switches"] == 3 and st["n_samples"] == 8
    assert st["switch_rate_hz"] == pytest.approx(3 / 16)
    # runs 0(2) 1(3) 0(1) 1(2); first and last are censored -> complete: one 1-visit of 3 samples, one
    # 0-visit of 1 sample
    assert st["mean_dwell_s"] == {"0": 2.0, "1": 6.0}
    assert st["dwell_count"] == {"0": 1, "1": 1}
    assert math.isnan(st["mean_dwell_se_s"]["0"])  # one visit: no spread


def test_pbit_stats_never_switches():
    st = pbit_stats(np.ones(1000, dtype=np.int8), 1e-9)
    assert st["switches"] == 0 and st["p1"] == 1.0
    for key in ("p1_se", "tau_int_s", "n_eff"):
        assert math.isnan(st[key]), key
    assert math.isnan(st["mean_dwell_s"]["0"]) and math.isnan(st["mean_dwell_s"]["1"])


def test_pbit_stats_errors():
    with pytest.raises(ValueError, match="only 0 and 1"):
        pbit_stats(np.array([0, 1, 2]), 1.0)
    with pytest.raises(ValueError, match="dt must be > 0"):
        pbit_stats(np.array([0, 1, 1]), 0.0)
    with pytest.raises(ValueError, match=">= 2 samples"):
        pbit_stats(np.array([1]), 1.0)


# ---------------------------------------------------------------- fit_sigmoid

B0, W = 0.12, 0.03  # V
TRIALS = 4000  # independent samples per bias point


def logistic_data(rng: np.random.Generator, b0: float = B0, w: float = W):
    """17 bias points across ±4 widths; binomial counts with the exact SE sqrt(p(1-p)/TRIALS)."""
    bias = b0 + np.linspace(-4, 4, 17) * abs(w)
    p = 1 / (1 + np.exp(-(bias - b0) / w))
    return bias, rng.binomial(TRIALS, p) / TRIALS, np.sqrt(p * (1 - p) / TRIALS)


def test_fit_sigmoid_recovers_parameters():
    fit = fit_sigmoid(*logistic_data(np.random.default_rng(11)))
    # Weighted LSQ with the true SEs: estimates within 3 of their own SEs; chi2 ~ chi2(15) -> below its
    # 99.73 % point.
    assert abs(fit["center"] - B0) <= 3 * fit["center_se"], fit
    assert abs(fit["width"] - W) <= 3 * fit["width_se"], fit
    assert fit["dof"] == 15 and fit["chi2"] <= chi2_dist.ppf(0.9973, 15)
    # decreasing curve: negative width; input order does not matter
    bias, p, se = logistic_data(np.random.default_rng(12), w=-W)
    fit = fit_sigmoid(bias[::-1], p[::-1], se[::-1])
    assert abs(fit["center"] - B0) <= 3 * fit["center_se"] and abs(fit["width"] + W) <= 3 * fit["width_se"]


def test_fit_sigmoid_se_calibration():
    rng = np.random.default_rng(13)
    fits = [fit_sigmoid(*logistic_data(rng)) for _ in range(200)]
    z_c = np.array([(f["center"] - B0) / f["center_se"] for f in fits])
    z_w = np.array([(f["width"] - W) / f["width_se"] for f in fits])
    # If the SEs are right, z ~ N(0, 1): RMS of 200 has SD 1/sqrt(400) = 0.05 -> ±0.15 is 3 SD.
    assert abs(np.sqrt(np.mean(z_c**2)) - 1) <= 0.15
    assert abs(np.sqrt(np.mean(z_w**2)) - 1) <= 0.15


@pytest.mark.parametrize(
    "bias, p, se, match",
    [
        ([0.0, 1.0], [0.2, 0.8], [0.01, 0.01], "at least 3 points"),
        ([0.0, 1.0, 2.0], [0.2, 0.5, 0.8], [0.01, 0.0, 0.01], "se=0.0"),
        ([0.0, 1.0, 2.0], [0.2, 0.5, 0.8], [0.01, np.nan, 0.01], "se=nan"),
        ([0.0, 1.0, 2.0, 3.0], [0.3, 0.3, 0.3, 0.3], [0.01] * 4, "flat dataset"),
        ([0.0, 1.0, 2.0, 3.0, 4.0], [0.5, 0.51, 0.5, 0.49, 0.5], [0.02] * 5, "flat line"),
        ([0.0, 1.0, 2.0, 3.0, 4.0], [0.9, 0.5, 0.1, 0.5, 0.9], [0.02] * 5, "non-monotone"),
        ([0.0, 1.0, 2.0], [0.2, 0.5, 0.8, 0.9], [0.01] * 3, "sizes differ"),
    ],
)
def test_fit_sigmoid_errors(bias, p, se, match):
    with pytest.raises(ValueError, match=match):
        fit_sigmoid(np.array(bias), np.array(p), np.array(se))
