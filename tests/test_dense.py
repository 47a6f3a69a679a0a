"""Dense couplings (issue 19): the forms of circuits/dense.py give the same trajectories; the rc precision
compiler's matched-pair conductances keep the exact stationary law; the quartic network's couplings
compute the same in every form."""

from __future__ import annotations

import numpy as np
import pytest

from thermosim.circuits import dense
from thermosim.report.coupling import random_precision, run_cost
from thermosim.runs.experiment import prepare, simulate
from thermosim.runs.spec import spec_from_table

pytestmark = pytest.mark.ngspice


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def test_every_form_gives_the_same_trajectory():
    p = random_precision(6, seed=3)
    _, ref = run_cost(p, "vccs", 300, keep_samples=True)
    for form in dense.FORMS:
        _, x = run_cost(p, form, 300, keep_samples=True)
        assert x.shape == ref.shape and rel(x, ref) < 1e-9, form


def test_pair_form_needs_symmetric_couplings():
    with pytest.raises(ValueError, match="symmetric"):
        dense.couple(np.array([[0.0, 1.0], [2.0, 0.0]]), ["a", "b"], ["a", "b"], "c", "rpair")
    with pytest.raises(ValueError, match="unknown coupling form"):
        dense.couple(np.zeros((2, 2)), ["a", "b"], ["a", "b"], "c", "nope")


def test_dense_precision_network_has_the_lyapunov_covariance(tmp_path):
    # a dense 5×5 precision matrix with couplings of both signs, compiled to matched-pair conductances
    p = random_precision(5, seed=7)
    assert np.any(p - np.diag(np.diag(p)) > 0) and np.any(p - np.diag(np.diag(p)) < 0)
    table = {
        "name": "dense5",
        "family": "rc",
        "circuit": {
            "precision": p.tolist(),
            "c_f": 1e-12,
            "g0_s": 1e-6,
            "noise": "injected",
            "noise_temperature_k": 3e6,
        },
        "sim": {"t_stop_s": 0.02, "seed": 3},
    }
    prep = prepare(spec_from_table(table))
    assert "\nG" not in prep.netlist and "\nR1_2 n1 n2 " in prep.netlist  # pairs, no transconductors
    m = simulate(prep, 3, tmp_path / "run").metrics
    cov, th, se = (np.asarray(m[k]) for k in ("cov", "cov_theory", "cov_se"))
    assert m["cov_rel_err"] <= 3 * m["cov_rel_err_se"]  # the run's own SE, k = 3
    assert np.all(np.abs(cov - th) <= m["check_k"] * se)  # every element, Bonferroni k recorded by the run
    assert all(c["passed"] for c in m["checks"])


def quartic_spec(n: int = 4):
    """A small staged quartic network: couplings switched on, then two stage banks, sense integrators."""
    from thermosim.circuits.quartic import QuarticParams
    from thermosim.runs.spec import SimSpec, Spec

    rng = np.random.default_rng(5)
    j = rng.normal(0, 0.5, (2, n, n))
    j = (j + np.swapaxes(j, 1, 2)) / 2
    j[:, range(n), range(n)] = 0.0
    tup = lambda a: tuple(map(tuple, a))  # noqa: E731
    params = QuarticParams(
        n=n,
        coupling=tup(j[0]),
        couple_at_s=2e-7,
        initial_x=0.0,
        stage_at_s=(3e-7, 6e-7),
        stage_coupling=tuple(tup(x) for x in j),
        stage_bias=tup(rng.normal(0, 0.5, (2, n))),
        sense=n,
        sense_from_s=8e-7,
    )
    sim = SimSpec(t_stop_s=1e-6, noise_step_s=1e-8, burn_in_s=0.0, seed=2)
    return Spec(name="q", family="quartic", params=params, sim=sim)


def test_quartic_network_computes_the_same_in_every_form(tmp_path, monkeypatch):
    spec = quartic_spec()
    prep = prepare(spec)
    assert prep.netlist.count("\nGc") == 3 * 12  # the switched bank and two stage banks of G elements
    ref = simulate(prep, 2, tmp_path / "ref").samples
    for form in ("bsum", "summer"):
        monkeypatch.setattr(dense, "DEFAULT", form)
        other = prepare(spec)
        assert "\nGc" not in other.netlist
        x = simulate(other, 2, tmp_path / form).samples
        assert x.shape == ref.shape and rel(x, ref) < 1e-9, form


def test_bench_coupling_prints_its_table(capsys):
    from thermosim.report.coupling import bench_coupling

    fig = bench_coupling(sizes=(3,), forms=("vccs", "rpair"), repeats=1, steps=(150, 250))
    assert set(fig["ms_per_step"]) == {"vccs", "rpair"} and fig["lu_ms"]["3"] > 0
    out = capsys.readouterr().out
    assert "| (a) G element per ordered pair (before) |" in out and "LAPACK" in out
