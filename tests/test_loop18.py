"""Issue 18, second part: element keys (matrix, list, table entry) in overrides and sweep axes; any number
of a run's metrics in a sweep; `thermosim plot` error bars, units and ticks; noise files where asked;
`run` says where its results went and never replaces another spec's; the samples file option."""

from __future__ import annotations

import csv
import json
import math
import shutil

import numpy as np
import pytest

from tests.conftest import thermosim
from thermosim.analysis import quantities
from thermosim.errors import SpecError
from thermosim.runs.spec import load_spec, with_overrides
from thermosim.runs.sweep import _sweep_from_table

TINY = 'name = "{name}"\nfamily = "rc"\n[circuit]\nc_f = {c}\nr_ohm = 1e6\n[sim]\nt_stop_s = 2e-3\n'
SWEEP = {
    "name": "t",
    "base": "rc_single",
    "metrics": ["var_ratio[0]"],
    "set": {"sim.t_stop_s": 0.002},
    "axes": [{"key": "circuit.temperature_k", "values": [100.0, 300.0]}],
}


# 1. element keys


def test_a_matrix_element_keeps_a_symmetric_matrix_symmetric():
    spec = load_spec("gauss4", {"circuit.precision[0][1]": -0.3})
    assert spec.params.precision[0][1] == spec.params.precision[1][0] == -0.3
    t = {"circuit": {"precision": [[1, 2], [3, 4]]}}  # not symmetric: only the element named
    assert with_overrides(t, {"circuit.precision[0][1]": 9})["circuit"]["precision"] == [[1, 9], [3, 4]]


def test_list_element_and_table_entry():
    t = {"circuit": {"c_f": [1, 2, 3], "values": {"R1": "1k"}}}
    out = with_overrides(t, {"circuit.c_f[2]": "2p", "circuit.values.R1": "2k", "circuit.values.C1": 1})
    assert out["circuit"] == {"c_f": [1, 2, "2p"], "values": {"R1": "2k", "C1": 1}}
    assert t["circuit"]["c_f"] == [1, 2, 3]  # a copy


@pytest.mark.parametrize(
    "key, match",
    [
        ("circuit.precision[0][4]", r"circuit.precision\[0\]\[4\]: index out of range .* a 4×4 matrix"),
        ("circuit.r_ohm[0]", r"gives no circuit.r_ohm to set an element of"),
        ("circuit.c_f.x", r"circuit.c_f is float 1e-12, not a table"),
        ("circuit.precision[0][0][0]", r"too many indices"),
        ("circuit.c_f[x]", r"is not a circuit, sim or energy parameter"),
    ],
)
def test_bad_element_keys_name_key_and_shape(key, match):
    with pytest.raises(SpecError, match=match):
        load_spec("gauss4", {key: 1.0})


def test_element_keys_on_the_command_line_and_as_a_sweep_axis(tmp_path):
    p = thermosim("run", "gauss4", "--set", "circuit.precision[9][0]=1", "--out", str(tmp_path / "o"))
    assert p.returncode == 2 and len(p.stderr.splitlines()) == 1 and "index out of range" in p.stderr
    assert not (tmp_path / "o").exists()
    s = _sweep_from_table(
        {**SWEEP, "base": "gauss4", "axes": [{"key": "circuit.precision[0][1]", "values": [-0.6, 0.4]}]}
    )
    from thermosim.runs.sweep import grid, point_table

    tables = [point_table(s, g) for g in grid(s)]
    assert [t["circuit"]["precision"][1][0] for t in tables] == [-0.6, 0.4]


# 2. any number of a run's metrics


@pytest.mark.parametrize(
    "m", ["var[0]", "cov[0][1]", "gaussian_kl", "ess_per_cpu_s", "check_k", "mean_se[0]"]
)
def test_any_metric_of_a_run_in_a_sweep(m):
    assert m in _sweep_from_table({**SWEEP, "metrics": [m]}).metrics


@pytest.mark.parametrize(
    "m, match",
    [
        ("var_ratoi[0]", r"not a metric of a run \(e.g. var_ratio"),
        ("cov[0]", r"cov is a matrix, write cov\[i\]\[j\]"),
    ],
)
def test_unknown_metrics_list_available_ones(m, match):
    with pytest.raises(SpecError, match=match):
        _sweep_from_table({**SWEEP, "metrics": [m]})


def test_the_registry_covers_every_number_a_run_writes():
    from thermosim.circuits import FAMILIES
    from thermosim.paths import RESULTS

    for path in RESULTS.glob("*/metrics.json"):
        m = json.loads(path.read_text())
        if m.get("family") not in FAMILIES:
            continue
        for k, v in m.items():
            if isinstance(v, int | float) and not isinstance(v, bool) and k != "seed":
                quantities.check(k, FAMILIES[m["family"]].metrics)  # raises for a missing one


def test_metric_values_and_their_own_se():
    m = {"var": [4.0, 9.0], "var_se": [0.4, 0.9], "var_theory": [4.0, 10.0], "cov": [[1, 2], [2, 5]]}
    m |= {"var_ratio": [1.0, 0.9], "p1": 0.5, "p1_se": 0.01, "frequency_hz": 1e9, "frequency_se_hz": 1e6}
    assert quantities.value(m, "cov[0][1]") == 2 and math.isnan(quantities.value(m, "cov[5][0]"))
    assert quantities.se_value(m, "var_ratio[1]") == pytest.approx(0.09)
    assert quantities.se_name("frequency_hz") == "frequency_se_hz" and quantities.se_value(m, "p1") == 0.01
    assert quantities.se_name("tau_int_s[0]") is None and quantities.se_name("p1_se") is None
    assert quantities.unit("circuit.coupling_s") == "S" and quantities.unit("points_per_sim_s") == "1/s"
    assert quantities.plural(1, "replica") == "1 replica" and quantities.plural(2, "replica") == "2 replicas"


# 3. figures


def test_figure_scaling_and_ticks(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from thermosim.runs.sweep_figures import si_scale, spans_decades, sweep_figures

    assert si_scale([-3e-4, 3e-4], "A") == (1e6, "µA") and si_scale([0.5, 2.0], "") == (1.0, "")
    assert spans_decades([1e-7, 5e-6]) and not spans_decades([2e-8, 5e-7]) and not spans_decades([-1, 100])
    desc = {"name": "s", "replicas": 1, "metrics": ["p1", "p1_se"], "figures": ["p1"]}
    desc["axes"] = [{"key": "circuit.bias_a", "label": "bias [A]", "spacing": "linear"}]
    rows = [{"circuit.bias_a": b, "p1 mean": 0.5 + b * 1e3, "p1 se": math.nan, "p1 run se": 0.01} for b in
            (-3e-4, 0.0, 3e-4)]  # fmt: skip
    import matplotlib.pyplot as plt

    captured = {}
    real = plt.close
    plt.close = lambda fig=None: captured.setdefault("fig", fig)
    try:
        assert sweep_figures(desc, rows, tmp_path) == ["p1.png"]
    finally:
        plt.close = real
    ax = captured["fig"].axes[0]
    assert ax.get_xlabel() == "bias [µA]" and ax.get_ylabel() == "P(state 1)"
    assert "1 replica," not in ax.get_title() and "±1 SE of each run (p1_se)" in ax.get_title()
    bars = [c for c in ax.collections if c.get_segments()]
    assert bars and np.allclose([s[1, 1] - s[0, 1] for s in bars[0].get_segments()], 0.02)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert len(labels) <= 7 and "−200" in labels and not any("e" in t or "0.0" in t for t in labels)
    real(captured["fig"])


def test_plot_reads_any_metric_from_the_points(tmp_path):
    d = tmp_path / "s"
    (d / "points").mkdir(parents=True)
    desc = {"name": "s", "replicas": 1, "metrics": ["n_eff"], "axes": [{"key": "sim.seed", "label": "seed"}]}
    (d / "sweep.json").write_text(json.dumps(desc))
    rows = []
    for i in range(3):
        m = {"var": [1.0 + i], "var_se": [0.1], "var_theory": [1.0], "var_ratio": [1.0 + i], "n_eff": 5.0}
        (d / "points" / f"k{i}.json").write_text(json.dumps({"metrics": m}))
        rows.append(
            {"point": i, "replica": 0, "seed": i, "sim.seed": i, "n_eff": 5, "status": "ok", "key": f"k{i}"}
        )
    with open(d / "table.csv", "w") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = thermosim("plot", str(d), "--y", "var_ratio[0]", "var_ratio[0]")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(".png") == 1 and (d / "var_ratio_0.png").exists()  # asked twice, drawn once
    r = thermosim("plot", str(d), "--y", "cov[0][1]")
    assert (
        r.returncode == 2 and "no metric column 'cov[0][1]'" in r.stderr and len(r.stderr.splitlines()) == 1
    )


def test_default_figures_skip_an_se_drawn_as_error_bars():
    s = _sweep_from_table({**SWEEP, "metrics": ["cov_rel_err", "cov_rel_err_se", "n_eff"]})
    assert s.figures == ("cov_rel_err", "n_eff")
    with pytest.raises(SpecError, match="figures must be a list of names from metrics"):
        _sweep_from_table({**SWEEP, "figures": ["n_eff"]})


# 4–6. noise files, where results go, samples file


@pytest.mark.ngspice
def test_noise_files_go_to_the_current_folder(tmp_path):
    r = thermosim("noise", "rc_single", "--seed", "3", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["rc_single.noise"]


@pytest.mark.ngspice
def test_run_says_where_and_refuses_another_specs_folder(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY.format(name="tiny", c="1e-12"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "tiny.toml").write_text(TINY.format(name="tiny", c="2e-12"))
    r = thermosim("run", "tiny", "--no-plots", "--samples", "none", cwd=tmp_path)
    out = tmp_path / "results" / "tiny"
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == f"results: {out}"
    m = json.loads((out / "metrics.json").read_text())
    assert m["samples_file"] == {"mode": "none", "every": 1, "rows": 0} and not (out / "samples.npz").exists()
    before = (out / "metrics.json").read_bytes()
    r = thermosim("run", "b/tiny.toml", "--no-plots", cwd=tmp_path)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1
    assert "holds the results of 'tiny'" in r.stderr and "b/tiny.toml" in r.stderr and "--out" in r.stderr
    assert (out / "metrics.json").read_bytes() == before
    r = thermosim("run", "tiny", "--no-plots", "--set", "sim.seed=2", "--json", cwd=tmp_path)  # same spec
    assert r.returncode == 0 and json.loads(r.stdout)["results"] == str(out)
    # the spec is recorded relative to its results, so a moved (or cloned) checkout still owns them
    assert json.loads((out / "metrics.json").read_text())["spec_path"] == "../../tiny.toml"
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copytree(out, moved / "results" / "tiny")
    shutil.copy(tmp_path / "tiny.toml", moved)
    r = thermosim("run", "tiny", "--no-plots", "--samples", "none", cwd=moved)
    assert r.returncode == 0, r.stderr


@pytest.mark.ngspice
def test_thin_samples_keep_every_kth(tmp_path, monkeypatch):
    import thermosim as ts
    from thermosim.runs import run

    monkeypatch.setattr(run, "THIN_BYTES", 50_000)
    (tmp_path / "tiny.toml").write_text(TINY.format(name="tiny", c="1e-12"))
    r = ts.run(tmp_path / "tiny.toml", out=tmp_path / "o", plots=False, quiet=True, samples="thin")
    info = r.metrics["samples_file"]
    with np.load(tmp_path / "o" / "samples.npz") as z:
        kept = z["samples"]
    assert info["mode"] == "thin" and info["every"] > 1 and len(kept) == info["rows"]
    assert kept.nbytes * (1 + 1 / kept.shape[1]) <= 50_000 and np.array_equal(
        kept, r.samples[:: info["every"]]
    )
    with pytest.raises(ValueError, match="samples must be one of full, thin, none"):
        ts.run(tmp_path / "tiny.toml", out=tmp_path / "o", samples="half")
