"""Figures of the generative computer: sample grids, noise-to-digit paths, coupling fields, training curve."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .plots import save  # noqa: E402
from .plots_compare import sample_grid  # noqa: E402


def trajectories(model, snapshots: np.ndarray, rows: int = 6, ax=None):
    """Noise → digit: the visible units of ``rows`` samples at evenly spaced times over 0 … 2·t_f."""
    from .generative.judge import pixels

    s = snapshots.shape[0]
    tiles = np.stack([pixels(model, snapshots[k, :rows]) for k in range(s)], axis=1)  # rows × S × 64
    tiles = np.pad(tiles.reshape(rows, s, 8, 8), ((0, 0), (0, 0), (0, 1), (0, 1)))  # a blank line between
    img = tiles.transpose(0, 2, 1, 3).reshape(9 * rows, 9 * s)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 * s, 1.0 * rows + 0.6), layout="constrained")
    ax.imshow(img, cmap="gray_r", vmin=0, vmax=16)
    tf = model.config.t_f
    ax.set_xticks(9 * np.arange(s) + 3.5, [f"{t:.2g}" for t in np.linspace(0, 2 * tf, s)], fontsize=7)
    ax.set_yticks([])
    ax.set_xlabel(f"model time (couplings switched on at t_f = {tf:g})")
    return ax


def coupling_fields(model, n: int = 16, ax=None):
    """Each hidden unit's coupling field on the 64 pixels, J_{pixel, h} as an 8×8 image (first n units)."""
    h = min(n, model.config.hidden)
    if h == 0:
        raise ValueError("the model has no hidden units")
    fields = model.coupling[:64, 64 : 64 + h].T.reshape(h, 8, 8)
    cols = min(8, h)
    rows = -(-h // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.25 * rows + 0.4), layout="constrained")
    lim = float(np.abs(fields).max()) or 1.0
    for k, a in enumerate(np.atleast_1d(axes).ravel()):
        a.axis("off")
        if k < h:
            im = a.imshow(fields[k], cmap="RdBu_r", vmin=-lim, vmax=lim)
            a.set_title(f"h{k + 1}", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.8, label="J (pixel, hidden)")
    return axes


def training_curve(history: list[dict], ax=None):
    """Reverse-path log-likelihood gain per trajectory, per epoch (fresh paths, parameters before it)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
    e = [h["epoch"] for h in history]
    ax.plot(e, [h["gain_nats_per_trajectory"] for h in history], "o-", label="on fresh paths (before update)")
    ax.plot(e, [h["gain_after_nats_per_trajectory"] for h in history], "s--", label="after update")
    ax.set_xlabel("epoch")
    ax.set_ylabel("log-likelihood gain [nats / trajectory]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return ax


def generative_figures(model, images: dict, ddpm_images: dict, snapshots: np.ndarray, out: Path) -> list[str]:
    from .digital.data import load_digits_split

    best = min((k for k in ddpm_images), key=lambda k: int(k.split("_")[1]))
    grid = {
        "SPICE (ngspice)": images["spice"],
        "digital twin": images["twin"],
        f"DDPM ({best.split('_')[1]} steps)": ddpm_images[best],
        "training data": load_digits_split().x_train,
    }
    if "transistor" in images:
        grid = {"transistor-level": images["transistor"], **grid}
    side = int(np.sqrt(min(36, *(len(v) for v in grid.values()))))  # a square grid every set can fill
    files = {
        "samples.png": sample_grid(grid, side * side),
        "trajectories.png": trajectories(model, snapshots),
    }
    if model.config.hidden:
        files["coupling_fields.png"] = coupling_fields(model)
    if model.history:
        files["training.png"] = training_curve(model.history)
    for name, ax in files.items():
        save(ax, out / name)
    return list(files)
