"""``thermosim bench engine``: thermosim's overhead over bare ngspice, measured side by side.

The three commands run as whole processes, alternated, ``repeats`` times; medians are compared.
(1) ``thermosim run rc_single --no-plots`` (spec → netlist → streamed noise → ngspice → samples → metrics);
(2) ``ngspice -b -r out.raw`` on the very same netlist with its noise already written to a file;
(3) the floor: a Python process that streams the very same noise into the same ngspice through
thermosim's own feeder and does nothing else (no spec, netlist, analysis or output).
Where the difference goes comes from the run's own clock (metrics ``timing_s``, docs/development.md).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the phases of one `thermosim run` (metrics["timing_s"], wall seconds) in the order they happen; "exit"
# is what the outside clock saw beyond them (interpreter shut-down, process start-up before Python)
PHASES = ("start", "prepare", "ngspice", "read", "analysis", "write", "exit")
CPU = ("python_cpu", "noise_cpu", "ngspice_cpu")
# The floor of this design: start Python, import numpy and thermosim's noise code, feed the run's seeded
# noise to ngspice through the FIFOs, wait, exit. Whatever thermosim run spends beyond it (the spec, the
# netlist, the analysis, the output) is its own to remove; the floor itself is not (ngspice reads its noise
# whole before its first step, so the noise cannot start before Python and numpy have).
_FLOOR = """
import pickle, subprocess, sys
from pathlib import Path
from thermosim.spice.feeder import NoiseFeeder
from thermosim.spice.noise import stream_blocks
folder = Path(sys.argv[1])
plan, step, steps, seed = pickle.loads(Path(sys.argv[2]).read_bytes())
feeder = NoiseFeeder([folder / name for name in plan.files()], stream_blocks(plan, step, steps, seed))
ngspice = subprocess.Popen(
    ["ngspice", "-n", "-b", "-r", "out.raw", "circuit.cir"],
    cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
)
feeder.start()
code = ngspice.wait()
feeder.finish()
sys.exit(code or (3 if feeder.error else 0))
"""


def _timed(cmd: list[str], **kw) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run ``cmd``; (result, wall s, CPU s of it and its children)."""
    u0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    wall, u1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_CHILDREN)
    return p, wall, (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)


def bench_engine(
    repeats: int = 3, spec_name: str = "rc_single", t_stop_s: float | None = None, verbose: bool = True
) -> dict:
    """``t_stop_s`` lengthens the run: the fixed part of the overhead (Python start-up and imports) then
    weighs less, and what remains is the part that grows with the run (noise, analysis, output).

    Returns the medians (wall and CPU seconds) of both commands, their ratios, and the median of each
    phase of the thermosim run (:data:`PHASES`, :data:`CPU`), with the machine's load average."""
    import pickle

    import tomli_w

    from ..runs.experiment import noise_blocks, prepare
    from ..runs.spec import find_spec, read_toml, spec_from_table, with_overrides

    table = read_toml(find_spec(spec_name))
    if t_stop_s is not None:
        table = with_overrides(table, {"sim.t_stop_s": t_stop_s})
    spec = spec_from_table(table)
    prep = prepare(spec)
    load = [os.getloadavg()[0]]
    runs, bare, floor = [], [], []
    with tempfile.TemporaryDirectory(prefix="thermosim-bench-") as tmp:
        tmp = Path(tmp)
        spec_path = tmp / f"{spec.name}.toml"
        spec_path.write_text(tomli_w.dumps(table))
        (tmp / "circuit.cir").write_text(prep.netlist)
        (tmp / "floor").mkdir()
        (tmp / "floor" / "circuit.cir").write_text(prep.netlist)
        plan = (prep.built.noise, prep.noise_step_s, prep.n_steps, spec.sim.seed)
        (tmp / "plan.pickle").write_bytes(pickle.dumps(plan))
        (name,) = prep.built.noise.files()
        with open(tmp / name, "wb") as f:
            for (chunk,) in noise_blocks(prep, spec.sim.seed):
                f.write(chunk)
        run = [sys.executable, "-m", "thermosim.cli", "run", str(spec_path), "--json", "--no-plots"]
        for i in range(repeats):
            p, wall, cpu = _timed([*run, "--out", str(tmp / "out")])
            if p.returncode not in (0, 1):
                raise RuntimeError(f"thermosim run failed: {p.stderr.strip()}")
            m = json.loads(p.stdout)
            timing = {k: v for k, v in m["timing_s"].items() if v is not None}
            timing["exit"] = wall - sum(timing.get(k, 0.0) for k in PHASES[:-1])
            runs.append({"wall": wall, "cpu": cpu, "ppn": m["points_per_noise_sample"], **timing})
            _, wall, cpu = _timed(
                ["ngspice", "-n", "-b", "-r", "out.raw", "circuit.cir"], cwd=tmp, check=True
            )
            bare.append({"wall": wall, "cpu": cpu})
            _, wall, cpu = _timed(
                [sys.executable, "-c", _FLOOR, str(tmp / "floor"), str(tmp / "plan.pickle")], check=True
            )
            floor.append({"wall": wall, "cpu": cpu})
            if verbose:
                print(
                    f"  repeat {i + 1}/{repeats}: thermosim run {runs[-1]['wall']:.2f} s "
                    f"({runs[-1]['cpu']:.2f} CPU s), bare ngspice {bare[-1]['wall']:.2f} s "
                    f"({bare[-1]['cpu']:.2f} CPU s), noise alone {wall:.2f} s ({cpu:.2f} CPU s)",
                    file=sys.stderr,
                )
    load.append(os.getloadavg()[0])

    def med(rows: list[dict], key: str) -> float | None:
        values = [r[key] for r in rows if key in r]
        return statistics.median(values) if values else None

    t_med, n_med = med(runs, "wall"), med(bare, "wall")
    figures = {
        "spec": spec_name,
        "t_stop_s": prep.t_stop_s,
        "repeats": repeats,
        "load_average_1min": load,  # before and after: a busy machine stretches every wall time
        "thermosim_run_s": t_med,
        "ngspice_s": n_med,
        "wall_over_ngspice": t_med / n_med,
        "thermosim_cpu_s": med(runs, "cpu"),
        "ngspice_cpu_s": med(bare, "cpu"),
        "cpu_over_ngspice": med(runs, "cpu") / med(bare, "cpu"),
        "floor_s": med(floor, "wall"),  # the noise fed to ngspice by Python and nothing else (_FLOOR)
        "floor_over_ngspice": med(floor, "wall") / n_med,
        "floor_cpu_s": med(floor, "cpu"),
        "points_per_noise_sample": med(runs, "ppn"),
        "breakdown_s": {k: med(runs, k) for k in PHASES + CPU},
    }
    if verbose:
        _print_engine(figures)
    return figures


def _print_engine(f: dict) -> None:
    name = f"thermosim run {f['spec']}"
    print(f"{'':<30}{'wall [s]':>10}{'CPU [s]':>10}   (medians of {f['repeats']})")
    print(f"{name:<30}{f['thermosim_run_s']:>10.3f}{f['thermosim_cpu_s']:>10.3f}")
    print(f"{'bare ngspice -b (same .cir)':<30}{f['ngspice_s']:>10.3f}{f['ngspice_cpu_s']:>10.3f}")
    print(f"{'noise alone (the floor)':<30}{f['floor_s']:>10.3f}{f['floor_cpu_s']:>10.3f}")
    print(f"wall_over_ngspice        = {f['wall_over_ngspice']:.3f}   (target <= 1.05)")
    own = f["thermosim_run_s"] - f["floor_s"]
    print(
        f"floor_over_ngspice       = {f['floor_over_ngspice']:.3f}   (Python, numpy and the noise feed "
        f"alone; thermosim's own share: {own:.3f} s)"
    )
    print(f"cpu_over_ngspice         = {f['cpu_over_ngspice']:.3f}")
    ppn, (before, after) = f["points_per_noise_sample"], f["load_average_1min"]
    print(f"points_per_noise_sample  = {ppn:.4f}  (target <= 1.5; TRNOISE/TRRANDOM ~4.4)")
    print(f"load average (1 min)     = {before:.2f} before, {after:.2f} after (2 cores: above ~1, noisy)")
    print("where the thermosim run's time went (medians, s):")
    for k, v in f["breakdown_s"].items():
        print(f"  {k:<12}{'-' if v is None else f'{v:.3f}':>8}")
