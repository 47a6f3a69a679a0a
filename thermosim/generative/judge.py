"""`thermosim generate`: one trained model generating digits three ways, judged like every other generator.

Writes ``samples.npz`` (arrays ``spice``, ``twin`` and, where run, ``transistor``: K × 64 images in the
scikit-learn digits' 0–16 pixel scale) and ``metrics.json`` beside it:

* image quality of each (:func:`thermosim.digital.quality.quality`: recognisable fraction, class shares,
  Fréchet distance to the held-out digits, nearest-training distance, copies), beside the DDPM at its
  step counts and real training images;
* SPICE vs twin: the MMD two-sample test (quadratic kernel: means and covariances of the 64 pixels) —
  they agree when the observed MMD² is within the permutation floor;
* energy per sample by term: Sekimoto heat in kT (twin and circuit waveforms), read-out (64 ADC
  conversions), programming (the trained values written once, amortised over the samples), and the
  ratio against the cheapest DDPM sample at least as good (recognisable and Fréchet).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from ..analysis.energy import energy_table, row
from ..physics import K_B
from .model import N_VISIBLE, Model, decode

K_DEFAULT = 360  # as many as the held-out digits: Fréchet distances compared at equal K
ROOM_K = 300.0


def pixels(model: Model, x: np.ndarray) -> np.ndarray:
    """Final unit states (n × N, model units) → images (n × 64) in the 0–16 pixel scale."""
    from ..digital.data import unscale

    return unscale(decode(model.config, np.asarray(x)[:, :N_VISIBLE]))


def energy_rows(model: Model, heat_kt: float, n_samples: int) -> list[dict]:
    """Per-sample energy lines of the generating computer, by the shared energy table (read-out of the 64
    visible units, the trained values written once and amortised over the samples, the Landauer bound);
    heat in kT and in J at room temperature (natural thermal noise). No supply: behavioural units are
    ideal (the transistor-level supply is added by the caller)."""
    params = int(np.count_nonzero(np.triu(model.coupling, 1))) + int(np.count_nonzero(model.bias))
    params += int(np.count_nonzero(model.dj2)) + int(np.count_nonzero(model.dj4))
    note = "Sekimoto heat V₀(x₀) − V₀(x_s) + V_θ(x_s) − V_θ(x_f) (relaxations + switching work)"
    rows = energy_table(
        supply_j=0.0,
        supplies=[],
        window_s=1.0,
        samples=n_samples,
        heat_kt=heat_kt * n_samples,
        heat_note=note,
        kt_j=K_B * ROOM_K,
        visible=N_VISIBLE,
        parameters=params,
    )
    keep = [r for r in rows if r["per"] in ("independent sample", "write") and r["term"] != "supply"]
    return [{**r, "per": "sample"} if r["per"] == "independent sample" else r for r in keep]


def matched_ddpm(circuit: dict, ddpm_rows: list[dict]) -> dict:
    """The cheapest DDPM row at least as good as the circuit on both axes (recognisable ≥ and Fréchet ≤
    the circuit's); else the best one by Fréchet distance."""
    good = [
        r
        for r in ddpm_rows
        if r["frechet"] <= circuit["frechet"] and r["recognisable"] >= circuit["recognisable"]
    ]
    if good:
        return {
            **min(good, key=lambda r: r["energy_per_sample_J"]),
            "match": "cheapest DDPM at least as good",
        }
    return {**min(ddpm_rows, key=lambda r: r["frechet"]), "match": "best DDPM (better than the circuit)"}


def run_generate(
    out: Path,
    model_path: Path,
    n: int = K_DEFAULT,
    seed: int = 1,
    spice_n: int | None = None,
    transistor_n: int = 0,
    replicas: int = 1,
    workers: int | None = None,
    log=sys.stderr,
) -> dict:
    """Generate with the model at ``model_path`` (twin: n, ngspice: spice_n (default n), transistor-level:
    transistor_n) and judge; write samples.npz, metrics.json and the figures to ``out``."""
    from ..analysis.mmd import mmd_test
    from ..compare import ddpm_rows
    from ..digital.data import load_digits_split, scale
    from ..digital.quality import quality
    from ..plots_generative import generative_figures
    from ..results import atomic_savez, atomic_write_json
    from . import generate

    if not Path(model_path).exists():
        raise ValueError(f"no trained model at {model_path}: run `thermosim train digits` first")
    model = Model.load(model_path)
    say = (lambda m: print(m, file=log, flush=True)) if log else (lambda m: None)
    spice_n = spice_n or n
    t0 = time.perf_counter()
    tw = generate.twin(model, n, seed, snapshots=9)
    twin_s = time.perf_counter() - t0
    say(f"[generate] twin: {n} samples in {twin_s:.1f} s")
    xs, cost = generate.spice(model, spice_n, seed, replicas=replicas, workers=workers, log=say)
    say(f"[generate] ngspice: {spice_n} samples in {cost['wall_s']:.0f} s")
    images = {"spice": pixels(model, xs), "twin": pixels(model, tw["x"])}
    tcost = None
    if transistor_n:
        xt, tcost = generate.spice(model, transistor_n, seed, replicas, workers, log=say, transistor=True)
        images["transistor"] = pixels(model, xt)
        say(f"[generate] transistor-level: {transistor_n} samples in {tcost['wall_s']:.0f} s")
    split = load_digits_split()
    rows = [quality(images[k], k) for k in images]
    if spice_n < n:  # the Fréchet distance depends on K: the twin judged at the circuit's K as well
        rows.append(quality(images["twin"][:spice_n], f"twin (first {spice_n})"))
    rows.append(quality(split.x_train[:n], "real_train"))
    import io

    # the DDPM's progress lines go where ours go (nowhere under --json: stdout is the JSON object)
    ddpm, ddpm_images = ddpm_rows(
        scale(split.x_train), Path("results") / "digital", seed, log or io.StringIO()
    )
    agree = mmd_test(scale(images["spice"]), scale(images["twin"]), kernel="quadratic", seed=seed)
    heat_kt = float(cost["heat_kt_per_sample"])
    energy = energy_rows(model, heat_kt, spice_n)
    if tcost is not None:
        src = "−∫V·I dt of the transistor units' bias sources (vdd, vref, vbn) over the protocol"
        energy.insert(2, row("supply (transistor-level)", tcost["supply_j_per_sample"], "J", "sample", src))
    per_sample_j = sum(
        r["value"]
        for r in energy
        if r["unit"] == "J" and r["per"] == "sample" and r["term"] in ("heat", "readout", "programming")
    )
    spice_row = rows[0]
    match = matched_ddpm(spice_row, ddpm)
    result = {
        "seed": seed,
        "model": str(model_path),
        "config": model.config.__dict__,
        "n_twin": n,
        "n_spice": spice_n,
        "n_transistor": transistor_n,
        "quality": rows + [{k: v for k, v in r.items() if k != "energy"} for r in ddpm],
        "spice_vs_twin_mmd": agree,
        "heat_kt_per_sample": {"spice": heat_kt, "twin": float(np.mean(tw["heat_kt"]))},
        "heat_kt_se": {"twin": float(np.std(tw["heat_kt"], ddof=1) / np.sqrt(n))},
        "energy": energy,
        "energy_per_sample_J": per_sample_j,
        "ddpm_matched": {
            k: match[k]
            for k in ("method", "steps", "frechet", "recognisable", "energy_per_sample_J", "match")
        },
        "ratio_vs_ddpm": match["energy_per_sample_J"] / per_sample_j,
        # Whitelam's comparison (PRL 2026): heat alone against the digital total
        "ratio_vs_ddpm_heat_only": match["energy_per_sample_J"]
        / (max(heat_kt, 0.0) * K_B * ROOM_K or np.nan),
        "cost": {"spice": cost, "transistor": tcost, "twin_wall_s": twin_s},
        "history": model.history,
    }
    result["figures"] = generative_figures(model, images, ddpm_images, tw["snapshots"], out)
    atomic_savez(out / "samples.npz", **images)
    atomic_write_json(out / "metrics.json", result)  # last: its presence means the run is complete
    return result
