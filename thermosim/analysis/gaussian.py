"""Samples vs an exact Gaussian reference: moments with error bars, covariance error, verdicts."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from .stats import Check, check, cov_rel_error, covariance_with_se, tau_int_columns

MAX_EXACT_SE_DIM = 16  # above this, covariance SEs use the Gaussian formula (O(d²) instead of O(d² n log n))
# Bounded results whatever the size: up to MAX_ELEMENT_CHECKS element checks (d + d(d+1)/2: d ≤ 43) are
# stored one by one; above, the verdict still covers every element, but only the STORED_WORST elements
# with the largest |z| are stored, beside a summary of all. Covariance matrices (d² values) are stored
# up to MAX_MATRIX_DIM variables; above, their diagonals (the samples and the spec give the rest).
MAX_ELEMENT_CHECKS = 1000
STORED_WORST = 100
MAX_MATRIX_DIM = 64


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
    tau: np.ndarray | None = None,
) -> tuple[dict, list[Check]]:
    """Moments of correlated samples (n, d) vs N(mean_theory, cov_theory); SI units throughout.

    Error bars come from each series' integrated autocorrelation time (``stats``). Checks: every mean and
    covariance element within a Bonferroni-adjusted k·SE (family-wise false-alarm ≈ that of one 3-SE
    test), and the relative Frobenius covariance error within 3× its expected statistical size.
    ``thin``: estimate autocorrelation times on every thin-th sample (moments use all samples);
    ``tau``: the columns' autocorrelation times when the caller has them (``tau_int_columns(x, thin=thin)``).
    The result stays bounded for any d (:func:`element_checks`, MAX_MATRIX_DIM): ``check_summary``
    always covers every element. Cost O(n·d²) for the covariance, O(d²) for the checks.
    """
    x = np.asarray(samples, float)
    d = x.shape[1]
    tau = tau_int_columns(x, thin=thin) if tau is None else np.asarray(tau, float)
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
    checks, summary = [], None
    rel = rel_se = None
    if known:  # a circuit without a closed-form reference (NaN theory) is measured, not judged
        rel, rel_se = cov_rel_error(cov, cov_theory, cov_se)
        checks, summary = element_checks(names, (mean, mean_theory, mean_se), (cov, cov_theory, cov_se), k)
        checks.append(check("cov_rel_err", rel, 0.0, rel_se, 3.0))
        summary |= {"cov_rel_err": rel, "cov_rel_err_expected": rel_se}
    small = d <= MAX_MATRIX_DIM
    metrics = {
        "n_samples": len(x),
        "mean": mean.tolist(),
        "mean_se": mean_se.tolist(),
        "cov": cov.tolist() if small else None,
        "cov_se": cov_se.tolist() if small else None,
        "cov_theory": np.asarray(cov_theory).tolist() if known and small else None,
        "var": np.diag(cov).tolist(),
        "var_se": np.diag(cov_se).tolist(),
        "var_theory": np.diag(cov_theory).tolist() if known else None,
        "cov_rel_err": rel,
        "cov_rel_err_se": rel_se,
        "var_ratio": (np.diag(cov) / np.diag(cov_theory)).tolist() if known else None,
        "tau_int_s": (tau * dt_s).tolist(),
        "tau_int_max_s": float(tau.max() * dt_s),
        "n_eff": n_eff,
        "check_k": k,
        "check_summary": summary,
    }
    return metrics, checks


def element_checks(names: list[str], means: tuple, covs: tuple, k: float) -> tuple[list[Check], dict]:
    """Every mean and covariance element against theory within k·SE; (checks to store, summary).

    ``means`` = (measured, theory, SE) vectors (d,), ``covs`` = (measured, theory, SE) matrices (d, d);
    the elements are the d means and the d(d+1)/2 upper-triangle covariances, in that order. Up to
    MAX_ELEMENT_CHECKS elements each is a stored :class:`Check`; above, the STORED_WORST with the
    largest |z| = |measured − theory|/SE are, plus one check "elements_beyond_k_se" (measured: how many
    elements fail; passes at 0), so the verdict still covers them all. The summary counts elements and
    failures and gives the largest |z| of the means, variances and covariances (NaN counts as a
    failure, as in :func:`check`). Vectorised: O(d²) time and memory.
    """
    d = len(names)
    iu = np.triu_indices(d)
    measured, expected, se = (
        np.concatenate([np.asarray(v, float), np.asarray(c, float)[iu]])
        for v, c in zip(means, covs, strict=True)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(measured - expected) / se
    ok = np.abs(measured - expected) <= k * se  # False for NaN, like check()
    diag = np.concatenate([np.zeros(d, bool), iu[0] == iu[1]])
    kinds = {"mean": np.arange(d), "var": d + np.flatnonzero(diag[d:]), "cov": d + np.flatnonzero(~diag[d:])}
    summary = {
        "elements": int(len(z)),
        "failed": int(np.count_nonzero(~ok)),
        "k": k,
        **{f"max_abs_z_{kind}": _worst(z[idx]) for kind, idx in kinds.items()},
    }

    def label(e: int) -> str:
        if e < d:
            return f"mean[{names[e]}]"
        i, j = iu[0][e - d], iu[1][e - d]
        return f"var[{names[i]}]" if i == j else f"cov[{names[i]},{names[j]}]"

    if len(z) <= MAX_ELEMENT_CHECKS:
        stored = range(len(z))
    else:
        order = np.argsort(-np.where(np.isnan(z), np.inf, z), kind="stable")
        stored = np.sort(order[:STORED_WORST])
    checks = [check(label(e), measured[e], expected[e], se[e], k) for e in stored]
    summary["stored"] = len(checks)
    if len(z) > MAX_ELEMENT_CHECKS:
        checks.append(check("elements_beyond_k_se", summary["failed"], 0.0, 0.0, k))
    return checks, summary


def _worst(z: np.ndarray) -> float | None:
    """The largest |z| of a group (NaN if any is NaN; None for an empty group)."""
    return float(np.max(z)) if z.size else None
