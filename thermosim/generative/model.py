"""The generative computer's parameters, its noising protocol and the pixel ↔ unit maps (model units).

Units (Whitelam, PRL 2026): N = 64 visible quartic units, overdamped Langevin

    dx_i = −∂_i V_{k,c}(x) dt + √(2 kT) dW_i ,
    V_{k,c} = Σ_i [(J₂+δJ₂ᵏᵢ) x_i² + (J₄+δJ₄ᵏᵢ) x_i⁴ + bᵏ_{c,i} x_i] + Σ_(i<j) Jᵏ_ij x_i x_j

with the untrained part J₂ = J₄ = 1, kT = 0.1 (the published values) and a trained part that depends on
the protocol STAGE k = 0 … K−1 (piecewise constant in time: stage k holds for generation times
[k·t_f/K, (k+1)·t_f/K)) and on the CLASS c = 0 … 9 of the sample (the class bank: ten bias vectors per
stage, one selected per sample). The trained drift is linear in the parameters: −∂V = −∂V₀(x) − Z W_k,
with the feature row Z(x, c) = [x, x³, e_c] (length 2N + 10, e_c the one-hot class) and the
(2N+10) × N matrix

    W[:N]   = J + diag(2 δJ₂)      W[N:2N] = diag(4 δJ₄)      W[2N:] = B  (10 × N, row c = b_c)

so every derivative of the path likelihood is a matrix product (:mod:`.train`). The TRAINED FIELD of
unit i, h_i = −(Z W)_i, is the current the trained branch (couplings, biases, δJ₂, δJ₄) delivers.

Noising protocol (forward, trained terms off): pixel unit i with target s_i (a scaled pixel in [−1, 1])
feels the force a(t)·s_i, the drive held at ``drive`` until start·t_f and falling linearly to 0 at end·t_f;
the path starts at the noise-free fixed point ∂V₀(x) = drive·s. After t_f the units are in the uncoupled
equilibrium: where generation starts. Two read-outs of a generated image:

* voltage: the final state decoded by the fixed point, s = ∂V₀(x)/drive (:func:`decode`);
* current: the trained field averaged over the last ``window`` time units, divided by the drive,
  s = ⟨h⟩/drive. In the held-drive stretch the noising paths are in driven equilibrium, reversible, so
  the fitted field estimates E[a·s | x, c]: the read-out is a denoised image, not one noisy state.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import SpecError, positive
from ..results import atomic_savez

N_VISIBLE = 64
N_CLASSES = 10
N_FEATURES = 2 * N_VISIBLE + N_CLASSES


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a trained model (model units; times in units of 1/μ)."""

    stages: int = 1  # K: piecewise-constant parameters, one set per generation-time window t_f/K
    ridge: float = 1e-4  # λ‖θ_k‖² on the per-step-normalised normal equations (scale-free)
    smooth: float = 1e-3  # μ Σ_k ‖θ_k − θ_(k+1)‖²: neighbouring stages fitted together
    tie_couplings: bool = False  # one coupling bank for all stages (only own terms and biases staged)
    kt: float = 0.1
    j2: float = 1.0
    j4: float = 1.0
    dt: float = 1e-3
    t_f: float = 2.5
    drive: float = 2.0  # a(0): the published a(t) = 2(1 − t/(0.75 t_f))
    visible_start: float = 0.5  # drive held at `drive` until visible_start·t_f ...
    visible_end: float = 0.8  # ... and 0 from visible_end·t_f on (published: 0 and 0.75)
    learn_j2_j4: bool = True  # per-unit δJ₂, δJ₄ trained (else J₂ = J₄ = 1 throughout)
    epochs: int = 3
    batch: int = 128
    seed: int = 0
    j4_floor: float = 0.1  # J₄ + δJ₄ ≥ j4_floor·J₄ keeps V bounded below (projected after the fit)

    def validate(self) -> None:
        for key in ("kt", "j2", "j4", "dt", "t_f", "drive", "j4_floor"):
            positive(getattr(self, key), f"train.{key}")
        for key in ("ridge", "smooth"):
            positive(getattr(self, key), f"train.{key}", allow_zero=True)
        for key in ("epochs", "batch", "stages"):
            if getattr(self, key) < 1:
                raise SpecError(f"train.{key} must be >= 1, got {getattr(self, key)}")
        if not 0 <= self.visible_start < self.visible_end <= 1:
            raise SpecError(
                f"train: need 0 <= visible_start < visible_end <= 1, got {self.visible_start}, "
                f"{self.visible_end}"
            )
        if self.dt > self.t_f / 100:
            raise SpecError(f"train.dt = {self.dt} is coarser than t_f/100 = {self.t_f / 100}")
        if self.stages > self.n_steps // 10:
            raise SpecError(f"train.stages = {self.stages}: at most {self.n_steps // 10} (10 steps a stage)")

    @property
    def n_steps(self) -> int:
        return round(self.t_f / self.dt)

    def stage_of(self, j) -> np.ndarray:
        """Stage of generation step j (0 … n_steps−1 after the switch): ⌊j·K/n_steps⌋."""
        return np.asarray(j) * self.stages // self.n_steps


def drive(config: TrainConfig, t) -> np.ndarray:
    """a(t) of the noising protocol at forward times t (array of the same shape)."""
    t = np.asarray(t, float)
    t0, t1 = config.visible_start * config.t_f, config.visible_end * config.t_f
    return config.drive * np.clip((t1 - t) / (t1 - t0), 0.0, 1.0)


def base_force(config: TrainConfig, x: np.ndarray) -> np.ndarray:
    """∂V₀/∂x = 2J₂x + 4J₄x³ of the untrained units."""
    return x * (2 * config.j2 + 4 * config.j4 * (x * x))  # x*x, not x**2: a float power is 10× slower


def base_potential(config: TrainConfig, x: np.ndarray) -> np.ndarray:
    """V₀(x) = Σ J₂x² + J₄x⁴ of the untrained units, per row."""
    x2 = x * x
    return (x2 * (config.j2 + config.j4 * x2)).sum(axis=1)


def encode(config: TrainConfig, s: np.ndarray) -> np.ndarray:
    """The fixed point x of ∂V₀(x) = drive·s (monotone in x; Newton from the cube-root guess)."""
    f = config.drive * np.asarray(s, float)
    x = np.cbrt(f / (4 * config.j4))
    for _ in range(60):
        x = x - (base_force(config, x) - f) / (2 * config.j2 + 12 * config.j4 * x**2)
    return x


def decode(config: TrainConfig, x: np.ndarray) -> np.ndarray:
    """Voltage read-out: s = ∂V₀(x)/drive (the inverse of :func:`encode`)."""
    return base_force(config, np.asarray(x, float)) / config.drive


def features(x: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Z(x, c) = [x, x³, e_c] per row (rows × (2N + 10)): the drift is linear in θ through these."""
    onehot = np.zeros((len(x), N_CLASSES), x.dtype)
    onehot[np.arange(len(x)), classes] = 1
    return np.hstack([x, x * x * x, onehot])


PAIRS = np.argwhere(np.triu(np.ones((N_VISIBLE, N_VISIBLE), bool), 1))  # (2016, 2) i < j


@dataclass(frozen=True)
class Layout:
    """The free entries of one stage's W and the map θ ↔ W (module docstring): couplings i < j, then
    δJ₂, δJ₄ (when learned), then the 10 × N class biases. Works on stacks (…, size) ↔ (…, F, N)."""

    learn_j2_j4: bool = True

    @property
    def size(self) -> int:
        return len(PAIRS) + (2 * N_VISIBLE if self.learn_j2_j4 else 0) + N_CLASSES * N_VISIBLE

    def to_w(self, theta: np.ndarray) -> np.ndarray:
        n, p, u = N_VISIBLE, len(PAIRS), np.arange(N_VISIBLE)
        w = np.zeros((*theta.shape[:-1], N_FEATURES, n))
        i, j = PAIRS.T
        w[..., i, j] = w[..., j, i] = theta[..., :p]
        o = p
        if self.learn_j2_j4:
            w[..., u, u] = theta[..., p : p + n]
            w[..., n + u, u] = theta[..., p + n : p + 2 * n]
            o = p + 2 * n
        w[..., 2 * n :, :] = theta[..., o:].reshape(*theta.shape[:-1], N_CLASSES, n)
        return w

    def adjoint(self, g: np.ndarray) -> np.ndarray:
        """θ-gradient of ⟨G, W(θ)⟩ (the transpose of :meth:`to_w`)."""
        n, u = N_VISIBLE, np.arange(N_VISIBLE)
        i, j = PAIRS.T
        parts = [g[..., i, j] + g[..., j, i]]
        if self.learn_j2_j4:
            parts += [g[..., u, u], g[..., n + u, u]]
        parts.append(g[..., 2 * n :, :].reshape(*g.shape[:-2], N_CLASSES * n))
        return np.concatenate(parts, axis=-1)


@dataclass
class Model:
    """Trained parameters in physical form, per stage k: coupling J (K×N×N, symmetric, zero diagonal),
    bias (K×10×N: one vector per class), δJ₂, δJ₄ (K×N)."""

    config: TrainConfig
    coupling: np.ndarray
    bias: np.ndarray
    dj2: np.ndarray
    dj4: np.ndarray
    data_sha256: str = ""
    history: list[dict] = field(default_factory=list)

    @classmethod
    def from_w(cls, config: TrainConfig, w: np.ndarray, **kw) -> Model:
        n, u = N_VISIBLE, np.arange(N_VISIBLE)
        d = w[:, u, u].copy()
        coupling = w[:, :n].copy()
        coupling[:, u, u] = 0.0
        return cls(config, coupling, w[:, 2 * n :].copy(), d / 2, w[:, n + u, u] / 4, **kw)

    def field(self, x: np.ndarray, k: int, classes: np.ndarray) -> np.ndarray:
        """The trained field h = −(Z W_k) of every unit (rows x of classes ``classes``) in stage k."""
        return -(
            x @ self.coupling[k]
            + x * (2 * self.dj2[k] + 4 * self.dj4[k] * (x * x))
            + self.bias[k][np.asarray(classes)]
        )

    def force(self, x: np.ndarray, k: int, classes: np.ndarray) -> np.ndarray:
        """∂V_{k,c}/∂x of the generating computer in stage k."""
        return base_force(self.config, x) - self.field(x, k, classes)

    def potential(self, x: np.ndarray, k: int, classes: np.ndarray) -> np.ndarray:
        """V_{k,c}(x) per row (model energy units)."""
        x = np.asarray(x, float)
        own = self.dj2[k] * x**2 + self.dj4[k] * x**4 + self.bias[k][np.asarray(classes)] * x
        return (
            base_potential(self.config, x)
            + own.sum(axis=1)
            + 0.5 * np.einsum("ni,ij,nj->n", x, self.coupling[k], x)
        )

    def ranges(self) -> dict:
        """Largest magnitudes of the trained values (model units): what the circuit elements must realise."""
        return {
            "coupling_max": float(np.abs(self.coupling).max()),
            "bias_max": float(np.abs(self.bias).max()),
            "dj2_min": float(self.dj2.min()),
            "dj2_max": float(self.dj2.max()),
            "dj4_min": float(self.dj4.min()),
            "dj4_max": float(self.dj4.max()),
        }

    @property
    def parameters(self) -> int:
        """Programmable values: couplings i < j (one set if tied, else per stage), class biases, δJ₂, δJ₄."""
        k = self.config.stages
        own = 2 * N_VISIBLE if self.config.learn_j2_j4 else 0
        couplings = len(PAIRS) * (1 if self.config.tie_couplings else k)
        return couplings + k * (own + N_CLASSES * N_VISIBLE)

    def save(self, path: Path) -> Path:
        meta = {"config": dataclasses.asdict(self.config), "data_sha256": self.data_sha256}
        meta["history"] = self.history
        arrays = {k: getattr(self, k) for k in ("coupling", "bias", "dj2", "dj4")}
        return atomic_savez(path, **arrays, meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path: Path) -> Model:
        try:
            with np.load(path) as z:
                meta = json.loads(str(z["meta"]))
                config = TrainConfig(**meta["config"])
                arrays = {k: z[k] for k in ("coupling", "bias", "dj2", "dj4")}
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise ValueError(f"{path}: not a thermosim generative model of this version ({err})") from None
        k, n = config.stages, N_VISIBLE
        if arrays["coupling"].shape != (k, n, n) or arrays["bias"].shape != (k, N_CLASSES, n):
            raise ValueError(f"{path}: arrays do not match the config ({k} stages, {n} units)")
        return cls(config, **arrays, data_sha256=meta["data_sha256"], history=meta["history"])


def data_sha256(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, "<f8").tobytes()).hexdigest()
