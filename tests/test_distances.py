"""Tests for thermosim.analysis.distances against closed-form theory.

Expected values come from exact formulas (Gaussian KL, shifted-normal Wasserstein distance, AR(1)
autocorrelation time, the null distribution of the fitted-Gaussian KL); tolerances come from the sampling
statistics stated next to each assertion. All generators are seeded.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import lfilter
from scipy.stats import norm, wasserstein_distance

from thermosim.analysis.distances import (
    gaussian_kl,
    marginal_hist_kl,
    sample_gaussian_kl,
    sorted_quantiles,
    wasserstein1,
)
from thermosim.analysis.mmd import mmd, mmd_test, thin_step
from thermosim.analysis.stats import ess_summary

A = 0.9
TAU_AR1 = (1 + A) / (1 - A)  # exact tau_int of x_t = a x_{t-1} + sqrt(1-a^2) e_t  (= 19)
S3 = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.5], [-0.3, 0.5, 1.5]])
S4 = np.array([[1.0, 0.5, 0.2, 0.0], [0.5, 1.5, 0.3, 0.1], [0.2, 0.3, 1.0, -0.2], [0.0, 0.1, -0.2, 0.8]])


def gauss(rng: np.random.Generator, n: int, cov: np.ndarray, mean=0.0) -> np.ndarray:
    """n independent rows of N(mean, cov)."""
    return mean + rng.standard_normal((n, cov.shape[0])) @ np.linalg.cholesky(cov).T


def ar1(rng: np.random.Generator, n: int, cov: np.ndarray, a: float = A) -> np.ndarray:
    """Stationary vector AR(1) x_t = a x_{t-1} + sqrt(1-a^2) L e_t (L L^T = cov); every x_t ~ N(0, cov).

    The start value is drawn from the stationary law, so no burn-in is needed.
    """
    chol = np.linalg.cholesky(cov)
    innov = rng.standard_normal((n, cov.shape[0])) @ chol.T
    x0 = rng.standard_normal(cov.shape[0]) @ chol.T
    x = lfilter([math.sqrt(1 - a * a)], [1.0, -a], innov, axis=0)
    return x + a ** np.arange(1, n + 1)[:, None] * x0


def log_normal_pdf(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """log N(x; mean, cov) per row, numpy only (independent of the code under test)."""
    d = mean.size
    r = np.linalg.solve(np.linalg.cholesky(cov), (x - mean).T)
    return -0.5 * (np.sum(r * r, axis=0) + np.linalg.slogdet(cov)[1] + d * math.log(2 * math.pi))


# ---------------------------------------------------------------- Gaussian KL


def test_gaussian_kl_1d_closed_form_and_self():
    mp, vp, mq, vq = 0.3, 2.0, -0.5, 0.7
    expected = 0.5 * (vp / vq + (mq - mp) ** 2 / vq - 1 + math.log(vq / vp))
    assert gaussian_kl(mp, vp, mq, vq) == pytest.approx(expected, rel=1e-12)
    assert gaussian_kl([mp], [[vp]], [mq], [[vq]]) == pytest.approx(expected, rel=1e-12)
    mean = np.array([1.0, -2.0, 0.5])
    assert gaussian_kl(mean, S3, mean, S3) == pytest.approx(0.0, abs=1e-12)


def test_gaussian_kl_monte_carlo_3d():
    mp, mq = np.array([0.2, -0.1, 0.4]), np.array([0.0, 0.3, 0.1])
    cq = np.array([[1.5, 0.2, 0.1], [0.2, 1.0, -0.4], [0.1, -0.4, 2.5]])
    x = gauss(np.random.default_rng(11), 200_000, S3, mp)
    ratio = log_normal_pdf(x, mp, S3) - log_normal_pdf(x, mq, cq)  # KL = E_p[log p - log q]
    mc, se = ratio.mean(), ratio.std(ddof=1) / math.sqrt(ratio.size)
    # Independent samples: the MC mean is normal with standard error se (~0.002 here) -> 4 SE.
    kl = gaussian_kl(mp, S3, mq, cq)
    assert abs(kl - mc) <= 4 * se, (kl, mc, se)
    assert kl > 0.1  # a real difference, far above the tolerance


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2)), "cov_p is not positive definite"),
        ((np.zeros(2), np.eye(2), np.zeros(2), np.zeros((2, 2))), "cov_q is not positive definite"),
        ((np.zeros(2), [[1.0, 0.5], [0.0, 1.0]], np.zeros(2), np.eye(2)), "cov_p is not symmetric"),
        ((np.zeros(3), np.eye(2), np.zeros(2), np.eye(2)), "mean_p has shape"),
        ((np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "dimension mismatch"),
        ((np.zeros(2), [[1.0, np.nan], [np.nan, 1.0]], np.zeros(2), np.eye(2)), "non-finite"),
    ],
)
def test_gaussian_kl_errors(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian_kl(*args)


# ---------------------------------------------------------------- fitted-Gaussian KL


def test_sample_gaussian_kl_null_size():
    n, seeds = 2000, 50
    xs = [gauss(np.random.default_rng(100 + s), n, S3) for s in range(seeds)]
    # Independent rows: tau = 1 exactly, so kl_expected = d(d+3)/(4n) = 18/(4n) = 2.25e-3.
    res = [sample_gaussian_kl(x, np.zeros(3), S3, tau=1.0) for x in xs]
    kl = np.array([r["kl"] for r in res])
    assert res[0]["kl_expected"] == pytest.approx(18 / (4 * n))
    # 2n KL ~ chi2(9): the mean over 50 seeds has SE = sd/sqrt(50) (~6 % of the mean); 4 SE with the
    # observed spread. Second-order terms are O(d/n) relative, far below that.
    spread = kl.std(ddof=1)
    assert abs(kl.mean() - res[0]["kl_expected"]) <= 4 * spread / math.sqrt(seeds), (kl.mean(), spread)
    # The spread itself matches sqrt(2k)/(2n); chi2(9) has excess kurtosis 4/3, so the sample SD of 50
    # values has relative SE ~ sqrt((2 + 4/3)/(4*49)) = 13 % -> allow 40 %.
    assert spread == pytest.approx(res[0]["kl_sd"], rel=0.4)
    # Default path: n_eff = n / max-column tau_int estimated from the data. For iid columns at n = 2000
    # each tau has relative SE ~ sqrt(2 * 11 / n) = 10 % and the max of 3 is biased up by ~ 1 SE.
    n_eff = np.array([sample_gaussian_kl(x, np.zeros(3), S3)["n_eff"] for x in xs[:10]])
    assert np.all(np.abs(n_eff / n - 1) <= 0.35) and abs(n_eff.mean() / n - 1) <= 0.15, n_eff


def test_sample_gaussian_kl_detects_wrong_theory_and_uses_tau():
    x = gauss(np.random.default_rng(12), 5000, S3)
    r = sample_gaussian_kl(x, np.zeros(3), 1.1 * S3)
    # True KL(N(0,S) || N(0,1.1 S)) = 1.5 (1/1.1 - 1 + ln 1.1) = 6.6e-3, ~7x the null size 9e-4.
    assert r["kl"] == pytest.approx(
        1.5 * (1 / 1.1 - 1 + math.log(1.1)), abs=4 * r["kl_sd"] + r["kl_expected"]
    )
    assert r["kl"] > r["kl_expected"] + 3 * r["kl_sd"]
    rt = sample_gaussian_kl(x, np.zeros(3), S3, tau=10.0)
    assert rt["n_eff"] == 500.0 and rt["kl_expected"] == pytest.approx(18 / 2000)
    with pytest.raises(ValueError, match="d = 3 columns but the theory has d = 2"):
        sample_gaussian_kl(x, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="need n > d"):
        sample_gaussian_kl(x[:3], np.zeros(3), S3)
    with pytest.raises(ValueError, match="sample covariance .* is not positive definite"):
        sample_gaussian_kl(np.column_stack([x[:, :2], np.ones(5000)]), np.zeros(3), S3)
    with pytest.raises(ValueError, match="theory cov is not positive definite"):
        sample_gaussian_kl(x, np.zeros(3), -S3)
    with pytest.raises(ValueError, match="tau must be > 0"):
        sample_gaussian_kl(x, np.zeros(3), S3, tau=0.0)


# ---------------------------------------------------------------- histogram KL


def test_marginal_hist_kl_null_size_and_shift():
    n, bins, seeds = 4000, 20, 30
    cdf_kl, smp_kl = [], []
    for s in range(seeds):
        rng = np.random.default_rng(200 + s)
        x, y = rng.standard_normal((n, 2)), rng.standard_normal((n, 2))
        cdf_kl.append(marginal_hist_kl(x, norm.cdf, bins=bins))
        smp_kl.append(marginal_hist_kl(x, y, bins=bins))
    cdf_kl, smp_kl = np.array(cdf_kl), np.array(smp_kl)
    assert cdf_kl.shape == smp_kl.shape == (seeds, 2)
    # Null: 2n KL ~ chi2(B-1), so E[KL] = (B-1)/(2n) vs a CDF and (B-1)/2 (1/n + 1/n) vs samples;
    # chi2(19) has SD sqrt(38) -> the mean of 60 values has relative SE sqrt(38)/19/sqrt(60) = 4 % -> 15 %.
    assert cdf_kl.mean() == pytest.approx((bins - 1) / (2 * n), rel=0.15)
    assert smp_kl.mean() == pytest.approx((bins - 1) / n, rel=0.15)

    # Shift: KL(N(d,1) || N(0,1)) = d^2/2 = 0.045. Binning can only lower it (data processing); with 40
    # near-equiprobable bins the loss is a few %, the noise bias (B-1)/(2n) is 1e-3 and the SD ~ d/sqrt(n).
    delta, n_big = 0.3, 40_000
    rng = np.random.default_rng(13)
    x = rng.standard_normal(n_big) + delta
    for ref in (norm.cdf, rng.standard_normal(n_big)):
        kl = marginal_hist_kl(x, ref, bins=40)
        assert kl.shape == (1,)
        assert 0.85 * delta**2 / 2 <= kl[0] <= delta**2 / 2 + 0.01, kl


def test_marginal_hist_kl_per_column_cdfs_and_errors():
    rng = np.random.default_rng(14)
    x = np.column_stack([rng.normal(0, 1, 5000), rng.normal(3, 2, 5000)])
    kl = marginal_hist_kl(x, [norm(0, 1).cdf, norm(3, 2).cdf])
    assert np.all(kl < 0.01), kl  # null size (B-1)/(2n) = 34/1e4 with the default B = 35
    assert marginal_hist_kl(x, norm(0, 1).cdf)[1] > 0.5  # column 1 judged against the wrong law
    with pytest.raises(ValueError, match="2 CDF callables for d = 3"):
        marginal_hist_kl(rng.standard_normal((10, 3)), [norm.cdf, norm.cdf])
    with pytest.raises(ValueError, match="x has d = 2 columns but the reference samples have 3"):
        marginal_hist_kl(x, rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="bins must be >= 2"):
        marginal_hist_kl(x, norm.cdf, bins=1)
    with pytest.raises(ValueError, match="values in \\[0, 1\\]"):
        marginal_hist_kl(x, lambda t: 2.0 + 0 * t)
    with pytest.raises(ValueError, match="NaN or infinite"):
        marginal_hist_kl(np.array([0.0, np.nan, 1.0]), norm.cdf)


# ---------------------------------------------------------------- Wasserstein-1


def test_wasserstein1_shift_sample_and_cdf_paths():
    n, delta = 20_000, 0.5
    rng = np.random.default_rng(15)
    x, y = rng.standard_normal(n), rng.standard_normal(n) + delta
    # W1(N(0,1), N(d,1)) = |d|. With d >> 1/sqrt(n), empirical W1 ~ |difference of means|, SD
    # sqrt(1/n + 1/n) = 0.01 sample-sample and 1/sqrt(n) = 0.007 vs the exact CDF -> 4 SD.
    w_ss = wasserstein1(x, y)
    w_cdf = wasserstein1(x, norm(delta, 1).cdf)
    assert w_ss.shape == w_cdf.shape == (1,)
    assert abs(w_ss[0] - delta) <= 4 * math.sqrt(2 / n)
    assert abs(w_cdf[0] - delta) <= 4 / math.sqrt(n)
    # CDF path vs the exact empirical-vs-empirical W1 against a 1e5-point quantile grid of the same law:
    # the grid's own distance from N(d,1) is ~ (tail range)/(4M) ~ 2e-5, the trapezoid error far smaller.
    q = norm.ppf((np.arange(100_000) + 0.5) / 100_000, loc=delta)
    assert w_cdf[0] == pytest.approx(wasserstein_distance(x, q), abs=1e-4)


def test_wasserstein1_per_column_and_errors():
    rng = np.random.default_rng(16)
    x = np.column_stack([rng.normal(0, 1, 4000), rng.normal(0, 3, 4000)])
    # Same law per column: W1 = O(sigma/sqrt(n)) (E ~ 0.9 sigma/sqrt(n) = 0.014 and 0.04) -> below 0.1 sigma.
    w = wasserstein1(x, [norm(0, 1).cdf, norm(0, 3).cdf])
    assert np.all(w < 0.1 * np.array([1.0, 3.0])), w
    np.testing.assert_allclose(w, wasserstein1(x, gauss(rng, 400_000, np.diag([1.0, 9.0]))), atol=0.01)
    with pytest.raises(ValueError, match="x has d = 2 columns but the reference samples have 1"):
        wasserstein1(x, rng.standard_normal((100, 1)))
    with pytest.raises(ValueError, match="need samples of shape"):
        wasserstein1(np.zeros((1, 2)), norm.cdf)


# ---------------------------------------------------------------- MMD


def gauss_kernel_mean(c: np.ndarray, h: float) -> float:
    """E exp(-|z|^2 / (2 h^2)) for z ~ N(0, c): det(I + c/h^2)^(-1/2)."""
    return float(np.linalg.det(np.eye(c.shape[0]) + c / h**2) ** -0.5)


def test_mmd_unbiased_vs_closed_form():
    # For X ~ N(0,P), Y ~ N(0,Q) and a fixed bandwidth h (X - X' ~ N(0, 2P), X - Y ~ N(0, P + Q)):
    # MMD^2 = E(2P) + E(2Q) - 2 E(P + Q) with E(c) = det(I + c/h^2)^(-1/2).
    h, q = 2.0, 1.5 * S4
    exact = gauss_kernel_mean(2 * S4, h) + gauss_kernel_mean(2 * q, h) - 2 * gauss_kernel_mean(S4 + q, h)
    vals = np.array(
        [
            mmd(gauss(rng, 500, S4), gauss(rng, 500, q), bandwidth=h)
            for rng in map(np.random.default_rng, range(300, 330))
        ]
    )
    # Unbiased estimator: mean over 30 seeds within 4 SE (SE from the observed spread).
    assert abs(vals.mean() - exact) <= 4 * vals.std(ddof=1) / math.sqrt(vals.size), (vals.mean(), exact)


def test_mmd_matches_brute_force_and_test_statistic():
    rng = np.random.default_rng(17)
    x, y = gauss(rng, 40, S4), gauss(rng, 30, 2 * S4)
    z = np.vstack([x, y])
    d = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    h = np.median(d[np.triu_indices(len(z), 1)])  # median heuristic on the pooled rows
    k = np.exp(-(d**2) / (2 * h**2))
    kxx, kyy, kxy = k[:40, :40], k[40:, 40:], k[:40, 40:]
    brute = (kxx.sum() - 40) / (40 * 39) + (kyy.sum() - 30) / (30 * 29) - 2 * kxy.mean()
    assert mmd(x, y) == pytest.approx(brute, rel=1e-10)
    r = mmd_test(x, y, n_perm=50)
    assert r["mmd2"] == pytest.approx(brute, rel=1e-10)
    assert r["bandwidth"] == pytest.approx(h, rel=1e-12)
    assert (r["n_x"], r["n_y"], r["n_perm"]) == (40, 30, 50)
    # The vectorised permutation null must equal the brute-force statistic of each relabelled split. This
    # replays mmd_test's documented-in-code permutation stream (default_rng([seed, 1]), first m = A).
    perm_rng, null = np.random.default_rng([0, 1]), []
    for _ in range(50):
        in_a = np.zeros(70, bool)
        in_a[perm_rng.permutation(70)[:40]] = True
        ka, kb, kab = k[np.ix_(in_a, in_a)], k[np.ix_(~in_a, ~in_a)], k[np.ix_(in_a, ~in_a)]
        null.append((ka.sum() - 40) / 1560 + (kb.sum() - 30) / 870 - 2 * kab.mean())
    assert r["floor"] == pytest.approx(np.quantile(null, 0.95), rel=1e-9)
    assert r["p_value"] == (1 + np.count_nonzero(np.array(null) >= brute)) / 51


def test_mmd_subsampling_and_thin_step():
    assert [thin_step(t) for t in (None, 0.5, 1.0, 1.2, TAU_AR1)] == [1, 1, 1, 2, 37]
    rng = np.random.default_rng(18)
    x, y = rng.standard_normal((10_000, 2)), rng.standard_normal((3000, 2))
    r = mmd_test(x, y, n_perm=20, max_n=500, tau_y=5.0)
    assert r["n_x"] == 500 and r["n_y"] in (333, 334)  # steps 20 (cap) and max(9, 6) = 9, random start
    assert mmd(x, y, max_n=500, seed=3) == pytest.approx(mmd(x, y, max_n=500, seed=3))


def test_mmd_false_alarm_rate_iid():
    # Equal laws, independent rows: P(mmd2 > floor) ~ 5 % per seed, so false alarms over 20 seeds are
    # Binomial(20, 0.05): P(>= 4) = 1.6 %; accept <= 3.
    # (Measured over 400 seeds: 6.0 +- 1.2 % alarms, mean p-value 0.52.)
    alarms, p_values = 0, []
    for s in range(20):
        rng = np.random.default_rng(400 + s)
        r = mmd_test(gauss(rng, 500, S4), gauss(rng, 500, S4), seed=s)
        alarms += not r["agree"]
        p_values.append(r["p_value"])
        assert r["agree"] == (r["mmd2"] <= r["floor"])
    assert alarms <= 3, alarms
    # A calibrated null gives p ~ U(0, 1): the mean of 20 has SD 0.29/sqrt(20) = 0.065 -> 4 SD = 0.26. This
    # also catches a floor that is too high (no alarms because the test is blind).
    assert abs(np.mean(p_values) - 0.5) <= 0.26, p_values


def test_mmd_false_alarm_rate_ar1_needs_thinning():
    # Two independent AR(1) series (a = 0.9, tau_int = 19) with the same stationary law N(0, S4).
    # Thinned by thin_step(19) = 37 (residual correlation a^37 = 0.02) the rows are ~ independent, so the
    # Binomial(20, 0.05) reasoning of the iid test applies: <= 3 alarms. (Measured over 200 seeds: 6 % with
    # thinning, 100 % without.)
    thinned, raw = 0, 0
    for s in range(20):
        rng = np.random.default_rng(500 + s)
        x, y = ar1(rng, 20_000, S4), ar1(rng, 20_000, S4)
        r = mmd_test(x, y, tau_x=TAU_AR1, tau_y=TAU_AR1, seed=s)
        assert r["n_x"] in (540, 541) and r["n_y"] in (540, 541)  # 20000 / 37 rows, random start
        thinned += not r["agree"]
        # Without thinning a 1000-row stretch holds only ~1000/19 = 53 independent rows: the permutation
        # null (which assumes exchangeable rows) is ~19x too narrow and equal laws are "distinguished".
        raw += not mmd_test(x[:1000], y[:1000], seed=s)["agree"]
    assert thinned <= 3, thinned
    assert raw >= 10, raw


# Power against a covariance scaled by 1 + eps, at the median bandwidth. 10 %: population MMD² = 4.7e-4;
# measured power (50 seeds, n_perm = 200) at n = 2000 / 3000 / 4000 per side: 48 / 78 / 92 %. Three seeds
# at n = 4000 must give >= 2 detections: with power 0.92 this fails with probability
# 3 (0.92)(0.08)^2 + 0.08^3 = 1.8 %; a powerless test (5 % alarms) passes with probability 0.7 %.
# 5 %: MMD² is only 1.2e-4; power (20 seeds, n_perm = 100) at n = 2000 / 4000 / 8000 / 12000: 17 / 20 / 60 /
# 80 %. At n = 12000 (24000² kernel: 7 GB peak, ~12 s per test) five seeds must give >= 2 detections:
# P(<= 1 | power 0.8) = 0.7 %, while a powerless test passes with P = 2.3 %.
@pytest.mark.parametrize(
    ("eps", "n", "seeds", "rng0"),
    [(0.10, 4000, 3, 600), pytest.param(0.05, 12_000, 5, 700, marks=pytest.mark.slow)],
)
def test_mmd_power_against_scaled_covariance(eps, n, seeds, rng0):
    hits = 0
    for s in range(seeds):
        rng = np.random.default_rng(rng0 + s)
        r = mmd_test(gauss(rng, n, S4), gauss(rng, n, (1 + eps) * S4), n_perm=100, max_n=n, seed=s)
        hits += r["mmd2"] > r["floor"]
    assert hits >= 2, hits


# ---------------------------------------------------------------- ESS


def test_ess_summary_ar1():
    n, dt = 100_000, 1e-6
    rng = np.random.default_rng(19)
    x = np.column_stack([ar1(rng, n, np.eye(1))[:, 0], rng.standard_normal(n)])
    r = ess_summary(x, dt, cpu_s=2.0)
    # tau_int = (1+a)/(1-a) = 19 and 1; Sokal window M ~ 5 tau, relative SE sqrt(2(2M+1)/n) -> 4 SE.
    tau_true = np.array([TAU_AR1, 1.0])
    rel_se = np.sqrt(2 * (2 * 5 * tau_true + 1) / n)
    assert np.all(np.abs(r["tau_int"] - tau_true) <= 4 * rel_se * tau_true), r["tau_int"]
    np.testing.assert_allclose(r["tau_int_s"], r["tau_int"] * dt)
    np.testing.assert_allclose(r["ess_columns"], n / r["tau_int"])
    assert r["ess"] == pytest.approx(n / r["tau_int"][0])  # the slow column limits the ESS
    assert r["ess"] == pytest.approx(n / TAU_AR1, rel=4 * rel_se[0])
    assert r["ess_per_sim_s"] == pytest.approx(r["ess"] / (n * dt))  # = 1/(tau dt) ~ 5.3e4 per s
    assert r["ess_per_cpu_s"] == pytest.approx(r["ess"] / 2.0)
    assert ess_summary(x, dt)["ess_per_cpu_s"] is None
    with pytest.raises(ValueError, match="dt must be > 0"):
        ess_summary(x, 0.0)
    with pytest.raises(ValueError, match="cpu_s must be > 0"):
        ess_summary(x, dt, cpu_s=-1.0)


# ---------------------------------------------------------------- MMD errors


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"y": np.zeros((50, 3))}, "x has d = 2 columns but y has 3"),
        ({"n_perm": 0}, "n_perm must be >= 1"),
        ({"alpha": 1.5}, "alpha must be in"),
        ({"tau_x": -1.0}, "tau must be a finite number > 0"),
        ({"tau_x": 40.0}, "need >= 2 rows per sample after thinning"),
        ({"bandwidth": 0.0}, "bandwidth must be > 0"),
        ({"max_n": 1}, "max_n must be >= 2"),
    ],
)
def test_mmd_test_errors(kwargs, match):
    rng = np.random.default_rng(20)
    args = {"x": rng.standard_normal((50, 2)), "y": rng.standard_normal((50, 2))} | kwargs
    with pytest.raises(ValueError, match=match):
        mmd_test(**args)


def test_mmd_constant_data_needs_bandwidth():
    with pytest.raises(ValueError, match="median pairwise distance is 0"):
        mmd(np.ones((10, 2)), np.ones((10, 2)))


def test_quadratic_kernel_mmd_sees_a_5pct_covariance_change():
    # The quadratic kernel (1 + uᵀv/d)² compares means and covariances only, through 1 + d + d² explicit
    # features (no N×N matrix). N(0, S4) vs N(0, 1.05 S4), 30000 rows per side: measured power 97.5 %
    # (40 seeds, n_perm = 200; 85 % at 20000) and false alarms 5 % at equal laws. Three seeds must give
    # >= 2 detections: fails with probability 3(0.975)(0.025)² + 0.025³ = 0.2 %; a powerless test
    # (5 % alarms) passes with probability 0.7 %.
    n, hits = 30_000, 0
    for s in range(3):
        rng = np.random.default_rng(1000 + s)
        r = mmd_test(gauss(rng, n, S4), gauss(rng, n, 1.05 * S4), max_n=n, seed=s, kernel="quadratic")
        hits += r["mmd2"] > r["floor"]
    assert hits >= 2, hits
    # the feature path of mmd_test gives the same statistic as the kernel matrix of mmd
    rng = np.random.default_rng(7)
    x, y = gauss(rng, 400, S4), gauss(rng, 400, 1.2 * S4)
    r = mmd_test(x, y, n_perm=20, max_n=400, kernel="quadratic")
    assert r["mmd2"] == pytest.approx(mmd(x, y, max_n=400, kernel="quadratic"), rel=1e-9)
    with pytest.raises(ValueError, match="kernel must be 'gaussian' or 'quadratic'"):
        mmd(x, y, kernel="laplace")


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=400),
    bins=st.integers(2, 100),
    scale=st.sampled_from([1.0, 1e-9, 1e3]),
)
def test_sorted_quantiles_are_numpys_bit_for_bit(values, bins, scale):
    # the histogram KL takes its bin edges from the sorted column directly; they must be np.quantile's
    xs = np.sort(np.array(values) * scale)
    probs = np.arange(1, bins) / bins
    np.testing.assert_array_equal(sorted_quantiles(xs, probs), np.quantile(xs, probs))
    np.testing.assert_array_equal(sorted_quantiles(xs, np.array([0.0, 1.0])), [xs[0], xs[-1]])
