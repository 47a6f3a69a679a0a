"""`thermosim linalg inverse|solve|mismatch`: problems from the command line, results under results/linalg/.

Everything is computed before anything is written; each file is then written atomically, so a failed
or interrupted command leaves no partial result.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..paths import RESULTS
from ..results import atomic_write_json
from .problem import Problem, check_matrix, load_npy, random_m_matrix, random_rhs, random_spd

NONIDEAL_KEYS = (
    "mismatch_sigma",
    "mismatch_seed",
    "parasitic_c_f",
    "noise_bandwidth_hz",
    "actual_temperature_k",
)


def problems(kind: str, matrix, random, cond, matrix_seed, rhs, circuit) -> list[Problem]:
    """The problems a command names: one from --matrix FILE.npy, or one per --random d."""
    if (matrix is None) == (not random):
        raise ValueError("give exactly one of --matrix FILE.npy or --random d [d ...]")
    if rhs is not None and kind != "solve":
        raise ValueError("--rhs is for `thermosim linalg solve`")
    out = []
    if matrix is not None:
        mats = [(check_matrix(load_npy(matrix, "the matrix"), circuit, str(matrix)), f"{matrix}")]
    else:
        make = random_spd if circuit == "rc" else random_m_matrix
        mats = [
            (
                make(d, cond, matrix_seed),
                f"random {'SPD' if circuit == 'rc' else 'M-matrix'} d={d} "
                f"cond={cond:g} matrix_seed={matrix_seed}",
            )
            for d in random
        ]
    for a, source in mats:
        b = None
        if kind == "solve":
            if rhs is not None:
                b = load_npy(rhs, "the right-hand side")
                if b.shape != (len(a),):
                    raise ValueError(f"{rhs}: the right-hand side must have shape ({len(a)},), got {b.shape}")
                if not np.all(np.isfinite(b)) or not np.any(b):
                    raise ValueError(f"{rhs}: the right-hand side must be finite and non-zero")
            else:
                b = random_rhs(len(a), matrix_seed)
        out.append(Problem(a=a, b=b, source=source))
    return out


def run_command(
    kind: str,
    *,
    matrix: Path | None = None,
    random: list[int] | None = None,
    cond: float = 10.0,
    matrix_seed: int = 0,
    rhs: Path | None = None,
    circuit: str = "rc",
    samples: int = 200_000,
    seed: int = 1,
    workers: int = 2,
    dask: bool = False,
    scheduler: str | None = None,
    out: Path | None = None,
    sigma: tuple[float, ...] = (0.0, 0.001, 0.01, 0.05),
    mismatch_seeds: int = 3,
    nonideal: dict | None = None,
    log=sys.stderr,
) -> dict:
    """``kind`` = inverse | solve | mismatch for A from ``matrix`` (.npy) or one per ``random`` size;
    write results under ``out`` (default results/linalg/KIND); return the JSON summary. ``nonideal``:
    the non-ideality keys of the rc/rlc families (mismatch_sigma, parasitic_c_f, ...). The runs go to
    ``workers`` local processes, or to Dask: a local cluster (``dask``) or the one at ``scheduler``."""
    from .mismatch import mismatch_sweep
    from .plots import error_vs_time, floor_vs_sigma, mismatch_curves
    from .run import run_many

    if kind not in ("inverse", "solve", "mismatch"):
        raise ValueError(f"linalg computes inverse, solve or mismatch, not {kind!r}")
    if samples < 1000:
        raise ValueError(f"--samples must be >= 1000, got {samples}")
    for key, value in (("seed", seed), ("matrix-seed", matrix_seed)):
        if value < 0:
            raise ValueError(f"--{key} must be >= 0, got {value}")
    if workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    unknown = set(nonideal or {}) - set(NONIDEAL_KEYS)
    if unknown:
        raise ValueError(f"unknown non-ideality {sorted(unknown)[0]!r} (known: {', '.join(NONIDEAL_KEYS)})")
    probs = problems(
        "solve" if kind == "solve" else "inverse", matrix, random, cond, matrix_seed, rhs, circuit
    )
    nonideal = {k: v for k, v in (nonideal or {}).items() if v is not None}
    out_dir = Path(out) if out else RESULTS / "linalg" / kind
    from ..results import check_output_dir, claim_output_dir
    from ..spice.runner import ngspice_version

    ngspice_version()  # a missing simulator fails before any work
    check_output_dir(out_dir)  # a folder of the user's is refused before any work, and left as it was
    if kind == "mismatch":
        if len(probs) != 1:
            raise ValueError("mismatch takes one matrix (--matrix FILE.npy or a single --random d)")
        if nonideal:
            raise ValueError("mismatch sweeps --sigma itself; drop the non-ideality options")
        res = mismatch_sweep(
            probs[0],
            circuit,
            list(sigma),
            mismatch_seeds,
            samples,
            seed,
            workers,
            log,
            dask,
            scheduler,
        )
        figures = {"floor_vs_sigma.png": floor_vs_sigma(res), "mismatch_curves.png": mismatch_curves(res)}
        summary = {k: v for k, v in res.items() if k != "runs"}
    else:
        if circuit == "rlc" and kind == "solve":
            raise ValueError("solve needs --circuit rc (an LC cell's inductor shorts a DC bias to ground)")
        jobs = [(p, circuit, samples, seed, nonideal or None) for p in probs]
        res = {"runs": run_many(jobs, workers, log, dask, scheduler)}
        figures = {"error_vs_time.png": error_vs_time(res["runs"])}
        keys = (
            "d",
            "rel_err",
            "rel_err_expected",
            "rel_err_se",
            "z",
            "n_eff",
            "samples",
            "seed",
            "floor_exact",
        )
        summary = {k: [r[k] for r in res["runs"]] for k in keys}
        if len(probs) == 1:
            summary = {k: v[0] for k, v in summary.items()} | {
                k: res["runs"][0][k]
                for k in ("answer", "exact", "t_s", "rel_err_curve", "rel_err_expected_curve")
            }
        summary |= {"kind": kind, "circuit": circuit, "nonideal": nonideal}
    from ..plots import save

    claim_output_dir(out_dir)
    for name, ax in figures.items():  # everything computed: now write, each file atomically
        save(ax, out_dir / name)
    atomic_write_json(out_dir / "linalg.json", res | {"summary": summary})
    print(f"[linalg] wrote {out_dir}", file=log)
    return summary
