"""Large networks: the theory stays exact and fast, and metrics.json stays bounded whatever the size.

* ``theory.symmetric_lyapunov`` (large rc networks) against Bartels–Stewart and against equipartition;
* ``analysis.gaussian``: up to MAX_ELEMENT_CHECKS element checks are stored one by one, in the order they
  always were; above, the STORED_WORST worst plus a summary, and the verdict still covers every element;
* a 256-node ring run in ngspice: 33 152 element checks judged, a metrics.json of kilobytes.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from thermosim.analysis import gaussian
from thermosim.analysis.gaussian import compare_gaussian
from thermosim.analysis.theory import SYMMETRIC_FROM, lyapunov_covariance, symmetric_lyapunov, time_scales
from thermosim.bench import _ring_rc_table
from thermosim.circuits import FAMILIES
from thermosim.physics import K_B
from thermosim.runs.experiment import prepare, simulate_scratch
from thermosim.runs.spec import spec_from_table


def test_symmetric_lyapunov_is_bartels_stewart():
    # a random diagonal C, symmetric stable G and PSD S: the same Σ and time scales to rounding
    rng = np.random.default_rng(3)
    n = 90
    a = rng.standard_normal((n, n))
    g = a @ a.T / n + 0.2 * np.eye(n)
    c = np.diag(rng.uniform(1.0, 3.0, n))
    e = rng.standard_normal((n, n))
    s = e @ e.T
    sigma, tau_fast, tau_slow = symmetric_lyapunov(c, g, s)
    c_inv = np.linalg.inv(c)
    ref = lyapunov_covariance(c_inv @ g, c_inv @ s @ c_inv)
    assert np.abs(sigma - ref).max() <= 1e-12 * np.abs(ref).max()
    np.testing.assert_allclose((tau_fast, tau_slow), time_scales(c_inv @ g), rtol=1e-12)
    with pytest.raises(ValueError, match="not stable"):
        symmetric_lyapunov(c, -g, s)


def test_large_thermal_ring_theory_is_equipartition():
    # a passive network at one temperature samples kT·C⁻¹ (docs/architecture.md), whatever its resistors: the
    # large-network path (≥ SYMMETRIC_FROM nodes) must give exactly that
    n = SYMMETRIC_FROM + 7
    table = _ring_rc_table(n, 200)
    table["circuit"]["c_f"] = [1e-12 * (1 + (i % 3)) for i in range(n)]
    built = FAMILIES["rc"].build(spec_from_table(table).params)
    expected = K_B * 300.0 * np.diag(1 / np.asarray(table["circuit"]["c_f"]))
    assert np.abs(built.law().cov - expected).max() <= 1e-12 * np.abs(expected).max()


def gaussian_samples(d: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n independent draws of N(0, Σ) with an exchangeable Σ (unit variances, correlation 0.3)."""
    cov = 0.7 * np.eye(d) + 0.3
    x = np.random.default_rng(seed).standard_normal((n, d)) @ np.linalg.cholesky(cov).T
    return x, cov


def test_small_runs_store_every_element_check_in_order():
    d = 5
    x, cov = gaussian_samples(d, 4000, 1)
    names = [f"v{i}" for i in range(d)]
    m, checks = compare_gaussian(x, 1.0, np.zeros(d), cov, names)
    labels = [f"mean[{v}]" for v in names] + [
        f"var[{names[i]}]" if i == j else f"cov[{names[i]},{names[j]}]" for i in range(d) for j in range(i, d)
    ]
    assert [c.name for c in checks] == labels + ["cov_rel_err"]
    assert m["check_summary"]["elements"] == m["check_summary"]["stored"] == len(labels)
    assert m["cov"] is not None and m["var"] == pytest.approx(np.diag(m["cov"]).tolist())


def test_large_runs_store_the_worst_checks_and_judge_every_element():
    d = gaussian.MAX_MATRIX_DIM + 6  # 70 variables: 2555 elements, above MAX_ELEMENT_CHECKS
    x, cov = gaussian_samples(d, 4000, 2)
    names = [f"v{i}" for i in range(d)]
    elements = d + d * (d + 1) // 2
    m, checks = compare_gaussian(x, 1.0, np.zeros(d), cov, names)
    s = m["check_summary"]
    assert s["elements"] == elements and s["stored"] == gaussian.STORED_WORST
    assert len(checks) == gaussian.STORED_WORST + 2  # + elements_beyond_k_se + cov_rel_err
    assert m["cov"] is None and m["cov_theory"] is None and len(m["var_theory"]) == d
    assert len(json.dumps(m)) < 100_000
    # i.i.d. draws from the exact law: every element within the Bonferroni k·SE (family-wise
    # false alarm 0.27 %, a fixed seed), so the summary check passes
    assert all(c.passed for c in checks) and s["failed"] == 0
    # one wrong theory variance far out (20 SE) fails the verdict, and is among the stored worst
    bad = cov.copy()
    bad[7, 7] += 20 * np.sqrt(2 / 4000)
    m, checks = compare_gaussian(x, 1.0, np.zeros(d), bad, names)
    by_name = {c.name: c for c in checks}
    assert not by_name["var[v7]"].passed
    assert by_name["elements_beyond_k_se"].measured == m["check_summary"]["failed"] >= 1
    assert not by_name["elements_beyond_k_se"].passed
    assert m["check_summary"]["max_abs_z_var"] > 15


@pytest.mark.ngspice
def test_a_256_node_ring_runs_with_bounded_metrics():
    # 256 thermal RC nodes in a ring, 2000 noise steps: the run judges all 33 152 elements and its
    # metrics.json stays small (the full matrices would be ~5 MB of JSON and 33 152 checks ~4 MB)
    table = _ring_rc_table(256, 2000)
    table["sim"]["burn_in_s"] = 0.0
    m = simulate_scratch(prepare(spec_from_table(table))).metrics
    s = m["check_summary"]
    assert s["elements"] == 256 + 256 * 257 // 2 and s["stored"] == gaussian.STORED_WORST
    assert len(json.dumps(m)) < 1_000_000
    assert m["grid_alignment"] == 1.0 and len(m["var_theory"]) == 256


@pytest.mark.parametrize(
    ("family", "circuit", "key"),
    [
        (
            "rc",
            {
                "n": 1500,
                "r_ohm": 1e6,
                "noise": "injected",
                "noise_temperature_k": 300.0,
                "noise_bandwidth_hz": 1e6,
            },
            "circuit.noise_bandwidth_hz",
        ),
        ("rlc", {"n": 1100, "c_f": 1e-12, "l_h": 1e-6, "r_parallel_ohm": 1e4}, "circuit.n = 1100"),
    ],
)
def test_networks_beyond_the_general_solver_are_refused_naming_the_key(family, circuit, key):
    # a nonsymmetric drift needs the general O(n³) solver: refused above GENERAL_MAX_STATES states, in
    # one line naming the key, before anything is built; a passive network of the same size is accepted
    from thermosim.errors import SpecError

    with pytest.raises(SpecError, match=key) as err:
        spec_from_table({"name": "big", "family": family, "circuit": circuit, "sim": {"t_stop_s": 1e-3}})
    assert "\n" not in str(err.value)
    ok = {"n": 3000, "r_ohm": 1e6, "mismatch_sigma": 0.01}  # passive: symmetric even when mismatched
    spec_from_table({"name": "big", "family": "rc", "circuit": ok, "sim": {"t_stop_s": 1e-3}})


def test_coupling_list_is_the_dense_matrix():
    # the sparse form builds the same netlist and theory as the dense matrix it stands for
    n = 6
    dense = _ring_rc_table(n, 200)
    rows = [
        [i + 1, j + 1, g]
        for i, r in enumerate(dense["circuit"]["coupling_s"])
        for j, g in enumerate(r)
        if j > i and g
    ]
    sparse = {**dense, "circuit": {**dense["circuit"], "n": n, "coupling_list_s": rows}}
    del sparse["circuit"]["coupling_s"]
    a, b = (prepare(spec_from_table(t)) for t in (dense, sparse))
    assert a.netlist == b.netlist
    np.testing.assert_array_equal(a.built.law().cov, b.built.law().cov)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[1, 2]], r"coupling_list_s\[0\] must be \[i, j, g_s\]"),
        (
            [[1, 7, 1e-6]],
            r"coupling_list_s\[0\] names node 7.0: node numbers are whole numbers from 1 to n = 6",
        ),
        ([[1.5, 2, 1e-6]], r"names node 1.5"),
        ([[2, 2, 1e-6]], r"couples node 2 to itself"),
        ([[1, 2, 1e-6], [2, 1, 1e-6]], r"coupling_list_s\[1\] couples nodes 2 and 1 a second time"),
        ([[1, 2, -1e-6]], r"coupling_list_s\[0\] conductance must be > 0"),
    ],
)
def test_bad_coupling_list_names_the_row(rows, message):
    from thermosim.errors import SpecError

    circuit = {"n": 6, "c_f": 1e-12, "r_ohm": 1e6, "coupling_list_s": rows}
    with pytest.raises(SpecError, match=message):
        spec_from_table({"name": "x", "family": "rc", "circuit": circuit, "sim": {"t_stop_s": 1e-3}})
