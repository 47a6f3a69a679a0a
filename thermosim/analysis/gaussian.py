"""Samples vs an exact Gaussian reference: moments with error bars, covariance error, verdicts."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from .stats import Check, check, cov_rel_error, covariance_with_se, tau_int_columns

MAX_EXACT_SE_DIM = 16  # above this, covariance SEs use the Gaussian formula (O(d²) instead of O(d² n log n))


def bonferroni_k(m: int, k: float = 3.0) -> float:
    """Threshold in standard errors so that m checks together false-alarm as often as one k-SE check."""
    z = NormalDist()
    alpha = 2 * (1 - z.cdf(k))
    return max(k, z.inv_cdf(1 - alpha / (2 * max(m, 1))))


def compare_gaussian(
    samples: np.ndarray,
    dt_s: float,
    mean_theory: np.ndarray,
    cov_theory: np.ndarray,
    names: list[str],
    thin: int = 1,
) -> tuple[dict, list[Check]]:
    """Moments of correlated samples (n, d) vs N(mean_theory, cov_theory); SI units throughout.

    Error bars come from each series' integrated autocorrelation time (``stats``). Checks: every mean and
    covariance element within a Bonferroni-adjusted k·SE (family-wise false-alarm ≈ that of one 3-SE
    test), and the relative Frobenius covariance error within 3× its expected statistical size.
    ``thin``: estimate autocorrelation times on every thin-th sample (moments use all samples).
    """
    x = np.asarray(samples, float)
    d = x.shape[1]
    tau = tau_int_columns(x, thin=thin)
    mean = x.mean(axis=0)
    mean_se = np.sqrt(x.var(axis=0, ddof=1) * tau / len(x))
    if d <= MAX_EXACT_SE_DIM:
        cov, cov_se = covariance_with_se(x, thin=thin)
    else:  # d(d+1)/2 product-series FFTs would dominate: Gaussian (Isserlis) SE with τ = (τ_i + τ_j)/2
        cov = np.cov(x, rowvar=False)
        tau_ij = 0.5 * (tau[:, None] + tau[None, :])
        cov_se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) * tau_ij / len(x))
    n_eff = float(len(x) / tau.max())
    m = d + d * (d + 1) // 2
    k = bonferroni_k(m)
    known = bool(np.all(np.isfinite(cov_theory)) and np.all(np.isfinite(mean_theory)))
    checks = []
    rel = rel_se = None
    if known:  # a circuit without a closed-form reference (NaN theory) is measured, not judged
        rel, rel_se = cov_rel_error(cov, cov_theory, cov_se)
        checks = [check(f"mean[{names[i]}]", mean[i], mean_theory[i], mean_se[i], k) for i in range(d)]
        for i in range(d):
            for j in range(i, d):
                label = f"var[{names[i]}]" if i == j else f"cov[{names[i]},{names[j]}]"
                checks.append(check(label, cov[i, j], cov_theory[i, j], cov_se[i, j], k))
        checks.append(check("cov_rel_err", rel, 0.0, rel_se, 3.0))
    metrics = {
        "n_samples": len(x),
        "mean": mean.tolist(),
        "mean_se": mean_se.tolist(),
        "cov": cov.tolist(),
        "cov_se": cov_se.tolist(),
        "cov_theory": np.asarray(cov_theory).tolist() if known else None,
        "cov_rel_err": rel,
        "cov_rel_err_se": rel_se,
        "var_ratio": (np.diag(cov) / np.diag(cov_theory)).tolist() if known else None,
        "tau_int_s": (tau * dt_s).tolist(),
        "tau_int_max_s": float(tau.max() * dt_s),
        "n_eff": n_eff,
        "check_k": k,
    }
    return metrics, checks
