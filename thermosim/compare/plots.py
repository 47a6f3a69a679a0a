"""Figures of `thermosim compare`: sample grids, quality against energy per sample (Agg, SI units).

Digital samplers are drawn as three linked points (MACs × 1 pJ at 45 nm: filled circle; MACs × 2.56 pJ on
an A100: open circle; measured CPU time × 10 W: cross); circuits as one square (their headline line).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..plots import plt, save

DIGITAL_MARKERS = (("o", "full"), ("o", "none"), ("x", "full"))  # 45 nm, A100, CPU
GUTTER = "#9ecae1"  # the colour between the digits of every sample grid (never a pixel value's)
SAMPLER_NAMES = {
    "gaussian_circuit": "Gaussian fit: RC circuit (ngspice)",
    "gaussian_fit_cholesky": "Gaussian fit: Cholesky (digital)",
}


def sampler_name(key: str) -> str:
    """A readable panel title for an image set's key: "ddpm_10" → "DDPM ancestral, 10 steps"."""
    method, _, steps = key.partition("_")
    if method in ("ddpm", "ddim") and steps.isdigit():
        return f"{'DDPM ancestral' if method == 'ddpm' else 'DDIM'}, {steps} steps"
    return SAMPLER_NAMES.get(key, key)


def tile(images: np.ndarray, grid: np.ndarray, gap: int = 2) -> np.ndarray:
    """8×8 images (n × 64, pixels 0..16) placed on a (rows × cols) grid of indices (−1: a blank cell),
    ``gap`` pixels apart; the gutters are NaN, drawn in :data:`GUTTER` by :func:`show_tiles`."""
    rows, cols = grid.shape
    step = 8 + gap
    canvas = np.full((rows * step - gap, cols * step - gap), np.nan)
    for r in range(rows):
        for c in range(cols):
            cell = images[grid[r, c]].reshape(8, 8) if grid[r, c] >= 0 else 0.0
            canvas[r * step : r * step + 8, c * step : c * step + 8] = cell
    return canvas


def show_tiles(ax, canvas: np.ndarray):
    """Draw a :func:`tile` canvas: ink dark on white, gutters in :data:`GUTTER`, no frame or ticks."""
    cmap = plt.get_cmap("gray_r").with_extremes(bad=GUTTER)
    ax.imshow(canvas, cmap=cmap, vmin=0, vmax=16, interpolation="nearest")
    ax.tick_params(length=0)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def sample_grid(images: dict, n: int = 36, per_row: int = 5):
    """One panel per method, titled by its name: its first ``n`` images (pixels 0..16) tiled 6 × 6,
    1-pixel gutters, ``per_row`` panels a row."""
    side = int(np.sqrt(n))
    cols = min(per_row, len(images))
    rows = math.ceil(len(images) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.95 * rows), layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, (label, imgs) in zip(axes, images.items(), strict=False):
        grid = np.arange(side * side).reshape(side, side)
        show_tiles(ax, tile(np.asarray(imgs, float)[: side * side], grid, gap=1)).axis("on")
        ax.set_title(sampler_name(label), fontsize=10)
    return axes


def _plot_sampler(axes, keys, row: dict, label: str, color) -> None:
    """One sampler on each (ax, key) pair: digital as three linked points, a circuit as a square."""
    for ax, key in zip(axes, keys, strict=True):
        y = row[key]
        if row.get("digital"):
            xs = [e["value"] for e in row["energy"] if e["term"] == "compute"]
            ax.plot(xs, [y] * len(xs), "-", color=color, lw=0.8, alpha=0.6)
            for x, (marker, fill) in zip(xs, DIGITAL_MARKERS, strict=False):
                ax.plot(
                    x,
                    y,
                    marker,
                    color=color,
                    fillstyle=fill,
                    ms=6,
                    label=label if marker == "o" and fill == "full" else None,
                )
        else:
            ax.plot(row["energy_per_sample_J"], y, "s", color=color, ms=7, label=label)


def quality_vs_energy(rows: list[dict]):
    """Recognisable fraction and Fréchet distance against energy per sample (log axis), one colour per
    method and setting; calibration rows (no energy) as horizontal reference lines."""
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 4.0), layout="constrained")
    keys = ("recognisable", "frechet")
    samplers = [r for r in rows if r["energy_per_sample_J"] is not None]
    colors = plt.cm.tab10(np.linspace(0, 1, 10))
    for i, r in enumerate(samplers):
        label = r["method"] + (f" {r['steps']}" if r["steps"] else "")
        _plot_sampler(axes, keys, r, label, colors[i % 10])
    for ax in axes:
        ax.set_xscale("log")
    for r in (r for r in rows if r["energy_per_sample_J"] is None):  # calibration: reference lines
        for ax, key in zip(axes, keys, strict=True):
            if r[key] > 1e-6:  # the held-out Fréchet distance is 0 (it is the reference): no line
                ax.axhline(r[key], color="0.6", lw=0.8, ls=":")
                ax.text(ax.get_xlim()[0], r[key], f" {r['method']}", fontsize=7, va="bottom", color="0.4")
    axes[0].set_ylabel("recognisable fraction (p ≥ 0.8)")
    axes[1].set_ylabel("Fréchet distance to held-out digits")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("energy per sample [J]  (digital: ● 45 nm, ○ A100, × CPU measured)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, ncol=2)
    return axes


def gaussian_vs_energy(tasks: list[dict]):
    """Per Gaussian task: Gaussian KL of the samples against energy per sample, the null size of an exact
    sampler as a dotted line."""
    fig, axes = plt.subplots(
        1, len(tasks), figsize=(4.2 * len(tasks), 3.8), layout="constrained", squeeze=False
    )
    colors = plt.cm.tab10(np.linspace(0, 1, 10))
    for ax, task in zip(axes[0], tasks, strict=True):
        for i, r in enumerate(task["rows"]):
            _plot_sampler([ax], ["gaussian_kl"], r, r["method"], colors[i % 10])
        null = next(r["gaussian_kl_expected"] for r in task["rows"] if r["method"] == "cholesky")
        ax.set(xscale="log", yscale="log", title=f"{task['task']} ({task['drift']} drift)")
        # named in the legend: a label by the line collided with the samplers' points, which move
        ax.axhline(null, color="0.5", ls=":", lw=0.8, label="null size (exact sampler)")
        ax.set_xlabel("energy per sample [J]\n(digital: ● 45 nm, ○ A100, × CPU measured)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Gaussian KL of the sample fit [nats]")
    axes[0][0].legend(fontsize=7)
    return axes


def compare_figures(result: dict, images: dict, out: Path) -> list[str]:
    save(sample_grid(images), out / "samples.png")
    save(quality_vs_energy(result["rows"]), out / "quality_vs_energy.png")
    save(gaussian_vs_energy(result["gaussian_tasks"]), out / "gaussian_vs_energy.png")
    return ["samples.png", "quality_vs_energy.png", "gaussian_vs_energy.png"]
