"""``thermosim bench coupling``: ngspice's cost per time step of a dense coupling, per form, against n.

The circuit is the rc family's precision network (equal C to ground, g₀·P_ii to ground, injected white
noise through the capacitors' bottom plates from the seeded filesource, one accepted point per noise
sample) with a random symmetric P of any signs, its off-diagonal g₀·P_ij written in each form of
:mod:`thermosim.circuits.dense`. ``diff`` is the passive differential encoding (x = v⁺ − v⁻, a resistor
pair per coupling, crossed for a positive P_ij; 2n nodes), which needs a diagonally dominant P: it is
measured on P with its diagonal raised to dominance (the cost depends on the structure, not the values).
Each netlist runs at two lengths; the cost per step is the difference of ngspice's CPU seconds
(user + system) over the difference of steps, so parsing and set-up cancel. Forms and sizes are
alternated within each repeat and medians are quoted (the machine may be shared: the load is reported).
Beside it, the lower bound: one dense LU factorisation and solve of the same n (LAPACK, one thread).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = (16, 32, 64, 128)
FORMS = ("vccs", "rpair", "bsum", "summer", "poly", "eig", "diff")
LARGEST = {"poly": 64, "diff": 64}  # slow forms: measured up to this n
STEPS = (500, 2500)
G0_S, C_F, T_NOISE_K = 1e-6, 1e-12, 3e6


def random_precision(n: int, seed: int = 0) -> np.ndarray:
    """A dense symmetric positive-definite n × n matrix with off-diagonals of both signs."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    off = (a + a.T) / np.sqrt(8 * n)  # spectral radius ≈ 1/√2·… < 1
    np.fill_diagonal(off, 0.0)
    return np.eye(n) * 2.0 + off


def netlist(p: np.ndarray, form: str, n_steps: int, stem: str = "bench"):
    """(netlist text, NoisePlan, step) of the precision network of ``p`` with couplings in ``form``."""
    from PySpice.Spice.Netlist import Circuit

    from ..circuits import dense
    from ..physics import K_B
    from ..spice import noise as spice_noise

    n = len(p)
    g = G0_S * p
    circuit, plan = Circuit("thermosim coupling bench"), spice_noise.NoisePlan(file_stem=stem)
    halves = ("p", "m") if form == "diff" else ("n",)
    nodes = [f"{h}{i + 1}" for h in halves for i in range(n)]
    off = g - np.diag(np.diag(g))
    for k, x in enumerate(nodes):
        plan.capacitor(circuit, str(k + 1), x, C_F)
        plan.white(x, None, 2 * K_B * T_NOISE_K * G0_S)
    if form == "diff":  # grounded g_ii − Σ|g_ij| at both halves (raised to dominance), a resistor pair each
        ground = np.diag(g) - np.abs(off).sum(1)
        ground = np.where(ground > 0, ground, G0_S)
        for i in range(n):
            for h in halves:
                circuit.R(f"{h}{i + 1}", f"{h}{i + 1}", circuit.gnd, 1.0 / ground[i])
            for j in i + 1 + np.flatnonzero(off[i, i + 1 :]):
                cross = off[i, j] > 0  # a positive P_ij joins v⁺_i to v⁻_j
                for a, b in (("p", "m"), ("m", "p")) if cross else (("p", "p"), ("m", "m")):
                    circuit.R(f"{a}{b}{i + 1}_{j + 1}", f"{a}{i + 1}", f"{b}{j + 1}", 1.0 / abs(off[i, j]))
    else:
        for i in range(n):
            circuit.R(str(i + 1), nodes[i], circuit.gnd, 1.0 / g[i, i])
        circuit.raw_spice += dense.couple(off, nodes, nodes, "c", form)
    step = spice_noise.sig12(C_F / G0_S / 40)
    plan.attach(circuit, step)
    t_stop = n_steps * step
    text = (
        f"{str(circuit).rstrip()}\n"
        f".options {spice_noise.tran_options(t_stop, step)}\n"
        f".save {' '.join(f'v({x})' for x in nodes)}\n"
        f".tran {step * spice_noise.TSTEP_FRACTION!r} {t_stop!r} 0 {step!r}\n.end\n"
    )
    return text, plan, step


def run_cost(p: np.ndarray, form: str, n_steps: int, seed: int = 1, keep_samples: bool = False):
    """ngspice CPU seconds of one run (and its samples on the noise grid when ``keep_samples``)."""
    from ..spice.noise import stream_blocks
    from ..spice.runner import run_netlist

    text, plan, step = netlist(p, form, n_steps)
    with tempfile.TemporaryDirectory(prefix="thermosim-coupling-") as tmp:
        res = run_netlist(
            text,
            Path(tmp) / "run",
            noise_files=plan.files(),
            noise_blocks=stream_blocks(plan, step, n_steps, seed),
        )
    if not keep_samples:
        return res.cpu_s, None
    names = (
        [f"v(n{i + 1})" for i in range(len(p))] if form != "diff" else [f"v(p{i + 1})" for i in range(len(p))]
    )
    return res.cpu_s, np.column_stack([res.plot[x] for x in names])


def lu_seconds(n: int, repeats: int = 300) -> float:
    """Median seconds of one dense LU factorisation plus one solve of an n × n system: LAPACK dgetrf and
    dgetrs called directly (scipy's wrappers of them; one BLAS thread)."""
    from scipy.linalg import lapack
    from threadpoolctl import threadpool_limits

    a, b = random_precision(n) + np.eye(n) * 40.0, np.ones(n)
    ts = []
    with threadpool_limits(1):
        for _ in range(repeats):
            t0 = time.perf_counter()
            lu, piv, _ = lapack.dgetrf(a)
            lapack.dgetrs(lu, piv, b)
            ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def bench_coupling(sizes=SIZES, forms=FORMS, repeats: int = 3, steps=STEPS, verbose: bool = True) -> dict:
    """The table: median ms per step of each form at each n, the LU bound, ratios; ``uptime`` load."""
    os.environ["OMP_NUM_THREADS"] = "1"
    say = (lambda *a: print(*a, file=sys.stderr)) if verbose else (lambda *a: None)
    load0 = os.getloadavg()
    per: dict = {(f, n): [] for f in forms for n in sizes}
    for r in range(repeats):
        for n in sizes:
            p = random_precision(n)
            order = forms if r % 2 == 0 else tuple(reversed(forms))  # alternate the order
            for f in order:
                if n > LARGEST.get(f, n):
                    continue
                c0, _ = run_cost(p, f, steps[0])
                c1, _ = run_cost(p, f, steps[1])
                per[f, n].append((c1 - c0) / (steps[1] - steps[0]) * 1e3)
                say(f"  repeat {r + 1}/{repeats}, n = {n:4d}, {f:7s}: {per[f, n][-1]:.4f} ms per step")
    lu = {n: lu_seconds(n) * 1e3 for n in sizes}
    table = {f: {str(n): (statistics.median(per[f, n]) if per[f, n] else None) for n in sizes} for f in forms}
    figures = {
        "sizes": list(sizes),
        "forms": list(forms),
        "repeats": repeats,
        "steps": list(steps),
        "ms_per_step": table,
        "lu_ms": {str(n): lu[n] for n in sizes},
        "ratio_to_lu": {
            f: {
                str(n): (v / lu[n] if v is not None else None)
                for n, v in zip(sizes, table[f].values(), strict=True)
            }
            for f in forms
        },
        "load": [load0, os.getloadavg()],
    }
    if verbose:
        print(text_table(figures))
    return figures


LABELS = {
    "vccs": "(a) G element per ordered pair (before)",
    "rpair": "(e) resistor per pair, any sign, + row sums",
    "bsum": "(b) B source per node, Σ_j g_ij·v(j)",
    "summer": "(e) XSPICE summer per node",
    "poly": "(e) G POLY(n) per node",
    "eig": "(c) r = n summing nodes (eigenvectors)",
    "diff": "(d) differential, passive (2n nodes)",
}


def text_table(fig: dict) -> str:
    """The markdown table of :func:`bench_coupling`'s figures: ms per step (× the LU bound)."""
    sizes = fig["sizes"]
    rows = ["| form | " + " | ".join(f"n = {n}" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for f in fig["forms"]:
        cells = []
        for n in sizes:
            v, r = fig["ms_per_step"][f][str(n)], fig["ratio_to_lu"][f][str(n)]
            cells.append("—" if v is None else f"{v:.3g} ({r:.0f}×)" if r >= 10 else f"{v:.3g} ({r:.1f}×)")
        rows.append(f"| {LABELS.get(f, f)} | " + " | ".join(cells) + " |")
    lu = " | ".join(f"{fig['lu_ms'][str(n)]:.3g}" for n in sizes)
    rows.append(f"| dense LU + solve, LAPACK, one thread | {lu} |")
    load = " → ".join(", ".join(f"{a:.1f}" for a in x) for x in fig["load"])
    rows.append(
        f"\nms of ngspice CPU (user + system) per time step (× the LU bound); {fig['repeats']} alternated "
        f"repeats, medians; load average {load}"
    )
    return "\n".join(rows)
