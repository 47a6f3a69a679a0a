"""A sweep's figures: each metric against the first axis with error bars, or a heatmap over two axes
(drawn from summary.csv rows; :func:`sweep_figures`). Labels and units come from the one metric registry
(:mod:`thermosim.analysis.quantities`); values in SI units are shown with a prefix (µs, mW, µA)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import (
    EngFormatter,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    ScalarFormatter,
)

from ..analysis import quantities
from ..plots import save

LOG_DECADES = 1.5  # positive values spanning more than this many decades go on a log axis
_PREFIXES = {-15: "f", -12: "p", -9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T"}
_SCALED_UNITS = {"s", "S", "F", "H", "A", "V", "Hz", "J", "W", "Ω"}  # units an SI prefix reads well on


def spans_decades(values) -> bool:
    """True for positive numbers whose max/min is more than :data:`LOG_DECADES` decades."""
    v = np.asarray([x for x in values if isinstance(x, int | float)], float)
    v = v[np.isfinite(v)]
    return len(v) > 1 and v.min() > 0 and v.max() / v.min() > 10**LOG_DECADES


def si_scale(values, unit: str) -> tuple[float, str]:
    """(factor, prefixed unit) that shows ``values`` in ``unit`` with an SI prefix: 3e-4 A → (1e6, µA)."""
    v = np.abs(np.asarray([x for x in values if isinstance(x, int | float)], float))
    v = v[np.isfinite(v) & (v > 0)]
    if unit not in _SCALED_UNITS or not len(v):
        return 1.0, unit
    middle = math.exp(np.mean(np.log(v)))  # the geometric middle: 30 Ω … 1 kΩ reads in Ω, 1–100 µS in µS
    exp = min(max(3 * math.floor(math.log10(middle) / 3), -15), 12)
    return 10.0**-exp, _PREFIXES[exp] + unit


def axis_text(text: str, unit: str, scaled: str) -> str:
    """``text`` with its unit shown as ``scaled``: ``"bias [A]"`` → ``"bias [µA]"``; a unit appended when
    the text gives none."""
    if unit and f"[{unit}]" in text:
        return text.replace(f"[{unit}]", f"[{scaled}]")
    return f"{text} [{scaled}]" if scaled and "[" not in text else text


def readable(axis, values, log: bool) -> None:
    """Log axis: decades labelled (and 2, 5 in between when it spans under 3 decades); linear: at most 6
    plain tick labels, no offset."""
    if log:
        v = np.asarray(values, float)
        v = v[np.isfinite(v) & (v > 0)]
        axis.set_major_locator(LogLocator(base=10, numticks=12))
        if len(v) and v.max() / v.min() < 1e3:
            plain = FuncFormatter(lambda x, _: f"{x:g}")
            axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0), numticks=12))
            axis.set_major_formatter(plain)
            axis.set_minor_formatter(plain)
        else:
            axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
        v = np.abs(np.asarray(values, float))
        if len(v) and np.nanmax(v) >= 1e4:  # 20M, not 2 with "1e7" over the axis
            axis.set_major_formatter(EngFormatter(sep=""))
        else:
            fmt = ScalarFormatter(useOffset=False)
            fmt.set_powerlimits((-3, 4))
            axis.set_major_formatter(fmt)


def sweep_errorbar(
    x,
    mean,
    se,
    xlabel: str,
    ylabel: str,
    logx: bool = False,
    label: str | None = None,
    ax: Axes | None = None,
    logy: bool | None = None,
) -> Axes:
    """A swept metric vs a parameter: replica mean with ±1 standard error bars (none where SE is NaN);
    log axes when asked (``logy=None``: when the means span more than 1.5 decades)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    se = np.asarray(se, float)
    yerr = np.where(np.isfinite(se), se, 0.0) if np.isfinite(se).any() else None
    ax.errorbar(x, mean, yerr=yerr, marker="o", ms=4, capsize=3 if yerr is not None else 0, label=label)
    if logx:
        ax.set_xscale("log")
    readable(ax.xaxis, x, logx)
    if logy is None:
        logy = spans_decades(np.asarray(mean, float))
    if logy:
        ax.set_yscale("log")  # e.g. cost vs step: a power law is a line
    readable(ax.yaxis, np.asarray(mean, float), logy)
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


def metric_figure(metric: str, suffix: str = "") -> str:
    """File name of a sweep metric's figure: ``var_ratio[0]`` → ``var_ratio_0.png``."""
    name = metric + suffix
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name).strip("_") + ".png"


def error_bars(metric: str, summary: list[dict], replicas: int) -> tuple[np.ndarray, str]:
    """The error bars of a metric and what they are: the runs' own SE where the table has it (combined
    over replicas), else the replicas' SD/√n, else none."""
    run = np.array([r.get(f"{metric} run se", math.nan) for r in summary], float)
    if np.isfinite(run).any():
        what = "±1 SE of each run" if replicas == 1 else f"±1 SE from the runs' SEs over {replicas} replicas"
        return run, f"{what} ({quantities.se_name(metric)})"
    rep = np.array([r[f"{metric} se"] for r in summary], float)
    if np.isfinite(rep).any():
        return rep, f"±1 SE over {quantities.plural(replicas, 'replica')} (SD/√n)"
    return rep, f"{quantities.plural(replicas, 'replica')}, no SE recorded: no error bars"


def sweep_figures(desc: dict, summary: list[dict], outdir: Path, suffix: str = "") -> list[str]:
    """One PNG per figure metric (``desc["figures"]``, else every metric): vs the first axis (one line
    per combination of the others, up to 8), or a heatmap when there are exactly two axes. Returns the
    file names."""
    axes = desc["axes"]
    files = []
    for metric in dict.fromkeys(desc.get("figures") or desc["metrics"]):
        safe = metric_figure(metric, suffix)
        mean = np.array([r[f"{metric} mean"] for r in summary], float)
        unit = quantities.unit(metric)
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
            ax = sweep_heatmap(xs, ys, g, a1["label"], a0["label"], quantities.label(metric))
        else:
            se, what = error_bars(metric, summary, desc["replicas"])
            xvals = [r[a0["key"]] for r in summary]
            logx = a0.get("spacing") == "log" or spans_decades(xvals)
            xunit = quantities.unit(a0["key"])
            xf, xu = si_scale(xvals, xunit)
            yf, yu = si_scale(mean, unit)
            xlabel = axis_text(a0.get("label") or quantities.label(a0["key"]), xunit, xu)
            ylabel = axis_text(quantities.label(metric), unit, yu)
            ax = None
            rest = [a["key"] for a in axes[1:]]
            groups = list(dict.fromkeys(tuple(r[k] for k in rest) for r in summary))[:8]
            logy = spans_decades(mean)
            exact = np.array(
                [r.get(f"{quantities.theory_name(metric)} mean", math.nan) for r in summary], float
            )
            has_exact = len(groups) == 1 and bool(np.isfinite(exact).all())
            for grp in groups:
                idx = [i for i, r in enumerate(summary) if tuple(r[k] for k in rest) == grp]
                label = ", ".join(
                    f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in zip(rest, grp, strict=True)
                ) or ("measured" if has_exact else None)
                x = [summary[i][a0["key"]] for i in idx]
                x = [v * xf for v in x] if xf != 1.0 else x
                ax = sweep_errorbar(x, mean[idx] * yf, se[idx] * yf, xlabel, ylabel, logx, label, ax, logy)
            if len(groups) > 1:
                ax.legend(fontsize=7)
            if quantities.parse(metric)[0] == "var_ratio":
                ax.axhline(1.0, color="0.4", lw=0.8, ls="--", label="theory")  # exact: 1
            if has_exact:
                xs = np.array([r[a0["key"]] for r in summary], float) * xf
                ax.plot(xs, exact * yf, color="0.3", lw=1, ls="--", label="exact theory")
                ax.legend(fontsize=7)
            ax.set_title(f"{desc['name']}: {metric}\n{what}", fontsize=9)
        save(ax, outdir / safe)
        files.append(safe)
    return files
