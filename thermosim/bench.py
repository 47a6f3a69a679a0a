"""``thermosim bench engine``: thermosim's overhead over bare ngspice, measured side by side.

Both commands run as whole processes, alternated, ``repeats`` times; medians are compared.
(1) ``thermosim run rc_single --no-plots`` (spec → netlist → streamed noise → ngspice → samples → metrics);
(2) ``ngspice -b -r out.raw`` on the very same netlist with its noise already written to a file.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bench_engine(repeats: int = 3, spec_name: str = "rc_single", verbose: bool = True) -> dict:
    from .experiment import noise_lines, prepare
    from .spec import load_spec

    spec = load_spec(spec_name)
    prep = prepare(spec)
    with tempfile.TemporaryDirectory(prefix="thermosim-bench-") as tmp:
        tmp = Path(tmp)
        (tmp / "circuit.cir").write_text(prep.netlist)
        with open(tmp / prep.built.noise.file_name, "w") as f:
            for chunk in noise_lines(prep, spec.sim.seed):
                f.write(chunk)
        ts, ns, ppn = [], [], None
        for i in range(repeats):
            t0 = time.perf_counter()
            p = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "thermosim.cli",
                    "run",
                    spec_name,
                    "--json",
                    "--no-plots",
                    "--out",
                    str(tmp / "out"),
                ],
                capture_output=True,
                text=True,
            )
            ts.append(time.perf_counter() - t0)
            if p.returncode not in (0, 1):
                raise RuntimeError(f"thermosim run failed: {p.stderr.strip()}")
            ppn = json.loads(p.stdout)["points_per_noise_sample"]
            t0 = time.perf_counter()
            subprocess.run(
                ["ngspice", "-b", "-r", "out.raw", "circuit.cir"], cwd=tmp, capture_output=True, check=True
            )
            ns.append(time.perf_counter() - t0)
            if verbose:
                print(
                    f"  repeat {i + 1}/{repeats}: thermosim run {ts[-1]:.2f} s, bare ngspice {ns[-1]:.2f} s",
                    file=sys.stderr,
                )
    t_med, n_med = statistics.median(ts), statistics.median(ns)
    figures = {
        "spec": spec_name,
        "repeats": repeats,
        "thermosim_run_s": t_med,
        "ngspice_s": n_med,
        "wall_over_ngspice": t_med / n_med,
        "points_per_noise_sample": ppn,
    }
    if verbose:
        print(f"{'':<28}{'median [s]':>12}")
        print(f"{'thermosim run ' + spec_name:<28}{t_med:>12.3f}")
        print(f"{'bare ngspice -b (same .cir)':<28}{n_med:>12.3f}")
        print(f"wall_over_ngspice        = {t_med / n_med:.3f}   (target <= 1.05)")
        print(f"points_per_noise_sample  = {ppn:.4f}  (target <= 1.5; TRNOISE/TRRANDOM ~4.4)")
    return figures
