"""Training on the digits and generating from the trained model, as the API and the command line call
them (``thermosim.api.train`` / ``generate``; argument parsing lives in cli/parser.py)."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from ..paths import RESULTS

OUT = RESULTS / "generative"


def train_digits(out: Path = OUT, all_digits: bool = False, limit: int | None = None, quiet=False, **config):
    """Train on the digits' train split (or all 1797); write model.npz, training.json and the checkpoint
    to ``out``; return the summary. ``config``: :class:`~.model.TrainConfig` fields (stages, ridge, ...)."""
    from ..digital.data import load_digits_split, scale
    from ..results import atomic_write_json, claim_output_dir
    from .model import TrainConfig
    from .train import stderr_log, throughput, train

    try:
        config = TrainConfig(**{k: v for k, v in config.items() if v is not None})
    except TypeError as err:  # an unknown keyword
        raise ValueError(f"train: {err}") from None
    config.validate()
    split = load_digits_split()
    x, y = split.x_train, split.y_train
    if all_digits:
        import numpy as np

        x, y = np.vstack([x, split.x_test]), np.concatenate([y, split.y_test])
    if limit is not None:
        x, y = x[:limit], y[:limit]
    out = claim_output_dir(Path(out))  # a folder of the user's is refused, and left as it was
    log = None if quiet else stderr_log
    if log:
        log(
            f"[train] {len(x)} digits, 64 units, class bank, {config.stages} stage(s), {config.epochs} epochs"
        )
    t0 = time.perf_counter()
    model = train(config, scale(x), y, checkpoint=out / "checkpoint.npz", log=log)
    wall = time.perf_counter() - t0
    speed = throughput(config, (1, None), repeats=3 if limit is None else 1)  # best of 3: a shared machine
    model.save(out / "model.npz")
    summary = {
        "config": dataclasses.asdict(config),
        "digits": len(x),
        "wall_s": wall,
        "history": model.history,
        "throughput": speed,
        "throughput_ratio": speed[1]["trajectory_steps_per_s"] / speed[0]["trajectory_steps_per_s"],
        "model": str(out / "model.npz"),
    }
    atomic_write_json(out / "training.json", summary)
    return summary


def train_text(summary: dict) -> str:
    """The one-line report of a training run."""
    b1, bb = summary["throughput"]
    return (
        f"trained in {summary['wall_s']:.0f} s; gain "
        f"{summary['history'][-1]['fit']['gain_nats_per_trajectory']:.1f} nats/trajectory; throughput "
        f"{b1['trajectory_steps_per_s']:.3g} trajectory-steps/s at batch 1, "
        f"{bb['trajectory_steps_per_s']:.3g} at batch {bb['batch']} ({summary['throughput_ratio']:.1f}×); "
        f"wrote {summary['model']}"
    )


def generate_digits(
    out: Path = OUT,
    model: Path | None = None,
    relax: float = 1.0,
    window: float = 0.1,
    gain: float = 1.05,
    quiet: bool = False,
    **options,
) -> dict:
    """Generate with the trained model (default ``out``/model.npz) and judge; write samples.npz,
    metrics.json and figures to ``out``; return the metrics. ``options``: n, seed, spice_n,
    transistor_n, workers, dask, scheduler, class_bits (see :func:`.judge.run_generate`); relax, window,
    gain: the protocol."""
    from ..results import check_output_dir
    from .generate import Protocol
    from .judge import run_generate

    out = Path(out)
    check_output_dir(out)  # a folder of the user's is refused, and left as it was
    result = run_generate(
        out,
        Path(model) if model else out / "model.npz",
        protocol=Protocol(relax, window, gain),
        log=None if quiet else sys.stderr,
        **{k: v for k, v in options.items() if v is not None},
    )
    return result


def summary_text(result: dict) -> str:
    lines = [
        "| generator | recognisable | min class share | Fréchet | nn-train dist | copies |",
        "|---|---|---|---|---|---|",
    ]
    for q in result["quality"]:
        lines.append(
            f"| {q['label']} | {q['recognisable']:.3f} | {q['min_class_share']:.3f} | {q['frechet']:.2f} | "
            f"{q['nn_train_dist']:.2f} | {q['copies']:.3f} |"
        )
    lines += [""] + [
        f"class accuracy {k}: {a['accuracy']:.3f} (worst class {a['min_class']:.3f})"
        for k, a in result["class_accuracy"].items()
    ]
    if "spice_vs_twin_mmd" in result:
        m = result["spice_vs_twin_mmd"]["current"]
        lines.append(
            f"SPICE vs twin (current read-out): MMD² {m['mmd2']:.3g} (floor {m['floor']:.3g}, "
            f"p = {m['p_value']:.2f}): " + ("agree" if m["agree"] else "DIFFER")
        )
    heat = result["heat_kt_per_sample"]
    lines += [
        "heat per sample: " + ", ".join(f"{v:.1f} kT ({k})" for k, v in heat.items()),
        f"energy per sample {result['energy_per_sample_J']:.3g} J vs DDPM "
        f"{result['ddpm_matched']['steps']} steps "
        f"{result['ddpm_matched']['energy_per_sample_J']:.3g} J: ratio {result['ratio_vs_ddpm']:.3g}",
    ]
    return "\n".join(lines)
