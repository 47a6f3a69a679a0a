"""Waveforms → samples: grid_samples, and GridStream (the same samples, hash and sorted columns, built
block by block while ngspice writes)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thermosim.analysis.sampling import GridStream, grid_samples

STEP = 1e-7


def clock(n: int) -> np.ndarray:
    """ngspice's time points after 0 … n steps: a running float64 sum of the step (as ngspice adds it;
    numpy's cumsum is sequential)."""
    return np.r_[0.0, np.cumsum(np.full(n, STEP))]


def streamed(t, x, burn_in_s, cuts):
    """GridStream fed the rows (time, x) in blocks cut at ``cuts``."""
    rows = np.column_stack([t, x])
    g = GridStream(["a", "b"], STEP, burn_in_s)
    for lo, hi in zip([0, *cuts], [*cuts, len(t)], strict=True):
        if hi > lo:
            g.feed(("time", "A", "b", "c")[: rows.shape[1]], rows[lo:hi])
    return g


def assert_same(g: GridStream, t, x, burn_in_s) -> None:
    samples, k, alignment = grid_samples(t, x, STEP, burn_in_s)
    assert g.ok and not g.empty
    got = g.result()
    np.testing.assert_array_equal(got[0], samples)
    np.testing.assert_array_equal(got[1], k)
    assert got[2] == alignment
    assert g.hexdigest() == hashlib.sha256(np.ascontiguousarray(samples, "<f8")).hexdigest()
    np.testing.assert_array_equal(g.ordered(), np.sort(samples, axis=0))


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(300, 3000),
    burn=st.integers(0, 250),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
    dups=st.lists(st.integers(1, 3000), max_size=4),
    seed=st.integers(0, 2**16),
)
def test_the_stream_gives_grid_samples_own_result_whatever_the_blocks(n, burn, cuts, dups, seed):
    rng = np.random.default_rng(seed)
    t = clock(n)
    for i in sorted({min(d, n) for d in dups}, reverse=True):  # a grid point written twice (keeps the last)
        t = np.insert(t, i, t[i])
    x = rng.standard_normal((len(t), 2))
    x[rng.integers(0, len(t), 5)] = 0.0  # ties in the sorted columns
    g = streamed(t, x, burn * STEP, sorted(c for c in cuts if c < len(t)))
    assert_same(g, t, x, burn * STEP)


def test_the_stream_steps_aside_where_grid_samples_drops_points():
    t, x = clock(2000), np.random.default_rng(0).standard_normal((2001, 2))
    off = np.insert(t, 1500, t[1499] + 0.5 * STEP)  # ngspice cut a step: a point between grid instants
    g = streamed(off, np.insert(x, 1500, [7.0, 7.0], axis=0), 10 * STEP, [700, 1400])
    assert not g.ok
    back = t.copy()
    back[900] = back[898]  # time went backwards
    assert not streamed(back, x, 10 * STEP, [1000]).ok
    bad = x.copy()
    bad[1200, 1] = np.nan
    assert not streamed(t, bad, 10 * STEP, [1000]).ok
    assert streamed(t, x, 3000 * STEP, []).empty  # nothing after the burn-in


def test_a_long_run_keeps_every_grid_point_despite_the_clock_drift():
    # ngspice's clock drifts ~k²·2⁻⁵³ steps from k·step (1e-3 of a step at k = 7.2e6): a 1e7-step run's
    # points all stay samples, while a point half a step off the grid is still refused at its end
    n = 10**7
    t = clock(n)
    assert abs(t[-1] / STEP - n) > 2e-3  # the drift the old fixed tolerance (1e-3) refused
    t = np.insert(t, n - 5, t[n - 6] + 0.5 * STEP)
    x = np.arange(len(t), dtype=float)
    samples, k, alignment = grid_samples(t, x, STEP, 100 * STEP)
    assert len(samples) == n + 1 - 100 and x[n - 5] not in samples[-10:, 0]
    assert np.array_equal(np.diff(k), np.ones(len(k) - 1)) and alignment == (n + 1 - 100) / (n + 2 - 100)


@pytest.mark.ngspice
def test_a_run_takes_its_samples_from_the_stream(monkeypatch, tmp_path):
    # the fast path is the one a run takes: its samples, hash and sorted columns came from the stream
    from thermosim.runs import experiment
    from thermosim.runs.spec import find_spec, read_toml, spec_from_table, with_overrides

    streams = []

    class Recording(GridStream):
        def __init__(self, *args) -> None:
            super().__init__(*args)
            streams.append(self)

    monkeypatch.setattr(experiment, "GridStream", Recording)
    spec = spec_from_table(with_overrides(read_toml(find_spec("gauss4")), {"sim.t_stop_s": 1e-3}))
    m = experiment.simulate(experiment.prepare(spec), 1, tmp_path / "run").metrics
    (stream,) = streams
    assert stream.ok and not stream.empty and stream.n == m["n_samples"]
    assert stream.hexdigest() == m["samples_sha256"]
