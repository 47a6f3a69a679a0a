"""The report's energy and distribution-metric section (demo results, plus three short extra runs)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..physics import K_B

# a relaxation from a non-equilibrium start: 64 independent RC nodes (τ = 1 µs) starting at 50 kT of
# stored energy each, simulated for 2τ: the mean heat released per node is known in closed form
RELAX = {
    "name": "rc_relax",
    "family": "rc",
    "circuit": {"n": 64, "c_f": 1e-12, "r_ohm": 1e6, "initial_v": math.sqrt(100 * K_B * 300.0 / 1e-12)},
    "sim": {"t_stop_s": 2e-6, "noise_step_s": 2.5e-8, "burn_in_s": 0.0, "seed": 11},
}


def _samples(table: dict):
    from ..runs.experiment import prepare, simulate_scratch
    from ..runs.spec import spec_from_table

    return simulate_scratch(prepare(spec_from_table(table)))


def relaxation_heat() -> dict:
    """Mean Sekimoto heat per node of RELAX vs ⟨Q(t)⟩ = ½(C·v₀²/kT − 1)(1 − e^{−2t/τ}) kT (SE from nodes)."""
    out = _samples(RELAX)
    c, kt = RELAX["circuit"]["c_f"], K_B * 300.0
    x, t = out.samples, out.sample_times_s
    q = 0.5 * c * (x[0] ** 2 - x[-1] ** 2) / kt
    e0 = 0.5 * c * RELAX["circuit"]["initial_v"] ** 2 / kt
    duration = t[-1] - t[0]
    theory = (e0 - 0.5) * (1 - math.exp(-2 * duration / 1e-6))
    run_heat = next(r["value"] for r in out.metrics["energy"] if r["term"] == "heat" and r["per"] == "run")
    return {
        "mean": float(q.mean()),
        "se": float(q.std(ddof=1) / math.sqrt(len(q))),
        "theory": theory,
        "nodes": len(q),
        "e0": e0,
        "duration_s": duration,
        "table_total": run_heat,
    }


def mmd_checks(gauss4_samples: np.ndarray, gauss4_metrics: dict, base_table: dict) -> list[dict]:
    """gauss4 against (a) itself with another seed, (b) a copy whose noise temperature, hence whose
    covariance, is 5 % higher: the quadratic-kernel MMD (means and covariances) on every ≈ independent
    row, and the Gaussian-kernel MMD on 2000 rows, each against its permutation floor."""
    from ..analysis.mmd import mmd_test
    from ..runs.executor import make_executor
    from ..runs.spec import with_overrides

    tau = max(gauss4_metrics["tau_int_s"]) / gauss4_metrics["noise_step_s"]
    t_noise = base_table["circuit"]["noise_temperature_k"]
    cases = {
        "same circuit, seed 2": {"sim.seed": 2},
        "noise temperature × 1.05 (Σ × 1.05), seed 3": {
            "sim.seed": 3,
            "circuit.noise_temperature_k": 1.05 * t_noise,
        },
    }
    with make_executor(len(cases)) as pool:  # both circuits at once, one process each
        others = list(pool.map(_samples, [with_overrides(base_table, o) for o in cases.values()]))
    rows = []
    for label, other in zip(cases, others, strict=True):
        tau_y = max(other.metrics["tau_int_s"]) / other.metrics["noise_step_s"]
        for kernel, max_n in (("quadratic", 10**7), ("gaussian", 2000)):
            r = mmd_test(
                gauss4_samples, other.samples, tau_x=tau, tau_y=tau_y, kernel=kernel, max_n=max_n, seed=1
            )
            rows.append({"comparison": label, **r})
    return rows


def energy_markdown(rows, out: Path) -> str:
    """Section text from the demo runs ``rows`` [(spec, metrics)]; runs the relaxation and MMD extras."""
    from ..runs.spec import read_toml

    lines = [
        "",
        "## Energy and distribution metrics",
        "",
        "Every run's `metrics.json` (and `--json`) carries an `energy` table: rows `{term, value, unit, per, "
        "source}` for the supply (−∫V·I of the declared supply sources), the Sekimoto heat (gradient "
        "dynamics only), the read-out (Walden-FOM ADC, 2.2 fJ/conversion-step: Harpe et al., ISSCC 2013), "
        "programming "
        "(a capacitor-DAC estimate per write, and amortised per sample) and the Landauer bound of the output "
        "bits. The assumptions are the spec's `[energy]` table (defaults: 8-bit read-out of every variable, "
        "8-bit programming, 300 K). The power the noise sources deliver is never counted. Per independent "
        "sample, in joules:",
        "",
        "| circuit | supply | heat | read-out | programming (per write) | bound | independent samples |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec, m in rows:
        e = {(r["term"], r["per"], r["unit"]): r["value"] for r in m["energy"]}
        heat = e.get(("heat", "independent sample", "J"))
        lines.append(
            f"| {spec.name} | {e[('supply', 'independent sample', 'J')]:.3g} | "
            + ("—" if heat is None else f"{heat:.3g}")
            + f" | {e[('readout', 'independent sample', 'J')]:.3g} | "
            f"{e[('programming', 'independent sample', 'J')]:.3g} ({e[('programming', 'write', 'J')]:.3g}) | "
            f"{e[('bound', 'independent sample', 'J')]:.3g} | {m['independent_samples']:.4g} |"
        )
    lines += [
        "",
        "The passive and behavioural circuits draw nothing from a supply: their samples cost the read-out "
        "and the noise generation (not modelled). The heat of a stationary sampler is V(x₀) − V(x_f) over "
        "the window, zero on average: sampling at equilibrium dissipates nothing per sample beyond "
        "fluctuations.",
        "",
    ]
    lines += [
        f"![{spec.name} energy]({spec.name}/energy.png)"
        for spec, m in rows
        if "energy.png" in m.get("figures", [])
    ]
    ring = next((m for spec, m in rows if spec.name == "ring2"), None)
    if ring is not None:
        lines += [
            "",
            f"Hand check (ring2): the supply draws {ring['supply_power_w'] * 1e3:.3f} mW; C·V²·f of the "
            f"explicit loads is {ring['cv2f_power_w'] * 1e3:.3f} mW (measured / hand = "
            f"{ring['supply_power_w'] / ring['cv2f_power_w']:.3f}), and with the transistors' own switched "
            f"capacitance ({ring['info']['device_cap_f'] * 1e15:.1f} fF per node, first-order textbook load "
            "model) "
            f"{ring['cv2f_device_power_w'] * 1e3:.3f} mW (measured / hand = "
            f"{ring['supply_power_w'] / ring['cv2f_device_power_w']:.3f}).",
        ]
    relax = relaxation_heat()
    z = (relax["mean"] - relax["theory"]) / relax["se"]
    lines += [
        "",
        f"Heat check: {relax['nodes']} independent RC nodes (τ = 1 µs) start with "
        f"{relax['e0']:.1f} kT stored each and relax for {relax['duration_s'] * 1e6:.2f} µs. Mean heat "
        f"released per node {relax['mean']:.3f} ± {relax['se']:.3f} kT; theory "
        "½(Cv₀²/kT − 1)(1 − e^(−2t/τ)) = "
        f"{relax['theory']:.3f} kT ({z:+.2f} SE). The run's energy table gives {relax['table_total']:.1f} kT "
        f"in all ({relax['nodes']} × {relax['table_total'] / relax['nodes']:.3f}).",
        "",
        "Distribution metrics (against the exact law where there is one): Gaussian KL of the sample "
        "mean and covariance (expected size d(d+3)/(4·n_eff) under the null), per-variable histogram KL and "
        "Wasserstein-1 (largest over the variables, W₁ in units of that variable's σ), effective samples per "
        "simulated second and per CPU second (ngspice + analysis).",
        "",
        "| circuit | Gaussian KL (expected) | histogram KL | W₁ / σ | ESS / sim s | ESS / CPU s |",
        "|---|---|---|---|---|---|",
    ]
    for spec, m in rows:
        if m.get("hist_kl") is None:
            kl = hk = w1 = "—"
        else:
            sd = np.sqrt(np.diag(np.asarray(m["cov_theory"])))
            kl = (
                f"{m['gaussian_kl']:.2e} ({m['gaussian_kl_expected']:.2e})"
                if m.get("gaussian_kl") is not None
                else "—"
            )
            hk = f"{max(m['hist_kl']):.2e}"
            w1 = f"{max(np.asarray(m['wasserstein1']) / sd):.2e}"
        lines.append(
            f"| {spec.name} | {kl} | {hk} | {w1} | {m['ess_per_sim_s']:.3g} | {m['ess_per_cpu_s']:.3g} |"
        )
    g4 = next(((s, m) for s, m in rows if s.name == "gauss4"), None)
    if g4 is not None:
        samples = np.load(out / "gauss4" / "samples.npz")["samples"]
        mmd = mmd_checks(samples, g4[1], read_toml(g4[0].path))
        lines += [
            "",
            "MMD two-sample tests of gauss4 (seed 1) against new runs; the floor is the 95th percentile of "
            "the permutation null on rows thinned to ≈ independence (every ⌈2τ_int − 1⌉-th):",
            "",
            "| against | kernel | rows per side | MMD² | floor | p | verdict |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in mmd:
            verdict = "agree within noise" if r["agree"] else "differ"
            lines.append(
                f"| {r['comparison']} | {r['kernel']} | {r['n_x']} | {r['mmd2']:.3g} | {r['floor']:.3g} | "
                f"{r['p_value']:.3f} | {verdict} |"
            )
    return "\n".join(lines) + "\n"
