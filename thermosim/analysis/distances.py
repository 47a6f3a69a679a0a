"""Distances between distributions, computed from samples of any origin (SPICE or digital).

Samples are arrays of shape ``(n, d)`` (1-D input counts as ``d = 1``); rows may be autocorrelated in
time. Where a statistic's null size or validity depends on independence, the function says how the
integrated autocorrelation time ``tau`` (in rows, see :mod:`.stats`) enters. KL divergences are in nats;
Wasserstein distances carry the units of the samples; MMD² is dimensionless (kernel values are in [0, 1]).

Pure numpy/scipy: no SPICE imports, no plotting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.linalg import LinAlgError, cholesky, solve_triangular
from scipy.spatial.distance import pdist, squareform
from scipy.stats import wasserstein_distance

from .stats import effective_sample_size, tau_int_columns

__all__ = [
    "ess_summary",
    "gaussian_kl",
    "marginal_hist_kl",
    "mmd",
    "mmd_test",
    "sample_gaussian_kl",
    "thin_step",
    "wasserstein1",
]

Cdf = Callable[[np.ndarray], np.ndarray]
Reference = np.ndarray | Cdf | Sequence[Cdf]

PSEUDO_COUNT = 0.5  # per-bin pseudo-count of the histogram KL (Krichevsky–Trofimov / Jeffreys prior)
CDF_TAIL_TOL = 1e-12  # the CDF-path W1 integrates until F < tol on the left and 1 − F < tol on the right


# ---------------------------------------------------------------- input checks


def _as_columns(x, who: str) -> np.ndarray:
    """Float array (n, d) from (n,) or (n, d) input with n >= 2, or ValueError naming the caller."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"{who}: need samples of shape (n,) or (n, d) with n >= 2, got {np.shape(x)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{who}: samples contain NaN or infinite values")
    return a


def _spd_cholesky(cov: np.ndarray, who: str, name: str) -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive-definite matrix, or ValueError naming the problem."""
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"{who}: {name} contains non-finite values")
    scale = float(np.max(np.abs(cov))) if cov.size else 0.0
    if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{who}: {name} is not symmetric")
    try:
        return cholesky(cov, lower=True)
    except LinAlgError:
        raise ValueError(f"{who}: {name} is not positive definite") from None


def _mean_cov(mean, cov, who: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) as float arrays (scalars allowed for d = 1), shapes checked."""
    m = np.atleast_1d(np.asarray(mean, dtype=float))
    c = np.atleast_2d(np.asarray(cov, dtype=float))
    if m.ndim != 1 or c.shape != (m.size, m.size):
        raise ValueError(f"{who}: mean_{name} has shape {m.shape} but cov_{name} has shape {c.shape}")
    return m, c


# ---------------------------------------------------------------- Gaussian KL


def gaussian_kl(mean_p, cov_p, mean_q, cov_q) -> float:
    """Closed-form ``KL(N_p ‖ N_q)`` in nats.

    ``KL = ½ [tr(Σq⁻¹Σp) + (μq−μp)ᵀ Σq⁻¹ (μq−μp) − d + ln det Σq − ln det Σp]``, evaluated with the
    Cholesky factors ``Σ = L Lᵀ`` and triangular solves (no explicit inverse):
    ``tr(Σq⁻¹Σp) = ‖Lq⁻¹ Lp‖²_F``, the Mahalanobis term is ``‖Lq⁻¹ δ‖²`` and
    ``ln det Σ = 2 Σ ln diag L``. Scalars are accepted for ``d = 1``. Cost: O(d³).

    Raises ValueError on shape mismatch or if either covariance is not symmetric positive definite.
    """
    who = "gaussian_kl"
    mp, cp = _mean_cov(mean_p, cov_p, who, "p")
    mq, cq = _mean_cov(mean_q, cov_q, who, "q")
    if mp.size != mq.size:
        raise ValueError(f"{who}: dimension mismatch, p has d = {mp.size} and q has d = {mq.size}")
    lp = _spd_cholesky(cp, who, "cov_p")
    lq = _spd_cholesky(cq, who, "cov_q")
    a = solve_triangular(lq, lp, lower=True)
    b = solve_triangular(lq, mq - mp, lower=True)
    logdet_ratio = 2.0 * float(np.sum(np.log(np.diag(lq))) - np.sum(np.log(np.diag(lp))))
    kl = 0.5 * (float(np.sum(a * a)) + float(b @ b) - mp.size + logdet_ratio)
    return max(kl, 0.0)  # rounding can give −1e-16 for identical laws


def sample_gaussian_kl(x: np.ndarray, mean, cov, tau: float | None = None) -> dict[str, float]:
    """``KL(N(x̄, Σ̂) ‖ N(mean, cov))`` of the sample Gaussian fit against theory, with its null size.

    ``x̄`` is the sample mean and ``Σ̂`` the sample covariance (ddof = 1) of the rows of ``x`` ``(n, d)``.

    Null size. For n independent rows from N(mean, cov), write the whitened fit as
    ``Σ⁻¹Σ̂ = I + E`` and ``Σ^{-½}(x̄−μ) = e``. To second order
    ``KL ≈ ½ eᵀe + ¼ tr(E²)`` (from ``tr E − ln det(I+E) ≈ ½ tr E²``), with ``E[eᵀe] = d/n`` and
    ``E[tr E²] = Σ_ij (1+δ_ij)/n = d(d+1)/n`` (Wishart). Hence
    ``E[KL] ≈ d/(2n) + d(d+1)/(4n) = d(d+3)/(4n)``. Equivalently ``2n·KL`` is asymptotically a
    likelihood-ratio statistic, ``χ²`` with ``k = d(d+3)/2`` degrees of freedom, so its standard
    deviation is ``√(2k)/(2n)``. Correlated rows: n is replaced by ``n_eff`` = n / max-column
    ``tau_int`` (:func:`.stats.effective_sample_size`, or ``n / tau`` if ``tau`` is given). This is
    conservative for the covariance part, whose product series decorrelate faster than the columns
    (AR(1): ``(1+a²)/(1−a²)`` vs ``(1+a)/(1−a)``), so ``kl`` typically lands below ``kl_expected``.

    Returns ``kl`` (nats), ``kl_expected`` = d(d+3)/(4 n_eff), ``kl_sd`` = √(d(d+3))/(2 n_eff),
    ``n_eff``. Cost: O(n d² + d n log n) (the autocorrelation times), O(n d²) if ``tau`` is given.
    """
    who = "sample_gaussian_kl"
    a = _as_columns(x, who)
    n, d = a.shape
    m, c = _mean_cov(mean, cov, who, "theory")
    if m.size != d:
        raise ValueError(f"{who}: samples have d = {d} columns but the theory has d = {m.size}")
    if n <= d:
        raise ValueError(f"{who}: need n > d rows for a non-singular sample covariance, got n = {n}, d = {d}")
    if tau is not None and not tau > 0:
        raise ValueError(f"{who}: tau must be > 0, got {tau!r}")
    _spd_cholesky(c, who, "theory cov")
    cov_hat = np.atleast_2d(np.cov(a, rowvar=False))
    _spd_cholesky(cov_hat, who, "sample covariance (constant or collinear columns?)")
    n_eff = n / tau if tau is not None else effective_sample_size(a)
    kl = gaussian_kl(a.mean(axis=0), cov_hat, m, c)
    return {
        "kl": kl,
        "kl_expected": d * (d + 3) / (4.0 * n_eff),
        "kl_sd": math.sqrt(d * (d + 3)) / (2.0 * n_eff),
        "n_eff": float(n_eff),
    }


# ---------------------------------------------------------------- marginal distances


def _reference(y_or_cdf: Reference, d: int, who: str) -> tuple[np.ndarray | None, list[Cdf] | None]:
    """Split a reference into (samples (m, d), None) or (None, d CDF callables)."""
    if callable(y_or_cdf):
        return None, [y_or_cdf] * d
    if isinstance(y_or_cdf, list | tuple) and y_or_cdf and all(callable(f) for f in y_or_cdf):
        if len(y_or_cdf) != d:
            raise ValueError(f"{who}: got {len(y_or_cdf)} CDF callables for d = {d} columns")
        return None, list(y_or_cdf)
    y = _as_columns(y_or_cdf, who)
    if y.shape[1] != d:
        raise ValueError(f"{who}: x has d = {d} columns but the reference samples have {y.shape[1]}")
    return y, None


def _cdf_values(cdf: Cdf, t: np.ndarray, who: str) -> np.ndarray:
    f = np.asarray(cdf(t), dtype=float)
    if f.shape != t.shape or not np.all((f >= 0.0) & (f <= 1.0)):
        raise ValueError(f"{who}: the reference CDF must map an array to values in [0, 1] of the same shape")
    return f


def _smoothed(counts: np.ndarray, n: float) -> np.ndarray:
    return (counts + PSEUDO_COUNT) / (n + PSEUDO_COUNT * counts.size)


def marginal_hist_kl(x: np.ndarray, y_or_cdf: Reference, bins: int | None = None) -> np.ndarray:
    """Per-column histogram ``KL(p_x ‖ q_ref)`` in nats, shape ``(d,)``.

    ``y_or_cdf`` is either reference samples ``(m, d)`` / ``(m,)``, or a CDF ``F(t)`` (vectorised over
    a 1-D array; used for every column), or a list of ``d`` such CDFs. ``KL = Σ_k p_k ln(p_k / q_k)``.

    Bins: ``bins`` bins per column (default: Rice rule ``2 n^(1/3)`` on the smaller sample, clipped to
    [4, 100]) with interior edges at the pooled quantiles ``k/bins`` (x and y pooled; x alone against a
    CDF), so bins are about equiprobable, and open outer bins (−∞, e₁), (e_B, ∞) so no mass is lost.
    Tied edges (discrete data) are merged. Reference bin probabilities from a CDF are
    ``F(e_k) − F(e_{k−1})``.

    Smoothing: each histogram gets a pseudo-count of ½ per bin, ``p_k = (c_k + ½)/(n + B/2)``; a CDF
    reference is smoothed as if it were n_x samples with exactly expected counts,
    ``q_k = (n_x F_k + ½)/(n_x + B/2)``. An empty bin thus gives a large but finite KL, and the two
    sides are shrunk alike (the shrinkage changes KL by a factor ≈ 1 − B/n).

    Null size (both laws equal, independent rows): ``E[KL] ≈ (B−1)/2 · (1/n_x + 1/n_y)``, and
    ``(B−1)/(2 n_x)`` against a CDF (``2n·KL`` ~ χ² with B−1 dof). For correlated rows use
    ``n_eff = n / tau_int``. Cost: O(d (n + m) log(n + m)).
    """
    who = "marginal_hist_kl"
    a = _as_columns(x, who)
    n, d = a.shape
    y, cdfs = _reference(y_or_cdf, d, who)
    n_small = n if y is None else min(n, y.shape[0])
    n_bins = int(np.clip(round(2 * n_small ** (1 / 3)), 4, 100)) if bins is None else int(bins)
    if n_bins < 2:
        raise ValueError(f"{who}: bins must be >= 2, got {bins!r}")
    out = np.empty(d)
    probs = np.arange(1, n_bins) / n_bins
    for j in range(d):
        xj = a[:, j]
        pooled = xj if y is None else np.concatenate([xj, y[:, j]])
        edges = np.unique(np.quantile(pooled, probs))
        n_b = edges.size + 1
        p = _smoothed(np.bincount(np.searchsorted(edges, xj, side="right"), minlength=n_b), n)
        if y is None:
            f = np.concatenate([[0.0], _cdf_values(cdfs[j], edges, who), [1.0]])
            q = _smoothed(n * np.clip(np.diff(f), 0.0, None), n)
        else:
            counts_y = np.bincount(np.searchsorted(edges, y[:, j], side="right"), minlength=n_b)
            q = _smoothed(counts_y, y.shape[0])
        out[j] = float(np.sum(p * np.log(p / q)))
    return out


def _w1_to_cdf(xs: np.ndarray, cdf: Cdf, n_grid: int, who: str) -> float:
    """∫ |F_n(t) − F(t)| dt for sorted samples xs: trapezoid on the union of a uniform grid and the samples.

    Between consecutive nodes F_n is constant, so the only discretisation error is the curvature of F
    (and a sign change of F_n − F) within one cell: O(h²) per cell with h ≤ (hi − lo)/n_grid.
    """
    lo, hi = float(xs[0]), float(xs[-1])
    step = max(hi - lo, abs(lo), abs(hi), 1.0)
    for _ in range(64):  # extend until the CDF tails are negligible (doubling steps)
        if _cdf_values(cdf, np.array([lo]), who)[0] <= CDF_TAIL_TOL:
            break
        lo -= step
        step *= 2
    step = max(hi - lo, 1.0)
    for _ in range(64):
        if 1.0 - _cdf_values(cdf, np.array([hi]), who)[0] <= CDF_TAIL_TOL:
            break
        hi += step
        step *= 2
    t = np.union1d(np.linspace(lo, hi, n_grid), xs)
    f = _cdf_values(cdf, t, who)
    fn = np.searchsorted(xs, t[:-1], side="right") / xs.size  # F_n on [t_i, t_{i+1})
    integrand = 0.5 * (np.abs(fn - f[:-1]) + np.abs(fn - f[1:]))
    return float(np.sum(integrand * np.diff(t)))


def wasserstein1(x: np.ndarray, y_or_cdf: Reference, n_grid: int = 8192) -> np.ndarray:
    """Per-column Wasserstein-1 distance ``W1 = ∫ |F_x(t) − F_ref(t)| dt``, units of x, shape ``(d,)``.

    Reference samples: :func:`scipy.stats.wasserstein_distance` (exact for two empirical laws),
    cost O(d (n + m) log(n + m)). Reference CDF (one callable for all columns or a list of d):
    ``∫ |F_n − F|`` by the trapezoid rule on the union of the samples and an ``n_grid``-point uniform grid
    that spans the data and is widened until ``F < 1e-12`` on the left and ``1 − F < 1e-12`` on the right
    (the truncated tails then add < 1e-12 × tail width); cost O(d (n log n + n_grid)) CDF evaluations.
    Sampling noise: for n independent rows W1 between two laws that differ by a shift δ ≫ 1/√n fluctuates
    like the difference of means, SD ≈ σ √(1/n_x + 1/n_y); for equal laws it is O(σ/√n) and positive.
    """
    who = "wasserstein1"
    a = _as_columns(x, who)
    d = a.shape[1]
    y, cdfs = _reference(y_or_cdf, d, who)
    if n_grid < 2:
        raise ValueError(f"{who}: n_grid must be >= 2, got {n_grid!r}")
    if y is not None:
        return np.array([wasserstein_distance(a[:, j], y[:, j]) for j in range(d)])
    return np.array([_w1_to_cdf(np.sort(a[:, j]), cdfs[j], n_grid, who) for j in range(d)])


# ---------------------------------------------------------------- MMD


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


def _pooled_kernel(z: np.ndarray, bandwidth: float | None, who: str) -> tuple[np.ndarray, float]:
    """Gaussian kernel matrix ``K_ij = exp(−‖z_i − z_j‖² / (2 h²))`` of the pooled rows, and h.

    Median heuristic: h = median of the pairwise Euclidean distances ‖z_i − z_j‖, i < j.
    Cost: O(N² d) time, O(N²) memory (N = rows of z).
    """
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


def _mmd2_from_sums(s_aa, row_a, s_all: float, m: int, n: int):
    """Unbiased MMD² of a split of the pooled rows into A (m rows) and B (n rows), from kernel sums.

    ``s_aa = aᵀKa`` and ``row_a = aᵀK1`` for the indicator a of A, ``s_all = 1ᵀK1``; K has unit diagonal.
    ``MMD²_u = Σ_{i≠j∈A} k/(m(m−1)) + Σ_{i≠j∈B} k/(n(n−1)) − 2 Σ_{i∈A, j∈B} k/(mn)``.
    """
    s_ab = row_a - s_aa
    s_bb = s_all - 2.0 * row_a + s_aa
    return (s_aa - m) / (m * (m - 1.0)) + (s_bb - n) / (n * (n - 1.0)) - 2.0 * s_ab / (m * n)


def _prepare_pair(x, y, tau_x, tau_y, max_n, seed, who):
    a = _as_columns(x, who)
    b = _as_columns(y, who)
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
    k, _ = _pooled_kernel(np.vstack([a, b]), bandwidth, "mmd")
    m, n = a.shape[0], b.shape[0]
    row = k[:m].sum(axis=1)
    return float(_mmd2_from_sums(float(k[:m, :m].sum()), float(row.sum()), float(k.sum()), m, n))


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
) -> dict[str, float | int | bool]:
    """MMD² two-sample test with a permutation null; "agree within noise" means ``mmd2 <= floor``.

    Each series is thinned to every ``thin_step(tau)``-th row (≈ independent rows, which the label
    exchangeability of a permutation test requires; without it the null is far too narrow and equal laws
    are "distinguished"), then to at most ``max_n`` rows (see :func:`mmd`). The rows are pooled, the
    Gaussian kernel matrix K (median-heuristic bandwidth on the pool, fixed across permutations) is built
    once, and each of the ``n_perm`` seeded label permutations is scored from kernel sums,
    ``aᵀKa`` and ``aᵀK1`` for its indicator vector a (one matrix product for all permutations).

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
    k, h = _pooled_kernel(np.vstack([a, b]), bandwidth, who)
    m, n = a.shape[0], b.shape[0]
    big_n = m + n
    rng = np.random.default_rng([seed, 1])
    labels = np.zeros((n_perm + 1, big_n))
    labels[0, :m] = 1.0  # observed split first, then the permutations
    for p in range(1, n_perm + 1):
        labels[p, rng.permutation(big_n)[:m]] = 1.0
    row_sums = k.sum(axis=1)
    s_aa = np.einsum("pi,ip->p", labels, k @ labels.T)
    stats = _mmd2_from_sums(s_aa, labels @ row_sums, float(row_sums.sum()), m, n)
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
    }


# ---------------------------------------------------------------- efficiency


def ess_summary(x: np.ndarray, dt: float, cpu_s: float | None = None, thin: int = 1) -> dict:
    """Effective sample size of a series ``x`` ``(n, d)`` sampled every ``dt`` seconds, and its cost.

    ``tau_int`` per column (rows, :func:`.stats.tau_int_columns`; ``thin`` is passed through) and
    ``tau_int_s = tau_int · dt`` (s); ``ess_columns = n / tau_int``; ``ess`` = their minimum (the
    conservative count of independent samples); ``ess_per_sim_s = ess / (n · dt)`` (independent samples
    per simulated second, 1/s); ``ess_per_cpu_s = ess / cpu_s`` (1/s of compute) when ``cpu_s`` is given,
    else None. Arrays are numpy ``(d,)``. Cost: O(d n log n).
    """
    who = "ess_summary"
    a = _as_columns(x, who)
    if not dt > 0:
        raise ValueError(f"{who}: dt must be > 0 seconds, got {dt!r}")
    if cpu_s is not None and not cpu_s > 0:
        raise ValueError(f"{who}: cpu_s must be > 0 seconds, got {cpu_s!r}")
    n = a.shape[0]
    tau = tau_int_columns(a, thin=thin)
    ess_cols = n / tau
    ess = float(ess_cols.min())
    return {
        "n": int(n),
        "dt": float(dt),
        "tau_int": tau,
        "tau_int_s": tau * dt,
        "ess_columns": ess_cols,
        "ess": ess,
        "ess_per_sim_s": ess / (n * dt),
        "ess_per_cpu_s": None if cpu_s is None else ess / cpu_s,
    }
