"""The digital reference generator: a denoising diffusion model (DDPM), trained in JAX, sampled in numpy.

A residual-MLP denoiser (:mod:`.ddpm_net`) on the cosine schedule with T = 1000 steps (:mod:`.diffusion`),
trained with v-prediction (or ε-prediction, ``target``), AdamW, warm-up + cosine decay and an EMA of the
weights; sampled by the respaced ancestral chain with the posterior variance and x̂₀ clipped to [−1, 1], or
by DDIM. The samplers see a noise predictor ε_θ either way (:meth:`DDPM.eps` converts v to ε).

Why v (Salimans & Ho 2022): with ε-prediction x̂₀ = (x − √(1 − ᾱ) ε_θ)/√ᾱ multiplies the network's error
by 1/√ᾱ (≈ 3·10⁴ at the first step), so the early, structure-deciding steps see a clipped, nearly binary
x̂₀; with v, x̂₀ = √ᾱ x − √(1 − ᾱ) v_θ is well conditioned at every noise level, and the v loss weights the
x̂₀ error by 1 + SNR instead of SNR (more weight on the high-noise steps). Measured on the digits (360
images, mean over sampling seeds 1–4 and training seeds 0–1; recognisable / Fréchet at 10, 50, 200 steps):
ε, 22 000 steps: 0.79 / 0.88, 0.865 / 0.67, 0.87 / 0.59; v, 22 000 steps: 0.85 / 0.88, 0.91 / 0.64,
0.915 / 0.58 with more near-copies of training digits (3.6 % at 200 steps, single draws up to 5.6 %);
v, 16 000 steps (the default, ≈ 160 CPU s): 0.85 / 0.92, 0.90 / 0.64, 0.91 / 0.58, near-copies 2.3 %
as with ε (3.1 %).

Costs: one reverse step is :meth:`DDPM.macs_per_step` multiply-accumulates per sample (time MLP included),
a sample ``steps`` of them; training is ≈ 3 · train_steps · batch · macs_per_step MACs.

Reproducibility and caching. A training run is a pure function of (data, config, code): the seed is part
of the config, XLA runs on one thread, and the result is cached under a *content* key — sha256 of the
code (:func:`code_digest`: the bytes of the source files that define the network, the loss, the training
and the schedule, :data:`CODE_FILES`), the jax version, the config (JSON) and the training rows (float64
bytes with their shape) — never a time stamp or a hand-kept version. Change any of them (a comment
included) and the cache misses; :func:`train_or_load` retrains and replaces the stale file of the same name.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import diffusion

# the sources a trained model depends on: network, loss and training loop (ddpm_net), schedule
# (diffusion), config and train (this file)
CODE_FILES = tuple(Path(__file__).with_name(f) for f in ("ddpm.py", "ddpm_net.py", "diffusion.py"))
TARGETS = ("eps", "v")


@dataclass(frozen=True)
class DDPMConfig:
    """Hyper-parameters of one DDPM (dimensionless; steps are counts).

    diffusion_steps: T of the cosine schedule. width, blocks: hidden width W and residual blocks B of the
    trunk. time_features: E sinusoidal features of t (even). train_steps, batch: optimiser steps and rows
    per step. learning_rate: AdamW peak step size, reached after ``warmup`` steps, then cosine decay to 1 %.
    weight_decay: AdamW's decoupled decay. grad_clip: global-norm bound on each step's gradient (None:
    off). ema: weight-averaging decay per step. target: what the network predicts, ``"v"``
    (v = √ᾱ ε − √(1 − ᾱ) x₀, Salimans & Ho 2022; :meth:`DDPM.eps` converts it to ε) or ``"eps"`` (the
    noise ε). seed: the training key (sampling has its own seed and its own x̂₀ bound, :meth:`DDPM.sample`).
    """

    diffusion_steps: int = 1000
    width: int = 256
    blocks: int = 2
    time_features: int = 64
    train_steps: int = 16_000
    batch: int = 256
    learning_rate: float = 2e-3
    warmup: int = 1000
    weight_decay: float = 1e-4
    grad_clip: float | None = None
    ema: float = 0.999
    target: str = "v"
    seed: int = 0

    def __post_init__(self):
        checks = {
            "diffusion_steps >= 2": _is_int(self.diffusion_steps) and self.diffusion_steps >= 2,
            "width even and >= 2": _is_int(self.width) and self.width >= 2 and self.width % 2 == 0,
            "blocks >= 1": _is_int(self.blocks) and self.blocks >= 1,
            "time_features even and >= 2": _is_int(self.time_features)
            and self.time_features >= 2
            and self.time_features % 2 == 0,
            "train_steps, batch >= 1": _is_int(self.train_steps)
            and _is_int(self.batch)
            and min(self.train_steps, self.batch) >= 1,
            "0 <= warmup < train_steps": _is_int(self.warmup) and 0 <= self.warmup < self.train_steps,
            "learning_rate > 0": self.learning_rate > 0,
            "weight_decay >= 0": self.weight_decay >= 0,
            "grad_clip > 0 or None": self.grad_clip is None or self.grad_clip > 0,
            "0 <= ema < 1": 0 <= self.ema < 1,
            "target eps or v": self.target in TARGETS,
            "seed >= 0": _is_int(self.seed) and self.seed >= 0,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise ValueError(f"invalid DDPMConfig ({', '.join(failed)})")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DDPMConfig:
        return cls(**json.loads(text))


def _is_int(v) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


def check_data(x) -> np.ndarray:
    """Training rows as float64 (n, d), n ≥ 1, finite; ValueError (one line) otherwise."""
    try:
        x = np.asarray(x, float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"DDPM training data must be a numeric (n, d) array: {exc}") from None
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"DDPM training data must have shape (n, d) with n, d >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("DDPM training data contains non-finite values")
    return x


@functools.cache
def code_digest(files: tuple[Path, ...] = CODE_FILES) -> str:
    """sha256 over the names and bytes of ``files`` (the sources of :data:`CODE_FILES`), once per process."""
    digest = hashlib.sha256()
    for path in files:
        data = Path(path).read_bytes()
        digest.update(f"{Path(path).name}|{len(data)}|".encode())
        digest.update(data)
    return digest.hexdigest()


def cache_key(x: np.ndarray, config: DDPMConfig) -> str:
    """sha256 of the code (:func:`code_digest`), jax version, config and training rows: a model's identity."""
    from .ddpm_net import jax_modules

    jax, _, _ = jax_modules()
    arr = np.ascontiguousarray(check_data(x), dtype=np.float64)
    head = f"code {code_digest(CODE_FILES)}|jax {jax.__version__}|{config.to_json()}|{arr.shape}|"
    digest = hashlib.sha256(head.encode())
    digest.update(arr.tobytes())
    return digest.hexdigest()


@dataclass(eq=False)
class DDPM:
    """A trained denoiser f_θ (EMA weights, float32 numpy arrays by name) with its config; samples in numpy.

    ``loss_curve``: mean training loss per chunk of 500 steps; ``train_cpu_s``: CPU seconds of the run
    that produced it (compilation included); ``key``: the cache key (:func:`cache_key`).
    """

    config: DDPMConfig
    params: dict[str, np.ndarray]
    d: int
    loss_curve: list[float]
    train_cpu_s: float
    key: str
    _eps: Callable | None = field(default=None, init=False, repr=False)

    @property
    def alpha_bar(self) -> np.ndarray:
        return diffusion.cosine_alpha_bar(self.config.diffusion_steps)

    def macs(self) -> dict[str, int]:
        """MACs of one ε_θ evaluation for one row: ``trunk``, ``time_mlp`` and ``total``."""
        from .ddpm_net import macs

        c = self.config
        return macs(self.d, c.width, c.blocks, c.time_features)

    def macs_per_step(self) -> int:
        """MACs per sample per reverse step, time embedding included."""
        return self.macs()["total"]

    def macs_per_sample(self, steps: int) -> int:
        """MACs to draw one sample with ``steps`` reverse steps (one ε_θ evaluation each)."""
        return steps * self.macs_per_step()

    def eps(self, x: np.ndarray, t: int) -> np.ndarray:
        """ε_θ(x, t) for rows x (n, d) at the 0-based timestep t: the network's output, or for
        ``target = "v"`` ε = √(1 − ᾱ_t) x + √ᾱ_t v_θ (in float64); compiled on first use."""
        if self._eps is None:
            from .ddpm_net import predictor

            self._eps = predictor(self.params, self.config.time_features)
        out = self._eps(x, t)
        if self.config.target == "v":  # ε = √(1 − ᾱ) x + √ᾱ v (float64)
            a = self.alpha_bar[t]
            out = np.sqrt(1 - a) * np.asarray(x, float) + np.sqrt(a) * out
        return out

    def sample(
        self, n: int, steps: int, seed: int, sampler: str = "ancestral", clip: float | None = 1.0
    ) -> np.ndarray:
        """n rows (n, d) in data units: the reverse chain respaced to ``steps`` (see :mod:`.diffusion`).

        ``clip`` bounds x̂₀ to [−clip, clip]: the data's range (1 for images scaled to [−1, 1]). It is
        needed for ε-prediction, not cosmetic: at the first step ᾱ ≈ 1e-9, so x̂₀ = (x − √(1 − ᾱ) ε_θ)/√ᾱ
        multiplies the network's error by ~3·10⁴ and unclipped chains diverge (with v-prediction it only keeps
        x̂₀ in the data's range). Cost: steps · n · macs_per_step() MACs.
        """
        return diffusion.sample(self.eps, self.alpha_bar, n, self.d, steps, seed, sampler=sampler, clip=clip)

    def warm_up(self, n: int) -> None:
        """Compile f_θ for batches of n rows (so that timed sampling measures sampling, not compilation)."""
        self.eps(np.zeros((n, self.d)), 0)

    # -- persistence ------------------------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write one .npz atomically: parameters (``p:<name>``), config JSON, key, loss curve, CPU s."""
        from ..results import atomic_savez

        path = Path(path)
        arrays = {f"p:{k}": v for k, v in self.params.items()}
        arrays |= {
            "config": np.array(self.config.to_json()),
            "key": np.array(self.key),
            "d": np.array(self.d),
            "loss_curve": np.asarray(self.loss_curve, float),
            "train_cpu_s": np.array(self.train_cpu_s),
        }
        atomic_savez(path, **arrays)
        return path

    @classmethod
    def load(cls, path) -> DDPM:
        """Read a model written by :meth:`save`; ValueError (one line) if missing or corrupt."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"no DDPM cache at {path}")
        try:
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
                return cls(
                    config=DDPMConfig.from_json(str(npz["config"])),
                    params={k[2:]: np.array(npz[k]) for k in npz.files if k.startswith("p:")},
                    d=int(npz["d"]),
                    loss_curve=[float(v) for v in npz["loss_curve"]],
                    train_cpu_s=float(npz["train_cpu_s"]),
                    key=str(npz["key"]),
                )
        except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as exc:
            raise ValueError(f"corrupt DDPM cache {path}: {type(exc).__name__}: {exc}") from None


def train(x, config: DDPMConfig, progress: Callable[[int, float], None] | None = None) -> DDPM:
    """Train f_θ on rows x (n, d) in data units (scaled to about [−1, 1]); deterministic from config.seed."""
    from .ddpm_net import fit

    x = check_data(x)
    params, losses, cpu_s = fit(x, diffusion.cosine_alpha_bar(config.diffusion_steps), config, progress)
    return DDPM(config, params, x.shape[1], losses, cpu_s, cache_key(x, config))


def cache_path(folder, name: str, key: str) -> Path:
    """Where the model named ``name`` with cache key ``key`` lives: folder/ddpm_<name>_<key[:16]>.npz."""
    return Path(folder) / f"ddpm_{name}_{key[:16]}.npz"


def train_or_load(
    x,
    config: DDPMConfig,
    folder,
    name: str,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[DDPM, bool]:
    """(model, from_cache): the cached model whose key matches (data, config, code), else train and save.

    A corrupt file is retrained; other files ``ddpm_<name>_*.npz`` in ``folder`` (stale keys) are removed
    after a successful save, so one model per name is kept.
    """
    x = check_data(x)
    key = cache_key(x, config)
    path = cache_path(folder, name, key)
    try:
        model = DDPM.load(path)
        if model.key == key:
            return model, True
    except ValueError:
        pass
    model = train(x, config, progress)
    model.save(path)
    for stale in Path(folder).glob(f"ddpm_{name}_*.npz"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return model, False
