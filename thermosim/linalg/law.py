"""The statistical law of the sampled inverse and solution: expected error and its spread, exactly.

The nominal circuits decouple into independent modes along the eigenvectors U of P: mode m has
variance σ_m and, at the noise-grid instants, a normalised autocorrelation ρ_m(k) fixed by the
integrator's own map (trapezoid, fixed step h; M = (I + hA/2)⁻¹(I − hA/2) — ngspice's, and with it
R(k) = M^k Σ exactly). For an rc node ρ_m(k) = r_m^|k|, r_m = (1 − κ_m h/2)/(1 + κ_m h/2), κ_m = g0 p_m/C;
for an rlc cell ρ_m comes from its 2×2 (v, i) map.

Covariance from n samples (raw second moment: the mean is known to be 0), E = Σ̂ − Σ in the mode basis
(the Frobenius norm is rotation invariant). By Isserlis and independence of modes the entries are
uncorrelated, asymptotically Gaussian, with

    Var E_mm = 2 σ_m² S_mm / n,   Var E_mn = σ_m σ_n S_mn / n  (m ≠ n),   S_mn = Σ_k ρ_m(k) ρ_n(k),

so  E‖E‖²_F = Σ_m v_mm + 2 Σ_{m<n} v_mn  and  Var ‖E‖²_F = 2 Σ_m v_mm² + 8 Σ_{m<n} v_mn².
For iid samples (S = 1) this is (tr²Σ + ‖Σ‖²_F)/n, i.e. rel_err² = (1 + d_eff)/n with d_eff =
tr²Σ/‖Σ‖²_F (= d when Σ ∝ I): the √((d+1)/N) law. We define N_eff by that identity.

Mean from n samples: Var ē_m = σ_m S_m / n with S_m = Σ_k ρ_m(k); E‖ē‖² = Σ v_m, Var = 2 Σ v_m².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

RHO_TOL = 1e-13  # lag sums stop when every |ρ_m(k)| is below this


@dataclass(frozen=True)
class Modes:
    """Independent modes of a nominal circuit on its sampling grid (units of the variables, V²)."""

    sigma: np.ndarray  # (d,) mode variances, V²
    s_pair: np.ndarray  # (d, d) S_mn = Σ_k ρ_m(k) ρ_n(k), k over all integers
    s_single: np.ndarray  # (d,) S_m = Σ_k ρ_m(k)

    @property
    def cov_norm(self) -> float:
        return float(np.linalg.norm(self.sigma))  # ‖Σ‖_F

    @property
    def d_eff(self) -> float:
        return float(self.sigma.sum() ** 2 / (self.sigma**2).sum())


def lag_sums(rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S_mn and S_m from autocorrelations rho (d, K) at lags 0..K−1 (two-sided: ρ(−k) = ρ(k))."""
    pair = 2.0 * rho @ rho.T - np.outer(rho[:, 0], rho[:, 0])
    single = 2.0 * rho.sum(1) - rho[:, 0]
    return pair, single


def rc_modes(p: np.ndarray, c_f: float, g0_s: float, kt_j: float, step_s: float) -> Modes:
    """Modes of the rc compilation: σ_m = kT/(C p_m), r_m = (1 − κh/2)/(1 + κh/2) with κ_m = g0 p_m/C.

    Closed-form lag sums: S_mn = (1 + r_m r_n)/(1 − r_m r_n), S_m = (1 + r_m)/(1 − r_m). Cost O(d³).
    """
    lam = np.linalg.eigvalsh(p)
    x = g0_s * lam / c_f * step_s / 2
    r = (1 - x) / (1 + x)
    rr = np.outer(r, r)
    return Modes(sigma=kt_j / (c_f * lam), s_pair=(1 + rr) / (1 - rr), s_single=(1 + r) / (1 - r))


def rlc_modes(
    p: np.ndarray, c_unit_f: float, l_h: float, r_parallel_ohm: float, kt_j: float, step_s: float
) -> Modes:
    """Modes of the rlc compilation with thermal noise: cell m has C_m = c_unit·p_m, the common L and R;
    its (v, i) drift A_m = [[1/(R C_m), 1/C_m], [−1/L, 0]] and diffusion D_m = diag(2kT/(R C_m²), 0).
    ρ_m(k) = (M_m^k Σ_m)_vv / (Σ_m)_vv with the trapezoid map M_m. Cost O(d·K) for K lags."""
    lam = np.linalg.eigvalsh(p)
    rhos, sig = [], []
    for lm in lam:
        cm = c_unit_f * lm
        a = np.array([[1 / (r_parallel_ohm * cm), 1 / cm], [-1 / l_h, 0.0]])
        s = linalg.solve_continuous_lyapunov(a, np.diag([2 * kt_j / (r_parallel_ohm * cm**2), 0.0]))
        m = np.linalg.solve(np.eye(2) + step_s * a / 2, np.eye(2) - step_s * a / 2)
        col, seq = s[:, 0].copy(), []
        while len(seq) < 10 or abs(seq[-1]) > RHO_TOL * s[0, 0] or abs(seq[-2]) > RHO_TOL * s[0, 0]:
            seq.append(col[0])
            col = m @ col
        rhos.append(np.asarray(seq) / s[0, 0])
        sig.append(s[0, 0])
    k = max(len(r) for r in rhos)
    rho = np.array([np.pad(r, (0, k - len(r))) for r in rhos])
    pair, single = lag_sums(rho)
    return Modes(sigma=np.asarray(sig), s_pair=pair, s_single=single)


def covariance_law(modes: Modes, n: int | np.ndarray) -> dict:
    """Expected relative Frobenius error of the sampled covariance (= of the sampled inverse) after n
    samples: ``rel_err_expected`` = √E‖E‖²/‖Σ‖, its standard deviation ``rel_err_se`` (delta method,
    SD(‖E‖²)/(2√E‖E‖²·‖Σ‖)), ``n_eff`` (iid samples giving the same error) and ``d_eff``."""
    s = modes.sigma
    v = np.outer(s, s) * modes.s_pair
    v[np.diag_indices_from(v)] *= 2.0
    iu = np.triu_indices_from(v, 1)
    e1 = np.trace(v) + 2.0 * v[iu].sum()  # × 1/n
    var1 = 2.0 * (np.diag(v) ** 2).sum() + 8.0 * (v[iu] ** 2).sum()  # × 1/n²
    n = np.asarray(n, float)
    norm = modes.cov_norm
    rms = np.sqrt(e1 / n) / norm
    return {
        "rel_err_expected": rms,
        "rel_err_se": np.sqrt(var1) / n / (2 * np.sqrt(e1 / n)) / norm,
        "n_eff": n * (norm**2 + s.sum() ** 2) / e1,
        "d_eff": modes.d_eff,
    }


def mean_law(modes: Modes, mean_norm: float, n: int | np.ndarray) -> dict:
    """Expected relative error ‖v̄ − μ‖/‖μ‖ of the sampled mean after n samples, and its SD."""
    v1 = modes.sigma * modes.s_single  # × 1/n
    n = np.asarray(n, float)
    e = v1.sum() / n
    return {
        "rel_err_expected": np.sqrt(e) / mean_norm,
        "rel_err_se": np.sqrt(2.0 * (v1**2).sum()) / n / (2 * np.sqrt(e)) / mean_norm,
        "n_eff": n * modes.sigma.sum() / v1.sum(),
    }


def checkpoints(n: int, first: int, count: int = 16) -> np.ndarray:
    """Sample counts for an error-vs-time curve: ``count`` geometric steps from ``first`` to ``n``."""
    first = max(2, min(first, n // 4))
    return np.unique(np.geomspace(first, n, count).astype(int))


def prefix_moments(x: np.ndarray, ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw second moments (1/n)Σ x xᵀ and means of the first n rows of x (n, d) for each n in ``ns``.
    Cost O(n·d²) (block sums between checkpoints)."""
    d = x.shape[1]
    m2, m1 = np.zeros((len(ns), d, d)), np.zeros((len(ns), d))
    acc2, acc1, start = np.zeros((d, d)), np.zeros(d), 0
    for j, n in enumerate(ns):
        block = x[start:n]
        acc2 += block.T @ block
        acc1 += block.sum(0)
        start = n
        m2[j], m1[j] = acc2 / n, acc1 / n
    return m2, m1
