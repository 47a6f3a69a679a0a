"""The sweep of the generator's design: stage count K and read-out window, quality and energy per sample.

Every K is fitted on the SAME noising paths (the training checkpoint's window sums: :mod:`.train`), then
generates ``n`` digits as the digital twin with the same classes and seed; each row holds the judge's
table for both read-outs, the conditional accuracy, the heat and the energy lines' total per sample, the
parameter ranges, and (``spice_cpu``, K ≤ 10) the measured ngspice CPU seconds of one sample — what K
banks of transconductors cost to simulate. Cost: one fit per K (seconds; K = 25 about 20 s) and a twin
run each.

The design is SELECTED on other seeds than the report's (:data:`SELECTION_SEEDS`): for each K with one
coupling bank and each read-out gain of :data:`GAINS`, the mean and spread over those seeds of the
twin's recognisable share, Fréchet distance and class accuracy (a Fréchet distance of 360 samples
scatters by about ±0.09 from run to run, so one seed cannot tell designs 0.05 apart). Cost: one twin
run per K and seed (about 3 s each).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

STAGES = (1, 2, 5, 10, 25)
WINDOWS = (0.02, 0.05, 0.1, 0.2, 0.4, 1.0)
GAINS = (1.0, 1.05, 1.1)
SELECTION_SEEDS = tuple(range(101, 111))  # not the report's seed (1)
SPICE_MAX_STAGES = 10  # K = 25 banks hold 10⁵ transconductors: their ngspice cost is not measured


def _judge(model, tw, classes, protocol, readouts=("current", "voltage")) -> dict:
    from ..digital.quality import quality
    from .energy import draw_classes, generative_energy, total_per_sample
    from .generate import CircuitScale, sense_capacitor
    from .judge import class_accuracy, pixels

    row = {}
    for r in readouts:
        im = pixels(tw[r])
        q = quality(im, r)
        a = class_accuracy(im, classes)
        row[r] = {k: q[k] for k in ("recognisable", "min_class_share", "frechet", "nn_train_dist", "copies")}
        row[r]["accuracy"] = a["accuracy"]
    heat = float(np.mean(tw["heat_kt"]))
    s = CircuitScale()
    tau = s.c_f / s.g0_s
    c_q = sense_capacitor(model, protocol, s, tau)
    bits = draw_classes(len(classes), 0)[1] / len(classes)
    lines = generative_energy(
        model, heat, len(classes), bits, c_q, protocol.window * tau, s.g0_s * s.v_unit_v
    )
    row |= {"heat_kt": heat, "energy_per_sample_J": total_per_sample(lines)}
    return row


def run_sweep(
    out: Path,
    checkpoint: Path,
    n: int = 360,
    seed: int = 1,
    stages=STAGES,
    windows=WINDOWS,
    window_stages=((1, False), (10, True)),
    selection=(1, 2, 5, 10),
    selection_seeds=SELECTION_SEEDS,
    spice_cpu: bool = True,
    limit: int | None = None,
    log=None,
    reuse: bool = False,
) -> dict:
    """Fit every K of ``stages`` on the checkpoint's paths, with a coupling bank per stage and (K > 1) with
    one tied coupling bank, judge the twin; then the read-out windows for each (K, tied) of
    ``window_stages``; then the selection table over ``selection_seeds`` for the (tied) K of
    ``selection``. ``limit``: the first training digits only (as the checkpoint was made).
    Writes sweep.json and sweep.png to ``out``; returns the rows. ``reuse``: return the sweep already in
    ``out`` when it was made from the same inputs (``stage_key``), without recomputing it."""
    from ..digital.data import load_digits_split, scale
    from ..results import atomic_write_json, reusable
    from ..runs.keys import stage_key

    inputs = dict(n=n, seed=seed, stages=stages, windows=windows, window_stages=window_stages)
    inputs |= dict(selection=selection, selection_seeds=selection_seeds, spice_cpu=spice_cpu, limit=limit)
    # the checkpoint (paths, not committed) is rebuilt from its config when missing: the config is the input
    ident = stage_key("generative sweep", config=dataclasses.asdict(_config_of(Path(checkpoint))), **inputs)
    if reuse and (old := reusable(out / "sweep.json", ident, ("sweep.png",))):
        if log:
            log(f"[sweep] {out / 'sweep.json'}: made from the same inputs (key {ident[:12]}), reused")
        return old
    from .energy import draw_classes
    from .generate import Protocol, spice, twin
    from .train import train

    say = log or (lambda m: None)
    split = load_digits_split()
    classes = draw_classes(n, seed)[0]
    models, rows = {}, []
    designs = [(k, False) for k in stages] + [(k, True) for k in stages if k > 1]
    for k, tied in designs + [(k, t) for k, t in window_stages if (k, t) not in designs]:
        t0 = time.perf_counter()
        config = dataclasses.replace(_config_of(checkpoint), stages=k, tie_couplings=tied)
        x, y = split.x_train[:limit], split.y_train[:limit]
        models[k, tied] = m = train(config, scale(x), y, checkpoint=checkpoint)
        fit_s = time.perf_counter() - t0
        if (k, tied) not in designs:
            continue
        tw = twin(m, classes, seed, Protocol())
        row = {"stages": k, "tied": tied, "window": Protocol().window, "fit_s": fit_s}
        row |= _judge(m, tw, classes, Protocol()) | {"ranges": m.ranges()}
        if spice_cpu and (tied or k <= SPICE_MAX_STAGES):
            row["spice_cpu_s_per_sample"] = spice(m, classes[:1], seed, workers=1)["cost"]["cpu_s"]
        rows.append(row)
        say(f"[sweep] K = {k}{' tied' if tied else ''}: recognisable {row['current']['recognisable']:.3f}")
    window_rows = []
    for k, tied in window_stages:
        for w in windows:
            p = Protocol(window=w)
            tw = twin(models[k, tied], classes, seed, p)
            row = {"stages": k, "tied": tied, "window": w}
            window_rows.append(row | _judge(models[k, tied], tw, classes, p, ("current",)))
        say(f"[sweep] windows for K = {k} done")
    selection_rows = []
    for k in selection:
        m = models.get((k, k > 1))
        if m is None:
            continue
        per_seed = {g: [] for g in GAINS}
        for s in selection_seeds:
            cl = draw_classes(n, s)[0]
            tw = twin(m, cl, s, Protocol(gain=1.0))
            for g in GAINS:
                p = Protocol(gain=g)
                per_seed[g].append(_judge(m, tw | {"current": g * tw["current"]}, cl, p, ("current",)))
        for g, judged in per_seed.items():
            row = {"stages": k, "tied": k > 1, "gain": g, "seeds": list(selection_seeds)}
            for key in ("recognisable", "min_class_share", "frechet", "accuracy"):
                v = [j["current"][key] for j in judged]
                row[key] = {"mean": float(np.mean(v)), "sd": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0}
            selection_rows.append(row)
        say(f"[sweep] selection seeds for K = {k} done")
    result = {"n": n, "seed": seed, "stages": rows, "windows": window_rows, "selection": selection_rows}
    result["stage_key"] = ident
    from ..plots import save
    from .plots import sweep_figure

    save(sweep_figure(result), out / "sweep.png")
    atomic_write_json(out / "sweep.json", result)
    return result


def _config_of(checkpoint: Path):
    """The training config of the checkpoint's paths (with the default stage count and penalties)."""
    import json

    from .model import TrainConfig

    if not checkpoint.exists():
        return TrainConfig()
    with np.load(checkpoint) as z:
        meta = json.loads(str(z["meta"]))
    keep = {k: v for k, v in meta["paths"].items() if k != "windows"}
    return TrainConfig(**keep, epochs=len(meta["history"]))
