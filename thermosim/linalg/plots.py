"""Figures of the linalg runs (no backend forced; each function takes ax=None and returns the Axes)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


def _ax(ax: Axes | None, size=(6.4, 4.4)) -> Axes:
    return ax if ax is not None else plt.figure(figsize=size).add_subplot()


def error_vs_time(runs: list[dict], ax: Axes | None = None) -> Axes:
    """Measured relative error of Â⁻¹ (or x̂) vs simulated time, each with its law √((1+d_eff)/N_eff)
    (dashed) and the ±3 SE band of a single run."""
    ax = _ax(ax)
    for i, r in enumerate(runs):
        color = f"C{i}"
        t = np.asarray(r["t_s"])
        law, se = np.asarray(r["rel_err_expected_curve"]), np.asarray(r["rel_err_se_curve"])
        ax.fill_between(t, np.maximum(law - 3 * se, law * 0.05), law + 3 * se, color=color, alpha=0.12, lw=0)
        ax.loglog(t, law, "--", color=color, lw=1)
        ax.loglog(
            t,
            r["rel_err_curve"],
            "o-",
            color=color,
            ms=3,
            lw=1.2,
            label=f"{r['kind']} d = {r['d']} ({r['circuit']})",
        )
    ax.set_xlabel("simulated time [s]")
    ax.set_ylabel("relative Frobenius error")
    ax.set_title("sampled vs exact (numpy); dashed: law, band: ±3 SE", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def mismatch_curves(sweep: dict, ax: Axes | None = None) -> Axes:
    """Error vs time for each σ (first mismatch draw): the curves leave the law and flatten at the exact
    floor of the circuit as built (dotted)."""
    ax = _ax(ax)
    runs = [r for r in sweep["runs"] if r["mismatch_seed"] == 0]
    t0 = np.asarray(runs[0]["t_s"])
    ax.loglog(t0, runs[0]["rel_err_expected_curve"], "k--", lw=1, label="statistical law")
    for i, r in enumerate(runs):
        color = f"C{i}"
        ax.loglog(r["t_s"], r["rel_err_curve"], "o-", color=color, ms=3, lw=1.2, label=f"σ = {r['sigma']:g}")
        if r["sigma"] > 0:
            ax.axhline(r["exact_floor"], color=color, ls=":", lw=1)
    ax.set_xlabel("simulated time [s]")
    ax.set_ylabel("relative error of Â⁻¹")
    ax.set_title(
        f"d = {sweep['d']} inverse on {sweep['circuit']}; dotted: exact floor (Lyapunov)", fontsize=10
    )
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def floor_vs_sigma(sweep: dict, ax: Axes | None = None) -> Axes:
    """Measured floor (mean ± spread over mismatch draws) vs σ, beside the exact and first-order floors."""
    ax = _ax(ax)
    s = np.asarray(sweep["sigma"])
    on = s > 0
    ax.errorbar(
        s[on],
        np.asarray(sweep["floor"])[on],
        yerr=np.asarray(sweep["floor_sd"])[on],
        fmt="o",
        capsize=3,
        label="measured (paired with σ = 0)",
    )
    ax.loglog(
        s[on], np.asarray(sweep["exact_floor"])[on], "s", mfc="none", label="exact (Lyapunov, as built)"
    )
    ax.loglog(s[on], np.asarray(sweep["perturbation_floor"])[on], "k-", lw=1, label="first order ‖A⁻¹δA A⁻¹‖")
    ax.axhline(sweep["rel_err_expected"], color="gray", ls="--", lw=1, label="statistical error of one run")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("component tolerance σ (relative)")
    ax.set_ylabel("error floor of Â⁻¹ (relative)")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax
