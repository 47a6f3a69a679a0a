"""Tests for thermosim.spice.raw: real ngspice raw files plus hand-built ones for the error paths."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from thermosim.spice.errors import SpiceError
from thermosim.spice.raw import RawPlot, RawTail, read_raw, read_tran

R, C = 1e3, 1e-6  # tau = 1 ms

RC_TRAN = f"""rc charging
V1 in 0 DC 1
R1 in out {R}
C1 out 0 {C} IC=0
.options reltol=1e-6
.tran 1u 5m 0 1u uic
.end
"""

RC_AC = f"""rc low-pass
V1 in 0 DC 0 AC 1
R1 in out {R}
C1 out 0 {C}
.ac dec 20 1 1meg
.end
"""

RC_OP_TRAN = f"""rc op then tran
V1 in 0 DC 1
R1 in out {R}
R2 out 0 {R}
C1 out 0 {C}
.op
.tran 10u 1m
.end
"""


def _ngspice(tmp_path: Path, netlist: str, env: dict[str, str] | None = None) -> Path:
    """Run ngspice in batch mode on ``netlist`` and return the binary raw file it wrote."""
    if shutil.which("ngspice") is None:
        pytest.skip("ngspice not installed")
    cir, raw = tmp_path / "c.cir", tmp_path / "c.raw"
    cir.write_text(netlist)
    proc = subprocess.run(
        ["ngspice", "-b", "-r", str(raw), str(cir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return raw


def _write_raw(path: Path, plots: list[tuple[str, str, list[tuple[str, str]], np.ndarray]]) -> None:
    """Write a binary raw file by hand: (plotname, flags, [(name, type)], point-major values) per plot."""
    with path.open("wb") as f:
        for plotname, flags, variables, values in plots:
            lines = ["Title: synthetic", "Date: today", f"Plotname: {plotname}", f"Flags: {flags}"]
            lines += [f"No. Variables: {len(variables)}", f"No. Points: {len(values):<8d}", "Variables:"]
            lines += [f"\t{i}\t{name}\t{kind}" for i, (name, kind) in enumerate(variables)]
            f.write(("\n".join(lines) + "\nBinary:\n").encode())
            dtype = "<c16" if flags == "complex" else "<f8"
            f.write(np.asarray(values, dtype=dtype).tobytes())


@pytest.mark.ngspice
def test_rc_transient_matches_analytic_charging(tmp_path: Path) -> None:
    plot = read_tran(_ngspice(tmp_path, RC_TRAN))
    assert plot.plotname == "Transient Analysis" and plot.flags == "real"
    assert plot.names == ("time", "v(in)", "v(out)", "i(v1)")
    assert plot.types == ("time", "voltage", "voltage", "current")
    assert all(
        plot.data[n].dtype == np.float64 and plot.data[n].shape == (plot.n_points,) for n in plot.names
    )
    t = plot["time"]
    assert plot.n_points > 100 and t[0] >= 0.0 and np.all(np.diff(t) > 0)
    assert math.isclose(t[-1], 5e-3, rel_tol=1e-9)
    charge = 1.0 - np.exp(-t / (R * C))
    np.testing.assert_allclose(plot["V(OUT)"], charge, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(plot["v(in)"], 1.0)
    np.testing.assert_allclose(-plot["i(v1)"], (1.0 - charge) / R, rtol=1e-3, atol=1e-9)


@pytest.mark.ngspice
def test_ac_is_complex_and_matches_lowpass_magnitude(tmp_path: Path) -> None:
    (plot,) = read_raw(_ngspice(tmp_path, RC_AC))
    assert plot.plotname == "AC Analysis" and plot.flags == "complex"
    assert plot.names[0] == "frequency" and plot.types[0] == "frequency"
    assert all(v.dtype == np.complex128 for v in plot.data.values())
    f = plot["frequency"].real
    assert plot.n_points == 121 and math.isclose(f[0], 1.0) and math.isclose(f[-1], 1e6)
    h = plot["v(out)"] / plot["v(in)"]
    np.testing.assert_allclose(np.abs(h), 1 / np.sqrt(1 + (2 * np.pi * f * R * C) ** 2), rtol=1e-6)
    np.testing.assert_allclose(np.angle(h), -np.arctan(2 * np.pi * f * R * C), atol=1e-6)


@pytest.mark.ngspice
def test_op_then_tran_gives_two_plots(tmp_path: Path) -> None:
    raw = _ngspice(tmp_path, RC_OP_TRAN)
    op, tran = read_raw(raw)
    assert (op.plotname, op.n_points) == ("Operating Point", 1)
    assert op.names == ("v(in)", "v(out)", "i(v1)")
    assert math.isclose(op["v(out)"][0], 0.5, rel_tol=1e-9)
    assert tran.plotname == "Transient Analysis" and tran.names[0] == "time"
    np.testing.assert_allclose(tran["v(out)"], 0.5, rtol=1e-6)
    assert read_tran(raw).n_points == tran.n_points


@pytest.mark.ngspice
def test_truncated_file_reports_expected_and_present_points(tmp_path: Path) -> None:
    raw = _ngspice(tmp_path, RC_TRAN)
    full = read_tran(raw)
    cut = tmp_path / "cut.raw"
    cut.write_bytes(raw.read_bytes()[: -(10 * 4 * 8 + 3)])  # drop 10 rows of 4 doubles plus 3 bytes
    with pytest.raises(
        SpiceError, match=rf"expects {full.n_points} points but only {full.n_points - 11} are present"
    ):
        read_raw(cut)


@pytest.mark.ngspice
def test_header_with_zero_points_recovers_complete_rows(tmp_path: Path) -> None:
    raw = _ngspice(tmp_path, RC_TRAN)
    full = read_tran(raw)
    text = raw.read_bytes()
    header = f"No. Points: {full.n_points:<8d}".encode()
    assert header in text
    killed = tmp_path / "killed.raw"
    killed.write_bytes(text.replace(header, b"No. Points: 0       ")[:-20])  # as left by a killed run
    with pytest.warns(RuntimeWarning, match=rf"recovered {full.n_points - 1} complete points"):
        plot = read_tran(killed)
    assert plot.n_points == full.n_points - 1
    np.testing.assert_array_equal(plot["v(out)"], full["v(out)"][:-1])


@pytest.mark.ngspice
def test_ascii_raw_file_is_rejected(tmp_path: Path) -> None:
    raw = _ngspice(tmp_path, RC_TRAN, env={"SPICE_ASCIIRAWFILE": "1"})
    with pytest.raises(SpiceError, match="only binary raw files are supported"):
        read_raw(raw)


def test_synthetic_multi_plot_real_and_complex(tmp_path: Path) -> None:
    tran = np.array([[0.0, 1.0], [1e-9, -2.5], [2e-9, 3.25]])
    ac = np.array([[1.0 + 0j, 1 - 1j], [10.0 + 0j, 0.5j]])
    raw = tmp_path / "s.raw"
    _write_raw(
        raw,
        [
            ("Transient Analysis", "real", [("time", "time"), ("v(a)", "voltage")], tran),
            ("AC Analysis", "complex", [("frequency", "frequency"), ("v(a)", "voltage")], ac),
        ],
    )
    p1, p2 = read_raw(raw)
    np.testing.assert_array_equal(p1["time"], tran[:, 0])
    np.testing.assert_array_equal(p1["v(a)"], tran[:, 1])
    np.testing.assert_array_equal(p2["V(A)"], ac[:, 1])
    assert p2["v(a)"].dtype == np.complex128 and read_tran(raw) is not p2
    assert isinstance(p1, RawPlot)
    with pytest.raises(KeyError, match=r"available: time, v\(a\)"):
        p1["v(b)"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot open raw file"),
        (b"", "is empty"),
        (bytes(range(256)) * 40, "not an ngspice raw file"),
        (b"Title: x\nPlotname: y\nFlags: real\nNo. Variables: 1\nNo. Points: 1\n", "without a 'Binary:'"),
        (
            b"Title: x\nNo. Variables: 1\nNo. Points: 1\nVariables:\n\t0\tt\ttime\nValues:\n0\t0\n",
            "ASCII",
        ),
        (
            b"Title: x\nNo. Variables: 2\nNo. Points: 1\nVariables:\n\t0\tt\ttime\nBinary:\n",
            "declares 2 variables",
        ),
    ],
)
def test_bad_files_raise_spice_error(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "bad.raw"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SpiceError, match=message) as info:
        read_raw(path)
    assert str(path) in str(info.value)


def _grow(path: Path, plots, cuts: list[int], tail) -> None:
    """Write the raw file of ``plots`` as ngspice would (header with 0 points, rows appended, the count
    patched at the end), in pieces cut at the given byte offsets, polling ``tail`` after each piece."""
    whole = path.with_suffix(".whole")
    _write_raw(whole, plots)
    data = whole.read_bytes()
    n = len(plots[0][3])
    started = data.replace(f"No. Points: {n:<8d}".encode(), f"No. Points: {0:<8d}".encode(), 1)
    with path.open("wb") as f:
        for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True):
            f.write(started[a:b])
            f.flush()
            tail.poll()
        f.seek(0)
        f.write(data[: data.index(b"Binary:\n")])  # ngspice patches No. Points in place


def test_tail_reads_a_growing_file_as_read_raw_does(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    values = np.column_stack([np.arange(5000) * 1e-9, rng.standard_normal((5000, 2))])
    plot = (
        "Transient Analysis",
        "real",
        [("time", "time"), ("v(a)", "voltage"), ("i(v1)", "current")],
        values,
    )
    blocks = []
    raw = tmp_path / "g.raw"
    tail = RawTail(raw, lambda names, rows: blocks.append((names, rows.copy())))
    tail.poll()  # no file yet: nothing happens
    # cuts inside the header, inside a row, at row ends
    _grow(raw, [plot], [40, 150, 300, 300 + 24 * 7 + 5, 300 + 24 * 1000, 300 + 24 * 4321 + 17], tail)
    got = tail.finish()
    want = read_tran(raw)
    assert got is not None and tail.streamed
    assert got.names == want.names and got.n_points == 5000 and got.plotname == want.plotname
    for name in want.names:
        np.testing.assert_array_equal(got[name], want[name])
        assert got[name].flags.c_contiguous
    assert {b[0] for b in blocks} == {want.names}
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks]), values)


def test_tail_leaves_to_read_raw_what_it_cannot_follow(tmp_path: Path) -> None:
    tran = np.array([[0.0, 1.0], [1e-9, -2.5], [2e-9, 3.25]])
    ac = np.array([[1.0 + 0j, 1 - 1j], [10.0 + 0j, 0.5j]])
    real = ("Transient Analysis", "real", [("time", "time"), ("v(a)", "voltage")], tran)
    complex_ = ("AC Analysis", "complex", [("frequency", "frequency"), ("v(a)", "voltage")], ac)
    for i, plots in enumerate(
        [[real, real], [complex_], [("Operating Point", "real", real[2], tran[:1]), real]]
    ):
        raw = tmp_path / f"t{i}.raw"
        tail = RawTail(raw, lambda names, rows: None)
        _grow(raw, plots, [100], tail)
        assert tail.finish() is None and not tail.streamed, plots[0][0]
    # work that fails leaves the plot to be read, and says it did not see it all
    raw = tmp_path / "f.raw"
    calls = []

    def fails(names, rows):
        calls.append(len(rows))
        raise RuntimeError("a bug in the caller's work")

    tail = RawTail(raw, fails)
    _grow(raw, [real], [200, 220], tail)
    plot = tail.finish()
    assert plot is not None and plot.n_points == 3 and not tail.streamed and len(calls) == 1


@pytest.mark.ngspice
def test_run_netlist_streams_a_transient_and_reads_anything_else_afterwards(tmp_path: Path) -> None:
    from thermosim.spice.runner import run_netlist

    seen = []
    for name, netlist in (("tran", RC_TRAN), ("op_tran", RC_OP_TRAN)):
        seen.clear()
        res = run_netlist(netlist, tmp_path / name, on_rows=lambda names, rows: seen.append(rows.copy()))
        assert res.plot.names[0] == "time" and res.plot.n_points > 100
        if name == "tran":  # one real plot: every row went by, once
            assert res.streamed
            rows = np.concatenate(seen)
            assert len(rows) == res.plot.n_points
            for j, vec in enumerate(res.plot.names):
                np.testing.assert_array_equal(rows[:, j], res.plot[vec])
        else:  # the operating point comes first: the transient is read after the run
            assert not res.streamed
            np.testing.assert_allclose(res.plot["v(out)"], 0.5, rtol=1e-6)
