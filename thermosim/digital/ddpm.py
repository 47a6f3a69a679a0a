"""A small denoising diffusion probabilistic model (DDPM) for vectors, in numpy + scikit-learn.

Forward (noising) process of Ho et al. 2020, for data rows x₀ ∈ ℝᵈ scaled to roughly [-1, 1]::

    q(x_t | x₀) = N(√ᾱ_t x₀, (1 − ᾱ_t) I),   ᾱ_t = Π_{s≤t} (1 − β_s),   t = 1 … T

A multilayer perceptron ε_θ([x_t, e(t)]) (ReLU, Adam; ``sklearn.neural_network.MLPRegressor``) is trained on
the "simple" loss E‖ε − ε_θ(√ᾱ_t x₀ + √(1 − ᾱ_t) ε, t)‖² with t ~ U{1 … T}, ε ~ N(0, I), where e(t) is a
sinusoidal time embedding. Sampling is ancestral (reverse Markov chain from x_T ~ N(0, I)) on a schedule
respaced to any number of steps ≤ T (Nichol & Dhariwal 2021, §4), and uses only the cached numpy weights.

Noise schedule: the *linear* schedule of Ho et al., rescaled to T steps as in Nichol & Dhariwal's code,
β_i = (1000/T) · linspace(β_start, β_end, T)_i (capped at 0.999). The rescaling keeps Σβ ≈ 10 for every T,
so ᾱ_T ≈ 2–4·10⁻⁵ for T ≥ 100 (less for shorter chains) and x_T is pure noise at any T. It was chosen over
the cosine schedule because the config names (β_start, β_end) describe it directly, and for 8×8 images or
low-dimensional vectors the cosine schedule's motivation (the linear one wastes its last steps on already
destroyed 32×32+ images) is weak; respacing works with either.

All quantities are dimensionless (data units of the scaled rows). Costs: one network evaluation is
``macs_per_step()`` = Σ_layers in·out multiply-accumulates per sample; a sample costs ``steps`` of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BETA_MAX = 0.999


@dataclass(frozen=True)
class DDPMConfig:
    """Hyper-parameters of one DDPM training run (all dimensionless).

    steps: training diffusion steps T. beta_start, beta_end: endpoints of the linear schedule *before*
    the 1000/T rescaling (Ho et al. values for T = 1000). hidden: MLP hidden-layer widths.
    time_features: size of the sinusoidal embedding of t (even). epochs: passes of ``partial_fit``.
    noise_draws: (t, ε) draws per training row per epoch, so an epoch has n·noise_draws pairs.
    batch_size, learning_rate: Adam mini-batch size and step size. alpha: L2 penalty of the MLP.
    ema: decay of the per-epoch exponential moving average of the weights that the model keeps
    (w̄ ← ema·w̄ + (1 − ema)·w after each epoch; 0 keeps the last weights). Averaging removes most of
    Adam's late-training jitter, which otherwise shows up as a bias of the sample mean.
    seed: seeds the noise draws, the pair order and the MLP initialisation.
    """

    steps: int = 200
    beta_start: float = 1e-4
    beta_end: float = 0.02
    hidden: tuple[int, ...] = (256, 256)
    time_features: int = 16
    epochs: int = 600
    noise_draws: int = 8
    batch_size: int = 128
    learning_rate: float = 2e-3
    alpha: float = 0.0
    ema: float = 0.8
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        checks = {
            "steps >= 2": self.steps >= 2,
            "0 < beta_start <= beta_end < 1": 0 < self.beta_start <= self.beta_end < 1,
            "hidden widths >= 1": len(self.hidden) >= 1 and min(self.hidden) >= 1,
            "time_features even and >= 2": self.time_features >= 2 and self.time_features % 2 == 0,
            "epochs, noise_draws, batch_size >= 1": min(self.epochs, self.noise_draws, self.batch_size) >= 1,
            "learning_rate > 0": self.learning_rate > 0,
            "alpha >= 0": self.alpha >= 0,
            "0 <= ema < 1": 0 <= self.ema < 1,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise ValueError(f"invalid DDPMConfig ({', '.join(failed)}): {self}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DDPMConfig:
        return cls(**json.loads(text))


# ---------------------------------------------------------------------------------------------- schedule


def linear_betas(config: DDPMConfig) -> np.ndarray:
    """β_1 … β_T: (1000/T) · linspace(β_start, β_end, T), capped at 0.999 so that ᾱ_T > 0."""
    scale = 1000.0 / config.steps
    return np.minimum(scale * np.linspace(config.beta_start, config.beta_end, config.steps), BETA_MAX)


def alpha_bar(betas: np.ndarray) -> np.ndarray:
    """ᾱ_t = Π_{s≤t} (1 − β_s) for t = 1 … T (index t−1)."""
    return np.cumprod(1.0 - np.asarray(betas, float))


def respaced_timesteps(total: int, steps: int) -> np.ndarray:
    """``steps`` evenly spaced timesteps τ_1 < … < τ_steps = T of the T-step schedule (1-based)."""
    if not 1 <= steps <= total:
        raise ValueError(f"sampling steps must be in 1..{total} (the training steps), got {steps}")
    if steps == 1:
        return np.array([total])
    return np.round(np.linspace(1, total, steps)).astype(int)


def respace(betas: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Respaced schedule (Nichol & Dhariwal 2021, §4): (τ, β').

    β'_k = 1 − ᾱ_{τ_k} / ᾱ_{τ_{k−1}} with ᾱ_{τ_0} = 1, at the timesteps τ of ``respaced_timesteps``.
    The respaced chain has the same marginals q(x_{τ_k} | x₀) as the original one; at steps = T it *is* the
    original schedule (up to rounding).
    """
    tau = respaced_timesteps(len(betas), steps)
    abar = alpha_bar(betas)[tau - 1]
    prev = np.concatenate([[1.0], abar[:-1]])
    return tau, 1.0 - abar / prev


# ------------------------------------------------------------------------------------------ network parts


def time_embedding(t, total: int, features: int) -> np.ndarray:
    """Sinusoidal time embedding, shape (len(t), features).

    e(t) = [sin(ω_j t/T), cos(ω_j t/T)], ω_j = T^{j/(K−1)}, j = 0 … K−1, K = features/2: the frequencies
    run geometrically from 1 rad over the whole chain to 1 rad per step.
    """
    half = features // 2
    omega = total ** (np.arange(half) / max(half - 1, 1))
    phase = np.outer(np.atleast_1d(np.asarray(t, float)) / total, omega)
    return np.hstack([np.sin(phase), np.cos(phase)])


def data_sha256(x: np.ndarray) -> str:
    """sha256 of the training rows (float64, C order, with the shape), used to validate caches."""
    arr = np.ascontiguousarray(x, dtype=np.float64)
    digest = hashlib.sha256(str(arr.shape).encode())
    digest.update(arr.tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- the model


@dataclass(eq=False)
class DDPM:
    """A trained noise predictor ε_θ and its schedule; sampling is pure numpy.

    weights[i] has shape (in_i, out_i), biases[i] shape (out_i,); the input is [x_t, e(t)] (d + time_features
    columns), hidden layers are ReLU, the output layer (d units) is linear. loss_curve[e] is the mean squared
    ε error per coordinate over epoch e's pairs (running average during the epoch, + L2 term if alpha > 0).
    """

    config: DDPMConfig
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    loss_curve: list[float]
    train_seconds: float
    d: int
    data_sha256: str = ""
    betas: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        self.betas = linear_betas(self.config)
        sizes = [self.d + self.config.time_features, *self.config.hidden, self.d]
        shapes = [w.shape for w in self.weights] + [b.shape for b in self.biases]
        expected = list(zip(sizes[:-1], sizes[1:], strict=True)) + [(n,) for n in sizes[1:]]
        if shapes != expected:
            raise ValueError(f"weight/bias shapes {shapes} do not match layer sizes {sizes}")

    @property
    def alpha_bar(self) -> np.ndarray:
        return alpha_bar(self.betas)

    # -- network ----------------------------------------------------------------------------------------

    def predict_eps(self, x_t: np.ndarray, t) -> np.ndarray:
        """ε_θ(x_t, t) for rows x_t (n, d); t is a training timestep in 1..T (scalar or shape (n,))."""
        x_t = np.atleast_2d(np.asarray(x_t, float))
        emb = time_embedding(t, self.config.steps, self.config.time_features)
        h = np.hstack([x_t, np.broadcast_to(emb, (len(x_t), emb.shape[1]))])
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < last:
                np.maximum(h, 0.0, out=h)
        return h

    def macs_per_step(self) -> int:
        """Multiply-accumulates of one network evaluation for one row: Σ_layers in·out."""
        return int(sum(w.shape[0] * w.shape[1] for w in self.weights))

    def macs_per_sample(self, steps: int) -> int:
        """MACs to draw one sample with ``steps`` reverse steps (one network evaluation per step)."""
        return steps * self.macs_per_step()

    # -- sampling ---------------------------------------------------------------------------------------

    def sample(
        self,
        n: int,
        steps: int,
        seed: int,
        *,
        return_trajectory: bool = False,
        variance: str = "beta",
        clip: float | None = None,
    ):
        """Ancestral sampling of n rows with the schedule respaced to ``steps`` ≤ T.

        From x ~ N(0, I) at τ_steps = T, for k = steps … 1 (t = τ_k, ᾱ = ᾱ_{τ_k}, ᾱ' = ᾱ_{τ_{k−1}}, β = β'_k):

            x̂₀ = (x − √(1 − ᾱ) ε_θ(x, t)) / √ᾱ            (optionally clipped to [−clip, clip])
            μ  = √ᾱ' β / (1 − ᾱ) · x̂₀ + √(1 − β) (1 − ᾱ') / (1 − ᾱ) · x
            x  ← μ + σ z,  z ~ N(0, I),  σ² = β ("beta", Ho et al.'s upper bound) or
                 β̃ = (1 − ᾱ')/(1 − ᾱ) β ("posterior", the lower bound); no noise on the last step.

        With a perfect ε_θ for a Gaussian, "beta" gives the closer covariance at 20–100 steps (relative
        error 0.04 at 100 steps, 0.26 at 20 vs 0.13 / 0.42 for "posterior"); at ~10 steps both are poor
        (0.6), "beta" leaving visible noise and "posterior" blurring. ``clip`` (e.g. 1.0 for data in [−1, 1])
        is Ho et al.'s x̂₀ clipping.

        Unclipped, μ equals Ho et al.'s (x − β/√(1 − ᾱ) ε_θ)/√(1 − β). Cost: steps · n · macs_per_step().
        Returns x (n, d), and with ``return_trajectory`` also the states (steps + 1, n, d), noise first.
        """
        if variance not in ("beta", "posterior"):
            raise ValueError(f"variance must be 'beta' or 'posterior', got {variance!r}")
        tau, betas = respace(self.betas, steps)
        abar = self.alpha_bar[tau - 1]
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n, self.d))
        trajectory = [x] if return_trajectory else None
        for k in range(steps - 1, -1, -1):
            prev = abar[k - 1] if k > 0 else 1.0
            x = self._reverse_step(x, int(tau[k]), abar[k], prev, betas[k], clip)
            if k > 0:
                var = betas[k] if variance == "beta" else betas[k] * (1 - prev) / (1 - abar[k])
                x = x + np.sqrt(var) * rng.standard_normal(x.shape)
            if trajectory is not None:
                trajectory.append(x)
        return (x, np.stack(trajectory)) if return_trajectory else x

    def _reverse_step(self, x, t: int, abar: float, prev: float, beta: float, clip: float | None):
        """Posterior mean μ(x_t, x̂₀) of one reverse step (see ``sample``)."""
        x0 = (x - np.sqrt(1 - abar) * self.predict_eps(x, t)) / np.sqrt(abar)
        if clip is not None:
            x0 = np.clip(x0, -clip, clip)
        return (np.sqrt(prev) * beta * x0 + np.sqrt(1 - beta) * (1 - prev) * x) / (1 - abar)

    # -- persistence ------------------------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write one .npz atomically (temp file in the same directory, then os.replace).

        It holds w0…, b0…, betas, config (JSON), loss_curve, train_seconds, d and data_sha256.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"w{i}": w for i, w in enumerate(self.weights)}
        arrays |= {f"b{i}": b for i, b in enumerate(self.biases)}
        arrays |= {
            "betas": self.betas,
            "config": np.array(self.config.to_json()),
            "loss_curve": np.asarray(self.loss_curve, float),
            "train_seconds": np.array(self.train_seconds),
            "d": np.array(self.d),
            "data_sha256": np.array(self.data_sha256),
        }
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path, expect: DDPMConfig | None = None) -> DDPM:
        """Read a model written by ``save``.

        Raises ValueError if the file is missing or corrupt, or its config differs from ``expect``.
        """
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"no DDPM cache at {path}")
        try:
            model = cls._read(path)
        except (
            OSError,
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            EOFError,
            zipfile.BadZipFile,
        ) as exc:
            raise ValueError(f"corrupt DDPM cache {path}: {type(exc).__name__}: {exc}") from exc
        if expect is not None and model.config != expect:
            raise ValueError(f"DDPM cache {path} has config {_config_diff(model.config, expect)}")
        return model

    @classmethod
    def _read(cls, path: Path) -> DDPM:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:  # fh: closed even if load fails
            config = DDPMConfig.from_json(str(npz["config"]))
            layers = len(config.hidden) + 1
            model = cls(
                config=config,
                weights=[np.array(npz[f"w{i}"], float) for i in range(layers)],
                biases=[np.array(npz[f"b{i}"], float) for i in range(layers)],
                loss_curve=[float(v) for v in npz["loss_curve"]],
                train_seconds=float(npz["train_seconds"]),
                d=int(npz["d"]),
                data_sha256=str(npz["data_sha256"]),
            )
            if not np.allclose(npz["betas"], model.betas, rtol=1e-12, atol=0):
                raise ValueError("stored schedule differs from the one its config implies")
        return model


def _config_diff(found: DDPMConfig, expected: DDPMConfig) -> str:
    a, b = dataclasses.asdict(found), dataclasses.asdict(expected)
    return ", ".join(f"{k}={a[k]!r} (expected {b[k]!r})" for k in a if a[k] != b[k])


# ---------------------------------------------------------------------------------------------- training


def training_pairs(x0: np.ndarray, abar: np.ndarray, config: DDPMConfig, rng: np.random.Generator):
    """One epoch of (inputs, targets), in random order: n·noise_draws rows of [x_t, e(t)] and ε.

    x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with t ~ U{1 … T}, ε ~ N(0, I), fresh for every row and draw.
    """
    rows = rng.permutation(np.repeat(np.arange(len(x0)), config.noise_draws))
    t = rng.integers(1, config.steps + 1, size=len(rows))
    eps = rng.standard_normal((len(rows), x0.shape[1]))
    a = abar[t - 1][:, None]
    x_t = np.sqrt(a) * x0[rows] + np.sqrt(1 - a) * eps
    return np.hstack([x_t, time_embedding(t, config.steps, config.time_features)]), eps


def train(x: np.ndarray, config: DDPMConfig, progress: Callable[[int, float], None] | None = None) -> DDPM:
    """Fit ε_θ on rows x (n, d) with one ``MLPRegressor.partial_fit`` per epoch on fresh noise draws.

    Deterministic for a given config.seed: BLAS runs single-threaded during training (threadpoolctl; for
    these small matrices that is also ~5× faster than two OpenBLAS threads on a 2-core machine), the
    pairs come from default_rng(seed) and the MLP from random_state=seed (its own shuffling is off; the pairs
    arrive shuffled). The model keeps the moving average of the weights (config.ema). progress(epoch, loss)
    is called after each epoch (1-based). Cost: ≈ 3 · epochs · n · noise_draws · macs_per_step() MACs
    (forward, backward and weight gradients).
    """
    from sklearn.neural_network import MLPRegressor
    from threadpoolctl import threadpool_limits

    x = np.asarray(x, float)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"training data must have shape (n, d) with n > 0, got {x.shape}")
    start = time.perf_counter()
    abar = alpha_bar(linear_betas(config))
    rng = np.random.default_rng(config.seed)
    mlp = MLPRegressor(
        hidden_layer_sizes=config.hidden,
        activation="relu",
        solver="adam",
        alpha=config.alpha,
        batch_size=config.batch_size,
        learning_rate_init=config.learning_rate,
        shuffle=False,
        random_state=config.seed,
    )
    losses, average = [], None
    with threadpool_limits(limits=1, user_api="blas"):
        for epoch in range(1, config.epochs + 1):
            inputs, targets = training_pairs(x, abar, config, rng)
            mlp.partial_fit(inputs, targets)
            losses.append(2.0 * float(mlp.loss_))  # sklearn reports ½·MSE
            average = _ema_update(average, mlp.coefs_ + mlp.intercepts_, config.ema)
            if progress is not None:
                progress(epoch, losses[-1])
    layers = len(config.hidden) + 1
    return DDPM(
        config=config,
        weights=average[:layers],
        biases=average[layers:],
        loss_curve=losses,
        train_seconds=time.perf_counter() - start,
        d=x.shape[1],
        data_sha256=data_sha256(x),
    )


def _ema_update(average: list[np.ndarray] | None, params: list[np.ndarray], decay: float) -> list[np.ndarray]:
    """w̄ ← decay·w̄ + (1 − decay)·w (float64 copies; the first call starts from w)."""
    if average is None:
        return [np.array(p, float) for p in params]
    return [decay * a + (1.0 - decay) * p for a, p in zip(average, params, strict=True)]


def train_or_load(
    x: np.ndarray,
    config: DDPMConfig,
    cache_path,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[DDPM, bool]:
    """(model, from_cache): the cached model if its config and training-data sha256 match, else train + save.

    A missing, corrupt or stale cache is replaced by a fresh training run.
    """
    try:
        cached = DDPM.load(cache_path, expect=config)
        if cached.data_sha256 == data_sha256(x):
            return cached, True
    except ValueError:
        pass
    model = train(x, config, progress)
    model.save(cache_path)
    return model, False
