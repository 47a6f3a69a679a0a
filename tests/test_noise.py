"""The noise plan and its seeded stream (no simulator): structure, determinism, calibration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySpice.Spice.Netlist import Circuit

from thermosim.physics import K_B
from thermosim.spice.noise import NoisePlan, format_lines, stream_blocks


def plan_pair(t=300.0):
    c = Circuit("t")
    plan = NoisePlan()
    plan.capacitor(c, "1", "a", 1e-12)
    plan.capacitor(c, "2", "b", 2e-12)
    plan.johnson("a", None, 1e6, t)
    plan.johnson("a", "b", 5e5, t)
    return c, plan


def test_thermal_node_psd_is_2kT_times_conductance_matrix():
    _, plan = plan_pair()
    g = np.array([[1e-6 + 2e-6, -2e-6], [-2e-6, 2e-6]])
    np.testing.assert_allclose(plan.node_psd(), 2 * K_B * 300 * g, rtol=1e-12)


def test_noise_needs_a_capacitor():
    plan = NoisePlan()
    with pytest.raises(ValueError, match="needs a capacitor"):
        plan.white("x", None, 1e-24)


def text(plan, *args, **kw):
    return b"".join(chunk for (chunk,) in stream_blocks(plan, *args, **kw)).decode("ascii")


def parse(txt):
    return np.array([[float(v) for v in row.split()] for row in txt.splitlines()])


def test_stream_is_seeded_and_starts_at_zero():
    _, plan = plan_pair()
    a = text(plan, 1e-7, 1000, seed=5, chunk=300)
    b = text(plan, 1e-7, 1000, seed=5, chunk=128)  # other field widths, the same numbers
    c = text(plan, 1e-7, 1000, seed=6)
    assert a == text(plan, 1e-7, 1000, seed=5, chunk=300) and a != c
    rows = parse(a)
    np.testing.assert_array_equal(rows, parse(b))
    assert rows.shape == (1003, 3)
    np.testing.assert_array_equal(rows[:, 0], np.arange(1003))
    np.testing.assert_array_equal(rows[0, 1:], 0.0)


def test_stream_increments_have_the_injected_charge_covariance():
    # ΔW = C⁻¹ ΔQ, E[ΔQ ΔQᵀ] = S·NT  ⇒  Cov(C ΔW) = S·NT. n = 20000 increments: the relative SE of a
    # variance is sqrt(2/n) = 1 %; of a covariance sqrt((1+ρ²)/n)/ρ relative. Allow 4 SE.
    _, plan = plan_pair()
    nt, n = 1e-7, 20000
    rows = parse(text(plan, nt, n, seed=1))
    dq = np.diff(rows[:, 1:], axis=0)[:n] * plan.quanta(nt) * np.array(plan.caps_f)
    expected = plan.node_psd() * nt
    est = dq.T @ dq / len(dq)
    se = np.sqrt((np.outer(np.diag(expected), np.diag(expected)) + expected**2) / len(dq))
    assert np.all(np.abs(est - expected) < 4 * se)


def test_attach_writes_filesource_with_vector_ports():
    c, plan = plan_pair()
    plan.file_stem = "x"
    plan.attach(c, 1e-7)
    net = str(c)
    assert "%v([nz_a nz_b])" in net and 'file="x.noise"' in net and "timescale=1e-07" in net
    q = plan.quanta(1e-7)
    assert f"amplscale=[{float(q[0])!r} {float(q[1])!r}]" in net
    assert "C1 a nz_a" in net


def test_many_nodes_split_into_files_with_short_lines():
    # ngspice's filesource reads a line into 512 bytes: every line of every file must be shorter
    c = Circuit("t")
    plan = NoisePlan(file_stem="big")
    for i in range(60):
        plan.capacitor(c, str(i), f"n{i}", 1e-12)
        plan.johnson(f"n{i}", None, 1e6, 300.0)
    assert plan.files() == ["big.0.noise", "big.1.noise", "big.2.noise"]
    blocks = list(stream_blocks(plan, 1e-7, 200_000, seed=1, chunk=50_000))
    assert all(len(b) == 3 for b in blocks)
    longest = max(len(line) for b in blocks for chunk in b for line in chunk.splitlines())
    assert longest < 400
    plan.attach(c, 1e-7)
    assert str(c).count("filesource(") == 3


@settings(max_examples=200, deadline=None)
@given(
    k0=st.integers(0, 10**9),
    rows=st.lists(st.lists(st.integers(-(10**14) + 1, 10**14 - 1), min_size=1, max_size=5), min_size=1),
)
def test_format_lines_reads_back_as_the_integers(k0, rows):
    # every width from 1 to 14 digits, signs, zeros: each line reads back (as ngspice's strtod does, field
    # by field) as the integers it was made from, one line per row
    c = len(rows[0])
    values = np.array([(r * c)[:c] for r in rows], dtype=np.int64)
    k = np.arange(k0, k0 + len(values))
    lines = format_lines(k, values).decode("ascii").split("\n")
    assert lines[-1] == "" and len(lines) == len(values) + 1
    assert [[int(f) for f in line.split()] for line in lines[:-1]] == np.column_stack([k, values]).tolist()
    assert len({len(line) for line in lines[:-1]}) == 1  # one width per field
