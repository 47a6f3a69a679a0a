"""The report's transistor-level section: p-bit, coupled rings, transistor quartic unit (demo results)."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np


def _summary(out: Path, sweep: str) -> list[dict]:
    with open(out / "sweeps" / sweep / "summary.csv") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _si(x: float, unit: str) -> str:
    """3 significant digits with an SI prefix: 6.3e-05 W → '63.2 µW'."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g} {unit}"
    exp = min(max(int(math.floor(math.log10(abs(x)) / 3)), -5), 4)
    prefix = {-5: "f", -4: "p", -3: "n", -2: "µ", -1: "m", 0: "", 1: "k", 2: "M", 3: "G", 4: "T"}[exp]
    return f"{x / 10 ** (3 * exp):.3g} {prefix}{unit}"


def pbit_curve(out: Path) -> tuple[dict | None, str]:
    """Logistic fit of P(1) vs bias from the pbit_bias sweep, and its figure."""
    from ...analysis.pbit import fit_sigmoid
    from ...plots import save
    from .plots import sigmoid_plot

    rows = _summary(out, "pbit_bias")
    b = np.array([r["circuit.bias_a"] for r in rows])
    p1 = np.array([r["p1 mean"] for r in rows])
    se = np.array([r["p1_se mean"] for r in rows])
    try:
        fit = fit_sigmoid(b, p1, se)
    except ValueError:
        fit = None
    save(sigmoid_plot(b, p1, se, fit), out / "sweeps" / "pbit_bias" / "sigmoid.png")
    return fit, "sweeps/pbit_bias/sigmoid.png"


def ring_locking(out: Path) -> tuple[dict, list[str]]:
    """Locking vs coupling from ring_coupling, Adler's threshold g* from the locked points, figures."""
    from ...plots import save
    from .plots import locking_plot, phase_hist_plot

    d = out / "sweeps" / "ring_coupling"
    rows = _summary(out, "ring_coupling")
    g = np.array([r["circuit.coupling_s"] for r in rows])
    r_ = np.array([r["locking_r mean"] for r in rows])
    dphi = np.array([r["phase_diff_mean mean"] for r in rows])
    locked = r_ > 0.9
    # Adler: a locked pair sits at sin Δφ = −g*/g_c, so g_c·|sin Δφ| is the same g* at every locked point
    gs = g[locked] * np.abs(np.sin(dphi[locked]))
    adler = {
        "g_star_s": float(np.mean(gs)) if len(gs) else None,
        "g_star_rel_spread": float(np.std(gs) / np.mean(gs)) if len(gs) > 1 else None,
        "n_locked": int(locked.sum()),
        "first_locked_s": float(g[locked].min()) if locked.any() else None,
        "last_unlocked_s": float(g[~locked].max()) if (~locked).any() else None,
    }
    save(locking_plot(g, r_, dphi, adler["g_star_s"]), d / "locking.png")
    hists = {}
    for f in sorted((d / "points").glob("*.json")):
        rec = json.loads(f.read_text())
        m = rec.get("metrics") or {}
        if rec.get("status") == "ok" and "phase_diff_hist" in m and rec.get("replica") == 0:
            hists[float(rec["params"]["circuit.coupling_s"])] = m["phase_diff_hist"]
    labelled = {f"g_c = {k * 1e6:.3g} µS": v for k, v in sorted(hists.items())}
    if labelled:
        save(phase_hist_plot(labelled), d / "phase_hist.png")
    return adler, ["sweeps/ring_coupling/locking.png"] + (
        ["sweeps/ring_coupling/phase_hist.png"] if labelled else []
    )


def density_figure(m: dict, samples: np.ndarray, outdir: Path) -> list[str]:
    """A cmos_quartic run's figure hook: density.png, its samples against the exact density of the
    unit's own DC characteristic and the behavioural quartic densities (fitted and target)."""
    from ...analysis.theory import node_density
    from ...plots import save
    from ..quartic import QuarticParams
    from .plots import density_plot

    samples = samples[:, 0]
    info, dc = m["info"], m["dc_characteristic"]
    u, i_in = np.asarray(dc["u_v"]), np.asarray(dc["i_in_a"])
    pdf, _ = node_density(u, i_in, info["c_f"], info["psd_a2_per_hz"])
    v0, vref = info["v_unit_v"], info["design"]["vref"]
    x = (u - vref) / v0
    curves = {"exact (its DC characteristic)": (u, pdf)}
    for label, (j2, j4, b) in (
        (
            f"behavioural fit J₂={m['j2_fit']:.2f}, J₄={m['j4_fit']:.2f}",
            (m["j2_fit"], m["j4_fit"], m["bias_fit"]),
        ),
        ("behavioural target J₂ = J₄ = 1", (info["j2"], info["j4"], 0.0)),
    ):
        q = QuarticParams(j2=j2, j4=j4, kt=info["kt"])
        w = np.exp(-(q.potential(x, b) - q.potential(x, b).min()) / q.kt)
        curves[label] = (u, w / np.trapezoid(w, u))
    save(density_plot(samples, curves), outdir / "density.png")
    return ["density.png"]


def _check(m: dict, name: str) -> dict | None:
    return next((c for c in m["checks"] if c["name"] == name), None)


def cmos_markdown(runs: dict, out: Path) -> str:
    """The report hook of the three cmos families: the section text from the demo's runs of them
    (``runs``: spec name → (spec, metrics); the first run of each family is reported) and the sweeps
    pbit_bias and ring_coupling in ``out``/sweeps. Writes the sweeps' figures."""
    first = {}
    for name, (spec, m) in runs.items():
        first.setdefault(spec.family, (name, spec, m))
    if not {"cmos_pbit", "cmos_ring", "cmos_quartic"} <= first.keys():
        return ""  # the section compares the three; a demo without one of them has no section
    (_, pbit_spec, pbit), (_, ring_spec, ring), (q_name, q_spec, quartic) = (
        first[f] for f in ("cmos_pbit", "cmos_ring", "cmos_quartic")
    )
    fit, sigmoid_fig = pbit_curve(out)
    adler, ring_figs = ring_locking(out)
    density_fig = f"{q_name}/density.png" if (out / q_name / "density.png").is_file() else None
    sym = _check(pbit, "p1_symmetry")
    var = _check(quartic, "var[v(u)]")
    ks = _check(quartic, "ks[v(u)]")
    lines = [
        "",
        "## Transistor-level circuits (cmos)",
        "",
        "MOSFETs: the 0.5 µm level-1 card `circuits/models/cmos_0p5um_level1.lib` (parameter values from "
        "Sedra & Smith, *Microelectronic Circuits*, 5th ed., 2004, Table 4.8), inlined into each netlist. "
        "Supply power is −V·I of the declared DC sources, integrated over the raw data after the burn-in; "
        "the noise drives are never counted. Energy per independent sample = supply energy of the window / "
        "the run's independent samples (a p-bit: n_eff of its 0/1 series; the rings: of the phase "
        "difference; the quartic unit: n_eff of its voltage).",
        "",
        "| circuit | reference | measured | expected | SE | n_eff | supply power | energy / sample |",
        "|---|---|---|---|---|---|---|---|",
        f"| pbit | P(1) at zero bias = 1/2 (a ↔ b mirror symmetry) | {sym['measured']:.4f} | 0.5 | "
        f"{sym['se']:.4f} | {pbit['independent_samples']:.0f} | {_si(pbit['supply_power_w'], 'W')} | "
        f"{_si(pbit['supply_energy_per_sample_j'], 'J')} |",
        "| quartic_cmos | Var v(u) vs the exact density of its DC characteristic | "
        f"{var['measured']:.4e} V² | {var['expected']:.4e} V² | {var['se']:.2e} | {quartic['n_eff']:.0f} | "
        f"{_si(quartic['supply_power_w'], 'W')} | {_si(quartic['supply_energy_per_sample_j'], 'J')} |",
        f"| quartic_cmos | Kolmogorov–Smirnov D vs the same density | {ks['measured']:.4f} | 0 | "
        f"{ks['se']:.4f} (passes below {1.82 * ks['se']:.4f}) | | | |",
        f"| ring2 | supply power vs C·V²·f of the load capacitors | {_si(ring['supply_power_w'], 'W')} | "
        f"{_si(ring['cv2f_power_w'], 'W')} | ratio {ring['supply_power_w'] / ring['cv2f_power_w']:.3f} | "
        f"{ring['independent_samples']:.0f} | {_si(ring['supply_power_w'], 'W')} | "
        f"{_si(ring['supply_energy_per_sample_j'], 'J')} ({_si(ring['supply_energy_per_cycle_j'], 'J')} "
        "per ring cycle) |",
        "",
        "### p-bit",
        "",
        pbit_spec.description,
        "",
        f"Zero bias: P(1) = {sym['measured']:.4f} ± {sym['se']:.4f} from {pbit['switches']} switches "
        f"(0/1 autocorrelation time {_si(pbit['pbit_tau_int_s'], 's')}, mean dwell "
        f"{_si(pbit['mean_dwell_s']['0'], 's')} / {_si(pbit['mean_dwell_s']['1'], 's')} in 0 / 1).",
    ]
    if fit is not None:
        lines += [
            "",
            f"Transfer curve (`thermosim sweep pbit_bias`): logistic width w = {_si(fit['width'], 'A')} ± "
            f"{_si(fit['width_se'], 'A')}, centre {_si(fit['center'], 'A')} ± {_si(fit['center_se'], 'A')} "
            f"(χ² = {fit['chi2']:.1f} for {fit['dof']} degrees of freedom; by the mirror symmetry the "
            f"centre is 0: {fit['center'] / fit['center_se']:+.1f} SE). At large |bias| the net supply power "
            "turns negative: the ideal bias current source pushes power through the conducting transistors "
            "into VDD. The bias driver's own cost is a programming cost, not the supply's.",
        ]
    lines += ["", f"![p-bit transfer curve]({sigmoid_fig})", "", "### Coupled ring oscillators", ""]
    lines += [
        ring_spec.description,
        "",
        f"ring2: f = {_si(ring['frequency_hz'], 'Hz')} ± {_si(ring['frequency_se_hz'], 'Hz')}, period jitter "
        f"{_si(ring['period_jitter_s'], 's')} rms at 300 K, R = {ring['locking_r']:.6f}, "
        f"Δφ = {ring['phase_diff_mean']:.4f} ± {ring['phase_diff_mean_se']:.1g} rad. The supply draws "
        f"{ring['supply_power_w'] / ring['cv2f_power_w']:.2f}× the C·V²·f of the explicit loads: the rest "
        "charges the transistors' own gate capacitance and flows as short-circuit current during the edges.",
    ]
    if adler["g_star_s"] is not None:
        lines += [
            "",
            f"Locking (`thermosim sweep ring_coupling`): {adler['n_locked']} of the couplings lock. Adler's "
            "equation says g_c·|sin Δφ| = g* at every locked point: measured g* = "
            f"{_si(adler['g_star_s'], 'S')}"
            + (
                f" with a {100 * adler['g_star_rel_spread']:.2f} % spread across the locked points"
                if adler["g_star_rel_spread"] is not None
                else ""
            )
            + (
                f"; the threshold lies between {_si(adler['last_unlocked_s'], 'S')} (drifting) and "
                f"{_si(adler['first_locked_s'], 'S')} (locked)."
                if adler["last_unlocked_s"] and adler["first_locked_s"]
                else "."
            ),
        ]
    lines += [""] + [f"![ring locking]({f})" for f in ring_figs]
    lines += ["", "### Transistor-level quartic neuron", "", q_spec.description, ""]
    lines += [
        f"Realised unit (fit to the DC characteristic over ±4 σ): J₂ = {quartic['j2_fit']:.3f}, "
        f"J₄ = {quartic['j4_fit']:.3f}, offset b = {quartic['bias_fit']:.3f} (design 1, 1, 0). Variance in "
        f"model units: transistor unit {quartic['var_x_dc']:.4f} (exact), behavioural fit "
        f"{quartic['var_x_behavioural_fit']:.4f}, behavioural target "
        f"{quartic['var_x_behavioural_target']:.4f}. "
        "The design cancels the OTA's transconductance against the resistor (the net J₂ is the small "
        "difference of two large conductances), so a percent-level error in the square-law sizing moves J₂ "
        "by tens of percent; the exact reference is the circuit's own characteristic.",
    ]
    if density_fig:
        lines += ["", f"![transistor quartic density]({density_fig})"]
    return "\n".join(lines) + "\n"
