"""The package's shape is enforced, not hoped for: the import-linter contracts in pyproject.toml (a
module imports only from layers below its own), a short root, modules under 400 lines, and no plotting
backend forced at import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import thermosim

PACKAGE = Path(thermosim.__file__).parent
ROOT_MODULES = {"__init__", "api", "bench", "errors", "paths", "physics", "plots", "results"}


def test_import_linter_contracts_are_kept():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency (pip install -e '.[dev]')"
    out = subprocess.run(
        [exe, "--config", str(PACKAGE.parent / "pyproject.toml"), "--no-cache"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


def test_a_wrong_way_import_breaks_the_contract(tmp_path):
    """The contract bites: a copy of the package where the engine imports the runs layer fails."""
    copy = tmp_path / "thermosim"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "_data"))
    guard = copy / "spice" / "guard.py"
    guard.write_text(guard.read_text() + "\nfrom ..runs import spec  # noqa\n")
    shutil.copy(PACKAGE.parent / "pyproject.toml", tmp_path / "pyproject.toml")
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    out = subprocess.run(
        [exe, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)}
    )
    assert out.returncode != 0 and "thermosim.spice.guard -> thermosim.runs.spec" in out.stdout


def test_the_root_holds_only_the_front_door_and_the_leaves():
    assert {p.stem for p in PACKAGE.glob("*.py")} == ROOT_MODULES


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_size_and_no_forced_backend(path):
    text = path.read_text()
    assert len(text.splitlines()) < 400, f"{path.name}: split it by responsibility"
    if path.parent.name != "cli":
        assert "matplotlib.use(" not in text, f"{path.name}: only the command line picks a backend"


def test_no_import_cycles():
    """Between any two modules, imports go one way (grimp, import-linter's graph, finds every chain)."""
    import grimp

    graph = grimp.build_graph("thermosim", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert not cycles, cycles
