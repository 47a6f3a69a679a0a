"""The Python front door: `import thermosim` is cheap and complete, results are typed, a family defined
in user code (this file, a notebook, a plugin package) runs and sweeps like a shipped one, and the
README's Python quickstart and the examples/ script run as written."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import thermosim as ts
from tests.conftest import ROOT
from thermosim.physics import K_B


def test_import_is_cheap_and_lists_the_api():
    code = (
        "import sys, thermosim as ts; "
        "assert 'run' in dir(ts) and 'Result' in dir(ts); "
        "heavy = [m for m in ('matplotlib', 'PySpice', 'scipy', 'jax', 'pandas') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ts.nope  # noqa: B018


# --- a family of this file alone: one noisy RC node at a temperature of its own ------------------------
@dataclasses.dataclass(frozen=True)
class OneNodeParams:
    c_f: float = 2e-12  # node capacitance
    r_ohm: float = 5e4  # resistor to ground
    temperature_k: float = 300.0  # of the resistor


@ts.family("test_one_node", OneNodeParams)
def build_one_node(p: OneNodeParams) -> ts.Built:
    """One RC node with Johnson noise: Var v = kT/C."""
    from PySpice.Spice.Netlist import Circuit

    circuit = Circuit("one node")
    plan = ts.NoisePlan()
    plan.capacitor(circuit, "1", "n1", p.c_f)
    circuit.R("1", "n1", circuit.gnd, p.r_ohm)
    plan.johnson("n1", None, p.r_ohm, p.temperature_k)
    tau = p.r_ohm * p.c_f
    return ts.Built(
        circuit=circuit,
        noise=plan,
        variables=("v(n1)",),
        theory=ts.Theory(mean=np.zeros(1), cov=np.array([[K_B * p.temperature_k / p.c_f]])),
        tau_fast_s=tau,
        tau_slow_s=tau,
        linear=True,
    )


def test_a_family_in_user_code_runs_against_its_theory(tmp_path):
    """The new family touches one file (this one): registered by the decorator, named by a spec."""
    assert "test_one_node" in ts.families()
    assert "| `c_f` | float | `2e-12` | F | node capacitance |" in ts.describe("test_one_node")
    spec = tmp_path / "one.toml"
    spec.write_text(
        'name = "one"\nfamily = "test_one_node"\n[circuit]\ntemperature_k = 600.0\n[sim]\nt_stop_s = 2e-4\n'
    )
    r = ts.run(spec, seed=5, quiet=True)  # in memory
    assert isinstance(r, ts.Result) and r.out is None and r.files == {}
    assert r.samples.shape[1] == 1 and r.samples.shape[0] == len(r.times_s)
    assert all(isinstance(c, ts.Check) for c in r.checks) and r.passed
    var = next(c for c in r.checks if c.name == "var[v(n1)]")
    expected = K_B * 600.0 / 2e-12
    assert var.expected == pytest.approx(expected, rel=1e-12)
    assert abs(var.measured - expected) < 4 * var.se  # the check's own SE, from the effective sample size
    again = ts.run(spec, seed=5, quiet=True)
    assert again.metrics["samples_sha256"] == r.metrics["samples_sha256"]  # seeded: bit for bit


def test_overrides_and_a_written_run(tmp_path):
    r = ts.run("rc_single", out=tmp_path / "rc", overrides={"sim.t_stop_s": 2e-4}, quiet=True, plots=False)
    assert r.out == tmp_path / "rc" and {"metrics.json", "samples.npz", "rc_single.cir"} <= set(r.files)
    assert r.metrics["t_stop_s"] == pytest.approx(2e-4)
    with pytest.raises(ts.SpecError, match="'circuit.nope'.*did you mean|unknown key"):
        ts.run("rc_single", overrides={"circuit.nope": 1})


def test_sweep_returns_a_dataframe(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        textwrap.dedent(
            """\
            name = "s"
            base = "rc_single"
            metrics = ["var_ratio[0]", "passed"]
            [set]
            "sim.t_stop_s" = 2e-4
            [[axes]]
            key = "circuit.c_f"
            values = [1e-12, 2e-12]
            """
        )
    )
    df = ts.sweep(sweep, out=None, workers=1)
    assert isinstance(df, pd.DataFrame) and len(df) == 2 and df.attrs["out"] is None
    assert list(df["circuit.c_f"]) == [1e-12, 2e-12] and (df["status"] == "ok").all()
    # each point judged against kT/C by its own checks (k·SE from its effective sample size)
    assert (df["passed"] == 1).all() and df["var_ratio[0]"].notna().all()


def test_entry_point_plugins_register_their_families(tmp_path, monkeypatch):
    """A package declaring `[project.entry-points."thermosim.families"]` is loaded on import."""
    pkg = tmp_path / "ladder_plugin.py"
    pkg.write_text(
        "import dataclasses\nimport thermosim as ts\n"
        "@dataclasses.dataclass(frozen=True)\nclass P:\n    n: int = 1\n"
        "@ts.family('plugin_family', P)\ndef build(p):\n    raise NotImplementedError\n"
    )
    dist = tmp_path / "ladder_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ladder-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[thermosim.families]\nladder = ladder_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from thermosim.circuits import FAMILIES, load_plugins

    load_plugins()
    assert "plugin_family" in FAMILIES
    FAMILIES.pop("plugin_family")
    # a fresh process finds it when the name is asked for, and lists it, without anyone calling
    # load_plugins; the installed packages' metadata is not read before then (start-up time)
    probe = (
        "import sys\nfrom thermosim.circuits import FAMILIES\n"
        "before = 'importlib.metadata' in sys.modules\n"
        "print(before, FAMILIES['plugin_family'].name, 'plugin_family' in sorted(FAMILIES))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert p.stdout.split() == ["False", "plugin_family", "True"], p.stderr


def test_shipped_families_load_when_first_asked_for():
    # a run loads its own family's module only (start-up time), a listing all of them; a family a user
    # registers under a shipped name before that module loads stays registered when the module does load,
    # as it would have replaced the shipped one had that loaded first
    probe = (
        "import dataclasses, sys\nfrom thermosim.circuits import FAMILIES, register\n"
        "def loaded():\n    return sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
        "        if m.rsplit('.', 1)[0] in ('thermosim.circuits', 'thermosim.circuits.cmos'))\n"
        "@dataclasses.dataclass(frozen=True)\nclass P:\n    pass\n"
        "@register('cmos_ring', P)\ndef mine(p):\n    raise NotImplementedError\n"
        "print(loaded())\nprint(FAMILIES['rc'].name, loaded())\n"
        "print(len(FAMILIES), FAMILIES['cmos_ring'].build is mine, FAMILIES['cmos_pbit'].name)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert p.stdout.splitlines() == [
        "['built', 'registry']",
        "rc ['built', 'nonideal', 'rc', 'registry']",
        "8 True cmos_pbit",
    ], p.stderr


def _python_quickstart() -> str:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"## Python quickstart.*?```python\n(.*?)```", text, re.S)
    assert m, "README.md has a '## Python quickstart' section with a python code block"
    return m.group(1)


@pytest.mark.ngspice
def test_readme_python_quickstart_runs(tmp_path):
    code = _python_quickstart()
    assert len(code.splitlines()) <= 15
    out = subprocess.run(
        [sys.executable, "-c", "import matplotlib; matplotlib.use('Agg')\n" + code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]


@pytest.mark.ngspice
def test_example_custom_family_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "custom_family.py"), str(tmp_path / "ex")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (tmp_path / "ex" / "ladder.png").stat().st_size > 10_000
    table = pd.read_csv(tmp_path / "ex" / "sweep" / "table.csv")
    # common random numbers: the same noise, scaled by √T, so the ratio to kT/C is the same at every T
    assert np.ptp(table["var_ratio[0]"]) < 1e-9


def test_docs_reference_is_generated_from_the_dataclasses():
    """docs/reference.md is `thermosim describe --all` (a fresh process: only the shipped families)."""
    out = subprocess.run(
        [sys.executable, "-m", "thermosim.cli", "describe", "--all"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (ROOT / "docs" / "reference.md").read_text() == out.stdout, (
        "run: thermosim describe --all > docs/reference.md"
    )
    assert out.stdout.count("### `") == 8  # every shipped family


def test_api_names_survive_their_subpackages():
    """Importing thermosim.linalg.* or thermosim.compare.* leaves ts.linalg and ts.compare the API's."""
    import thermosim as ts
    import thermosim.compare.digits  # noqa: F401
    import thermosim.linalg.command  # noqa: F401
    from thermosim import api
    from thermosim.linalg import law

    assert ts.linalg is api.linalg and ts.compare is api.compare and callable(law.checkpoints)
