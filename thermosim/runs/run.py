"""Run a spec or any netlist end to end and write results/<name>/ (nothing half-written)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ..analysis.gaussian import compare_gaussian
from ..analysis.stats import resample_uniform
from ..circuits import FAMILIES
from ..results import (
    BackgroundSavez,
    atomic_savez,
    atomic_write_json,
    atomic_write_text,
    check_output_dir,
    replace_dir,
)
from ..spice.foreign import prepare_foreign
from ..spice.guard import check_netlist
from ..spice.parse import probe_name
from ..spice.runner import ngspice_version, require_ngspice, run_netlist
from .experiment import prepare, simulate
from .result import Result

SUMMARY_ROWS = 16  # variables listed one by one in the summary table
SAMPLES = ("full", "thin", "none")  # what samples.npz holds: every sample, every k-th (≤ ~10 MB), no file
THIN_BYTES = 10_000_000


def run_spec(spec, seed=None, out=None, plots=True, keep=False, quiet=False, samples="full") -> Result:
    """Simulate one spec; with ``out``, write the folder atomically (netlist, samples, metrics, figures).

    ``out=None`` keeps the run in memory (nothing written). The command line passes results/<name>.
    ``samples``: what samples.npz holds (:data:`SAMPLES`).
    """
    t0, started = time.perf_counter(), _start_up_s()
    seed = spec.sim.seed if seed is None else seed
    source = str(Path(spec.path).resolve()) if spec.path is not None else None
    prep = prepare(spec)
    require_ngspice()  # fail before any output when ngspice is missing
    if out is not None:
        out = check_output_dir(Path(out))  # before minutes of simulation
        check_same_source(out, spec.name, source, samples)
    if not quiet:
        print(
            f"[thermosim] {spec.name}: {prep.n_steps:,} noise steps of {prep.noise_step_s:.3g} s, "
            f"seed {seed}",
            file=sys.stderr,
        )
    run_dir = Path(tempfile.mkdtemp(prefix=f"thermosim-{spec.name}-"))

    # a bar on a terminal only; logs and pipes get the start line above and the summary
    show = not quiet and sys.stderr.isatty()
    early: BackgroundSavez | None = None  # samples.npz, written while the analysis runs

    def write_samples(x: np.ndarray, times: np.ndarray) -> None:
        nonlocal early
        if out is not None and samples != "none":
            arrays = npz_arrays(x, times, prep.built.variables, seed, samples)
            with contextlib.suppress(OSError):  # then write_outputs writes it, and says what is wrong
                early = BackgroundSavez(out.parent, **arrays)

    try:
        with _bar(spec.name, prep.n_steps + 3) if show else contextlib.nullcontext() as bar:
            t_sim = time.perf_counter()
            progress = (lambda n: bar.update(max(0, n - bar.n))) if show else None
            res = simulate(prep, seed, run_dir, keep=keep, progress=progress, on_samples=write_samples)
        timing = res.metrics["timing_s"]
        timing["start"] = started  # interpreter, imports, arguments, the spec: before run_spec was called
        timing["prepare"] += t_sim - t0
        if keep:
            res.metrics["run_dir"] = str(run_dir)
        res.metrics["spec_path"] = source
        if out is not None:
            hook = FAMILIES[spec.family].figures if plots else None
            data = (res.metrics, res.samples, res.sample_times_s)
            write_outputs(
                out,
                prep.netlist,
                f"{spec.name}.cir",
                *data,
                plots,
                hook,
                samples_file=samples,
                cdfs=res.cdfs,
                samples_npz=early,
            )
        else:
            stamp_cpu(res.metrics)
    finally:
        if early is not None:  # a run that failed or was interrupted leaves no file behind
            early.discard()
    return Result.from_metrics(res.metrics, res.samples, res.sample_times_s, out, cdfs=res.cdfs)


def _bar(name: str, total: int):
    from tqdm import tqdm  # loaded only for a terminal

    return tqdm(total=total, unit="step", unit_scale=True, desc=name, leave=False)


_FIRST_RUN = [True]


def _start_up_s() -> float | None:
    """The process's age at its first run (its start-up: interpreter, imports, arguments); None for any
    later run in the same process (the demo, a notebook), whose age says nothing about this run."""
    if not _FIRST_RUN[0]:
        return None
    _FIRST_RUN[0] = False
    return process_age_s()


def process_age_s() -> float | None:
    """Seconds since this process started (Linux: /proc/self/stat, 10 ms ticks), or None elsewhere."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return age if age >= 0 else None


def stamp_cpu(metrics: dict) -> None:
    """The CPU seconds this process has used so far (every thread: imports, noise, analysis, writing)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    metrics["timing_s"]["python_cpu"] = usage.ru_utime + usage.ru_stime


def check_same_source(out: Path, name: str, source: str | None, samples: str = "full") -> None:
    """Refuse (ValueError) to replace results another spec wrote: ``out/metrics.json`` names another
    spec (``circuit``) or another spec file (``spec_path``). The same spec run again replaces them.
    Checks the samples option too, before any simulation."""
    if samples not in SAMPLES:
        raise ValueError(f"samples must be one of {', '.join(SAMPLES)}, got {samples!r}")
    try:
        old = json.loads((out / "metrics.json").read_text())
        old_name, old_source = str(old.get("circuit")), old.get("spec_path")
        if old_source:  # recorded relative to the folder (:func:`recorded_source`); older runs: absolute
            old_source = os.path.normpath(os.path.join(Path(out).resolve(), old_source))
    except (OSError, ValueError, AttributeError, TypeError):
        return  # no earlier run there (an empty or foreign folder is check_output_dir's business)
    if old_name != name or (old_source and source and old_source != source):
        raise ValueError(
            f"{out} holds the results of '{old_name}' ({old_source or 'no spec file recorded'}), not of "
            f"'{name}' ({source or 'no spec file'}): choose another folder with --out (nothing was run)"
        )


def recorded_source(source: str | None, out: Path) -> str | None:
    """The spec file as metrics.json records it: relative to the results folder, so results committed
    beside their specs still belong to them in a clone or a moved checkout (an absolute path would name
    the folder they were made in)."""
    if not source or not os.path.isabs(source):
        return source
    return os.path.relpath(source, Path(out).resolve())


def _every(samples: np.ndarray, mode: str) -> int:
    """samples.npz keeps every k-th row: every row, or for "thin" at most ~THIN_BYTES."""
    if mode != "thin":
        return 1
    return max(1, math.ceil(samples.size * 8 * (1 + 1 / max(1, samples.shape[-1])) / THIN_BYTES))


def npz_arrays(samples: np.ndarray, times: np.ndarray, variables, seed, mode: str) -> dict:
    """What samples.npz holds: the rows kept (:func:`_every`), their times, the variables, the seed."""
    every = _every(samples, mode)
    arrays = {"samples": samples[::every], "t_s": times[::every], "variables": np.array(list(variables))}
    return arrays if seed is None else {**arrays, "seed": np.array(seed, dtype=np.uint64)}


def write_outputs(
    out: Path,
    netlist: str,
    netlist_name: str,
    metrics,
    samples,
    times,
    plots: bool,
    figures_hook=None,
    samples_file: str = "full",
    cdfs=None,
    samples_npz: BackgroundSavez | None = None,
) -> None:
    """Everything goes to a staging directory first, then replaces ``out`` in one rename.

    ``out`` is replaced only if thermosim wrote it (results.MARKER) or it is empty, and only by a run of
    the same spec (:func:`check_same_source`); any other existing folder is refused with nothing in it
    changed. A write that fails (read-only or full disk, a path through a file) removes the staging
    directory and raises OSError naming ``out``: the previous results, if any, are left as they were.
    ``samples_file``: "full" (every sample), "thin" (every k-th, ≤ ~10 MB) or "none" (no samples.npz);
    ``samples_npz``: that file, already being written (:func:`npz_arrays` of the same samples).
    """
    t0 = time.perf_counter()
    check_same_source(out, metrics["circuit"], metrics.get("spec_path"), samples_file)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.partial-"))
    except OSError as err:
        raise OSError(err.errno, f"cannot write the results to {out}: {err.strerror}") from None
    try:
        stage.chmod(0o755)
        atomic_write_text(stage / netlist_name, netlist)
        every = _every(samples, samples_file)
        rows = 0 if samples_file == "none" else len(samples[::every])
        metrics["samples_file"] = {"mode": samples_file, "every": every, "rows": rows}
        if samples_npz is not None:
            samples_npz.move(stage / "samples.npz")
        elif samples_file != "none":
            arrays = npz_arrays(samples, times, metrics["variables"], metrics["seed"], samples_file)
            atomic_savez(stage / "samples.npz", **arrays)
        if plots:
            from ..plots import run_figures

            metrics["figures"] = run_figures(metrics, samples, stage, cdfs)
            if figures_hook is not None:  # the family's own figures
                metrics["figures"] += figures_hook(metrics, samples, stage)
        metrics["spec_path"] = recorded_source(metrics.get("spec_path"), out)
        if "timing_s" in metrics:  # all but this file and the rename (milliseconds)
            metrics["timing_s"]["write"] = time.perf_counter() - t0
            stamp_cpu(metrics)
        atomic_write_json(stage / "metrics.json", metrics)
        replace_dir(stage, out)
    except OSError as err:
        shutil.rmtree(stage, ignore_errors=True)
        raise OSError(err.errno, f"cannot write the results to {out}: {err.strerror}") from None
    except BaseException:  # a refused folder (ValueError), an interrupt: no staging folder left behind
        shutil.rmtree(stage, ignore_errors=True)
        raise


def run_netlist_file(
    path: Path, probes=None, out=None, keep=False, seed: int | None = None, samples="full"
) -> Result:
    """Run a netlist written by anyone as is (see :mod:`thermosim.spice.foreign`) and analyse the probed
    node voltages or branch currents (``i(v1)``); with ``out``, write the folder atomically (``None``: in
    memory). ``seed`` becomes ``.options seed=N`` (ngspice seeds TRRANDOM and RTS noise with it; TRNOISE's
    white and 1/f parts it does not: use ``--thermal``). Measured only: the netlist's own noise has no
    known level, so there is no theory and no verdict."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such netlist file")
    if out is not None:
        out = check_output_dir(Path(out))
    try:
        text, notes = prepare_foreign(path.read_text(errors="replace"))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    if seed is not None:
        text = re.sub(r"(?im)^\s*\.end\s*$", f".options seed={int(seed)}\n.end", text, count=1)
        if not re.search(r"(?im)^\s*\.options seed=", text):
            text += f".options seed={int(seed)}\n"
        if re.search(r"(?i)\btrnoise\s*\(", text):
            notes.append("TRNOISE is seeded from the process id in ngspice 39 whatever the seed: runs differ")
    for note in notes:
        print(f"[thermosim] {path.name}: {note}", file=sys.stderr)
    # every file it reads (includes of includes, libraries, file= data) must lie in its folder and hold
    # no control script; the checked files go along with it into the run directory
    files = check_netlist(text, path.parent, source=str(path))
    t0 = time.perf_counter()
    run_dir = Path(tempfile.mkdtemp(prefix="thermosim-netlist-"))
    for rel, _ in files:
        src = path.parent / rel
        if src.is_file():
            (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, run_dir / rel)  # contents only: no symlink, no mode bits carried over
    res = run_netlist(text, run_dir, keep=keep)
    volts = [n for n, ty in zip(res.plot.names, res.plot.types, strict=True) if ty == "voltage"]
    vectors = {n.lower(): n for n in res.plot.names}
    vectors |= {f"i({n.lower()[:-7]})": n for n in res.plot.names if n.lower().endswith("#branch")}
    probes = [probe_name(p) for p in (probes or [])] or volts
    missing = [p for p in probes if p not in vectors]
    if missing:
        have = volts + [k for k in vectors if k.startswith("i(")]
        raise ValueError(f"{path}: no vector {', '.join(missing)} in the results (have: {', '.join(have)})")
    t = res.plot["time"]
    dt = float(np.median(np.diff(t)))
    burn = t[0] + 0.1 * (t[-1] - t[0])
    _, x = resample_uniform(t, np.column_stack([res.plot[vectors[p]] for p in probes]), dt, burn)
    d = len(probes)
    stats, _ = compare_gaussian(x, dt, np.full(d, np.nan), np.full((d, d), np.nan), probes)

    metrics = {
        "circuit": path.stem,
        "spec_path": str(path.resolve()),
        "family": None,
        "seed": seed,
        "ngspice_version": ngspice_version(),
        "wall_s": time.perf_counter() - t0,
        "ngspice_s": res.wall_s,
        "n_points": res.plot.n_points,
        "n_noise_samples": None,
        "points_per_noise_sample": None,
        "variables": probes,
        "sample_step_s": dt,
        "burn_in_s": burn,
        **stats,  # mean, cov and their SEs, τ_int, n_eff; no theory, so no checks
        "samples_sha256": hashlib.sha256(np.ascontiguousarray(x, "<f8").tobytes()).hexdigest(),
        "notes": notes,
        "checks": [],
        "passed": None,  # measured only: the netlist's own noise has no known level to judge it by
        "info": {"theory": "the netlist's own noise has no known level (--thermal T calibrates it)"},
    }
    times = np.arange(len(x)) * dt + burn
    if out is not None:
        write_outputs(out, text, path.name, metrics, x, times, False, samples_file=samples)
    return Result.from_metrics(metrics, x, times, out)


def summary_table(m: dict) -> str:
    """A short human-readable summary of one run's metrics."""
    lines = [
        f"{m['circuit']}: {m['n_points']:,} points in {m['ngspice_s']:.2f} s of ngspice "
        f"({m['wall_s']:.2f} s total), n_eff = {m['n_eff']:.0f}"
    ]
    if m.get("points_per_noise_sample"):
        lines[0] += f", {m['points_per_noise_sample']:.3f} points per noise sample"
    theory = m.get("var_theory")
    lines.append(f"  {'variable':<10} {'variance [V²]':>14} {'theory [V²]':>14} {'ratio':>8} {'± SE':>7}")
    for i, v in enumerate(m["variables"][:SUMMARY_ROWS]):
        var, se = m["var"][i], m["var_se"][i]
        if theory:
            th = theory[i]
            lines.append(f"  {v:<10} {var:>14.4e} {th:>14.4e} {var / th:>8.4f} {se / th:>7.4f}")
        else:
            lines.append(f"  {v:<10} {var:>14.4e} {'-':>14} {'-':>8} {'-':>7}")
    if len(m["variables"]) > SUMMARY_ROWS:
        lines.append(f"  … and {len(m['variables']) - SUMMARY_ROWS} more variables (metrics.json)")
    if m.get("cov_rel_err") is not None:
        lines.append(
            f"  covariance error vs theory: {m['cov_rel_err']:.4f} (expected size {m['cov_rel_err_se']:.4f})"
        )
    if "p1" in m:
        lines.append(
            f"  P(1) = {m['p1']:.4f} ± {m['p1_se']:.4f}, {m['switches']} switches, "
            f"0/1 autocorrelation time {m['pbit_tau_int_s']:.3g} s"
        )
    if "frequency_hz" in m:
        lines.append(
            f"  f = {m['frequency_hz']:.6g} Hz ± {m['frequency_se_hz']:.2g}, "
            f"period jitter {m['period_jitter_s']:.3g} s"
            + (
                f", locking R = {m['locking_r']:.4f}, Δφ = {m['phase_diff_mean']:.4f} rad"
                if "locking_r" in m
                else ""
            )
        )
    if m.get("supply_power_by_source_w"):
        per = m.get("supply_energy_per_sample_j")
        lines.append(
            f"  supply power {m['supply_power_w']:.4g} W"
            + (f", {per:.4g} J per independent sample" if per is not None else "")
        )
    for w in m.get("warnings", []):
        lines.append(f"  note: {w}")
    info = m.get("info") or {}
    for note in info.get("notes", []) if isinstance(info, dict) else []:
        lines.append(f"  note: {note}")
    failed = [c["name"] for c in m["checks"] if not c["passed"]]
    if m.get("passed", True) is None:
        why = info.get("theory") if isinstance(info, dict) else None
        lines.append(f"  verdict: measured only ({why or 'no exact law for this circuit'})")
    elif m["checks"]:
        lines.append(
            f"  checks: {len(m['checks']) - len(failed)}/{len(m['checks'])} passed"
            + (f"; FAILED: {', '.join(failed)}" if failed else "")
        )
    return "\n".join(lines)
