"""The JAX DDPM and its numpy samplers: schedule, respacing, known-answer sampling, MACs, determinism, cache.

Known answer: for data N(m, S) the optimal noise predictor is affine (``gaussian_eps``), so the ancestral
and DDIM chains are linear-Gaussian and their output moments follow exactly from propagating mean and
covariance through each update (written here in Ho et al.'s ε form, independently of the module's x̂₀ form).
Sample moments are compared with those within statistical tolerances stated per test. Unit tests use a tiny
network; the full-size quality goals are in the slow suite.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from thermosim.digital import ddpm, diffusion
from thermosim.digital.ddpm import DDPM, DDPMConfig, cache_key, train, train_or_load
from thermosim.digital.ddpm_net import layer_shapes, macs

T = 1000
ABAR = diffusion.cosine_alpha_bar(T)
_RNG = np.random.default_rng(1)
M = np.array([0.4, -0.3, 0.1])
_A = 0.3 * _RNG.normal(size=(3, 3))
S = _A @ _A.T + 0.05 * np.eye(3)
TINY = DDPMConfig(
    width=16, blocks=1, time_features=4, train_steps=60, batch=32, warmup=10, diffusion_steps=50
)
ABAR_TINY = diffusion.cosine_alpha_bar(50)


def propagated_moments(steps: int, sampler: str) -> tuple[np.ndarray, np.ndarray]:
    """Exact output mean and covariance of the chain driven by the exact ε of N(M, S) (no clipping)."""
    tau = diffusion.respaced_timesteps(T, steps)
    mean, cov, eye = np.zeros(3), np.eye(3), np.eye(3)
    for k in range(steps - 1, -1, -1):
        a, a_prev = ABAR[tau[k]], (ABAR[tau[k - 1]] if k > 0 else 1.0)
        gain = np.sqrt(1 - a) * np.linalg.inv(a * S + (1 - a) * eye)  # ε = gain (x − √a M)
        shift = -np.sqrt(a) * gain @ M
        if sampler == "ancestral":  # μ = (x − β/√(1 − a) ε)/√(1 − β), σ² = β (1 − a')/(1 − a)
            beta = 1 - a / a_prev
            lin = (eye - beta / np.sqrt(1 - a) * gain) / np.sqrt(1 - beta)
            off = -beta / np.sqrt(1 - a) * shift / np.sqrt(1 - beta)
            noise = beta * (1 - a_prev) / (1 - a) if k > 0 else 0.0
        else:  # x' = √a' (x − √(1 − a) ε)/√a + √(1 − a') ε
            coef = np.sqrt(1 - a_prev) - np.sqrt(a_prev * (1 - a) / a)
            lin, off, noise = np.sqrt(a_prev / a) * eye + coef * gain, coef * shift, 0.0
        mean, cov = lin @ mean + off, lin @ cov @ lin.T + noise * eye
    return mean, cov


# ---------------------------------------------------------------------------------------------- schedule


def test_cosine_schedule_closed_form_and_ends_in_noise():
    f = np.cos(0.5 * np.pi * (np.arange(T + 1) / T + 0.008) / 1.008) ** 2
    np.testing.assert_allclose(ABAR[:900], f[1:901] / f[0], rtol=1e-12)  # β cap inactive here
    assert np.all(np.diff(ABAR) < 0) and 0.9999 < ABAR[0] < 1 and ABAR[-1] < 1e-6


@pytest.mark.parametrize("steps", [1, 2, 10, 50, 200, 1000])
def test_respacing_keeps_the_marginals(steps):
    tau = diffusion.respaced_timesteps(T, steps)
    assert len(tau) == steps and tau[-1] == T - 1 and np.all(np.diff(tau) > 0)
    betas = diffusion.respaced_betas(ABAR, tau)
    assert np.all((betas > 0) & (betas < 1))
    np.testing.assert_allclose(np.cumprod(1 - betas), ABAR[tau], rtol=1e-9, atol=1e-15)


def test_respacing_at_full_length_is_the_original_chain():
    tau = diffusion.respaced_timesteps(T, T)
    np.testing.assert_array_equal(tau, np.arange(T))
    betas = 1 - ABAR / np.concatenate([[1.0], ABAR[:-1]])
    np.testing.assert_allclose(diffusion.respaced_betas(ABAR, tau), betas, rtol=1e-12)


@pytest.mark.parametrize("steps", [0, 1001, 2.5])
def test_bad_step_counts_are_refused_in_one_line(steps):
    with pytest.raises(ValueError, match=r"1\.\.1000") as err:
        diffusion.respaced_timesteps(T, steps)
    assert "\n" not in str(err.value)


# ------------------------------------------------------------------------------------ known-answer sampling


@pytest.mark.parametrize(("sampler", "steps"), [("ancestral", 10), ("ancestral", 50), ("ddim", 10)])
def test_sampler_with_the_exact_eps_matches_the_propagated_moments(sampler, steps):
    """20 000 independent rows: SE of a mean ≈ σ/√n ≤ 0.004, of a covariance element ≈ 0.003 (σ² ≤ 0.35);
    tolerances are 4 SE (mean 0.016, covariance 0.012) over 3 + 6 compared numbers."""
    x = diffusion.sample(
        diffusion.gaussian_eps(M, S, ABAR), ABAR, 20_000, 3, steps, 7, sampler=sampler, clip=None
    )
    mean, cov = propagated_moments(steps, sampler)
    assert np.max(np.abs(x.mean(0) - mean)) < 0.016
    assert np.max(np.abs(np.cov(x.T) - cov)) < 0.012


def test_exact_eps_chains_converge_to_the_data_law():
    """With the exact ε both chains approach N(M, S) as steps grow (exact moments, no sampling).

    Relative Frobenius covariance errors: ancestral 0.12 / 0.035 / 0.0076 at 50 / 200 / 1000 steps (the
    posterior variance β̃ is the lower bound, so even the full chain is not exact); DDIM 0.059 / 0.015 at
    50 / 200 steps. The means are exact to 1e-5."""
    for sampler, counts, tols in (
        ("ancestral", (50, 200, 1000), (0.15, 0.04, 0.01)),
        ("ddim", (50, 200), (0.07, 0.02)),
    ):
        errors = []
        for steps, tol in zip(counts, tols, strict=True):
            mean, cov = propagated_moments(steps, sampler)
            errors.append(np.linalg.norm(cov - S) / np.linalg.norm(S))
            assert errors[-1] < tol and np.max(np.abs(mean - M)) < 1e-4, (sampler, steps)
        assert errors == sorted(errors, reverse=True)


def test_clipping_keeps_the_final_step_in_range():
    far = diffusion.gaussian_eps(np.full(3, 5.0), np.eye(3), ABAR)  # data far outside [−1, 1]
    for sampler in diffusion.SAMPLERS:
        x = diffusion.sample(far, ABAR, 200, 3, 10, 0, sampler=sampler, clip=1.0)
        assert x.shape == (200, 3) and np.abs(x).max() <= 1.0 + 1e-12


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="ancestral, ddim"):
        diffusion.sample(lambda x, t: x, ABAR, 2, 3, 5, 0, sampler="euler")


# ------------------------------------------------------------------------------------------ the network


def test_macs_formula_and_count_from_the_parameters():
    count = macs(64, 256, 2, 64)
    assert count == {"trunk": 294_912, "time_mlp": 90_112, "total": 385_024}
    shapes = layer_shapes(5, 12, 3, 6)  # dense layers: the 2-D weights
    assert sum(s[0] * s[1] for s in shapes.values() if len(s) == 2) == macs(5, 12, 3, 6)["total"]


def test_config_validation_is_one_line():
    bad_ones = ({"width": 7}, {"time_features": 3}, {"warmup": 22_000}, {"ema": 1.0}, {"grad_clip": 0.0})
    for bad in (*bad_ones, {"target": "x0"}):
        with pytest.raises(ValueError, match="invalid DDPMConfig") as err:
            DDPMConfig(**bad)
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="non-finite"):
        train(np.array([[0.0, np.nan]]), TINY)


@pytest.fixture(scope="module")
def tiny_data():
    return np.random.default_rng(0).uniform(-1, 1, size=(64, 5))


@pytest.fixture(scope="module")
def tiny_model(tiny_data):
    return train(tiny_data, TINY)


def test_training_is_bit_for_bit_deterministic(tiny_data, tiny_model):
    again = train(tiny_data, TINY)
    assert tiny_model.params.keys() == again.params.keys()
    assert all(np.array_equal(tiny_model.params[k], again.params[k]) for k in again.params)
    other = train(tiny_data, dataclasses.replace(TINY, seed=1))
    assert not np.array_equal(other.params["in/w"], tiny_model.params["in/w"])
    x = tiny_model.sample(30, 7, seed=3)
    assert x.shape == (30, 5) and np.array_equal(x, again.sample(30, 7, seed=3))
    assert np.abs(x).max() <= 1.0  # clipped x̂₀ at the last step


def test_a_v_model_hands_the_samplers_its_eps(tiny_data, tiny_model):
    """ε = √(1 − ᾱ) x + √ᾱ v: the identity that turns the network's v into the ε the samplers expect."""
    from thermosim.digital.ddpm_net import predictor

    assert tiny_model.config.target == "v"
    x = np.random.default_rng(4).normal(size=(7, 5))
    v = predictor(tiny_model.params, TINY.time_features)(x, 20)
    a = ABAR_TINY[20]
    np.testing.assert_allclose(tiny_model.eps(x, 20), np.sqrt(1 - a) * x + np.sqrt(a) * v, rtol=1e-12)
    as_eps = DDPM(dataclasses.replace(TINY, target="eps"), tiny_model.params, 5, [], 0.0, "")
    np.testing.assert_array_equal(as_eps.eps(x, 20), v)


def test_cache_hit_miss_and_stale_files(tmp_path, tiny_data, tiny_model):
    model, cached = train_or_load(tiny_data, TINY, tmp_path, "t")
    assert not cached and model.key == tiny_model.key == cache_key(tiny_data, TINY)
    again, cached = train_or_load(tiny_data, TINY, tmp_path, "t")
    assert cached and all(np.array_equal(again.params[k], model.params[k]) for k in model.params)
    assert again.macs_per_sample(10) == 10 * macs(5, 16, 1, 4)["total"]
    changed = dataclasses.replace(TINY, learning_rate=1e-3)
    assert cache_key(tiny_data, changed) != model.key
    assert cache_key(tiny_data[::-1], TINY) != model.key  # the data are part of the key
    _, cached = train_or_load(tiny_data, changed, tmp_path, "t")
    assert not cached and len(list(tmp_path.glob("ddpm_t_*.npz"))) == 1  # the stale file is gone
    path = next(tmp_path.glob("ddpm_t_*.npz"))
    path.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="corrupt DDPM cache"):
        DDPM.load(path)
    _, cached = train_or_load(tiny_data, changed, tmp_path, "t")
    assert not cached


def test_the_cache_key_covers_the_code(tmp_path, monkeypatch, tiny_data):
    """Any edit of the network, loss, training or schedule sources changes the key (no hand-kept version);
    where the files live does not."""
    assert {p.name for p in ddpm.CODE_FILES} == {"ddpm.py", "ddpm_net.py", "diffusion.py"}
    original = cache_key(tiny_data, TINY)

    def key_with(folder: str, edited: str | None) -> str:
        (tmp_path / folder).mkdir()
        files = tuple(tmp_path / folder / p.name for p in ddpm.CODE_FILES)
        for src, dst in zip(ddpm.CODE_FILES, files, strict=True):
            dst.write_bytes(src.read_bytes() + (b"#" if src.name == edited else b""))
        with monkeypatch.context() as m:
            m.setattr(ddpm, "CODE_FILES", files)
            return cache_key(tiny_data, TINY)

    assert key_with("same", None) == original
    for name in ("ddpm.py", "ddpm_net.py", "diffusion.py"):
        assert key_with(f"edit_{name}", name) != original


def test_a_small_ddpm_learns_a_gaussian():
    """Real training (≈ 10 CPU s): 5 000 steps of a 64-wide, 2-block network on 4 000 draws of N(M, S);
    4 000 samples at 200 steps.

    Sampling SE ≈ 0.008 for the means (σ ≤ 0.55) and ≤ 0.007 for the covariance elements; the tolerances
    are 4 SE (mean 0.03, covariance 0.03), which a correct sampler with a well-trained ε_θ passes (measured:
    0.012 and 0.006) and a wrong schedule, sign or time input fails by the order of the data's spread.
    At 50 steps the same model's covariance error is 0.037: the ancestral sampler's own discretisation
    error (test above: 0.12 relative with the exact ε)."""
    data = np.random.default_rng(2).multivariate_normal(M, S, size=4000)
    config = DDPMConfig(width=64, blocks=2, time_features=16, train_steps=5000, warmup=250, seed=0)
    x = train(data, config).sample(4000, 200, seed=0, clip=4.0)  # a bound the data never reach
    assert np.max(np.abs(x.mean(0) - M)) < 0.03
    assert np.max(np.abs(np.cov(x.T) - S)) < 0.03


@pytest.mark.slow
def test_digits_ddpm_meets_the_quality_goals():
    """The shipped digits DDPM (cached in results/digital, else trained: ≈ 4 CPU-minutes), 360 images per
    step count at sampling seed 0, judged by ``quality()``.

    Goals (recognisable / Fréchet): 10 steps 0.78 / 1.05, 50 steps 0.88 / 0.70, 200 steps 0.84 / 0.75;
    every class ≥ 6 % at 50 and 200 steps; no copies (≤ 5 %, real held-out digits: ≈ 1 %); training
    ≤ 240 CPU s. A recognisable fraction of 360 images has a binomial SE of √(p(1 − p)/360) ≈ 0.017, so
    it is held to its goal within 2 SE; the other goals are exact.
    """
    from pathlib import Path

    from thermosim.compare.digits import digits_ddpm_config
    from thermosim.digital.data import load_digits_split, scale, unscale
    from thermosim.digital.quality import quality

    root = Path(__file__).resolve().parents[1]
    model, _ = train_or_load(
        scale(load_digits_split().x_train), digits_ddpm_config(), root / "results/digital", "digits"
    )
    assert model.train_cpu_s <= 240
    for steps, rec, frechet in ((10, 0.78, 1.05), (50, 0.88, 0.70), (200, 0.84, 0.75)):
        q = quality(unscale(model.sample(360, steps, seed=0)), f"ddpm_{steps}")
        se = np.sqrt(rec * (1 - rec) / 360)
        assert q["recognisable"] >= rec - 2 * se and q["frechet"] <= frechet, (steps, q)
        assert q["copies"] <= 0.05 and (steps == 10 or q["min_class_share"] >= 0.06), (steps, q)


def test_the_circuit_side_imports_without_the_digital_extra():
    """With jax, optax and thermox unimportable, thermosim and its command line import, and asking for the
    DDPM is one line naming the extra."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for m in ('jax', 'optax', 'thermox'): sys.modules[m] = None\n"
        "import thermosim, thermosim.cli, thermosim.compare, thermosim.digital.ddpm\n"
        "from thermosim.digital.ddpm import DDPMConfig, train\n"
        "try:\n"
        "    train([[0.0, 1.0]], DDPMConfig(train_steps=2, warmup=0))\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.strip().endswith("pip install 'thermosim[digital]'") and out.stdout.count("\n") == 1
