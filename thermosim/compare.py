"""`thermosim compare`: the digital denoiser and the circuits, side by side, on the same tasks and metrics.

Digits task: every generator makes K images of scikit-learn's 8×8 digits; one judge (thermosim.digital.
quality, trained on the train split only) scores them all, beside two calibration rows (held-out real
digits, uniform noise). Generators: the DDPM at several sampling step counts (weights cached under
results/digital/), and the Gaussian-circuit baseline (the digits' Gaussian fit, sampled by 64 RC nodes in
ngspice, one per principal component, mixed back to pixels at read-out). The generative circuit of
Whitelam's model joins later.

Gaussian task: gauss4's exact law N(0, Σ) — the circuit samples it in ngspice, a DDPM trained on exact
draws samples it digitally; both are judged by the Gaussian KL and the MMD against exact draws.

Energy per sample is reported by term for each method (circuits: the run's energy table; DDPM: MACs ×
J/MAC and measured CPU time); ``energy_per_sample_J`` is the headline: the 45 nm compute line for the
DDPM, the sum of the per-sample lines that cost energy for a circuit (supply, read-out, programming;
heat when positive).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from .physics import K_B

RESULTS = Path("results")
STEP_COUNTS = (10, 50, 200)
K_IMAGES = 360  # as many as the held-out set: the Fréchet distance is compared at equal sample counts
RIDGE = 0.05  # added to the digits' covariance (scaled units²): the border pixels never vary
V_UNIT = 0.1  # volts per scaled pixel unit in the Gaussian circuit


def _ddpm_config(d: int):
    from .digital.ddpm import DDPMConfig

    # the 4-D Gaussian task needs a small network and fewer epochs (20 000 rows; ~20 s)
    return DDPMConfig() if d == 64 else DDPMConfig(hidden=(64, 64), epochs=60)


def _headline(rows: list[dict]) -> float:
    """The energy a sample costs: the lines that are physical costs (per sample, J, value > 0)."""
    return float(
        sum(
            r["value"]
            for r in rows
            if r["per"] in ("independent sample", "sample")
            and r["unit"] == "J"
            and r["term"] in ("supply", "heat", "readout", "programming", "compute")
            and r["value"] > 0
        )
    )


def ddpm_rows(x_train: np.ndarray, out: Path, seed: int, log) -> tuple[list[dict], dict]:
    """Train (or load) the digits DDPM, sample K images at each step count, judge and cost them."""
    from .digital.data import unscale
    from .digital.ddpm import train_or_load
    from .digital.energy import digital_energy_rows
    from .digital.quality import quality

    t0 = time.perf_counter()
    config = _ddpm_config(64)

    def progress(epoch: int, loss: float) -> None:  # training takes ~2 min: say how far it is
        if epoch % 50 == 0 or epoch == config.epochs:
            print(f"[compare] DDPM training: epoch {epoch}/{config.epochs}, loss {loss:.4f}", file=log)

    model, cached = train_or_load(x_train, config, out / "ddpm_digits.npz", progress)
    print(
        f"[compare] DDPM {'loaded from' if cached else 'trained and saved to'} {out / 'ddpm_digits.npz'} "
        f"({time.perf_counter() - t0:.1f} s)",
        file=log,
    )
    rows, images = [], {}
    for steps in STEP_COUNTS:
        c0 = time.process_time()
        x = model.sample(K_IMAGES, steps, seed)
        cpu = (time.process_time() - c0) / K_IMAGES
        images[f"ddpm_{steps}"] = unscale(x)
        energy = digital_energy_rows(model.macs_per_sample(steps), cpu)
        q = quality(images[f"ddpm_{steps}"], f"ddpm_{steps}")
        rows.append(
            {
                "method": "ddpm",
                "steps": steps,
                **q,
                "energy_per_sample_J": energy[0]["value"],
                "energy": energy,
            }
        )
        print(
            f"[compare] DDPM {steps} steps: recognisable {q['recognisable']:.3f}, Fréchet {q['frechet']:.2f}",
            file=log,
        )
    return rows, images


def gaussian_circuit_row(x_train: np.ndarray, seed: int, log) -> tuple[dict, np.ndarray]:
    """The digits' Gaussian fit sampled in ngspice: 64 RC nodes with precision 1/λ_k (one per principal
    component, independent), K independent samples, mixed back to pixels as μ + V·z at read-out."""
    from .circuits import FAMILIES
    from .digital.data import unscale
    from .digital.quality import quality
    from .experiment import prepare, simulate_scratch
    from .spec import spec_from_table

    mu = x_train.mean(axis=0)
    lam, vecs = np.linalg.eigh(np.cov(x_train, rowvar=False) + RIDGE * np.eye(x_train.shape[1]))
    c_f = 1e-12
    table = {
        "name": "digits_gaussian",
        "family": "rc",
        "circuit": {
            "precision": [
                [(1 / lam[i] if i == j else 0.0) for j in range(len(lam))] for i in range(len(lam))
            ],
            "c_f": c_f,
            "g0_s": 1e-5,
            "noise": "injected",
            "noise_temperature_k": c_f * V_UNIT**2 / K_B,  # kT/C = V_UNIT²: one volt-unit per pixel unit
        },
        "sim": {"t_stop_s": 1.0, "seed": seed},
    }
    tau_slow = FAMILIES["rc"].build(spec_from_table(table).params).tau_slow_s
    # the automatic burn-in (10 τ_slow), then 2·K independent samples of the slowest component
    # (τ_int = 2 τ_slow)
    table["sim"]["t_stop_s"] = 10 * tau_slow + 2 * K_IMAGES * 2 * tau_slow
    prep = prepare(spec_from_table(table))
    print(f"[compare] Gaussian circuit: 64 RC nodes, {prep.n_steps:,} noise steps", file=log)
    out = simulate_scratch(prep, seed)
    z = out.samples / V_UNIT
    pick = np.linspace(0, len(z) - 1, K_IMAGES).astype(int)  # evenly spaced: ≥ 2 τ_int apart
    images = unscale(mu + z[pick] @ vecs.T)
    q = quality(images, "gaussian_circuit")
    from .analysis.energy import row

    energy = [r for r in out.metrics["energy"] if r["per"] == "independent sample"]
    energy.append(
        row(
            "compute",
            64 * 64 * 1e-12,
            "J",
            "independent sample",
            "mixing z → pixels: 4096 MACs × 1 pJ (45 nm)",
        )
    )
    return {
        "method": "gaussian_circuit",
        "steps": None,
        **q,
        "energy_per_sample_J": _headline(energy),
        "energy": energy,
        "n_eff": out.metrics["n_eff"],
    }, images


def gaussian_task(seed: int, out: Path, log) -> dict:
    """gauss4's exact law: the circuit (ngspice) vs a DDPM trained on exact draws, judged alike."""
    from .analysis.distances import sample_gaussian_kl
    from .analysis.mmd import mmd_test
    from .digital.ddpm import train_or_load
    from .digital.energy import digital_energy_rows
    from .experiment import prepare, simulate_scratch
    from .spec import load_spec

    spec = load_spec("gauss4")
    run = simulate_scratch(prepare(spec))
    cov = np.asarray(run.metrics["cov_theory"])
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    rng = np.random.default_rng(seed)
    exact = rng.multivariate_normal(np.zeros(4), corr, size=20_000)
    model, _ = train_or_load(
        rng.multivariate_normal(np.zeros(4), corr, size=20_000), _ddpm_config(4), out / "ddpm_gauss4.npz"
    )
    circuit = run.samples / sd
    tau = max(run.metrics["tau_int_s"]) / run.metrics["noise_step_s"]
    rows = []
    for method, x, tau_x, energy in (
        ("circuit", circuit, tau, [r for r in run.metrics["energy"] if r["per"] == "independent sample"]),
        *(
            (
                f"ddpm_{s}",
                model.sample(20_000, s, seed),
                1.0,
                digital_energy_rows(model.macs_per_sample(s), None),
            )
            for s in STEP_COUNTS
        ),
    ):
        kl = sample_gaussian_kl(x, np.zeros(4), corr, tau=tau_x)
        m = mmd_test(x, exact, tau_x=tau_x, tau_y=1.0, kernel="quadratic", max_n=10**7, seed=1)
        rows.append(
            {
                "method": method,
                "gaussian_kl": kl["kl"],
                "gaussian_kl_expected": kl["kl_expected"],
                "mmd2": m["mmd2"],
                "mmd_floor": m["floor"],
                "mmd_p": m["p_value"],
                "energy_per_sample_J": _headline(energy) if method == "circuit" else energy[0]["value"],
            }
        )
        print(
            f"[compare] Gaussian task, {method}: KL {kl['kl']:.2e}, "
            f"MMD² {m['mmd2']:.2e} (floor {m['floor']:.2e})",
            file=log,
        )
    return {"rows": rows, "law": "gauss4 correlation matrix (each variable in units of its σ)"}


def run_compare(out: Path = RESULTS / "compare", seed: int = 0, log=sys.stderr) -> dict:
    """Everything `thermosim compare` computes; writes out/compare.json, out/table.md and the figures."""
    from .digital.data import load_digits_split, scale
    from .digital.energy import prl_baseline
    from .digital.quality import calibration
    from .plots_compare import compare_figures
    from .results import atomic_write_json, atomic_write_text

    t0 = time.perf_counter()
    split = load_digits_split()
    x_train = scale(split.x_train)
    digital = RESULTS / "digital"
    digital.mkdir(parents=True, exist_ok=True)
    rows = [{"method": r["label"], "steps": None, **r, "energy_per_sample_J": None} for r in calibration()]
    ddpm, images = ddpm_rows(x_train, digital, seed, log)
    gauss, gauss_images = gaussian_circuit_row(x_train, seed + 1, log)
    rows += ddpm + [gauss]
    images["gaussian_circuit"] = gauss_images
    images["training data"] = split.x_train[:K_IMAGES]
    result = {
        "rows": rows,
        "gaussian_task": gaussian_task(seed, digital, log),
        "prl_check": prl_baseline(),
        "k_images": K_IMAGES,
        "seed": seed,
        "wall_s": None,
    }
    out.mkdir(parents=True, exist_ok=True)
    result["figures"] = compare_figures(result, images, out)
    result["wall_s"] = time.perf_counter() - t0
    atomic_write_json(out / "compare.json", result)
    atomic_write_text(out / "table.md", markdown(result))
    print(f"[compare] wrote {out} in {result['wall_s']:.0f} s", file=log)
    return result


def markdown(result: dict) -> str:
    """The comparison as markdown tables (also the report's section)."""
    lines = [
        "| method | steps | recognisable | coverage entropy [bits] | min class share | Fréchet | "
        "nn-train dist (real: {:.2f}) | energy / sample [J] |".format(result["rows"][0]["nn_train_dist_ref"]),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        e = r["energy_per_sample_J"]
        lines.append(
            f"| {r['method']} | {r['steps'] or '—'} | {r['recognisable']:.3f} | "
            f"{r['coverage_entropy']:.3f} | "
            f"{r['min_class_share']:.3f} | {r['frechet']:.2f} | {r['nn_train_dist']:.2f} | "
            f"{'—' if e is None else f'{e:.3g}'} |"
        )
    lines += ["", "Energy per sample by term [J] (each line its own source, in `compare.json`):", ""]
    lines += ["| method | steps | term | value [J] | source |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        for e in r.get("energy") or []:
            lines.append(
                f"| {r['method']} | {r['steps'] or '—'} | {e['term']} | {e['value']:.3g} | {e['source']} |"
            )
    best = min((r for r in result["rows"] if r["method"] == "ddpm"), key=lambda r: r["frechet"])
    gauss = next((r for r in result["rows"] if r["method"] == "gaussian_circuit"), None)
    if gauss is not None:
        ratio = best["energy_per_sample_J"] / gauss["energy_per_sample_J"]
        lines += [
            "",
            f"Ratio: the DDPM at its best Fréchet distance ({best['steps']} steps, {best['frechet']:.2f}) "
            f"costs {ratio:.3g}× the Gaussian circuit's energy per sample (Fréchet {gauss['frechet']:.2f}, "
            f"recognisable {gauss['recognisable']:.2f} vs {best['recognisable']:.2f}): not matched quality, "
            "the circuit samples only the digits' Gaussian fit.",
        ]
    lines += [
        "",
        "| Gaussian task | KL (expected) | MMD² (floor) | p | energy / sample [J] |",
        "|---|---|---|---|---|",
    ]
    for r in result["gaussian_task"]["rows"]:
        lines.append(
            f"| {r['method']} | {r['gaussian_kl']:.2e} ({r['gaussian_kl_expected']:.2e}) | {r['mmd2']:.2e} "
            f"({r['mmd_floor']:.2e}) | {r['mmd_p']:.3f} | {r['energy_per_sample_J']:.3g} |"
        )
    p = result["prl_check"]
    lines += [
        "",
        f"Published arithmetic (Whitelam, PRL 2026): MLP 784-128-128-784 × 10 steps = {p['macs']:,} MACs × "
        f"1 pJ = {p['digital_j']:.3g} J vs 2.9·10³ kT = {p['thermodynamic_heat_j']:.3g} J at 300 K ⇒ ratio "
        f"{p['ratio']:.3g} (heat only vs compute only).",
    ]
    return "\n".join(lines) + "\n"


COMPARE_INTRO = """
{k} images per generator, judged by one classifier trained on the 1437 training digits only (an MLP,
{acc:.1f} % held-out accuracy): recognisable = share with top class probability ≥ 0.8; coverage = entropy
of the predicted classes (log₂10 = 3.32 bits is uniform); Fréchet distance between the generated and the
held-out digits in the classifier's hidden-layer features; nearest-training distance (a copier scores 0;
held-out real digits score the reference in the header). Calibration rows: `real_heldout`, `real_train`
(real digits) and `noise` (uniform pixels). The DDPM is an MLP noise predictor (scikit-learn) trained once
and cached in `results/digital/`; its energy per sample is its MACs × 1 pJ (45 nm; Horowitz, ISSCC 2014).
The Gaussian circuit (the digits' Gaussian fit, one RC node per principal component) draws no supply: its
samples cost the read-out, the programming and the digital mixing of components back to pixels.
"""


def compare_markdown(result: dict) -> str:
    """The report's section: what was compared, the tables, the figures."""
    from .digital.quality import get_judge

    intro = " ".join(COMPARE_INTRO.split()).format(
        k=result["k_images"], acc=100 * get_judge().heldout_accuracy
    )
    figures = [f"![compare](compare/{f})" for f in result["figures"]]
    return "\n".join(
        [
            "",
            "## Digital denoiser vs circuits (`thermosim compare`)",
            "",
            intro,
            "",
            markdown(result),
            *figures,
            "",
        ]
    )


def json_rows(result: dict) -> list[dict]:
    """The `--json` rows: one per method and setting, calibration rows included."""
    keys = (
        "method",
        "steps",
        "recognisable",
        "class_shares",
        "coverage_entropy",
        "frechet",
        "nn_train_dist",
        "energy_per_sample_J",
    )
    return [{k: r.get(k) for k in keys} for r in result["rows"]]


__all__ = ["json_rows", "markdown", "run_compare"]
