"""Two-sample tests: the maximum mean discrepancy (MMD²) with a permutation noise floor.

Samples of any origin (SPICE or digital), arrays ``(n, d)``; rows may be autocorrelated, and are thinned
to ≈ independence (``tau``, the integrated autocorrelation time in rows, :mod:`.stats`) before a
permutation null is built, since permutation tests need exchangeable rows. MMD² is dimensionless.

Pure numpy/scipy: no SPICE imports, no plotting.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial.distance import pdist, squareform

from .stats import as_columns

__all__ = ["mmd", "mmd_test", "thin_step"]


def thin_step(tau: float | None) -> int:
    """Row spacing that makes a series with integrated autocorrelation time ``tau`` (rows) ≈ independent.

    ``step = max(1, ⌈2·tau − 1⌉)``: rows spaced by about 2·tau_int, as in :func:`.stats.ks_check`
    (``⌈2·tau⌉``), but one shorter so that independent rows (``tau = 1``, or ``None``) are not thinned.
    For an AR(1) with a = 0.9 (tau = 19) the step is 37 and the residual lag correlation a³⁷ = 0.02.
    """
    if tau is None:
        return 1
    if not tau > 0 or not math.isfinite(tau):
        raise ValueError(f"thin_step: tau must be a finite number > 0, got {tau!r}")
    return max(1, math.ceil(2.0 * tau - 1.0 - 1e-9))  # slack: (1 + 0.9)/(1 - 0.9) is 19 + 4e-15


def _subsample(a: np.ndarray, tau: float | None, max_n: int, rng: np.random.Generator) -> np.ndarray:
    """Evenly spaced rows: spacing max(thin_step(tau), ⌈n/max_n⌉), random (seeded) start, at most max_n."""
    step = max(thin_step(tau), math.ceil(a.shape[0] / max_n))
    return a[int(rng.integers(step)) :: step][:max_n]


def _pooled_kernel(z: np.ndarray, bandwidth: float | None, who: str, kernel: str = "gaussian"):
    """Kernel matrix of the pooled rows, and its scale.

    ``gaussian``: ``K_ij = exp(−‖z_i − z_j‖² / (2 h²))``, median heuristic h = median pairwise Euclidean
    distance ‖z_i − z_j‖, i < j (a characteristic kernel: any difference of laws shows, given rows).
    ``quadratic``: ``K_ij = (1 + u_iᵀu_j / d)²`` on the pooled rows standardised per column (u), whose
    feature space is the monomials of degree ≤ 2: its MMD compares means and covariances only, and so
    detects a covariance change with far fewer rows than the Gaussian kernel (the scale returned is 1).
    Cost: O(N² d) time, O(N²) memory (N = rows of z).
    """
    if kernel == "quadratic":
        phi = _quadratic_features(z)
        return phi @ phi.T, 1.0
    if kernel != "gaussian":
        raise ValueError(f"{who}: kernel must be 'gaussian' or 'quadratic', got {kernel!r}")
    d2 = pdist(z, "sqeuclidean")
    if bandwidth is None:
        bandwidth = math.sqrt(float(np.median(d2)))
        if not bandwidth > 0:
            raise ValueError(f"{who}: median pairwise distance is 0 (constant data); pass a bandwidth")
    elif not bandwidth > 0:
        raise ValueError(f"{who}: bandwidth must be > 0, got {bandwidth!r}")
    d2 *= -0.5 / bandwidth**2
    np.exp(d2, out=d2)
    k = squareform(d2, checks=False)
    np.fill_diagonal(k, 1.0)
    return k, float(bandwidth)


def _quadratic_features(z: np.ndarray) -> np.ndarray:
    """Explicit features of the quadratic kernel: φ(u) = [1, √(2/d)·u, vec(u uᵀ)/d] on the pooled rows
    standardised per column, so that φ(u)·φ(v) = (1 + uᵀv/d)². Shape (N, 1 + d + d²)."""
    sd = z.std(axis=0)
    u = (z - z.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    n, d = u.shape
    return np.hstack(
        [np.ones((n, 1)), math.sqrt(2 / d) * u, (u[:, :, None] * u[:, None, :]).reshape(n, -1) / d]
    )


def _mmd2_from_sums(s_aa, row_a, s_all: float, diag_a, diag_all: float, m: int, n: int):
    """Unbiased MMD² of a split of the pooled rows into A (m rows) and B (n rows), from kernel sums.

    ``s_aa = aᵀKa``, ``row_a = aᵀK1`` and ``diag_a = aᵀdiag(K)`` for the indicator a of A; ``s_all = 1ᵀK1``,
    ``diag_all = tr K``.
    ``MMD²_u = Σ_{i≠j∈A} k/(m(m−1)) + Σ_{i≠j∈B} k/(n(n−1)) − 2 Σ_{i∈A, j∈B} k/(mn)``.
    """
    s_ab = row_a - s_aa
    s_bb = s_all - 2.0 * row_a + s_aa
    diag_b = diag_all - diag_a
    return (s_aa - diag_a) / (m * (m - 1.0)) + (s_bb - diag_b) / (n * (n - 1.0)) - 2.0 * s_ab / (m * n)


def _prepare_pair(x, y, tau_x, tau_y, max_n, seed, who):
    a = as_columns(x, who)
    b = as_columns(y, who)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{who}: x has d = {a.shape[1]} columns but y has {b.shape[1]}")
    if max_n < 2:
        raise ValueError(f"{who}: max_n must be >= 2, got {max_n!r}")
    rng = np.random.default_rng(seed)
    a, b = _subsample(a, tau_x, max_n, rng), _subsample(b, tau_y, max_n, rng)
    if a.shape[0] < 2 or b.shape[0] < 2:
        raise ValueError(
            f"{who}: need >= 2 rows per sample after thinning, got {a.shape[0]} and {b.shape[0]} "
            f"(series too short for the given tau)"
        )
    return a, b


def mmd(
    x: np.ndarray,
    y: np.ndarray,
    bandwidth: float | None = None,
    max_n: int = 2000,
    seed: int = 0,
    tau_x: float | None = None,
    tau_y: float | None = None,
    kernel: str = "gaussian",
) -> float:
    """Unbiased squared maximum mean discrepancy between the row laws of x ``(n_x, d)`` and y ``(n_y, d)``.

    ``MMD²_u = mean_{i≠j} k(x_i, x_j) + mean_{i≠j} k(y_i, y_j) − 2 mean_{i,j} k(x_i, y_j)`` with the
    Gaussian kernel ``k(u, v) = exp(−‖u − v‖² / (2 h²))``; ``h`` defaults to the median heuristic, the
    median pairwise Euclidean distance of the pooled (subsampled) rows. Dimensionless; can be slightly
    negative when the laws agree (unbiased). Columns are not rescaled: whiten first if their scales differ
    a lot, otherwise the widest column dominates the kernel.

    Rows are subsampled by evenly spaced thinning (seeded random start), which keeps time series
    stationary-representative: spacing ``thin_step(tau)`` if a tau is given (≈ independent rows), widened
    further so that at most ``max_n`` rows of each sample are used. Cost: O(max_n² d) time, O(max_n²)
    memory (peak ≈ 6 max_n² × 8 bytes, 190 MB at max_n = 2000).
    """
    a, b = _prepare_pair(x, y, tau_x, tau_y, max_n, seed, "mmd")
    k, _ = _pooled_kernel(np.vstack([a, b]), bandwidth, "mmd", kernel)
    m, n = a.shape[0], b.shape[0]
    row = k[:m].sum(axis=1)
    dg = np.diag(k)
    return float(
        _mmd2_from_sums(
            float(k[:m, :m].sum()), float(row.sum()), float(k.sum()), dg[:m].sum(), dg.sum(), m, n
        )
    )


def mmd_test(
    x: np.ndarray,
    y: np.ndarray,
    n_perm: int = 200,
    tau_x: float = 1.0,
    tau_y: float = 1.0,
    seed: int = 0,
    bandwidth: float | None = None,
    max_n: int = 2000,
    alpha: float = 0.05,
    kernel: str = "gaussian",
) -> dict[str, float | int | bool]:
    """MMD² two-sample test with a permutation null; "agree within noise" means ``mmd2 <= floor``.

    Each series is thinned to every ``thin_step(tau)``-th row (≈ independent rows, which the label
    exchangeability of a permutation test requires; without it the null is far too narrow and equal laws
    are "distinguished"), then to at most ``max_n`` rows (see :func:`mmd`). The rows are pooled, the
    Gaussian kernel matrix K (median-heuristic bandwidth on the pool, fixed across permutations) is built
    once, and each of the ``n_perm`` seeded label permutations is scored from kernel sums,
    ``aᵀKa`` and ``aᵀK1`` for its indicator vector a (one matrix product for all permutations).

    ``kernel``: "gaussian" (any difference of laws) or "quadratic" (means and covariances, far more
    powerful for those; see :func:`_pooled_kernel`).

    Returns ``mmd2`` (observed unbiased MMD²), ``floor`` (the ``1 − alpha`` quantile of the permutation
    null, 95 % by default), ``p_value`` = (1 + #{null ≥ mmd2}) / (1 + n_perm), ``agree`` (mmd2 <= floor),
    ``n_x``, ``n_y`` (rows used), ``bandwidth``, ``n_perm``. Under equal laws ``mmd2 > floor`` happens
    with probability ≈ alpha. Cost: O(N² (d + n_perm)) time, O(N (N + n_perm)) memory, N = n_x + n_y.
    """
    who = "mmd_test"
    if n_perm < 1:
        raise ValueError(f"{who}: n_perm must be >= 1, got {n_perm!r}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"{who}: alpha must be in (0, 1), got {alpha!r}")
    a, b = _prepare_pair(x, y, tau_x, tau_y, max_n, seed, who)
    m, n = a.shape[0], b.shape[0]
    big_n = m + n
    rng = np.random.default_rng([seed, 1])
    labels = np.zeros((n_perm + 1, big_n))
    labels[0, :m] = 1.0  # observed split first, then the permutations
    for p in range(1, n_perm + 1):
        labels[p, rng.permutation(big_n)[:m]] = 1.0
    if kernel == "quadratic":  # K = ΦΦᵀ with few features: every sum in O(N·features), no N×N matrix
        phi, h = _quadratic_features(np.vstack([a, b])), 1.0
        total = phi.sum(axis=0)
        row_sums, dg = phi @ total, np.einsum("ij,ij->i", phi, phi)
        s_aa = np.square(labels @ phi).sum(axis=1)
    else:
        k, h = _pooled_kernel(np.vstack([a, b]), bandwidth, who, kernel)
        row_sums, dg = k.sum(axis=1), np.diag(k)
        s_aa = np.einsum("pi,ip->p", labels, k @ labels.T)
    stats = _mmd2_from_sums(
        s_aa, labels @ row_sums, float(row_sums.sum()), labels @ dg, float(dg.sum()), m, n
    )
    observed, null = float(stats[0]), stats[1:]
    floor = float(np.quantile(null, 1.0 - alpha))
    return {
        "mmd2": observed,
        "floor": floor,
        "p_value": float((1 + np.count_nonzero(null >= observed)) / (1 + n_perm)),
        "agree": bool(observed <= floor),
        "n_x": int(m),
        "n_y": int(n),
        "bandwidth": h,
        "n_perm": int(n_perm),
        "kernel": kernel,
    }
