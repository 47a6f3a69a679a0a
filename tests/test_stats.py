"""Tests for thermosim.analysis.stats against exact theory of AR(1) processes.

Expected values come from closed-form theory; tolerances come from the sampling statistics
of the estimators (stated next to each assertion). All generators are seeded.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.signal import lfilter

from thermosim.analysis.stats import (
    Check,
    autocorrelation,
    check,
    cov_rel_error,
    covariance_with_se,
    effective_sample_size,
    integrated_autocorr_time,
    mean_with_se,
    resample_uniform,
    tau_int_columns,
    z_scores,
)

A = 0.9
TAU_AR1 = (1 + A) / (1 - A)  # exact tau_int of x_t = a x_{t-1} + sqrt(1-a^2) e_t  (= 19)
S = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.5], [-0.3, 0.5, 1.5]])  # stationary covariance


def ar1(rng: np.random.Generator, n: int, a: float = A, cov: np.ndarray | None = None, reps: int = 0):
    """Stationary (vector) AR(1): x_t = a x_{t-1} + sqrt(1-a^2) L e_t, L L^T = cov.

    The start value x_{-1} is drawn from the stationary law N(0, cov), so every x_t ~ N(0, cov)
    exactly (no burn-in needed): x_t = a^(t+1) x_{-1} + filtered innovations.
    Shape: (n,) for scalar, (n, d) for vector, (reps, n, d) if reps > 0.
    """
    chol = np.ones((1, 1)) if cov is None else np.linalg.cholesky(cov)
    d = chol.shape[0]
    shape = (max(reps, 1), n, d)
    innov = rng.standard_normal(shape) @ chol.T
    x0 = rng.standard_normal((shape[0], 1, d)) @ chol.T
    x = lfilter([np.sqrt(1 - a * a)], [1.0, -a], innov, axis=1)
    x += a ** np.arange(1, n + 1)[None, :, None] * x0
    if reps:
        return x
    return x[0, :, 0] if cov is None else x[0]


# ---------------------------------------------------------------- autocorrelation / tau_int


def test_autocorrelation_matches_direct_definition_no_wraparound():
    # Oracle: the defining sum c_k = (1/n) sum_{t<n-k} y_t y_{t+k}, evaluated directly.
    y = np.random.default_rng(1).standard_normal(257)
    yc = y - y.mean()
    direct = np.array([yc[: y.size - k] @ yc[k:] for k in range(y.size)]) / y.size
    np.testing.assert_allclose(autocorrelation(y), direct / direct[0], atol=1e-12)
    assert autocorrelation(y, max_lag=10).shape == (11,)


def test_autocorrelation_ar1_exact_rho():
    n = 200_000
    x = ar1(np.random.default_rng(2), n)
    rho = autocorrelation(x, max_lag=5)
    assert rho[0] == pytest.approx(1.0)
    for k in range(1, 6):
        # Bartlett's formula for AR(1):
        # var(r_k) ~ [(1+a^2)(1-a^(2k))/(1-a^2) - 2k a^(2k)] / n   -> 4 SE tolerance.
        var = ((1 + A**2) * (1 - A ** (2 * k)) / (1 - A**2) - 2 * k * A ** (2 * k)) / n
        assert abs(rho[k] - A**k) <= 4 * np.sqrt(var), (k, rho[k], A**k)


def test_tau_int_ar1_and_iid():
    n = 200_000
    tau = integrated_autocorr_time(ar1(np.random.default_rng(3), n))
    # Sokal: window M ~ c*tau = 5*19 = 95, relative SE ~ sqrt(2(2M+1)/n) = sqrt(382/2e5) = 4.4%.
    # Truncation bias 2 a^(M+1)/(1-a) ~ 1e-3 and mean-subtraction bias ~2M tau/n ~ 1% are below
    # that, so allow 4 relative SE.
    m_window = 5 * TAU_AR1
    rel_se = np.sqrt(2 * (2 * m_window + 1) / n)
    assert abs(tau - TAU_AR1) <= 4 * rel_se * TAU_AR1, tau

    tau_iid = integrated_autocorr_time(np.random.default_rng(4).standard_normal(n))
    # iid: tau = 1, M ~ 5, relative SE ~ sqrt(2*11/n) = 1.05% -> 4 SE.
    assert abs(tau_iid - 1.0) <= 4 * np.sqrt(2 * 11 / n), tau_iid


def test_tau_int_columns_and_ess():
    n = 100_000
    rng = np.random.default_rng(5)
    x = np.column_stack([ar1(rng, n), rng.standard_normal(n)])
    taus = tau_int_columns(x)
    rel_se = np.sqrt(2 * (2 * 5 * np.array([TAU_AR1, 1.0]) + 1) / n)
    assert np.all(np.abs(taus - [TAU_AR1, 1.0]) <= 4 * rel_se * [TAU_AR1, 1.0]), taus
    # ESS is the conservative (minimum) column: n / 19.
    assert effective_sample_size(x) == pytest.approx(n / taus[0])
    assert effective_sample_size(x[:, 1]) == pytest.approx(n / taus[1])


def test_tau_int_edge_cases():
    assert integrated_autocorr_time(np.ones(100)) == 1.0
    with pytest.warns(RuntimeWarning, match="too short"):
        integrated_autocorr_time(ar1(np.random.default_rng(6), 500, a=0.99))  # true tau = 199
    with pytest.raises(ValueError):
        integrated_autocorr_time(np.array([1.0]))


def test_mean_with_se_ar1():
    n = 200_000
    x = ar1(np.random.default_rng(7), n)
    mean, se = mean_with_se(x)
    se_theory = np.sqrt(TAU_AR1 / n)  # var = 1 exactly
    # se inherits the ~4.4% relative error of tau (half of it after the sqrt) -> 10% band.
    assert se == pytest.approx(se_theory, rel=0.10)
    assert abs(mean) <= 4 * se_theory
    means, ses = mean_with_se(np.column_stack([x, 3.0 + 0 * x]))
    assert means[1] == 3.0 and ses[1] == 0.0


# ---------------------------------------------------------------- covariance


def test_covariance_with_se_long_run():
    x = ar1(np.random.default_rng(8), 200_000, cov=S)
    cov, se = covariance_with_se(x)
    assert cov.shape == se.shape == (3, 3)
    np.testing.assert_allclose(cov, cov.T)
    np.testing.assert_allclose(se, se.T)
    assert np.all(np.abs(cov - S) <= 4 * se), (cov - S) / se
    # Gaussian theory for a cross-check of the SE itself: var(p_ij) = S_ii S_jj + S_ij^2 and the
    # product series of a scalar-a AR(1) has rho_k = a^(2k), so tau(p) = (1+a^2)/(1-a^2).
    se_theory = np.sqrt((np.outer(np.diag(S), np.diag(S)) + S**2) * (1 + A**2) / (1 - A**2) / x.shape[0])
    np.testing.assert_allclose(se, se_theory, rtol=0.15)


@pytest.fixture(scope="module")
def replicas():
    """200 independent shorter runs (n = 5000, ~530 effective samples each)."""
    xs = ar1(np.random.default_rng(9), 5000, cov=S, reps=200)
    return [covariance_with_se(x) for x in xs], xs


def test_covariance_se_calibration(replicas):
    results, _ = replicas
    iu = np.triu_indices(3)
    z = np.array([((cov - S) / se)[iu] for cov, se in results])  # (200, 6)
    # If SE is right, z ~ N(0, 1). The RMS of 200 standard normals has SD 1/sqrt(2*200) = 0.05,
    # so +-0.15 is a 3-sigma band even for a single element; pooling the 6 (correlated) unique
    # elements only narrows it. The SE is itself estimated: tau(p) ~ 9.5, M ~ 48, relative SE
    # of tau ~ sqrt(2*97/5000) = 20%, i.e. ~10% on SE, plus a small low bias of tau at this n;
    # together they inflate RMS(z) by a few percent (~1.05 seen across seeds), well inside the
    # band. The O(tau/n) mean-subtraction bias of cov is ~0.07 SE. RMS is taken about zero, so a
    # bias in cov would show up too.
    rms_pooled = np.sqrt(np.mean(z**2))
    assert abs(rms_pooled - 1.0) <= 0.15, rms_pooled


def test_mean_se_calibration(replicas):
    _, xs = replicas
    z = np.array([mean_with_se(x)[0] / mean_with_se(x)[1] for x in xs])  # true mean is 0
    # tau = 19, M ~ 95: SE noisier (~14% on SE) than for cov; same 3-sigma band on RMS applies.
    assert abs(np.sqrt(np.mean(z**2)) - 1.0) <= 0.15


def test_cov_rel_error_matches_replica_spread(replicas):
    results, _ = replicas
    pairs = np.array([cov_rel_error(cov, S, se) for cov, se in results])
    rel_err, rel_err_se = pairs[:, 0], pairs[:, 1]
    # Under the null E[rel_err^2] = rel_err_se^2, so the observed RMS of rel_err across replicas
    # must match the typical predicted rel_err_se (factor 1.5 allowed).
    ratio = np.sqrt(np.mean(rel_err**2)) / np.mean(rel_err_se)
    assert 1 / 1.5 <= ratio <= 1.5, ratio


def test_cov_rel_error_exact_values():
    cov_t = np.diag([3.0, 4.0])  # ||.||_F = 5
    rel, rel_se = cov_rel_error(cov_t + np.array([[0.0, 0.5], [0.5, 0.0]]), cov_t, np.full((2, 2), 0.5))
    assert rel == pytest.approx(np.sqrt(0.5) / 5)
    assert rel_se == pytest.approx(1.0 / 5)
    with pytest.raises(ValueError):
        cov_rel_error(cov_t, np.zeros((2, 2)), cov_t)


# ---------------------------------------------------------------- resampling, z, check


def test_resample_uniform_linear_exact():
    rng = np.random.default_rng(10)
    t = np.sort(rng.uniform(0.0, 1e-3, 500))
    t[0], t[-1] = 0.0, 1e-3
    x = np.column_stack([2.0 + 5e3 * t, -7e2 * t])
    t_u, x_u = resample_uniform(t, x, dt=1e-5)
    assert t_u.size == 101 and t_u[0] == 0.0 and t_u[-1] == pytest.approx(1e-3)
    np.testing.assert_allclose(np.diff(t_u), 1e-5, rtol=1e-9)
    np.testing.assert_allclose(x_u, np.column_stack([2.0 + 5e3 * t_u, -7e2 * t_u]), rtol=1e-12, atol=1e-12)
    t_u1, x_u1 = resample_uniform(t, x[:, 0], dt=1e-5, t_start=5e-4)
    assert t_u1[0] == 5e-4 and x_u1.shape == t_u1.shape
    np.testing.assert_allclose(x_u1, 2.0 + 5e3 * t_u1, rtol=1e-12)


@pytest.mark.parametrize(
    "t, dt, match",
    [
        ([0.0, 2.0, 1.0], 0.1, "strictly increasing"),
        ([0.0, 1.0, 1.0], 0.1, "strictly increasing"),
        ([0.0], 0.1, ">= 2 points"),
        ([0.0, 1.0, 2.0], 0.0, "dt must be > 0"),
    ],
)
def test_resample_uniform_errors(t, dt, match):
    with pytest.raises(ValueError, match=match):
        resample_uniform(np.array(t), np.zeros(len(t)), dt)


def test_z_scores():
    np.testing.assert_allclose(z_scores([1.0, 3.0], [0.0, 1.0], [0.5, 1.0]), [2.0, 2.0])
    with pytest.raises(ValueError, match="> 0"):
        z_scores([1.0], [0.0], [0.0])


def test_check_logic():
    assert check("a", 1.29, 1.0, 0.1).passed  # 2.9 se
    assert not check("a", 1.31, 1.0, 0.1).passed  # 3.1 se
    assert check("a", 1.31, 1.0, 0.1, k=4.0).passed
    # rel_tol is an additional requirement: within 4 se but 31% off -> fails with rel_tol=0.1
    assert not check("a", 1.31, 1.0, 0.1, k=4.0, rel_tol=0.1).passed
    assert check("a", 1.05, 1.0, 0.1, rel_tol=0.1).passed
    assert not check("a", float("nan"), 1.0, 0.1).passed
    c = check("var", np.float64(2.0), 2.0, 0.0)
    assert isinstance(c, Check) and c.passed
    d = c.to_dict()
    assert d == {"name": "var", "measured": 2.0, "expected": 2.0, "se": 0.0, "passed": True}
    json.dumps(d)
