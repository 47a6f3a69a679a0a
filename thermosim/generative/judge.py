"""`thermosim generate`: one trained model generating digits three ways, judged like every other generator.

Writes ``samples.npz`` (arrays ``spice``, ``twin`` and, where run, ``transistor``: rows × 64 images in the
scikit-learn digits' 0–16 pixel scale, current read-out; ``*_class``: the class requested per row) and
``metrics.json`` beside it:

* image quality of each generator and read-out (:func:`thermosim.digital.quality.quality`: recognisable
  fraction, class shares, Fréchet distance to the held-out digits, nearest-training distance, copies),
  beside the DDPM at its step counts and real training digits;
* conditional accuracy: the share of samples the judge labels with the requested class, per class;
* SPICE vs twin: the MMD two-sample test (quadratic kernel) and the heat per sample with its SE;
* energy per sample line by line (:mod:`.energy`) and the ratio against the cheapest DDPM at least as
  good (recognisable ≥ and Fréchet ≤ the circuit's).

Unconditional generation = the class drawn uniformly per sample (:func:`.energy.draw_classes`), so
every row is both a conditional sample (its requested class) and an unconditional one.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..paths import RESULTS
from ..physics import K_B
from ..runs.executor import describe
from .energy import ROOM_K, draw_classes, generative_energy, pbit_classes, total_per_sample
from .generate import CircuitScale, Protocol
from .model import N_CLASSES, Model

K_DEFAULT = 360  # as many as the held-out digits: Fréchet distances compared at equal K
MIN_IMAGES = 10  # the fewest images a generator is judged on (digital.quality.quality)


def pixels(s: np.ndarray) -> np.ndarray:
    """Scaled read-out values (n × 64, ideally in [−1, 1]) → images in the 0–16 pixel scale."""
    from ..digital.data import unscale

    return unscale(np.asarray(s))


def class_accuracy(images: np.ndarray, classes: np.ndarray) -> dict:
    """The judge's label against the requested class: overall share and per class (NaN: class absent)."""
    from ..digital.quality import get_judge

    pred = get_judge().probabilities(images).argmax(axis=1)
    hit = pred == np.asarray(classes)
    per = [
        float(hit[classes == c].mean()) if np.any(classes == c) else float("nan") for c in range(N_CLASSES)
    ]
    return {"accuracy": float(hit.mean()), "per_class": per, "min_class": float(np.nanmin(per))}


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
    best = min(ddpm_rows, key=lambda r: r["frechet"])
    return {**best, "match": "no DDPM at least as good on both recognisable and Fréchet; the best by Fréchet"}


def run_generate(
    out: Path,
    model_path: Path,
    n: int = K_DEFAULT,
    seed: int = 1,
    spice_n: int | None = None,
    transistor_n: int = 0,
    workers: int | None = None,
    protocol: Protocol | None = None,
    class_bits: str = "rng",
    log=sys.stderr,
    dask: bool = False,
    scheduler: str | None = None,
    reuse: bool = False,
) -> dict:
    """Generate with the model at ``model_path`` (twin: n, ngspice: spice_n (default n), transistor level:
    transistor_n; the classes of the first rows are shared) and judge; write samples.npz, metrics.json
    and the figures to ``out``. ``class_bits``: the classes' random bits from a counted digital RNG
    ("rng") or from the thermal p-bit circuit in ngspice ("pbit"). The netlists run on ``workers`` local
    processes, or on Dask: a local cluster (``dask``) or the one at ``scheduler`` — the same samples.
    ``reuse``: return the results already in ``out`` when they were made from the same inputs
    (``stage_key``: the model file, the counts, seed, protocol and class bits), without recomputing."""
    from ..analysis.mmd import mmd_test
    from ..compare.digits import ddpm_rows
    from ..digital.data import load_digits_split, scale
    from ..digital.quality import quality
    from ..results import atomic_savez, atomic_write_json, claim_output_dir
    from . import generate
    from .plots import generative_figures

    if not Path(model_path).exists():
        raise ValueError(f"no trained model at {model_path}: run `thermosim train digits` first")
    model = Model.load(model_path)
    protocol = protocol or Protocol()
    protocol.validate(model)
    say = (lambda m: print(m, file=log, flush=True)) if log else (lambda m: None)
    counts = {"--n": n, "--spice-n": n if spice_n is None else spice_n, "--transistor-n": transistor_n}
    for flag, count in counts.items():  # 0 skips a circuit; the twin always runs
        if count < MIN_IMAGES and (count != 0 or flag == "--n"):
            raise ValueError(
                f"{flag} {count}: judging a generator needs at least {MIN_IMAGES} images (nothing was run)"
            )
    from ..results import reusable
    from ..runs.keys import stage_key

    key = stage_key(
        "generate",
        model=Path(model_path),
        n=n,
        seed=seed,
        spice_n=spice_n,
        transistor_n=transistor_n,
        protocol=protocol.__dict__,
        class_bits=class_bits,
    )
    if reuse and (old := reusable(Path(out) / "metrics.json", key, ("samples.npz",))):
        say(f"[generate] {out}: made from the same inputs (key {key[:12]}), reused")
        return old
    spice_n = n if spice_n is None else spice_n
    if class_bits not in ("rng", "pbit"):
        raise ValueError(f"class bits must come from 'rng' or 'pbit', got {class_bits!r}")
    bit_cost = {}
    if class_bits == "pbit":
        classes, bits, j_per_bit = pbit_classes(max(n, spice_n, transistor_n), seed)
        bit_cost = {
            "j_per_bit": j_per_bit,
            "bit_source": "cmos_pbit latch in ngspice: its supply energy per bit",
        }
        say(f"[generate] {len(classes)} classes from {bits} p-bit bits")
    else:
        classes, bits = draw_classes(max(n, spice_n, transistor_n), seed)
    netlists = max(spice_n, transistor_n)
    workers = min(workers or os.cpu_count() or 1, max(netlists, 1))
    where = describe(workers, dask, scheduler)
    # one executor for both circuits, opened first: a missing Dask or a bad scheduler fails before the runs
    with generate.executor(workers, dask, scheduler) if netlists else contextlib.nullcontext() as pool:
        t0 = time.perf_counter()
        tw = generate.twin(model, classes[:n], seed, protocol, snapshots=9)
        twin_s = time.perf_counter() - t0
        say(f"[generate] twin: {n} samples in {twin_s:.1f} s")
        runs = {"twin": tw}
        if spice_n:
            runs["spice"] = generate.spice(
                model, classes[:spice_n], seed, protocol, workers, log=say, pool=pool
            )
            runs["spice"]["cost"]["executor"] = where
            say(
                f"[generate] ngspice: {spice_n} samples in {runs['spice']['cost']['wall_s']:.0f} s on {where}"
            )
        if transistor_n:
            runs["transistor"] = generate.spice(
                model, classes[:transistor_n], seed, protocol, workers, log=say, transistor=True, pool=pool
            )
            runs["transistor"]["cost"]["executor"] = where
            say(
                f"[generate] transistor level: {transistor_n} samples in "
                f"{runs['transistor']['cost']['wall_s']:.0f} s on {where}"
            )
    order = [k for k in ("spice", "twin", "transistor") if k in runs]
    images = {k: pixels(runs[k]["current"]) for k in order}
    rows, accuracy = [], {}
    for k in order:
        for readout in ("current", "voltage"):
            im = pixels(runs[k][readout])
            rows.append(quality(im, f"{k} ({readout})"))
            accuracy[f"{k} ({readout})"] = class_accuracy(im, classes[: len(im)])
    if spice_n and spice_n < n:  # the Fréchet distance depends on the count: the twin at the circuit's too
        rows.append(quality(images["twin"][:spice_n], f"twin (current, first {spice_n})"))
    split = load_digits_split()
    rows.append(quality(split.x_train[:n], "real_train"))
    ddpm, ddpm_images = ddpm_rows(scale(split.x_train), RESULTS / "digital", seed, log or io.StringIO())
    result = {
        "seed": seed,
        "model": str(model_path),
        "config": model.config.__dict__,
        "protocol": protocol.__dict__,
        "ranges": model.ranges(),
        "clipped": generate.clipped(model),
        "n_twin": n,
        "n_spice": spice_n,
        "n_transistor": transistor_n,
        "quality": rows + [{k: v for k, v in r.items() if k != "energy"} for r in ddpm],
        "class_accuracy": accuracy,
        "class_bits_per_sample": bits / len(classes),
        "class_bits_source": class_bits,
        "heat_kt_per_sample": {"twin": float(np.mean(tw["heat_kt"]))},
        "heat_kt_se": {"twin": float(np.std(tw["heat_kt"], ddof=1) / np.sqrt(n))},
        "cost": {k: runs[k]["cost"] for k in order if k != "twin"} | {"twin_wall_s": twin_s},
        "history": model.history,
        "stage_key": key,
    }
    heat = result["heat_kt_per_sample"]["twin"]
    if spice_n:
        h = np.asarray(runs["spice"]["cost"]["heat_kt_samples"])
        heat = float(h.mean())
        result["heat_kt_per_sample"]["spice"] = heat
        result["heat_kt_se"]["spice"] = float(h.std(ddof=1) / np.sqrt(len(h))) if len(h) > 1 else float("nan")
        result["spice_vs_twin_mmd"] = {
            r: mmd_test(runs["spice"][r], tw[r], kernel="quadratic", seed=seed)
            for r in ("current", "voltage")
        }
    scale_ = CircuitScale()
    tau = scale_.c_f / scale_.g0_s
    sense_c = generate.sense_capacitor(model, protocol, scale_, tau)
    energy = generative_energy(
        model,
        heat,
        max(spice_n, 1),
        bits / len(classes),
        sense_c,
        protocol.window * tau,
        scale_.g0_s * scale_.v_unit_v,
        **bit_cost,
    )
    if transistor_n:
        from ..analysis.energy import row

        src = "−∫V·I dt of the transistor units' bias sources (vdd, vref, vbn) over the protocol"
        energy.append(
            row(
                "supply (transistor level)",
                runs["transistor"]["cost"]["supply_j_per_sample"],
                "J",
                "sample",
                src,
            )
        )
    per_sample = total_per_sample([e for e in energy if "transistor" not in e["term"]])
    lead = rows[0]
    match = matched_ddpm(lead, ddpm)
    result |= {
        "energy": energy,
        "energy_per_sample_J": per_sample,
        "ddpm_matched": {
            k: match[k]
            for k in ("method", "steps", "frechet", "recognisable", "energy_per_sample_J", "match")
        },
        "ratio_vs_ddpm": match["energy_per_sample_J"] / per_sample,
        "ratio_vs_ddpm_heat_only": match["energy_per_sample_J"] / (max(heat, 0.0) * K_B * ROOM_K or np.nan),
    }
    claim_output_dir(out)  # everything computed: mark the folder as thermosim's, then write into it
    result["figures"] = generative_figures(
        model, images, classes, ddpm_images, tw["snapshots"], tw["current"], out
    )
    atomic_savez(out / "samples.npz", **images, **{f"{k}_class": classes[: len(images[k])] for k in images})
    from ..results import atomic_write_json  # noqa: F811

    atomic_write_json(out / "metrics.json", result)  # last: its presence means the run is complete
    return result
