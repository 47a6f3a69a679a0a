"""Training by the probability of the time-reversed noising trajectory (Whitelam, PRL 2026), per stage.

Each training image is noised by the protocol of :mod:`.model` (Euler–Maruyama, step Δt, trained terms
off). Read backwards, the path x_n, …, x_0 has under the generating computer (drift −∂V_θ) the
log-probability  ln P = −Σ_k |x_k − x'_k + ∂V_θ(x'_k) Δt|² / (4 kT Δt) + const  with x'_k = x_{k+1}. The drift
is linear in θ (∂V_θ = ∂V₀ + Z W, :mod:`.model`), so a batch enters only through the sums ZᵀZ and ZᵀY,
y_k = (x_k − x'_k)/Δt + ∂V₀(x'_k), taken separately over the steps of each time WINDOW. The gain over the
uncoupled computer (θ = 0), in nats per trajectory, of stage k is

    gain_k(W) = −(2⟨ZᵀY_k, W⟩ + ⟨W, ZᵀZ_k W⟩) · Δt/(4kT) / B .

Staged fit (exact least squares): with the per-step averages A_k = ZᵀZ_k/n_k, B_k = ZᵀY_k/n_k (n_k rows
in stage k), the parameters of all K stages solve one linear system,

    Aᵀ(A_k W(θ_k)) + λ θ_k + μ (2θ_k − θ_(k−1) − θ_(k+1)) = −Aᵀ(B_k)      (k = 0 … K−1),

the maximum of the path likelihood with a ridge λ‖θ_k‖² and a smoothness penalty μΣ‖θ_k − θ_(k+1)‖²
(the end stages have one neighbour), by Jacobi-preconditioned conjugate gradients. The sums are taken on
``FINE`` = 50 windows whenever K divides 50, so one set of paths fits every K of the sweep (1, 2, 5, 10,
25, 50) by adding neighbouring windows. Cost: the paths are O(B·n·N) Euler steps and O(B·n·F²) for the
sums (F = 2N + 10 = 138) per epoch; the solve is O(K·F²·N) per CG iteration, independent of the data.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..results import atomic_savez
from .model import (
    N_FEATURES,
    N_VISIBLE,
    PAIRS,
    Layout,
    Model,
    TrainConfig,
    base_force,
    data_sha256,
    drive,
    encode,
    features,
)

FINE = 50


def windows(config: TrainConfig) -> int:
    """Number of time windows the path sums are kept on: FINE when the stage count divides it."""
    return FINE if FINE % config.stages == 0 and config.n_steps % FINE == 0 else config.stages


def path_statistics(
    config: TrainConfig, targets: np.ndarray, classes: np.ndarray, rng: np.random.Generator, chunk: int = 100
) -> tuple[np.ndarray, np.ndarray]:
    """(ZᵀZ, ZᵀY) per window (shapes (W, F, F), (W, F, N)) over the noising paths of ``targets`` (B × N).

    Forward step k (x_k → x_(k+1)) is generation step n−1−k, in window ⌊(n−1−k)·W/n⌋.
    """
    b, n = targets.shape
    dt, amp, steps, w = config.dt, np.sqrt(2 * config.kt * config.dt), config.n_steps, windows(config)
    zz, zy = np.zeros((w, N_FEATURES, N_FEATURES)), np.zeros((w, N_FEATURES, n))
    window = (steps - 1 - np.arange(steps)) * w // steps
    force = drive(config, np.arange(steps) * dt)
    x = encode(config, targets)
    k0 = 0
    while k0 < steps:
        k1 = min(k0 + chunk, steps)
        k1 = k0 + int(np.argmax(window[k0:k1] != window[k0])) if window[k1 - 1] != window[k0] else k1
        noise = amp * rng.standard_normal((k1 - k0, b, n))
        xs = np.empty((k1 - k0 + 1, b, n))
        xs[0] = x
        for k in range(k0, k1):
            x = x + (force[k] * targets - base_force(config, x)) * dt + noise[k - k0]
            xs[k - k0 + 1] = x
        dz, dy = reverse_sums(
            config, xs[:-1].reshape(-1, n), xs[1:].reshape(-1, n), np.tile(classes, k1 - k0)
        )
        zz[window[k0]] += dz
        zy[window[k0]] += dy
        k0 = k1
    return zz, zy


def reverse_sums(
    config: TrainConfig, x: np.ndarray, x_next: np.ndarray, classes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(ZᵀZ, ZᵀY) of the steps x → x_next (rows, of classes ``classes``) read backwards: Z = Z(x_next, c),
    y = (x − x_next)/Δt + ∂V₀(x_next). Single-precision products (2× faster), returned in double."""
    z = features(x_next.astype(np.float32), classes)
    y = ((x - x_next) / config.dt + base_force(config, x_next)).astype(np.float32)
    return (z.T @ z).astype(float), (z.T @ y).astype(float)


def stage_sums(config: TrainConfig, zz: np.ndarray, zy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window sums added up into the K stages (windows are stage-aligned by construction)."""
    m = len(zz) // config.stages
    return zz.reshape(config.stages, m, *zz.shape[1:]).sum(1), zy.reshape(
        config.stages, m, *zy.shape[1:]
    ).sum(1)


def gain(config: TrainConfig, w: np.ndarray, zz: np.ndarray, zy: np.ndarray, trajectories: int) -> float:
    """Reverse-path log-likelihood gain over θ = 0, nats per trajectory, summed over stages (stacks)."""
    scale = config.dt / (4 * config.kt) / trajectories
    return float(-(2 * np.vdot(zy, w) + np.vdot(w, zz @ w)) * scale)


def gain_gradient(config: TrainConfig, layout: Layout, w, zz, zy, trajectories: int) -> np.ndarray:
    """∂gain/∂θ (nats per trajectory): the adjoint of W(θ) applied to −2(ZᵀY + ZᵀZ W)·Δt/(4kT)/B."""
    scale = config.dt / (4 * config.kt) / trajectories
    return layout.adjoint(-2 * (zy + zz @ w) * scale)


def optimum(
    layout: Layout, zz: np.ndarray, zy: np.ndarray, ridge: float, smooth: float, tied: bool = False
) -> np.ndarray:
    """θ (K × P) solving the regularised staged normal equations of the module docstring; ``tied``: one
    coupling matrix shared by all stages (its normal equations are the stages' summed).

    ``zz``, ``zy`` are per-stage sums, normalised here by each stage's row count (ZᵀZ's last diagonal
    entries are the class counts: their sum is the rows)."""
    from scipy.sparse.linalg import LinearOperator, cg

    k = len(zz)
    rows = np.trace(zz[:, 2 * N_VISIBLE :, 2 * N_VISIBLE :], axis1=1, axis2=2)[:, None, None]
    a, b = zz / rows, zy / rows
    p = layout.size
    ends = np.full(k, 2.0)
    ends[[0, -1]] = 1.0 if k > 1 else 0.0
    diag = layout.adjoint(np.broadcast_to(np.diagonal(a, axis1=1, axis2=2)[:, :, None], b.shape))
    diag = diag + ridge + smooth * ends[:, None]

    def matvec(v):
        th = v.reshape(k, p)
        out = layout.adjoint(a @ layout.to_w(th)) + ridge * th
        if k > 1 and smooth:
            lap = 2 * th
            lap[[0, -1]] = th[[0, -1]]
            lap[1:] -= th[:-1]
            lap[:-1] -= th[1:]
            out = out + smooth * lap
        return out.ravel()

    rhs = -layout.adjoint(b)
    if tied:  # one coupling bank for all stages: unknowns [J (shared), own terms and biases per stage]
        pj = len(PAIRS)

        def expand(v):
            th = np.empty((k, p))
            th[:, :pj] = v[:pj]
            th[:, pj:] = v[pj:].reshape(k, p - pj)
            return th

        def gather(g):
            return np.concatenate([g[:, :pj].sum(0), g[:, pj:].ravel()])

        size = pj + k * (p - pj)
        op = LinearOperator((size,) * 2, matvec=lambda v: gather(matvec(expand(v).ravel()).reshape(k, p)))
        dvec = gather(diag)
        pre = LinearOperator((size,) * 2, matvec=lambda v: v / dvec)
        theta, info = cg(op, gather(rhs), rtol=1e-8, maxiter=20000, M=pre)
        if info != 0:
            raise RuntimeError(f"conjugate gradients did not converge ({info})")
        return expand(theta)
    op = LinearOperator((k * p,) * 2, matvec=matvec)
    pre = LinearOperator((k * p,) * 2, matvec=lambda v: v / diag.ravel())
    theta, info = cg(op, rhs.ravel(), rtol=1e-8, maxiter=20000, M=pre)
    if info != 0:
        raise RuntimeError(f"conjugate gradients did not converge ({info})")
    return theta.reshape(k, p)


def project(config: TrainConfig, layout: Layout, theta: np.ndarray) -> np.ndarray:
    """Keep J₄ + δJ₄ ≥ j4_floor·J₄ for every unit (V bounded below: the computer cannot run away)."""
    if layout.learn_j2_j4:
        o = layout.size - N_VISIBLE * 11  # start of the 4·δJ₄ block (before it: pairs, 2δJ₂)
        theta[..., o : o + N_VISIBLE] = np.maximum(
            theta[..., o : o + N_VISIBLE], 4 * (config.j4_floor - 1) * config.j4
        )
    return theta


def train(
    config: TrainConfig,
    x: np.ndarray,
    labels: np.ndarray,
    checkpoint: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> Model:
    """Train on scaled images x (M × 64, in [−1, 1]) with classes ``labels``; resume from ``checkpoint``.

    Every epoch draws fresh noising paths from ``default_rng([seed, epoch])`` (a resumed run is bit for bit
    the run that was interrupted), refits all stages on the paths so far and saves the checkpoint
    atomically. A checkpoint whose paths match (same data, protocol and windows) is reused whatever the
    ridge, smoothness, stage count or epochs: the path sums do not depend on them.
    """
    config.validate()
    x, labels = np.asarray(x, float), np.asarray(labels, int)
    if x.ndim != 2 or x.shape[1] != N_VISIBLE:
        raise ValueError(f"training images must be M × {N_VISIBLE}, got {x.shape}")
    if labels.shape != (len(x),) or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"labels must be {len(x)} digits 0..9")
    layout = Layout(config.learn_j2_j4)
    w = windows(config)
    acc = (np.zeros((w, N_FEATURES, N_FEATURES)), np.zeros((w, N_FEATURES, N_VISIBLE)))
    theta, history, sha = np.zeros((config.stages, layout.size)), [], data_sha256(x)
    if checkpoint is not None and checkpoint.exists():
        state = _load_checkpoint(checkpoint, config, sha)
        if state is not None:
            acc, history = state
            history = history[: config.epochs]
            if log:
                log(f"[train] resuming from {checkpoint} after epoch {len(history)}")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):  # tiny products: on a shared machine more threads stall
        acc, history = _epochs(config, x, labels, acc, history, checkpoint, sha, log)
    t0 = time.perf_counter()
    zz, zy = stage_sums(config, *acc)
    theta = optimum(layout, zz, zy, config.ridge, config.smooth, tied=config.tie_couplings)
    theta = project(config, layout, theta)
    wmat = layout.to_w(theta)
    fit = {
        "fit_s": time.perf_counter() - t0,
        "gain_nats_per_trajectory": gain(config, wmat, zz, zy, len(x) * config.epochs),
        "stage_gain": [gain(config, wmat[k], zz[k], zy[k], len(x) * config.epochs) for k in range(len(zz))],
    }
    if log:
        log(
            f"[train] {config.stages}-stage fit in {fit['fit_s']:.1f} s: "
            f"gain {fit['gain_nats_per_trajectory']:.1f} nats/path"
        )
    history = [*history, {"fit": fit}]
    return Model.from_w(config, wmat, data_sha256=sha, history=history)


def _epochs(config, x, labels, acc, history, checkpoint, sha, log):
    """Fresh noising paths for every epoch not yet done; path sums accumulated and checkpointed."""
    for epoch in range(len(history), config.epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([config.seed, epoch])
        order = rng.permutation(len(x))
        ezz, ezy = np.zeros_like(acc[0]), np.zeros_like(acc[1])
        for start in range(0, len(order), config.batch):
            idx = order[start : start + config.batch]
            zz, zy = path_statistics(config, x[idx], labels[idx], rng)
            ezz += zz
            ezy += zy
        acc = (acc[0] + ezz, acc[1] + ezy)
        history.append({"epoch": epoch + 1, "paths_s": time.perf_counter() - t0})
        if checkpoint is not None:
            _save_checkpoint(checkpoint, config, sha, history, acc)
        if log:
            log(
                f"[train] epoch {epoch + 1}/{config.epochs}: {len(x)} noising paths in "
                f"{history[-1]['paths_s']:.0f} s"
            )
    return acc, history


def _paths_key(config: TrainConfig) -> dict:
    keep = dataclasses.asdict(config)
    for k in ("epochs", "ridge", "smooth", "stages", "tie_couplings"):
        keep.pop(k)
    return {**keep, "windows": windows(config)}


def _save_checkpoint(path: Path, config, sha, history, acc) -> None:
    meta = {"paths": _paths_key(config), "data_sha256": sha, "history": history}
    atomic_savez(path, zz=acc[0], zy=acc[1], meta=np.array(json.dumps(meta)))


def _load_checkpoint(path: Path, config: TrainConfig, sha: str):
    """(path sums, history) of a checkpoint with these very paths; None for anything else. Path sums of
    more epochs than asked cannot be undone: such a checkpoint is not used."""
    try:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            if meta["paths"] != _paths_key(config) or meta["data_sha256"] != sha:
                return None
            if len(meta["history"]) > config.epochs:
                return None
            return (z["zz"], z["zy"]), meta["history"]
    except (OSError, KeyError, ValueError):
        return None


def throughput(config: TrainConfig, batches=(1, None), repeats: int = 1, seed: int = 0) -> list[dict]:
    """Trajectory-steps per second of the path sums, per batch size (``None``: the config's batch)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    with threadpool_limits(1, user_api="blas"):
        return [_throughput_one(config, b, repeats, rng) for b in batches]


def _throughput_one(config: TrainConfig, b, repeats: int, rng) -> dict:
    b = config.batch if b is None else b
    t, c = rng.uniform(-1, 1, (b, N_VISIBLE)), rng.integers(0, 10, b)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        path_statistics(config, t, c, rng)
        best = min(best, time.perf_counter() - t0)
    return {"batch": b, "wall_s": best, "trajectory_steps_per_s": b * config.n_steps / best}


def stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)
