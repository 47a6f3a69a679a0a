"""The engine against theory, in real ngspice runs: kT/C, equipartition, Lyapunov, reproducibility, errors.

Tolerances are statistical: each run's standard errors come from its integrated autocorrelation times
(thermosim.analysis.stats); "within k SE" is stated per test.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from thermosim.physics import K_B
from thermosim.runs.experiment import prepare, simulate
from thermosim.runs.spec import spec_from_table
from thermosim.spice import SpiceError, run_netlist

pytestmark = pytest.mark.ngspice


def test_ktc_within_one_percent_and_three_se(shipped_runs):
    code, m, _ = shipped_runs["rc_single"]
    theory = K_B * 300.0 / 1e-12
    assert m["cov_theory"][0][0] == pytest.approx(theory, rel=1e-12)
    bias = m["cov"][0][0] / theory - 1
    se = m["cov_se"][0][0] / theory
    assert abs(bias) <= 0.01, f"kT/C bias {bias:+.4f}"
    assert abs(bias) <= 3 * se, f"kT/C bias {bias:+.4f} vs SE {se:.4f}"
    assert se < 0.0034  # the spec is long enough that 3 SE < 1 %
    assert code == 0 and m["passed"]


def test_equipartition_pair(shipped_runs):
    _, m, _ = shipped_runs["rc_pair_thermal"]
    cov, th, se = (np.asarray(m[k]) for k in ("cov", "cov_theory", "cov_se"))
    np.testing.assert_allclose(th, K_B * 300 * np.diag([1 / 1e-12, 1 / 2e-12]), rtol=1e-9, atol=1e-24)
    assert np.all(np.abs(cov - th) <= 3 * se)  # 3 elements, each within 3 SE


def test_gauss4_covariance_matches_lyapunov(shipped_runs):
    code, m, _ = shipped_runs["gauss4"]
    assert m["cov_rel_err"] <= 3 * m["cov_rel_err_se"]
    cov, th, se = (np.asarray(m[k]) for k in ("cov", "cov_theory", "cov_se"))
    # 10 distinct elements: Bonferroni-adjusted threshold recorded with the run (≈3.9 SE)
    assert np.all(np.abs(cov - th) <= m["check_k"] * se)
    assert code == 0 and all(c["passed"] for c in m["checks"])


def test_one_step_per_noise_sample(shipped_runs):
    for name, (_, m, _) in shipped_runs.items():
        assert m["points_per_noise_sample"] <= 1.5, name
        assert m["grid_alignment"] >= 0.999, name


def short_spec(t_stop=2e-3):
    return spec_from_table(
        {
            "name": "short",
            "family": "rc",
            "circuit": {"c_f": 1e-12, "r_ohm": [1e6, 2e6], "coupling_s": [[0, 1e-6], [1e-6, 0]]},
            "sim": {"t_stop_s": t_stop},
        }
    )


def test_seeded_run_is_bit_identical_and_seeds_differ(tmp_path):
    prep = prepare(short_spec())
    a = simulate(prep, 11, tmp_path / "a").metrics["samples_sha256"]
    b = simulate(prep, 11, tmp_path / "b").metrics["samples_sha256"]
    c = simulate(prep, 12, tmp_path / "c").metrics["samples_sha256"]
    assert a == b != c


def test_missing_ngspice_is_a_clear_error(tmp_path, monkeypatch):
    from thermosim.spice import runner

    monkeypatch.setenv("THERMOSIM_NGSPICE", "/nonexistent/ngspice")
    with pytest.raises(SpiceError, match="ngspice not found.*apt-get install -y ngspice"):
        runner.run_netlist("* x\n.end\n", tmp_path)


BAD_NETLISTS = {
    "timestep": (
        "* diode\nD1 a 0 dmod\nV1 a 0 PULSE(-10 10 0 1f 1f 1n 2n)\n"
        ".model dmod D(IS=1e-30 N=0.01)\n.tran 1p 10n\n.end\n",
        "timestep too small",
    ),
    "singular": ("* loop\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1k\n.tran 1n 10n\n.end\n", "singular matrix"),
    "parse": ("* bad\nR1 a 0\nQ5 x y z nomodel\n.tran 1n 10n\n.end\n", "could not parse|exited"),
    "nodata": ("* op only\nR1 a 0 1k\nV1 a 0 1\n.op\n.end\n", "no data|no transient|no plot"),
}


@pytest.mark.parametrize("kind", sorted(BAD_NETLISTS))
def test_failures_carry_ngspice_message_and_paths(tmp_path, kind):
    text, match = BAD_NETLISTS[kind]
    with pytest.raises(SpiceError, match=match) as info:
        run_netlist(text, tmp_path / kind)
    err = info.value
    assert err.netlist == tmp_path / kind / "circuit.cir" and err.netlist.exists()  # run dir kept
    assert err.log is not None and err.log.exists()
    assert "\n" not in str(err)


def test_timeout(tmp_path):
    from thermosim.runs.experiment import noise_blocks

    prep = prepare(short_spec(t_stop=0.5))  # ~10 s of ngspice
    with pytest.raises(SpiceError, match="timed out after 0.5 s"):
        run_netlist(
            prep.netlist,
            tmp_path,
            noise_files=prep.built.noise.files(),
            noise_blocks=noise_blocks(prep, 1),
            timeout_s=0.5,
        )


def test_truncated_raw_is_detected(tmp_path):
    from thermosim.spice.raw import read_tran

    prep = prepare(short_spec())
    from thermosim.runs.experiment import noise_blocks

    res = run_netlist(
        prep.netlist,
        tmp_path,
        noise_files=prep.built.noise.files(),
        noise_blocks=noise_blocks(prep, 1),
        keep=True,
    )
    raw = res.run_dir / "out.raw"
    size = raw.stat().st_size
    with open(raw, "r+b") as f:
        f.truncate(size - 1000)
    with pytest.raises(SpiceError, match="expects .* points"):
        read_tran(raw)


def test_each_run_reports_its_own_ngspice_cpu(tmp_path):
    """Runs on two threads at once (as on a Dask worker's threads) each report their own ngspice's CPU
    seconds: a process-wide count of the children's usage gave the long run its neighbours' as well."""
    from concurrent.futures import ThreadPoolExecutor

    net = "* cpu\nV1 in 0 SIN(0 1 1meg)\nR1 in out 1k\nC1 out 0 1n\n.tran 1n {}u 0 1n\n.end\n"
    with ThreadPoolExecutor(1) as pool:
        long = pool.submit(run_netlist, net.format(400), tmp_path / "long")
        short = [run_netlist(net.format(100), tmp_path / f"short{i}") for i in range(2)]
        long = long.result()
    for r in (long, *short):  # one single-threaded process cannot use more CPU than its lifetime
        assert 0 < r.cpu_s <= r.wall_s + 0.02, (r.cpu_s, r.wall_s)
    # four times the steps, so about four times the CPU when it counts its own; counting the two short
    # runs' as well gave six: the bound lies halfway, with as much room below four
    ratio = long.cpu_s / (sum(r.cpu_s for r in short) / 2)
    assert 3.0 < ratio < 5.0, [r.cpu_s for r in (long, *short)]


def test_only_the_runner_reaps_ngspice(tmp_path, monkeypatch):
    """ngspice's exit status and CPU time come from the runner's own wait: no other thread may poll (and
    so reap) the process, as the raw-file watcher once did (a sweep point then failed with ECHILD)."""
    import subprocess

    polls = []  # the command lines of the processes polled (the version query's own run polls its own)
    poll = subprocess.Popen.poll
    monkeypatch.setattr(subprocess.Popen, "poll", lambda self: polls.append(self.args) or poll(self))
    net = "* w\nV1 in 0 SIN(0 1 1meg)\nR1 in out 1k\nC1 out 0 1n\n.tran 1n 100u\n.end\n"
    res = run_netlist(net, tmp_path / "r", on_output=lambda size: None, on_rows=lambda names, rows: None)
    assert res.streamed and res.cpu_s > 0
    assert not [args for args in polls if "-b" in args], polls


def test_no_writer_thread_left_when_ngspice_fails(tmp_path):
    import threading

    with pytest.raises(SpiceError):
        run_netlist(
            "* bad\nQ1 a b c nomodel\n.tran 1n 1u\n.end\n",
            tmp_path,
            noise_files=["n.noise"],
            noise_blocks=iter([[b"0 0\n"]] * 10),
        )
    assert not [t for t in threading.enumerate() if t.name == "thermosim-noise-writer"]
    assert not (tmp_path / "n.noise").exists()
    assert os.path.exists(tmp_path / "ngspice.log")


def test_foreign_netlist_with_control_block(tmp_path):
    from tests.conftest import thermosim

    net = tmp_path / "foreign.cir"
    net.write_text(
        "* someone's RC with a control block and TRRANDOM noise\n"
        ".options seed=3\nR1 n1 0 1meg\nC1 n1 0 1p\nI1 0 n1 TRRANDOM(2 100n 0 1e-9 0)\n"
        ".control\nrun\nplot v(n1)\nquit\n.endc\n.tran 100n 2m\n.end\n"
    )
    p = thermosim("run", str(net), "--probe", "n1", "--json", "--out", str(tmp_path / "out"))
    assert p.returncode == 0, p.stderr
    assert "commented out the .control block" in p.stderr
    import json

    m = json.loads(p.stdout)
    assert m["variables"] == ["v(n1)"] and m["n_points"] > 1000 and m["checks"] == []
    assert (tmp_path / "out" / "metrics.json").exists()


def test_referenced_files_are_found():
    from thermosim.spice.guard import scan_text

    text = (
        '.include models/nmos.lib\n.lib "corners.lib" tt\n.model m filesource(file="n.txt" amplstep=false)\n'
        ".lib tt\n* file=comment.txt\n"
    )
    refs = scan_text(text, "x.cir")
    assert [(r.path, r.netlist, r.maybe_section) for r in refs] == [
        ("models/nmos.lib", True, False),
        ("corners.lib", True, False),
        ("n.txt", False, False),
        ("tt", True, True),
    ]


def test_control_tran_command_becomes_a_card(tmp_path):
    from thermosim.spice.foreign import prepare_foreign

    text, notes = prepare_foreign("* x\nR1 a 0 1k\n.control\ntran 1n 1u\n.endc\n.end\n")
    assert ".tran 1n 1u\n.end" in text and len(notes) == 2


def test_forty_node_ring_spans_several_noise_files(tmp_path):
    # 40 nodes need two filesource instances (≤ 24 columns each, see spice/noise.py): equipartition
    # Σ = kT·C⁻¹ must hold across both; every mean/variance/covariance within the Bonferroni k·SE.
    from thermosim.bench import _ring_rc_table

    prep = prepare(spec_from_table(_ring_rc_table(40, 60_000)))
    assert len(prep.built.noise.files()) == 2
    m = simulate(prep, 5, tmp_path).metrics
    np.testing.assert_allclose(np.asarray(m["cov_theory"]), K_B * 300 / 1e-12 * np.eye(40), atol=1e-12)
    failed = [c for c in m["checks"] if not c["passed"]]
    assert not failed, failed[:3]
    assert m["grid_alignment"] >= 0.999


def test_spu8_equipartition_in_spice(shipped_runs):
    # 16 variables (8 node voltages, 8 inductor currents): Σv = kT·C⁻¹, Σi = kT·L⁻¹, v ⟂ i, every element
    # within the Bonferroni k·SE recorded with the run, and the Frobenius error within 3 × its size.
    code, m, _ = shipped_runs["spu8"]
    cov, th, se = (np.asarray(m[k]) for k in ("cov", "cov_theory", "cov_se"))
    assert cov.shape == (16, 16) and m["variables"][8] == "i(l1)"
    assert np.all(np.abs(cov - th) <= m["check_k"] * se)
    assert np.all(np.abs(cov[:8, 8:]) <= m["check_k"] * se[:8, 8:])  # v ⟂ i
    assert m["cov_rel_err"] <= 3 * m["cov_rel_err_se"]
    assert code == 0 and m["passed"]


def test_quartic_unit_samples_the_boltzmann_density(shipped_runs, tmp_path):
    # One unit, V = x² + x⁴, kT = 0.1 (model units; 0.1 V per unit). Theory by quadrature of exp(−V/kT).
    # Checks recorded with the run: mean and variance within k·SE, KS distance D ≤ 1.82/√n on samples
    # thinned to ≈ independence. The same samples must FAIL against the density at kT = 0.13.
    from scipy.stats import kstest

    from thermosim.circuits.quartic import QuarticParams, stationary

    code, m, out = shipped_runs["quartic1"]
    names = [c["name"] for c in m["checks"]]
    assert "ks[v(u1)]" in names and code == 0 and m["passed"]
    _, var, _ = stationary(QuarticParams(kt=0.1))
    assert m["cov_theory"][0][0] == pytest.approx(var * 0.01, rel=1e-9)
    x = np.load(out / "samples.npz")["samples"][:, 0]
    sub = x[:: int(np.ceil(2 * m["tau_int_s"][0] / m["noise_step_s"]))]
    _, _, wrong = stationary(QuarticParams(kt=0.13))
    assert kstest(sub / 0.1, wrong).statistic > 1.82 / np.sqrt(len(sub))


def test_coupled_quartic_units_match_the_euler_maruyama_twin(tmp_path):
    # Three coupled units with biases, kT = 0.1: no closed form, so the circuit in ngspice and the digital
    # twin (thermosim.digital.langevin) of the same equations must agree: means, variances and covariances,
    # each as a two-sample z with both standard errors, within the Bonferroni threshold for 9 statistics.
    from thermosim.analysis.gaussian import bonferroni_k
    from thermosim.digital.langevin import euler_maruyama

    j = [[0.0, 0.5, -0.3], [0.5, 0.0, 0.4], [-0.3, 0.4, 0.0]]
    bias = [0.1, -0.05, 0.0]
    spec = spec_from_table(
        {
            "name": "q3",
            "family": "quartic",
            "circuit": {"coupling": j, "bias": bias, "kt": 0.1, "v_unit_v": 0.1},
            "sim": {"t_stop_s": 0.005},  # the SEs are the run's own: a shorter run widens them, exactly
        }
    )
    m = simulate(prepare(spec), 3, tmp_path).metrics
    assert m["cov_theory"] is None and m["checks"][-1]["name"] == "noise_grid_alignment"
    v0 = 0.1
    mean_s, mean_s_se = np.asarray(m["mean"]) / v0, np.asarray(m["mean_se"]) / v0
    cov_s, cov_s_se = np.asarray(m["cov"]) / v0**2, np.asarray(m["cov_se"]) / v0**2
    # twin: 2000 chains, 5 records each 2 model-time units apart (≥ 4 τ_int): ≈ independent samples
    x = euler_maruyama(
        1.0, 1.0, 0.1, bias, j, chains=2000, t_burn=5.0, t_record=10.0, record_every=2.0, seed=1
    )
    n = len(x)
    mean_t, cov_t = x.mean(0), np.cov(x, rowvar=False)
    mean_t_se = np.sqrt(np.diag(cov_t) / n)
    xc = x - mean_t
    cov_t_se = np.sqrt(
        np.array([[np.var(xc[:, a] * xc[:, b], ddof=1) for b in range(3)] for a in range(3)]) / n
    )
    k = bonferroni_k(9)
    z_mean = (mean_s - mean_t) / np.hypot(mean_s_se, mean_t_se)
    iu = np.triu_indices(3)
    z_cov = (cov_s - cov_t)[iu] / np.hypot(cov_s_se, cov_t_se)[iu]
    assert np.all(np.abs(z_mean) <= k), z_mean
    assert np.all(np.abs(z_cov) <= k), z_cov
    assert abs(cov_t[0, 1]) > 5 * cov_t_se[0, 1]  # the couplings matter: a test that could fail


def test_quartic_switch_and_initial_condition(tmp_path):
    # Couplings gated on at couple_at_s: switched on after the run ends, two strongly coupled units must
    # sample the UNCOUPLED exact density (variance within 4 SE); the initial condition is an .ic card.
    from thermosim.circuits.quartic import QuarticParams, stationary

    spec = spec_from_table(
        {
            "name": "q2",
            "family": "quartic",
            "circuit": {"coupling": [[0.0, 1.5], [1.5, 0.0]], "couple_at_s": 1.0, "initial_x": [0.5, -0.5]},
            "sim": {"t_stop_s": 0.005},
        }
    )
    prep = prepare(spec)
    assert "(time>=1.0?1:0)" in prep.netlist and ".ic v(u1)=0.05" in prep.netlist
    m = simulate(prep, 2, tmp_path).metrics
    _, var, _ = stationary(QuarticParams())
    cov, se = np.asarray(m["cov"]) / 0.01, np.asarray(m["cov_se"]) / 0.01
    assert np.all(np.abs(np.diag(cov) - var) <= 4 * np.diag(se)), (np.diag(cov), var)
    assert abs(cov[0, 1]) <= 4 * se[0, 1]


def test_passive_circuits_draw_no_supply_power(shipped_runs):
    # no source is declared a supply in rc/rlc/behavioural circuits; the noise drives deliver power to the
    # resistors (≈ kT/τ per node) but are never counted as a cost (docs/architecture.md)
    for name in ("rc_single", "rc_pair_thermal", "gauss4", "spu8", "quartic1"):
        m = shipped_runs[name][1]
        assert m["supply_power_w"] == 0.0 and m["supply_power_by_source_w"] == {}, name
        assert m["supply_energy_per_sample_j"] == 0.0


# wall seconds of each phase of a run, then CPU seconds
TIMING = {
    "start",
    "prepare",
    "ngspice",
    "read",
    "analysis",
    "write",
    "python_cpu",
    "noise_cpu",
    "ngspice_cpu",
}


def test_a_run_records_where_its_time_went(shipped_runs):
    _, m, folder = shipped_runs["rc_single"]
    assert set(m["timing_s"]) == TIMING
    assert all(isinstance(v, float) and v >= 0 for v in m["timing_s"].values()), m["timing_s"]
    assert json.loads((folder / "metrics.json").read_text())["timing_s"] == m["timing_s"]


def test_bench_engine_json_gives_the_ratios_and_the_breakdown():
    from tests.conftest import thermosim
    from thermosim.report.engine import CPU, PHASES

    p = thermosim("bench", "engine", "--repeats", "1", "--t-stop", "0.002", "--json")
    assert p.returncode == 0, p.stderr
    f = json.loads(p.stdout)
    keys = ("thermosim_run_s", "ngspice_s", "wall_over_ngspice", "thermosim_cpu_s", "cpu_over_ngspice")
    for key in (*keys, "floor_s", "floor_over_ngspice"):
        assert isinstance(f[key], float) and f[key] > 0, key
    # the floor streams the same noise and does nothing else: it cannot take less than ngspice alone
    assert f["floor_s"] > f["ngspice_s"], (f["floor_s"], f["ngspice_s"])
    assert f["repeats"] == 1 and f["spec"] == "rc_single" and len(f["load_average_1min"]) == 2
    assert list(f["breakdown_s"]) == [*PHASES, *CPU]
    assert all(isinstance(v, float) for v in f["breakdown_s"].values()), f["breakdown_s"]
