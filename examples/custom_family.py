"""Your own circuit family, end to end: define it, run it in ngspice, sweep it and plot it.

An RC ladder — N capacitors to ground joined in a chain by resistors, the first to ground — with Johnson
noise on every resistor. At one temperature it is a passive network in equilibrium, so the node voltages
are independent with variance kT/C whatever the resistors (equipartition): the exact theory the runs are
judged against.

    python examples/custom_family.py [OUTDIR]      # default: a fresh folder under the system's temp dir

In a notebook, paste the cells in order; the figures then show inline (this script saves them instead).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PySpice.Spice.Netlist import Circuit

import thermosim as ts
from thermosim.physics import K_B


# --- 1. The family: a frozen dataclass of [circuit] keys (units in the names) and a builder ------------
@dataclass(frozen=True)
class LadderParams:
    n: int = 3  # nodes in the chain
    c_f: float = 1e-12  # each node's capacitance to ground
    r_ohm: float = 1e5  # each resistor of the chain (the first one to ground)
    temperature_k: float = 300.0  # of every resistor


@ts.family("rc_ladder", LadderParams)
def build_ladder(p: LadderParams) -> ts.Built:
    """An RC ladder with Johnson noise on every resistor; exact law N(0, kT/C · I)."""
    circuit = Circuit("rc ladder")
    plan = ts.NoisePlan()  # places the noise sources and the capacitors they drive
    nodes = [f"n{i + 1}" for i in range(p.n)]
    for i, node in enumerate(nodes):
        plan.capacitor(circuit, str(i + 1), node, p.c_f)
        before = None if i == 0 else nodes[i - 1]
        circuit.R(str(i + 1), node, circuit.gnd if before is None else before, p.r_ohm)
        plan.johnson(node, before, p.r_ohm, p.temperature_k)
    # conductance matrix of the chain: its rates C⁻¹G set the noise step and the burn-in
    g = (2 * np.eye(p.n) - np.eye(p.n, k=1) - np.eye(p.n, k=-1)) / p.r_ohm
    g[-1, -1] = 1 / p.r_ohm
    rates = np.linalg.eigvalsh(g / p.c_f)
    return ts.Built(
        circuit=circuit,
        noise=plan,
        variables=tuple(f"v({node})" for node in nodes),
        theory=ts.Theory(mean=np.zeros(p.n), cov=K_B * p.temperature_k / p.c_f * np.eye(p.n)),
        tau_fast_s=1 / rates.max(),
        tau_slow_s=1 / rates.min(),
        energy=ts.Energy(kt_j=K_B * p.temperature_k),
        linear=True,
    )


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    print(ts.describe("rc_ladder"))

    # --- 2. A spec file names the family and its settings ------------------------------------------------
    spec = out / "ladder.toml"
    spec.write_text(
        'name = "ladder"\nfamily = "rc_ladder"\n'
        "[circuit]\nn = 3\nc_f = 1e-12\nr_ohm = 1e5\n"
        "[sim]\nt_stop_s = 1e-3\nseed = 1\n"
    )

    # --- 3. Run it: seeded noise, judged against the exact law --------------------------------------------
    result = ts.run(spec, out=out / "ladder")
    print(result)
    for c in result.checks:
        print(f"  {c.name:20s} measured {c.measured:.4g}, expected {c.expected:.4g} ± {c.se:.2g}: {c.passed}")

    # --- 4. Sweep it: the temperature over a decade; the variance ratio to theory must stay 1 -------------
    sweep = out / "ladder_temperature.toml"
    sweep.write_text(
        f'name = "ladder_temperature"\nbase = "{spec.as_posix()}"\n'
        'metrics = ["var_ratio[0]", "tau_int_max_s"]\n'
        '[[axes]]\nkey = "circuit.temperature_k"\nspacing = "log"\nstart = 30.0\nstop = 300.0\nnum = 3\n'
    )
    table = ts.sweep(sweep, out=out / "sweep", workers=2)
    print(table[["circuit.temperature_k", "var_ratio[0]", "status"]].to_string(index=False))

    # --- 5. Plot: figures take ax= and return it ----------------------------------------------------------
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
    ts.plot(result, "trace", ax=axes[0])
    ts.plot(result, "autocorr", ax=axes[1])
    axes[2].errorbar(table["circuit.temperature_k"], table["var_ratio[0]"], fmt="o")
    axes[2].axhline(1.0, color="0.5", lw=0.8)
    axes[2].set(xscale="log", xlabel="temperature [K]", ylabel="Var v(n1) / (kT/C)")
    temps = table["circuit.temperature_k"]
    axes[2].set_xticks(temps, [f"{t:.0f}" for t in temps], minor=False)
    axes[2].set_xticks([], minor=True)
    fig.savefig(out / "ladder.png", dpi=100)
    print(f"wrote {out / 'ladder.png'}")
    return 0 if result.passed and (table["status"] == "ok").all() else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="ladder-"))))
