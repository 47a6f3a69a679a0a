"""Generation with one set of trained parameters, three ways: digital twin, ngspice circuit, transistors.

The published protocol (Whitelam, PRL 2026): every unit starts at x = 0 and relaxes UNCOUPLED for t_f
(V₀ = J₂x² + J₄x⁴: it reaches the uncoupled equilibrium, which is where the noising protocol ended);
then the trained parameters (couplings, biases, δJ₂, δJ₄) switch on and the computer runs t_f more; the
visible units are read at the end and decoded to pixels (:func:`.model.decode`).

* :func:`twin` — Euler–Maruyama in numpy, all samples at once (step ``dt`` of the config).
* :func:`spice` — the behavioural quartic circuit (family ``quartic``) in ngspice: unit = node on C,
  restoring current g₀V₀(2J₂x + 4J₄x³), couplings g₀J_ij as transconductors reading gated copies of
  the unit voltages; ``replicas`` independent copies can share one netlist (block-diagonal couplings),
  netlists run in parallel processes — one replica per process was the faster choice here
  (`thermosim bench generate`). With ``transistor=True`` every unit is the five-transistor cmos_quartic
  cell (family cmos_network), the trained terms and couplings added behaviourally at the switch.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .model import Model, base_force, base_potential


def twin(model: Model, n: int, seed: int, snapshots: int = 0) -> dict:
    """The protocol in numpy for n samples: ``x`` final states (n × N), ``heat_kt`` per sample, ``snapshots``.

    Heat (Sekimoto, in kT) released along each path: Q = V₀(x₀) − V₀(x_s) + V_θ(x_s) − V_θ(x_f), the two
    relaxations plus the work V_θ(x_s) − V₀(x_s) of switching the trained terms on at state x_s.
    ``snapshots`` (S × n × N) are S states evenly spaced over the 2·t_f (S = ``snapshots``; 0: none).
    """
    c = model.config
    rng = np.random.default_rng(seed)
    amp = np.sqrt(2 * c.kt * c.dt)
    x = np.zeros((n, c.n_units))
    heat = base_potential(c, x)
    k_total = 2 * c.n_steps
    keep = set(np.linspace(0, k_total, snapshots).round().astype(int)) if snapshots else set()
    snaps = [x.copy()] if 0 in keep else []
    for k in range(1, k_total + 1):
        force = base_force(c, x) if k <= c.n_steps else model.force(x)
        x = x - force * c.dt + amp * rng.standard_normal(x.shape)
        if k == c.n_steps:
            heat = heat - base_potential(c, x) + model.potential(x)
        if k in keep:
            snaps.append(x.copy())
    heat = (heat - model.potential(x)) / c.kt
    return {"x": x, "heat_kt": heat, "snapshots": np.array(snaps)}


@dataclass(frozen=True)
class CircuitScale:
    """Physical scale of the behavioural circuit: τ = C/g₀ is one model time unit; V₀ volts per unit."""

    c_f: float = 1e-12
    g0_s: float = 1e-6
    v_unit_v: float = 0.1
    steps_per_unit: int = 100  # noise step τ/100 (twin: Δt = 1e-3; the circuit integrates trapezoidally)


def trained_terms(model: Model, replicas: int) -> dict:
    """The switched parameters of ``replicas`` independent copies (block-diagonal couplings), as the
    keyword arguments both circuit families take."""
    tile = lambda v: tuple(float(a) for a in np.tile(v, replicas))  # noqa: E731
    coupling = np.kron(np.eye(replicas), model.coupling)
    return {
        "kt": model.config.kt,
        "coupling": tuple(tuple(float(a) for a in row) for row in coupling),
        "coupled_j2": tile(model.j2_units),
        "coupled_j4": tile(model.j4_units),
        "coupled_bias": tile(model.bias),
    }


def protocol_sim(model: Model, tau_s: float, seed: int, scale: CircuitScale):
    """2·t_f of model time at τ/steps_per_unit, all of it recorded (no burn-in)."""
    from ..spec import SimSpec

    t_stop = 2 * model.config.t_f * tau_s
    return SimSpec(t_stop_s=t_stop, noise_step_s=tau_s / scale.steps_per_unit, burn_in_s=0.0, seed=seed)


def spice_spec(model: Model, replicas: int, seed: int, scale: CircuitScale = CircuitScale()):
    """The behavioural run: family quartic, untrained units until t_f, trained terms from t_f on."""
    from ..circuits.quartic import QuarticParams
    from ..spec import Spec

    c, tau = model.config, scale.c_f / scale.g0_s
    params = QuarticParams(
        j2=c.j2,
        j4=c.j4,
        couple_at_s=c.t_f * tau,
        initial_x=0.0,
        c_f=scale.c_f,
        g0_s=scale.g0_s,
        v_unit_v=scale.v_unit_v,
        **trained_terms(model, replicas),
    )
    return Spec(name="generative", family="quartic", params=params, sim=protocol_sim(model, tau, seed, scale))


def _run_one(args) -> tuple[np.ndarray, dict]:
    """One netlist: the behavioural (``fit`` None) or transistor-level network; final states and costs."""
    model, replicas, seed, scale, fit = args
    from ..experiment import prepare, simulate

    spec = (
        spice_spec(model, replicas, seed, scale)
        if fit is None
        else transistor_spec(model, replicas, seed, fit, scale)
    )
    prep = prepare(spec)
    with tempfile.TemporaryDirectory(prefix="thermosim-generate-") as tmp:
        out = simulate(prep, seed, Path(tmp) / "run")
    zero = prep.built.info.get("vref_v", 0.0)  # the transistor units' x = 0 sits at vref
    last = (out.samples[-1] - zero) / scale.v_unit_v  # model units at 2·t_f, every replica
    heat = [r["value"] for r in out.metrics["energy"] if r["term"] == "heat" and r["per"] == "run"]
    cost = {
        "cpu_s": out.metrics["cpu_s"],
        "heat_kt": heat[0] if heat else float("nan"),
        "supply_j": out.metrics["supply_power_w"] * prep.t_stop_s,
        "n_points": out.metrics["n_points"],
    }
    return last.reshape(replicas, model.config.n_units), cost


def spice(
    model: Model,
    n: int,
    seed: int,
    replicas: int = 1,
    workers: int | None = None,
    scale: CircuitScale = CircuitScale(),
    log=None,
    transistor: bool = False,
) -> tuple[np.ndarray, dict]:
    """(final states n × N in model units, cost): ⌈n/replicas⌉ netlists run by ``workers`` processes.

    Netlist k gets seed ``seed + k``. ``transistor``: every unit a five-transistor cell (family
    cmos_network), its realised J₂, J₄, b measured first from one unit's DC characteristic. The cost dict:
    CPU seconds (ngspice + analysis), wall seconds, per sample the Sekimoto heat in kT from the circuit's
    own waveforms (behavioural) or the supply energy in J (transistor-level). Measured here (96 units):
    one replica per process over 2 workers is 2.7× faster than 8 replicas in one netlist.
    """
    import time

    t0 = time.perf_counter()
    fit = None
    if transistor:
        with tempfile.TemporaryDirectory(prefix="thermosim-unit-") as tmp:
            fit = transistor_unit_fit(Path(tmp) / "dc")
    jobs = [(model, replicas, seed + k, scale, fit) for k in range(-(-n // replicas))]
    workers = workers or os.cpu_count() or 1
    outs, costs = [], []
    os.environ["OMP_NUM_THREADS"] = "1"  # one BLAS thread per worker: the processes are the parallelism
    what = "transistor-level" if transistor else "ngspice"
    # fork is fastest, but not after JAX has started its threads in this process (the demo runs the DDPM
    # first): a forked child could deadlock on a lock held by one of them, so spawn then
    context = multiprocessing.get_context("spawn") if "jax" in sys.modules else None
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        for k, (states, cost) in enumerate(pool.map(_run_one, jobs)):
            outs.append(states)
            costs.append(cost)
            if log and ((k + 1) % max(1, len(jobs) // 8) == 0 or k + 1 == len(jobs)):
                log(f"[generate] {what} netlists: {k + 1}/{len(jobs)} ({replicas} sample(s) each)")
    total = len(jobs) * replicas
    out = {
        "cpu_s": sum(c["cpu_s"] for c in costs),
        "wall_s": time.perf_counter() - t0,
        "netlists": len(jobs),
        "replicas": replicas,
        "points_per_netlist": costs[0]["n_points"],
    }
    if transistor:
        out |= {"unit_fit": fit, "supply_j_per_sample": sum(c["supply_j"] for c in costs) / total}
    else:
        out["heat_kt_per_sample"] = sum(c["heat_kt"] for c in costs) / total
    return np.concatenate(outs)[:n], out


def transistor_unit_fit(run_dir: Path) -> dict:
    """(J₂, J₄, b) that one default cmos_quartic unit realises: its ngspice DC characteristic, fitted."""
    from ..circuits import FAMILIES
    from ..circuits.cmos.cubic import CmosQuarticParams
    from ..spice.runner import run_netlist

    built = FAMILIES["cmos_quartic"].build(CmosQuarticParams())
    dc = run_netlist(built.reference.netlist, run_dir, analysis="dc")
    info = built.reference.theory(dc.plot)[3]
    return {k: info[k] for k in ("j2_fit", "j4_fit", "bias_fit")}


def transistor_spec(model: Model, replicas: int, seed: int, fit: dict, scale: CircuitScale = CircuitScale()):
    """The cmos_network spec of ``replicas`` copies: transistor units, trained terms switched on at t_f.

    The cmos_quartic cell has its own scale (10 pF, 10 µS: τ = 1 µs, 0.1 V per unit), so only the
    step count per τ is taken from ``scale``.
    """
    from ..circuits.cmos.cubic import CmosQuarticParams
    from ..circuits.cmos.network import CmosNetworkParams
    from ..spec import Spec

    tau = CmosQuarticParams().tau_s
    params = CmosNetworkParams(
        n=model.config.n_units * replicas,
        couple_at_s=model.config.t_f * tau,
        unit_fit=(fit["j2_fit"], fit["j4_fit"], fit["bias_fit"]),
        **trained_terms(model, replicas),
    )
    sim = protocol_sim(model, tau, seed, scale)
    return Spec(name="generative_cmos", family="cmos_network", params=params, sim=sim)
