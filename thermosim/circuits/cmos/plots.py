"""Figures of the transistor-level circuits: p-bit transfer curve, ring locking, quartic-unit density.

Same conventions as :mod:`thermosim.plots` (Agg, optional ``ax``, returns the Axes; SI inputs).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ...plots import plt


def sigmoid_plot(bias_a, p1, p1_se, fit: dict | None, ax: Axes | None = None) -> Axes:
    """P(1) ± SE against the bias current, with the fitted logistic 1/(1 + exp(−(I − I₀)/w))."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    b = np.asarray(bias_a, float) * 1e6
    ax.errorbar(b, p1, yerr=p1_se, fmt="o", ms=4, capsize=3, label="ngspice (± SE)")
    if fit is not None:
        x = np.linspace(b.min(), b.max(), 400)
        ax.plot(
            x,
            1 / (1 + np.exp(-(x - fit["center"] * 1e6) / (fit["width"] * 1e6))),
            "k-",
            lw=1,
            label=f"logistic: w = {fit['width'] * 1e6:.1f} ± {fit['width_se'] * 1e6:.1f} µA",
        )
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("bias current into a [µA]")
    ax.set_ylabel("P(state 1)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def locking_plot(coupling_s, locking_r, phase_diff, g_star: float | None, axes=None):
    """Two panels against the coupling conductance: the order parameter R, and the mean phase offset of
    the locked points with Adler's prediction Δφ = −arcsin(g*/g_c)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
    g = np.asarray(coupling_s, float) * 1e6
    axes[0].semilogx(g, locking_r, "o-", ms=4)
    axes[0].set_ylabel("locking order parameter R = |⟨e^{iΔφ}⟩|")
    axes[0].set_ylim(-0.03, 1.03)
    locked = np.asarray(locking_r) > 0.9
    axes[1].semilogx(g[locked], np.asarray(phase_diff)[locked], "o", ms=5, label="ngspice (locked points)")
    if g_star is not None:
        x = np.geomspace(g_star * 1e6 * 1.0001, g.max(), 300)
        axes[1].semilogx(
            x, -np.arcsin(g_star * 1e6 / x), "k-", lw=1, label=f"Adler, g* = {g_star * 1e6:.2f} µS"
        )
    axes[1].set_ylabel("locked phase offset Δφ [rad]")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel("coupling conductance [µS]")
        ax.grid(alpha=0.3)
    return axes


def phase_hist_plot(hists: dict, ax: Axes | None = None) -> Axes:
    """Distributions of the wrapped phase difference (36 bins over (−π, π]), one line per label."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    edges = np.linspace(-np.pi, np.pi, 37)
    centers = 0.5 * (edges[1:] + edges[:-1])
    for label, h in hists.items():
        h = np.asarray(h, float)
        ax.semilogy(
            centers, np.maximum(h / h.sum() / np.diff(edges), 1e-4), drawstyle="steps-mid", label=label
        )
    ax.set_xlabel("phase difference Δφ [rad]")
    ax.set_ylabel("density [1/rad]")
    ax.set_ylim(1e-3 * 0.5, None)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax


def density_plot(samples_v, curves: dict, ax: Axes | None = None) -> Axes:
    """Histogram of node-voltage samples against exact densities ``{label: (u_v, pdf_per_v)}``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    mv = np.asarray(samples_v) * 1e3
    ax.hist(mv, bins=120, density=True, alpha=0.45, label="ngspice samples")
    lo, hi = mv.min(), mv.max()
    ax.set_xlim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    for (label, (u, pdf)), style in zip(curves.items(), ("k-", "C3--", "C2:"), strict=False):
        ax.plot(np.asarray(u) * 1e3, np.asarray(pdf) / 1e3, style, lw=1.2, label=label)
    ax.set_xlabel("node voltage [mV]")
    ax.set_ylabel("density [1/mV]")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return ax
