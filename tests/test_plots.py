"""Smoke tests for thermosim.plots on synthetic, seeded Gaussian data (fast, Agg backend)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from thermosim import plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
STD_V = 2e-6  # thermal-noise-sized voltage std [V] -> expect the µV unit


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plots.plt.close("all")


def _is_png(path) -> bool:
    data = path.read_bytes()
    return len(data) > len(PNG_MAGIC) and data.startswith(PNG_MAGIC)


def _cov_data(d: int = 3, n: int = 4000):
    rng = np.random.default_rng(12345)
    a = rng.normal(size=(d, d))
    cov_theory = (a @ a.T + d * np.eye(d)) * STD_V**2  # [V^2], positive definite
    x = rng.multivariate_normal(np.zeros(d), cov_theory, size=n)
    return x, np.cov(x, rowvar=False), cov_theory


def test_backend_is_agg():
    assert matplotlib.get_backend().lower() == "agg"


def test_hist_vs_theory_units_label_and_save(tmp_path):
    x = np.random.default_rng(0).normal(0.0, STD_V, size=5000)
    ax = plots.hist_vs_theory(x, STD_V**2, name="v(n1)")
    assert isinstance(ax, plots.Axes)
    assert ax.get_xlabel() == "v(n1) [µV]"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("var ratio" in t for t in labels)
    # histogram is a density in 1/µV: its area must be ~1 in scaled units
    area = sum(p.get_width() * p.get_height() for p in ax.patches)
    assert area == pytest.approx(1.0, rel=1e-6)
    out = plots.save(ax, tmp_path / "hist.png")
    assert out == tmp_path / "hist.png" and _is_png(out)
    assert list(tmp_path.iterdir()) == [out]  # no stray temp files left behind


@pytest.mark.parametrize(("std", "unit"), [(2e-6, "µV"), (5e-4, "µV"), (3e-3, "mV"), (2.0, "V")])
def test_voltage_unit_choice(std, unit):
    x = np.random.default_rng(1).normal(0.0, std, size=500)
    assert plots.hist_vs_theory(x, std**2).get_xlabel() == f"voltage [{unit}]"


def test_hist_vs_theory_uses_given_ax():
    fig, ax = plots.plt.subplots()
    x = np.random.default_rng(2).normal(1e-3, STD_V, size=500)
    assert plots.hist_vs_theory(x, STD_V**2, mean_theory=1e-3, ax=ax) is ax
    assert len(fig.axes) == 1


def test_hist_vs_theory_rejects_bad_variance():
    with pytest.raises(ValueError):
        plots.hist_vs_theory(np.zeros(10), 0.0)


@pytest.mark.parametrize(("d", "expected"), [(1, 1), (3, 3), (8, 8), (10, 8)])
def test_hist_grid_panel_count(d, expected, tmp_path):
    x = np.random.default_rng(3).normal(0.0, STD_V, size=(800, d))
    names = [f"v(n{i})" for i in range(d)]
    axes = plots.hist_grid(x, np.full(d, STD_V**2), 0.0, names)
    assert axes.shape == (expected,)
    assert all(a.get_visible() for a in axes)
    assert axes[0].get_xlabel() == "v(n0) [µV]"
    if d == 3:  # saving 8-panel grids is slow; one save covers the array-of-Axes path
        assert _is_png(plots.save(axes, tmp_path / "grid.png"))


def test_hist_grid_accepts_cov_matrix_and_existing_axes():
    x, _, cov_theory = _cov_data()
    fig, given = plots.plt.subplots(1, 3)
    axes = plots.hist_grid(x, cov_theory, np.zeros(3), ["a", "b", "c"], axes=given)
    assert list(axes) == list(given) and len(fig.axes) == 3


@pytest.mark.parametrize("with_se", [False, True])
def test_cov_heatmaps(with_se, tmp_path):
    _, cov, cov_theory = _cov_data()
    se = np.full_like(cov, 0.05 * np.abs(cov_theory).max()) if with_se else None
    axes = plots.cov_heatmaps(cov, cov_theory, ["n1", "n2", "n3"], cov_se=se)
    assert len(axes) == 3
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["n1", "n2", "n3"]
    z_title = "z = (measured − theory) / SE"
    assert axes[2].get_title() == (z_title if with_se else "(measured − theory) / max|theory|")
    # measured and theory panels share one colour scale
    assert axes[0].images[0].get_clim() == axes[1].images[0].get_clim()
    lo, hi = axes[2].images[0].get_clim()
    assert lo == pytest.approx(-hi)  # diverging scale centred at 0
    assert _is_png(plots.save(axes[0].figure, tmp_path / "cov.png"))


def test_cov_heatmaps_existing_axes():
    _, cov, cov_theory = _cov_data(2)
    fig, given = plots.plt.subplots(1, 3)
    axes = plots.cov_heatmaps(cov, cov_theory, ["a", "b"], axes=given)
    assert list(axes) == list(given)


@pytest.mark.parametrize(("dt", "unit"), [(1e-9, "ns"), (1e-7, "µs"), (1e-5, "ms")])
def test_autocorr_plot(dt, unit, tmp_path):
    tau = 20 * dt
    acf = np.exp(-np.arange(200) * dt / tau) + np.random.default_rng(4).normal(0, 0.01, 200)
    ax = plots.autocorr_plot(acf, dt, tau_theory_s=tau)
    assert ax.get_xlabel() == f"lag [{unit}]"
    assert len(ax.get_legend().get_texts()) == 2
    assert _is_png(plots.save(ax, tmp_path / "acf.png"))


def test_autocorr_plot_existing_ax_without_theory():
    fig, ax = plots.plt.subplots()
    assert plots.autocorr_plot(np.array([1.0, 0.5, 0.25]), 1e-6, ax=ax) is ax
    assert len(ax.lines) == 2  # data + zero line


def test_save_closes_figure_and_replaces(tmp_path):
    path = tmp_path / "sub" / "x.png"
    for _ in range(2):  # second save overwrites the first atomically
        fig, ax = plots.plt.subplots()
        ax.plot([0, 1])
        assert plots.save(ax, path) == path
        assert not plots.plt.fignum_exists(fig.number)
    assert _is_png(path) and sorted(p.name for p in path.parent.iterdir()) == ["x.png"]
