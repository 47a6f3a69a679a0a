"""The mismatch floor: component tolerances σ bias the sampled inverse; measure it, predict it.

For a circuit built with tolerance factors 1 + σ·z (circuits/nonideal.py), the sampler converges to the
stationary covariance Σ_σ of the circuit AS BUILT (Lyapunov, exact), not to the nominal Σ₀ ∝ A⁻¹, so
the error of Â⁻¹ flattens at the floor

    floor_exact(σ) = ‖Σ_σ − Σ₀‖_F / ‖Σ₀‖_F.

First-order perturbation theory: Σ_σ = Σ₀ + σ·Σ′ + O(σ²), Σ′ the derivative of the Lyapunov solution
along the drawn deviations (a forward difference at σ = 1e-6, exact to O(1e-6)), i.e.
δ(A⁻¹) ≈ −A⁻¹ δA A⁻¹ with δA the effective matrix error. For a passive rlc network in equilibrium
Σv = kT·C⁻¹ exactly, so δA = α·δC/c_unit (the capacitance errors; L and R drop out) and the textbook
formula is exact to first order; for rc the transconductor pairs mismatch independently (G becomes
non-symmetric) and C mismatch reshapes the injected noise, both of which the Lyapunov derivative keeps.

Measured floor: the same noise seed drives the σ = 0 and σ > 0 circuits (common random numbers), so
‖Â⁻¹_σ − Â⁻¹_0‖/‖A⁻¹‖ isolates the bias from the statistical error, which the two runs share to O(σ).
The direct estimate √max(rel_err² − law², 0) of a single run is reported beside it.
"""

from __future__ import annotations

import sys

import numpy as np

from .problem import Problem, circuit_table
from .run import run_many

EPS = 1e-6  # relative step of the first-order (derivative) computation


def built_covariance(problem: Problem, circuit: str, nonideal: dict) -> tuple[np.ndarray, np.ndarray]:
    """(Σ as built, nominal Σ₀) on the node voltages (V²), from the builder's exact Lyapunov theory."""
    from ..circuits import FAMILIES
    from ..runs.spec import spec_from_table

    table, _ = circuit_table(problem, circuit, 1000, 1, nonideal)
    built = FAMILIES[circuit].build(spec_from_table(table).params)
    d = problem.d
    nominal = np.asarray(built.law().cov)[:d, :d]
    actual = built.info.get("actual")
    return (nominal if actual is None else np.asarray(actual["cov"])[:d, :d]), nominal


def predicted_floors(problem: Problem, circuit: str, sigma: float, mismatch_seed: int) -> dict:
    """Exact (Lyapunov of the mismatched circuit) and first-order floors for one mismatch draw."""
    if sigma == 0:
        return {"exact_floor": 0.0, "perturbation_floor": 0.0}
    actual, nominal = built_covariance(
        problem, circuit, {"mismatch_sigma": sigma, "mismatch_seed": mismatch_seed}
    )
    tiny, _ = built_covariance(problem, circuit, {"mismatch_sigma": EPS, "mismatch_seed": mismatch_seed})
    first = (tiny - nominal) * (sigma / EPS)
    norm = np.linalg.norm(nominal)
    return {
        "exact_floor": float(np.linalg.norm(actual - nominal) / norm),
        "perturbation_floor": float(np.linalg.norm(first) / norm),
    }


def mismatch_sweep(
    problem: Problem,
    circuit: str = "rc",
    sigmas=(0.0, 0.001, 0.01, 0.05),
    mismatch_seeds: int = 3,
    samples: int = 400_000,
    seed: int = 1,
    workers: int = 2,
    log=sys.stderr,
    dask: bool = False,
    scheduler: str | None = None,
) -> dict:
    """Run σ = 0 once and every σ > 0 with ``mismatch_seeds`` draws, all on noise ``seed``; returns the
    per-σ lists (``sigma``, ``floor`` (mean paired estimate), ``floor_sd`` (spread over draws),
    ``floor_direct``, ``exact_floor``, ``perturbation_floor``, ``ratio`` = floor/perturbation) and the
    runs. ``dask``, ``scheduler``: run on Dask (:func:`.run.run_many`)."""
    sigmas = sorted({float(s) for s in sigmas} | {0.0})
    for s in sigmas:
        if not 0 <= s <= 0.2:
            raise ValueError(f"--sigma values must be between 0 and 0.2 (relative), got {s:g}")
    if mismatch_seeds < 1:
        raise ValueError(f"--mismatch-seeds must be >= 1, got {mismatch_seeds}")
    draws = [(0.0, 0)] + [(s, m) for s in sigmas if s > 0 for m in range(mismatch_seeds)]
    jobs = [
        (problem, circuit, samples, seed, {"mismatch_sigma": s, "mismatch_seed": m} if s else None)
        for s, m in draws
    ]
    runs = run_many(jobs, workers, log, dask, scheduler)
    ref = np.asarray(runs[0]["answer"])
    exact_inv = np.linalg.inv(problem.a)
    rows = []
    for (s, m), r in zip(draws, runs, strict=True):
        paired = float(np.linalg.norm(np.asarray(r["answer"]) - ref) / np.linalg.norm(exact_inv))
        direct = float(np.sqrt(max(r["rel_err"] ** 2 - r["rel_err_expected"] ** 2, 0.0)))
        rows.append(
            {"sigma": s, "mismatch_seed": m, "floor": paired, "floor_direct": direct}
            | predicted_floors(problem, circuit, s, m)
            | {k: r[k] for k in ("rel_err", "rel_err_expected", "rel_err_se", "t_s", "rel_err_curve")}
            | {"rel_err_expected_curve": r["rel_err_expected_curve"], "ngspice_s": r["ngspice_s"]}
        )
        log.write(
            f"[linalg] σ = {s:g} draw {m}: floor {paired:.4g} (exact {rows[-1]['exact_floor']:.4g}, "
            f"first order {rows[-1]['perturbation_floor']:.4g})\n"
        )
    out: dict = {key: [] for key in ("sigma", "floor", "floor_sd", "floor_direct", "exact_floor")}
    out |= {"perturbation_floor": [], "ratio": [], "ratio_sd": [], "rel_err": []}
    for s in sigmas:
        sel = [r for r in rows if r["sigma"] == s]
        f = np.array([r["floor"] for r in sel])
        pf = np.array([r["perturbation_floor"] for r in sel])
        ratio = f / pf if s > 0 else np.array([np.nan])
        out["sigma"].append(s)
        out["floor"].append(float(f.mean()))
        out["floor_sd"].append(float(f.std(ddof=1)) if len(f) > 1 else 0.0)
        out["floor_direct"].append(float(np.mean([r["floor_direct"] for r in sel])))
        out["exact_floor"].append(float(np.mean([r["exact_floor"] for r in sel])))
        out["perturbation_floor"].append(float(pf.mean()))
        out["ratio"].append(float(ratio.mean()) if s > 0 else None)
        out["ratio_sd"].append(float(ratio.std(ddof=1)) if s > 0 and len(ratio) > 1 else None)
        out["rel_err"].append(float(np.mean([r["rel_err"] for r in sel])))
    return out | {
        "d": problem.d,
        "circuit": circuit,
        "source": problem.source,
        "seed": seed,
        "samples": samples,
        "mismatch_seeds": mismatch_seeds,
        "rel_err_expected": runs[0]["rel_err_expected"],
        "rel_err_se": runs[0]["rel_err_se"],
        "runs": rows,
        "ngspice_s": float(sum(r["ngspice_s"] for r in runs)),
    }
