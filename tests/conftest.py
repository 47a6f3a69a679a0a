from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HAVE_NGSPICE = shutil.which("ngspice") is not None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    # the tests that share the session's shipped runs go to one test process (xdist's loadgroup)
    for item in items:
        if "shipped_runs" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("shipped_runs"))
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


@pytest.fixture(scope="session")
def shipped_runs(tmp_path_factory):
    """Each shipped spec run once through `thermosim run --json` (seeded as in its spec)."""
    if not HAVE_NGSPICE:
        pytest.skip("ngspice is not installed")
    out = tmp_path_factory.mktemp("shipped")
    runs = {}
    for name in (
        "rc_single",
        "rc_pair_thermal",
        "gauss4",
        "spu8",
        "quartic1",
        "pbit",
        "ring2",
        "quartic_cmos",
    ):
        p = thermosim("run", name, "--json", "--out", str(out / name))
        assert p.returncode in (0, 1), p.stderr
        runs[name] = (p.returncode, json.loads(p.stdout), out / name)
    return runs
