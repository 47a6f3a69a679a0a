"""Distances between distributions, computed from samples of any origin (SPICE or digital).

Samples are arrays of shape ``(n, d)`` (1-D input counts as ``d = 1``); rows may be autocorrelated in
time. Where a statistic's null size or validity depends on independence, the function says how the
integrated autocorrelation time ``tau`` (in rows, see :mod:`.stats`) enters. KL divergences are in nats;
Wasserstein distances carry the units of the samples. Two-sample MMD tests are in :mod:`.mmd`.

Pure numpy/scipy: no SPICE imports, no plotting.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .stats import as_columns, tau_int_columns, thinning

__all__ = [
    "gaussian_kl",
    "marginal_hist_kl",
    "normal_cdf",
    "sample_gaussian_kl",
    "wasserstein1",
]

Cdf = Callable[[np.ndarray], np.ndarray]
Reference = np.ndarray | Cdf | Sequence[Cdf]

PSEUDO_COUNT = 0.5  # per-bin pseudo-count of the histogram KL (Krichevsky–Trofimov / Jeffreys prior)
W1_CHUNK = 1 << 16  # samples per piece of the CDF-path W1
CDF_TAIL_TOL = 1e-12  # the CDF-path W1 integrates until F < tol on the left and 1 − F < tol on the right


# ---------------------------------------------------------------- input checks


def _spd_cholesky(cov: np.ndarray, who: str, name: str) -> np.ndarray:
    """Lower Cholesky factor of a symmetric positive-definite matrix, or ValueError naming the problem."""
    if not np.all(np.isfinite(cov)):
        raise ValueError(f"{who}: {name} contains non-finite values")
    scale = float(np.max(np.abs(cov))) if cov.size else 0.0
    if not np.allclose(cov, cov.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{who}: {name} is not symmetric")
    from scipy.linalg import LinAlgError, cholesky  # loaded by the analysis, not by every import

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
    from scipy.linalg import solve_triangular

    lp = _spd_cholesky(cp, who, "cov_p")
    lq = _spd_cholesky(cq, who, "cov_q")
    a = solve_triangular(lq, lp, lower=True)
    b = solve_triangular(lq, mq - mp, lower=True)
    logdet_ratio = 2.0 * float(np.sum(np.log(np.diag(lq))) - np.sum(np.log(np.diag(lp))))
    kl = 0.5 * (float(np.sum(a * a)) + float(b @ b) - mp.size + logdet_ratio)
    return max(kl, 0.0)  # rounding can give −1e-16 for identical laws


def sample_gaussian_kl(x: np.ndarray, mean, cov, tau: float | None = None, thin: int = 1) -> dict[str, float]:
    """``KL(N(x̄, Σ̂) ‖ N(mean, cov))`` of the sample Gaussian fit against theory, with its null size.

    ``x̄`` is the sample mean and ``Σ̂`` the sample covariance (ddof = 1) of the rows of ``x`` ``(n, d)``.

    Null size. For n independent rows from N(mean, cov), write the whitened fit as
    ``Σ⁻¹Σ̂ = I + E`` and ``Σ^{-½}(x̄−μ) = e``. To second order
    ``KL ≈ ½ eᵀe + ¼ tr(E²)`` (from ``tr E − ln det(I+E) ≈ ½ tr E²``), with ``E[eᵀe] = d/n`` and
    ``E[tr E²] = Σ_ij (1+δ_ij)/n = d(d+1)/n`` (Wishart). Hence
    ``E[KL] ≈ d/(2n) + d(d+1)/(4n) = d(d+3)/(4n)``. Equivalently ``2n·KL`` is asymptotically a
    likelihood-ratio statistic, ``χ²`` with ``k = d(d+3)/2`` degrees of freedom, so its standard
    deviation is ``√(2k)/(2n)``.

    Correlated rows: the mean term counts ``n_mean = n / max_i tau_int(z_i)`` and the covariance term
    ``n_cov = n / max_i tau_int(z_i²)`` on the rows whitened by the theory (z = L⁻¹(x − mean)). The two
    differ: for an AR(1) the squares decorrelate faster, ``(1+a²)/(1−a²)`` vs ``(1+a)/(1−a)``; for an
    underdamped resonator the column's oscillating autocorrelation integrates to almost nothing while its
    square keeps the envelope's correlation time, so the column's tau alone would understate the
    covariance term's noise (by 3× for the 8-cell SPU). ``tau`` given: both are ``n / tau``.
    ``thin``: estimate the autocorrelation times on every thin-th row.

    Returns ``kl`` (nats), ``kl_expected`` = d/(2 n_mean) + d(d+1)/(4 n_cov), ``kl_sd`` (from the χ²
    laws of both terms), ``n_eff`` (= n_cov). Cost: O(n d² + d n log n), O(n d²) if ``tau`` is given.
    """
    who = "sample_gaussian_kl"
    a = as_columns(x, who)
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
    if tau is not None:
        n_mean = n_cov = n / tau
    else:
        # the autocorrelation times read every step-th row (tau_int_columns' own thinning): only those
        # rows are whitened, the same numbers without three arrays of the samples' size
        step = thinning(n, thin)
        z = (a[::step] - m) @ np.linalg.inv(np.linalg.cholesky(c)).T  # whitened rows: one d × d inverse
        n_mean = n / (step * float(tau_int_columns(z).max()))
        n_cov = n / (step * float(tau_int_columns(z**2).max()))
    kl = gaussian_kl(a.mean(axis=0), cov_hat, m, c)
    return {
        "kl": kl,
        "kl_expected": d / (2.0 * n_mean) + d * (d + 1) / (4.0 * n_cov),
        "kl_sd": math.sqrt(2 * d / (2.0 * n_mean) ** 2 + d * (d + 1) / (2.0 * n_cov) ** 2),
        "n_eff": float(n_cov),
    }


# ---------------------------------------------------------------- marginal distances


def normal_cdf(loc: float, scale: float) -> Cdf:
    """The CDF of N(loc, scale²), vectorised: ``ndtr((t − loc) / scale)``, NaN everywhere unless scale > 0.

    The same arithmetic, so the same bits, as ``scipy.stats.norm.cdf(t, loc, scale)``, without importing
    scipy.stats (~0.4 s of every run's start-up). Cost O(size of t).
    """
    from scipy.special import ndtr

    def cdf(t):
        t = np.asarray(t, dtype=float)
        return ndtr((t - loc) / scale) if scale > 0 else np.full(t.shape, np.nan)

    return cdf


def _reference(y_or_cdf: Reference, d: int, who: str) -> tuple[np.ndarray | None, list[Cdf] | None]:
    """Split a reference into (samples (m, d), None) or (None, d CDF callables)."""
    if callable(y_or_cdf):
        return None, [y_or_cdf] * d
    if isinstance(y_or_cdf, list | tuple) and y_or_cdf and all(callable(f) for f in y_or_cdf):
        if len(y_or_cdf) != d:
            raise ValueError(f"{who}: got {len(y_or_cdf)} CDF callables for d = {d} columns")
        return None, list(y_or_cdf)
    y = as_columns(y_or_cdf, who)
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


def _bin_counts(x: np.ndarray, edges: np.ndarray, ordered: bool) -> np.ndarray:
    """Counts in the bins (−∞, e₁), [e₁, e₂), …, [e_B, ∞). Sorted x (the run's marginals pass sorted
    columns): B binary searches, O(B log n); else one search per value, O(n log B)."""
    if ordered:
        return np.diff(np.searchsorted(x, edges, side="left"), prepend=0, append=x.size)
    return np.bincount(np.searchsorted(edges, x, side="right"), minlength=edges.size + 1)


def _is_sorted(x: np.ndarray) -> bool:
    return bool(np.all(x[1:] >= x[:-1]))


def sorted_quantiles(xs: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile(xs, probs)`` (its default, linear method) of an already sorted 1-D ``xs``, bit for bit.

    For 0 ≤ p ≤ 1 the quantile lies at h = (n − 1)·p between xs[⌊h⌋] and xs[⌊h⌋ + 1], γ = h − ⌊h⌋ of the
    way, and is computed as numpy does: a + (b − a)·γ below γ = ½, b − (b − a)·(1 − γ) from there. Why by
    hand: np.quantile partitions a copy of the whole array (15 ms for 2·10⁶ samples), where the
    indices are known once the array is sorted. Cost O(len(probs)).
    """
    h = (xs.size - 1) * np.asarray(probs, float)  # Hyndman & Fan's type 7
    lo = np.floor(h)
    gamma = h - lo
    i = np.minimum(lo, xs.size - 1).astype(np.intp)
    a, b = xs[i], xs[np.minimum(i + 1, xs.size - 1)]
    return np.where(gamma >= 0.5, b - (b - a) * (1 - gamma), a + (b - a) * gamma)


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
    a = as_columns(x, who)
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
        ordered = _is_sorted(xj)
        if y is None and ordered:
            edges = np.unique(sorted_quantiles(xj, probs))
        else:
            edges = np.unique(np.quantile(xj if y is None else np.concatenate([xj, y[:, j]]), probs))
        n_b = edges.size + 1
        p = _smoothed(_bin_counts(xj, edges, ordered), n)
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
    # the nodes are the union of the grid and the samples (np.union1d's values), taken in pieces of
    # W1_CHUNK samples with the grid points among them: cache-sized temporaries instead of a dozen arrays
    # of the run's size (2e6 samples: 3× faster). A piece never splits equal samples, so the nodes of
    # consecutive pieces are distinct and a piece's last cell ends at the next piece's first sample.
    grid = np.linspace(lo, hi, n_grid)
    n = xs.size
    bounds = np.unique(np.r_[0, np.searchsorted(xs, xs[W1_CHUNK:n:W1_CHUNK], side="left"), n])
    grid_bounds = np.r_[0, np.searchsorted(grid, xs[bounds[1:-1]], side="left"), n_grid]
    total = 0.0
    for k in range(len(bounds) - 1):
        a, b = bounds[k], bounds[k + 1]
        g = grid[grid_bounds[k] : grid_bounds[k + 1]]
        # merge the two sorted runs, a grid point before the samples equal to it (2× faster than a
        # stable argsort of both, and the same nodes in the same order)
        at = np.searchsorted(xs[a:b], g, side="left") + np.arange(g.size)  # the grid points' places
        is_sample = np.ones(g.size + b - a, bool)
        is_sample[at] = False
        t = np.empty(is_sample.size)
        t[at], t[is_sample] = g, xs[a:b]
        count = a + np.cumsum(is_sample)  # samples ≤ t[i]
        last = np.r_[t[1:] != t[:-1], True]  # the last of equal nodes carries every sample equal to it
        t, count = t[last], count[last]
        if b < n:
            t = np.append(t, xs[b])
        f = _cdf_values(cdf, t, who)
        fn = count[: t.size - 1] / n  # F_n on [t_i, t_{i+1})
        total += float(np.sum(0.5 * (np.abs(fn - f[:-1]) + np.abs(fn - f[1:])) * np.diff(t)))
    return total


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
    a = as_columns(x, who)
    d = a.shape[1]
    y, cdfs = _reference(y_or_cdf, d, who)
    if n_grid < 2:
        raise ValueError(f"{who}: n_grid must be >= 2, got {n_grid!r}")
    if y is not None:
        from scipy.stats import wasserstein_distance  # here only: scipy.stats takes ~0.4 s to import

        return np.array([wasserstein_distance(a[:, j], y[:, j]) for j in range(d)])
    return np.array([_w1_to_cdf(_sorted(a[:, j]), cdfs[j], n_grid, who) for j in range(d)])


def _sorted(x: np.ndarray) -> np.ndarray:
    """``x`` sorted (itself when it already is: a caller may pass sorted columns). Cost O(n) or O(n log n)."""
    return x if _is_sorted(x) else np.sort(x)
