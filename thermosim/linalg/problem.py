"""A linear-algebra problem and its compilation into an ``rc`` or ``rlc`` circuit spec.

The matrix A (d×d, symmetric positive definite) is scaled to P = A/α with α = λ_max(A), so every
eigenvalue of P lies in (0, 1] and the fastest relaxation time is the circuit's unit τ:

* ``rc``: G = g0·P (grounded resistors + transconductors), equal capacitors C, injected white noise at
  T_eff ⇒ Σ = (k T_eff/C)·P⁻¹, hence  A⁻¹ = Σ·C/(k T_eff α)  (τ = C/g0 = 1 µs). Bias currents
  I = g0·V_unit·b give the mean v̄ = V_unit·P⁻¹b, hence  A⁻¹b = v̄/(V_unit α).
* ``rlc`` (the SPU cell): Maxwell capacitance C = c_unit·P, thermal noise at T ⇒ Σv = (kT/c_unit)·P⁻¹,
  hence A⁻¹ = Σv·c_unit/(kT α). Passive coupling capacitors need P_ij ≤ 0 and positive row sums.

Bad input raises ValueError with one line naming the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..physics import K_B

SINGULAR_COND = 1e12  # a matrix whose condition number exceeds this is treated as singular
RC = {"c_f": 1e-12, "g0_s": 1e-6, "noise": "injected", "noise_temperature_k": 3.0e6}
RLC = {"c_unit_f": 1e-9, "l_h": 1e-6, "r_parallel_ohm": 100.0, "noise": "thermal", "temperature_k": 300.0}
STEPS_PER_TAU = 4  # at least this many noise steps per fastest time scale (Σ stays exact at any step)


@dataclass(frozen=True)
class Problem:
    a: np.ndarray  # the matrix to invert (d×d)
    b: np.ndarray | None = None  # right-hand side (solve)
    source: str = ""  # where A came from (file, or "random d=… cond=… seed=…")

    @property
    def d(self) -> int:
        return len(self.a)


def load_npy(path: str | Path, what: str) -> np.ndarray:
    """A float array from a .npy file; ValueError naming the file when it cannot be read."""
    try:
        arr = np.load(Path(path), allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: cannot read {what} as a .npy array ({str(err).splitlines()[0]})") from None
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ValueError(f"{path}: {what} must hold real numbers, got dtype {arr.dtype}")
    return np.asarray(arr, float)


def check_matrix(a: np.ndarray, circuit: str, name: str = "matrix") -> np.ndarray:
    """The checks a sampler needs, in order: square, finite, non-singular, symmetric, positive definite;
    for ``rlc`` also realisable with passive capacitors. Returns A as float (d×d)."""
    a = np.asarray(a, float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError(f"{name} must be square (d×d), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has non-finite entries")
    cond = np.linalg.cond(a)
    if not cond < SINGULAR_COND:
        raise ValueError(f"{name} is singular (condition number {cond:.3g} >= {SINGULAR_COND:.0e})")
    if not np.allclose(a, a.T, rtol=1e-10, atol=1e-12 * np.abs(a).max()):
        raise ValueError(
            f"{name} must be symmetric for the sampler (max |A - Aᵀ| = {np.abs(a - a.T).max():.3g})"
        )
    lam = np.linalg.eigvalsh(a).min()
    if lam <= 0:
        raise ValueError(
            f"{name} must be positive definite for the sampler (smallest eigenvalue {lam:.3g}); "
            "a Gaussian needs an SPD precision"
        )
    if circuit == "rlc":
        off = a - np.diag(np.diag(a))
        if off.max() > 0:
            i, j = np.unravel_index(np.argmax(off), a.shape)
            raise ValueError(
                f"{name}[{i}][{j}] = {a[i, j]:g} > 0: --circuit rlc couples through passive capacitors "
                "(off-diagonals must be <= 0); use --circuit rc"
            )
        rows = a.sum(1)
        if rows.min() <= 0:
            raise ValueError(
                f"{name} row {int(np.argmin(rows))} sums to <= 0: --circuit rlc needs positive row sums"
            )
    return 0.5 * (a + a.T)


def random_spd(d: int, cond: float, seed: int) -> np.ndarray:
    """A = Q·diag(λ)·Qᵀ with Q Haar-random orthogonal and λ log-spaced from 1/cond to 1. Cost O(d³)."""
    check_random(d, cond)
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    q = q * np.sign(np.diag(r))
    a = (q * np.logspace(-np.log10(cond), 0.0, d)) @ q.T
    return 0.5 * (a + a.T)


def random_m_matrix(d: int, cond: float, seed: int) -> np.ndarray:
    """A = L + μI: L the Laplacian of a random weighted graph (a ring plus random chords) and
    μ = λ_max(L)/(cond − 1), so A is an SPD M-matrix with rows summing to μ > 0 and condition number
    exactly ``cond`` (the ring keeps the graph connected). Cost O(d³)."""
    check_random(d, cond)
    rng = np.random.default_rng(seed)
    w = np.where(rng.random((d, d)) < 0.3, rng.uniform(0.1, 1.0, (d, d)), 0.0)
    w = np.triu(w, 1)
    for i in range(d):  # a ring keeps the graph connected
        lo, hi = sorted((i, (i + 1) % d))
        w[lo, hi] = max(w[lo, hi], 0.5)
    w = w + w.T
    lap = np.diag(w.sum(1)) - w
    mu = np.linalg.eigvalsh(lap).max() / (cond - 1.0)
    return lap + mu * np.eye(d)


def check_random(d: int, cond: float) -> None:
    if not 2 <= d <= 64:
        raise ValueError(f"--random d must be between 2 and 64, got {d}")
    if not (np.isfinite(cond) and 1.0 < cond < SINGULAR_COND):
        raise ValueError(f"--cond must be > 1 and < {SINGULAR_COND:.0e}, got {cond!r}")


def random_rhs(d: int, seed: int) -> np.ndarray:
    """A right-hand side with independent N(0, 1) entries (seed + 1, so it differs from A's draw)."""
    return np.random.default_rng(seed + 1).standard_normal(d)


def scale_of(a: np.ndarray) -> float:
    """α = λ_max(A): P = A/α has its largest eigenvalue at 1."""
    return float(np.linalg.eigvalsh(a).max())


def circuit_table(
    problem: Problem,
    circuit: str,
    samples: int,
    seed: int,
    nonideal: dict | None = None,
    snr: float = 1.0,
    name: str = "linalg",
) -> tuple[dict, dict]:
    """The circuit spec table for ``problem`` and the read-out constants.

    Returns (table, readout) with readout = {"alpha", "cov_to_inverse", "v_unit"}: Â⁻¹ =
    cov_to_inverse · Σ̂ (on the node voltages) and x̂ = v̄/(v_unit·α). ``samples`` is the number of noise
    steps after the automatic burn-in (10 slowest relaxation times); the step is τ_fast/STEPS_PER_TAU.
    ``snr``: bias amplitude so that ‖v̄‖ = snr·√tr Σ (solve only).
    """
    from ..circuits import FAMILIES
    from ..runs.spec import spec_from_table

    alpha = scale_of(problem.a)
    p = problem.a / alpha
    base = dict(RC if circuit == "rc" else RLC)
    base["precision"] = p.tolist()
    if problem.b is not None:
        if circuit != "rc":
            raise ValueError("solve needs --circuit rc (an LC cell's inductor shorts a DC bias to ground)")
        sigma = (K_B * RC["noise_temperature_k"] / RC["c_f"]) * np.linalg.inv(p)
        y = np.linalg.solve(p, problem.b)
        v_unit = snr * float(np.sqrt(np.trace(sigma))) / float(np.linalg.norm(y))
        base["bias_a"] = (RC["g0_s"] * v_unit * problem.b).tolist()
    else:
        v_unit = None
    base |= nonideal or {}
    unit = (
        base["c_f"] / (K_B * RC["noise_temperature_k"])
        if circuit == "rc"
        else base["c_unit_f"] / (K_B * RLC["temperature_k"])
    )
    probe = spec_from_table({"name": name, "family": circuit, "circuit": base, "sim": {"t_stop_s": 1.0}})
    built = FAMILIES[circuit].build(probe.params)
    # a power of two: k·step and the stop time are then exact in floating point (an arbitrary step can
    # leave ngspice a sliver of a step at t_stop, which it rejects as "timestep too small")
    step = 2.0 ** np.floor(np.log2(built.tau_fast_s / STEPS_PER_TAU))
    burn = np.ceil(10 * built.tau_slow_s / step) * step
    table = {
        "name": name,
        "family": circuit,
        "description": f"thermosim linalg: {problem.source}",
        "circuit": base,
        "sim": {
            "t_stop_s": float(burn + samples * step),
            "noise_step_s": float(step),
            "burn_in_s": float(burn),
            "seed": seed,
        },
    }
    return table, {"alpha": alpha, "cov_to_inverse": unit / alpha, "v_unit": v_unit}
