"""One run, one way: spec → built circuit → netlist → ngspice (+ seeded noise) → samples → metrics."""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_limits

from .. import __version__
from ..analysis import distances, energy
from ..analysis.gaussian import compare_gaussian
from ..analysis.sampling import GridStream, grid_samples
from ..analysis.stats import check, ks_check, tau_int_columns
from ..circuits import FAMILIES, Built, Theory
from ..errors import SpecError
from ..physics import K_B
from ..spice import noise as spice_noise
from ..spice.errors import SpiceError, timestep_message
from ..spice.runner import ngspice_version, run_netlist
from .spec import Spec, check_steps

MIN_ALIGNMENT = 0.99  # share of simulator points that must sit on the noise grid
# ngspice 39 starts a transient with a step of min(t_stop/100, tstep)/100; the start-up ramp lands on
# the noise grid only when tstep wins (see spice.noise.TSTEP_FRACTION), i.e. for t_stop ≥ 100·tstep:
# shorter runs are extended to that many noise steps
MIN_STEPS = math.ceil(100 * spice_noise.TSTEP_FRACTION)


@dataclass(frozen=True)
class Prepared:
    spec: Spec
    built: Built
    noise_step_s: float
    n_steps: int
    burn_in_s: float
    netlist: str

    @property
    def t_stop_s(self) -> float:
        return self.n_steps * self.noise_step_s


def prepare(spec: Spec) -> Prepared:
    """Build the circuit and its netlist text; resolve the automatic noise step and burn-in."""
    built = FAMILIES[spec.family].build(spec.params)
    sim = spec.sim
    sig12 = spice_noise.sig12  # automatic values: the same netlist on every machine
    step = sig12(built.tau_fast_s / 10) if sim.noise_step_s == "auto" else sim.noise_step_s
    burn = sig12(10 * built.tau_slow_s) if sim.burn_in_s == "auto" else sim.burn_in_s
    why = f" (auto: τ_fast {built.tau_fast_s:g} s / 10)" if sim.noise_step_s == "auto" else ""
    try:
        n_steps = max(MIN_STEPS, check_steps(sim.t_stop_s, step, why=why))
    except SpecError as err:
        raise SpecError(f"{spec.path or spec.name}: {err}") from None
    if burn >= n_steps * step:
        why = (
            f"10 × the slowest relaxation time, {built.tau_slow_s:g} s"
            if sim.burn_in_s == "auto"
            else "sim.burn_in_s"
        )
        raise SpecError(
            f"{spec.path or spec.name}: sim.t_stop_s = {sim.t_stop_s:g} s is not longer than the burn-in "
            f"of {burn:g} s ({why})"
        )
    plan = built.noise
    plan.file_stem = spec.name
    plan.attach(built.circuit, step)
    text = (
        f"{str(built.circuit).rstrip()}\n"
        f"* thermosim {__version__}: spec '{spec.name}', family '{spec.family}'.\n"
        "* Noise: the filesource reads\n"
        f"* {', '.join(plan.files())} (lines 'k w1 ... wn', time k x {step!r} s),\n"
        f"* made by `thermosim noise {spec.name}`.\n"
        f".options {spice_noise.tran_options(n_steps * step, step)}\n"
        f".save {' '.join(saved_vectors(built))}\n"
        f".tran {step * spice_noise.TSTEP_FRACTION!r} {n_steps * step!r} 0 {step!r}\n"
        ".end\n"
    )
    return Prepared(spec=spec, built=built, noise_step_s=step, n_steps=n_steps, burn_in_s=burn, netlist=text)


def saved_vectors(built: Built) -> list[str]:
    """The variables, then each supply's current and its terminal voltages (ground is not a vector)."""
    out = list(built.variables)
    for s in built.energy.supplies:
        out += [f"i({s.source})"] + [f"v({n})" for n in (s.plus, s.minus) if n is not None]
    return list(dict.fromkeys(out))


def noise_blocks(prep: Prepared, seed: int):
    """The seeded noise text of a prepared run, block by block (one chunk per noise file)."""
    return spice_noise.stream_blocks(prep.built.noise, prep.noise_step_s, prep.n_steps, seed)


def supply_metrics(built: Built, plot, t_from_s: float, family_metrics: dict) -> dict:
    """Power drawn from the declared supplies over t ≥ t_from_s, and the energy per independent sample.

    Only sources declared as supplies count; noise drives are never summed (docs/architecture.md). A circuit
    without supplies (passive RC/RLC, behavioural units) draws 0 W. Independent samples: the family's
    own count when it gives one (a p-bit's 0/1 series), else the n_eff of the sampled variables.
    """
    t = plot["time"]
    power = {}
    for s in built.energy.supplies:
        v = plot[f"v({s.plus})"] - (plot[f"v({s.minus})"] if s.minus else 0.0)
        power[s.source] = energy.supply_power(t, v, plot[f"i({s.source})"], t_from_s)
    total = float(sum(power.values()))
    out = {"supply_power_w": total, "supply_power_by_source_w": power}
    window_j = total * (t[-1] - t_from_s)
    for key, per in (("independent_samples", "sample"), ("cycles", "cycle")):
        if family_metrics.get(key):
            out[f"supply_energy_per_{per}_j"] = window_j / family_metrics[key]
    return out


@dataclass
class RunOutput:
    metrics: dict
    samples: np.ndarray  # (n, d) V, on the noise grid after burn-in
    sample_times_s: np.ndarray
    cdfs: tuple = ()  # the exact marginal CDFs the run was judged by (after a DC reference), for figures


def simulate(
    prep: Prepared,
    seed: int,
    run_dir: Path,
    keep: bool = False,
    progress: Callable[[int], None] | None = None,
    on_samples: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> RunOutput:
    """Run ngspice on the prepared circuit with noise seeded by ``seed`` and judge it against theory.

    ``progress(steps)`` is called a few times a second with the number of noise steps simulated so far
    (read off the growing raw file: one row of 8-byte values per accepted point). ``on_samples(samples,
    times)`` is called once they are final, before the analysis (which never changes them).
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    spec, built = prep.spec, prep.built
    saved = saved_vectors(built)
    dc = None
    if isinstance(built.theory, Theory) and built.theory.reference is not None:  # the circuit's own DC
        dc = _dc_reference(built.theory, run_dir, spec)  # characteristic first (a fraction of a second)
    for rel, data in built.files:  # a user's netlist's include files, checked again by the runner
        (run_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / rel).write_bytes(data)
    # the samples' hash and sorted columns, made while ngspice writes them (checked below)
    stream = GridStream(list(built.variables), prep.noise_step_s, prep.burn_in_s)
    try:
        res = run_netlist(
            prep.netlist,
            run_dir,
            noise_files=built.noise.files(),
            noise_blocks=noise_blocks(prep, seed),
            on_output=(lambda size: progress(size // (8 * (1 + len(saved))))) if progress else None,
            timeout_s=spec.sim.timeout_s,
            keep=keep,
            meanwhile=lambda: _while_ngspice_runs(built),
            on_rows=stream.feed,
        )
    except SpiceError as err:
        if not (built.linear and re.search("timestep too small", err.ngspice_message, re.I)):
            raise
        raise SpiceError(
            timestep_message(err.ngspice_message, linear=True),
            netlist=err.netlist,
            log=err.log,
            ngspice_message=err.ngspice_message,
        ) from None
    law = res.meanwhile
    mean_theory, cov_theory, cdfs, potential = law.mean, law.cov, law.cdfs, law.potential
    reference_info: dict = {}
    if law.reference is not None:
        dc = dc or _dc_reference(law, run_dir, spec)
        mean_theory, cov_theory, cdfs, reference_info, potential = law.reference.theory(dc.plot)
    t_analysis = time.perf_counter()
    streamed = res.streamed and stream.ok and not stream.empty  # then its samples are grid_samples'
    if streamed:
        samples, k, alignment = stream.result()
    else:
        x = np.column_stack([res.plot[v] for v in built.variables])
        samples, k, alignment = grid_samples(res.plot["time"], x, prep.noise_step_s, prep.burn_in_s)
    times = k * prep.noise_step_s
    if on_samples is not None:
        on_samples(samples, times)
    names = list(built.variables)
    # the grid oversamples the fastest mode 10×: estimate correlation times on every few samples
    thin = max(1, int(built.tau_fast_s / prep.noise_step_s / 2.5))
    # one BLAS thread: same summation order, same bits, everywhere. Statistical caveats (a series too
    # short for its autocorrelation time, ...) are recorded with the result instead of printed mid-run.
    with warnings.catch_warnings(record=True) as caught, threadpool_limits(limits=1, user_api="blas"):
        warnings.simplefilter("always")
        # the distances from the exact law on other threads (the marginals' sorted columns mostly made
        # while ngspice ran) while this one runs the moments: numpy lets go of the GIL in all of them,
        # and each result is what one thread would compute, bit for bit
        digest = stream.hexdigest() if streamed else _sha256(samples)
        ordered = stream.ordered if streamed else None
        marginal = _Background(marginal_distances, samples, mean_theory, cov_theory, cdfs, ordered)
        tau = tau_int_columns(samples, thin=thin)
        kl = None
        if _known(mean_theory, cov_theory) and len(samples) / tau.max() > 10 * samples.shape[1]:
            kl = _Background(gaussian_kl, samples, mean_theory, cov_theory, thin)  # n_eff > 10·d
        metrics, checks = compare_gaussian(
            samples, prep.noise_step_s, mean_theory, cov_theory, names, thin=thin, tau=tau
        )
        tau_samples = np.asarray(metrics["tau_int_s"]) / prep.noise_step_s
        checks += [
            ks_check(f"ks[{names[i]}]", samples[:, i], cdf, tau_samples[i])
            for i, cdf in enumerate(cdfs)
            if cdf is not None
        ]
        checks.append(check("noise_grid_alignment", alignment, 1.0, 1.0 - MIN_ALIGNMENT, 1.0))
        family_metrics: dict = dict(reference_info)
        if built.analyse is not None:
            extra, extra_checks = built.analyse(samples, prep.noise_step_s)
            family_metrics.update(extra)
            checks += extra_checks
        family_metrics.setdefault("independent_samples", metrics["n_eff"])
        family_metrics.update(supply_metrics(built, res.plot, prep.burn_in_s, family_metrics))
        family_metrics.update((kl.result() if kl is not None else {}) | marginal.result())
        family_metrics["energy"] = energy_rows(
            spec, built, samples, times, mean_theory, cov_theory, potential, family_metrics
        )
    family_metrics["warnings"] = sorted({str(w.message).splitlines()[0] for w in caught})
    window = times[-1] - times[0]
    cpu = res.cpu_s + (dc.cpu_s if dc is not None else 0.0) + time.process_time() - cpu0
    ess = family_metrics["independent_samples"]
    family_metrics |= {"cpu_s": cpu, "ess_per_sim_s": ess / window, "ess_per_cpu_s": ess / cpu}
    n_noise = prep.n_steps
    metrics = {
        "circuit": spec.name,
        "family": spec.family,
        "seed": seed,
        "thermosim_version": __version__,
        "ngspice_version": ngspice_version(),
        "wall_s": None,  # filled below
        "ngspice_s": res.wall_s,
        "n_points": int(res.plot.n_points),
        "n_noise_samples": n_noise,
        "points_per_noise_sample": res.plot.n_points / n_noise,
        "points_per_sim_s": res.plot.n_points / prep.t_stop_s,
        "noise_step_s": prep.noise_step_s,
        "t_stop_s": prep.t_stop_s,
        "burn_in_s": prep.burn_in_s,
        "tau_fast_s": built.tau_fast_s,
        "tau_slow_s": built.tau_slow_s,
        "grid_alignment": alignment,
        "variables": names,
        **metrics,
        "mean_theory": np.asarray(mean_theory).tolist() if metrics["var_theory"] else None,
        "samples_sha256": digest,
        **family_metrics,
        "info": built.info,
        "checks": [c.to_dict() for c in checks],
        "passed": verdict(checks),
    }
    metrics["wall_s"] = time.perf_counter() - t0
    # where the wall time went (docs/development.md, "Engine overhead"); run_spec adds start-up and writing
    metrics["timing_s"] = {
        "prepare": t_analysis - t0 - res.wall_s - res.read_s,  # DC reference, netlist, pipes, clean-up
        "ngspice": res.wall_s,
        "read": res.read_s,
        "analysis": time.perf_counter() - t_analysis,
        "ngspice_cpu": res.cpu_s,
        "noise_cpu": res.noise_cpu_s,
    }
    return RunOutput(metrics=metrics, samples=samples, sample_times_s=times, cdfs=tuple(cdfs))


def _dc_reference(law: Theory, run_dir: Path, spec: Spec):
    return run_netlist(law.reference.netlist, run_dir / "dc", timeout_s=spec.sim.timeout_s, analysis="dc")


def _while_ngspice_runs(built: Built) -> Theory:
    """What a run needs after ngspice and can get while it runs: the exact law when the builder deferred
    it, the scipy modules the analysis loads (~0.15 s of imports) and threadpoolctl's first look at the
    loaded libraries (3 ms; later ones take 0.8 ms)."""
    import scipy.linalg  # noqa: F401 - the Gaussian KL's Cholesky factors
    import scipy.special  # noqa: F401 - normal CDFs

    ThreadpoolController()
    return built.law()


def verdict(checks: list) -> bool | None:
    """True when every check passed, False when one failed, None when nothing but the noise grid was
    checked: a circuit with no exact law (a nonlinear netlist) is measured, not passed."""
    if all(c.name == "noise_grid_alignment" for c in checks) and all(c.passed for c in checks):
        return None
    return all(c.passed for c in checks)


def simulate_scratch(prep: Prepared, seed: int | None = None) -> RunOutput:
    """``simulate`` in a temporary run directory (removed afterwards); seed defaults to the spec's."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix=f"thermosim-{prep.spec.name}-") as tmp:
        return simulate(prep, prep.spec.sim.seed if seed is None else seed, Path(tmp) / "run")


def marginal_distances(samples: np.ndarray, mean_theory, cov_theory, cdfs, ordered=None) -> dict:
    """Per variable the histogram KL and Wasserstein-1 against the exact marginal (a family's CDF, else
    the normal one of the theory's moments); {} without an exact law. Sorts each column once, unless
    ``ordered()`` gives them sorted."""
    if not _known(mean_theory, cov_theory):
        return {}
    sd = np.sqrt(np.diag(cov_theory))
    marginals = [
        cdfs[i] if i < len(cdfs) and cdfs[i] is not None else distances.normal_cdf(mean_theory[i], sd[i])
        for i in range(samples.shape[1])
    ]
    # both distances need sorted columns (and ignore the order)
    columns = ordered() if ordered is not None else np.sort(samples, axis=0)
    return {
        "hist_kl": distances.marginal_hist_kl(columns, marginals).tolist(),
        "wasserstein1": distances.wasserstein1(columns, marginals).tolist(),
    }


def gaussian_kl(samples: np.ndarray, mean_theory, cov_theory, thin: int) -> dict:
    """The Gaussian KL of the samples against the exact law, with its expected size from n_eff (for
    samples whose n_eff exceeds 10·d: a sample covariance far from singular)."""
    kl = distances.sample_gaussian_kl(samples, mean_theory, cov_theory, thin=thin)
    return {"gaussian_kl": kl["kl"], "gaussian_kl_expected": kl["kl_expected"]}


def _known(mean_theory, cov_theory) -> bool:
    return bool(np.all(np.isfinite(cov_theory)) and np.all(np.isfinite(mean_theory)))


def _sha256(samples: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(samples, "<f8")).hexdigest()


class _Background(threading.Thread):
    """``f(*args)`` in a thread started at once; :meth:`result` waits for it (and raises what it raised)."""

    def __init__(self, f, *args) -> None:
        super().__init__(name="thermosim-analysis", daemon=True)
        self._call, self._out, self._err = (f, args), None, None
        self.start()

    def run(self) -> None:
        try:
            self._out = self._call[0](*self._call[1])
        except BaseException as err:  # noqa: BLE001 - handed to the caller by result()
            self._err = err

    def result(self):
        self.join()
        if self._err is not None:
            raise self._err
        return self._out


def energy_rows(
    spec, built: Built, samples, times, mean_theory, cov_theory, potential, fm: dict
) -> list[dict]:
    """The run's energy table (thermosim.analysis.energy): supply, heat, readout, programming, bound."""
    e = spec.energy
    if potential is None and np.all(np.isfinite(cov_theory)):
        potential = energy.gaussian_potential(mean_theory, cov_theory)
    heat, note = None, "no potential: the dynamics are not a gradient flow, so no Sekimoto heat"
    if potential is not None:
        heat = energy.sekimoto_heat(samples, times, potential)["heat_kt"]
        note = "Sekimoto heat V(x₀) − V(x_f) + switching work over the window"
    window = times[-1] - times[0]
    return energy.energy_table(
        supply_j=fm["supply_power_w"] * window,
        supplies=[s.source for s in built.energy.supplies],
        window_s=window,
        samples=fm["independent_samples"],
        heat_kt=heat,
        heat_note=note,
        kt_j=built.energy.kt_j or K_B * e.temperature_k,
        visible=built.energy.visible or len(built.variables),
        parameters=built.energy.parameters,
        temperature_k=e.temperature_k,
        adc_bits=e.adc_bits,
        adc_fom_j=e.adc_fom_j,
        program_bits=e.program_bits,
        dac_unit_cap_f=e.dac_unit_cap_f,
        dac_v=e.dac_v,
        samples_per_write=e.samples_per_write,
    )
