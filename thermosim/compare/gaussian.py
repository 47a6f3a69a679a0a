"""The Gaussian task of `thermosim compare`: every sampler of one linear law, judged by the same metrics.

Laws (each an Ornstein–Uhlenbeck process dx = −A x dt + dW, E[dW dWᵀ] = D dt, realised by an ``rc``
circuit with injected noise; the exact covariance Σ solves A Σ + Σ Aᵀ = D):

* ``gauss4`` — circuits/gauss4.toml: a 4×4 precision P on equal capacitors (A ∝ P: a normal drift);
* ``random8`` — a random 8×8 precision P = I + W Wᵀ/8 (W ~ N(0, 1), seed :data:`RANDOM8_SEED`), equal
  capacitors (normal drift);
* ``nonnormal4`` — four nodes on unequal capacitors (0.5–4 pF) with resistors to ground and resistive
  couplings, each node's injected noise at the Johnson level of its grounded resistor: A = C⁻¹G is not
  symmetric and the whitened drift D^{−½} A D^{½} is not normal, so thermox's transition rule is wrong.

Samplers: exact Cholesky draws of Σ, thermox's OU sampler (records every ``THERMOX_DT_TAU`` slowest
relaxation times), the circuit in ngspice (noise steps τ_fast/10, independent samples from its measured
autocorrelation), and a DDPM trained on exact draws (:func:`gauss_ddpm_config`, ancestral, 10/50/200
steps, x̂₀ bounded at :data:`GAUSS_CLIP` σ).
Every sample set is judged in units of the exact σ of each variable (Σ → its correlation matrix): the
Gaussian KL of the sample fit with its null size from the effective sample size, the relative covariance
error ‖Σ̂ − Σ‖_F/‖Σ‖_F, the quadratic-kernel MMD² against exact draws with its permutation floor, the
effective sample size (ESS) per CPU second of this machine and, for the circuit, per second of device
time. Energy per sample: the circuit's own per-independent-sample lines; digital samplers MACs × J/MAC
(45 nm, A100) and measured CPU time.
"""

from __future__ import annotations

import time

import numpy as np

from ..analysis.distances import sample_gaussian_kl
from ..analysis.mmd import mmd_test
from ..analysis.stats import cov_rel_error, covariance_with_se, ess_summary

N_SAMPLES = 20_000  # per exact or thermox sampler
N_DDPM = 5_000  # per DDPM setting (the costly sampler): KL null size 1.4e-3 (d = 4) to 4.4e-3 (d = 8)
THERMOX_DT_TAU = 2.0  # thermox records every 2 slowest relaxation times (nearly independent rows)
RANDOM8_SEED = 8
CIRCUIT_ESS = 6000  # the circuits' run lengths target about this many independent samples
STEPS = (10, 50, 200)


GAUSS_CLIP = 8.0  # x̂₀ bound in σ units: never reached by the data (P(|z| > 8) ≈ 1e-15); stops divergence


def gauss_ddpm_config():
    """The DDPM for 4–8-dimensional standardized Gaussians: 128 wide, 10 000 steps (≈ 15 CPU s), ε-prediction.

    ε, not the digits' v: on these laws v-prediction doubled the 10-step Gaussian KL (gauss4 0.16 vs 0.08,
    random8 0.33 vs 0.14) and matched ε at 50 and 200 steps, so ε keeps the digital side at its strongest.
    """
    from ..digital.ddpm import DDPMConfig

    return DDPMConfig(width=128, blocks=2, time_features=16, train_steps=10_000, warmup=500, target="eps")


def task_tables() -> dict[str, dict]:
    """The three laws as ``rc`` spec tables (SI units), each with its capacitance and conductance matrices."""
    from ..runs.spec import load_spec

    gauss4 = load_spec("gauss4")
    p4 = np.asarray(gauss4.params.precision, float)
    rng = np.random.default_rng(RANDOM8_SEED)
    w = rng.standard_normal((8, 8))
    p8 = np.eye(8) + w @ w.T / 8
    c_nn = np.array([0.5e-12, 4e-12, 1e-12, 2e-12])
    r_nn = np.array([1e6, 0.5e6, 2e6, 1e6])
    k_nn = 1e-6 * np.array([[0, 1.5, 0, 0.5], [1.5, 0, 1.0, 0], [0, 1.0, 0, 2.0], [0.5, 0, 2.0, 0]])
    tables = {}
    for name, p in (("gauss4", p4), ("random8", p8)):
        c_f, g0 = float(gauss4.params.c_f), float(gauss4.params.g0_s)
        circuit = {"precision": p.tolist(), "c_f": c_f, "g0_s": g0, "noise": "injected"}
        circuit["noise_temperature_k"] = float(gauss4.params.noise_temperature_k)
        tables[name] = {"circuit": circuit, "c": c_f * np.eye(len(p)), "g": g0 * p, "drift": "normal"}
    circuit = {
        "c_f": c_nn.tolist(),
        "r_ohm": r_nn.tolist(),
        "coupling_s": k_nn.tolist(),
        "noise": "injected",
        "noise_temperature_k": 3.0e6,
    }
    g_nn = np.diag(1 / r_nn + k_nn.sum(axis=1)) - k_nn
    tables["nonnormal4"] = {"circuit": circuit, "c": np.diag(c_nn), "g": g_nn, "drift": "non-normal"}
    return tables


def judge(x: np.ndarray, corr: np.ndarray, exact: np.ndarray, tau: float, seed: int) -> dict:
    """Metrics of standardized samples x against the exact correlation matrix (rows tau apart ≈ 1)."""
    kl = sample_gaussian_kl(x, np.zeros(len(corr)), corr, tau=tau)
    cov, se = covariance_with_se(x[:: max(1, int(np.ceil(tau)))])
    err, err_se = cov_rel_error(cov, corr, se)
    m = mmd_test(x, exact, tau_x=tau, tau_y=1.0, kernel="quadratic", max_n=2000, seed=seed)
    return {
        "gaussian_kl": kl["kl"],
        "gaussian_kl_expected": kl["kl_expected"],
        "cov_rel_err": err,
        "cov_rel_err_se": err_se,
        "mmd2": m["mmd2"],
        "mmd_floor": m["floor"],
        "mmd_p": m["p_value"],
    }


def digital_row(method: str, x: np.ndarray, cpu_s: float, macs: int, law: dict, seed: int, dt=1.0) -> dict:
    """One digital sampler's row: metrics, ESS per CPU second, energy lines per sample."""
    from ..digital.energy import digital_energy_rows

    ess = ess_summary(x, dt, cpu_s)
    tau = len(x) / ess["ess"]
    energy = digital_energy_rows(macs, cpu_s / ess["ess"])
    return {
        "method": method,
        "digital": True,
        **judge(x, law["corr"], law["exact"], tau, seed),
        "ess": ess["ess"],
        "ess_per_cpu_s": ess["ess_per_cpu_s"],
        "ess_per_device_s": None,
        "macs_per_sample": macs,
        "energy": energy,
        "energy_per_sample_J": energy[0]["value"],
    }


def run_task(name: str, table: dict, seed: int, models, log) -> dict:
    """All samplers on one law; ``models`` is the folder of cached DDPMs."""
    from ..analysis.theory import lyapunov_covariance
    from ..digital import samplers
    from ..digital.ddpm import train_or_load
    from ..runs.experiment import prepare, simulate_scratch
    from ..runs.spec import spec_from_table
    from .verdict import headline_energy

    spec_table = {
        "name": f"compare_{name}",
        "family": "rc",
        "circuit": table["circuit"],
        "sim": {"seed": seed},
    }
    spec_table["sim"]["t_stop_s"] = 1.0
    from ..circuits import FAMILIES

    built = FAMILIES["rc"].build(spec_from_table(spec_table).params)
    sigma = np.asarray(built.law().cov, float)
    a = np.linalg.solve(table["c"], table["g"])
    d = a @ sigma + sigma @ a.T  # the diffusion the circuit's Σ implies (= C⁻¹ S C⁻¹)
    if not np.allclose(lyapunov_covariance(a, d), sigma, rtol=1e-9, atol=1e-12 * np.abs(sigma).max()):
        raise RuntimeError(f"{name}: the circuit's covariance does not solve its Lyapunov equation")
    sd = np.sqrt(np.diag(sigma))
    corr = sigma / np.outer(sd, sd)
    rng = np.random.default_rng(seed)
    law = {"corr": corr, "exact": rng.multivariate_normal(np.zeros(len(sd)), corr, size=N_SAMPLES)}
    slowest = float(np.min(np.linalg.eigvals(a).real))
    dt = THERMOX_DT_TAU / slowest
    rows = []
    x, cpu = samplers.cholesky_samples(corr, N_SAMPLES, seed + 1)
    rows.append(digital_row("cholesky", x, cpu, samplers.cholesky_macs(len(sd)), law, seed))
    x, cpu = samplers.thermox_samples(a, d, N_SAMPLES, dt, seed + 2)
    rows.append(digital_row("thermox", x / sd, cpu, samplers.thermox_macs(len(sd)), law, seed, dt=dt))
    spec_table["sim"]["t_stop_s"] = 10 * built.tau_slow_s + CIRCUIT_ESS * 4 * built.tau_slow_s
    prep = prepare(spec_from_table(spec_table))
    print(f"[compare] Gaussian task {name}: circuit, {prep.n_steps:,} noise steps", file=log, flush=True)
    run = simulate_scratch(prep, seed)
    tau = max(run.metrics["tau_int_s"]) / run.metrics["noise_step_s"]
    energy = [r for r in run.metrics["energy"] if r["per"] == "independent sample"]
    rows.append(
        {
            "method": "circuit",
            "digital": False,
            **judge(run.samples / sd, corr, law["exact"], tau, seed),
            "ess": run.metrics["n_eff"],
            "ess_per_cpu_s": run.metrics.get("ess_per_cpu_s"),
            "ess_per_device_s": run.metrics.get("ess_per_sim_s"),
            "macs_per_sample": None,
            "energy": energy,
            "energy_per_sample_J": headline_energy(energy),
        }
    )
    model, _ = train_or_load(law["exact"], gauss_ddpm_config(), models, f"gauss_{name}")
    model.warm_up(N_DDPM)
    for steps in STEPS:
        c0 = time.process_time()
        x = model.sample(N_DDPM, steps, seed + 3, clip=GAUSS_CLIP)
        cpu = time.process_time() - c0
        rows.append(digital_row(f"ddpm_{steps}", x, cpu, model.macs_per_sample(steps), law, seed))
    for r in rows:
        print(
            f"[compare] Gaussian task {name}, {r['method']}: KL {r['gaussian_kl']:.2e} "
            f"(null {r['gaussian_kl_expected']:.1e}), cov err {r['cov_rel_err']:.3f}",
            file=log,
        )
    tx = samplers.thermox_covariance(a, d, dt) / np.outer(sd, sd)  # in σ units, like the measured errors
    return {
        "task": name,
        "drift": table["drift"],
        "dim": len(sd),
        "non_normality": samplers.non_normality(a, d),
        "thermox_dt_s": dt,
        "thermox_cov_rel_err_theory": float(np.linalg.norm(tx - corr) / np.linalg.norm(corr)),
        "rows": rows,
    }


def gaussian_tasks(seed: int, models, log) -> list[dict]:
    """:func:`run_task` for each law of :func:`task_tables`, in order."""
    return [run_task(name, table, seed, models, log) for name, table in task_tables().items()]


def markdown(tasks: list[dict]) -> str:
    """The Gaussian-task table: one row per law and sampler."""
    from ..results import markdown_table

    head = ["law (drift)", "sampler", "KL (null)", "cov. error (SE)", "MMD² (floor)", "ESS / CPU s"]
    rows = [
        [
            f"{t['task']} ({t['drift']})",
            r["method"],
            f"{r['gaussian_kl']:.2e} ({r['gaussian_kl_expected']:.1e})",
            f"{r['cov_rel_err']:.3f} ({r['cov_rel_err_se']:.3f})",
            f"{r['mmd2']:.1e} ({r['mmd_floor']:.1e})",
            f"{r['ess_per_cpu_s']:.3g}",
            "—" if r["ess_per_device_s"] is None else f"{r['ess_per_device_s']:.3g}",
            f"{r['energy_per_sample_J']:.3g}",
        ]  # fmt: skip
        for t in tasks
        for r in t["rows"]
    ]
    lines = markdown_table([*head, "ESS / device s", "energy / sample [J]"], rows)
    lines += [
        "",
        "thermox's covariance error against the exact Lyapunov solution (its transition rule, solved for its "
        "stationary law; measured errors in the table above):",
        "",
        "| law | drift | non-normality ‖A_yA_yᵀ − A_yᵀA_y‖/‖A_y‖² | thermox Δt [s] | "
        "thermox cov. error (theory) |",
        "|---|---|---|---|---|",
    ]
    for t in tasks:
        lines.append(
            f"| {t['task']} | {t['drift']} | {t['non_normality']:.3f} | {t['thermox_dt_s']:.3g} | "
            f"{t['thermox_cov_rel_err_theory']:.3g} |"
        )
    return "\n".join(lines) + "\n"
