"""A sweep's figures: each metric against the first axis with the replicas' error bars, or a heatmap over
two axes (drawn from summary.csv rows; :func:`sweep_figures`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import NullFormatter

from ..plots import save


def sweep_errorbar(
    x,
    mean,
    se,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    label: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A swept metric vs a parameter: replica mean with ±1 standard error bars."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    se = np.where(np.isfinite(se), se, 0.0)
    ax.errorbar(x, mean, yerr=se, marker="o", ms=4, capsize=3, label=label)
    if logx:
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
    finite = np.asarray(mean, float)[np.isfinite(mean)]
    if len(finite) and finite.min() > 0 and finite.max() / finite.min() > 20:
        ax.set_yscale("log")  # e.g. cost vs step: a power law is a line
    if ylabel.startswith("var_ratio"):
        ax.axhline(1.0, color="0.4", lw=0.8, ls="--")  # theory
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    return ax


def sweep_heatmap(
    xvals, yvals, grid: np.ndarray, xlabel: str, ylabel: str, title: str, ax: Axes | None = None
) -> Axes:
    """A swept metric over two parameters (replica means), values written in the cells."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.4, 4.2))
    im = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(
        range(len(xvals)),
        [f"{v:.3g}" if isinstance(v, float) else str(v) for v in xvals],
        rotation=45,
        ha="right",
    )
    ax.set_yticks(range(len(yvals)), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in yvals])
    for (i, j), v in np.ndenumerate(grid):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize=7, color="w")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax)
    return ax


def metric_figure(metric: str) -> str:
    """File name of a sweep metric's figure: ``var_ratio[0]`` → ``var_ratio_0.png``."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in metric).strip("_") + ".png"


def sweep_figures(desc: dict, summary: list[dict], outdir: Path) -> list[str]:
    """One PNG per metric: vs the first axis (one line per combination of the others, up to 8), or a
    heatmap when there are exactly two axes. Returns the file names."""
    axes = desc["axes"]
    files = []
    for metric in desc["metrics"]:
        safe = metric_figure(metric)
        mean = np.array([r[f"{metric} mean"] for r in summary], float)
        se = np.array([r[f"{metric} se"] for r in summary], float)
        a0 = axes[0]
        if len(axes) == 2:
            a1 = axes[1]
            xs, ys = (
                list(dict.fromkeys(r[a1["key"]] for r in summary)),
                list(dict.fromkeys(r[a0["key"]] for r in summary)),
            )
            g = np.full((len(ys), len(xs)), np.nan)
            for r, m in zip(summary, mean, strict=True):
                g[ys.index(r[a0["key"]]), xs.index(r[a1["key"]])] = m
            ax = sweep_heatmap(xs, ys, g, a1["label"], a0["label"], metric)
        else:
            ax = None
            rest = [a["key"] for a in axes[1:]]
            groups = list(dict.fromkeys(tuple(r[k] for k in rest) for r in summary))[:8]
            for grp in groups:
                idx = [i for i, r in enumerate(summary) if tuple(r[k] for k in rest) == grp]
                label = (
                    ", ".join(
                        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in zip(rest, grp, strict=True)
                    )
                    or None
                )
                x = [summary[i][a0["key"]] for i in idx]
                ax = sweep_errorbar(x, mean[idx], se[idx], a0["label"], metric, a0["log"], label, ax=ax)
            if len(groups) > 1:
                ax.legend(fontsize=7)
            ax.set_title(f"{desc['name']}: {metric} (mean ± SE over {desc['replicas']} replicas)", fontsize=9)
        save(ax, outdir / safe)
        files.append(safe)
    return files
