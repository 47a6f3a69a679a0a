"""Training by the probability of the time-reversed noising trajectory (Whitelam, PRL 2026).

Each training image is noised by the protocol of :mod:`.model` (Euler–Maruyama, step Δt, couplings off).
Read backwards, the path x_K, …, x_0 has under the generating computer (drift −∂V_θ) the log-probability

    ln P = −Σ_k |x_k − x'_k + ∂V_θ(x'_k) Δt|² / (4 kT Δt) + const ,   x'_k = x_{k+1}

per step. With r_k = (−Δx_k + ∂V_θ(x'_k)Δt)/(2kT) the gradient is ∂lnP/∂J_ij = −Σ_k (r_i x'_j + r_j x'_i),
∂lnP/∂b_i = −Σ_k r_i: analytic, step by step, no backpropagation through time. Because ∂V_θ = ∂V₀ + Z W(θ)
is linear in θ (:mod:`.model`), a batch of trajectories enters only through the sums ZᵀZ and ZᵀY with
y_k = (x_k − x'_k)/Δt + ∂V₀(x'_k): two matrix products over all steps of all trajectories, so the work is
O(B·K·(2N+1)²) per batch and independent of θ. The objective is reported as the log-likelihood GAIN over
the uncoupled computer (θ = 0), in nats per trajectory:

    gain(W) = −(2⟨ZᵀY, W⟩ + ⟨W, ZᵀZ W⟩) · Δt/(4kT) / B

Every epoch noises every training image afresh (new paths, never the same twice). Optimiser ``exact``
(default): the gain is quadratic and concave in θ, so after each epoch θ is its exact maximum for all
paths drawn so far (conjugate gradients on the normal equations, warm-started) — maximum likelihood with
the analytic gradient set to zero. Optimiser ``adam``: one Adam step per batch on that batch's gradient
(what an on-line learner would do). Both project J₄ + δJ₄ back above ``j4_floor``·J₄.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .model import N_VISIBLE, Layout, Model, TrainConfig, base_force, data_sha256, drive, encode, features


def hidden_codes(config: TrainConfig, x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """±1 one-hot codes (K × H) for the hidden units: k-means clusters of the images, or their classes."""
    if config.hidden == 0:
        return np.zeros((len(x), 0))
    if config.hidden_code == "class":
        which = np.asarray(labels)
    else:
        from sklearn.cluster import KMeans

        which = KMeans(config.hidden, n_init=4, random_state=config.seed).fit(x).labels_
    code = -np.ones((len(x), config.hidden))
    code[np.arange(len(x)), which] = 1.0
    return code


def path_statistics(
    config: TrainConfig, targets: np.ndarray, rng: np.random.Generator, chunk: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """(ZᵀZ, ZᵀY) summed over the noising trajectories of ``targets`` (B × N), all K steps.

    Cost: K Euler–Maruyama steps of B × N numbers, and the two products in chunks of ``chunk`` steps.
    """
    b, n = targets.shape
    dt, amp = config.dt, np.sqrt(2 * config.kt * config.dt)
    f = 2 * n + 1
    zz, zy = np.zeros((f, f)), np.zeros((f, n))
    force = drive(config, np.arange(config.n_steps) * dt)[:, None, :] * targets  # (K, B, N)
    x = encode(config, targets)
    for k0 in range(0, config.n_steps, chunk):
        k1 = min(k0 + chunk, config.n_steps)
        noise = amp * rng.standard_normal((k1 - k0, b, n))
        xs = np.empty((k1 - k0, b, n))
        prev = x
        for k in range(k0, k1):
            x = x + (force[k] - base_force(config, x)) * dt + noise[k - k0]
            xs[k - k0] = x
        dz, dy = reverse_sums(config, np.concatenate([prev[None], xs[:-1]]).reshape(-1, n), xs.reshape(-1, n))
        zz += dz
        zy += dy
    return zz, zy


def reverse_sums(config: TrainConfig, x: np.ndarray, x_next: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ZᵀZ, ZᵀY) of the steps x → x_next (rows) read backwards: Z = Z(x_next),
    y = (x − x_next)/Δt + ∂V₀(x_next).

    Single-precision products (2× faster; relative error ~1e-6 per chunk), returned in double.
    """
    z = features(x_next)
    y = (x - x_next) / config.dt + base_force(config, x_next)
    z32 = z.astype(np.float32)
    return (z32.T @ z32).astype(float), (z32.T @ y.astype(np.float32)).astype(float)


def gain(config: TrainConfig, w: np.ndarray, zz: np.ndarray, zy: np.ndarray, trajectories: int) -> float:
    """Reverse-path log-likelihood gain over θ = 0, nats per trajectory (module docstring)."""
    scale = config.dt / (4 * config.kt) / trajectories
    return float(-(2 * np.vdot(zy, w) + np.vdot(w, zz @ w)) * scale)


def gain_gradient(config: TrainConfig, layout: Layout, w, zz, zy, trajectories: int) -> np.ndarray:
    """∂gain/∂θ (nats per trajectory): the adjoint of W(θ) applied to −2(ZᵀY + ZᵀZ W)·Δt/(4kT)/B."""
    scale = config.dt / (4 * config.kt) / trajectories
    return layout.adjoint(-2 * (zy + zz @ w) * scale)


@dataclasses.dataclass
class Adam:
    """Adam (Kingma & Ba, 2015) ascending the gain; state kept for checkpoints. Written out (ten lines)
    because none of our dependencies exposes a stand-alone optimiser (scikit-learn keeps its Adam inside its
    MLPs)."""

    lr: float
    m: np.ndarray
    v: np.ndarray
    t: int = 0

    def step(self, theta: np.ndarray, g: np.ndarray) -> np.ndarray:
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * g
        self.v = 0.999 * self.v + 0.001 * g * g
        mh, vh = self.m / (1 - 0.9**self.t), self.v / (1 - 0.999**self.t)
        return theta + self.lr * mh / (np.sqrt(vh) + 1e-12)


def project(config: TrainConfig, layout: Layout, theta: np.ndarray) -> np.ndarray:
    """Keep J₄ + δJ₄ ≥ j4_floor·J₄ for every unit (V bounded below: the computer cannot run away)."""
    o = len(layout.pairs) + len(layout.biased) + len(layout.own)  # start of the 4·δJ₄ block
    theta[o:] = np.maximum(theta[o:], 4 * (config.j4_floor - 1) * config.j4)
    return theta


def train(
    config: TrainConfig,
    x: np.ndarray,
    labels: np.ndarray,
    checkpoint: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Model:
    """Train on scaled images x (K × 64, in [−1, 1]); resume from ``checkpoint`` when it matches.

    Every epoch draws fresh noising paths from ``default_rng([seed, epoch])`` (so a resumed run is bit
    for bit the run that was interrupted) and saves the checkpoint atomically.
    """
    config.validate()
    x = np.asarray(x, float)
    if x.ndim != 2 or x.shape[1] != N_VISIBLE:
        raise ValueError(f"training images must be K × {N_VISIBLE}, got {x.shape}")
    layout = Layout.of(config)
    targets = np.hstack([x, hidden_codes(config, x, labels)])
    theta, history = np.zeros(layout.size), []
    opt = Adam(config.lr, np.zeros(layout.size), np.zeros(layout.size))
    f = 2 * config.n_units + 1
    acc = (np.zeros((f, f)), np.zeros((f, config.n_units)))  # path sums over all epochs so far
    sha = data_sha256(x)
    if checkpoint is not None and checkpoint.exists():
        state = _load_checkpoint(checkpoint, config, sha)
        if state is not None:
            theta, opt, history, acc = state
            if log:
                log(f"[train] resuming from {checkpoint} after epoch {len(history)}")
    for epoch in range(len(history), config.epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([config.seed, epoch])
        order = rng.permutation(len(x))
        w0 = layout.to_w(theta)
        ezz, ezy = np.zeros_like(acc[0]), np.zeros_like(acc[1])
        for start in range(0, len(order), config.batch):
            idx = order[start : start + config.batch]
            zz, zy = path_statistics(config, targets[idx], rng)
            ezz += zz
            ezy += zy
            if config.optimizer == "adam":
                w = layout.to_w(theta)
                step = opt.step(theta, gain_gradient(config, layout, w, zz, zy, len(idx)))
                theta = project(config, layout, step)
        acc = (acc[0] + ezz, acc[1] + ezy)
        if config.optimizer == "exact":
            theta = project(config, layout, optimum(layout, acc[0], acc[1], theta))
        wall = time.perf_counter() - t0
        history.append(
            {
                "epoch": epoch + 1,
                # on this epoch's fresh paths with the parameters from before it: a held-out figure
                "gain_nats_per_trajectory": gain(config, w0, ezz, ezy, len(x)),
                "gain_after_nats_per_trajectory": gain(config, layout.to_w(theta), ezz, ezy, len(x)),
                "wall_s": wall,
                "trajectory_steps_per_s": len(x) * config.n_steps / wall,
            }
        )
        if log:
            h = history[-1]
            log(
                f"[train] epoch {epoch + 1}/{config.epochs}: gain {h['gain_nats_per_trajectory']:.2f} → "
                f"{h['gain_after_nats_per_trajectory']:.2f} nats/trajectory, {wall:.0f} s "
                f"({h['trajectory_steps_per_s']:.3g} trajectory-steps/s)"
            )
        if checkpoint is not None:
            _save_checkpoint(checkpoint, config, sha, theta, opt, history, acc)
    return Model.from_w(config, layout.to_w(theta), data_sha256=sha, history=history)


def _save_checkpoint(path: Path, config, sha, theta, opt: Adam, history, acc) -> None:
    import json

    from ..results import atomic_savez

    meta = {"config": dataclasses.asdict(config), "data_sha256": sha, "history": history, "adam_t": opt.t}
    atomic_savez(path, theta=theta, m=opt.m, v=opt.v, zz=acc[0], zy=acc[1], meta=np.array(json.dumps(meta)))


def _load_checkpoint(path: Path, config: TrainConfig, sha: str):
    """(θ, Adam, history) of a checkpoint of this very config and data; None for anything else."""
    import json

    try:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            same = {**meta["config"], "epochs": config.epochs} == dataclasses.asdict(config)
            if not same or meta["data_sha256"] != sha or len(meta["history"]) > config.epochs:
                return None  # another run's (training longer with the same settings resumes it)
            adam = Adam(config.lr, z["m"], z["v"], meta["adam_t"])
            return z["theta"], adam, meta["history"], (z["zz"], z["zy"])
    except (OSError, KeyError, ValueError):
        return None


def throughput(config: TrainConfig, batches=(1, None), repeats: int = 1, seed: int = 0) -> list[dict]:
    """Trajectory-steps per second of one gradient evaluation (noising + sums), per batch size, side by side.

    ``None`` stands for the config's batch. Random targets in [−1, 1] (the cost does not depend on them).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for b in batches:
        b = config.batch if b is None else b
        t = rng.uniform(-1, 1, (b, config.n_units))
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            path_statistics(config, t, rng)
            best = min(best, time.perf_counter() - t0)
        rows.append({"batch": b, "wall_s": best, "trajectory_steps_per_s": b * config.n_steps / best})
    return rows


def stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def optimum(layout: Layout, zz: np.ndarray, zy: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """θ maximising the gain for fixed sums: Aᵀ(ZᵀZ W(θ)) = −Aᵀ(ZᵀY) by conjugate gradients.

    The gain is quadratic and concave in θ, so this is the exact maximum-likelihood answer that Adam
    approaches (tests compare the two); A is :meth:`Layout.adjoint`.
    """
    from scipy.sparse.linalg import LinearOperator, cg

    scale = 1.0 / np.trace(zz)  # conditioning only
    op = LinearOperator((layout.size,) * 2, matvec=lambda th: layout.adjoint(scale * zz @ layout.to_w(th)))
    theta, info = cg(op, -layout.adjoint(scale * zy), x0=start, rtol=1e-10, maxiter=20 * layout.size)
    if info != 0:
        raise RuntimeError(f"conjugate gradients did not converge ({info})")
    return theta
