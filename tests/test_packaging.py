"""A non-editable install works from any folder: the shipped specs, model cards and netlists travel
inside the wheel (thermosim/_data), and nothing reads the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.ngspice


def test_pip_install_then_run_from_another_folder(tmp_path):
    target, elsewhere, source = tmp_path / "site", tmp_path / "elsewhere", tmp_path / "source"
    elsewhere.mkdir()
    # a copy of the checkout's sources (pip builds in the source tree; the checkout stays untouched)
    skip = shutil.ignore_patterns(".*", "results", "build", "*.egg-info", "__pycache__", "tests", "docs")
    shutil.copytree(ROOT, source, symlinks=True, ignore=skip)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    assert (target / "thermosim" / "_data" / "circuits" / "models" / "cmos_0p5um_level1.lib").is_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERMOSIM")}
    env["PYTHONPATH"] = str(target)  # ahead of the checkout's editable install
    where = subprocess.run(
        [sys.executable, "-c", "import thermosim.paths as p; print(p.__file__, p.CIRCUITS_DIR)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(target) in where and str(ROOT) not in where.replace(str(target), "")
    run = subprocess.run(
        [sys.executable, "-m", "thermosim.cli", "run", "rc_single", "--no-plots", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["passed"] is True
    assert (elsewhere / "results" / "rc_single" / "metrics.json").is_file()
    check = subprocess.run(
        [sys.executable, "-m", "thermosim.cli", "netlists", "--check"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr  # the wheel's netlists match its specs
