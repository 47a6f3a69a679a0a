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


def sample_grid(images: dict, n: int = 36, per_row: int = 5):
    """One panel per method: its first ``n`` images (pixels 0..16) tiled 6 × 6 with a 1-pixel gutter,
    ``per_row`` panels a row."""
    side = int(np.sqrt(n))
    cols = min(per_row, len(images))
    rows = math.ceil(len(images) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.9 * rows), layout="constrained")
    axes = np.atleast_1d(axes).ravel()
    for ax in axes:
        ax.axis("off")
    cmap = plt.get_cmap("gray_r").with_extremes(bad="#9ecae1")  # the 1-pixel gutter between images
    for ax, (label, imgs) in zip(axes, images.items(), strict=False):
        tiles = np.asarray(imgs, float)[: side * side].reshape(side, side, 8, 8)
        tiles = np.pad(tiles, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=np.nan)
        ax.imshow(tiles.transpose(0, 2, 1, 3).reshape(9 * side, 9 * side), cmap=cmap, vmin=0, vmax=16)
        ax.set_title(label, fontsize=8)
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
        ax.axhline(null, color="0.5", ls=":", lw=0.8)
        ax.text(ax.get_xlim()[0], null, " null size (exact sampler)", fontsize=7, va="bottom", color="0.4")
        ax.set_xlabel("energy per sample [J]")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Gaussian KL of the sample fit [nats]")
    axes[0][0].legend(fontsize=7)
    return axes


def compare_figures(result: dict, images: dict, out: Path) -> list[str]:
    save(sample_grid(images), out / "samples.png")
    save(quality_vs_energy(result["rows"]), out / "quality_vs_energy.png")
    save(gaussian_vs_energy(result["gaussian_tasks"]), out / "gaussian_vs_energy.png")
    return ["samples.png", "quality_vs_energy.png", "gaussian_vs_energy.png"]
