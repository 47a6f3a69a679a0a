"""A user's own netlist: calibrated Johnson noise (--thermal), its exact MNA theory checked against hand
calculations, current probes, nonlinear netlists measured only, seeds, sweeps of netlists.

Every statistical tolerance is k = 3 standard errors of the run's own estimate (effective sample size
from its integrated autocorrelation time); the expected values are derived here by hand (kT/C, kT/L,
kT·C⁻¹ of the Maxwell capacitance matrix), never taken from an earlier run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import thermosim as ts
from thermosim import api
from thermosim.analysis.mna import NotLinear, linear_law
from thermosim.physics import K_B
from thermosim.spice.parse import NetlistError, evaluate, parse, set_values

K_SE = 3.0
T = 300.0
KT = K_B * T

LADDER = """RC ladder, three sections, written by hand
* a 1 V source drives the first section
V1 in 0 DC 1
R1 in n1 10k
C1 n1 0 1p
R2 n1 n2 10k
C2 n2 0 2pF
R3 n2 n3 {rlast}
+ ; the last resistor's value comes from a parameter defined below
C3 n3 gnd 3p
.param rlast = 20k
.tran 1n 20u
.end
"""

# four nodes, six resistors, capacitors to ground and between nodes (Maxwell matrix not diagonal)
RANDOM_RC = """random passive RC network
Ra a 0 12k
Rab a b 4.7k
Rbc b c 33k
Rcd c d 8.2k
Rd d 0 15k
Rac a c 22k
Ca a 0 1.2p
Cab a b 0.7p
Cbc b c 2.2p
Cbd b d 0.5p
Cd d 0 1.8p
Ccd c d 0.9p
.tran 0.1n 40u
"""
RANDOM_CAPS = {("a", None): 1.2e-12, ("a", "b"): 0.7e-12, ("b", "c"): 2.2e-12, ("b", "d"): 0.5e-12}
RANDOM_CAPS |= {("d", None): 1.8e-12, ("c", "d"): 0.9e-12}

RLC = """parallel RLC tank, a buffer and a transconductor
V1 in 0 dc 0.5
R1 in b 1k
L1 b 0 1u
C1 b 0 1n
E1 out 0 b 0 2
Rload out x 1k
Cload x 0 1p
.tran 1n 40u
.end
"""


def maxwell(caps: dict, nodes: list[str]) -> np.ndarray:
    """The Maxwell capacitance matrix written out by hand: C_ii = every capacitor at node i, C_ij = −C."""
    idx = {n: i for i, n in enumerate(nodes)}
    c = np.zeros((len(nodes), len(nodes)))
    for (a, b), value in caps.items():
        c[idx[a], idx[a]] += value
        if b is not None:
            c[idx[b], idx[b]] += value
            c[idx[a], idx[b]] -= value
            c[idx[b], idx[a]] -= value
    return c


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    for name, text in (("ladder.cir", LADDER), ("random.cir", RANDOM_RC), ("rlc.cir", RLC)):
        (d / name).write_text(text)
    return d


def thermal_cli(net, out, *extra):
    """``thermosim run NET --thermal 300 --out OUT`` in a subprocess, as a user types it."""
    cmd = [sys.executable, "-m", "thermosim.cli", "run", str(net), "--thermal", "300", "--out", str(out)]
    return subprocess.run(cmd + list(extra), capture_output=True, text=True)


def within(result, expected: np.ndarray) -> np.ndarray:
    """|measured variance − expected| in units of the run's own standard error."""
    m = result.metrics
    return np.abs(np.asarray(m["var"]) - expected) / np.asarray(m["var_se"])


# --- theory from the netlist against hand calculations ----------------------------------------------------


def test_ladder_theory_is_kt_over_c_and_the_dc_divider():
    law = linear_law(parse(LADDER).elements, T)
    mean, cov = law.select(["v(n1)", "v(n2)", "v(n3)"])
    np.testing.assert_allclose(np.diag(cov), KT / np.array([1e-12, 2e-12, 3e-12]), rtol=1e-9)
    np.testing.assert_allclose(cov - np.diag(np.diag(cov)), 0, atol=1e-12 * KT / 1e-12)
    np.testing.assert_allclose(mean, 1.0, rtol=1e-12)  # no DC current: every node at the source's 1 V


def test_random_network_theory_is_kt_times_inverse_maxwell_matrix():
    law = linear_law(parse(RANDOM_RC).elements, T)
    nodes = ["a", "b", "c", "d"]
    _, cov = law.select([f"v({n})" for n in nodes])
    np.testing.assert_allclose(cov, KT * np.linalg.inv(maxwell(RANDOM_CAPS, nodes)), rtol=1e-9)


def test_rlc_theory_equipartition_and_the_buffered_node():
    law = linear_law(parse(RLC).elements, T)
    _, cov = law.select(["v(b)", "i(l1)", "v(x)"])
    # tank: kT/C and kT/L; x: a 1 kΩ–1 pF RC fed by 2·v(b) whose bandwidth (1/√LC ≈ 3e7 rad/s) is far
    # below the RC's (1e9 rad/s): v(x) ≈ 2 v(b) + its own kT/C, independent
    np.testing.assert_allclose([cov[0, 0], cov[1, 1]], [KT / 1e-9, KT / 1e-6], rtol=1e-9)
    np.testing.assert_allclose(cov[2, 2], 4 * KT / 1e-9 + KT / 1e-12, rtol=2e-3)


def test_the_shipped_example_network_is_kt_times_inverse_maxwell_matrix():
    from pathlib import Path

    text = (Path(__file__).parent.parent / "examples" / "random_rc.cir").read_text()
    caps = {("a", None): 1.2, ("a", "b"): 0.7, ("b", "c"): 2.2, ("b", "d"): 0.5, ("d", None): 1.8}
    caps |= {("c", "d"): 0.9, ("e", None): 0.4, ("a", "e"): 1.5, ("c", None): 0.3}  # pF, from the file
    nodes = ["a", "b", "c", "d", "e"]
    _, cov = linear_law(parse(text).elements, T).select([f"v({n})" for n in nodes])
    hand = KT * np.linalg.inv(maxwell({k: v * 1e-12 for k, v in caps.items()}, nodes))
    np.testing.assert_allclose(cov, hand, rtol=1e-9)


def test_theory_refuses_what_it_cannot_model():
    with pytest.raises(NotLinear, match="stationary"):  # n2 connects only through a capacitor
        linear_law(parse("t\nR1 n1 0 1k\nC1 n1 0 1p\nC2 n1 n2 1p\nC3 n2 0 1p\n").elements, T)
    assert parse("t\nD1 a 0 dmod\nR1 a 0 1k\n").unsupported == ["d1 (nonlinear or not modelled)"]
    assert "varies in time" in parse("t\nV1 a 0 pulse(0 1 1n 1n 1n 1u 2u)\n").unsupported[0]


def test_parameters_and_expressions_are_evaluated_without_running_code():
    assert evaluate("2*rval + 1k", {"rval": 500.0}) == 2000.0
    assert evaluate("sqrt(4) * 1p", {}) == pytest.approx(2e-12)
    for hostile in ("__import__('os').system('true')", "rval.__class__", "[x for x in ()]", "open('f')"):
        with pytest.raises(NetlistError):
            evaluate(hostile, {"rval": 1.0})


def test_set_values_changes_elements_sources_and_params():
    text = set_values(LADDER, {"R1": 2e3, "rlast": 5e4, "v1": 2.0})
    p = parse(text)
    values = {e.name: e.value for e in p.elements}
    assert values["r1"] == 2e3 and values["r3"] == 5e4 and values["v1"] == 2.0
    with pytest.raises(NetlistError, match="'r9'"):
        set_values(LADDER, {"r9": 1.0})


# --- runs with calibrated noise -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ladder_run(folder):
    return ts.run(folder / "ladder.cir", thermal=T, seed=4)


def test_ladder_thermal_run_is_kt_over_c_within_3_se(ladder_run):
    r = ladder_run
    assert r.passed is True, [c for c in r.checks if not c.passed]
    assert r.variables == ("v(n1)", "v(n2)", "v(n3)")
    assert within(r, KT / np.array([1e-12, 2e-12, 3e-12])).max() < K_SE
    assert abs(r.metrics["points_per_noise_sample"] - 1) < 1e-3  # one ngspice point per noise sample


def test_thermal_runs_reproduce_bit_for_bit(folder, ladder_run):
    again = ts.run(folder / "ladder.cir", thermal=T, seed=4)
    other = ts.run(folder / "ladder.cir", thermal=T, seed=5)
    assert again.metrics["samples_sha256"] == ladder_run.metrics["samples_sha256"]
    assert other.metrics["samples_sha256"] != ladder_run.metrics["samples_sha256"]


def test_random_network_equipartition_within_3_se(folder):
    r = ts.run(folder / "random.cir", thermal=T, seed=2)
    assert r.passed is True
    nodes = ["a", "b", "c", "d"]
    c = maxwell(RANDOM_CAPS, nodes)
    assert within(r, KT * np.diag(np.linalg.inv(c))).max() < K_SE
    # equipartition: ⟨vᵀ C v⟩ = n kT (each of the n capacitive modes holds kT/2 on average);
    # SE by batch means over 20 batches, each much longer than the slowest time constant
    v = r.samples - np.asarray(r.mean_theory)
    energy = np.einsum("ij,jk,ik->i", v, c, v) / KT
    batches = energy[: len(energy) // 20 * 20].reshape(20, -1).mean(axis=1)
    se = batches.std(ddof=1) / np.sqrt(20)
    assert abs(energy.mean() - len(nodes)) < K_SE * se


def test_current_probe_of_an_inductor_within_3_se(folder):
    r = ts.run(folder / "rlc.cir", thermal=T, probes=["b", "i(l1)"], seed=3)
    assert r.variables == ("v(b)", "i(l1)")
    assert r.passed is True
    assert within(r, np.array([KT / 1e-9, KT / 1e-6])).max() < K_SE


def test_nonlinear_netlist_is_measured_not_passed(folder, tmp_path):
    net = folder / "diode.cir"
    net.write_text(
        "clamp\nV1 in 0 dc 0.8\nR1 in a 1k\nD1 a 0 dmod\nC1 a 0 1p\n.model dmod d(is=1e-14)\n"
        ".tran 0.1n 2u\n.end\n"
    )
    r = ts.run(net, thermal=T, seed=1)
    assert r.passed is None and not r.has_theory
    cli = thermal_cli(net, tmp_path / "d", "--no-plots")
    assert cli.returncode == 0, cli.stderr
    assert "measured only" in cli.stdout and "d1" in cli.stdout and "checks:" not in cli.stdout


def test_trnoise_is_removed_and_reported(folder):
    net = folder / "noisy.cir"
    net.write_text("own noise\nV1 in 0 dc 0 trnoise(1m 1n 0 0)\nR1 in a 1k\nC1 a 0 1p\n.tran 1n 2u\n.end\n")
    r = ts.run(net, thermal=T, seed=1)
    notes = r.metrics["info"]["notes"]
    assert any("removed the trnoise of v1" in n for n in notes)
    assert "trnoise" not in api.netlist(_spec_file(folder, "noisy.cir")).lower()


def _spec_file(folder, netlist):
    spec = folder / f"{netlist}.toml"
    spec.write_text(
        f'name = "own"\nfamily = "netlist"\n[circuit]\nfile = "{netlist}"\n[sim]\nt_stop_s = 2e-6\n'
    )
    return spec


def test_a_node_without_capacitance_is_refused_by_name(folder, tmp_path):
    net = folder / "series_rl.cir"
    net.write_text("series RL\nV1 in 0 dc 1\nR1 in a 50\nL1 a b 1u\nC1 b 0 1n\n.tran 1n 2u\n.end\n")
    cli = thermal_cli(net, tmp_path / "x")
    assert cli.returncode != 0 and "Traceback" not in cli.stderr
    assert "node 'a' has no path to ground through capacitors" in cli.stderr
    assert not (tmp_path / "x").exists()


def test_a_white_branch_current_is_refused(folder):
    # i(v1) = (1 V − v(n1))/R1 plus R1's own Johnson current: white, no finite variance
    with pytest.raises(ts.SpecError, match=r"i\(v1\) carries white noise"):
        ts.run(folder / "ladder.cir", thermal=T, probes=["i(v1)"])


def test_hostile_include_is_refused(folder, tmp_path):
    (tmp_path / "evil.inc").write_text(".control\nshell touch /tmp/thermosim-pwned\n.endc\n")
    net = tmp_path / "main.cir"
    net.write_text("t\n.include evil.inc\nR1 a 0 1k\nC1 a 0 1p\n.tran 1n 1u\n.end\n")
    with pytest.raises(ts.SpiceError, match="evil.inc"):
        ts.run(net, thermal=T)
    outside = tmp_path / "sub"
    outside.mkdir()
    (outside / "main.cir").write_text("t\n.include ../evil.inc\nR1 a 0 1k\nC1 a 0 1p\n.tran 1n 1u\n.end\n")
    with pytest.raises(ts.SpiceError):
        ts.run(outside / "main.cir", thermal=T)


def test_as_is_netlist_takes_the_seed(folder):
    net = folder / "trrandom.cir"
    net.write_text(
        textwrap.dedent("""\
        own seeded noise
        I1 0 a dc 0 trrandom(2 1n 0 1u 0)
        R1 a 0 1k
        C1 a 0 1p
        .tran 1n 2u
        .end
        """)
    )
    one, two = (ts.run(net, seed=5, probes=["a"]) for _ in range(2))
    assert one.metrics["seed"] == 5 and one.passed is None
    assert one.metrics["samples_sha256"] == two.metrics["samples_sha256"]
    assert ts.run(net, seed=6).metrics["samples_sha256"] != one.metrics["samples_sha256"]


def test_a_sweep_of_a_netlist(folder, tmp_path):
    sweep = folder / "temps.toml"
    sweep.write_text(
        'name = "ladder_t"\nbase = "ladder.cir"\nmetrics = ["var_ratio[0]"]\n[set]\n"sim.t_stop_s" = 5e-6\n'
        '[[axes]]\nkey = "circuit.temperature_k"\nvalues = [100, 1000]\n'
    )
    df = ts.sweep(sweep, out=tmp_path / "sw")
    assert list(df["status"]) == ["ok", "ok"]
    assert np.all(np.isfinite(df["var_ratio[0]"]))


@pytest.mark.ngspice
def test_a_netlist_runs_key_does_not_depend_on_its_folder(tmp_path):
    # the same netlist in two folders is the same run (a cloned checkout reuses its sweep points); another
    # netlist text is another run
    import shutil

    from thermosim.runs.experiment import prepare
    from thermosim.runs.keys import point_key
    from thermosim.runs.netlist_spec import netlist_spec

    here = Path(__file__).resolve().parent.parent / "circuits" / "rc_ladder.cir"
    keys = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(here, tmp_path / name / "rc_ladder.cir")
        keys.append(point_key(prepare(netlist_spec(tmp_path / name / "rc_ladder.cir", 300.0)), 1))
    (tmp_path / "b" / "rc_ladder.cir").write_text(here.read_text().replace("3p", "4p"))
    keys.append(point_key(prepare(netlist_spec(tmp_path / "b" / "rc_ladder.cir", 300.0)), 1))
    assert keys[0] == keys[1] != keys[2]
