"""Faults: ngspice killed mid-run, a timeout, a results directory that cannot be written, an interrupted
sweep and a killed sweep worker. Each ends with one clear error line (exit 2; 130 when interrupted; 1
when a sweep records failed points) and nothing half-written; a sweep resumed afterwards gives the same
table as a clean run.

Real ngspice runs throughout (no fakes here). The read-only directory is made with ``chattr +i``: the
tests run as root, and root ignores permission bits but not the immutable attribute.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, thermosim
from thermosim.results import MARKER, BackgroundSavez

pytestmark = pytest.mark.ngspice

SPEC = """name = "t"
family = "rc"
[circuit]
c_f = 1e-12
r_ohm = 1e6
[sim]
t_stop_s = {t_stop}
timeout_s = {timeout}
"""


def write_spec(path: Path, t_stop: float = 2e-3, timeout: float = 3600.0) -> Path:
    path.write_text(SPEC.format(t_stop=t_stop, timeout=timeout))
    return path


def error_line(p: subprocess.CompletedProcess, code: int = 2) -> str:
    """The one "thermosim: error:" line, which must be the last thing on stderr; no traceback."""
    assert p.returncode == code, (p.returncode, p.stdout[-1000:], p.stderr[-2000:])
    assert "Traceback" not in p.stderr, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    errors = [x for x in lines if x.startswith("thermosim: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], p.stderr
    return errors[0]


def no_litter(directory: Path) -> None:
    """No staging directory or temporary file anywhere below ``directory``."""
    left = [
        p
        for p in directory.rglob("*")
        if (p.name.startswith(".") and p.name != MARKER) or ".partial" in p.name
    ]
    assert not left, left


def children(pid: int) -> list[tuple[int, str, str]]:
    """(pid, comm, cmdline) of the direct children of ``pid`` (Linux /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == pid:
                comm = stat.split("(", 1)[1].rsplit(")", 1)[0]
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                out.append((int(d.name), comm, cmd))
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    return out


def ngspice_under(root: Path) -> list[int]:
    """Live ngspice processes whose run directory is below ``root`` (zombies have no cwd: not counted)."""
    out = []
    for d in Path("/proc").iterdir():
        try:
            if d.name.isdigit() and (d / "comm").read_text().strip() == "ngspice":
                if os.readlink(d / "cwd").startswith(str(root)):
                    out.append(int(d.name))
        except OSError:
            continue
    return out


def no_ngspice_left(root: Path) -> None:
    """Nothing this test started still runs (a second's grace for the kernel to deliver the kill)."""
    deadline = time.monotonic() + 5
    while ngspice_under(root) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = ngspice_under(root)
    for pid in left:  # do not leak them into the rest of the suite, then fail
        os.kill(pid, signal.SIGKILL)
    assert not left, f"ngspice still running after the fault: {left}"


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def spawn(*args: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "thermosim.cli", *args],
        cwd=cwd,
        env=dict(os.environ, **(env or {})),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> subprocess.CompletedProcess:
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# ---- ngspice killed mid-run, timeouts


def test_ngspice_killed_mid_run_is_one_line_and_writes_nothing(tmp_path):
    spec = write_spec(tmp_path / "t.toml", t_stop=2.0)  # ~20 s of ngspice: killed long before the end
    proc = spawn("run", str(spec), "--no-plots", cwd=tmp_path, env={"TMPDIR": str(tmp_path)})
    ngspice = wait_for(
        lambda: [pid for pid, comm, cmd in children(proc.pid) if comm == "ngspice" and " -b " in cmd],
        what="ngspice to start",
    )
    time.sleep(0.5)  # mid-run: the raw file is growing
    os.kill(ngspice[0], signal.SIGKILL)
    line = error_line(finish(proc))
    assert "ngspice was killed by signal SIGKILL before it finished" in line
    assert "log: " in line and "netlist: " in line  # the kept run directory, for inspection
    assert not (tmp_path / "results").exists()
    no_litter(tmp_path)


def test_interrupted_run_stops_ngspice_and_writes_nothing(tmp_path):
    spec = write_spec(tmp_path / "t.toml", t_stop=2.0)
    proc = spawn("run", str(spec), "--no-plots", cwd=tmp_path, env={"TMPDIR": str(tmp_path)})
    wait_for(lambda: ngspice_under(tmp_path), what="ngspice to start")
    time.sleep(0.3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)  # Ctrl-C to thermosim only: ngspice must not run on
    p = finish(proc, timeout=60)
    assert time.monotonic() - t0 < 20
    assert p.returncode == 130 and p.stderr.rstrip().endswith("thermosim: interrupted"), p.stderr
    assert "Traceback" not in p.stderr
    no_ngspice_left(tmp_path)
    assert not (tmp_path / "results").exists()
    no_litter(tmp_path)


def test_ngspice_dies_with_the_process_that_started_it(tmp_path):
    # a sweep worker killed mid-run must not leave its ngspice running (or blocked on a noise pipe)
    spec = write_spec(tmp_path / "t.toml", t_stop=2.0)  # ~20 s of ngspice
    code = (
        "import sys; from thermosim.runs.experiment import prepare, simulate_scratch; "
        "from thermosim.runs.spec import load_spec; simulate_scratch(prepare(load_spec(sys.argv[1])))"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", code, str(spec)], cwd=ROOT, env=dict(os.environ, TMPDIR=str(tmp_path))
    )
    try:
        wait_for(lambda: ngspice_under(tmp_path), what="ngspice to start")
        time.sleep(0.3)
        worker.kill()  # SIGKILL: no clean-up code runs in the worker
        worker.wait()
        no_ngspice_left(tmp_path)
    finally:
        worker.kill()


def test_spec_timeout_is_one_line_and_writes_nothing(tmp_path):
    spec = write_spec(tmp_path / "t.toml", t_stop=2.0, timeout=0.5)
    t0 = time.monotonic()
    p = thermosim("run", str(spec), "--no-plots", cwd=tmp_path, env={"TMPDIR": str(tmp_path)})
    assert time.monotonic() - t0 < 15
    line = error_line(p)
    assert "ngspice timed out after 0.5 s (the limit: a spec's sim.timeout_s" in line
    assert not (tmp_path / "results").exists()
    no_litter(tmp_path)


def test_environment_timeout_caps_a_foreign_netlist(tmp_path):
    net = tmp_path / "slow.cir"  # 10 million fixed steps of an RC: minutes without the cap
    net.write_text("* slow\nV1 in 0 SIN(0 1 1e6)\nR1 in out 1k\nC1 out 0 1n\n.tran 1n 10m 0 1n\n.end\n")
    p = thermosim(
        "run", str(net), cwd=tmp_path, env={"TMPDIR": str(tmp_path), "THERMOSIM_NGSPICE_TIMEOUT_S": "0.5"}
    )
    line = error_line(p)
    assert "ngspice timed out after 0.5 s (the limit set by THERMOSIM_NGSPICE_TIMEOUT_S)" in line
    assert not (tmp_path / "results").exists()


# ---- results that cannot be written


def test_results_path_through_a_file(tmp_path):
    spec = write_spec(tmp_path / "t.toml")
    (tmp_path / "afile").write_text("not a directory\n")
    env = {"TMPDIR": str(tmp_path)}
    p = thermosim("run", str(spec), "--no-plots", "--out", "afile/t", cwd=tmp_path, env=env)
    assert "cannot write the results to afile/t" in error_line(p)
    assert (tmp_path / "afile").read_text() == "not a directory\n"
    no_litter(tmp_path)


def test_samples_written_beside_the_analysis_move_into_place_or_leave_nothing(tmp_path):
    # results.BackgroundSavez: a run's samples.npz is written while its analysis runs, then renamed into
    # its staging folder; a write that failed must neither move nor stay behind
    x = np.arange(6.0).reshape(3, 2)
    BackgroundSavez(tmp_path, samples=x).move(tmp_path / "s.npz")
    np.testing.assert_array_equal(np.load(tmp_path / "s.npz")["samples"], x)
    BackgroundSavez(tmp_path, samples=x).discard()
    failing = BackgroundSavez(tmp_path, samples=x, bad=np.array([lambda: 0]))  # a lambda does not pickle
    with pytest.raises(Exception, match="lambda"):
        failing.move(tmp_path / "t.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npz"]


@pytest.fixture
def immutable(tmp_path):
    """Make directories read-only even for root (chattr +i); always undone, so pytest can clean up."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not available")
    made: list[Path] = []

    def freeze(path: Path) -> None:
        r = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {r.stderr.strip()}")
        made.append(path)

    yield freeze
    for path in made:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_read_only_results_directory_keeps_the_previous_results(tmp_path, immutable):
    spec = write_spec(tmp_path / "t.toml")
    env = {"TMPDIR": str(tmp_path)}
    assert thermosim("run", str(spec), "--no-plots", cwd=tmp_path, env=env).returncode in (0, 1)
    old = {p.name: p.read_bytes() for p in (tmp_path / "results" / "t").iterdir()}
    immutable(tmp_path / "results")
    p = thermosim("run", str(spec), "--no-plots", "--seed", "2", cwd=tmp_path, env=env)
    line = error_line(p)
    assert "cannot write the results to results/t: Operation not permitted" in line
    assert {p.name: p.read_bytes() for p in (tmp_path / "results" / "t").iterdir()} == old
    no_litter(tmp_path)


# ---- sweeps: interrupted, a worker killed, a point that cannot be written; then --resume

SWEEP = """name = "faults"
base = "rc_single"
replicas = 1
seed = 3
metrics = ["var_ratio[0]", "n_points"]
[set]
"sim.t_stop_s" = 0.01
[[axes]]
key = "circuit.temperature_k"
values = [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]
"""


@pytest.fixture(scope="module")
def sweep_spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "faults.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def clean_table(sweep_spec) -> str:
    out = sweep_spec.parent / "clean"
    p = thermosim("sweep", str(sweep_spec), "--workers", "1", "--out", str(out))
    assert p.returncode == 0, p.stderr
    return (out / "table.csv").read_text()


def points_done(out: Path) -> list[Path]:
    # finished points only: a temporary file in flight (".<key>.json.XXXX.json") is no_litter's concern
    found = (out / "points").glob("*.json") if (out / "points").is_dir() else []
    return sorted(f for f in found if not f.name.startswith("."))


def resume_and_compare(sweep_spec: Path, out: Path, kept: dict, clean_table: str) -> None:
    """--resume reuses the kept points untouched, computes the rest, and the table equals a clean run's."""
    p = thermosim("sweep", str(sweep_spec), "--workers", "1", "--resume", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert f"{len(kept)} reused, {6 - len(kept)} to run" in p.stderr
    for name, content in kept.items():
        assert (out / "points" / name).read_bytes() == content
    assert (out / "table.csv").read_text() == clean_table
    no_litter(out)


def test_interrupted_sweep_keeps_finished_points_and_resumes(tmp_path, sweep_spec, clean_table):
    out = tmp_path / "o"
    env = {"TMPDIR": str(tmp_path)}
    proc = spawn("sweep", str(sweep_spec), "--workers", "1", "--out", str(out), cwd=tmp_path, env=env)
    wait_for(lambda: len(points_done(out)) >= 1, what="a finished point")
    proc.send_signal(signal.SIGINT)  # Ctrl-C to the sweep process
    p = finish(proc)
    assert p.returncode == 130, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    assert "interrupted;" in p.stderr and "rerun with --resume" in p.stderr, p.stderr
    assert p.stderr.rstrip().endswith("thermosim: interrupted"), p.stderr
    kept = {f.name: f.read_bytes() for f in points_done(out)}
    assert 1 <= len(kept) < 6, p.stderr
    assert all(json.loads(c)["status"] == "ok" for c in kept.values())  # whole files only
    assert not (out / "table.csv").exists()  # no table of a half-done sweep
    no_litter(out)
    no_ngspice_left(tmp_path)
    resume_and_compare(sweep_spec, out, kept, clean_table)


def test_killed_worker_fails_the_rest_then_resume_completes(tmp_path, sweep_spec, clean_table):
    out = tmp_path / "o"
    env = {"TMPDIR": str(tmp_path)}
    proc = spawn("sweep", str(sweep_spec), "--workers", "1", "--out", str(out), cwd=tmp_path, env=env)
    wait_for(lambda: len(points_done(out)) >= 1, what="a finished point")
    workers = [pid for pid, _, cmd in children(proc.pid) if "spawn_main" in cmd]
    assert workers, children(proc.pid)
    os.kill(workers[0], signal.SIGKILL)
    p = finish(proc)
    assert p.returncode == 1, p.stderr  # the lost runs are recorded as failed points
    assert "Traceback" not in p.stderr and "BrokenProcessPool" in p.stderr
    records = {f.name: f.read_bytes() for f in points_done(out)}
    kept = {name: c for name, c in records.items() if json.loads(c)["status"] == "ok"}
    assert 1 <= len(kept) < 6 and len(records) == 6, p.stderr
    no_litter(out)
    no_ngspice_left(tmp_path)  # the killed worker's ngspice died with it (not left waiting on a pipe)
    resume_and_compare(sweep_spec, out, kept, clean_table)


def test_sweep_point_that_cannot_be_written(tmp_path, sweep_spec, immutable):
    out = tmp_path / "o"
    (out / "points").mkdir(parents=True)
    (out / MARKER).write_text("a sweep folder of thermosim's\n")
    immutable(out / "points")
    p = thermosim("sweep", str(sweep_spec), "--workers", "1", "--out", str(out), cwd=tmp_path)
    line = error_line(p)
    assert f"cannot write {out / 'points'}/" in line and "Operation not permitted" in line
    assert not list((out / "points").iterdir()) and not (out / "table.csv").exists()


def test_repository_untouched():
    # no fault test writes into the checkout (results/ there is the committed demo output)
    assert not [p for p in (ROOT / "results").glob(".*partial*")]
