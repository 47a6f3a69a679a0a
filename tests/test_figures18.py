"""Figures a researcher trusts: exact non-Gaussian densities, digit grids with gutters and labels, z maps
on a fixed scale with the checks' threshold, fitted autocorrelations, one colour per energy term.

No ngspice: every figure is drawn from made-up metrics and samples, or from a family's built theory.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # a test process has no display; the package itself forces no backend

import numpy as np
import pytest
from matplotlib.patches import Rectangle

from thermosim import plots
from thermosim.analysis.energy import energy_table, stationary_heat_se
from thermosim.analysis.stats import efold_lag
from thermosim.circuits.quartic import QuarticParams, build_quartic


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plots.plt.close("all")


def quartic_density(x: np.ndarray, p: QuarticParams) -> np.ndarray:
    """∝ exp(−V(x)/kT) of one quartic unit, normalised on a wide fine grid (model units)."""
    fine = np.linspace(-4, 4, 400_001)
    z = np.trapezoid(np.exp(-p.potential(fine) / p.kt), fine)
    return np.exp(-p.potential(x) / p.kt) / z


def test_exact_density_from_the_quartic_cdf_integrates_to_one_and_is_the_quartic_law():
    p = QuarticParams(kt=0.1)
    built = build_quartic(p)
    (cdf,) = built.law().cdfs
    v0 = p.v_unit_v
    u = np.linspace(-0.25, 0.25, 801)  # volts, ±2.5 model units
    pdf = plots.density_from_cdf(cdf, u)  # 1/V
    assert np.trapezoid(pdf, u) == pytest.approx(1.0, abs=1e-4)
    exact = quartic_density(u / v0, p) / v0
    assert np.max(np.abs(pdf - exact)) < 1e-3 * exact.max()
    gauss_sd = np.sqrt(built.law().cov[0, 0])  # the Gaussian of the same variance is visibly different
    gauss = np.exp(-0.5 * (u / gauss_sd) ** 2) / (gauss_sd * np.sqrt(2 * np.pi))
    assert abs(gauss.max() - exact.max()) > 0.03 * exact.max()


def _curve(ax):
    theory = [line for line in ax.get_lines() if line.get_label().startswith("theory")]
    assert len(theory) == 1
    return theory[0]


def test_run_hist_draws_the_exact_density_when_the_theory_has_a_cdf_and_the_gaussian_otherwise():
    p = QuarticParams(kt=0.1)
    built = build_quartic(p)
    rng = np.random.default_rng(0)
    samples = rng.normal(0, np.sqrt(built.law().cov[0, 0]), (4000, 1))
    metrics = {
        "circuit": "q",
        "variables": ["v(u1)"],
        "cov_theory": built.law().cov.tolist(),
        "mean_theory": built.law().mean.tolist(),
    }
    (ax,) = plots.run_figure("hist", metrics, samples, cdfs=built.law().cdfs)
    line = _curve(ax)
    assert "exact density" in line.get_label()
    x_mv, pdf_per_mv = line.get_data()
    assert np.trapezoid(pdf_per_mv, x_mv) == pytest.approx(1.0, abs=1e-3)
    want = quartic_density(x_mv / 1e3 / p.v_unit_v, p) / p.v_unit_v / 1e3
    assert np.allclose(pdf_per_mv, want, rtol=2e-3, atol=1e-3 * want.max())
    (ax,) = plots.run_figure("hist", metrics, samples)  # no CDF: the Gaussian of the moments
    assert "Gaussian" in _curve(ax).get_label()


def test_z_map_has_a_fixed_symmetric_scale_the_threshold_on_its_bar_and_outlines_beyond_it():
    z = np.array([[0.1, 5.0], [-3.9, 0.0]])
    ax = plots.z_score_map(z, k=3.7)
    (im,) = ax.get_images()
    assert im.get_clim() == (-4.0, 4.0)
    outlined = {(r.get_x() + 0.5, r.get_y() + 0.5) for r in ax.patches if isinstance(r, Rectangle)}
    assert outlined == {(1.0, 0.0), (0.0, 1.0)}  # (column, row) of |z| = 5 and 3.9
    bar_ax = next(a for a in ax.figure.axes if a is not ax)
    levels = sorted(line.get_ydata()[0] for line in bar_ax.get_lines())
    assert levels == pytest.approx([-3.7, 3.7])
    assert "(measured − theory) / SE" in ax.get_title() and "3.70" in bar_ax.get_ylabel()
    c = np.array([[1.0, 0.2], [0.2, 1.0]])  # the run figure's cov panel 3 is the same map, k from the metrics
    axs = plots.cov_heatmaps(c + 0.01, c, ["a", "b"], cov_se=np.full((2, 2), 0.001), k=3.5)
    assert axs[2].get_images()[0].get_clim() == (-4.0, 4.0)
    assert len([r for r in axs[2].patches if isinstance(r, Rectangle)]) == 4  # every z = 10 > 3.5


def _ou(n: int, tau_steps: float, d: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.exp(-1 / tau_steps)
    x = np.zeros((n, d))
    noise = rng.normal(size=(n, d)) * np.sqrt(1 - a * a)
    for k in range(1, n):
        x[k] = a * x[k - 1] + noise[k]
    return x


def test_efold_lag_recovers_an_exponential_and_autocorr_states_its_subset_and_range():
    rho = np.exp(-np.arange(50) * 0.1 / 2.0)  # τ = 2 s sampled every 0.1 s
    assert efold_lag(rho, 0.1) == pytest.approx(2.0, rel=1e-3)
    assert efold_lag(np.ones(5), 0.1) is None
    x = _ou(20_000, 20.0, 12)
    tau_int = [40.0 * 1e-6] * 12  # 2τ, in seconds at dt = 1 µs
    metrics = {"variables": [f"v(n{i})" for i in range(12)], "noise_step_s": 1e-6, "tau_int_s": tau_int}
    ax = plots.run_figure("autocorr", metrics, x)
    assert "first 8 of 12" in ax.get_title()
    measured = [line for line in ax.get_lines() if line.get_linestyle() == "-" and len(line.get_xdata()) > 2]
    assert len(measured) == 8
    assert measured[0].get_xdata()[-1] == pytest.approx(200.0)  # 5 τ_int = 200 µs: lags 0…200 µs
    labels = ax.get_legend().get_texts()
    assert any("fitted" in t.get_text() for t in labels)
    assert all("τ_int" in t.get_text() for t in labels[:8])
    few = {"variables": ["a", "b"], "noise_step_s": 1e-6, "tau_int_s": tau_int[:2]}
    assert "all 2 variables" in plots.run_figure("autocorr", few, x[:, :2]).get_title()


def test_energy_colours_are_one_stable_mapping():
    assert plots.energy_colour("supply") == plots.ENERGY_COLOURS["supply"]
    assert plots.energy_colour("a new term") == plots.energy_colour("a new term")
    assert plots.energy_colour("a new term") in plots._PALETTE
    rows = energy_table(
        supply_j=1e-9, supplies=["vdd"], window_s=1e-3, samples=100.0, heat_kt=5e4, heat_note="",
        kt_j=4e-21, visible=2, parameters=3,
    )  # fmt: skip
    ax = plots.energy_bars(rows)
    terms = [t.get_text() for t in ax.get_yticklabels()]
    for bar in ax.patches:
        term = terms[round(bar.get_y() + bar.get_height() / 2)]
        assert matplotlib.colors.to_hex(bar.get_facecolor()) == plots.energy_colour(term)


def test_a_fluctuation_term_within_its_se_gets_no_bar_and_says_so():
    d, kt_j, n = 4, 4e-21, 1000.0
    for heat_kt, drawn in ((0.5, False), (50.0, True)):  # SE of a stationary window's heat: √4 = 2 kT
        rows = energy_table(
            supply_j=0.0, supplies=[], window_s=1.0, samples=n, heat_kt=heat_kt, heat_note="",
            kt_j=kt_j, visible=d, parameters=1,
        )  # fmt: skip
        assert stationary_heat_se(rows, d) == pytest.approx(np.sqrt(d) * kt_j / n)
        ax = plots.run_figure("energy", {"circuit": "c", "variables": list("abcd"), "energy": rows}, None)
        terms = [t.get_text() for t in ax.get_yticklabels()]
        bar_rows = {terms[round(b.get_y() + b.get_height() / 2)] for b in ax.patches}
        assert ("heat" in bar_rows) == drawn
        notes = " ".join(t.get_text() for t in ax.texts)
        assert ("< SE" in notes) == (not drawn)


def test_digit_grids_have_gutters_and_labels():
    from thermosim.compare.plots import GUTTER, sample_grid, sampler_name, tile
    from thermosim.generative.plots import class_grid

    images = np.full((40, 64), 16.0)
    canvas = tile(images, np.arange(4).reshape(2, 2), gap=2)
    assert canvas.shape == (18, 18)
    assert np.isnan(canvas[8:10]).all() and np.isnan(canvas[:, 8:10]).all()  # the gutters
    assert not np.isnan(canvas[:8, :8]).any()
    ax = class_grid(images, np.arange(40) % 10, rows=4, title="twin")
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(c) for c in range(10)]
    cmap = ax.get_images()[0].get_cmap()
    assert matplotlib.colors.to_hex(cmap.get_bad()) == GUTTER
    axes = sample_grid({"ddpm_10": images, "gaussian_circuit": images}, n=4)
    assert [a.get_title() for a in axes[:2]] == [sampler_name("ddpm_10"), sampler_name("gaussian_circuit")]
    assert sampler_name("ddim_50") == "DDIM, 50 steps"
