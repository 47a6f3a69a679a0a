"""Generation with one trained model, three ways: digital twin, ngspice circuit, transistor-level units.

Protocol (model time): every unit starts at x = 0 and relaxes UNCOUPLED for ``relax`` (V₀ = J₂x² + J₄x⁴:
the uncoupled equilibrium, where the noising protocol ended, to e^(−4·relax) in the variance); the class
bank selects the sample's bias vectors; then stages 0 … K−1 of the trained terms hold for t_f/K each.
Two read-outs of the 64 visible units (:mod:`.model`): the final voltages decoded, and the trained-branch
current averaged over the last ``window`` and divided by the drive.

* :func:`twin` — Euler–Maruyama in numpy, all samples at once (step ``dt`` of the config).
* :func:`spice` — the behavioural quartic circuit (family ``quartic``, staged terms and sense
  integrators of :mod:`thermosim.circuits.staged`), one sample per netlist, netlists in parallel
  processes or on a Dask cluster (:func:`executor`). With ``transistor=True`` every unit is the
  five-transistor cmos_quartic cell (family cmos_network), the trained terms added behaviourally at its
  node.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SpecError, positive
from .model import N_VISIBLE, Model, base_force, base_potential, decode


@dataclass(frozen=True)
class Protocol:
    """Generation settings (model time units)."""

    relax: float = 1.0  # uncoupled relaxation from x = 0 before the trained terms switch on
    window: float = 0.1  # current read-out: trained field averaged over the last `window`
    gain: float = 1.05  # current read-out gain: s = gain·⟨h⟩/drive (the integrator's C_q divided by it)

    def validate(self, model: Model) -> None:
        positive(self.relax, "generate.relax", allow_zero=True)
        positive(self.window, "generate.window")
        positive(self.gain, "generate.gain")
        c = model.config
        if self.window > c.t_f or self.window < c.dt:
            raise SpecError(f"generate.window = {self.window} must be between dt = {c.dt} and t_f = {c.t_f}")


def twin(model: Model, classes: np.ndarray, seed: int, protocol: Protocol | None = None, snapshots: int = 0):
    """The protocol in numpy (one BLAS thread: the products are small) — see :func:`_twin`."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        return _twin(model, classes, seed, protocol or Protocol(), snapshots)


def _twin(model: Model, classes: np.ndarray, seed: int, protocol: Protocol, snapshots: int):
    """The protocol in numpy for len(classes) samples. Returns ``x`` final states, ``current`` and
    ``voltage`` read-outs (scaled pixels, n × 64), ``heat_kt`` per sample and ``snapshots`` (S × n × 64,
    S evenly spaced states over the run, S = ``snapshots``).

    Heat (Sekimoto, in kT): the sum over the protocol's segments of V_seg(x_start) − V_seg(x_end), i.e.
    the relaxations plus the work V_new(x) − V_old(x) of every switch (class bank on, each stage change).
    Cost: (relax + t_f)/dt steps of an n × 64 by 64 × 64 product.
    """
    c = model.config
    classes = np.asarray(classes, int)
    rng = np.random.default_rng(seed)
    amp = np.sqrt(2 * c.kt * c.dt)
    n_relax, n_win = round(protocol.relax / c.dt), max(1, round(protocol.window / c.dt))
    total = n_relax + c.n_steps
    x = np.zeros((len(classes), N_VISIBLE))
    heat = base_potential(c, x)
    keep = set(np.linspace(0, total, snapshots).round().astype(int)) if snapshots else set()
    snaps = [x.copy()] if 0 in keep else []
    for j in range(n_relax):
        x = x - base_force(c, x) * c.dt + amp * rng.standard_normal(x.shape)
        if j + 1 in keep:
            snaps.append(x.copy())
    heat -= base_potential(c, x)
    acc, stage = np.zeros_like(x), -1
    for j in range(c.n_steps):
        k = int(c.stage_of(j))
        if k != stage:
            heat += model.potential(x, k, classes)
            if stage >= 0:
                heat -= model.potential(x, stage, classes)
            stage = k
        x = x - model.force(x, k, classes) * c.dt + amp * rng.standard_normal(x.shape)
        if j >= c.n_steps - n_win:
            acc += model.field(x, k, classes)
        if n_relax + j + 1 in keep:
            snaps.append(x.copy())
    heat = (heat - model.potential(x, stage, classes)) / c.kt
    return {
        "x": x,
        "current": protocol.gain * acc / n_win / c.drive,
        "voltage": decode(c, x),
        "heat_kt": heat,
        "snapshots": np.array(snaps),
    }


@dataclass(frozen=True)
class CircuitScale:
    """Physical scale of the behavioural circuit: τ = C/g₀ is one model time unit; V₀ volts per unit;
    the current read-out's full scale: a pixel s = ±1 charges the integrator to ±``sense_full_v``."""

    c_f: float = 1e-12
    g0_s: float = 1e-6
    v_unit_v: float = 0.1
    steps_per_unit: int = 100  # noise step τ/100 (twin: Δt = 1e-3; the circuit integrates trapezoidally)
    sense_full_v: float = 0.5


# What the circuit elements realise (model units; at g₀ = 1 µS, V₀ = 0.1 V): coupling transconductors
# |g₀J| ≤ 5 µS, bias DACs |g₀V₀b| ≤ 0.5 µA, own-term transconductors 2J₂ within ±10 µS and 4J₄ in
# (0.4, 20] µS-per-unit². Trained values beyond them are clipped (``clipped`` counts them).
LIMITS = {"coupling": 5.0, "bias": 5.0, "j2": (-5.0, 5.0), "j4": (0.1, 5.0)}


def clipped(model: Model) -> dict:
    """How many trained values lie outside :data:`LIMITS` (each is clipped to its range in the circuit)."""
    c = model.config
    lo2, hi2 = LIMITS["j2"]
    lo4, hi4 = LIMITS["j4"]
    return {
        "coupling": int(np.sum(np.abs(model.coupling) > LIMITS["coupling"])),
        "bias": int(np.sum(np.abs(model.bias) > LIMITS["bias"])),
        "j2": int(np.sum(((c.j2 + model.dj2) < lo2) | ((c.j2 + model.dj2) > hi2))),
        "j4": int(np.sum(((c.j4 + model.dj4) < lo4) | ((c.j4 + model.dj4) > hi4))),
    }


def sense_capacitor(model: Model, protocol: Protocol, scale: CircuitScale, tau_s: float) -> float:
    """The integrator of the current read-out: v(q) = (g₀V₀T_w/C_q)·⟨h⟩, so C_q = g₀V₀·T_w·drive/(gain·V_fs)
    makes v(q) = V_fs·s with s = gain·⟨h⟩/drive (T_w = window·τ)."""
    t_w = protocol.window * tau_s
    return scale.g0_s * scale.v_unit_v * t_w * model.config.drive / (protocol.gain * scale.sense_full_v)


def staged_terms(model: Model, cls: int, tau_s: float, protocol: Protocol, scale: CircuitScale) -> dict:
    """The staged keys of one sample of class ``cls`` (switch times, per-stage values within
    :data:`LIMITS`, sense integrators: :func:`sense_capacitor`)."""
    c = model.config
    k = c.stages
    t0 = protocol.relax * tau_s
    tup = lambda a: tuple(map(tuple, np.asarray(a, float)))  # noqa: E731
    return {
        "stage_at_s": tuple(t0 + np.arange(k) * c.t_f * tau_s / k),
        "stage_coupling": tuple(
            tup(j) for j in np.clip(model.coupling, -LIMITS["coupling"], LIMITS["coupling"])
        ),
        "stage_j2": tup(np.clip(c.j2 + model.dj2, *LIMITS["j2"])),
        "stage_j4": tup(np.clip(c.j4 + model.dj4, *LIMITS["j4"])),
        "stage_bias": tup(np.clip(model.bias[:, cls], -LIMITS["bias"], LIMITS["bias"])),
        "sense": N_VISIBLE,
        "sense_from_s": t0 + (c.t_f - protocol.window) * tau_s,
        "sense_c_f": sense_capacitor(model, protocol, scale, tau_s),
    }


def protocol_sim(model: Model, tau_s: float, seed: int, scale: CircuitScale, protocol: Protocol):
    """relax + t_f of model time at τ/steps_per_unit, all of it recorded (no burn-in)."""
    from ..runs.spec import SimSpec

    t_stop = (protocol.relax + model.config.t_f) * tau_s
    return SimSpec(t_stop_s=t_stop, noise_step_s=tau_s / scale.steps_per_unit, burn_in_s=0.0, seed=seed)


def spice_spec(model: Model, cls: int, seed: int, protocol: Protocol, scale: CircuitScale = CircuitScale()):
    """The behavioural run of one sample: family quartic, uncoupled until ``relax``, then the stages."""
    from ..circuits.quartic import QuarticParams
    from ..runs.spec import Spec

    c, tau = model.config, scale.c_f / scale.g0_s
    params = QuarticParams(
        n=N_VISIBLE,
        j2=c.j2,
        j4=c.j4,
        kt=c.kt,
        initial_x=0.0,
        c_f=scale.c_f,
        g0_s=scale.g0_s,
        v_unit_v=scale.v_unit_v,
        **staged_terms(model, cls, tau, protocol, scale),
    )
    sim = protocol_sim(model, tau, seed, scale, protocol)
    return Spec(name="generative", family="quartic", params=params, sim=sim)


def transistor_spec(model: Model, cls: int, seed: int, protocol: Protocol, fit: dict, scale=CircuitScale()):
    """The cmos_network spec of one sample: transistor units (their own scale: 10 pF, 10 µS, τ = 1 µs,
    0.1 V per unit), corrected to the ideal unit and given the trained stages from ``relax`` on."""
    from ..circuits.cmos.cubic import CmosQuarticParams
    from ..circuits.cmos.network import CmosNetworkParams
    from ..runs.spec import Spec

    base = CmosQuarticParams()
    tau = base.tau_s
    unit = CircuitScale(base.c_f, base.g0_s, base.v_unit_v, scale.steps_per_unit, scale.sense_full_v)
    params = CmosNetworkParams(
        n=N_VISIBLE,
        unit_fit=(fit["j2_fit"], fit["j4_fit"], fit["bias_fit"]),
        **staged_terms(model, cls, tau, protocol, unit),
    )
    sim = protocol_sim(model, tau, seed, scale, protocol)
    return Spec(name="generative_cmos", family="cmos_network", params=params, sim=sim), unit


def _run_one(args) -> tuple[np.ndarray, np.ndarray, dict]:
    """One netlist: (final states, current read-out in scaled pixels, costs)."""
    model, cls, seed, protocol, scale, fit = args
    from ..runs.experiment import prepare, simulate

    if fit is None:
        spec = spice_spec(model, cls, seed, protocol, scale)
    else:
        spec, scale = transistor_spec(model, cls, seed, protocol, fit, scale)
    prep = prepare(spec)
    with tempfile.TemporaryDirectory(prefix="thermosim-generate-") as tmp:
        out = simulate(prep, seed, Path(tmp) / "run")
    zero = prep.built.info.get("vref_v", 0.0)  # the transistor units' x = 0 sits at vref
    last = out.samples[-1]
    heat = [r["value"] for r in out.metrics["energy"] if r["term"] == "heat" and r["per"] == "run"]
    cost = {
        "cpu_s": out.metrics["cpu_s"],
        "heat_kt": heat[0] if heat else float("nan"),
        "supply_j": out.metrics["supply_power_w"] * prep.t_stop_s,
        "n_points": out.metrics["n_points"],
    }
    from ..circuits.staged import sense_window

    x = (last[:N_VISIBLE] - zero) / scale.v_unit_v
    # v(q) = V_fs·s for the nominal window; the calibration channel gives the window actually integrated
    t_eff = sense_window(spec.params, last[-1])
    nominal = prep.t_stop_s - spec.params.sense_from_s
    cost["window_s"] = t_eff
    return x, last[N_VISIBLE:-1] / scale.sense_full_v * nominal / t_eff, cost


def executor(workers: int, dask: bool = False, scheduler: str | None = None):
    """The executor of the netlists (a context manager): ``workers`` local processes, or Dask (a local
    cluster of ``workers``, or the cluster at ``scheduler``); ValueError (one line) when Dask is missing
    or the scheduler cannot be reached. One BLAS thread per worker: the processes are the parallelism."""
    from ..runs.executor import make_executor

    os.environ["OMP_NUM_THREADS"] = "1"  # before any worker starts: the pool's and a local cluster's
    # fork is fastest, but not after JAX has started its threads in this process (the demo runs the DDPM
    # first): a forked child could deadlock on a lock held by one of them, so spawn then
    method = "spawn" if "jax" in sys.modules else None
    return make_executor(workers, dask, scheduler, start_method=method)


def spice(
    model: Model,
    classes: np.ndarray,
    seed: int,
    protocol: Protocol = Protocol(),
    workers: int | None = None,
    scale: CircuitScale = CircuitScale(),
    log=None,
    transistor: bool = False,
    pool: cf.Executor | None = None,
) -> dict:
    """One netlist per sample (netlist k: class classes[k], seed ``seed + k``) run by ``workers`` processes,
    or on ``pool`` (an executor of :func:`executor`, e.g. a Dask cluster's), results in the order of k:
    the same bits on any executor.

    Returns ``x`` (final states, model units), ``current`` and ``voltage`` read-outs (scaled pixels) and
    ``cost``: CPU and wall seconds, and per sample the Sekimoto heat in kT from the circuit's own waveforms
    (behavioural) or the supply energy in J (transistor level, whose J₂, J₄, b are first measured from one
    unit's DC characteristic).
    """
    from ..runs.executor import results_in_order

    t0 = time.perf_counter()
    fit = None
    if transistor:
        with tempfile.TemporaryDirectory(prefix="thermosim-unit-") as tmp:
            fit = transistor_unit_fit(Path(tmp) / "dc")
    jobs = [(model, int(c), seed + k, protocol, scale, fit) for k, c in enumerate(classes)]
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    outs = []
    what = "transistor-level" if transistor else "ngspice"
    with contextlib.nullcontext(pool) if pool is not None else executor(workers) as ex:
        futures = [ex.submit(_run_one, job) for job in jobs]
        for k, out in enumerate(results_in_order(futures)):
            outs.append(out)
            if log and ((k + 1) % max(1, len(jobs) // 8) == 0 or k + 1 == len(jobs)):
                log(f"[generate] {what} netlists: {k + 1}/{len(jobs)}")
    costs = [o[2] for o in outs]
    cost = {
        "cpu_s": sum(c["cpu_s"] for c in costs),
        "wall_s": time.perf_counter() - t0,
        "workers": workers,
        "netlists": len(jobs),
        "points_per_netlist": costs[0]["n_points"],
    }
    if transistor:
        cost |= {"unit_fit": fit, "supply_j_per_sample": float(np.mean([c["supply_j"] for c in costs]))}
    else:
        heat = np.array([c["heat_kt"] for c in costs])
        cost |= {"heat_kt_per_sample": float(heat.mean()), "heat_kt_samples": heat.tolist()}
    x = np.array([o[0] for o in outs])
    return {
        "x": x,
        "current": np.array([o[1] for o in outs]),
        "voltage": decode(model.config, x),
        "cost": cost,
    }


def transistor_unit_fit(run_dir: Path) -> dict:
    """(J₂, J₄, b) that one default cmos_quartic unit realises: its ngspice DC characteristic, fitted."""
    from ..circuits import FAMILIES
    from ..circuits.cmos.cubic import CmosQuarticParams
    from ..spice.runner import run_netlist

    built = FAMILIES["cmos_quartic"].build(CmosQuarticParams())
    dc = run_netlist(built.law().reference.netlist, run_dir, analysis="dc")
    info = built.law().reference.theory(dc.plot)[3]
    return {k: info[k] for k in ("j2_fit", "j4_fit", "bias_fit")}
