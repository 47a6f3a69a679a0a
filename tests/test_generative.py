"""The generative computer: the staged learning rule against theory, the staged circuit and its current
read-out against their exact laws, training and generation end to end (real ngspice runs)."""

from __future__ import annotations

import dataclasses
import json
import sys

import numpy as np
import pytest
from scipy import sparse

from thermosim.cli import main
from thermosim.digital.data import PIXEL_MAX
from thermosim.generative.energy import draw_classes
from thermosim.generative.generate import Protocol, twin
from thermosim.generative.model import (
    N_CLASSES,
    N_FEATURES,
    N_VISIBLE,
    Layout,
    Model,
    TrainConfig,
    decode,
    encode,
    features,
)
from thermosim.generative.train import gain, gain_gradient, optimum, path_statistics, reverse_sums, stage_sums
from thermosim.runs.experiment import prepare, simulate
from thermosim.runs.spec import SimSpec, Spec


def test_encode_decode_round_trip():
    c = TrainConfig()
    s = np.linspace(-1, 1, 33)
    x = encode(c, s)
    np.testing.assert_allclose(2 * c.j2 * x + 4 * c.j4 * x**3, c.drive * s, atol=1e-12)
    np.testing.assert_allclose(decode(c, x), s, atol=1e-12)


def test_layout_adjoint_is_the_transpose():
    lay = Layout()
    rng = np.random.default_rng(0)
    th, g = rng.standard_normal((2, lay.size)), rng.standard_normal((2, N_FEATURES, N_VISIBLE))
    assert np.vdot(lay.to_w(th), g) == pytest.approx(np.vdot(th, lay.adjoint(g)), rel=1e-12)


def test_gradient_is_the_derivative_of_the_gain():
    """The analytic per-step gradient against central differences of the path log-likelihood gain (on 40
    parameters drawn from every block: couplings, δJ₂, δJ₄, class biases)."""
    c, lay = TrainConfig(), Layout()
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, N_VISIBLE)) * 0.3
    zz, zy = reverse_sums(c, x[:-1], x[1:], rng.integers(0, N_CLASSES, 399))
    th = rng.standard_normal(lay.size) * 0.02
    g = gain_gradient(c, lay, lay.to_w(th), zz, zy, 1)
    h = 1e-4
    for k in np.r_[rng.choice(lay.size - 768, 20, replace=False), lay.size - 768 + rng.choice(768, 20)]:
        e = np.zeros(lay.size)
        e[k] = h
        num = (gain(c, lay.to_w(th + e), zz, zy, 1) - gain(c, lay.to_w(th - e), zz, zy, 1)) / (2 * h)
        assert num == pytest.approx(g[k], rel=1e-4, abs=1e-3)


def equilibrium_sums(model: Model, chains: int, steps: int, seed: int):
    """Path sums of a stationary one-stage computer (chains of every class, burnt in for 1.5 time units,
    several relaxation times of the units)."""
    from threadpoolctl import threadpool_limits

    c = model.config
    rng = np.random.default_rng(seed)
    cls = np.arange(chains) % N_CLASSES
    amp = np.sqrt(2 * c.kt * c.dt)
    x = np.zeros((chains, N_VISIBLE))
    zz, zy = np.zeros((N_FEATURES, N_FEATURES)), np.zeros((N_FEATURES, N_VISIBLE))
    with threadpool_limits(1, user_api="blas"):
        for _ in range(1500):
            x = x - model.force(x, 0, cls) * c.dt + amp * rng.standard_normal(x.shape)
        for _ in range(steps // 500):
            path = [x]
            for _ in range(500):
                x = x - model.force(x, 0, cls) * c.dt + amp * rng.standard_normal(x.shape)
                path.append(x)
            p = np.array(path)
            dz, dy = reverse_sums(
                c, p[:-1].reshape(-1, N_VISIBLE), p[1:].reshape(-1, N_VISIBLE), np.tile(cls, 500)
            )
            zz, zy = zz + dz, zy + dy
    return zz, zy


def placement(lay: Layout):
    """The sparse matrix A of θ ↦ W(θ), W flattened column by column (entry (f, n) at n·F + f), so that
    the gain's Hessian is Aᵀ(I_N ⊗ ZᵀZ)A."""
    n, f = N_VISIBLE, N_FEATURES
    i, j = np.triu_indices(n, 1)
    p = len(i)
    u = np.arange(n)
    rows = np.concatenate(
        [
            j * f + i,
            i * f + j,
            u * f + u,
            u * f + n + u,
            (u[None] * f + 2 * n + np.arange(10)[:, None]).ravel(),
        ]
    )
    cols = np.concatenate([np.arange(p), np.arange(p), p + u, p + n + u, p + 2 * n + np.arange(10 * n)])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(f * n, lay.size))


def test_maximum_likelihood_recovers_a_reversible_computer():
    """Paths of a computer in equilibrium are reversible: their time reverse has the same law, so the
    reverse-path likelihood is maximal at the computer's own parameters (couplings, δJ₂, δJ₄, class bank).
    Each of the 2784 estimates is judged against its standard error from the likelihood's curvature
    (Fisher information, Cov θ̂ = (Δt/2kT·AᵀZᵀZA)⁻¹) at 4.6 SE: with 2784 nearly normal z-scores the
    chance that any exceeds it is 2784 × 4.2e-6 ≈ 1.2 %."""
    c, lay = TrainConfig(), Layout()
    rng = np.random.default_rng(2)
    j = np.triu(rng.normal(0, 0.08, (N_VISIBLE, N_VISIBLE)), 1)
    true = Model(
        c,
        (j + j.T)[None],
        rng.normal(0, 0.3, (1, N_CLASSES, N_VISIBLE)),
        rng.normal(0, 0.2, (1, N_VISIBLE)),
        rng.normal(0, 0.2, (1, N_VISIBLE)),
    )
    zz, zy = equilibrium_sums(true, 400, 1000, 3)
    theta = optimum(lay, zz[None], zy[None], ridge=0.0, smooth=0.0)[0]
    rows = np.trace(zz[2 * N_VISIBLE :, 2 * N_VISIBLE :])
    a = placement(lay)
    hess = (a.T @ sparse.kron(sparse.eye(N_VISIBLE), sparse.csr_matrix(zz)) @ a).toarray() * c.dt / (2 * c.kt)
    se = np.sqrt(np.diag(np.linalg.inv(hess)))
    i, k = np.triu_indices(N_VISIBLE, 1)
    truth = np.concatenate([true.coupling[0][i, k], 2 * true.dj2[0], 4 * true.dj4[0], true.bias[0].ravel()])
    z = (theta - truth) / se
    assert rows == 400 * 1000
    assert np.abs(z).max() <= 4.6, f"largest |z| {np.abs(z).max():.2f} at {np.argmax(np.abs(z))}"


def test_staged_fit_limits():
    """The staged normal equations at their two limits, from theory: without penalties every stage is its
    own least-squares fit (stage 0 alone); with a very stiff smoothness all stages are the single-stage
    fit of the pooled sums (equal rows per stage make the pooled objective the sum of the stages'; the
    residual difference is of order ‖A_k‖/μ ≈ 1e-4 of the parameters at μ = 10⁴)."""
    c = TrainConfig(stages=2)
    rng = np.random.default_rng(4)
    zz, zy = path_statistics(c, rng.uniform(-1, 1, (10, N_VISIBLE)), np.arange(10), rng)
    zz2, zy2 = stage_sums(c, zz, zy)
    lay = Layout()
    free = optimum(lay, zz2, zy2, ridge=1e-3, smooth=0.0)
    alone = optimum(lay, zz2[:1], zy2[:1], ridge=1e-3, smooth=0.0)
    np.testing.assert_allclose(free[0], alone[0], rtol=0, atol=1e-5 * np.abs(alone).max())
    stiff = optimum(lay, zz2, zy2, ridge=1e-3, smooth=1e4)
    pooled = optimum(lay, zz2.sum(0)[None], zy2.sum(0)[None], ridge=1e-3, smooth=0.0)
    np.testing.assert_allclose(stiff, np.repeat(pooled, 2, axis=0), atol=1e-3 * np.abs(pooled).max())


def bias_only_model(stages: int = 2) -> Model:
    """Units that feel only a class-and-stage bias: independent quartic units, exactly solvable."""
    c = TrainConfig(stages=stages)
    z = np.zeros((stages, N_VISIBLE))
    bias = np.linspace(-0.5, 0.5, stages * N_CLASSES * N_VISIBLE).reshape(stages, N_CLASSES, N_VISIBLE)
    return Model(c, np.zeros((stages, N_VISIBLE, N_VISIBLE)), bias, z, z.copy())


def test_twin_reads_the_class_bias_and_samples_its_law():
    """With bias-only terms the trained field is −b exactly, so the current read-out is −gain·b_c/drive of
    the last stage for every sample; the final states follow exp(−(J₂x² + J₄x⁴ + b x)/kT) (quadrature):
    the mean over the 40 samples of each class within 4 SE (SE from the exact variance) for 8 units per
    class (80 comparisons: the chance of a false alarm is 80 × 6.3e-5 ≈ 0.5 %)."""
    from thermosim.circuits.quartic import QuarticParams, stationary

    m = bias_only_model()
    cls = np.arange(400) % N_CLASSES
    out = twin(m, cls, seed=5)
    gain = Protocol().gain
    np.testing.assert_allclose(out["current"], -gain * m.bias[-1][cls] / m.config.drive, rtol=1e-12)
    p = QuarticParams(kt=0.1)
    for c in range(N_CLASSES):
        x = out["x"][cls == c]
        for i in range(0, N_VISIBLE, 8):
            mean, var, _ = stationary(p, m.bias[-1, c, i])
            assert abs(x[:, i].mean() - mean) <= 4 * np.sqrt(var / len(x))


def test_class_draw_is_uniform_and_counts_its_bits():
    """4-bit words with values ≥ 10 rejected: classes uniform (χ² with 9 dof below its 99.9 % point,
    27.9) and words per class geometric with p = 10/16 — mean 1.6, variance (1 − p)/p² = 0.96 — so the bits
    per class are 6.4 within 4 SE."""
    n = 4000
    cls, bits = draw_classes(n, seed=7)
    counts = np.bincount(cls, minlength=10)
    assert ((counts - n / 10) ** 2 / (n / 10)).sum() < 27.9
    assert abs(bits / n - 6.4) <= 4 * 4 * np.sqrt(0.96 / n)
    again, bits2 = draw_classes(n, seed=7)
    assert bits2 == bits and np.array_equal(again, cls)


def exact_moments(j, b, jm, kt):
    """Mean and covariance of exp(−V/kT) for two units, V = Σ J₂x² + J₄x⁴ + b x + J₁₂x₁x₂ (2-D quadrature)."""
    g = np.linspace(-2.5, 2.5, 1201)
    x1, x2 = np.meshgrid(g, g, indexing="ij")
    v = j[0][0] * x1**2 + j[1][0] * x1**4 + b[0] * x1 + j[0][1] * x2**2 + j[1][1] * x2**4 + b[1] * x2
    w = np.exp(-(v + jm * x1 * x2 - (v + jm * x1 * x2).min()) / kt)
    w /= w.sum()
    m = np.array([(w * x1).sum(), (w * x2).sum()])
    d1, d2 = x1 - m[0], x2 - m[1]
    return m, np.array(
        [[(w * d1 * d1).sum(), (w * d1 * d2).sum()], [(w * d1 * d2).sum(), (w * d2 * d2).sum()]]
    )


@pytest.mark.ngspice
def test_switched_quartic_circuit_samples_the_trained_law(tmp_path):
    """Two behavioural units whose couplings and per-unit J₂, J₄, b switch at t_s: after the switch the
    circuit must sample exp(−V_after/kT) exactly (2-D quadrature); means and covariances within 4 SE."""
    from thermosim.circuits.quartic import QuarticParams

    tau = 1e-6
    params = QuarticParams(
        j2=1.0,
        j4=1.0,
        kt=0.1,
        coupling=((0.0, 0.6), (0.6, 0.0)),
        couple_at_s=50 * tau,
        coupled_j2=(0.5, 1.5),
        coupled_j4=(1.2, 0.8),
        coupled_bias=(0.1, -0.2),
    )
    sim = SimSpec(t_stop_s=2500 * tau, noise_step_s=tau / 100, burn_in_s=60 * tau, seed=3)
    out = simulate(prepare(Spec("switched", "quartic", params, sim)), 3, tmp_path / "run")
    m = out.metrics
    mean, cov = exact_moments(((0.5, 1.5), (1.2, 0.8)), (0.1, -0.2), 0.6, 0.1)
    v0 = params.v_unit_v
    got_mean, got_cov = np.asarray(m["mean"]) / v0, np.asarray(m["cov"]) / v0**2
    mean_se, cov_se = np.asarray(m["mean_se"]) / v0, np.asarray(m["cov_se"]) / v0**2
    assert np.all(np.abs(got_mean - mean) <= 4 * mean_se), (got_mean, mean, mean_se)
    assert np.all(np.abs(got_cov - cov) <= 4 * cov_se), (got_cov, cov, cov_se)


def exact_expectations(j2, j4, b, jm, kt, funcs):
    """E[f(x₁, x₂)] under exp(−V/kT), V = Σ J₂x² + J₄x⁴ + b x + J₁₂x₁x₂ (2-D quadrature)."""
    g = np.linspace(-2.5, 2.5, 1201)
    x1, x2 = np.meshgrid(g, g, indexing="ij")
    v = j2[0] * x1**2 + j4[0] * x1**4 + b[0] * x1 + j2[1] * x2**2 + j4[1] * x2**4 + b[1] * x2 + jm * x1 * x2
    w = np.exp(-(v - v.min()) / kt)
    w /= w.sum()
    return [float((w * f(x1, x2)).sum()) for f in funcs]


@pytest.mark.ngspice
def test_staged_circuit_and_its_current_read_out(tmp_path):
    """Two behavioural units, two stages. In stage 1 (long) the circuit samples exp(−V₁/kT); the sense
    integrator holds v(q_i) = (g₀V₀/C_q)∫h_i dt over the window, h_i = −∂_i(V₁ − V₀) the trained field.
    Checked: (a) the integrator equals the time integral of h computed from the unit voltages (the same
    path; they differ by the interpolation between grid points only: within 0.5 SE of the mean); (b) the
    read-out mean field equals its exact expectation (2-D quadrature) within 4 SE, SE from 25 batch means
    of the window; (c) the Sekimoto heat the circuit reports over the run is finite and the stage switch
    is in force (the sense node carries stage-2 current only after its switch time)."""
    from thermosim.circuits.quartic import QuarticParams
    from thermosim.circuits.staged import sense_window

    tau, kt = 1e-6, 0.1
    j2, j4, b, jm = (0.5, 1.5), (1.2, 0.8), (0.1, -0.2), 0.6
    t1, t_from, t_end = 10 * tau, 60 * tau, 1560 * tau
    c_q = 1e-12
    params = QuarticParams(
        n=2,
        kt=kt,
        initial_x=0.0,
        stage_at_s=(t1 / 2, t1),
        stage_coupling=(((0.0, -0.3), (-0.3, 0.0)), ((0.0, jm), (jm, 0.0))),
        stage_j2=((1.0, 1.0), j2),
        stage_j4=((1.0, 1.0), j4),
        stage_bias=((0.0, 0.0), b),
        sense=2,
        sense_from_s=t_from,
        sense_c_f=c_q,
    )
    sim = SimSpec(t_stop_s=t_end, noise_step_s=tau / 100, burn_in_s=0.0, seed=3)
    out = simulate(prepare(Spec("staged", "quartic", params, sim)), 3, tmp_path / "run")
    x = out.samples[:, :2] / params.v_unit_v
    t = out.sample_times_s
    h = -np.column_stack(
        [
            jm * x[:, 1] + 2 * (j2[0] - 1) * x[:, 0] + 4 * (j4[0] - 1) * x[:, 0] ** 3 + b[0],
            jm * x[:, 0] + 2 * (j2[1] - 1) * x[:, 1] + 4 * (j4[1] - 1) * x[:, 1] ** 3 + b[1],
        ]
    )
    win = t >= t_from
    g0v0 = params.g0_s * params.v_unit_v
    t_eff = sense_window(params, out.samples[-1, 4])  # the calibration channel's window
    # at most one simulator step lost at the switch, and the leak's droop T²/(2·R·C_q) (the same on every
    # channel, so the calibration removes it too)
    window = t_end - t_from
    assert abs(t_eff - window) <= sim.noise_step_s + window**2 / (2 * 1e12 * c_q)
    read = out.samples[-1, 2:4] * c_q / (g0v0 * t_eff)  # the read-out: mean trained field
    batches = h[win][: 25 * (win.sum() // 25)].reshape(25, -1, 2).mean(axis=1)
    se = batches.std(axis=0, ddof=1) / 5
    grid_mean = np.trapezoid(h[win], t[win], axis=0) / (t[win][-1] - t[win][0])
    assert np.all(np.abs(read - grid_mean) <= 0.5 * se), (read, grid_mean, se)
    exact = exact_expectations(
        j2,
        j4,
        b,
        jm,
        kt,
        [
            lambda a, c: -(jm * c + 2 * (j2[0] - 1) * a + 4 * (j4[0] - 1) * a**3 + b[0]),
            lambda a, c: -(jm * a + 2 * (j2[1] - 1) * c + 4 * (j4[1] - 1) * c**3 + b[1]),
        ],
    )
    assert np.all(np.abs(read - exact) <= 4 * se), (read, exact, se)
    assert np.isfinite([r["value"] for r in out.metrics["energy"] if r["term"] == "heat"]).all()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, once):
    """A one-epoch model of 30 digits, trained once per test run; each module gets its own copy (tests
    write samples and figures beside it)."""
    import shutil

    def train_once():
        out = once.folder / "tiny_model"
        argv = ["train", "digits", "--limit", "30", "--epochs", "1", "--stages", "2", "--out", str(out)]
        assert main([*argv, "--json"]) == 0
        return out

    out = tmp_path_factory.mktemp("gen")
    shutil.copytree(once.get("generative_tiny_model", train_once), out, dirs_exist_ok=True)
    return out


def test_train_writes_model_history_and_throughput(tiny_model):
    summary = json.loads((tiny_model / "training.json").read_text())
    assert summary["digits"] == 30 and summary["history"][0]["epoch"] == 1
    assert [r["batch"] for r in summary["throughput"]] == [1, 128]
    model = Model.load(tiny_model / "model.npz")
    assert model.coupling.shape == (2, 64, 64) and model.bias.shape == (2, 10, 64)
    np.testing.assert_array_equal(model.coupling, np.swapaxes(model.coupling, 1, 2))
    assert np.all(np.diagonal(model.coupling, axis1=1, axis2=2) == 0)
    assert np.all(model.config.j4 + model.dj4 >= model.config.j4_floor * model.config.j4 - 1e-12)


def test_resumed_training_is_the_uninterrupted_run(tiny_model, tmp_path):
    """Two epochs continued from the one-epoch checkpoint = two epochs in one go, bit for bit."""
    import shutil

    resumed = tmp_path / "resumed"
    shutil.copytree(tiny_model, resumed)
    base = ["train", "digits", "--limit", "30", "--epochs", "2", "--stages", "2", "--json", "--out"]
    assert main([*base, str(resumed)]) == 0
    assert main([*base, str(tmp_path / "fresh")]) == 0
    a, b = Model.load(resumed / "model.npz"), Model.load(tmp_path / "fresh" / "model.npz")
    np.testing.assert_array_equal(a.coupling, b.coupling)
    np.testing.assert_array_equal(a.bias, b.bias)


def test_generate_refuses_too_few_images_before_simulating(tiny_model, tmp_path, capsys):
    model = str(tiny_model / "model.npz")
    for flag in ("--spice-n", "--transistor-n", "--n"):
        out = tmp_path / flag.strip("-")
        assert main(["generate", "--model", model, "--out", str(out), flag, "4"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and f"{flag} 4" in err and "at least 10 images" in err, err
        assert not out.exists()


@pytest.mark.ngspice
def test_generate_writes_samples_in_pixel_scale_and_judges_them(tiny_model, capsys):
    argv = ["generate", "--out", str(tiny_model), "--n", "16", "--spice-n", "10", "--transistor-n", "10"]
    assert main([*argv, "--workers", "2", "--dask", "--json"]) == 0  # the pool's samples: test below
    result = json.loads(capsys.readouterr().out)
    assert (
        result["cost"]["spice"]["executor"]
        == result["cost"]["transistor"]["executor"]
        == "2 worker(s) (Dask)"
    )
    with np.load(tiny_model / "samples.npz") as z:
        assert z["spice"].shape == (10, 64) and z["twin"].shape == (16, 64)
        assert z["transistor"].shape == (10, 64)
        for k in ("spice", "twin", "transistor"):
            assert z[k].min() >= 0 and z[k].max() <= PIXEL_MAX
            assert np.array_equal(z[f"{k}_class"], z["twin_class"][: len(z[k])])
    labels = [q["label"] for q in result["quality"]]
    assert {"spice (current)", "twin (voltage)", "transistor (current)", "real_train"} <= set(labels)
    assert result["cost"]["transistor"]["supply_j_per_sample"] > 0  # the bias sources deliver power
    terms = {e["term"] for e in result["energy"]}
    assert {"heat", "bank switching", "read-out (ADC)", "read-out (integrator)", "class bits"} <= terms
    assert result["spice_vs_twin_mmd"]["current"]["n_x"] == 10
    assert 0 <= result["class_accuracy"]["spice (current)"]["accuracy"] <= 1
    assert (tiny_model / "metrics.json").exists() and (tiny_model / "samples.png").exists()
    from thermosim.generative.report import section_body

    assert "Conditional generation" in section_body(result) and "bank switching" in section_body(result)


@pytest.mark.ngspice
def test_netlists_on_dask_are_the_pool_samples_bit_for_bit():
    """Netlist k has seed ``seed + k`` whichever worker runs it, and results are read in k order: a local
    Dask cluster gives the process pool's samples bit for bit."""
    pytest.importorskip("distributed")
    from thermosim.generative import generate

    model, classes = bias_only_model(), np.array([3, 7, 1, 0])
    pool = generate.spice(model, classes, 5, workers=2)
    with generate.executor(2, dask=True) as ex:
        dask = generate.spice(model, classes, 5, workers=2, pool=ex)
    for k in ("x", "current", "voltage"):
        assert np.array_equal(pool[k], dask[k]), k
    assert pool["cost"]["heat_kt_samples"] == dask["cost"]["heat_kt_samples"]


def test_generate_without_dask_is_one_line(tmp_path, capsys, monkeypatch):
    model = bias_only_model().save(tmp_path / "model.npz")
    monkeypatch.setitem(sys.modules, "distributed", None)
    argv = ["generate", "--model", str(model), "--out", str(tmp_path / "o"), "--dask"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Dask is not installed: pip install 'thermosim[dask]'" in err[0]
    assert not (tmp_path / "o").exists()


def test_sweep_fits_every_k_on_the_same_paths(tiny_model):
    """The sweep refits K = 1 and 2 from the tiny model's checkpoint (no new paths) and writes its table."""
    from thermosim.generative.report import sweep_body
    from thermosim.generative.sweep import run_sweep

    s = run_sweep(
        tiny_model,
        tiny_model / "checkpoint.npz",
        n=20,
        stages=(1, 2),
        windows=(0.05, 0.1),
        window_stages=((2, True),),
        selection=(2,),
        selection_seeds=(101, 102),
        spice_cpu=False,
        limit=30,
    )
    assert [(r["stages"], r["tied"]) for r in s["stages"]] == [(1, False), (2, False), (2, True)]
    assert len(s["windows"]) == 2
    assert (tiny_model / "sweep.png").exists() and "| 2 | one bank | 0.1 |" in sweep_body(s)
    assert [(r["stages"], r["gain"]) for r in s["selection"]] == [(2, 1.0), (2, 1.05), (2, 1.1)]
    assert all(r["frechet"]["sd"] >= 0 for r in s["selection"]) and "seeds 101–102" in sweep_body(s)


def test_generate_without_a_model_is_one_line(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "thermosim train digits" in err[0]


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["train", "digits", "--smooth", "-1"], "train.smooth"),
        (["train", "digits", "--ridge", "-1"], "train.ridge"),
        (["train", "digits", "--stages", "300"], "train.stages"),
    ],
)
def test_bad_training_settings_are_one_line(tmp_path, capsys, argv, key):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and key in err[0]


def test_bad_generation_window_is_one_line(tiny_model, capsys):
    assert main(["generate", "--out", str(tiny_model), "--window", "9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "generate.window" in err[0]


def test_bad_staged_circuit_keys_are_one_line():
    from thermosim.circuits.quartic import QuarticParams
    from thermosim.errors import SpecError

    with pytest.raises(SpecError, match="stage_at_s must be increasing"):
        QuarticParams(n=2, stage_at_s=(2e-6, 1e-6)).validate("circuit")
    with pytest.raises(SpecError, match="stage_coupling must be a finite array of shape"):
        QuarticParams(n=2, stage_at_s=(1e-6,), stage_coupling=((0.0,),)).validate("circuit")
    with pytest.raises(SpecError, match="sense needs a staged protocol"):
        QuarticParams(n=2, sense=2).validate("circuit")


def test_features_and_config_defaults():
    c = TrainConfig()
    assert dataclasses.asdict(c)["kt"] == 0.1 and c.n_steps == 2500  # Whitelam's kT and t_f/Δt
    z = features(np.array([[2.0, -1.0]]), np.array([3]))
    np.testing.assert_array_equal(z, [[2.0, -1.0, 8.0, -1.0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]])
    assert Protocol().window == 0.1 and Protocol().gain == 1.05


def test_piecewise_coefficients_and_read_out_gain(tiny_model):
    """A staged coefficient is one nested conditional on time (0 before the first stage); the read-out gain
    multiplies the twin's current read-out and divides the circuit's integrating capacitor."""
    from thermosim.circuits.staged import piecewise
    from thermosim.generative.generate import CircuitScale, sense_capacitor

    assert piecewise(np.array([1.0, 2.0]), [3.0, 3.0]) == "(time<1.0?0:3.0)"
    nested = "(time<1.0?0:(time<2.0?3.0:(time<4.0?5.0:7.0)))"
    assert piecewise(np.array([1.0, 2.0, 4.0]), [3.0, 5.0, 7.0]) == nested
    m = Model.load(tiny_model / "model.npz")
    a, b = twin(m, np.arange(10), 4, Protocol(gain=1.0)), twin(m, np.arange(10), 4, Protocol(gain=1.25))
    np.testing.assert_allclose(b["current"], 1.25 * a["current"])
    np.testing.assert_array_equal(a["voltage"], b["voltage"])
    c1, c2 = (sense_capacitor(m, Protocol(gain=g), CircuitScale(), 1e-6) for g in (1.0, 1.25))
    assert c1 == pytest.approx(1.25 * c2)


@pytest.mark.ngspice
def test_pbit_classes_come_from_the_latch():
    """Classes drawn from the thermal p-bit's bits: 10 classes in 0…9, at least 4 bits each (one word),
    and the energy per bit is the latch's supply energy over the run divided by the bits taken (> 0)."""
    from thermosim.generative.energy import pbit_classes

    cls, used, j_per_bit = pbit_classes(10, seed=3)
    assert len(cls) == 10 and cls.min() >= 0 and cls.max() <= 9
    assert used >= 4 * 10 and used % 4 == 0
    assert 0 < j_per_bit < 1e-9
