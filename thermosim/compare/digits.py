"""`thermosim compare`: the digital denoiser and the circuits, side by side, on the same tasks and metrics.

Digits task: every generator makes K images of scikit-learn's 8×8 digits; one judge (thermosim.digital.
quality, trained on the train split only) scores them all, beside three calibration rows (real held-out,
real train, uniform noise). Generators: the JAX DDPM (thermosim.digital.ddpm; ancestral and DDIM, 10/50/200
steps; weights cached under results/digital/), the Gaussian-circuit baseline (the digits' Gaussian fit,
sampled by 64 RC nodes in ngspice, one per principal component, mixed back to pixels at read-out) and the
same fit sampled digitally (Cholesky).

Gaussian tasks (thermosim.compare.gaussian): three linear laws — gauss4, a random 8×8 precision and a
non-normal drift — each sampled by exact Cholesky draws, thermox's OU sampler, the circuit and a DDPM,
judged by the same metrics (Gaussian KL with its null size, covariance error, MMD against exact draws,
ESS per second).

Energy per sample is reported by term for each method (circuits: the run's energy table; digital: MACs ×
J/MAC at 45 nm and on an A100, and measured CPU time); ``energy_per_sample_J`` is the headline: the 45 nm
line for a digital sampler, the sum of the per-sample lines that cost energy for a circuit (supply,
read-out, programming; heat when positive). The verdict (thermosim.compare.verdict) sets each sampler against
the cheapest digital sample of equal or better quality.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..paths import RESULTS
from ..physics import K_B
from .verdict import headline_energy

STEP_COUNTS = (10, 50, 200)
K_IMAGES = 360  # as many as the held-out set: the Fréchet distance is compared at equal sample counts
RIDGE = 0.05  # added to the digits' covariance (scaled units²): the border pixels never vary
V_UNIT = 0.1  # volts per scaled pixel unit in the Gaussian circuit


def digits_ddpm_config():
    """The digits DDPM: the defaults of :class:`~thermosim.digital.ddpm.DDPMConfig` (≈ 2.5 CPU-minutes)."""
    from ..digital.ddpm import DDPMConfig

    return DDPMConfig()


def ddpm_rows(x_train: np.ndarray, out: Path, seed: int, log) -> tuple[list[dict], dict]:
    """Train (or load) the digits DDPM, sample K images per sampler and step count, judge and cost them.

    Rows: method "ddpm" (ancestral, posterior variance) and "ddim" at each of STEP_COUNTS; images under
    "ddpm_<steps>" and "ddim_<steps>" in pixel units (float32 values, as saved and as judged).
    """
    from ..digital.data import unscale
    from ..digital.ddpm import train_or_load
    from ..digital.energy import digital_energy_rows
    from ..digital.quality import quality

    t0 = time.perf_counter()
    config = digits_ddpm_config()

    def progress(step: int, loss: float) -> None:  # training takes minutes: say how far it is
        if step % 2000 == 0 or step == config.train_steps:
            print(f"[compare] DDPM training: step {step}/{config.train_steps}, loss {loss:.4f}", file=log)

    model, cached = train_or_load(x_train, config, out, "digits", progress)
    print(
        f"[compare] DDPM {'loaded from cache' if cached else 'trained'} in {out} "
        f"({time.perf_counter() - t0:.1f} s; training took {model.train_cpu_s:.0f} CPU s)",
        file=log,
    )
    rows, images = [], {}
    model.warm_up(K_IMAGES)
    for sampler, method in (("ancestral", "ddpm"), ("ddim", "ddim")):
        for steps in STEP_COUNTS:
            c0 = time.process_time()
            x = model.sample(K_IMAGES, steps, seed, sampler)
            cpu = (time.process_time() - c0) / K_IMAGES
            key = f"{method}_{steps}"
            images[key] = unscale(x).astype(np.float32)
            energy = digital_energy_rows(model.macs_per_sample(steps), cpu)
            q = quality(images[key], key)
            rows.append(
                {
                    "method": method,
                    "steps": steps,
                    "digital": True,
                    **q,
                    "macs_per_sample": model.macs_per_sample(steps),
                    "energy_per_sample_J": energy[0]["value"],
                    "energy": energy,
                }
            )
            print(
                f"[compare] {method} {steps} steps: recognisable {q['recognisable']:.3f}, "
                f"Fréchet {q['frechet']:.2f}",
                file=log,
            )
    for r in rows:
        r |= {"train_cpu_s": model.train_cpu_s, "ddpm_key": model.key}
    return rows, images


def gaussian_circuit_row(x_train: np.ndarray, seed: int, log) -> tuple[dict, np.ndarray]:
    """The digits' Gaussian fit sampled in ngspice: 64 RC nodes with precision 1/λ_k (one per principal
    component, independent), K independent samples, mixed back to pixels as μ + V·z at read-out."""
    from ..circuits import FAMILIES
    from ..digital.data import unscale
    from ..digital.quality import quality
    from ..runs.experiment import prepare, simulate_scratch
    from ..runs.spec import spec_from_table

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
    from ..analysis.energy import row

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
        "digital": False,
        "energy_per_sample_J": headline_energy(energy),
        "energy": energy,
        "n_eff": out.metrics["n_eff"],
    }, images


def gaussian_fit_digital_row(x_train: np.ndarray, seed: int) -> tuple[dict, np.ndarray]:
    """The same Gaussian fit as the circuit, sampled digitally: μ + L z (Cholesky, 64·65/2 MACs)."""
    from ..digital.data import unscale
    from ..digital.energy import digital_energy_rows
    from ..digital.quality import quality
    from ..digital.samplers import cholesky_macs, cholesky_samples

    cov = np.cov(x_train, rowvar=False) + RIDGE * np.eye(x_train.shape[1])
    z, cpu = cholesky_samples(cov, K_IMAGES, seed)
    images = unscale(x_train.mean(axis=0) + z).astype(np.float32)
    macs = cholesky_macs(x_train.shape[1])
    energy = digital_energy_rows(macs, cpu / K_IMAGES)
    q = quality(images, "gaussian_fit_cholesky")
    row = {"method": "gaussian_fit_cholesky", "steps": None, "digital": True, **q, "macs_per_sample": macs}
    return row | {"energy_per_sample_J": energy[0]["value"], "energy": energy}, images


def run_compare(out: Path = RESULTS / "compare", seed: int = 0, log=sys.stderr, reuse: bool = False) -> dict:
    """Everything `thermosim compare` computes; writes out/compare.json, out/table.md, out/samples.npz
    (the DDPM's images: ``ddpm_10``, ``ddpm_50``, ``ddpm_200``, K × 64, pixel units, sampling seed
    ``seed``) and the figures. Trained DDPMs are cached in results/digital/. ``reuse``: return the
    results already in ``out`` when they were made from the same inputs (``stage_key``), without
    recomputing them."""
    from ..digital.data import load_digits_split, scale
    from ..digital.energy import prl_baseline
    from ..digital.quality import calibration
    from ..results import atomic_savez, atomic_write_json, atomic_write_text, claim_output_dir, reusable
    from ..runs.keys import stage_key
    from .gaussian import gaussian_tasks
    from .plots import compare_figures
    from .verdict import digits_verdict, gaussian_verdict

    key = stage_key("compare", seed=seed)
    if reuse and (old := reusable(out / "compare.json", key, ("samples.npz", "table.md"))):
        print(f"[compare] {out}: made from the same inputs (key {key[:12]}), reused", file=log)
        return old
    t0 = time.perf_counter()
    split = load_digits_split()
    x_train = scale(split.x_train)
    digital = claim_output_dir(RESULTS / "digital", "DDPM cache folder")
    rows = [{"method": r["label"], "steps": None, **r, "energy_per_sample_J": None} for r in calibration()]
    ddpm, images = ddpm_rows(x_train, digital, seed, log)
    gauss, gauss_images = gaussian_circuit_row(x_train, seed + 1, log)
    fit, fit_images = gaussian_fit_digital_row(x_train, seed + 1)
    rows += ddpm + [gauss, fit]
    images |= {"gaussian_circuit": gauss_images, "gaussian_fit_cholesky": fit_images}
    images["training data"] = split.x_train[:K_IMAGES]
    tasks = gaussian_tasks(seed, digital, log)
    result = {
        "rows": rows,
        "gaussian_tasks": tasks,
        "verdict": {
            "digits": digits_verdict(rows),
            "gaussian": [v for t in tasks for v in gaussian_verdict(t)],
        },
        "ddpm": {
            "config": digits_ddpm_config().__dict__,
            "train_cpu_s": ddpm[0]["train_cpu_s"],
            "key": ddpm[0]["ddpm_key"],
        },
        "prl_check": prl_baseline(),
        "k_images": K_IMAGES,
        "seed": seed,
        "wall_s": None,
        "stage_key": key,
    }
    claim_output_dir(out)
    atomic_savez(out / "samples.npz", **{f"ddpm_{s}": images[f"ddpm_{s}"] for s in STEP_COUNTS})
    result["figures"] = compare_figures(result, images, out)
    result["wall_s"] = time.perf_counter() - t0
    atomic_write_json(out / "compare.json", result)
    atomic_write_text(out / "table.md", markdown(result))
    print(f"[compare] wrote {out} in {result['wall_s']:.0f} s", file=log)
    return result


def markdown(result: dict) -> str:
    """The comparison as markdown tables (also the report's section)."""
    from ..results import markdown_table
    from .gaussian import markdown as gauss_markdown
    from .verdict import markdown as verdict_markdown

    head = ["method", "steps", "recognisable", "coverage entropy [bits]", "min class share", "Fréchet"]
    head += [f"nn-train dist (real: {result['rows'][0]['nn_train_dist_ref']:.2f})", "copies"]
    dash = "—"

    def cells(r: dict) -> list[str]:
        e = r["energy_per_sample_J"]
        return [
            r["method"], r["steps"] or dash, f"{r['recognisable']:.3f}", f"{r['coverage_entropy']:.3f}",
            f"{r['min_class_share']:.3f}", f"{r['frechet']:.2f}", f"{r['nn_train_dist']:.2f}",
            f"{r['copies']:.3f}", dash if e is None else f"{e:.3g}",
        ]  # fmt: skip

    lines = markdown_table([*head, "energy / sample [J]"], map(cells, result["rows"]))
    lines += ["", "Energy per sample by term [J] (each line its own source, in `compare.json`):", ""]
    lines += ["| method | steps | term | value [J] | source |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        for e in r.get("energy") or []:
            lines.append(
                f"| {r['method']} | {r['steps'] or '—'} | {e['term']} | {e['value']:.3g} | {e['source']} |"
            )
    d = result["ddpm"]
    lines += [
        "",
        f"DDPM: {d['config']['width']}-wide residual MLP ({d['config']['blocks']} blocks), "
        f"{d['config'].get('target', 'eps')}-prediction, cosine schedule "
        f"T = {d['config']['diffusion_steps']}, {d['config']['train_steps']:,} AdamW steps, trained in "
        f"{d['train_cpu_s']:.0f} CPU s (seed {d['config']['seed']}, cache key {d['key'][:16]}).",
        "",
        "### Verdict: energy per sample against the cheapest digital sample as good",
        "",
        verdict_markdown(result["verdict"]),
        "### Gaussian tasks: the field's samplers side by side",
        "",
        gauss_markdown(result["gaussian_tasks"]),
    ]
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
held-out real digits score the reference in the header) and copies (share closer to a training digit than
half the held-out digits' median distance). Calibration rows: `real_heldout`, `real_train`
(real digits) and `noise` (uniform pixels). The DDPM is a residual-MLP denoiser trained in JAX
(v-prediction, cosine schedule, EMA weights), cached in `results/digital/` under a content hash of data,
config and code; sampled by the ancestral chain (`ddpm`, posterior variance, x̂₀ clipped) and by DDIM
(`ddim`), respaced to 10, 50 and 200 steps. Digital energy per sample: MACs × 1 pJ (45 nm; Horowitz, ISSCC
2014), MACs × 2.56 pJ (A100) and measured CPU time × 10 W. The Gaussian circuit (the digits' Gaussian fit,
one RC node per principal component) draws no supply: its samples cost the read-out, the programming and
the digital mixing of components back to pixels; `gaussian_fit_cholesky` samples the same fit digitally.
"""


def compare_markdown(result: dict) -> str:
    """The report's section: what was compared, the tables, the figures."""
    from ..digital.quality import get_judge

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
