"""The command line: bad input is one line and exit 2, results are complete or absent, netlists stay fresh."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT, thermosim

GOOD = """name = "t"
family = "rc"
[circuit]
c_f = 1e-12
r_ohm = 1e6
[sim]
t_stop_s = 2e-4
"""

BAD_SPECS = {
    "unreadable": ("name = 'x'\nfamily =\n", "not valid TOML"),
    "unknown_key": (GOOD.replace("r_ohm", "r_omh"), "unknown key 'circuit.r_omh' (did you mean 'r_ohm'?)"),
    "wrong_type": (GOOD.replace("1e6", '"1 Meg"'), "circuit.r_ohm must be"),
    "negative_r": (GOOD.replace("1e6", "-1e6"), "circuit.r_ohm must be > 0"),
    "zero_c": (GOOD.replace("c_f = 1e-12", "c_f = 0.0"), "circuit.c_f must be > 0"),
    "non_spd": (
        GOOD.replace(
            "c_f = 1e-12\nr_ohm = 1e6",
            'precision = [[1.0, 2.0], [2.0, 1.0]]\nnoise = "injected"\nnoise_temperature_k = 1e6',
        ),
        "circuit.precision must be positive definite",
    ),
    "non_square": (
        GOOD.replace(
            "c_f = 1e-12\nr_ohm = 1e6",
            'precision = [[1.0, 0.0], [0.0]]\nnoise = "injected"\nnoise_temperature_k = 1e6',
        ),
        "circuit.precision must be a square matrix",
    ),
    "n_zero": (GOOD.replace("c_f = 1e-12", "n = 0\nc_f = 1e-12"), "circuit.n must be >= 1"),
    "t_stop": (GOOD.replace("2e-4", "0.0"), "sim.t_stop_s must be > 0"),
    "family": (GOOD.replace('"rc"', '"rlcx"'), "family = 'rlcx' is not a known circuit family"),
}


def one_line_error(p: subprocess.CompletedProcess, code: int = 2) -> str:
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("thermosim: error: "), p.stderr
    assert "Traceback" not in p.stderr
    return lines[0]


@pytest.mark.parametrize("kind", sorted(BAD_SPECS))
def test_bad_spec_one_line_exit_2_no_results(tmp_path, kind):
    text, expected = BAD_SPECS[kind]
    spec = tmp_path / f"{kind}.toml"
    spec.write_text(text)
    out = tmp_path / "out"
    line = one_line_error(thermosim("run", str(spec), "--out", str(out)))
    assert expected in line and f"{kind}.toml" in line
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_unknown_spec_name():
    assert "no such spec" in one_line_error(thermosim("run", "no_such_circuit"))


@pytest.mark.ngspice
def test_missing_ngspice_exit_2_with_hint(tmp_path):
    p = thermosim(
        "run", "rc_single", "--out", str(tmp_path / "o"), env={"THERMOSIM_NGSPICE": "/nope/ngspice"}
    )
    assert "apt-get install -y ngspice" in one_line_error(p)
    assert not (tmp_path / "o").exists()


@pytest.mark.ngspice
def test_non_converging_netlist_exit_2(tmp_path):
    net = tmp_path / "diode.cir"
    net.write_text(
        "* diode\nD1 a 0 dmod\nV1 a 0 PULSE(-10 10 0 1f 1f 1n 2n)\n"
        ".model dmod D(IS=1e-30 N=0.01)\n.tran 1p 10n\n.end\n"
    )
    line = one_line_error(thermosim("run", str(net), "--out", str(tmp_path / "o")))
    assert "timestep too small" in line and "log:" in line and "netlist:" in line
    assert not (tmp_path / "o").exists()


@pytest.mark.ngspice
def test_run_json_has_the_documented_keys(tmp_path):
    spec = tmp_path / "t.toml"
    spec.write_text(GOOD)
    p = thermosim("run", str(spec), "--json", "--seed", "4", "--out", str(tmp_path / "o"))
    assert p.returncode in (0, 1), p.stderr
    m = json.loads(p.stdout)
    for key in (
        "circuit",
        "seed",
        "ngspice_version",
        "wall_s",
        "ngspice_s",
        "n_points",
        "n_noise_samples",
        "points_per_noise_sample",
        "n_eff",
        "mean",
        "cov",
        "cov_theory",
        "cov_rel_err",
        "cov_rel_err_se",
        "samples_sha256",
        "checks",
        "energy",
        "supply_power_w",
        "gaussian_kl",
        "hist_kl",
        "wasserstein1",
        "ess_per_sim_s",
        "ess_per_cpu_s",
    ):
        assert key in m, key
    assert {r["term"] for r in m["energy"]} == {"supply", "heat", "readout", "programming", "bound"}
    assert m["seed"] == 4 and m["ngspice_version"].startswith("39") or m["ngspice_version"]
    assert {"name", "measured", "expected", "se", "passed"} <= set(m["checks"][0])
    files = {f.name for f in (tmp_path / "o").iterdir()}
    assert {"metrics.json", "samples.npz", "t.cir", "hist.png", "autocorr.png", "energy.png"} <= files


def test_netlists_are_fresh():
    p = thermosim("netlists", "--check")
    assert p.returncode == 0, p.stdout + p.stderr


def test_netlists_check_lists_stale(tmp_path):
    # a copy of the repository layout with one netlist edited
    shutil.copytree(ROOT / "circuits", tmp_path / "circuits")
    shutil.copytree(ROOT / "netlists", tmp_path / "netlists")
    (tmp_path / "netlists" / "gauss4.cir").write_text("* edited\n")
    env = {"THERMOSIM_ROOT": str(tmp_path)}
    p = thermosim("netlists", "--check", env=env)
    assert p.returncode == 1 and "gauss4.cir" in p.stdout and "rc_single" not in p.stdout


@pytest.mark.ngspice
@pytest.mark.parametrize(
    "name", ["rc_single", "rc_pair_thermal", "gauss4", "spu8", "quartic1", "pbit", "ring2", "quartic_cmos"]
)
def test_committed_netlist_runs_in_stock_ngspice(tmp_path, name):
    # The committed netlist reads its noise from '<name>.noise' next to it: write that file with
    # `thermosim noise`, then run plain `ngspice -b` with no thermosim in the loop. Its first tenth
    # only (the .tran stop time cut; elements, models and noise source as committed): the whole runs
    # are the shipped runs' own tests.
    text = (ROOT / "netlists" / f"{name}.cir").read_text()
    tran = re.search(r"^\.tran (\S+) (\S+) 0 (\S+)$", text, re.M)
    stop, step = float(tran[2]) / 10, float(tran[3])
    (tmp_path / f"{name}.cir").write_text(text.replace(tran[0], f".tran {tran[1]} {stop!r} 0 {step!r}"))
    p = thermosim("noise", name, "--out", str(tmp_path))
    assert p.returncode == 0, p.stderr
    r = subprocess.run(
        ["ngspice", "-b", "-r", "out.raw", f"{name}.cir"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0 and "error" not in r.stdout.lower(), r.stdout[-2000:]
    from thermosim.spice.raw import read_tran

    plot = read_tran(tmp_path / "out.raw")
    assert plot.n_points >= 0.99 * stop / step  # one point per noise sample, to the end


def test_the_entry_point_runs_before_numpy_is_imported():
    # cli.entry sets NUMPY_MADVISE_HUGEPAGE before anything imports numpy: numpy reads it at import
    code = "import sys, thermosim.cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
