"""Run a linear-algebra problem in ngspice: sample, estimate A⁻¹ or A⁻¹b, error vs time against the law.

One run = one circuit spec (``problem.circuit_table``) simulated with a seeded noise stream; the worker
(:func:`sample_moments`) returns prefix moments at the curve's checkpoints, never the samples, so the
parent does all the judging. Cost: the ngspice run (≈ 6 µs per step at d = 8, 14 µs at 16, 53 µs at 32
for a dense rc compilation) plus O(n·d²) for the moments.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

from . import law
from .problem import RC, RLC, Problem, circuit_table


def sample_moments(table: dict, seed: int, n_checkpoints: int = 16) -> dict:
    """Worker: simulate ``table`` with noise ``seed``; prefix raw second moments and means of the node
    voltages at geometric checkpoints, plus the run's bookkeeping (n_eff from its autocorrelation).

    A lean path (prepare → ngspice → grid samples): the full per-run analysis of ``simulate`` (product-
    series error bars, KS, energy) would cost more than the simulation here.
    """
    import hashlib
    import tempfile
    from pathlib import Path

    from ..analysis.sampling import grid_samples
    from ..analysis.stats import tau_int_columns
    from ..runs.experiment import noise_blocks, prepare
    from ..runs.spec import spec_from_table
    from ..spice.runner import run_netlist

    spec = spec_from_table(table)
    prep = prepare(spec)
    d = len(table["circuit"]["precision"])
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="thermosim-linalg-") as tmp:
        res = run_netlist(
            prep.netlist,
            Path(tmp) / "run",
            noise_files=prep.built.noise.files(),
            noise_blocks=noise_blocks(prep, seed),
            timeout_s=spec.sim.timeout_s,
        )
    t = res.plot["time"]
    x = np.column_stack([res.plot[v] for v in prep.built.variables[:d]])
    x, _, _ = grid_samples(t, x, prep.noise_step_s, prep.burn_in_s)
    ratio = prep.built.tau_slow_s / prep.noise_step_s
    ns = law.checkpoints(len(x), int(20 * ratio), n_checkpoints)
    with threadpool_limits(limits=1, user_api="blas"):  # same bits everywhere
        m2, m1 = law.prefix_moments(x, ns)
        tau = tau_int_columns(x, thin=max(1, int(ratio / 10)))
    return {
        "ns": ns,
        "m2": m2,
        "m1": m1,
        "step_s": prep.noise_step_s,
        "seed": seed,
        "n_eff_run": float(len(x) / tau.max()),
        "ngspice_s": res.wall_s,
        "wall_s": time.perf_counter() - t0,
        "samples_sha256": hashlib.sha256(np.ascontiguousarray(x, "<f8").tobytes()).hexdigest(),
        "actual": prep.built.info.get("actual"),
        "mean_theory": np.asarray(prep.built.law().mean)[:d],
    }


def modes_for(problem: Problem, circuit: str, step_s: float, alpha: float) -> law.Modes:
    """The nominal circuit's independent modes (law.rc_modes / law.rlc_modes) on its grid."""
    from ..physics import K_B

    p = problem.a / alpha
    if circuit == "rc":
        return law.rc_modes(p, RC["c_f"], RC["g0_s"], K_B * RC["noise_temperature_k"], step_s)
    return law.rlc_modes(
        p, RLC["c_unit_f"], RLC["l_h"], RLC["r_parallel_ohm"], K_B * RLC["temperature_k"], step_s
    )


def judge(problem: Problem, circuit: str, res: dict, readout: dict) -> dict:
    """Errors of the estimates at every checkpoint vs exact numpy, beside the statistical law.

    inverse: Â⁻¹ = cov_to_inverse·M̂₂ (raw second moment), rel_err = ‖Â⁻¹ − A⁻¹‖_F/‖A⁻¹‖_F;
    solve: x̂ = v̄/(v_unit·α), rel_err = ‖x̂ − A⁻¹b‖/‖A⁻¹b‖. Times in simulated seconds.
    """
    modes = modes_for(problem, circuit, res["step_s"], readout["alpha"])
    ns = res["ns"]
    if problem.b is None:
        exact = np.linalg.inv(problem.a)
        est = res["m2"] * readout["cov_to_inverse"]
        err = np.linalg.norm(est - exact, axis=(1, 2)) / np.linalg.norm(exact)
        expected = law.covariance_law(modes, ns)
        answer = est[-1]
    else:
        exact = np.linalg.solve(problem.a, problem.b)
        est = res["m1"] / (readout["v_unit"] * readout["alpha"])
        err = np.linalg.norm(est - exact, axis=1) / np.linalg.norm(exact)
        mean_norm = np.linalg.norm(res["mean_theory"])
        expected = law.mean_law(modes, mean_norm, ns)
        answer = est[-1]
    z = (err - expected["rel_err_expected"]) / expected["rel_err_se"]
    return {
        "d": problem.d,
        "circuit": circuit,
        "kind": "inverse" if problem.b is None else "solve",
        "source": problem.source,
        "cond": float(np.linalg.cond(problem.a)),
        "seed": res["seed"],
        "samples": int(ns[-1]),
        "step_s": res["step_s"],
        "t_s": (ns * res["step_s"]).tolist(),
        "n": ns.tolist(),
        "rel_err_curve": err.tolist(),
        "rel_err_expected_curve": np.asarray(expected["rel_err_expected"]).tolist(),
        "rel_err_se_curve": np.asarray(expected["rel_err_se"]).tolist(),
        "n_eff_curve": np.asarray(expected["n_eff"]).tolist(),
        "rel_err": float(err[-1]),
        "rel_err_expected": float(expected["rel_err_expected"][-1]),
        "rel_err_se": float(expected["rel_err_se"][-1]),
        "z": float(z[-1]),
        "d_eff": float(expected.get("d_eff", problem.d)),
        "n_eff": float(expected["n_eff"][-1]),
        "n_eff_run": res["n_eff_run"],
        "answer": answer.tolist(),
        "exact": exact.tolist(),
        "ngspice_s": res["ngspice_s"],
        "wall_s": res["wall_s"],
        "samples_sha256": res["samples_sha256"],
    }


def floor_exact(run: dict, actual: dict | None, readout: dict) -> float | None:
    """‖answer of the circuit as built − exact‖/‖exact‖: the floor a run converges to (None if ideal)."""
    if actual is None:
        return None
    d, exact = run["d"], np.asarray(run["exact"])
    if run["kind"] == "inverse":
        answer = np.asarray(actual["cov"])[:d, :d] * readout["cov_to_inverse"]
    else:
        answer = np.asarray(actual["mean"])[:d] / (readout["v_unit"] * readout["alpha"])
    return float(np.linalg.norm(answer - exact) / np.linalg.norm(exact))


def finish(problem: Problem, circuit: str, res: dict, table: dict, readout: dict, nonideal) -> dict:
    """``judge`` plus the spec, the read-out constants and the floor of the circuit as built."""
    out = judge(problem, circuit, res, readout)
    out |= {"nonideal": nonideal or {}, "spec": table, "alpha": readout["alpha"], "actual": res["actual"]}
    out["floor_exact"] = floor_exact(out, res["actual"], readout)
    return out


def run_problem(
    problem: Problem, circuit: str = "rc", samples: int = 200_000, seed: int = 1, nonideal: dict | None = None
) -> dict:
    """Compile, simulate and judge one problem in this process."""
    table, readout = circuit_table(problem, circuit, samples, seed, nonideal)
    return finish(problem, circuit, sample_moments(table, seed), table, readout, nonideal)


def run_many(
    jobs: list[tuple[Problem, str, int, int, dict | None]],
    workers: int,
    log=sys.stderr,
    dask: bool = False,
    scheduler: str | None = None,
) -> list[dict]:
    """Problems (problem, circuit, samples, seed, nonideal) in parallel, one ngspice per worker (local
    processes, or Dask: a local cluster with ``dask``, the one at ``scheduler``); each run's noise seed is
    its job's, results in the order of ``jobs`` — the same on any executor; progress lines on ``log``."""
    from ..runs.executor import describe, make_executor, results_in_order

    prepared = [circuit_table(p, c, n, s, ni) for p, c, n, s, ni in jobs]
    with make_executor(workers, dask, scheduler) as ex:  # a bad scheduler fails before any run
        print(f"[linalg] {len(jobs)} run(s) on {describe(workers, dask, scheduler)}", file=log, flush=True)
        t0 = time.perf_counter()
        futures = [ex.submit(sample_moments, t, job[3]) for (t, _), job in zip(prepared, jobs, strict=True)]
        results = []
        for i, res in enumerate(results_in_order(futures)):
            p, c, n, _, ni = jobs[i]
            out = finish(p, c, res, *prepared[i], ni)
            results.append(out)
            print(
                f"[linalg] {i + 1}/{len(jobs)} {out['kind']} d={p.d} on {c}, {n:,} samples"
                f"{' ' + str(ni) if ni else ''}: rel_err {out['rel_err']:.4f} "
                f"(law {out['rel_err_expected']:.4f} ± {out['rel_err_se']:.4f}) "
                f"at {time.perf_counter() - t0:.0f} s",
                file=log,
                flush=True,
            )
    return results
