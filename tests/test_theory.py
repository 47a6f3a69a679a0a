"""Exact references, checked against independent closed forms (no simulation)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from thermosim.analysis.theory import circuit_covariance, equipartition_covariance, lyapunov_covariance
from thermosim.circuits.rc import RCParams, build_rc
from thermosim.physics import K_B, johnson_current_psd


def test_single_rc_is_kt_over_c():
    r, c, t = 1e6, 1e-12, 300.0
    sigma = circuit_covariance(np.array([[c]]), np.array([[1 / r]]), np.array([[johnson_current_psd(r, t)]]))
    assert sigma[0, 0] == pytest.approx(K_B * t / c, rel=1e-12)


def test_passive_thermal_network_is_equipartition_independent_of_r():
    rng = np.random.default_rng(3)
    n = 5
    c = np.diag(rng.uniform(0.5e-12, 2e-12, n))
    for _ in range(3):
        r = rng.uniform(1e5, 1e7, n)
        gc = np.triu(rng.uniform(0, 2e-6, (n, n)), 1)
        gc = gc + gc.T
        p = RCParams(c_f=tuple(np.diag(c)), r_ohm=tuple(r), coupling_s=tuple(map(tuple, gc)))
        built = build_rc(p)
        ref = equipartition_covariance(c, 300.0)
        np.testing.assert_allclose(built.law().cov, ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_precision_compiles_to_scaled_inverse():
    prec = np.array([[2.0, -0.6, 0.3], [-0.6, 1.5, 0.4], [0.3, 0.4, 1.8]])
    p = RCParams(
        precision=tuple(map(tuple, prec)), c_f=1e-12, g0_s=1e-6, noise="injected", noise_temperature_k=3e6
    )
    built = build_rc(p)
    np.testing.assert_allclose(built.law().cov, K_B * 3e6 / 1e-12 * np.linalg.inv(prec), rtol=1e-9)


def test_lyapunov_exact_for_non_normal_drift():
    # dx = -A x dt + dW with a strongly non-normal A: compare with the integral Σ = ∫ e^{-At} D e^{-Aᵀt} dt
    a = np.array([[1.0, 8.0], [0.0, 2.0]])
    d = np.array([[1.0, 0.2], [0.2, 0.5]])
    sigma = lyapunov_covariance(a, d)
    ts = np.linspace(0, 40, 8001)
    step = linalg.expm(-a * ts[1])  # e^{-A t_k} = (e^{-A h})^k: one expm, not one per grid point
    e = np.empty((len(ts), 2, 2))
    e[0] = np.eye(2)
    for k in range(1, len(ts)):
        e[k] = e[k - 1] @ step
    integrand = e @ d @ np.swapaxes(e, 1, 2)
    np.testing.assert_allclose(
        sigma, np.trapezoid(integrand, ts, axis=0), rtol=1e-4
    )  # trapezoid quadrature error ~3e-5


def test_trapezoid_preserves_the_stationary_covariance_at_any_step():
    # The identity the noise mechanism relies on: trapezoidal steps with exact Brownian increments
    # have the continuous Lyapunov covariance at the step points, whatever the step h.
    a = np.array([[3.0, -1.0, 0.5], [0.2, 1.0, 0.0], [0.0, 0.4, 0.5]])
    d = np.array([[1.0, 0.1, 0.0], [0.1, 2.0, 0.3], [0.0, 0.3, 0.7]])
    sigma = lyapunov_covariance(a, d)
    for h in (0.01, 0.3, 2.0):
        left = np.linalg.inv(np.eye(3) + h * a / 2)
        m = left @ (np.eye(3) - h * a / 2)
        discrete = linalg.solve_discrete_lyapunov(m, h * left @ d @ left.T)
        np.testing.assert_allclose(discrete, sigma, rtol=1e-10)


def test_unstable_drift_is_refused():
    with pytest.raises(ValueError, match="not stable"):
        lyapunov_covariance(np.array([[-1.0]]), np.array([[1.0]]))


def test_rlc_lyapunov_is_equipartition_for_passive_cells():
    # the non-normal (v, i) drift, solved by Lyapunov, must give kT·C⁻¹ ⊕ kT·L⁻¹ with v ⟂ i
    from thermosim.circuits.rlc import RLCParams, build_rlc

    rng = np.random.default_rng(4)
    n = 4
    cc = np.triu(rng.uniform(0, 0.3e-9, (n, n)), 1)
    p = RLCParams(
        c_f=tuple(rng.uniform(0.5e-9, 1.5e-9, n)),
        coupling_f=tuple(map(tuple, cc + cc.T)),
        l_h=tuple(rng.uniform(0.5e-6, 2e-6, n)),
        r_parallel_ohm=tuple(rng.uniform(50, 500, n)),
    )
    built = build_rlc(p)
    kt = K_B * 300.0
    v_ref = kt * np.linalg.inv(p.capacitance())
    i_ref = kt * np.diag(1 / np.asarray(p.l_h))
    np.testing.assert_allclose(built.law().cov[:n, :n], v_ref, rtol=1e-9, atol=1e-12 * v_ref.max())
    np.testing.assert_allclose(built.law().cov[n:, n:], i_ref, rtol=1e-9, atol=1e-12 * i_ref.max())
    assert np.abs(built.law().cov[:n, n:]).max() < 1e-12 * np.sqrt(v_ref.max() * i_ref.max())


def test_rlc_precision_compiles_to_maxwell_capacitance():
    from thermosim.circuits.rlc import RLCParams, build_rlc

    prec = np.array([[1.5, -0.4, 0.0], [-0.4, 1.2, -0.3], [0.0, -0.3, 1.0]])
    built = build_rlc(RLCParams(precision=tuple(map(tuple, prec)), c_unit_f=1e-9))
    np.testing.assert_allclose(built.law().cov[:3, :3], K_B * 300 / 1e-9 * np.linalg.inv(prec), rtol=1e-9)
    text = str(built.circuit)
    assert "C1_2 n1 n2 4.0000000000000007e-10" in text and "C1_3" not in text  # −c_unit·P_ij
    assert "C2 n2 nz_n2 4.999999999999999e-10" in text  # row sum to ground: (1.2 − 0.4 − 0.3)·1 nF


def test_node_density_linear_is_kt_over_c_and_quartic_is_boltzmann():
    from thermosim.analysis.theory import node_density
    from thermosim.circuits.quartic import QuarticParams, stationary

    c, g, t = 1e-12, 1e-6, 300.0
    u = np.linspace(-1e-3, 1e-3, 20001)  # ±15 σ of kT/C
    pdf, cdf = node_density(u, -g * u, c, 2 * K_B * t * g)
    assert np.trapezoid(u**2 * pdf, u) == pytest.approx(K_B * t / c, rel=1e-6) and cdf[-1] == 1.0
    # a behavioural quartic unit's current, g₀V₀·(−∂V/∂x), gives its exact Boltzmann density exp(−V/kT)
    q, g0, v0 = QuarticParams(kt=0.1), 1e-5, 0.1
    x = np.linspace(-4, 4, 40001)
    i_in = -g0 * v0 * (2 * q.j2 * x + 4 * q.j4 * x**3 + 0.3)
    pdf, _ = node_density(x * v0, i_in, c, 2 * q.kt * g0 * c * v0**2)
    mean, var, _ = stationary(q, 0.3)
    m = np.trapezoid(x * v0 * pdf, x * v0)
    assert m / v0 == pytest.approx(mean, rel=1e-6)
    assert np.trapezoid((x * v0 - m) ** 2 * pdf, x * v0) / v0**2 == pytest.approx(var, rel=1e-6)
