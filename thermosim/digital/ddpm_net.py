"""The DDPM's denoising network f_θ(x_t, t) (predicting v or ε) and its training loop, in JAX + optax (CPU).

Network (widths from :class:`thermosim.digital.ddpm.DDPMConfig`: d data values, W hidden, E sinusoidal
features, B residual blocks)::

    e(t)  = [sin(t ω_j), cos(t ω_j)],  ω_j = 10000^(−j/(E/2)),  j = 0 … E/2 − 1        (t: 0-based step)
    τ     = SiLU(Linear_{W/2→W/2}(SiLU(Linear_{E→W/2}(e(t)))))                            (the time MLP)
    c     = Linear_{W/2→B·W}(τ)                  split into c_1 … c_B ∈ ℝᵂ (each block's own projection)
    h     = Linear_{d→W}(x_t)
    h     ← h + Linear_{W→W}(SiLU(Linear_{W→W}(LayerNorm(h)) + c_b))                       b = 1 … B
    f_θ   = Linear_{W→d}(SiLU(LayerNorm(h)))

MACs per evaluation of one row (dense layers only; LayerNorm, SiLU and the sinusoids are O(W) and not
counted): d·W + 2·B·W² + W·d for the trunk plus E·W/2 + (W/2)² + (W/2)·B·W for the time MLP and the
blocks' projections of it (:func:`macs`).
In batched sampling the time MLP runs once per step for all rows; it is counted per row here, as it would
be for one sample at a time.

Training: the loss E‖y − f_θ(√ᾱ_t x₀ + √(1 − ᾱ_t) ε, t)‖² (mean per coordinate) with the target
y = v = √ᾱ_t ε − √(1 − ᾱ_t) x₀ (``target = "v"``) or y = ε (``"eps"``, Ho et al.'s "simple" loss), t
uniform on 0 … T−1, ε ~ N(0, I), rows drawn with replacement; AdamW (β = 0.9, 0.999) with a linear warm-up
to the peak learning rate and a cosine decay to 1 % of it; optional global-norm gradient clipping
(``grad_clip``); the model keeps the exponential moving average θ̄ ← ema·θ̄ + (1 − ema)·θ after every
step. Randomness: one ``jax.random.PRNGKey(seed)``, folded with the step number, so a run is a pure
function of (data, config).
Cost: ≈ 3 · steps · batch · :func:`macs` MACs (forward, backward, weight gradients).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

CHUNK = 500  # training steps per compiled scan (progress is reported between chunks)
_XLA_SINGLE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def jax_modules():
    """Import jax, jax.numpy and optax (the ``digital`` extra), one XLA thread unless XLA_FLAGS is set.

    One thread keeps runs bit-for-bit reproducible and leaves the other core to ngspice and other users;
    it is also what the CPU-time figures measure. Raises ValueError naming the extra if jax is missing.
    """
    os.environ.setdefault("XLA_FLAGS", _XLA_SINGLE_THREAD)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError as exc:
        raise ValueError(
            f"the digital reference needs JAX and optax ({exc.name} is missing): "
            "pip install 'thermosim[digital]'"
        ) from None
    return jax, jnp, optax


def macs(d: int, width: int, blocks: int, time_features: int) -> dict[str, int]:
    """Multiply-accumulates of one f_θ evaluation for one row: trunk, time MLP and their total."""
    trunk = d * width + 2 * blocks * width * width + width * d
    half = width // 2
    time_mlp = time_features * half + half * half + half * blocks * width
    return {"trunk": trunk, "time_mlp": time_mlp, "total": trunk + time_mlp}


def layer_shapes(d: int, width: int, blocks: int, time_features: int) -> dict[str, tuple[int, ...]]:
    """Parameter names → shapes (weights are (in, out))."""
    half = width // 2
    shapes = {
        "t1/w": (time_features, half),
        "t1/b": (half,),
        "tm/w": (half, half),
        "tm/b": (half,),
        "t2/w": (half, blocks * width),
        "t2/b": (blocks * width,),
        "in/w": (d, width),
        "in/b": (width,),
    }
    for i in range(blocks):
        shapes |= {
            f"blk{i}/ln_g": (width,),
            f"blk{i}/ln_b": (width,),
            f"blk{i}/w1": (width, width),
            f"blk{i}/b1": (width,),
            f"blk{i}/w2": (width, width),
            f"blk{i}/b2": (width,),
        }
    return shapes | {"out/ln_g": (width,), "out/ln_b": (width,), "out/w": (width, d), "out/b": (d,)}


def init_params(key, d: int, width: int, blocks: int, time_features: int) -> dict:
    """Weights ~ N(0, 1/fan_in), biases 0, LayerNorm gains 1; the output layer starts at 0 (f_θ = 0)."""
    jax, jnp, _ = jax_modules()
    shapes = layer_shapes(d, width, blocks, time_features)
    keys = jax.random.split(key, len(shapes))
    params = {}
    for k, (name, shape) in zip(keys, shapes.items(), strict=True):
        if name.endswith("ln_g"):
            params[name] = jnp.ones(shape, jnp.float32)
        elif name.endswith("w") and name != "out/w" and len(shape) == 2:
            params[name] = jax.random.normal(k, shape, jnp.float32) / np.sqrt(shape[0])
        else:
            params[name] = jnp.zeros(shape, jnp.float32)
    return params


def apply(params: dict, x, t, time_features: int):
    """f_θ(x, t) for rows x (n, d) at 0-based timesteps t (n,) (or a scalar): the network above."""
    jax, jnp, _ = jax_modules()
    half = time_features // 2
    omega = jnp.exp(-np.log(10000.0) * jnp.arange(half) / half)
    phase = jnp.broadcast_to(jnp.asarray(t, jnp.float32), (x.shape[0],))[:, None] * omega
    emb = jnp.concatenate([jnp.sin(phase), jnp.cos(phase)], axis=1)
    tau = jax.nn.silu(emb @ params["t1/w"] + params["t1/b"])
    tau = jax.nn.silu(tau @ params["tm/w"] + params["tm/b"])
    c = tau @ params["t2/w"] + params["t2/b"]
    h = x @ params["in/w"] + params["in/b"]
    width = h.shape[1]
    blocks = c.shape[1] // width
    for i in range(blocks):
        u = _layer_norm(h, params[f"blk{i}/ln_g"], params[f"blk{i}/ln_b"], jnp)
        u = jax.nn.silu(u @ params[f"blk{i}/w1"] + params[f"blk{i}/b1"] + c[:, i * width : (i + 1) * width])
        h = h + u @ params[f"blk{i}/w2"] + params[f"blk{i}/b2"]
    h = jax.nn.silu(_layer_norm(h, params["out/ln_g"], params["out/ln_b"], jnp))
    return h @ params["out/w"] + params["out/b"]


def _layer_norm(h, gain, bias, jnp, eps: float = 1e-5):
    mu = h.mean(axis=1, keepdims=True)
    var = ((h - mu) ** 2).mean(axis=1, keepdims=True)
    return (h - mu) / jnp.sqrt(var + eps) * gain + bias


def fit(
    x0: np.ndarray,
    alpha_bar: np.ndarray,
    config,
    progress: Callable[[int, float], None] | None = None,
) -> tuple[dict, list[float], float]:
    """Train f_θ on rows x0 (n, d); returns (EMA parameters as float32 numpy, loss per chunk, CPU s).

    ``config`` is a :class:`~thermosim.digital.ddpm.DDPMConfig`; the loss curve holds the mean training
    loss of each ``CHUNK`` steps; ``progress(step, loss)`` is called after each chunk. CPU seconds are
    this process's (all threads), compilation included.
    """
    jax, jnp, optax = jax_modules()
    cpu0 = time.process_time()
    data = jnp.asarray(x0, jnp.float32)
    abar = jnp.asarray(alpha_bar, jnp.float32)
    total = len(alpha_bar)
    key = jax.random.PRNGKey(config.seed)
    params = init_params(
        jax.random.fold_in(key, 0), x0.shape[1], config.width, config.blocks, config.time_features
    )
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config.learning_rate, config.warmup, config.train_steps, config.learning_rate * 0.01
    )
    opt = optax.adamw(schedule, weight_decay=config.weight_decay)
    if config.grad_clip is not None:
        opt = optax.chain(optax.clip_by_global_norm(config.grad_clip), opt)

    def loss_fn(p, step_key):
        k_row, k_t, k_eps = jax.random.split(step_key, 3)
        rows = jax.random.randint(k_row, (config.batch,), 0, data.shape[0])
        t = jax.random.randint(k_t, (config.batch,), 0, total)
        eps = jax.random.normal(k_eps, (config.batch, data.shape[1]), jnp.float32)
        a = abar[t][:, None]
        x_t = jnp.sqrt(a) * data[rows] + jnp.sqrt(1 - a) * eps
        goal = eps if config.target == "eps" else jnp.sqrt(a) * eps - jnp.sqrt(1 - a) * data[rows]
        return jnp.mean((apply(p, x_t, t, config.time_features) - goal) ** 2)

    def one_step(carry, step):
        p, state, ema = carry
        loss, grads = jax.value_and_grad(loss_fn)(p, jax.random.fold_in(key, step + 1))
        updates, state = opt.update(grads, state, p)
        p = optax.apply_updates(p, updates)
        ema = jax.tree_util.tree_map(lambda e, q: config.ema * e + (1 - config.ema) * q, ema, p)
        return (p, state, ema), loss

    @jax.jit
    def chunk(carry, steps):
        carry, losses = jax.lax.scan(one_step, carry, steps)
        return carry, losses.mean()

    carry = (params, opt.init(params), params)
    losses = []
    for start in range(0, config.train_steps, CHUNK):
        steps = jnp.arange(start, min(start + CHUNK, config.train_steps))
        carry, loss = chunk(carry, steps)  # a shorter last chunk compiles once more
        losses.append(float(loss))
        if progress is not None:
            progress(start + len(steps), losses[-1])
    ema = {k: np.asarray(v, np.float32) for k, v in carry[2].items()}
    return ema, losses, time.process_time() - cpu0


def predictor(params: dict, time_features: int) -> Callable[[np.ndarray, int], np.ndarray]:
    """A compiled f_θ(x, t) taking and returning numpy arrays (float32 inside, float64 out)."""
    jax, jnp, _ = jax_modules()
    p = {k: jnp.asarray(v) for k, v in params.items()}
    f = jax.jit(lambda x, t: apply(p, x, t, time_features))

    def eps(x: np.ndarray, t: int) -> np.ndarray:
        return np.asarray(f(jnp.asarray(x, jnp.float32), jnp.int32(t)), float)

    return eps
