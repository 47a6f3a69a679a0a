"""Exact references for linear noisy circuits (SI units throughout).

A linear circuit with capacitance matrix C (F), conductance matrix G (S) and white node currents of
two-sided PSD matrix S (A²/Hz) obeys  C dv = −G v dt + dQ,  E[dQ dQᵀ] = S dt.  With A = C⁻¹G and
D = C⁻¹ S C⁻¹ its stationary covariance Σ (V²) solves the Lyapunov equation  A Σ + Σ Aᵀ = D.
scipy's Bartels–Stewart solver is exact for any stable A, normal or not. Cost O(n³).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
from threadpoolctl import threadpool_limits

from ..physics import K_B


def lyapunov_covariance(a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Σ solving A Σ + Σ Aᵀ = D for the drift dx = −A x dt + noise of diffusion D.

    Raises ValueError if A is not stable (some eigenvalue with Re λ ≤ 0): no stationary state exists.
    """
    from scipy import linalg  # here, not at import: a run builds its netlist before scipy is loaded

    a, d = np.asarray(a, float), np.asarray(d, float)
    # large networks on one BLAS thread (threads oversubscribed on a busy machine cost 10×); small
    # matrices stay as they were (OpenBLAS runs them on one thread anyway)
    with threadpool_limits(limits=1, user_api="blas") if len(a) >= SYMMETRIC_FROM else nullcontext():
        lam = np.linalg.eigvals(a)
        if np.min(lam.real) <= 0:
            raise ValueError(
                f"drift matrix is not stable (min Re λ = {np.min(lam.real):.3g}); no stationary state"
            )
        sigma = linalg.solve_continuous_lyapunov(a, d)
    return 0.5 * (sigma + sigma.T)


# Networks of at least this many nodes with a diagonal C and a symmetric G (every passive rc network, and
# a symmetric precision matrix) use ``symmetric_lyapunov``: a symmetric eigensolver, ~1 min at 4096 nodes
# where Bartels–Stewart's nonsymmetric Schur form takes hours. Smaller ones keep the general solver, so
# their results do not change by a rounding.
SYMMETRIC_FROM = 65


# The general solver (nonsymmetric Schur form and eigenvalues, one BLAS thread) costs ~8 s of CPU at 1024
# states, ~1.5 min at 2048 and ~12 min at 4096: networks whose drift is not symmetric (mismatch, noise
# filters, inductors) are limited to this many states so that a spec at the limit still runs in minutes.
GENERAL_MAX_STATES = 2048


def symmetric_network(c: np.ndarray, g: np.ndarray) -> bool:
    """True when ``symmetric_lyapunov`` applies and pays: n ≥ SYMMETRIC_FROM, C diagonal, G symmetric."""
    c, g = np.asarray(c, float), np.asarray(g, float)
    return len(c) >= SYMMETRIC_FROM and np.array_equal(c, np.diag(np.diag(c))) and np.array_equal(g, g.T)


def symmetric_lyapunov(c: np.ndarray, g: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Stationary covariance Σ (V²) of C dv = −G v dt + dQ, E[dQ dQᵀ] = S dt, for DIAGONAL C > 0 and
    SYMMETRIC G; also the fastest and slowest time scales 1/λ_max, 1/λ_min (s) of ``time_scales``.

    With W = C^(−1/2) and M = WGW = QΛQᵀ (symmetric, similar to A = C⁻¹G), Σ = WYW where
    MY + YM = WSW, i.e. Y = Q [(QᵀWSWQ)ᵢⱼ / (λᵢ + λⱼ)] Qᵀ: the exact solution of AΣ + ΣAᵀ = C⁻¹SC⁻¹
    that ``lyapunov_covariance`` gives, without a nonsymmetric Schur form. Raises ValueError when some
    λ ≤ 0 (no stationary state). Cost O(n³): one symmetric eigensolve and four n×n products, on one
    BLAS thread (the same bits everywhere; threads oversubscribed on a busy machine cost 10×).
    """
    from scipy.linalg import eigh

    w = 1.0 / np.sqrt(np.diag(np.asarray(c, float)))
    with threadpool_limits(limits=1, user_api="blas"):
        m = w[:, None] * np.asarray(g, float) * w[None, :]
        lam, q = eigh(0.5 * (m + m.T))
        if lam.min() <= 0:
            raise ValueError(f"drift matrix is not stable (min Re λ = {lam.min():.3g}); no stationary state")
        s_w = w[:, None] * np.asarray(s, float) * w[None, :]
        y = q @ ((q.T @ s_w @ q) / (lam[:, None] + lam[None, :])) @ q.T
    sigma = w[:, None] * y * w[None, :]
    return 0.5 * (sigma + sigma.T), float(1.0 / lam.max()), float(1.0 / lam.min())


def circuit_covariance(c: np.ndarray, g: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Stationary node-voltage covariance (V²) of C dv = −G v dt + dQ with E[dQ dQᵀ] = S dt."""
    c_inv = np.linalg.inv(np.asarray(c, float))
    return lyapunov_covariance(c_inv @ g, c_inv @ s @ c_inv)


def equipartition_covariance(c: np.ndarray, temperature_k: float) -> np.ndarray:
    """kT·C⁻¹ (V²): the covariance of any passive RC network whose resistors all sit at T."""
    return K_B * temperature_k * np.linalg.inv(np.asarray(c, float))


def relaxation_times(c: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """(fastest, slowest) time scale in seconds of A = C⁻¹G (see ``time_scales``)."""
    return time_scales(np.linalg.solve(np.asarray(c, float), np.asarray(g, float)))


def time_scales(a: np.ndarray) -> tuple[float, float]:
    """(fastest, slowest) time scale (s) of the drift dx = −A x dt: 1/max|λ| (relaxation or oscillation,
    whichever is faster: what a time step must resolve) and 1/min Re λ (the slowest decay)."""
    lam = np.linalg.eigvals(np.asarray(a, float))
    return float(1.0 / np.abs(lam).max()), float(1.0 / lam.real.min())


def gaussian_density(x: np.ndarray, var: float, mean: float = 0.0) -> np.ndarray:
    """Normal probability density N(mean, var) at x."""
    return np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2 * np.pi * var)


def node_density(u: np.ndarray, i_in: np.ndarray, c_f: float, psd: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact stationary density of one overdamped node, C·du = I_in(u)·dt + dξ with ⟨ξ(t)ξ(t')⟩ = s·δ(t − t').

    Zero probability flux gives p(u) ∝ exp((2C/s)·∫ I_in du) for ANY restoring current I_in(u) (A, the
    current the circuit pushes into the node; s two-sided, A²/Hz). Linear check: I_in = −g·u with s = 2kTg
    gives Var u = kT/C. ``u`` is an increasing grid wide enough that the weight vanishes at its ends.
    Returns (pdf, cdf) on the grid (trapezoid rule). Cost O(n).
    """
    u, i_in = np.asarray(u, float), np.asarray(i_in, float)
    phi = (2 * c_f / psd) * np.concatenate([[0.0], np.cumsum(0.5 * (i_in[1:] + i_in[:-1]) * np.diff(u))])
    w = np.exp(phi - phi.max())
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(u))])
    return w / cum[-1], cum / cum[-1]
