"""Diffusion schedule and samplers, in numpy, for any noise predictor ε(x, t) (no framework needed).

Forward (noising) process of Ho et al. 2020 on data rows x₀ ∈ ℝᵈ of unit scale::

    q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I),   t = 0 … T−1   (0-based: t = 0 is the first noising step)

Schedule: the *cosine* schedule of Nichol & Dhariwal 2021 (eq. 17), ᾱ(t) = f(t)/f(0) with
f(u) = cos²(π/2 · (u/T + s)/(1 + s)), s = 0.008, evaluated at u = t + 1, and each β_t = 1 − ᾱ_t/ᾱ_{t−1}
capped at 0.999 so that ᾱ_{T−1} > 0 (≈ 1e-9 for T = 1000: x_{T−1} is pure noise).

Samplers run the reverse chain on a *respaced* subset τ_1 < … < τ_K of the T timesteps (Nichol & Dhariwal
§4): the respaced chain has the same marginals q(x_τ | x₀) as the full one, and β'_k = 1 − ᾱ_{τ_k}/ᾱ_{τ_{k−1}}
(ᾱ_{τ_0} = 1). Two samplers:

* ``ancestral``: x̂₀ = (x − √(1 − ᾱ) ε)/√ᾱ (clipped to [−clip, clip]);
  x ← √ᾱ' β'/(1 − ᾱ) · x̂₀ + √(1 − β') (1 − ᾱ')/(1 − ᾱ) · x + σ z with the posterior variance
  σ² = β̃ = β' (1 − ᾱ')/(1 − ᾱ) (ᾱ = ᾱ_{τ_k}, ᾱ' = ᾱ_{τ_{k−1}}); no noise on the last step.
* ``ddim`` (Song et al. 2021, η = 0, deterministic given x_T): x ← √ᾱ' x̂₀ + √(1 − ᾱ') ε̂ with
  ε̂ = (x − √ᾱ x̂₀)/√(1 − ᾱ) (ε re-derived from the clipped x̂₀).

Everything is dimensionless (data units). Cost: one call of ε per step for all n rows; the samplers add
O(n·d) arithmetic per step. Randomness: numpy ``default_rng(seed)`` draws x_T, then the step noises.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BETA_MAX = 0.999
COSINE_OFFSET = 0.008
SAMPLERS = ("ancestral", "ddim")

EpsFn = Callable[[np.ndarray, int], np.ndarray]


def cosine_alpha_bar(total: int) -> np.ndarray:
    """ᾱ_t for t = 0 … T−1 of the cosine schedule, β capped at 0.999 (module docstring)."""
    if total < 2:
        raise ValueError(f"diffusion steps T must be >= 2, got {total}")
    u = np.arange(total + 1) / total
    f = np.cos(0.5 * np.pi * (u + COSINE_OFFSET) / (1 + COSINE_OFFSET)) ** 2
    betas = np.minimum(1.0 - f[1:] / f[:-1], BETA_MAX)
    return np.cumprod(1.0 - betas)


def respaced_timesteps(total: int, steps: int) -> np.ndarray:
    """``steps`` evenly spaced 0-based timesteps 0 = τ_1 < … < τ_steps = T−1 (one step: [T−1])."""
    if not (isinstance(steps, int | np.integer) and 1 <= steps <= total):
        raise ValueError(f"sampling steps must be an integer in 1..{total} (the training steps), got {steps}")
    if steps == 1:
        return np.array([total - 1])
    tau = np.round(np.linspace(0, total - 1, steps)).astype(int)
    if np.any(np.diff(tau) <= 0):  # cannot happen for steps <= total; kept as a guard
        raise ValueError(f"respacing {total} steps to {steps} gave repeated timesteps")
    return tau


def respaced_betas(alpha_bar: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """β'_k = 1 − ᾱ_{τ_k}/ᾱ_{τ_{k−1}} with ᾱ_{τ_0} = 1: the respaced chain's own schedule."""
    abar = np.asarray(alpha_bar, float)[tau]
    return 1.0 - abar / np.concatenate([[1.0], abar[:-1]])


def sample(
    eps: EpsFn,
    alpha_bar: np.ndarray,
    n: int,
    d: int,
    steps: int,
    seed: int,
    *,
    sampler: str = "ancestral",
    clip: float | None = 1.0,
) -> np.ndarray:
    """n rows (n, d) drawn by the reverse chain respaced to ``steps`` (module docstring for the updates).

    ``eps(x, t)`` returns the predicted noise (n, d) for states x at the 0-based training timestep t.
    ``clip`` bounds x̂₀ (1.0 for data scaled to [−1, 1]; None disables it). Cost: ``steps`` calls of eps.
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if n < 1 or d < 1:
        raise ValueError(f"need n >= 1 rows of d >= 1 values, got n = {n}, d = {d}")
    alpha_bar = np.asarray(alpha_bar, float)
    tau = respaced_timesteps(len(alpha_bar), steps)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    for k in range(steps - 1, -1, -1):
        a, a_prev = alpha_bar[tau[k]], (alpha_bar[tau[k - 1]] if k > 0 else 1.0)
        e = np.asarray(eps(x, int(tau[k])), float)
        x0 = (x - np.sqrt(1 - a) * e) / np.sqrt(a)
        if clip is not None:
            x0 = np.clip(x0, -clip, clip)
        if sampler == "ddim":
            e_hat = (x - np.sqrt(a) * x0) / np.sqrt(1 - a)
            x = np.sqrt(a_prev) * x0 + np.sqrt(1 - a_prev) * e_hat
            continue
        beta = 1.0 - a / a_prev
        x = (np.sqrt(a_prev) * beta * x0 + np.sqrt(1 - beta) * (1 - a_prev) * x) / (1 - a)
        if k > 0:
            x = x + np.sqrt(beta * (1 - a_prev) / (1 - a)) * rng.standard_normal(x.shape)
    return x


def gaussian_eps(mean: np.ndarray, cov: np.ndarray, alpha_bar: np.ndarray) -> EpsFn:
    """The exact (minimum-MSE) noise predictor for data N(m, S): a known answer for tests.

    x_t = √ᾱ x₀ + √(1 − ᾱ) ε is Gaussian with x₀, so E[ε | x_t] = √(1 − ᾱ) (ᾱ S + (1 − ᾱ) I)⁻¹ (x_t − √ᾱ m).
    """
    mean, cov = np.asarray(mean, float), np.asarray(cov, float)
    eye = np.eye(len(mean))

    def eps(x: np.ndarray, t: int) -> np.ndarray:
        a = alpha_bar[t]
        gain = np.sqrt(1 - a) * np.linalg.inv(a * cov + (1 - a) * eye)
        return (x - np.sqrt(a) * mean) @ gain.T

    return eps
