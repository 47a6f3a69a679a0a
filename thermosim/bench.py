"""``thermosim bench``: the measurements behind docs/results.md, each printed side by side in one run.

``engine``: :mod:`thermosim.report.engine`; ``coupling``: :mod:`thermosim.report.coupling`; ``noise``,
``sweep`` and ``generate`` here.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def bench_engine(
    repeats: int = 3, spec_name: str = "rc_single", t_stop_s: float | None = None, verbose: bool = True
) -> dict:
    """thermosim run against bare ngspice and the design's floor (:mod:`.report.engine`)."""
    from .report.engine import bench_engine as run

    return run(repeats=repeats, spec_name=spec_name, t_stop_s=t_stop_s, verbose=verbose)


# --- noise mechanisms -------------------------------------------------------------------------------
# One RC (R = 1 MΩ, C = 1 pF, τ = 1 µs) at 300 K, noise step τ/10, each mechanism judged on the node
# voltage at the noise-grid instants against the exact discrete theory of the noise it really injects.

_R, _C, _T = 1e6, 1e-12, 300.0


def _discrete_ktc_ratio(kind: str, h_over_tau: float) -> float:
    """Exact stationary Var(v)/(kT/C) at the grid instants for white noise sampled every h and held
    (``zoh``), linearly interpolated (``pwl``), or integrated exactly (``exact``: 1 by construction)."""
    import numpy as np

    a = h_over_tau
    phi = np.exp(-a)
    if kind == "exact":
        return 1.0
    # v_{k+1} = φ v_k + (h/C)(I0 w_k + I1 w_{k+1}); with σ_w²·h = 2kT/R the ratio is 2a·Var in units of I²
    i_tot = (1 - phi) / a  # ∫0^1 e^{-a(1-u)} du
    if kind == "zoh":
        return i_tot**2 / (1 - phi**2) * 2 * a
    i1 = 1 / a - (1 - phi) / a**2  # ∫0^1 u e^{-a(1-u)} du
    i0 = i_tot - i1
    m = phi * i1 + i0  # y_k = v_k − (h/C) I1 w_k obeys y_{k+1} = φ y_k + (h/C) m w_k
    return (m**2 / (1 - phi**2) + i1**2) * 2 * a


def bench_noise(n_samples: int = 2_000_000, verbose: bool = True) -> dict:
    """kT/C, reproducibility and accepted points per noise sample for each noise mechanism tried."""
    import hashlib

    import numpy as np

    from .physics import K_B
    from .spice.noise import TRAN_OPTIONS, TSTEP_FRACTION, NoisePlan, stream_blocks
    from .spice.runner import run_netlist

    tau = _R * _C
    nt = tau / 10
    na = float(np.sqrt(2 * K_B * _T / (_R * nt)))  # white level: σ²·NT = 2kT/R (two-sided)

    def netlist(kind: str, n: int, seed: int) -> tuple[str, dict]:
        t_stop = n * nt
        head = f"* {kind}\n.options seed={seed}\nR1 n1 0 {_R!r}\n"
        tran = f".tran {nt!r} {t_stop!r} 0 {nt!r}\n"
        if kind == "trnoise":
            return head + f"C1 n1 0 {_C!r}\nI1 0 n1 TRNOISE({na!r} {nt!r} 0 0)\n" + tran, {}
        if kind == "trrandom":
            return head + f"C1 n1 0 {_C!r}\nI1 0 n1 TRRANDOM(2 {nt!r} 0 {na!r} 0)\n" + tran, {}
        if kind == "filesource_current":
            rng = np.random.default_rng(seed)
            text = "".join(f"{k} {w!r}\n" for k, w in enumerate((rng.standard_normal(n + 3) * na).tolist()))
            src = (
                f'C1 n1 0 {_C!r}\na1 %i([n1]) cur\n.model cur filesource(file="cur.txt" amploffset=[0] '
                f"amplscale=[1] timeoffset=0 timescale={nt!r} timerelative=false amplstep=false)\n"
            )
            return head + src + tran, {"file": ("cur.txt", text)}
        from PySpice.Spice.Netlist import Circuit

        c = Circuit("drive")
        plan = NoisePlan(file_stem="drive")
        plan.capacitor(c, "1", "n1", _C)
        plan.johnson("n1", None, _R, _T)
        plan.attach(c, nt)
        body = str(c).split("\n", 1)[1]
        fixed = f".options {TRAN_OPTIONS}\n.tran {nt * TSTEP_FRACTION!r} {t_stop!r} 0 {nt!r}\n"
        return head + body + fixed, {"stream": (plan.files(), stream_blocks(plan, nt, n, seed))}

    def run(kind: str, n: int, seed: int, tmp: Path) -> tuple[np.ndarray, float]:
        text, extra = netlist(kind, n, seed)
        d = tmp / f"{kind}-{n}-{seed}"
        d.mkdir()
        noise = {}
        if "file" in extra:
            (d / extra["file"][0]).write_text(extra["file"][1])
        if "stream" in extra:
            noise = {"noise_files": extra["stream"][0], "noise_blocks": extra["stream"][1]}
        res = run_netlist(".title " + text + ".save v(n1)\n.end\n", d, **noise)
        t, v = res.plot["time"], res.plot["v(n1)"]
        grid = np.arange(int(20 * tau / nt), n) * nt
        return np.interp(grid, t, v), res.plot.n_points / n

    rows = {}
    expected = {"trnoise": "pwl", "trrandom": "zoh", "filesource_current": "pwl", "capacitor_drive": "exact"}
    with tempfile.TemporaryDirectory(prefix="thermosim-noise-") as tmp:
        tmp = Path(tmp)
        for kind, theory in expected.items():
            v, ppn = run(kind, n_samples, 1, tmp)
            ratio = float(v.var() / (K_B * _T / _C))
            exp = float(_discrete_ktc_ratio(theory, nt / tau))
            se = float(np.sqrt(2 * tau / (len(v) * nt)))  # relative SE of a variance, τ_int(v²) = τ
            short = [hashlib.sha256(run(kind, 20_000, s, tmp)[0].tobytes()).hexdigest() for s in (7, 7, 8)]
            rows[kind] = {
                "ktc_ratio": ratio,
                "expected_ratio": exp,
                "bias": ratio / exp - 1,
                "bias_se": se,
                "reproducible": short[0] == short[1],
                "seeds_differ": short[0] != short[2],
                "points_per_noise_sample": ppn,
            }
            if verbose:
                r = rows[kind]
                print(
                    f"  {kind}: kT/C ratio {ratio:.4f} vs {exp:.4f} ({r['bias']:+.2%} ± {se:.2%}), "
                    f"reproducible {r['reproducible']}, {ppn:.3f} points/sample",
                    file=sys.stderr,
                )
    if verbose:
        print(
            f"{'mechanism':<20}{'kT/C meas':>10}{'expected':>10}{'bias':>9}{'± SE':>8}{'same seed':>11}"
            f"{'seeds differ':>14}{'points/sample':>15}"
        )
        for kind, r in rows.items():
            print(
                f"{kind:<20}{r['ktc_ratio']:>10.4f}{r['expected_ratio']:>10.4f}{r['bias']:>+9.2%}"
                f"{r['bias_se']:>8.2%}{str(r['reproducible']):>11}{str(r['seeds_differ']):>14}"
                f"{r['points_per_noise_sample']:>15.3f}"
            )
    return {"noise_step_over_tau": nt / tau, "n_samples": n_samples, "mechanisms": rows}


# --- sweeps -----------------------------------------------------------------------------------------


def _ring_rc_table(n: int, steps: int) -> dict:
    """N RC units (1 pF, 1 MΩ) in a ring, each coupled to its two neighbours by 1 MΩ; thermal noise."""
    coupling = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in ((i + 1) % n, (i - 1) % n):
            if j != i:
                coupling[i][j] = 1e-6
    return {
        "name": f"ring{n}",
        "family": "rc",
        "circuit": {"c_f": 1e-12, "r_ohm": 1e6, "coupling_s": coupling, "noise": "thermal"},
        "sim": {"t_stop_s": steps * 3.33e-8, "noise_step_s": 3.33e-8, "burn_in_s": 0.0},
    }


def bench_sweep(verbose: bool = True) -> dict:
    """Process pool with 2 workers vs 1, Dask local cluster vs pool, and ngspice cost per unit per step."""
    from .runs.experiment import noise_blocks, prepare
    from .runs.spec import spec_from_table
    from .runs.sweep import _sweep_from_table
    from .runs.sweep_run import run_sweep
    from .spice.runner import run_netlist

    say = (lambda *a: print(*a, file=sys.stderr)) if verbose else (lambda *a: None)
    # the same 8-point sweep (rc_single, 2e6 noise steps ≈ 4 s of ngspice per point) three ways
    sweep = _sweep_from_table(
        {
            "name": "bench8",
            "base": "rc_single",
            "metrics": ["var_ratio[0]", "n_points"],
            "set": {"sim.t_stop_s": 0.2},
            "axes": [{"key": "circuit.temperature_k", "values": [100.0 * (i + 1) for i in range(8)]}],
        }
    )
    times, tables = {}, {}
    with tempfile.TemporaryDirectory(prefix="thermosim-bench-sweep-") as tmp:
        for label, workers, dask in (("pool1", 1, False), ("pool2", 2, False), ("dask2", 2, True)):
            out = Path(tmp) / label
            t0 = time.perf_counter()
            res = run_sweep(sweep, out, workers=workers, dask=dask, log=open(os.devnull, "w"))
            times[label] = time.perf_counter() - t0
            if res["failed"]:
                raise RuntimeError(f"bench sweep: {res['failed']} points failed ({label})")
            tables[label] = (out / "table.csv").read_text()
            say(f"  8-point sweep, {label}: {times[label]:.2f} s")
        cost = {}
        for n in (8, 64, 512):
            steps = max(20_000, 4_000_000 // n)  # ≥ 1 s of ngspice, so its start-up does not count
            prep = prepare(spec_from_table(_ring_rc_table(n, steps)))
            res = run_netlist(
                prep.netlist,
                Path(tmp) / f"ring{n}",
                noise_files=prep.built.noise.files(),
                noise_blocks=noise_blocks(prep, 1),
            )
            cost[str(n)] = res.wall_s / (n * prep.n_steps)
            say(f"  ring of {n} RC units: {res.wall_s:.2f} s of ngspice for {prep.n_steps} steps")
    figures = {
        "speedup_2_workers": times["pool1"] / times["pool2"],
        "dask_over_pool": times["dask2"] / times["pool2"],
        "same_table_all_executors": len(set(tables.values())) == 1,
        "sweep_s": times,
        "cost_per_unit_step_s": cost,
        "cost_max_over_min": max(cost.values()) / min(cost.values()),
    }
    if verbose:
        print(f"speedup_2_workers   = {figures['speedup_2_workers']:.3f}  (target >= 1.85)")
        print(f"dask_over_pool      = {figures['dask_over_pool']:.3f}  (target within 1 ± 0.10)")
        print(f"identical tables    = {figures['same_table_all_executors']}")
        for n, c in cost.items():
            print(f"cost per unit per step, N = {n:>3}: {c * 1e9:.3f} ns")
        print(f"cost max/min        = {figures['cost_max_over_min']:.2f}  (target <= 2)")
    return figures


def bench_generate(model_path: Path, verbose: bool = True) -> dict:
    """The stage banks in ngspice, measured: one sample of the model at ``model_path`` with its couplings
    as K banks of G elements selected by switched voltage copies (what the family writes), against the
    same couplings as one bank of B sources whose weight is rewritten at every stage change
    (I = Σ_k gate_k·g₀Jᵏ_ij·v(u_j)). Same seed, same noise: CPU seconds, ratio, largest read-out
    difference."""
    import dataclasses
    import re
    import tempfile

    import numpy as np

    from .circuits.staged import gate, num
    from .generative.generate import Protocol, spice_spec
    from .generative.model import Model
    from .runs.experiment import prepare, simulate

    say = (lambda *a: print(*a, file=sys.stderr)) if verbose else (lambda *a: None)
    model = Model.load(model_path)
    spec = spice_spec(model, 3, 1, Protocol())
    prep = prepare(spec)
    p = spec.params
    times, jm = np.asarray(p.stage_at_s), np.asarray(p.stage_coupling)
    lines = [ln for ln in prep.netlist.splitlines() if not re.match(r"^(Bg|Gc)\d", ln)]
    end = max(i for i, ln in enumerate(lines) if ln.lower().startswith(".end"))
    extra = [
        f"Bc{i + 1}_{j + 1} s{i + 1} 0 I=("
        + "+".join(f"{gate(times, k)}*{num(p.g0_s * jm[k, i, j])}" for k in range(len(times)))
        + f")*v(u{j + 1})"
        for i, j in zip(*np.nonzero(np.any(jm, axis=0)), strict=True)
    ]
    rewritten = "\n".join(lines[:end] + extra + lines[end:]) + "\n"
    cpu, read = {}, {}
    for name, net in (("banks of G elements", prep.netlist), ("one bank of B sources, rewritten", rewritten)):
        with tempfile.TemporaryDirectory(prefix="thermosim-bench-") as tmp:
            out = simulate(dataclasses.replace(prep, netlist=net), 1, Path(tmp) / "run")
        cpu[name], read[name] = out.metrics["cpu_s"], out.samples[-1, 64:-1]
        say(f"  K = {len(times)}, {name}: {cpu[name]:.1f} CPU s")
    a, b = cpu.values()
    figures = {
        "stages": len(times),
        "cpu_s": cpu,
        "ratio": b / a,
        "max_readout_difference_v": float(np.abs(np.subtract(*read.values())).max()),
    }
    say(
        f"  the rewritten bank is {figures['ratio']:.1f}x slower; read-outs differ by at most "
        f"{figures['max_readout_difference_v']:.2g} V"
    )
    return figures


def bench_coupling(repeats: int = 3, verbose: bool = True) -> dict:
    """ngspice's cost per step of a dense coupling in each form against n (:mod:`.report.coupling`)."""
    from .report.coupling import bench_coupling as run

    return run(repeats=repeats, verbose=verbose)
