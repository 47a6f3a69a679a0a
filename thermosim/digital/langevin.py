"""Euler–Maruyama twin of the quartic-unit circuits (model units, docs/architecture.md).

    x_{k+1} = x_k − μ ∂V(x_k) Δt + √(2 μ kT Δt) ξ_k ,   ξ_k ~ N(0, I)

with V(x) = Σ (J₂x² + J₄x⁴ + b x) + Σ_(i<j) J_ij x_i x_j. Many independent chains advance together (one
numpy operation per step for all of them), so the cost is O(steps · chains · n) with a small constant.
"""

from __future__ import annotations

import numpy as np


def grad_v(x: np.ndarray, j2: float, j4: float, bias: np.ndarray, coupling: np.ndarray) -> np.ndarray:
    """∂V/∂x for states x of shape (chains, n)."""
    return 2 * j2 * x + 4 * j4 * x**3 + bias + x @ coupling


def euler_maruyama(
    j2: float,
    j4: float,
    kt: float,
    bias,
    coupling,
    *,
    chains: int,
    t_burn: float,
    t_record: float,
    dt: float = 1e-3,
    record_every: float = 0.5,
    mu: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Samples (chains × records, n) after a burn-in, recorded every ``record_every`` (model time)."""
    bias = np.asarray(bias, float)
    coupling = np.asarray(coupling, float)
    n = len(bias)
    rng = np.random.default_rng(seed)
    x = np.zeros((chains, n))
    amp = np.sqrt(2 * mu * kt * dt)
    burn, every, total = round(t_burn / dt), round(record_every / dt), round((t_burn + t_record) / dt)
    out = []
    for k in range(1, total + 1):
        x = x - mu * grad_v(x, j2, j4, bias, coupling) * dt + amp * rng.standard_normal((chains, n))
        if k > burn and (k - burn) % every == 0:
            out.append(x.copy())
    return np.concatenate(out)
