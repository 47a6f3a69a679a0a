"""The bad-input corpus (tests/bad_inputs/cases.toml): every case is one line on stderr and exit 2.

Each case runs the real command line in a scratch copy of tests/bad_inputs/ and checks what a user sees:
exit code 2, exactly one non-empty stderr line, starting "thermosim: error: " and containing the case's
expected text, no traceback, and no file left behind (nothing under results/, nothing new anywhere in
the working directory). ngspice's run directories go to a separate TMPDIR: a failed run keeps its run
directory on purpose (the error names it), so it is not counted as litter.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.conftest import HAVE_NGSPICE, thermosim

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = tomllib.loads((CORPUS / "cases.toml").read_text())["case"]
KEYS = {"id", "argv", "error", "ngspice", "env"}


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_manifest_is_well_formed():
    ids = [c.get("id") for c in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids), "ids must be unique"
    for c in CASES:
        assert set(c) <= KEYS and {"id", "argv", "error"} <= set(c), c
        assert isinstance(c["argv"], list) and all(isinstance(a, str) for a in c["argv"]), c["id"]
        assert isinstance(c["error"], str) and c["error"], c["id"]
    # every file of the corpus is exercised by some case (argv or env), so none rots unused
    used = " ".join(" ".join(c["argv"]) + " " + " ".join(c.get("env", {}).values()) for c in CASES)
    # ... or by a fake ngspice a case uses (each wrapper names the raw file it "writes")
    used += " ".join(f.read_text() for f in CORPUS.glob("fake_ngspice*") if f.name in used)
    unused = [f.name for f in CORPUS.iterdir() if f.name != "cases.toml" and f.name not in used]
    assert not unused, f"files in tests/bad_inputs/ no case uses: {unused}"


def run_case(case: dict, root: Path) -> dict:
    """Run one case in its own scratch copy of the corpus; what the checks need."""
    work, run_tmp = root / case["id"] / "work", root / case["id"] / "tmp"
    shutil.copytree(CORPUS, work)
    run_tmp.mkdir()
    before = files_under(work)
    env = {k: v.format(cwd=work) for k, v in case.get("env", {}).items()}
    p = thermosim(*case["argv"], cwd=work, env={"TMPDIR": str(run_tmp), **env}, timeout=120)
    return {"proc": p, "work": work, "before": before, "after": files_under(work)}


@pytest.fixture(scope="session")
def corpus_runs(request, once):
    """Every selected case, run once per test run (one subprocess each, two at a time in each test
    process; the processes of the run share the cases between them).

    Each case is a whole `thermosim` process of ~0.4 s, mostly imports: running them side by side
    keeps the corpus cheap as it grows.
    """
    wanted = {
        item.callspec.params["case"]["id"]
        for item in request.session.items
        if hasattr(item, "callspec") and "case" in item.callspec.params
    }
    todo = [c for c in CASES if c["id"] in wanted and (HAVE_NGSPICE or not c.get("ngspice"))]
    root = once.folder / "corpus"
    makers = {f"corpus_{c['id']}": (lambda c=c: run_case(c, root)) for c in todo}
    runs = once.get_all(makers, threads=2)
    return {c["id"]: runs[f"corpus_{c['id']}"] for c in todo}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_is_one_line_and_exit_2(corpus_runs, case):
    if case.get("ngspice") and not HAVE_NGSPICE:
        pytest.skip("ngspice is not installed")
    r = corpus_runs[case["id"]]
    p, work = r["proc"], r["work"]
    assert p.returncode == 2, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    assert "Traceback" not in p.stderr, p.stderr
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("thermosim: error: "), lines[0]
    assert case["error"] in lines[0], f"expected {case['error']!r} in {lines[0]!r}"
    assert not (work / "results").exists() or not any((work / "results").rglob("*")), "results/ written"
    assert r["after"] == r["before"], f"left behind: {sorted(r['after'] - r['before'])}"


def test_fake_ngspice_is_executable():
    # the stand-in ngspice of the raw-file cases must stay executable when the corpus is copied
    assert os.access(CORPUS / "fake_ngspice", os.X_OK)
