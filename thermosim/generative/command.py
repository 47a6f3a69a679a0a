"""The ``thermosim train digits`` and ``thermosim generate`` commands (argument parsing lives in cli.py)."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

OUT = Path("results") / "generative"


def cmd_train(args) -> int:
    """Train on the digits' train split (or all 1797 with --all-digits); write model.npz and training.json."""
    from ..digital.data import load_digits_split, scale
    from ..results import atomic_write_json, claim_output_dir
    from .model import TrainConfig
    from .train import stderr_log, throughput, train

    overrides = {
        k: getattr(args, k)
        for k in ("stages", "ridge", "smooth", "epochs", "seed", "batch", "tie_couplings")
        if getattr(args, k) is not None
    }
    config = TrainConfig(**overrides)
    config.validate()
    split = load_digits_split()
    x, y = split.x_train, split.y_train
    if args.all_digits:
        import numpy as np

        x, y = np.vstack([x, split.x_test]), np.concatenate([y, split.y_test])
    if args.limit is not None:
        x, y = x[: args.limit], y[: args.limit]
    out = claim_output_dir(args.out)  # a folder of the user's is refused, and left as it was
    log = None if args.json else stderr_log
    if log:
        log(
            f"[train] {len(x)} digits, 64 units, class bank, {config.stages} stage(s), {config.epochs} epochs"
        )
    t0 = time.perf_counter()
    model = train(config, scale(x), y, checkpoint=out / "checkpoint.npz", log=log)
    wall = time.perf_counter() - t0
    speed = throughput(
        config, (1, None), repeats=3 if args.limit is None else 1
    )  # best of 3: the machine may be shared
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
    if args.json:
        print(json.dumps(summary, default=str))
    else:
        b1, bb = speed
        print(
            f"trained in {wall:.0f} s; gain {model.history[-1]['fit']['gain_nats_per_trajectory']:.1f} "
            f"nats/trajectory; throughput {b1['trajectory_steps_per_s']:.3g} trajectory-steps/s at batch 1, "
            f"{bb['trajectory_steps_per_s']:.3g} at batch {bb['batch']} "
            f"({summary['throughput_ratio']:.1f}×); "
            f"wrote {out / 'model.npz'}"
        )
    return 0


def cmd_generate(args) -> int:
    from ..results import check_output_dir, claim_output_dir
    from .generate import Protocol
    from .judge import run_generate

    check_output_dir(args.out)  # a folder of the user's is refused, and left as it was
    result = run_generate(
        args.out,
        args.model or args.out / "model.npz",
        n=args.n,
        seed=args.seed,
        spice_n=args.spice_n,
        transistor_n=args.transistor_n,
        workers=args.workers,
        protocol=Protocol(args.relax, args.window),
        class_bits=args.class_bits,
        log=None if args.json else sys.stderr,
    )
    claim_output_dir(args.out)  # marks the folder as thermosim's (it may be replaced or rewritten)
    if args.json:
        print(json.dumps(result, default=str))
    else:
        print(summary_text(result))
    return 0


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
