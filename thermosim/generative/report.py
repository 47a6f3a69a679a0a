"""The report's generative-computer section: the class-bank, K-stage computer with its current read-out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEMO_SPICE_N = 360  # as many as the held-out digits: the Fréchet distances compare at equal counts
DEMO_TRANSISTOR_N = 96

INTRO = """
## Generative thermodynamic computer (digits)

Whitelam's generative computer (PRL 2026) in its second design: 64 quartic units (the pixels), a CLASS
BANK (ten bias vectors per stage, one selected per sample by the requested class; unconditional samples
draw the class uniformly from counted random bits), a protocol of K piecewise-constant STAGES (each
fitted by exact least squares on the time-reversed noising paths of its own time window, with a ridge and
a penalty on neighbouring stages' differences; the shipped model: K = 10 with one coupling matrix for
all stages, only the per-unit terms and class biases staged — the cost of a coupling bank per stage in
ngspice is in the sweep below), and a CURRENT READ-OUT: each unit's trained-branch current
(the field its couplings, bias and own trained terms deliver), integrated on a capacitor over the last 0.1
time units, divided by the drive and read with a gain of 1.05 (the integrator's capacitor): a denoised
image rather than one noisy state. The field is a least-squares estimate of the drive times the pixel, a
posterior mean, so its contrast is shrunk toward grey; the gain restores it (chosen on seeds 101–110, not
the report's: see the selection table below). The final voltages (decoded as before) are reported beside
it. The same trained values run as the digital twin, as the behavioural circuit in ngspice (switched
coupling banks, sense source, unity mirror, integrating capacitor), and with every unit a five-transistor
cell. Regenerate: `thermosim train digits --stages 10 --tie-couplings && thermosim generate --spice-n 360
--transistor-n 96`.
"""


def generative_markdown(out: Path, log=sys.stderr, reuse: bool = False) -> str:
    """Run `generate` with the committed model (demo sizes) and the K / window sweep; describe both.
    ``reuse``: either one already in out/generative and made from the same inputs is not run again."""
    from .judge import run_generate
    from .sweep import run_sweep

    d = out / "generative"
    model = d / "model.npz"
    if not model.exists():
        return INTRO + "\n(no trained model in results/generative/: run `thermosim train digits`)\n"
    r = run_generate(
        d, model, spice_n=DEMO_SPICE_N, transistor_n=DEMO_TRANSISTOR_N, workers=2, log=log, reuse=reuse
    )
    say = (lambda m: print(m, file=log, flush=True)) if log else None
    s = run_sweep(d, d / "checkpoint.npz", log=say, reuse=reuse)
    training = json.loads((d / "training.json").read_text()) if (d / "training.json").exists() else None
    return INTRO + "\n" + section_body(r, training) + "\n" + k1_body(d / "k1") + sweep_body(s) + "\n"


def k1_body(d: Path) -> str:
    """The one-stage computer's table, from ``k1/metrics.json`` (not rerun by the demo: another 9 minutes
    of ngspice; regenerate with `thermosim generate --model results/generative/k1/model.npz --out
    results/generative/k1 --transistor-n 96`)."""
    if not (d / "metrics.json").exists():
        return ""
    r = json.loads((d / "metrics.json").read_text())
    lines = [
        "",
        "### The same computer with one stage (K = 1), for comparison",
        "",
        "From `generative/k1/` (`thermosim generate --model results/generative/k1/model.npz --out "
        "results/generative/k1 --transistor-n 96`; not rerun by the demo). Same classes and seeds; "
        f"current read-out gain {r['protocol'].get('gain', 1.0):g}.",
        "",
        "| generator (read-out) | n | recognisable | min class share | Fréchet | nn-train dist | copies | "
        "class accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for q in r["quality"]:
        acc = r["class_accuracy"].get(q["label"])
        lines.append(
            f"| {q['label']} | {q['n']} | {q['recognisable']:.3f} | {q['min_class_share']:.3f} | "
            f"{q['frechet']:.2f} | {q['nn_train_dist']:.2f} | {q['copies']:.3f} | "
            + (f"{acc['accuracy']:.3f} |" if acc else "— |")
        )
    m, h = r["spice_vs_twin_mmd"]["current"], r["heat_kt_per_sample"]
    lines += [
        "",
        f"SPICE vs twin (current read-out): MMD² {m['mmd2']:.3g}, floor {m['floor']:.3g} "
        f"(p = {m['p_value']:.2f}); heat {h['spice']:.1f} kT (SPICE) vs {h['twin']:.1f} kT (twin); "
        f"{r['energy_per_sample_J']:.3g} J per sample.",
        "",
    ]
    return "\n".join(lines)


def section_body(r: dict, training: dict | None = None) -> str:
    c, p = r["config"], r["protocol"]
    lines = [
        f"Model: K = {c['stages']} stage(s), ridge {c['ridge']:g}, smoothness {c['smooth']:g}, "
        f"kT = {c['kt']}, t_f = {c['t_f']}, drive {c['drive']}; generation: {p['relax']} time units of "
        f"uncoupled relaxation, read-out window {p['window']}, gain {p.get('gain', 1.0):g}. Samples: twin "
        f"{r['n_twin']}, ngspice "
        f"{r['n_spice']}, transistor level {r['n_transistor']}; the class of each row drawn uniformly "
        f"(counted bits: "
        f"{r['class_bits_per_sample']:.2f} per sample).",
        "",
        "| generator (read-out) | n | recognisable | min class share | Fréchet | nn-train dist | copies |",
        "|---|---|---|---|---|---|---|",
    ]
    for q in r["quality"]:
        lines.append(
            f"| {q['label']} | {q['n']} | {q['recognisable']:.3f} | {q['min_class_share']:.3f} | "
            f"{q['frechet']:.2f} | {q['nn_train_dist']:.2f} | {q['copies']:.3f} |"
        )
    lines += [
        "",
        "Conditional generation: share of samples the judge labels with the requested class.",
        "",
        "| generator (read-out) | all | " + " | ".join(str(k) for k in range(10)) + " |",
        "|---|---|" + "---|" * 10,
    ]
    for k, a in r["class_accuracy"].items():
        lines.append(
            f"| {k} | {a['accuracy']:.3f} | " + " | ".join(f"{v:.2f}" for v in a["per_class"]) + " |"
        )
    lines.append("")
    for readout, m in r.get("spice_vs_twin_mmd", {}).items():
        lines.append(
            f"SPICE vs twin, {readout} read-out (MMD², quadratic kernel, {m['n_x']} vs {m['n_y']}): "
            f"{m['mmd2']:.3g} against a 95 % permutation floor of {m['floor']:.3g} "
            f"(p = {m['p_value']:.2f}) — "
            + ("they agree within the noise floor." if m["agree"] else "they DIFFER beyond the noise floor.")
        )
    h, se = r["heat_kt_per_sample"], r["heat_kt_se"]
    if "spice" in h:
        z = (h["spice"] - h["twin"]) / (se["spice"] ** 2 + se["twin"] ** 2) ** 0.5
        lines.append(
            f"Heat per sample: {h['spice']:.1f} ± {se['spice']:.1f} kT (SPICE) against {h['twin']:.1f} ± "
            f"{se['twin']:.1f} kT (twin): {z:+.1f} combined SE."
        )
    lines += ["", "Energy per generated sample, line by line:", "", "| term | value | unit | per | source |"]
    lines.append("|---|---|---|---|---|")
    for e in r["energy"]:
        lines.append(f"| {e['term']} | {e['value']:.3g} | {e['unit']} | {e['per']} | {e['source']} |")
    dm = r["ddpm_matched"]
    lines += [
        "",
        f"Total {r['energy_per_sample_J']:.3g} J per sample (all J-per-sample lines but the bound; the "
        f"transistor-level supply is listed, not added). Against the DDPM ({dm['match']}: "
        f"{dm.get('method', 'ddpm')} at {dm['steps']} steps, Fréchet {dm['frechet']:.2f}, "
        f"{dm['energy_per_sample_J']:.3g} J per sample at 45 nm): {r['ratio_vs_ddpm']:.3g}× less; "
        "heat alone, as Whitelam counts it, "
        f"{r['ratio_vs_ddpm_heat_only']:.3g}×.",
        "",
    ]
    cost = r["cost"]
    sp = cost.get("spice")
    if sp:
        lines.append(
            f"Run times: ngspice {r['n_spice']} samples in {sp['wall_s']:.0f} s wall "
            f"({sp['cpu_s']:.0f} CPU s, {sp['workers']} workers, {sp['points_per_netlist']} time points "
            f"per netlist; ngspice itself "
            "dominates: 0.35 of the 0.43 CPU s of one profiled sample, two thirds of it the dense 64 × 64 "
            "coupling block — 4032 transconductors loaded and the matrix factored at each of the 3 Newton "
            "iterations per time point, the fastest form measured (docs/results.md) —; the rest is "
            "preparing the netlist, streaming its noise and reading "
            "its waveforms)"
            + (f"; training {training_s(training):.0f} s (paths + fit)" if training else "")
            + f"; twin {cost['twin_wall_s']:.1f} s."
        )
    rg = r["ranges"]
    lines += [
        "",
        f"Trained ranges (model units; ×g₀ = 1 µS for a transconductance, ×g₀V₀ = 0.1 µA for a current): "
        f"|J| ≤ {rg['coupling_max']:.2f}, |b| ≤ {rg['bias_max']:.2f}, δJ₂ ∈ [{rg['dj2_min']:.2f}, "
        f"{rg['dj2_max']:.2f}], δJ₄ ∈ [{rg['dj4_min']:.2f}, {rg['dj4_max']:.2f}].",
        "",
    ]
    lines += [f"![generative {f}](generative/{f})" for f in r["figures"]]
    return "\n".join(lines)


def training_s(training: dict) -> float:
    """Wall seconds of a whole training: every epoch's noising paths (also when a later run reused them
    from the checkpoint) plus the final fit."""
    h = training["history"]
    return sum(e.get("paths_s", 0.0) for e in h) + sum(e["fit"]["fit_s"] for e in h if "fit" in e)


def sweep_body(s: dict) -> str:
    lines = [
        "",
        f"### Sweep: stages K and read-out window (digital twin, {s['n']} samples, same paths and classes)",
        "",
        "| K | couplings | recognisable (current) | Fréchet (current) | accuracy (current) | recognisable "
        "(voltage) | Fréchet (voltage) | heat [kT] | energy per sample [J] | ngspice CPU s per sample | "
        "max abs b |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in s["stages"]:
        c, v = r["current"], r["voltage"]
        lines.append(
            f"| {r['stages']} | {'one bank' if r['tied'] else 'a bank per stage'} | "
            f"{c['recognisable']:.3f} | "
            f"{c['frechet']:.2f} | {c['accuracy']:.3f} | "
            f"{v['recognisable']:.3f} | {v['frechet']:.2f} | {r['heat_kt']:.0f} | "
            f"{r['energy_per_sample_J']:.3g} | "
            + (f"{r['spice_cpu_s_per_sample']:.1f}" if "spice_cpu_s_per_sample" in r else "not run")
            + f" | {r['ranges']['bias_max']:.2f} |"
        )
    lines += [
        "",
        "| K | couplings | window | recognisable | min class share | Fréchet | accuracy |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s["windows"]:
        c = r["current"]
        lines.append(
            f"| {r['stages']} | {'one bank' if r['tied'] else 'per stage'} | {r['window']:g} | "
            f"{c['recognisable']:.3f} | {c['min_class_share']:.3f} | "
            f"{c['frechet']:.2f} | {c['accuracy']:.3f} |"
        )
    sel = s.get("selection", [])
    if sel:
        seeds = sel[0]["seeds"]
        lines += [
            "",
            f"Selection of the design on seeds {seeds[0]}–{seeds[-1]} (not the report's): the twin's current "
            f"read-out, {s['n']} samples a seed, mean ± standard deviation over {len(seeds)} seeds (the "
            "standard error of a mean is the deviation / √"
            f"{len(seeds)}).",
            "",
            "| K | couplings | gain | recognisable | min class share | Fréchet | accuracy |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in sel:
            lines.append(
                f"| {r['stages']} | {'one bank' if r['tied'] else 'per stage'} | {r['gain']:g} | "
                + " | ".join(
                    f"{r[k]['mean']:.3f} ± {r[k]['sd']:.3f}"
                    for k in ("recognisable", "min_class_share", "frechet", "accuracy")
                )
                + " |"
            )
    lines += ["", "![generative sweep](generative/sweep.png)"]
    return "\n".join(lines)
