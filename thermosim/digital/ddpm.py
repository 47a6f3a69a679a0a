"""The digital reference generator: a denoising diffusion model (DDPM), trained in JAX, sampled in numpy.

A residual-MLP noise predictor ε_θ (:mod:`.ddpm_net`) on the cosine schedule with T = 1000 steps
(:mod:`.diffusion`), trained with ε-prediction, AdamW, warm-up + cosine decay and an EMA of the weights;
sampled by the respaced ancestral chain with the posterior variance and x̂₀ clipped to [−1, 1], or by DDIM.

Reproducibility and caching. A training run is a pure function of (data, config, code): the seed is part
of the config, XLA runs on one thread, and the result is cached under a *content* key — sha256 of
:data:`CODE_VERSION`, the jax version, the config (JSON) and the training rows (float64 bytes with their
shape) — never a time stamp. Change any of them and the cache misses; :func:`train_or_load` retrains and
replaces the stale file of the same name.

Costs: one reverse step is :meth:`DDPM.macs_per_step` multiply-accumulates per sample (time MLP included),
a sample ``steps`` of them; training is ≈ 3 · train_steps · batch · macs_per_step MACs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import diffusion

CODE_VERSION = "thermosim-ddpm-jax-1"  # bump when the network, the loss or the training loop changes


@dataclass(frozen=True)
class DDPMConfig:
    """Hyper-parameters of one DDPM (dimensionless; steps are counts).

    diffusion_steps: T of the cosine schedule. width, blocks: hidden width W and residual blocks B of the
    trunk. time_features: E sinusoidal features of t (even). train_steps, batch: optimiser steps and rows
    per step. learning_rate: AdamW peak step size, reached after ``warmup`` steps, then cosine decay to 1 %.
    weight_decay: AdamW's decoupled decay. grad_clip: global-norm bound on each step's gradient (None:
    off). ema: weight-averaging decay per step. seed: the training key (sampling has its own seed and its own
    x̂₀ bound, :meth:`DDPM.sample`).
    """

    diffusion_steps: int = 1000
    width: int = 256
    blocks: int = 2
    time_features: int = 64
    train_steps: int = 22_000
    batch: int = 256
    learning_rate: float = 2e-3
    warmup: int = 1000
    weight_decay: float = 1e-4
    grad_clip: float | None = 1.0
    ema: float = 0.999
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


def cache_key(x: np.ndarray, config: DDPMConfig) -> str:
    """sha256 of code version, jax version, config and training rows: the identity of a trained model."""
    from .ddpm_net import jax_modules

    jax, _, _ = jax_modules()
    arr = np.ascontiguousarray(check_data(x), dtype=np.float64)
    digest = hashlib.sha256(f"{CODE_VERSION}|jax {jax.__version__}|{config.to_json()}|{arr.shape}|".encode())
    digest.update(arr.tobytes())
    return digest.hexdigest()


@dataclass(eq=False)
class DDPM:
    """A trained ε_θ (EMA weights, float32 numpy arrays by name) with its config; samples in numpy.

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
        """ε_θ(x, t) for rows x (n, d) at the 0-based timestep t (compiled on first use)."""
        if self._eps is None:
            from .ddpm_net import predictor

            self._eps = predictor(self.params, self.config.time_features)
        return self._eps(x, t)

    def sample(
        self, n: int, steps: int, seed: int, sampler: str = "ancestral", clip: float | None = 1.0
    ) -> np.ndarray:
        """n rows (n, d) in data units: the reverse chain respaced to ``steps`` (see :mod:`.diffusion`).

        ``clip`` bounds x̂₀ to [−clip, clip]: the data's range (1 for images scaled to [−1, 1]). It is
        needed, not cosmetic: at the first step ᾱ ≈ 1e-9, so x̂₀ = (x − √(1 − ᾱ) ε_θ)/√ᾱ multiplies the
        network's error by ~3·10⁴ and unclipped chains diverge. Cost: steps · n · macs_per_step() MACs.
        """
        return diffusion.sample(self.eps, self.alpha_bar, n, self.d, steps, seed, sampler=sampler, clip=clip)

    def warm_up(self, n: int) -> None:
        """Compile ε_θ for batches of n rows (so that timed sampling measures sampling, not compilation)."""
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
    """Train ε_θ on rows x (n, d) in data units (scaled to about [−1, 1]); deterministic from config.seed."""
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
