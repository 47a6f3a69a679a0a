"""Files from strangers: nothing in a spec, netlist, card, include or the environment may run a command,
write outside the output folder, delete a user's file, or make a cached result stand for another.

Every case runs the real command line and real ngspice. A hostile file's payload would create MARKER (a
file in the test's folder); the test asserts it never appears, that the run is refused with one line and
exit 2 where it must be, and that every file outside the output folder is byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, thermosim

pytestmark = pytest.mark.ngspice

RC = """* an RC low-pass with a seeded-free deterministic drive
V1 in 0 PULSE(0 1 0 1u 1u 5u 10u)
R1 in n1 1k
C1 n1 0 1n
{extra}
.tran 10n 40u
.end
"""


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (symlinks by their target text)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            out[str(p)] = "link:" + os.readlink(p)
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def refused(p, *words: str) -> None:
    """Exit 2 with one error line naming the problem, no traceback."""
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("thermosim: error:") and "Traceback" not in p.stderr, p.stderr
    for w in words:
        assert w in lines[-1], lines[-1]


@pytest.fixture
def box(tmp_path):
    """A folder with a netlist folder, an outside folder holding a user's file, and the marker path."""
    (tmp_path / "net").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "precious.txt").write_text("a user's data\n")
    return tmp_path


def payload(marker: Path) -> str:
    return f".control\nshell touch {marker}\n.endc\n"


# --- code execution -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "files,where",
    [
        ({"a.inc": "{payload}"}, "a.inc:1"),  # a control block in an included file
        ({"a.inc": ".include b.inc\n", "b.inc": "R9 n1 0 1G\n{payload}"}, "b.inc:2"),  # two levels down
        ({"a.inc": ".lib tt\nR9 n1 0 1G\n{payload}.endl tt\n"}, "a.inc:3"),  # inside a .lib section
        ({"a.inc": "*ng_script\nshell touch {marker}\n"}, "a.inc:1"),  # a script header in an include
    ],
)
def test_control_in_an_included_file_is_refused(box, files, where):
    marker = box / "MARKER"
    for name, text in files.items():
        (box / "net" / name).write_text(text.format(payload=payload(marker), marker=marker))
    card = ".lib a.inc tt" if ".lib tt" in files["a.inc"] else ".include a.inc"
    (box / "net" / "c.cir").write_text(RC.format(extra=card))
    p = thermosim("run", str(box / "net" / "c.cir"), "--out", str(box / "o"), cwd=box)
    refused(p, where, "refused")
    assert not marker.exists() and not (box / "o").exists()


def test_ng_script_netlist_is_refused(box):
    marker = box / "MARKER"
    (box / "net" / "s.cir").write_text(f"*ng_script\n.control\nshell touch {marker}\n.endc\n")
    refused(thermosim("run", str(box / "net" / "s.cir"), "--out", str(box / "o"), cwd=box), "ng_script")
    assert not marker.exists()


def test_top_level_control_block_is_commented_out_not_run(box):
    marker = box / "MARKER"
    (box / "net" / "c.cir").write_text(RC.format(extra=payload(marker)))
    p = thermosim("run", str(box / "net" / "c.cir"), "--probe", "n1", "--out", str(box / "o"), cwd=box)
    assert p.returncode == 0, p.stderr
    assert "commented out the .control block" in p.stderr and not marker.exists()


def test_spiceinit_beside_the_netlist_and_in_home_are_not_read(box):
    marker = box / "MARKER"
    (box / "net" / "c.cir").write_text(RC.format(extra=""))
    (box / "net" / ".spiceinit").write_text(f"shell touch {marker}\n")
    home = box / "home"
    home.mkdir()
    (home / ".spiceinit").write_text(f"shell touch {marker}\n")
    scripts = box / "scripts"  # a start-up script folder chosen by the environment
    scripts.mkdir()
    (scripts / "spinit").write_text(f"shell touch {marker}\n")
    env = {"HOME": str(home), "SPICE_SCRIPTS": str(scripts), "SPICE_LIB_DIR": str(box)}
    p = thermosim("run", str(box / "net" / "c.cir"), "--out", str(box / "o"), cwd=box / "net", env=env)
    assert p.returncode == 0, p.stderr
    assert not marker.exists()


def test_hostile_home_spiceinit_cannot_change_samples(tmp_path):
    # `option method=gear` in ~/.spiceinit would change every sample at the same seed if it were read
    spec = tmp_path / "tiny.toml"
    spec.write_text(
        (ROOT / "circuits" / "rc_single.toml").read_text().replace("t_stop_s = 0.2", "t_stop_s = 0.002")
    )
    shas = []
    for home_text in (None, "option method=gear\noption reltol=0.1\nshell touch {m}\n"):
        home = tmp_path / f"home{len(shas)}"
        home.mkdir()
        if home_text:
            (home / ".spiceinit").write_text(home_text.format(m=tmp_path / "MARKER"))
        p = thermosim(
            "run",
            str(spec),
            "--json",
            "--no-plots",
            "--out",
            str(tmp_path / f"o{len(shas)}"),
            env={"HOME": str(home)},
        )
        assert p.returncode == 0, p.stderr
        shas.append(json.loads(p.stdout)["samples_sha256"])
    assert shas[0] == shas[1] and not (tmp_path / "MARKER").exists()


def _cmos_spec(tmp_path: Path, card: str) -> Path:
    text = (ROOT / "circuits" / "pbit.toml").read_text()
    spec = tmp_path / "p.toml"
    spec.write_text(text.replace("[circuit]", f'[circuit]\nmodel_card = "{card}"', 1))
    return spec


def test_model_card_with_control_block_is_refused(tmp_path):
    marker = tmp_path / "MARKER"
    good = (ROOT / "circuits" / "models" / "cmos_0p5um_level1.lib").read_text()
    card = tmp_path / "evil.lib"
    card.write_text(good + payload(marker))
    p = thermosim("run", str(_cmos_spec(tmp_path, str(card))), "--out", str(tmp_path / "o"))
    refused(p, "model_card", "evil.lib", "refused")
    assert not marker.exists() and not (tmp_path / "o").exists()


def test_model_card_with_include_is_refused(tmp_path):
    good = (ROOT / "circuits" / "models" / "cmos_0p5um_level1.lib").read_text()
    card = tmp_path / "inc.lib"
    card.write_text(good + ".include other.lib\n")
    refused(thermosim("run", str(_cmos_spec(tmp_path, str(card)))), "self-contained")


def test_sweep_axis_over_a_hostile_card_is_refused(tmp_path):
    marker = tmp_path / "MARKER"
    good = (ROOT / "circuits" / "models" / "cmos_0p5um_level1.lib").read_text()
    (tmp_path / "evil.lib").write_text(good + payload(marker))
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        'name = "s"\nbase = "pbit"\nmetrics = ["p1"]\n[set]\n"sim.t_stop_s" = 1e-6\n[[axes]]\n'
        f'key = "circuit.model_card"\nvalues = ["cmos_0p5um_level1.lib", "{tmp_path / "evil.lib"}"]\n'
    )
    p = thermosim("sweep", str(sweep), "--workers", "1", "--out", str(tmp_path / "o"))
    refused(p, "refused")
    assert not marker.exists()


# --- paths stay inside ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        ".include ../outside/x.inc",
        ".include {abs}",
        ".lib ../outside/x.inc tt",
        ".include link/x.inc",  # a symlink inside the folder that leads out of it
        '.model src filesource(file="../outside/data.txt")',
        ".include ~/x.inc",
    ],
)
def test_paths_that_leave_the_netlist_folder_are_refused(box, card):
    (box / "outside" / "x.inc").write_text("R9 n1 0 1G\n")
    (box / "outside" / "data.txt").write_text("0 0\n")
    (box / "net" / "link").symlink_to(box / "outside")
    (box / "net" / "c.cir").write_text(RC.format(extra=card.format(abs=box / "outside" / "x.inc")))
    before = snapshot(box / "outside")
    p = thermosim("run", str(box / "net" / "c.cir"), "--out", str(box / "o"), cwd=box)
    refused(p, "refused")
    assert snapshot(box / "outside") == before and not (box / "o").exists()


def test_includes_inside_the_folder_are_copied_and_run(box):
    (box / "net" / "sub").mkdir()
    (box / "net" / "sub" / "a.inc").write_text(".include b.inc\n")  # relative to sub/
    (box / "net" / "sub" / "b.inc").write_text("R9 n1 0 1G\n")
    (box / "net" / "c.cir").write_text(RC.format(extra=".include sub/a.inc"))
    p = thermosim("run", str(box / "net" / "c.cir"), "--probe", "n1", "--json", "--out", str(box / "o"))
    assert p.returncode == 0, p.stderr


# --- never delete what thermosim did not create -------------------------------------------------------


def test_users_folder_as_out_is_refused_and_untouched(box):
    user = box / "mydata"
    (user / "deep").mkdir(parents=True)
    (user / "notes.txt").write_text("results of a year\n")
    (user / "metrics.json").write_text("{}\n")
    (user / "deep" / "x.npy").write_bytes(b"\x00" * 100)
    before = snapshot(user)
    for args in (["run", "rc_single"], ["run", str(box / "net" / "c.cir")], ["sweep", "noise_step"]):
        (box / "net" / "c.cir").write_text(RC.format(extra=""))
        refused(thermosim(*args, "--out", str(user), cwd=box), "did not write", str(user))
    refused(thermosim("linalg", "inverse", "--random", "2", "--out", str(user), cwd=box), "did not write")
    refused(thermosim("compare", "--out", str(user), cwd=box), "did not write")
    refused(thermosim("train", "digits", "--limit", "20", "--out", str(user), cwd=box), "did not write")
    refused(thermosim("generate", "--out", str(user), cwd=box), "did not write")
    assert snapshot(user) == before


@pytest.mark.parametrize("name", ["..cir", "...cir", ".cir"])
def test_netlist_names_that_would_name_a_parent_are_refused(box, name):
    (box / "net" / name).write_text(RC.format(extra=""))
    (box / "net" / "keep.txt").write_text("keep\n")
    before = snapshot(box)
    refused(thermosim("run", name, cwd=box / "net"))
    assert snapshot(box) == before


@pytest.mark.parametrize("out", [".", "..", "", "a/.."])
def test_out_dot_and_dotdot_are_refused(box, out):
    before = snapshot(box)
    refused(thermosim("run", "rc_single", "--out", out, cwd=box / "net"))
    assert snapshot(box) == before


def test_rerun_replaces_its_own_result_folder(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(
        (ROOT / "circuits" / "rc_single.toml").read_text().replace("t_stop_s = 0.2", "t_stop_s = 0.002")
    )
    for seed in ("1", "2"):
        p = thermosim("run", str(spec), "--seed", seed, "--no-plots", "--out", str(tmp_path / "o"))
        assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "o" / "metrics.json").read_text())["seed"] == 2
    assert (tmp_path / "o" / ".thermosim-output").is_file()


def test_interrupt_leaves_no_temporary_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = dict(os.environ, TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-m", "thermosim.cli", "run", "gauss4", "--out", str(tmp_path / "o")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not any(tmp.rglob("out.raw")):
        time.sleep(0.1)
    assert any(tmp.rglob("out.raw")), "ngspice never started"
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err, err
    assert list(tmp.iterdir()) == [] and not (tmp_path / "o").exists()


# --- complete cache keys -----------------------------------------------------------------------------


def test_sweep_points_with_one_netlist_and_different_theory_are_computed_apart(tmp_path):
    # noise placed at 300 K in both points; the theory assumes 300 K or 600 K: the same netlist, two
    # verdicts. The variance ratio to theory must be 1 and 1/2, each within 4 SE of its run.
    from thermosim.runs.experiment import prepare
    from thermosim.runs.spec import spec_from_table
    from thermosim.runs.sweep import load_sweep, point_table, points

    sweep_path = tmp_path / "s.toml"
    sweep_path.write_text(
        'name = "s"\nbase = "rc_single"\nmetrics = ["var_ratio[0]"]\nreplicas = 1\n[set]\n'
        '"sim.t_stop_s" = 0.02\n"circuit.actual_temperature_k" = 300.0\n'
        '[[axes]]\nkey = "circuit.temperature_k"\nvalues = [300.0, 600.0]\n'
    )
    sweep = load_sweep(sweep_path)
    nets = [prepare(spec_from_table(point_table(sweep, p.params))).netlist for p in points(sweep)]
    assert nets[0] == nets[1]
    assert len({p.key for p in points(sweep)}) == 2
    r = thermosim("sweep", str(sweep_path), "--workers", "2", "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    assert "2 computed, 0 reused" in r.stderr
    for f, expected in zip(
        sorted((tmp_path / "o" / "points").glob("*.json"), key=lambda f: json.loads(f.read_text())["point"]),
        (1.0, 0.5),
        strict=True,
    ):
        m = json.loads(f.read_text())["metrics"]
        ratio = m["cov"][0][0] / m["cov_theory"][0][0]
        se = m["cov_se"][0][0] / m["cov_theory"][0][0]
        assert abs(ratio - expected) < 4 * se, (ratio, expected, se)
    r = thermosim("sweep", str(sweep_path), "--resume", "--out", str(tmp_path / "o"))
    assert r.returncode == 0 and "0 computed, 2 reused" in r.stderr, r.stderr


# --- minor items --------------------------------------------------------------------------------------


def test_huge_and_zero_seeds_are_stored_exactly(tmp_path):
    spec = tmp_path / "tiny.toml"
    spec.write_text(
        (ROOT / "circuits" / "rc_single.toml").read_text().replace("t_stop_s = 0.2", "t_stop_s = 0.002")
    )
    for seed in (0, 2**64 - 1):
        out = tmp_path / f"o{seed}"
        p = thermosim("run", str(spec), "--seed", str(seed), "--no-plots", "--json", "--out", str(out))
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout)["seed"] == seed
        with np.load(out / "samples.npz", allow_pickle=False) as z:
            assert int(z["seed"]) == seed
    refused(thermosim("run", str(spec), "--seed", str(2**64)))


def test_repeated_probe_keeps_every_node(box):
    (box / "net" / "c.cir").write_text(RC.format(extra=""))
    p = thermosim(
        "run", str(box / "net" / "c.cir"), "--probe", "n1", "--probe", "in", "--json", "--out", str(box / "o")
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["variables"] == ["v(n1)", "v(in)"]


def test_long_name_is_refused_at_validation(tmp_path):
    spec = tmp_path / "long.toml"
    spec.write_text(
        (ROOT / "circuits" / "rc_single.toml").read_text().replace('"rc_single"', '"' + "a" * 240 + '"')
    )
    refused(thermosim("netlist", str(spec)), "at most 100 characters")


def test_raw_write_error_is_reported_as_a_disk_problem():
    from thermosim.spice.runner import _diagnose

    message, line = _diagnose("Doing analysis at TEMP = 27\nrawfile write error\nsimulation(s) aborted\n")
    assert "could not write its raw file" in message and line == "rawfile write error"
