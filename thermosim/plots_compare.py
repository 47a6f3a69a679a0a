"""Figures of `thermosim compare`: sample grids and quality against energy per sample (Agg, SI units)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .plots import plt, save


def sample_grid(images: dict, n: int = 36):
    """One panel per method: its first ``n`` images (pixels 0..16) tiled 6 × 6."""
    side = int(np.sqrt(n))
    fig, axes = plt.subplots(1, len(images), figsize=(3.0 * len(images), 3.3), layout="constrained")
    for ax, (label, imgs) in zip(np.atleast_1d(axes), images.items(), strict=True):
        tiles = np.asarray(imgs)[: side * side].reshape(side, side, 8, 8)
        ax.imshow(tiles.transpose(0, 2, 1, 3).reshape(8 * side, 8 * side), cmap="gray_r", vmin=0, vmax=16)
        ax.set_title(label, fontsize=8)
        ax.axis("off")
    return axes


def quality_vs_energy(rows: list[dict]):
    """Recognisable fraction and Fréchet distance against energy per sample (log axis), one point per
    method and setting; calibration rows (no energy) as horizontal reference lines."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
    for r in (r for r in rows if r["energy_per_sample_J"] is not None):
        label = r["method"] + (f" {r['steps']}" if r["steps"] else "")
        for ax, key in zip(axes, ("recognisable", "frechet"), strict=True):
            ax.semilogx(r["energy_per_sample_J"], r[key], "o", ms=6, label=label)
    for r in (r for r in rows if r["energy_per_sample_J"] is None):  # calibration: reference lines
        for ax, key in zip(axes, ("recognisable", "frechet"), strict=True):
            if r[key] > 0:
                ax.axhline(r[key], color="0.6", lw=0.8, ls=":")
                ax.text(ax.get_xlim()[0], r[key], f" {r['method']}", fontsize=7, va="bottom", color="0.4")
    axes[0].set_ylabel("recognisable fraction (p ≥ 0.8)")
    axes[1].set_ylabel("Fréchet distance to held-out digits")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("energy per sample [J]")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    return axes


def compare_figures(result: dict, images: dict, out: Path) -> list[str]:
    save(sample_grid(images), out / "samples.png")
    save(quality_vs_energy(result["rows"]), out / "quality_vs_energy.png")
    return ["samples.png", "quality_vs_energy.png"]
