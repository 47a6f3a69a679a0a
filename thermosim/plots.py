"""Diagnostic plots of sampled voltages vs exact theory: histograms, covariances, autocorrelation.

No backend is forced at import (a notebook keeps its inline figures); the command line selects the
non-interactive Agg backend, so plotting never blocks there. Plot functions take an optional
``ax``/``axes`` and return the Axes; :func:`save` writes and closes a figure. Inputs in SI units
(V, V^2, s); axes use readable units (µV/mV/V, ns/µs/ms/s).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .results import atomic

MAX_GRID_PANELS = 8
Z_LIMIT = 4.0  # the z-score maps' fixed colour scale: ±4 SE, whatever the run
_VOLT_UNITS = ((1.0, 1.0, "V"), (1e-3, 1e3, "mV"), (0.0, 1e6, "µV"))
_AMP_UNITS = ((1.0, 1.0, "A"), (1e-3, 1e3, "mA"), (1e-6, 1e6, "µA"), (0.0, 1e9, "nA"))
_TIME_UNITS = ((1.0, 1.0, "s"), (1e-3, 1e3, "ms"), (1e-6, 1e6, "µs"), (0.0, 1e9, "ns"))


def _pick_unit(size: float, table: tuple[tuple[float, float, str], ...]) -> tuple[float, str]:
    """``(multiply-by factor, unit name)`` of the first row whose threshold is ``<= |size|``."""
    return next((f, u) for threshold, f, u in table if abs(size) >= threshold or threshold == 0.0)


def density_from_cdf(cdf, grid: np.ndarray) -> np.ndarray:
    """The density d/dx CDF(x) on ``grid`` (increasing), by central differences: the exact marginal of a
    law known by its CDF (non-Gaussian ones included), in 1/(unit of the grid)."""
    grid = np.asarray(grid, dtype=float)
    return np.gradient(np.asarray(cdf(grid), dtype=float), grid)


def hist_vs_theory(
    samples: np.ndarray,
    var_theory: float,
    mean_theory: float = 0.0,
    name: str = "",
    ax: Axes | None = None,
    bins: int = 60,
    cdf=None,
) -> Axes:
    """Density histogram of 1-D voltage samples [V] with the theoretical marginal density.

    ``cdf`` (the exact marginal CDF of the theory, of values in V or A): its derivative is drawn, so a
    non-Gaussian law is drawn as it is; without it, N(``mean_theory``, ``var_theory``) [V, V^2]. The x unit
    (µV/mV/V) follows the theoretical std; data and density are rescaled consistently (density in
    1/unit). Legend: "var ratio" = ``var(samples, ddof=1) / var_theory``. Non-finite samples are dropped.
    """
    x = np.asarray(samples, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if not var_theory > 0:
        raise ValueError(f"hist_vs_theory: var_theory must be > 0 V^2, got {var_theory}")
    if x.size < 2:
        raise ValueError(f"hist_vs_theory: need >= 2 finite samples, got {x.size}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6), layout="constrained")
    # ngspice vector names: i(...) are currents, everything else is read as a voltage
    units = _AMP_UNITS if name.lower().startswith("i(") else _VOLT_UNITS
    factor, unit = _pick_unit(std := float(np.sqrt(var_theory)), units)
    xs, mu, sd = x * factor, mean_theory * factor, std * factor
    ratio = float(np.var(x, ddof=1)) / var_theory
    heights, *_ = ax.hist(
        xs, bins, density=True, color="C0", alpha=0.55, label=f"measured\nvar ratio {ratio:.3f}"
    )
    grid = np.linspace(min(xs.min(), mu - 4.5 * sd), max(xs.max(), mu + 4.5 * sd), 801)
    if cdf is None:
        pdf = np.exp(-0.5 * ((grid - mu) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
        label = f"theory: Gaussian\nσ = {sd:.3g} {unit}"
    else:  # the law's own density (per SI unit) in 1/display unit
        pdf = density_from_cdf(cdf, grid / factor) / factor
        label = f"theory: exact density\nσ = {sd:.3g} {unit}"
    ax.plot(grid, pdf, color="C3", lw=1.6, label=label)
    ax.set_ylim(0.0, 1.5 * max(pdf.max(), heights.max()))  # headroom so the legend clears the peak
    ax.set(xlabel=f"{name or 'voltage'} [{unit}]", ylabel=f"density [1/{unit}]")
    ax.legend(fontsize="small", loc="upper right", framealpha=0.8)
    return ax


def hist_grid(
    samples: np.ndarray,
    var_theory: np.ndarray | Sequence[float],
    mean_theory: np.ndarray | Sequence[float] | float,
    names: Sequence[str],
    axes: np.ndarray | Sequence[Axes] | None = None,
    cdfs: Sequence | None = None,
) -> np.ndarray:
    """One :func:`hist_vs_theory` panel per column of ``samples`` (n, d) [V], in a grid.

    ``var_theory``: variances (d,) or a covariance (d, d) [V^2] (diagonal used); ``mean_theory``:
    scalar or (d,) [V]; ``cdfs``: the exact marginal CDFs where the law has them (None entries: the
    Gaussian). Plots at most 8 columns. Returns a 1-D array of the used Axes.
    """
    x = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    d = x.shape[1]
    var = np.asarray(var_theory, dtype=float)
    var = np.diag(var) if var.ndim == 2 else np.broadcast_to(var, (d,))
    mean = np.broadcast_to(np.asarray(mean_theory, dtype=float), (d,))
    if len(names) < d:
        raise ValueError(f"hist_grid: {d} columns but only {len(names)} names")
    k = min(d, MAX_GRID_PANELS)
    if axes is None:
        nrows = -(-k // 4)
        ncols = -(-k // nrows)  # 5-6 panels -> 2x3, 7-8 -> 2x4
        _, grid = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.9 * nrows), layout="constrained")
        flat = np.atleast_1d(grid).ravel()
        for extra in flat[k:]:
            extra.set_visible(False)
    else:
        flat = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()
        if flat.size < k:
            raise ValueError(f"hist_grid: need {k} axes, got {flat.size}")
    for i in range(k):
        cdf = cdfs[i] if cdfs is not None and i < len(cdfs) else None
        hist_vs_theory(x[:, i], float(var[i]), float(mean[i]), names[i], ax=flat[i], cdf=cdf)
    return flat[:k]


def cov_heatmaps(
    cov: np.ndarray,
    cov_theory: np.ndarray,
    names: Sequence[str],
    axes: np.ndarray | Sequence[Axes] | None = None,
    cov_se: np.ndarray | None = None,
    label: str = "covariance [V²]",
    k: float | None = None,
) -> np.ndarray:
    """Measured, theoretical and difference heatmaps of (d, d) covariances [V^2]; returns 3 Axes.

    Panels 1-2 share one diverging color scale in V^2. Panel 3: ``(cov - theory) / max|theory|``
    (dimensionless), or with ``cov_se`` [V^2] z-scores ``(cov - theory) / cov_se`` (blank if se <= 0) on a
    fixed scale of ±:data:`Z_LIMIT`; ``k``, the checks' threshold in SE, is marked on the colorbar and
    every cell beyond it is outlined.
    """
    c, t = np.asarray(cov, dtype=float), np.asarray(cov_theory, dtype=float)
    if c.shape != t.shape or c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"cov_heatmaps: need equal square shapes, got {c.shape} and {t.shape}")
    if len(names) != c.shape[0]:
        raise ValueError(f"cov_heatmaps: {c.shape[0]} variables but {len(names)} names")
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13.0, 4.0), layout="constrained")
    axs = np.atleast_1d(np.asarray(axes, dtype=object)).ravel()[:3]
    if axs.size < 3:
        raise ValueError(f"cov_heatmaps: need 3 axes, got {axs.size}")
    vmax = float(max(np.nanmax(np.abs(c)), np.nanmax(np.abs(t)))) or 1.0
    for ax, m, title in ((axs[0], c, "measured"), (axs[1], t, "theory")):
        im = ax.imshow(m, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(title)
    axs[0].figure.colorbar(im, ax=list(axs[:2]), label=label, shrink=0.85, format="%.2g")
    if cov_se is None:
        diff = (c - t) / (float(np.max(np.abs(t))) or 1.0)
        dmax = (float(np.nanmax(np.abs(diff))) if np.any(np.isfinite(diff)) else 0.0) or 1.0
        im = axs[2].imshow(diff, cmap="RdBu_r", vmin=-dmax, vmax=dmax)  # symmetric: white at 0
        axs[2].set_title("(measured − theory) / max|theory|")
        axs[2].figure.colorbar(im, ax=axs[2], label="relative difference", shrink=0.85)
    else:
        se = np.asarray(cov_se, dtype=float)
        z_score_map(np.divide(c - t, se, out=np.full(c.shape, np.nan), where=se > 0), k, axs[2])
    ticks, rotate = np.arange(len(names)), len(names) > 3
    for ax in axs:
        ax.set_xticks(ticks, list(names), rotation=45 if rotate else 0, ha="right" if rotate else "center")
        ax.set_yticks(ticks, list(names))
    return axs


def z_score_map(z: np.ndarray, k: float | None = None, ax: Axes | None = None) -> Axes:
    """z = (measured − theory) / SE per element on a fixed ±:data:`Z_LIMIT` scale (beyond: the end
    colours); with the check threshold ``k`` [SE], lines at ±k on the colorbar and cells with |z| > k
    outlined in black."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.0), layout="constrained")
    z = np.asarray(z, dtype=float)
    im = ax.imshow(z, cmap="RdBu_r", vmin=-Z_LIMIT, vmax=Z_LIMIT)
    label = "z [SE]" + ("" if k is None else f"; black lines: the checks' threshold ±{k:.2f}")
    bar = ax.figure.colorbar(im, ax=ax, shrink=0.85, extend="both", label=label)
    title = "z = (measured − theory) / SE"
    if k is not None:
        for level in (-k, k):
            bar.ax.axhline(level, color="k", lw=1.5)
        for i, j in zip(*np.nonzero(np.abs(np.nan_to_num(z)) > k), strict=True):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="k", lw=2.0))
        title += f"\ncells with |z| > {k:.2f} outlined"
    ax.set_title(title, fontsize=9)
    return ax


def autocorr_plot(
    acf: np.ndarray,
    dt_s: float,
    tau_theory_s: float | None = None,
    ax: Axes | None = None,
    label: str = "measured",
    tau_fit_s: float | None = None,
) -> Axes:
    """Normalised autocorrelation ``acf[k]`` (dimensionless) vs lag ``k * dt_s`` [s].

    The lag unit (ns/µs/ms/s) follows the largest lag. ``tau_theory_s`` [s]: ``exp(-lag / tau_theory_s)``
    overlaid in red; ``tau_fit_s`` [s] (a fit to this series): ``exp(-lag / tau_fit_s)`` dashed in its colour.
    """
    rho = np.asarray(acf, dtype=float).ravel()
    if not dt_s > 0:
        raise ValueError(f"autocorr_plot: dt_s must be > 0 s, got {dt_s}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6), layout="constrained")
    lag = np.arange(rho.size) * dt_s
    factor, unit = _pick_unit(lag[-1] if rho.size > 1 else dt_s, _TIME_UNITS)
    (line,) = ax.plot(lag * factor, rho, ".-", ms=3, lw=1.0, label=label)
    fine = np.linspace(0.0, lag[-1], 400)
    if tau_fit_s is not None:
        ax.plot(fine * factor, np.exp(-fine / tau_fit_s), "--", color=line.get_color(), lw=1.0)
    if tau_theory_s is not None:
        label = f"theory exp(−lag/τ), τ = {tau_theory_s * factor:.3g} {unit}"
        ax.plot(fine * factor, np.exp(-fine / tau_theory_s), "--", color="C3", label=label)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set(xlabel=f"lag [{unit}]", ylabel="autocorrelation ρ")
    ax.legend(fontsize="small", loc="upper right")
    return ax


def autocorr_figure(samples: np.ndarray, names: Sequence[str], dt_s: float, tau_int_s, ax=None) -> Axes:
    """Every variable's autocorrelation (the first :data:`MAX_GRID_PANELS` when there are more, said in
    the title), each with exp(−lag/τ) fitted at its 1/e lag (dashed), lags to 5 τ of the slowest (τ: the
    larger of the measured τ_int and the 1/e lag, which an oscillation's τ_int understates)."""
    from matplotlib.lines import Line2D

    from .analysis.stats import autocorrelation, efold_lag

    if ax is None:  # wide: the legend goes to the right of the curves
        _, ax = plt.subplots(figsize=(7.6, 3.8), layout="constrained")
    d = min(len(names), MAX_GRID_PANELS)
    tau = np.asarray(tau_int_s, dtype=float)[:d]
    rhos = {i: autocorrelation(samples[:, i], len(samples) // 4) for i in range(d) if np.ptp(samples[:, i])}
    fits = {i: efold_lag(rho, dt_s) for i, rho in rhos.items()}
    slowest = max([t for t in tau if np.isfinite(t)] + [f for f in fits.values() if f], default=0.0)
    max_lag = int(min(len(samples) // 4, max(np.ceil(5 * slowest / dt_s), 20)))
    factor, unit = _pick_unit(max_lag * dt_s, _TIME_UNITS)  # the lag axis's unit (lags 0…max_lag)
    for i, rho in rhos.items():
        fit = fits[i]
        label = f"{names[i]}: τ_int {tau[i] * factor:.3g}" + (f", τ {fit * factor:.3g}" if fit else "")
        ax = autocorr_plot(rho[: max_lag + 1], dt_s, ax=ax, label=f"{label} {unit}", tau_fit_s=fit)
    key = Line2D([], [], ls="--", color="0.3", label="exp(−lag/τ), τ fitted:\nthe lag where ρ = 1/e")
    handles = [*ax.get_legend_handles_labels()[0], key]
    ax.legend(handles=handles, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    which = f"first {d} of {len(names)} variables" if d < len(names) else f"all {d} variable{'s' * (d > 1)}"
    title = f"autocorrelation, {which}; lags to 5 τ of the slowest\n(τ: τ_int or the 1/e lag, the larger)"
    ax.set_title(title, fontsize=9)
    return ax


def trace_plot(t_s: np.ndarray, samples: np.ndarray, names: Sequence[str], ax: Axes | None = None) -> Axes:
    """Samples (n, d) against time [s], up to 4 variables; units follow the data (V or A, s)."""
    x = np.asarray(samples, dtype=float).reshape(len(samples), -1)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6), layout="constrained")
    tf, tu = _pick_unit(float(np.ptp(t_s)) or 1.0, _TIME_UNITS)
    amps = all(n.lower().startswith("i(") for n in names[:4])
    vf, vu = _pick_unit(float(np.nanmax(np.abs(x[:, :4]))) or 1.0, _AMP_UNITS if amps else _VOLT_UNITS)
    for i, name in enumerate(names[:4]):
        ax.plot(np.asarray(t_s) * tf, x[:, i] * vf, lw=0.8, label=name)
    ax.set(xlabel=f"time [{tu}]", ylabel=f"{'current' if amps else 'value'} [{vu}]")
    ax.legend(fontsize="small", loc="upper right")
    return ax


def save(fig_or_ax: Figure | Axes | np.ndarray | Sequence[Axes], path: str | os.PathLike[str]) -> Path:
    """Save the figure of ``fig_or_ax`` to ``path`` (PNG, 120 dpi, tight bbox), close it, return the Path.

    Format follows the suffix (PNG if none). Atomic: writes a temp file with the same suffix in
    the same directory (created if missing), then ``os.replace``-s it, so no partial files.
    """
    fig = fig_or_ax
    while not isinstance(fig, Figure):  # Axes/SubFigure -> its figure; array of Axes -> first one
        fig = fig.figure if hasattr(fig, "figure") else np.asarray(fig, dtype=object).ravel()[0]
    out = Path(path)
    fmt = out.suffix.lstrip(".").lower() or "png"
    try:
        atomic(out, lambda tmp: fig.savefig(tmp, format=fmt, dpi=120, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return out


# one colour per energy term, in every energy figure; other names hash (stably) into the same palette
ENERGY_COLOURS = {
    "supply": "#1f77b4",
    "heat": "#d62728",
    "readout": "#2ca02c",
    "programming": "#9467bd",
    "bound": "#7f7f7f",
    "compute": "#ff7f0e",
}
_PALETTE = ("#8c564b", "#e377c2", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5")
FLUCTUATION_TERMS = ("heat",)  # zero on average in a stationary window: drawn only beyond their SE


def energy_colour(term: str) -> str:
    """The colour of the energy term ``term`` in every figure (:data:`ENERGY_COLOURS`, else a fixed
    palette entry chosen by the name's CRC-32: the same in every process)."""
    import zlib

    return ENERGY_COLOURS.get(term) or _PALETTE[zlib.crc32(term.encode()) % len(_PALETTE)]


def energy_bars(rows: list[dict], title: str = "", ax: Axes | None = None, se: dict | None = None) -> Axes:
    """The energy table's per-sample lines in joules on a log axis, one colour per term
    (:func:`energy_colour`); lines ≤ 0 are marked, not drawn, and so is a fluctuation term within its
    SE (``se``: term → SE in J per independent sample)."""
    per = [r for r in rows if r["per"] == "independent sample" and r["unit"] == "J"]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.45 * len(per) + 1.2), layout="constrained")
    values = np.array([r["value"] for r in per])
    errs = np.array([(se or {}).get(r["term"], 0.0) or 0.0 for r in per])
    pos = (values > 0) & (np.abs(values) >= errs)
    y = np.arange(len(per))
    ax.barh(y[pos], values[pos], color=[energy_colour(per[i]["term"]) for i in y[pos]])
    for i in y[pos]:
        ax.text(values[i], i, f" {values[i]:.2g} J", va="center", fontsize=7)
    for i in y[~pos]:  # at the axes' left edge (x in axes units), whatever the log range
        if abs(values[i]) < errs[i]:
            text = f"|{values[i]:.2g} J| < SE {errs[i]:.2g} J: a fluctuation, not drawn"
        else:
            text = f"{values[i]:.3g} J (≤ 0: not drawn)"
        ax.text(0.01, i, text, va="center", fontsize=8, transform=ax.get_yaxis_transform())
    ax.set_xscale("log")
    ax.set_yticks(y, [r["term"] for r in per])
    ax.set_ylim(len(per) - 0.5, -0.5)  # every row in view, the first on top
    ax.set_xlabel("energy per independent sample [J]")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    return ax


RUN_FIGURES = ("autocorr", "energy", "hist", "cov")  # what every written run gets, where it applies


def run_figure(kind: str, metrics: dict, samples: np.ndarray, times_s=None, ax=None, cdfs=None):
    """One figure of a run from its metrics and samples, on ``ax`` (new when None); returns the axes.

    kind: "autocorr" (:func:`autocorr_figure`), "energy" (the energy table per sample, the heat within its
    SE not drawn), "hist" (each variable against its theoretical marginal: the exact density of ``cdfs``,
    the theory's marginal CDFs, where given, else the Gaussian of the moments), "cov" (measured / theory /
    z in SE with the checks' threshold; volts and amps scaled by the theory's σ), "trace" (the first 2000
    samples against ``times_s``). ValueError when the run has nothing to draw for ``kind``.
    """
    from .analysis.energy import stationary_heat_se

    names = list(metrics["variables"])
    theory = metrics.get("cov_theory")
    if kind == "autocorr":
        dt = metrics.get("noise_step_s") or metrics["sample_step_s"]
        return autocorr_figure(samples, names, dt, metrics["tau_int_s"], ax=ax)
    if kind == "energy":
        if not metrics.get("energy"):
            raise ValueError(f"{metrics['circuit']}: no energy table to draw")
        rows = metrics["energy"]
        se = {"heat": stationary_heat_se(rows, len(names))}
        return energy_bars(rows, metrics["circuit"], ax=ax, se=se)
    if kind == "trace":
        return trace_plot(np.asarray(times_s)[:2000], samples[:2000], names, ax=ax)
    if kind not in ("hist", "cov"):
        raise ValueError(f"figure kind {kind!r} is not one of autocorr, energy, hist, cov, trace")
    if theory is None:
        raise ValueError(f"{metrics['circuit']}: no exact covariance to draw the {kind} figure against")
    theory = np.asarray(theory)
    if kind == "hist":
        mean = np.asarray(metrics["mean_theory"])
        return hist_grid(samples, np.diag(theory), mean, names, axes=ax, cdfs=cdfs)
    if len(names) < 2:
        raise ValueError(f"{metrics['circuit']}: a covariance figure needs two variables or more")
    cov, se, label = np.asarray(metrics["cov"]), np.asarray(metrics["cov_se"]), "covariance [V²]"
    if any(n.lower().startswith("i(") for n in names):  # volts and amps: scale by the theory's σ
        s = 1 / np.sqrt(np.diag(theory))
        cov, theory, se = (m * np.outer(s, s) for m in (cov, theory, se))
        label = "covariance / (σᵢσⱼ) of theory"
    return cov_heatmaps(cov, theory, names, axes=ax, cov_se=se, label=label, k=metrics.get("check_k"))


def run_figures(metrics: dict, samples: np.ndarray, outdir: Path, cdfs=None) -> list[str]:
    """Write each of :data:`RUN_FIGURES` that applies to the run as KIND.png in ``outdir``; their names.
    ``cdfs``: the theory's exact marginal CDFs (see :func:`run_figure`)."""
    files = []
    for kind in RUN_FIGURES:
        try:
            ax = run_figure(kind, metrics, samples, cdfs=cdfs)
        except ValueError:  # nothing to draw for this run (no theory, one variable, no energy table)
            continue
        save(ax, outdir / f"{kind}.png")
        files.append(f"{kind}.png")
    return files
