"""The field's Gaussian samplers against exact theory: Cholesky draws and thermox's OU sampler.

Expected answers come from theory, never from our own output: the stationary covariance Σ of
dx = −A x dt + dW (E[dW dWᵀ] = D dt) solves A Σ + Σ Aᵀ = D (scipy's Lyapunov solver). Tolerances: every
covariance element within k standard errors, SE_ij from the effective sample size of the product series
(``covariance_with_se``: var(p)·τ_int(p)/n), k = 3 per element raised by Bonferroni for the d(d+1)/2
elements tested together (``bonferroni_k``), so a correct sampler fails as rarely as one 3-SE check.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from thermosim.analysis.gaussian import bonferroni_k
from thermosim.analysis.stats import covariance_with_se
from thermosim.digital import samplers

pytest.importorskip("thermox")

P4 = np.array([[2.0, -0.6, 0.3, 0.0], [-0.6, 1.5, -0.4, 0.2], [0.3, -0.4, 1.8, 0.5], [0.0, 0.2, 0.5, 1.2]])
_W = np.random.default_rng(8).standard_normal((8, 8))
P8 = np.eye(8) + _W @ _W.T / 8
# non-normal: unequal capacitors, grounded resistors, resistive couplings, Johnson-level injected noise
C_NN = np.diag([0.5, 4.0, 1.0, 2.0])
R_NN = np.array([1.0, 0.5, 2.0, 1.0])
K_NN = np.array([[0, 1.5, 0, 0.5], [1.5, 0, 1.0, 0], [0, 1.0, 0, 2.0], [0.5, 0, 2.0, 0]])
G_NN = np.diag(1 / R_NN + K_NN.sum(axis=1)) - K_NN


def within_k_se(x: np.ndarray, sigma: np.ndarray) -> float:
    """Largest |Σ̂_ij − Σ_ij| / SE_ij over the upper triangle, divided by the Bonferroni threshold."""
    cov, se = covariance_with_se(x)
    iu = np.triu_indices(len(sigma))
    z = np.abs(cov - sigma)[iu] / se[iu]
    return float(z.max() / bonferroni_k(len(iu[0])))


@pytest.mark.parametrize("precision", [P4, P8], ids=["gauss4", "random8"])
def test_cholesky_and_thermox_sample_the_exact_law_for_a_normal_drift(precision):
    """Drift A = P, diffusion D = 2I: Σ = P⁻¹ (A symmetric, so normal). 8 000 rows each; thermox records
    every 2 slowest relaxation times, its τ_int (≈ 1.3 rows) enters through the SE."""
    sigma = linalg.solve_continuous_lyapunov(precision, 2 * np.eye(len(precision)))
    np.testing.assert_allclose(sigma, np.linalg.inv(precision), rtol=1e-10)
    x, _ = samplers.cholesky_samples(sigma, 8000, seed=5)
    assert within_k_se(x, sigma) < 1
    dt = 2 / np.linalg.eigvalsh(precision).min()
    x, cpu = samplers.thermox_samples(precision, 2 * np.eye(len(precision)), 8000, dt, seed=2)
    assert x.shape == (8000, len(precision)) and cpu > 0
    assert within_k_se(x, sigma) < 1
    np.testing.assert_allclose(samplers.thermox_covariance(precision, 2 * np.eye(len(precision)), dt), sigma)


def test_thermox_is_wrong_for_a_non_normal_drift_and_its_error_is_predicted():
    """A = C⁻¹G with unequal C, D = C⁻¹SC⁻¹ (S = 2/R on the diagonal): the whitened drift is not normal.

    thermox's samples follow the covariance of its own transition rule (``thermox_covariance``, within
    k SE), which is far from the exact Lyapunov Σ (relative error ≈ 0.49 at Δt = 2 τ_slow, versus a
    sampling SE of ≈ 0.01)."""
    a, d = samplers.ou_matrices(C_NN, G_NN, np.diag(2 / R_NN))
    assert samplers.non_normality(a, d) > 0.1
    sigma = linalg.solve_continuous_lyapunov(a, d)
    dt = 2 / np.linalg.eigvals(a).real.min()
    predicted = samplers.thermox_covariance(a, d, dt)
    assert np.linalg.norm(predicted - sigma) / np.linalg.norm(sigma) > 0.3
    x, _ = samplers.thermox_samples(a, d, 8000, dt, seed=3)
    assert within_k_se(x, predicted) < 1
    assert within_k_se(x, sigma) > 3
    x, _ = samplers.cholesky_samples(sigma, 8000, seed=4)  # the exact sampler has no such problem
    assert within_k_se(x, sigma) < 1


def test_thermox_error_vanishes_for_small_steps():
    """thermox's per-step covariance differs from the exact one at O(Δt³): the stationary error is O(Δt²)."""
    a, d = samplers.ou_matrices(C_NN, G_NN, np.diag(2 / R_NN))
    sigma = linalg.solve_continuous_lyapunov(a, d)
    errors = [
        np.linalg.norm(samplers.thermox_covariance(a, d, dt) - sigma) / np.linalg.norm(sigma)
        for dt in (0.1, 0.05, 0.025)
    ]
    assert errors[0] < 0.05 and 3.5 < errors[0] / errors[1] < 4.5 and 3.5 < errors[1] / errors[2] < 4.5


def test_mac_counts():
    assert samplers.cholesky_macs(4) == 10 and samplers.cholesky_macs(64) == 64 * 65 // 2
    assert samplers.thermox_macs(8) == 640
