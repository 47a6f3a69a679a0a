"""Thermodynamic linear algebra: compiled circuits sample A⁻¹ and A⁻¹b within the statistical law, the
mismatch floor matches Lyapunov and first-order perturbation theory, bad input is one line and exit 2.

Tolerances: a run's error is judged against the exact law of its circuit, |err − law| ≤ 3·SE with SE the
spread of one run's error (thermosim.linalg.law: independent modes, the integrator's own
autocorrelation); theory checks against numpy are exact up to rounding.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import thermosim
from tests.test_cli import one_line_error
from thermosim.circuits import nonideal
from thermosim.circuits.rc import RCParams, build_rc
from thermosim.circuits.rlc import RLCParams, build_rlc
from thermosim.errors import SpecError
from thermosim.linalg import law
from thermosim.linalg.mismatch import predicted_floors
from thermosim.linalg.problem import Problem, random_m_matrix, random_rhs, random_spd
from thermosim.linalg.run import run_problem
from thermosim.physics import K_B
from thermosim.runs.spec import spec_from_table

K = 3.0  # standard errors


def test_random_matrices_have_the_asked_condition_number():
    a = random_spd(8, 10.0, 0)
    assert np.allclose(a, a.T) and np.linalg.cond(a) == pytest.approx(10.0, rel=1e-9)
    m = random_m_matrix(8, 10.0, 0)
    assert np.linalg.cond(m) == pytest.approx(10.0, rel=1e-9)
    assert (m - np.diag(np.diag(m))).max() <= 0 and m.sum(1).min() > 0


def test_iid_limit_of_the_law_is_sqrt_d_plus_1_over_n():
    # no autocorrelation (S = 1) and Σ ∝ I: E‖Σ̂ − Σ‖²/‖Σ‖² = (d + 1)/n exactly
    d, n = 8, 1000
    modes = law.Modes(sigma=np.ones(d), s_pair=np.ones((d, d)), s_single=np.ones(d))
    out = law.covariance_law(modes, n)
    assert out["rel_err_expected"] == pytest.approx(np.sqrt((d + 1) / n), rel=1e-12)
    assert out["n_eff"] == pytest.approx(n, rel=1e-12) and out["d_eff"] == pytest.approx(d)


def test_law_matches_monte_carlo_of_the_trapezoid_map():
    # the mode law against a direct simulation of x_{k+1} = M x_k + noise (no circuit involved)
    rng = np.random.default_rng(3)
    p = random_spd(4, 5.0, 1)
    c, g0, kt, h = 1e-12, 1e-6, 1.0e-17, 0.25e-6
    modes = law.rc_modes(p, c, g0, kt, h)
    a = g0 * p / c
    m = np.linalg.solve(np.eye(4) + h * a / 2, np.eye(4) - h * a / 2)
    sigma = kt / c * np.linalg.inv(p)
    # exact discrete noise covariance Q = Σ − MΣMᵀ keeps Σ stationary
    q = np.linalg.cholesky(sigma - m @ sigma @ m.T)
    n, reps = 4000, 300
    x = np.linalg.cholesky(sigma) @ rng.standard_normal((4, reps))
    acc = np.zeros((reps, 4, 4))
    for _ in range(n):
        x = m @ x + q @ rng.standard_normal((4, reps))
        acc += np.einsum("ir,jr->rij", x, x)
    err = np.linalg.norm(acc / n - sigma, axis=(1, 2)) / np.linalg.norm(sigma)
    expected = law.covariance_law(modes, n)
    # the RMS error against the law: SE of √mean(err²) by the delta method from the SE of mean(err²)
    rms = np.sqrt((err**2).mean())
    se_rms = (err**2).std(ddof=1) / np.sqrt(reps) / (2 * rms)
    assert abs(rms - expected["rel_err_expected"]) <= K * se_rms
    # the spread of one run's error against the law's SE: SE of a sample SD is s·√((κ − 1)/(4·reps)),
    # κ the kurtosis of err (≈ 4 % of s for 300 near-Gaussian reps)
    s = err.std(ddof=1)
    kurt = np.mean((err - err.mean()) ** 4) / np.var(err) ** 2
    assert abs(s - expected["rel_err_se"]) <= K * s * np.sqrt((kurt - 1) / (4 * reps))


def test_perturbation_theory_is_first_order_of_the_exact_inverse():
    # textbook: (A + δA)⁻¹ − A⁻¹ = −A⁻¹δA A⁻¹ + O(δA²), checked with numpy
    a = random_spd(8, 10.0, 0)
    rng = np.random.default_rng(5)
    e = rng.standard_normal((8, 8))
    e = e + e.T
    inv_norm = np.linalg.norm(np.linalg.inv(a), 2)  # 1/λ_min
    for t in (1e-3, 1e-4):
        exact = np.linalg.inv(a + t * e) - np.linalg.inv(a)
        first = -np.linalg.inv(a) @ (t * e) @ np.linalg.inv(a)
        small = inv_norm * t * np.linalg.norm(e)
        assert small < 1
        # Neumann series: the remainder is at most ‖A⁻¹‖³‖δA‖²/(1 − ‖A⁻¹‖‖δA‖)
        assert np.linalg.norm(exact - first) <= inv_norm * small**2 / (1 - small)
        assert np.linalg.norm(exact - first) <= 0.1 * np.linalg.norm(first)


def test_rlc_floor_is_capacitance_perturbation_exactly():
    # passive rlc in equilibrium: Σv = kT·C_built⁻¹, so the floor is ‖(A+δA)⁻¹ − A⁻¹‖/‖A⁻¹‖ with
    # δA = α·δC/c_unit from the drawn capacitors alone (L and R mismatch drop out)
    a = random_m_matrix(8, 10.0, 0)
    sigma, seed = 0.01, 2
    prob = Problem(a, source="t")
    floors = predicted_floors(prob, "rlc", sigma, seed)
    alpha = np.linalg.eigvalsh(a).max()
    p = RLCParams(precision=tuple(map(tuple, a / alpha)), mismatch_sigma=sigma, mismatch_seed=seed)
    built = build_rlc(p)
    c_built = K_B * 300.0 * np.linalg.inv(np.asarray(built.info["actual"]["cov"])[:8, :8])
    delta = alpha * c_built / 1e-9 - a
    exact = np.linalg.norm(np.linalg.inv(a + delta) - np.linalg.inv(a)) / np.linalg.norm(np.linalg.inv(a))
    first = np.linalg.norm(np.linalg.inv(a) @ delta @ np.linalg.inv(a)) / np.linalg.norm(np.linalg.inv(a))
    assert floors["exact_floor"] == pytest.approx(exact, rel=1e-6)
    assert floors["perturbation_floor"] == pytest.approx(first, rel=1e-3)
    # and δC really comes from the capacitors only: ground + coupling draws, nothing else
    cm = p.capacitance()
    coupling = -(cm - np.diag(np.diag(cm))) * np.triu(nonideal.factors(p, "coupling", (8, 8)), 1)
    coupling = coupling + coupling.T
    ground = cm.sum(1) * nonideal.factors(p, "c", 8)
    expected = np.diag(ground + coupling.sum(1)) - coupling
    np.testing.assert_allclose(c_built, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())


def test_rc_first_order_floor_agrees_with_lyapunov_at_small_sigma():
    a = random_spd(8, 10.0, 0)
    f = predicted_floors(Problem(a, source="t"), "rc", 1e-4, 0)
    assert f["perturbation_floor"] == pytest.approx(f["exact_floor"], rel=1e-3)


def test_nonidealities_keep_nominal_theory_and_record_the_built_one():
    prec = ((2.0, -0.5), (-0.5, 1.0))
    base = RCParams(precision=prec, c_f=1e-12, g0_s=1e-6, noise="injected", noise_temperature_k=1e6)
    ideal = build_rc(base)
    hot = build_rc(replace(base, actual_temperature_k=1.1e6))
    np.testing.assert_allclose(hot.law().cov, ideal.law().cov)
    np.testing.assert_allclose(hot.info["actual"]["cov"], 1.1 * ideal.law().cov, rtol=1e-10)
    par = build_rc(replace(base, parasitic_c_f=1e-13))
    np.testing.assert_allclose(par.info["actual"]["cov"], ideal.law().cov / 1.1, rtol=1e-10)
    assert "Cp1" in str(par.circuit) and "Cp1" not in str(ideal.circuit)
    # a noise filter far above the circuit's rates changes nothing; at the rates it removes power
    wide = np.asarray(build_rc(replace(base, noise_bandwidth_hz=1e10)).info["actual"]["cov"])
    np.testing.assert_allclose(wide, ideal.law().cov, rtol=1e-3)
    narrow = np.asarray(build_rc(replace(base, noise_bandwidth_hz=1e5)).info["actual"]["cov"])
    assert np.all(np.diag(narrow) < np.diag(ideal.law().cov))
    mm = build_rc(replace(base, mismatch_sigma=0.01, mismatch_seed=4))
    assert (
        mm.info["actual"]["cov"]
        != build_rc(replace(base, mismatch_sigma=0.01, mismatch_seed=5)).info["actual"]["cov"]
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("mismatch_sigma", -0.1, "circuit.mismatch_sigma must be between 0 and 0.2"),
        ("mismatch_sigma", 0.5, "circuit.mismatch_sigma must be between 0 and 0.2"),
        ("mismatch_seed", -1, "circuit.mismatch_seed must be >= 0"),
        ("parasitic_c_f", -1e-15, "circuit.parasitic_c_f must be >= 0"),
        ("parasitic_c_f", [1e-15], "circuit.parasitic_c_f has 1 values but there are 2 nodes"),
        ("noise_bandwidth_hz", 0.0, "circuit.noise_bandwidth_hz must be > 0"),
        ("actual_temperature_k", -3.0, "circuit.actual_temperature_k must be > 0"),
    ],
)
def test_bad_nonideality_names_the_key(key, value, message):
    table = {
        "name": "t",
        "family": "rc",
        "circuit": {"c_f": 1e-12, "r_ohm": [1e6, 1e6], "noise": "injected", "noise_temperature_k": 300.0},
        "sim": {"t_stop_s": 1e-3},
    }
    table["circuit"][key] = value
    with pytest.raises(SpecError, match=message):
        spec_from_table(table)


def test_bandwidth_needs_injected_noise():
    table = {
        "name": "t",
        "family": "rlc",
        "circuit": {"c_f": 1e-9, "noise_bandwidth_hz": 1e6},
        "sim": {"t_stop_s": 1},
    }
    with pytest.raises(SpecError, match='noise_bandwidth_hz needs noise = "injected"'):
        spec_from_table(table)


@pytest.mark.ngspice
def test_inverse_d8_within_law_at_three_sample_counts():
    r = run_problem(Problem(random_spd(8, 10.0, 0), source="t"), "rc", 100_000, seed=1)
    for i in (len(r["n"]) - 9, len(r["n"]) - 5, len(r["n"]) - 1):  # ≈ 10k, 35k, 100k samples
        err, expected, se = (r[k][i] for k in ("rel_err_curve", "rel_err_expected_curve", "rel_err_se_curve"))
        assert abs(err - expected) <= K * se, (r["n"][i], err, expected, se)
    assert r["floor_exact"] is None


@pytest.mark.ngspice
def test_solve_and_rlc_inverse_within_law():
    a = random_spd(6, 10.0, 1)
    s = run_problem(Problem(a, random_rhs(6, 1), source="t"), "rc", 60_000, seed=2)
    assert abs(s["rel_err"] - s["rel_err_expected"]) <= K * s["rel_err_se"]
    r = run_problem(Problem(random_m_matrix(6, 10.0, 1), source="t"), "rlc", 60_000, seed=2)
    assert abs(r["rel_err"] - r["rel_err_expected"]) <= K * r["rel_err_se"]


@pytest.mark.ngspice
def test_seeded_linalg_run_is_bit_identical():
    a = random_spd(4, 10.0, 0)
    one = run_problem(Problem(a, source="t"), "rc", 5_000, seed=7, nonideal={"mismatch_sigma": 0.01})
    two = run_problem(Problem(a, source="t"), "rc", 5_000, seed=7, nonideal={"mismatch_sigma": 0.01})
    assert one["samples_sha256"] == two["samples_sha256"] and one["answer"] == two["answer"]


@pytest.mark.ngspice
def test_mismatch_floor_cli_json(tmp_path):
    # 5 % mismatch on d = 4: the paired floor measures the Lyapunov floor of the circuit as built; its
    # relative uncertainty is that of one run's covariance (the law), so 3 × law bounds the ratio's error
    p = thermosim(
        "linalg", "mismatch", "--random", "4", "--sigma", "0", "0.05", "--mismatch-seeds", "2",
        "--samples", "40000", "--out", str(tmp_path / "m"), "--json",
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["sigma"] == [0.0, 0.05] and len(out["floor"]) == len(out["perturbation_floor"]) == 2
    tol = K * out["rel_err_expected"]
    assert out["floor"][1] == pytest.approx(out["exact_floor"][1], rel=tol)
    assert abs(out["ratio"][1] - 1) <= tol + 0.15  # first order at σ = 5 %: second-order terms ≲ 15 %
    for f in ("linalg.json", "floor_vs_sigma.png", "mismatch_curves.png"):
        assert (tmp_path / "m" / f).is_file()


@pytest.mark.ngspice
def test_inverse_cli_json(tmp_path):
    p = thermosim(
        "linalg", "inverse", "--random", "4", "--samples", "20000", "--out", str(tmp_path / "i"), "--json"
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert abs(out["rel_err"] - out["rel_err_expected"]) <= K * out["rel_err_se"]
    assert (tmp_path / "i" / "error_vs_time.png").is_file()


@pytest.mark.ngspice
def test_linalg_on_a_dask_scheduler_is_the_pool_run(tmp_path, dask_scheduler):
    """Each run's noise seed is its job's and results are read in job order: two problems on an existing
    Dask cluster give the process pool's samples and answers bit for bit."""
    import io

    import thermosim as ts

    args = {"random": [3, 4], "samples": 5000, "seed": 3, "workers": 2, "log": io.StringIO()}
    ts.linalg("inverse", out=tmp_path / "pool", **args)
    ts.linalg("inverse", out=tmp_path / "dask", scheduler=dask_scheduler, **args)
    pool, dask = (json.loads((tmp_path / k / "linalg.json").read_text())["runs"] for k in ("pool", "dask"))
    assert [r["d"] for r in dask] == [3, 4]
    for a, b in zip(pool, dask, strict=True):
        assert a["samples_sha256"] == b["samples_sha256"]
        assert a["answer"] == b["answer"] and a["rel_err_curve"] == b["rel_err_curve"]
    bad = thermosim(
        "linalg", "inverse", "--random", "3", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x")
    )
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in one_line_error(bad)
    assert not (tmp_path / "x").exists()


BAD = {
    "singular": ([[1.0, 1.0], [1.0, 1.0]], "is singular"),
    "non_square": ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "must be square"),
    "non_spd": ([[1.0, 2.0], [2.0, 1.0]], "must be positive definite"),
    "non_symmetric": ([[2.0, 1.0], [0.0, 2.0]], "must be symmetric"),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_matrix_one_line_exit_2_nothing_written(tmp_path, kind):
    matrix, expected = BAD[kind]
    f = tmp_path / f"{kind}.npy"
    np.save(f, np.asarray(matrix))
    out = tmp_path / "out"
    line = one_line_error(thermosim("linalg", "inverse", "--matrix", str(f), "--out", str(out)))
    assert expected in line and f"{kind}.npy" in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["solve", "--random", "4", "--circuit", "rlc"], "solve needs --circuit rc"),
        (["inverse", "--random", "4", "--cond", "0.5"], "--cond must be > 1"),
        (["inverse"], "give exactly one of --matrix"),
        (["inverse", "--random", "4", "--mismatch-sigma", "0.9"], "circuit.mismatch_sigma must be between"),
        (["mismatch", "--random", "4", "8"], "mismatch takes one matrix"),
    ],
)
def test_bad_options_one_line_exit_2(tmp_path, args, expected):
    assert expected in one_line_error(thermosim("linalg", *args, "--out", str(tmp_path / "o")))
    assert not (tmp_path / "o").exists()
