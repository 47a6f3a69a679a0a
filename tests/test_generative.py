"""The generative computer: the learning rule against theory, the switched circuit against its exact law,
training and generation end to end (real ngspice runs)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from thermosim.cli import main
from thermosim.digital.data import PIXEL_MAX
from thermosim.experiment import prepare, simulate
from thermosim.generative.model import Layout, Model, TrainConfig, decode, encode, features
from thermosim.generative.train import gain, gain_gradient, optimum, reverse_sums
from thermosim.spec import SimSpec, Spec


def small_layout(n: int) -> Layout:
    """All couplings, biases, δJ₂ and δJ₄ free on n units (the digits layout fixes 64 visible units)."""
    return Layout(n, np.argwhere(np.triu(np.ones((n, n), bool), 1)), np.arange(n), np.arange(n))


def test_encode_decode_round_trip():
    c = TrainConfig()
    s = np.linspace(-1, 1, 33)
    x = encode(c, s)
    np.testing.assert_allclose(2 * c.j2 * x + 4 * c.j4 * x**3, c.drive * s, atol=1e-12)
    np.testing.assert_allclose(decode(c, x), s, atol=1e-12)


def test_layout_adjoint_is_the_transpose():
    lay = small_layout(5)
    rng = np.random.default_rng(0)
    th, g = rng.standard_normal(lay.size), rng.standard_normal((11, 5))
    assert np.vdot(lay.to_w(th), g) == pytest.approx(np.vdot(th, lay.adjoint(g)), rel=1e-12)


def test_gradient_is_the_derivative_of_the_gain():
    """The analytic per-step gradient against central differences of the path log-likelihood gain."""
    c, lay = TrainConfig(), small_layout(3)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 3)) * 0.3
    zz, zy = reverse_sums(c, x[:-1], x[1:])
    th = rng.standard_normal(lay.size) * 0.2
    g = gain_gradient(c, lay, lay.to_w(th), zz, zy, 1)
    h = 1e-5
    for k in range(lay.size):
        e = np.zeros(lay.size)
        e[k] = h
        num = (gain(c, lay.to_w(th + e), zz, zy, 1) - gain(c, lay.to_w(th - e), zz, zy, 1)) / (2 * h)
        assert num == pytest.approx(g[k], rel=1e-5, abs=1e-6)


def test_maximum_likelihood_recovers_a_reversible_computer():
    """Paths of a computer in equilibrium are reversible: their time reverse has the same law, so the
    reverse-path likelihood must be maximal at the computer's own parameters. Each estimate is judged
    against its standard error from the likelihood's curvature (Fisher information), at 4 SE."""
    c = TrainConfig(kt=0.1, dt=1e-3)
    n, lay = 3, small_layout(3)
    j = np.array([[0, 0.8, -0.5], [0.8, 0, 0.3], [-0.5, 0.3, 0]])
    true = Model(
        c, j, np.array([0.2, -0.1, 0.0]), np.array([-0.3, 0.2, 0.0]), np.array([0.5, 0.0, -0.2]), "", []
    )
    rng = np.random.default_rng(2)
    chains, steps = 200, 6000
    x = np.zeros((chains, n))
    for _ in range(3000):  # burn-in: 3 time units, several relaxation times
        x = x - true.force(x) * c.dt + np.sqrt(2 * c.kt * c.dt) * rng.standard_normal(x.shape)
    zz, zy = np.zeros((2 * n + 1, 2 * n + 1)), np.zeros((2 * n + 1, n))
    for _ in range(steps // 500):
        path = [x]
        for _ in range(500):
            x = x - true.force(x) * c.dt + np.sqrt(2 * c.kt * c.dt) * rng.standard_normal(x.shape)
            path.append(x)
        p = np.array(path)
        dz, dy = reverse_sums(c, p[:-1].reshape(-1, n), p[1:].reshape(-1, n))
        zz, zy = zz + dz, zy + dy
    est = Model.from_w(c, lay.to_w(optimum(lay, zz, zy)))
    # Fisher information of θ: the gain's Hessian is −(Δt/2kT)·AᵀZᵀZA; Cov θ̂ = its inverse
    hess = np.column_stack([lay.adjoint(zz @ lay.to_w(e)) for e in np.eye(lay.size)]) * c.dt / (2 * c.kt)
    se_w = Model.from_w(c, lay.to_w(np.sqrt(np.diag(np.linalg.inv(hess)))))
    for name in ("coupling", "bias", "dj2", "dj4"):
        err, se = getattr(est, name) - getattr(true, name), np.abs(getattr(se_w, name))
        mask = se > 0
        assert np.all(np.abs(err[mask]) <= 4 * se[mask]), f"{name}: error {err} vs SE {se}"


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


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    argv = ["train", "digits", "--limit", "24", "--epochs", "1", "--hidden", "3", "--out", str(out), "--json"]
    assert main(argv) == 0
    return out


def test_train_writes_model_history_and_throughput(tiny_model):
    summary = json.loads((tiny_model / "training.json").read_text())
    assert summary["digits"] == 24 and len(summary["history"]) == 1
    assert [r["batch"] for r in summary["throughput"]] == [1, 128]
    model = Model.load(tiny_model / "model.npz")
    assert model.coupling.shape == (67, 67)
    np.testing.assert_array_equal(model.coupling, model.coupling.T)
    assert np.all(np.diag(model.coupling) == 0)
    assert np.all(model.j4_units >= model.config.j4_floor * model.config.j4 - 1e-12)


def test_resumed_training_is_the_uninterrupted_run(tiny_model, tmp_path):
    """Two epochs continued from the one-epoch checkpoint = two epochs in one go, bit for bit."""
    import shutil

    resumed = tmp_path / "resumed"
    shutil.copytree(tiny_model, resumed)
    base = ["train", "digits", "--limit", "24", "--epochs", "2", "--hidden", "3", "--json", "--out"]
    assert main([*base, str(resumed)]) == 0
    assert main([*base, str(tmp_path / "fresh")]) == 0
    a, b = Model.load(resumed / "model.npz"), Model.load(tmp_path / "fresh" / "model.npz")
    np.testing.assert_array_equal(a.coupling, b.coupling)
    np.testing.assert_array_equal(a.bias, b.bias)


@pytest.mark.ngspice
def test_generate_writes_samples_in_pixel_scale_and_judges_them(tiny_model, capsys):
    argv = [
        "generate",
        "--out",
        str(tiny_model),
        "--n",
        "16",
        "--spice-n",
        "16",
        "--transistor-n",
        "10",
        "--json",
    ]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    with np.load(tiny_model / "samples.npz") as z:
        assert z["spice"].shape == (16, 64) and z["twin"].shape == (16, 64)
        assert z["transistor"].shape == (10, 64)
        for k in ("spice", "twin", "transistor"):
            assert z[k].min() >= 0 and z[k].max() <= PIXEL_MAX
    labels = [q["label"] for q in result["quality"]]
    assert {"spice", "twin", "transistor", "real_train"} <= set(labels)
    assert result["cost"]["transistor"]["supply_j_per_sample"] > 0  # the bias sources deliver power
    assert {"heat", "readout", "programming"} <= {e["term"] for e in result["energy"]}
    assert result["spice_vs_twin_mmd"]["n_x"] == 16
    assert (tiny_model / "metrics.json").exists() and (tiny_model / "samples.png").exists()


def test_generate_without_a_model_is_one_line(tmp_path, capsys):
    assert main(["generate", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "thermosim train digits" in err[0]


def test_bad_training_settings_are_one_line(tmp_path, capsys):
    assert main(["train", "digits", "--hidden", "-3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train.hidden" in err[0]


def test_features_and_config_defaults():
    c = TrainConfig()
    assert dataclasses.asdict(c)["kt"] == 0.1 and c.n_steps == 2500  # Whitelam's kT and t_f/Δt
    z = features(np.array([[2.0, -1.0]]))
    np.testing.assert_array_equal(z, [[2.0, -1.0, 8.0, -1.0, 1.0]])
