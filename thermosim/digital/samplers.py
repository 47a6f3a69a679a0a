"""The field's digital Gaussian samplers, beside the circuit: exact Cholesky draws and thermox's OU sampler.

Law. A linear noisy circuit C dv = −G v dt + dQ (white currents, E[dQ dQᵀ] = S dt) is the Ornstein–
Uhlenbeck process dx = −A x dt + dW, E[dW dWᵀ] = D dt, with A = C⁻¹G and D = C⁻¹ S C⁻¹; its stationary
covariance Σ solves A Σ + Σ Aᵀ = D (:func:`thermosim.analysis.theory.lyapunov_covariance`, exact for
any drift).

Samplers:

* :func:`cholesky_samples` — exact and independent: x = L z, Σ = L Lᵀ, z ~ N(0, I). Cost per sample:
  d(d+1)/2 MACs (plus d normal draws).
* :func:`thermox_samples` — thermox's ``sample`` (Normal Computing's JAX library: "exact" OU sampling
  by diagonalisation), recorded every ``dt``. In the whitened variable y = D^{−½} x its transition uses
  the exact mean e^{−A_y Δt} y but the covariance V diag((1 − e^{−2λΔt})/(2λ)) Vᵀ of the *symmetric part*
  (λ, V: eigenpairs of (A_y + A_yᵀ)/2). That equals the exact ∫₀^Δt e^{−A_y s} e^{−A_yᵀ s} ds only if
  A_y is normal (A_y A_yᵀ = A_yᵀ A_y). :func:`thermox_covariance` gives the stationary covariance its
  chain actually has (a discrete Lyapunov equation); for a normal drift it is Σ, otherwise it is wrong.
  Cost per recorded sample: two complex d×d and two real d×d matrix–vector products, counted as
  2·4d² + 2d² = 10 d² real MACs (:func:`thermox_macs`).

Units follow the inputs (x in the units whose covariance is Σ; times in the units of 1/A).
"""

from __future__ import annotations

import time

import numpy as np
from scipy import linalg


def ou_matrices(c: np.ndarray, g: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, D) = (C⁻¹G, C⁻¹ S C⁻¹) of C dv = −G v dt + dQ with E[dQ dQᵀ] = S dt (1/s and V²/s)."""
    c_inv = np.linalg.inv(np.asarray(c, float))
    return c_inv @ np.asarray(g, float), c_inv @ np.asarray(s, float) @ c_inv.T


def whitened_drift(a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A_y = L⁻¹ A L with D = L Lᵀ (Cholesky): the drift of y = L⁻¹ x, whose diffusion is I."""
    chol = np.linalg.cholesky(np.asarray(d, float))
    return np.linalg.solve(chol, np.asarray(a, float) @ chol)


def non_normality(a: np.ndarray, d: np.ndarray) -> float:
    """‖A_y A_yᵀ − A_yᵀ A_y‖_F / ‖A_y‖_F²: 0 for a normal whitened drift (where thermox is exact)."""
    ay = whitened_drift(a, d)
    return float(np.linalg.norm(ay @ ay.T - ay.T @ ay) / np.linalg.norm(ay) ** 2)


def thermox_covariance(a: np.ndarray, d: np.ndarray, dt: float) -> np.ndarray:
    """Stationary covariance of thermox's chain recorded every dt (its transition rule, module docstring).

    y_{k+1} = M y_k + Q^½ z with M = e^{−A_y dt}, Q = V diag((1 − e^{−2λ dt})/(2λ)) Vᵀ, so
    Σ_y = M Σ_y Mᵀ + Q (scipy's discrete Lyapunov solver) and Σ_x = L Σ_y Lᵀ. Equals the exact Σ for a
    normal A_y at every dt.
    """
    chol = np.linalg.cholesky(np.asarray(d, float))
    ay = whitened_drift(a, d)
    lam, vec = np.linalg.eigh(0.5 * (ay + ay.T))
    q = (vec * ((1 - np.exp(-2 * lam * dt)) / (2 * lam))) @ vec.T
    sigma_y = linalg.solve_discrete_lyapunov(linalg.expm(-ay * dt), q)
    return chol @ (0.5 * (sigma_y + sigma_y.T)) @ chol.T


def thermox_samples(a: np.ndarray, d: np.ndarray, n: int, dt: float, seed: int) -> tuple[np.ndarray, float]:
    """n states (n, d) of thermox's OU sampler for dx = −A x dt + dW, recorded every dt after a burn-in.

    The chain starts at x = 0 and runs ``burn = ceil(10/(λ_min dt))`` steps (10 slowest relaxation times)
    before recording. Uses ``thermox.sample`` with ``jax.random.PRNGKey(seed)``; float64 on (jax x64).
    Returns (samples, CPU seconds of the sampling call; a first call of the same shapes compiles it and
    is not timed).
    """
    from .ddpm_net import jax_modules

    jax, jnp, _ = jax_modules()
    try:
        import thermox
    except ImportError:
        raise ValueError("thermox is not installed: pip install 'thermosim[digital]'") from None
    a, d = np.asarray(a, float), np.asarray(d, float)
    slowest = float(np.min(np.linalg.eigvals(a).real))
    burn = int(np.ceil(10.0 / (slowest * dt)))
    with jax.enable_x64(True):
        ts = jnp.arange(burn + n, dtype=jnp.float64) * dt
        args = (ts, jnp.zeros(len(a)), jnp.asarray(a), jnp.zeros(len(a)), jnp.asarray(d))
        run = jax.jit(thermox.sample)
        run(jax.random.PRNGKey(seed + 1), *args).block_until_ready()  # compile (untimed)
        cpu0 = time.process_time()
        out = run(jax.random.PRNGKey(seed), *args).block_until_ready()
        cpu = time.process_time() - cpu0
    return np.asarray(out, float)[burn:], cpu


def thermox_macs(dim: int) -> int:
    """Real MACs per recorded thermox sample: 2 complex (4 real MACs each) + 2 real d×d mat-vecs."""
    return 10 * dim * dim


def cholesky_samples(cov: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, float]:
    """n independent draws of N(0, Σ) as z Lᵀ (numpy default_rng(seed)); (samples, CPU seconds)."""
    cpu0 = time.process_time()
    chol = np.linalg.cholesky(np.asarray(cov, float))
    x = np.random.default_rng(seed).standard_normal((n, len(chol))) @ chol.T
    return x, time.process_time() - cpu0


def cholesky_macs(dim: int) -> int:
    """MACs per Cholesky sample: the lower-triangular product L z, d(d+1)/2."""
    return dim * (dim + 1) // 2
