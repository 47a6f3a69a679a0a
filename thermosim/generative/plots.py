"""Figures of the generative computer: class-column sample grids, noise-to-digit paths, the class bank."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from ..compare.plots import show_tiles, tile
from ..plots import save

GAP = 2  # pixels of gutter between neighbouring digits


def class_grid(images: np.ndarray, classes: np.ndarray, rows: int = 4, ax=None, title: str = ""):
    """One column per class 0…9 (its label above), the first ``rows`` images of that class below it."""
    classes = np.asarray(classes)
    grid = -np.ones((rows, 10), int)
    for c in range(10):
        idx = np.flatnonzero(classes == c)[:rows]
        grid[: len(idx), c] = idx
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 0.45 * rows + 0.8), layout="constrained")
    show_tiles(ax, tile(np.asarray(images), grid, GAP))
    ax.set_xticks(np.arange(10) * (8 + GAP) + 3.5, [str(c) for c in range(10)], fontsize=10)
    ax.xaxis.tick_top()
    ax.set_title(title, fontsize=9)
    return ax


def sample_panels(panels: dict, rows: int = 4):
    """A class grid per generator (dict label → (images, classes)), stacked."""
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(4.6, (0.45 * rows + 0.85) * len(panels)), layout="constrained"
    )
    for ax, (label, (im, cl)) in zip(np.atleast_1d(axes), panels.items(), strict=True):
        class_grid(im, cl, rows, ax, label)
    return axes


def trajectories(model, snapshots: np.ndarray, readout: np.ndarray, rows: int = 6, ax=None, classes=None):
    """Noise → digit: the visible units of ``rows`` samples (voltage read-out) at evenly spaced times,
    and in the last column the current read-out (scaled pixels ``readout``); ``classes``: each row's
    requested class, labelled on the left."""
    from ..digital.data import unscale
    from .model import decode

    frames = [unscale(decode(model.config, snapshots[k, :rows])) for k in range(snapshots.shape[0])]
    frames.append(unscale(readout[:rows]))
    s = len(frames)
    imgs = np.stack(frames, axis=1)
    grid = np.arange(rows * s).reshape(rows, s)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.9 * s + 0.4, 0.9 * rows + 0.6), layout="constrained")
    show_tiles(ax, tile(imgs.reshape(rows * s, 64), grid, GAP))
    ax.set_xticks(np.arange(s) * (8 + GAP) + 3.5, [*map(str, range(1, s)), "current"], fontsize=9)
    if classes is not None:
        labels = [f"class {c}" for c in np.asarray(classes)[:rows]]
        ax.set_yticks(np.arange(rows) * (8 + GAP) + 3.5, labels, fontsize=9)
    ax.set_xlabel(
        "states evenly spaced over relaxation + protocol (decoded voltages); last: current read-out"
    )
    return ax


def class_bank(model, ax=None):
    """The class bank of the last stage: each class's bias vector b_c as an 8×8 image."""
    b = model.bias[-1]
    fig, axes = plt.subplots(1, 10, figsize=(8.0, 1.3), layout="constrained")
    lim = float(np.abs(b).max()) or 1.0
    for c, a in enumerate(axes):
        im = a.imshow(-b[c].reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
        a.set_title(str(c), fontsize=8)
        a.axis("off")
    fig.colorbar(im, ax=axes, shrink=0.8, label="−b (last stage)")
    return axes


def sweep_figure(result: dict):
    """Recognisable and Fréchet (both read-outs) against K; energy and ngspice CPU per sample against K;
    recognisable and Fréchet against the read-out window."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), layout="constrained")
    rows = [r for r in result["stages"] if not r["tied"]]
    tied = [r for r in result["stages"] if r["tied"] or r["stages"] == 1]
    ks = [r["stages"] for r in rows]
    for readout, style in (("current", "o-"), ("voltage", "s--")):
        axes[0].plot(ks, [r[readout]["recognisable"] for r in rows], style, label=f"{readout}: recognisable")
        axes[0].plot(
            ks, [r[readout]["frechet"] / 4 for r in rows], style, alpha=0.4, label=f"{readout}: Fréchet/4"
        )
    kt = [r["stages"] for r in tied]
    axes[0].plot(kt, [r["current"]["recognisable"] for r in tied], "^-k", label="current, one coupling bank")
    axes[0].axhline(0.85, color="0.5", ls=":", lw=0.8, label="goal: recognisable ≥ 0.85")
    axes[0].set_xscale("log")
    axes[0].set(xlabel="stages K", ylabel="recognisable fraction, Fréchet distance / 4")
    axes[0].legend(fontsize=6, loc="center left", bbox_to_anchor=(0, 0.36))  # between the lines
    axes[1].loglog(ks, [r["energy_per_sample_J"] for r in rows], "o-", color="C0")
    axes[1].set_xlabel("stages K")
    axes[1].set_ylabel("energy per sample [J] (a bank per stage)", color="C0")
    ax2 = axes[1].twinx()
    for sel, style, name in ((rows, "s--", "a bank per stage"), (tied, "^:", "one coupling bank")):
        timed = [r for r in sel if "spice_cpu_s_per_sample" in r]
        x = [r["stages"] for r in timed]
        untimed = sorted({r["stages"] for r in sel} - set(x))  # too large to run in ngspice (sweep.py)
        label = name + (f" (K = {', '.join(map(str, untimed))} not run)" if untimed else "")
        ax2.plot(x, [r["spice_cpu_s_per_sample"] for r in timed], style, color="C3", label=label)
    ax2.set_ylabel("ngspice CPU s per sample", color="C3")
    ax2.legend(fontsize=6, loc="upper left")
    for k, tie in sorted({(r["stages"], r["tied"]) for r in result["windows"]}):
        sel = [r for r in result["windows"] if (r["stages"], r["tied"]) == (k, tie)]
        w = [r["window"] for r in sel]
        name = f"K = {k}{', one bank' if tie else ''}"
        axes[2].semilogx(w, [r["current"]["recognisable"] for r in sel], "o-", label=f"{name}: recognisable")
        axes[2].semilogx(w, [r["current"]["frechet"] / 4 for r in sel], "s--", label=f"{name}: Fréchet/4")
    axes[2].set(xlabel="read-out window [model time]", ylabel="recognisable fraction, Fréchet distance / 4")
    axes[2].legend(fontsize=6)
    for ax in axes:
        ax.grid(alpha=0.3)
    return axes


def generative_figures(
    model, images: dict, classes, ddpm_images: dict, snapshots, readout, out: Path
) -> list[str]:
    from ..digital.data import load_digits_split
    from ..digital.quality import get_judge

    split = load_digits_split()
    best = max(ddpm_images, key=lambda k: int(k.split("_")[1]))
    ddpm = ddpm_images[best]
    names = {"spice": "SPICE (ngspice)", "twin": "digital twin", "transistor": "transistor level"}
    panels = {
        f"{names[k]}: requested class above each column": (v, classes[: len(v)]) for k, v in images.items()
    }
    panels[f"DDPM ({best.split('_')[1]} steps): column = judge's label"] = (
        ddpm,
        get_judge().probabilities(ddpm).argmax(axis=1),
    )
    panels["training digits: column = label"] = (split.x_train, split.y_train)
    files = {
        "samples.png": sample_panels(panels),
        "trajectories.png": trajectories(model, snapshots, readout, classes=classes),
        "class_bank.png": class_bank(model),
    }
    for name, ax in files.items():
        save(ax, out / name)
    return list(files)
