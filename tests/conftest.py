from __future__ import annotations

import fcntl
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAVE_NGSPICE = shutil.which("ngspice") is not None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Simulator tests are skipped only when ngspice is truly absent; CI installs it, so there they run.
    if HAVE_NGSPICE:
        return
    skip = pytest.mark.skip(reason="ngspice is not installed")
    for item in items:
        if "ngspice" in item.keywords:
            item.add_marker(skip)


def thermosim(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600):
    """Run the real command line; returns CompletedProcess (text)."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "thermosim.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=timeout,
    )


class Once:
    """Values computed once per test run, whichever test process asks first (the others wait and read it).

    The test processes of one run share a folder; each value is a pickle there, written under an exclusive
    lock on its own lock file. A process that dies while computing releases its lock (the kernel drops
    it), so a waiting process then computes the value itself; a value whose computation raised is not
    stored, so the next asker tries again and sees the same error.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pickle"

    def _compute_locked(self, key: str, make: Callable[[], object]) -> object:
        path = self._path(key)
        if path.exists():
            return pickle.loads(path.read_bytes())
        value = make()
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(pickle.dumps(value))
        tmp.replace(path)
        return value

    def get(self, key: str, make: Callable[[], object]) -> object:
        with open(self.folder / f"{key}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._compute_locked(key, make)

    def claim(self, key: str, make: Callable[[], object]) -> bool:
        """Compute the value now unless it is stored or another process is computing it; True if stored."""
        with open(self.folder / f"{key}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            self._compute_locked(key, make)
            return True

    def get_all(self, makers: dict[str, Callable[[], object]], threads: int = 1) -> dict[str, object]:
        """Every value of ``makers``; the work is shared with any other process asking at the same time
        (each takes the values no one is computing yet, ``threads`` at a time), then waits for the rest."""
        with ThreadPoolExecutor(max_workers=threads) as ex:
            list(ex.map(lambda k: self.claim(k, makers[k]), makers))
        return {k: self.get(k, makers[k]) for k in makers}


@pytest.fixture(scope="session")
def once(tmp_path_factory) -> Once:
    """The run's :class:`Once` (its folder is shared by all test processes of the run)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # each test process has its own base folder inside the run's
    return Once(base / "once")


SHIPPED = ("rc_single", "rc_pair_thermal", "gauss4", "spu8", "quartic1", "pbit", "ring2", "quartic_cmos")
# The suite runs the longest shipped specs for a part of their sim.t_stop_s: every check they feed is k
# standard errors of the run's own effective sample size, so a shorter run widens its bands and keeps
# them exact (half the length: √2 wider). rc_single stays whole (its test asks 3 SE < 1 % of kT/C), and
# `make demo` runs them all at full length. ring2 feeds only the one-point-per-noise-step check.
SHIPPED_FRACTION = {"pbit": 0.5, "gauss4": 0.5, "spu8": 0.5, "rc_pair_thermal": 0.5, "ring2": 0.25}


class ShippedRuns(Mapping):
    """Each shipped spec run once through `thermosim run --json` (seeded as in its spec; the longest for
    a part of their length, SHIPPED_FRACTION), on first use: name → (exit code, the printed JSON, the
    output folder)."""

    def __init__(self, once: Once):
        self.once = once

    def _run(self, name: str):
        out = self.once.folder / "shipped" / name
        from thermosim.runs.spec import find_spec, read_toml

        shorter = []
        if name in SHIPPED_FRACTION:
            t_stop = read_toml(find_spec(name))["sim"]["t_stop_s"] * SHIPPED_FRACTION[name]
            shorter = ["--set", f"sim.t_stop_s={t_stop!r}"]
        # the physics, not the figures (those are drawn, and opened, by the demo and test_figures18)
        p = thermosim("run", name, "--json", "--no-plots", "--out", str(out), *shorter)
        assert p.returncode in (0, 1), p.stderr
        return p.returncode, json.loads(p.stdout), out

    def __getitem__(self, name: str):
        if name not in SHIPPED:
            raise KeyError(name)
        return self.once.get(f"shipped_{name}", lambda: self._run(name))

    def __iter__(self) -> Iterable[str]:
        return iter(SHIPPED)

    def __len__(self) -> int:
        return len(SHIPPED)


@pytest.fixture(scope="session")
def shipped_runs(once):
    if not HAVE_NGSPICE:
        pytest.skip("ngspice is not installed")
    return ShippedRuns(once)


@pytest.fixture
def dask_scheduler():
    """The address of a live local Dask cluster (2 single-threaded worker processes) for one test."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        worker_class=distributed.Worker,
    ) as cluster:
        yield cluster.scheduler_address
