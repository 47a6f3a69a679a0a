"""Sweeps: validation, content addresses, resume after kill -9, concurrent writers, executors agree."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, thermosim
from thermosim.errors import SpecError
from thermosim.results import MARKER
from thermosim.runs.sweep import _sweep_from_table, load_sweep, points

BASE = {
    "name": "t",
    "base": "rc_single",
    "metrics": ["var_ratio[0]", "n_points"],
    "set": {"sim.t_stop_s": 0.002},
    "replicas": 2,
    "seed": 7,
    "axes": [{"key": "circuit.temperature_k", "values": [100.0, 300.0, 900.0]}],
}


def write_sweep(path: Path, **changes) -> Path:
    t = {**BASE, **changes}
    lines = [
        f'name = "{t["name"]}"',
        f'base = "{t["base"]}"',
        f"replicas = {t['replicas']}",
        f"seed = {t['seed']}",
        "metrics = [" + ", ".join(f'"{m}"' for m in t["metrics"]) + "]",
        "[set]",
    ]
    lines += [f'"{k}" = {v!r}' for k, v in t["set"].items()]
    for a in t["axes"]:
        lines.append("[[axes]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in a.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "change,match",
    [
        ({"axes": [{"key": "circuit.r_omh", "values": [1.0]}]}, r"unknown key 'circuit.r_omh'"),
        (
            {"axes": [{"key": "circuit.r_ohm", "values": [1e6, -1.0]}]},
            r"at circuit.r_ohm = -1.0: circuit.r_ohm must be > 0",
        ),
        ({"axes": [{"key": "name", "values": [1]}]}, r"'name' is not a circuit, sim or energy parameter"),
        ({"metrics": ["var_ratio"]}, r"metrics: 'var_ratio' is not a metric"),
        ({"metrics": ["kTC"]}, r"metrics: 'kTC' is not a metric"),
        ({"replicas": 0}, r"replicas must be an integer >= 1"),
        ({"base": "nope"}, r"base: nope: no such spec"),
        ({"axes": [{"key": "sim.seed", "start": 1}]}, r"axes\[0\] needs values"),
        ({"axes": [{"key": "sim.t_stop_s", "values": [1e-3], "stepp": 2}]}, r"unknown key 'axes\[0\].stepp'"),
    ],
)
def test_bad_sweeps_name_the_problem(change, match):
    with pytest.raises(SpecError, match=match):
        _sweep_from_table({**BASE, **change})


def test_bad_sweep_file_is_one_line_exit_2(tmp_path):
    p = write_sweep(tmp_path / "bad.toml", metrics=["nope"])
    r = thermosim("sweep", str(p), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "bad.toml: metrics: 'nope'" in r.stderr
    assert not (tmp_path / "o").exists()


def test_grid_seeds_and_content_addresses():
    s = _sweep_from_table(
        {
            **BASE,
            "axes": [
                *BASE["axes"],
                {"key": "sim.noise_step_s", "start": 1e-7, "stop": 4e-7, "num": 3, "spacing": "log"},
            ],
        }
    )
    pts = points(s)
    assert len(pts) == 3 * 3 * 2
    assert {p.seed for p in pts} == {7, 8}
    assert len({p.key for p in pts}) == len(pts)
    assert [p.key for p in points(s)] == [p.key for p in pts]  # stable
    vals = s.axes[1].values
    assert vals[0] == pytest.approx(1e-7) and vals[1] == pytest.approx(2e-7) and s.axes[1].log


def test_independent_seeds_differ_between_points():
    s = _sweep_from_table({**BASE, "independent_seeds": True})
    pts = points(s)
    # point i, replica r → seed + i·replicas + r: every run its own noise
    assert sorted(p.seed for p in pts) == list(range(7, 7 + len(pts)))
    assert len({p.seed for p in pts if p.replica == 0}) == len(pts) // s.replicas


def test_shipped_sweeps_load():
    for name in ("noise_step", "gauss4_temperature", "spu8_damping", "quartic_kt"):
        assert load_sweep(name).name == name


def spawn_sweep(spec: Path, out: Path, **popen) -> subprocess.Popen:
    """`thermosim sweep SPEC --workers 1 --out OUT` in the background."""
    cmd = [sys.executable, "-m", "thermosim.cli", "sweep", str(spec), "--workers", "1", "--out", str(out)]
    return subprocess.Popen(cmd, cwd=ROOT, **popen)


def read_table(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


@pytest.mark.ngspice
def test_sweep_tables_resume_and_same_seeds(tmp_path):
    p = write_sweep(tmp_path / "s.toml")
    r = thermosim("sweep", str(p), "--workers", "2", "--out", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    rows = read_table(tmp_path / "a" / "table.csv")
    assert len(rows) == 6 and {r["status"] for r in rows} == {"ok"}
    assert {r["seed"] for r in rows} == {"7", "8"}
    summary = read_table(tmp_path / "a" / "summary.csv")
    assert len(summary) == 3 and all(s["n_ok"] == "2" for s in summary)
    assert (tmp_path / "a" / "var_ratio_0.png").exists()
    # same seeds, fresh directory, one worker: identical table
    r = thermosim("sweep", str(p), "--workers", "1", "--out", str(tmp_path / "b"))
    assert (tmp_path / "a" / "table.csv").read_text() == (tmp_path / "b" / "table.csv").read_text()
    # resume: nothing to compute
    r = thermosim("sweep", str(p), "--resume", "--out", str(tmp_path / "a"))
    assert "6 reused, 0 to run" in r.stderr


@pytest.mark.ngspice
def test_dask_gives_the_same_table(tmp_path):
    pytest.importorskip("distributed")
    p = write_sweep(tmp_path / "s.toml", replicas=1)
    for out, extra in (("pool", []), ("dask", ["--dask"])):
        r = thermosim("sweep", str(p), "--workers", "2", *extra, "--out", str(tmp_path / out))
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "pool" / "table.csv").read_text() == (tmp_path / "dask" / "table.csv").read_text()


def test_missing_dask_is_a_clear_error(monkeypatch):
    from thermosim.runs.executor import make_executor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ValueError, match=r"Dask is not installed: pip install 'thermosim\[dask\]'"):
        with make_executor(2, dask=True):
            pass


@pytest.mark.ngspice
def test_kill_9_then_resume_loses_and_repeats_nothing(tmp_path):
    # 6 points of ~0.15 s each on one worker; kill the whole process group once 2 points are written
    p = write_sweep(
        tmp_path / "s.toml",
        replicas=1,
        set={"sim.t_stop_s": 0.03},
        axes=[{"key": "circuit.temperature_k", "values": [100.0 * (i + 1) for i in range(6)]}],
    )
    out = tmp_path / "o"
    proc = spawn_sweep(p, out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while len(list((out / "points").glob("*.json"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {f.name: (f.read_bytes(), f.stat().st_mtime_ns) for f in (out / "points").glob("*.json")}
    assert 2 <= len(done) < 6
    for content, _ in done.values():
        json.loads(content)  # whole files only
    r = thermosim("sweep", str(p), "--workers", "1", "--resume", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert f"{len(done)} reused, {6 - len(done)} to run" in r.stderr
    for name, (content, mtime) in done.items():
        f = out / "points" / name
        assert f.read_bytes() == content and f.stat().st_mtime_ns == mtime  # not recomputed
    assert len(read_table(out / "table.csv")) == 6
    assert not [f for f in out.rglob("*") if f.name.startswith(".") and f.name != MARKER]  # no temp files


@pytest.mark.ngspice
def test_two_sweeps_into_one_directory(tmp_path):
    p1 = write_sweep(tmp_path / "s1.toml", replicas=1)
    p2 = write_sweep(tmp_path / "s2.toml", replicas=1, seed=99)
    out = tmp_path / "shared"
    procs = [spawn_sweep(p, out, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for p in (p1, p2)]
    for pr in procs:
        assert pr.wait(timeout=300) == 0, pr.stderr.read()
    files = list((out / "points").glob("*.json"))
    assert len(files) == 6  # 3 points × 2 seeds, distinct content addresses
    for f in files:
        rec = json.loads(f.read_text())
        assert rec["status"] == "ok" and rec["seed"] in (7, 99)
    rows = read_table(out / "table.csv")  # whole, from one of the two sweeps
    assert len(rows) == 3 and len({r["seed"] for r in rows}) == 1


@pytest.mark.ngspice
def test_failed_point_is_recorded_and_sweep_goes_on(tmp_path):
    p = write_sweep(
        tmp_path / "s.toml",
        replicas=1,
        set={"sim.timeout_s": 1.0},
        axes=[{"key": "sim.t_stop_s", "values": [0.002, 2.0]}],  # 2 s of circuit ≈ 40 s of ngspice
    )
    r = thermosim("sweep", str(p), "--workers", "1", "--out", str(tmp_path / "o"))
    assert r.returncode == 1
    rows = read_table(tmp_path / "o" / "table.csv")
    assert [r["status"] for r in rows] == ["ok", "error"] and "timed out" in rows[1]["error"]


@pytest.mark.ngspice
def test_plot_replots_from_the_table(tmp_path):
    p = write_sweep(tmp_path / "s.toml", replicas=1)
    assert thermosim("sweep", str(p), "--workers", "2", "--out", str(tmp_path / "o")).returncode == 0
    (tmp_path / "o" / "n_points.png").unlink()
    r = thermosim("plot", str(tmp_path / "o"), "--y", "n_points")
    assert r.returncode == 0 and (tmp_path / "o" / "n_points.png").exists()
    r = thermosim("plot", str(tmp_path / "o"), "--y", "nonsense")
    assert r.returncode == 2 and "no metric column 'nonsense'" in r.stderr


@pytest.mark.ngspice
def test_existing_dask_scheduler(tmp_path, dask_scheduler):
    p = write_sweep(tmp_path / "s.toml", replicas=1)
    r = thermosim("sweep", str(p), "--scheduler", dask_scheduler, "--out", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    rows = read_table(tmp_path / "o" / "table.csv")
    assert [r["status"] for r in rows] == ["ok"] * 3
    bad = thermosim("sweep", str(p), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "x"))
    assert (
        bad.returncode == 2
        and bad.stderr.count("\n") == 1
        and "cannot reach the Dask scheduler" in bad.stderr
    )
    assert not (tmp_path / "x").exists()
