"""The generative computer's parameters, its noising protocol and the pixel ↔ unit maps (model units).

Units (DESIGN.md §3, Whitelam PRL 2026): N = 64 visible + H hidden quartic units, overdamped Langevin

    dx_i = −∂_i V(x) dt + √(2 kT) dW_i ,
    V = Σ_i [(J₂+δJ₂ᵢ) x_i² + (J₄+δJ₄ᵢ) x_i⁴ + b_i x_i] + Σ_(i<j) J_ij x_i x_j

with the untrained part J₂ = J₄ = 1, kT = 0.1 (the published values) and the trained part θ = (J_ij, b_i,
optionally δJ₂ᵢ, δJ₄ᵢ). The drift is linear in θ: −∂V = −∂V₀(x) − Z(x)·W(θ), with the feature row
Z(x) = [x, x³, 1] (length 2N + 1) and W the (2N+1) × N matrix that places θ:

    W[:N]   = J + diag(2 δJ₂)      W[N:2N] = diag(4 δJ₄)      W[2N] = b

so every derivative of the path likelihood is a matrix product (:mod:`.train`).

Noising protocol (forward, couplings off): unit i, with target value s_i (a scaled pixel in [−1, 1] for a
visible unit, ±1 of its code for a hidden one), feels the force a_i(t)·s_i with a drive held at
``drive`` until start·t_f and falling linearly to 0 at end·t_f (visible and hidden units have their own
start and end), and the trajectory starts at the noise-free fixed point ∂V₀(x) = drive·s (the image is a
stationary state of the driven units). The published schedule is start 0, end 0.75; the default holds
the drive for half of t_f (0.5 → 0.8): the held part is a stretch of driven equilibrium, which the
time-independent couplings can represent, and it raised the generated digits' quality (see the README).
After t_f the units are in the uncoupled equilibrium: exactly where generation starts. Reading a
generated image inverts that fixed point: s = ∂V₀(x)/drive (:func:`decode`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..results import atomic_savez
from ..spec import SpecError, positive

N_VISIBLE = 64
HIDDEN_CODES = ("kmeans", "class")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a trained model (model units; times in units of 1/μ)."""

    hidden: int = 32
    hidden_code: str = "kmeans"  # cluster one-hot of the training image (k-means) or its class one-hot
    kt: float = 0.1
    j2: float = 1.0
    j4: float = 1.0
    dt: float = 1e-3
    t_f: float = 2.5
    drive: float = 2.0  # a(0): the published a(t) = 2(1 − t/(0.75 t_f))
    visible_start: float = 0.5  # visible drive held at `drive` until visible_start·t_f ...
    visible_end: float = 0.8  # ... and 0 from visible_end·t_f on (published: 0 and 0.75)
    hidden_start: float = 0.5  # hidden drive held until hidden_start·t_f ...
    hidden_end: float = 0.8  # ... and 0 from hidden_end·t_f on
    visible_couplings: bool = True  # visible–visible couplings and visible biases (else hidden-mediated only)
    learn_j2_j4: str = "all"  # units with learned δJ₂, δJ₄: "none", "hidden" or "all"
    epochs: int = 3
    batch: int = 128
    optimizer: str = "exact"  # "exact" (maximum of the quadratic gain) or "adam" (one step per batch)
    lr: float = 0.02  # adam only
    seed: int = 0
    j4_floor: float = 0.1  # J₄ + δJ₄ ≥ j4_floor·J₄ keeps V bounded below (projected after every step)

    def validate(self) -> None:
        for key in ("kt", "j2", "j4", "dt", "t_f", "drive", "lr", "j4_floor"):
            positive(getattr(self, key), f"train.{key}")
        for key in ("epochs", "batch"):
            if getattr(self, key) < 1:
                raise SpecError(f"train.{key} must be >= 1, got {getattr(self, key)}")
        if not 0 <= self.hidden <= 1024:
            raise SpecError(f"train.hidden must be between 0 and 1024, got {self.hidden}")
        if self.optimizer not in ("exact", "adam"):
            raise SpecError(f"train.optimizer must be 'exact' or 'adam', got {self.optimizer!r}")
        if self.learn_j2_j4 not in ("none", "hidden", "all"):
            raise SpecError(f"train.learn_j2_j4 must be 'none', 'hidden' or 'all', got {self.learn_j2_j4!r}")
        if self.hidden_code not in HIDDEN_CODES:
            raise SpecError(
                f"train.hidden_code must be one of {', '.join(HIDDEN_CODES)}, got {self.hidden_code!r}"
            )
        if self.hidden_code == "class" and self.hidden != 10:
            raise SpecError(f"train.hidden must be 10 for hidden_code = 'class', got {self.hidden}")
        for a, b in (("visible_start", "visible_end"), ("hidden_start", "hidden_end")):
            if not 0 <= getattr(self, a) < getattr(self, b) <= 1:
                raise SpecError(
                    f"train: need 0 <= {a} < {b} <= 1, got {getattr(self, a)}, {getattr(self, b)}"
                )
        if self.dt > self.t_f / 100:
            raise SpecError(f"train.dt = {self.dt} is coarser than t_f/100 = {self.t_f / 100}")
        if self.hidden == 0 and not self.visible_couplings:
            raise SpecError("train: hidden = 0 and visible_couplings = false leave nothing to learn")

    @property
    def n_units(self) -> int:
        return N_VISIBLE + self.hidden

    @property
    def n_steps(self) -> int:
        return round(self.t_f / self.dt)


def drive(config: TrainConfig, t) -> np.ndarray:
    """a_i(t) of the noising protocol: shape (len(t), N) for an array of times t."""
    t = np.atleast_1d(np.asarray(t, float))[:, None]
    tf = config.t_f

    def ramp(t0, t1):
        return config.drive * np.clip((t1 * tf - t) / ((t1 - t0) * tf), 0.0, 1.0)

    a = np.repeat(ramp(config.visible_start, config.visible_end), config.n_units, axis=1)
    a[:, N_VISIBLE:] = ramp(config.hidden_start, config.hidden_end)
    return a


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
    """Scaled pixel value read from a visible unit: s = ∂V₀(x)/drive (the inverse of :func:`encode`)."""
    return base_force(config, np.asarray(x, float)) / config.drive


def features(x: np.ndarray) -> np.ndarray:
    """Z(x) = [x, x³, 1] per row: the drift is linear in θ through these (rows × (2N+1))."""
    return np.hstack([x, x * x * x, np.ones((len(x), 1))])


@dataclass(frozen=True)
class Layout:
    """Which entries of W are free, and the map θ ↔ W (see the module docstring)."""

    n: int
    pairs: np.ndarray  # (P, 2) i < j of the free couplings
    biased: np.ndarray  # units with a free bias
    own: np.ndarray  # units with free δJ₂, δJ₄

    @classmethod
    def of(cls, config: TrainConfig) -> Layout:
        n, v = config.n_units, N_VISIBLE
        mask = np.zeros((n, n), bool)
        mask[:v, v:] = mask[v:, :v] = mask[v:, v:] = True
        if config.visible_couplings:
            mask[:v, :v] = True
        np.fill_diagonal(mask, False)
        biased = np.arange(n) if config.visible_couplings else np.arange(v, n)
        own = {"none": np.arange(0), "hidden": np.arange(v, n), "all": np.arange(n)}[config.learn_j2_j4]
        return cls(n, np.argwhere(np.triu(mask)), biased, own)

    @property
    def size(self) -> int:
        return len(self.pairs) + len(self.biased) + 2 * len(self.own)

    def to_w(self, theta: np.ndarray) -> np.ndarray:
        n, p = self.n, len(self.pairs)
        w = np.zeros((2 * n + 1, n))
        i, j = self.pairs.T
        w[i, j] = w[j, i] = theta[:p]
        w[2 * n, self.biased] = theta[p : p + len(self.biased)]
        o, u = p + len(self.biased), self.own
        w[u, u] = theta[o : o + len(u)]
        w[n + u, u] = theta[o + len(u) : o + 2 * len(u)]
        return w

    def adjoint(self, g: np.ndarray) -> np.ndarray:
        """θ-gradient of ⟨G, W(θ)⟩ (the transpose of :meth:`to_w`)."""
        n = self.n
        i, j = self.pairs.T
        u = self.own
        return np.concatenate([g[i, j] + g[j, i], g[2 * n, self.biased], g[u, u], g[n + u, u]])


@dataclass
class Model:
    """Trained parameters in physical form: coupling J (N×N, symmetric, zero diagonal), bias b, δJ₂, δJ₄."""

    config: TrainConfig
    coupling: np.ndarray
    bias: np.ndarray
    dj2: np.ndarray
    dj4: np.ndarray
    data_sha256: str = ""
    history: list[dict] = field(default_factory=list)

    @classmethod
    def from_w(cls, config: TrainConfig, w: np.ndarray, **kw) -> Model:
        n = w.shape[1]
        d = np.diag(w[:n]).copy()
        return cls(config, w[:n] - np.diag(d), w[2 * n].copy(), d / 2, np.diag(w[n : 2 * n]) / 4, **kw)

    def to_w(self) -> np.ndarray:
        n = self.config.n_units
        w = np.zeros((2 * n + 1, n))
        w[:n] = self.coupling + np.diag(2 * self.dj2)
        w[n + np.arange(n), np.arange(n)] = 4 * self.dj4
        w[2 * n] = self.bias
        return w

    @property
    def j2_units(self) -> np.ndarray:
        return self.config.j2 + self.dj2

    @property
    def j4_units(self) -> np.ndarray:
        return self.config.j4 + self.dj4

    def force(self, x: np.ndarray) -> np.ndarray:
        """∂V/∂x of the coupled (generating) computer for rows x."""
        return x * (2 * self.j2_units + 4 * self.j4_units * (x * x)) + self.bias + x @ self.coupling

    def potential(self, x: np.ndarray) -> np.ndarray:
        """V(x) of the coupled computer per row (model energy units)."""
        x = np.asarray(x, float)
        own = self.j2_units * x**2 + self.j4_units * x**4 + self.bias * x
        return own.sum(axis=1) + 0.5 * np.einsum("ni,ij,nj->n", x, self.coupling, x)

    def save(self, path: Path) -> Path:
        meta = {
            "config": dataclasses.asdict(self.config),
            "data_sha256": self.data_sha256,
            "history": self.history,
        }
        return atomic_savez(
            path,
            coupling=self.coupling,
            bias=self.bias,
            dj2=self.dj2,
            dj4=self.dj4,
            meta=np.array(json.dumps(meta)),
        )

    @classmethod
    def load(cls, path: Path) -> Model:
        try:
            with np.load(path) as z:
                meta = json.loads(str(z["meta"]))
                config = TrainConfig(**meta["config"])
                arrays = {k: z[k] for k in ("coupling", "bias", "dj2", "dj4")}
        except (OSError, KeyError, ValueError, TypeError) as err:
            raise ValueError(f"{path}: not a thermosim generative model ({err})") from None
        n = config.n_units
        if arrays["coupling"].shape != (n, n):
            raise ValueError(f"{path}: coupling is {arrays['coupling'].shape}, config says {n} units")
        return cls(config, **arrays, data_sha256=meta["data_sha256"], history=meta["history"])


def data_sha256(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x, "<f8").tobytes()).hexdigest()
