"""Hardware non-idealities shared by the ``rc`` and ``rlc`` builders; the theory stays nominal.

Optional keys of both families' ``[circuit]`` tables (absent ⇒ the ideal circuit, netlist unchanged):

* ``mismatch_sigma`` (relative, 0 ≤ σ ≤ 0.2) and ``mismatch_seed``: every R, C, L and coupling (resistor,
  transconductor or coupling capacitor) is placed at nominal·(1 + σ·z), z ~ N(0, 1) truncated at ±4
  (a binned part), drawn from numpy's PCG64 seeded by (mismatch_seed, element kind). A transconductor
  pair g_ij, g_ji is two devices, so their draws are independent (the conductance matrix becomes
  non-symmetric; the Lyapunov theory handles that exactly). Noise-source levels stay nominal, except
  Johnson noise in ``thermal`` mode, which follows the actual resistor.
* ``parasitic_c_f`` (F, ≥ 0, one value or one per node): an extra capacitor ``Cp{i}`` from each node to
  ground.
* ``noise_bandwidth_hz`` (> 0, injected noise only): each node's noise current passes a one-pole
  low-pass of corner f_c: white noise on an auxiliary node b_i (capacitor c_b = the node's nominal C,
  resistor r_b = 1/(2π f_c c_b)) drives a transconductor g_b = 1/r_b into the node, so the injected
  current has PSD s/(1 + (f/f_c)²) — the nominal level at low frequency.
* ``actual_temperature_k`` (K, > 0): the noise is placed at this temperature instead of the spec's
  (``temperature_k`` in thermal mode, ``noise_temperature_k`` in injected mode).

The builders report the NOMINAL theory (``cov_theory``), so a run measures the error these cause; the
exact stationary law of the circuit as built is in ``info["actual"]`` (Lyapunov, :func:`linear_theory`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from ..analysis.theory import lyapunov_covariance
from ..errors import SpecError, positive

KEYS = ("mismatch_sigma", "mismatch_seed", "parasitic_c_f", "noise_bandwidth_hz", "actual_temperature_k")


@dataclass(frozen=True)
class NonIdeal:
    """The non-ideality keys, shared by the rc and rlc params (their dataclasses inherit these fields)."""

    # relative σ of every R, C, L and coupling: each part is nominal·(1 + σ·z), z ~ N(0, 1) truncated at ±4
    # (dimensionless, 0 ≤ σ ≤ 0.2); the theory stays nominal
    mismatch_sigma: float = 0.0
    mismatch_seed: int = 0  # seed of the mismatch draws (≥ 0; one stream per element kind)
    # extra capacitor from each node to ground (one value or one per node)
    parasitic_c_f: float | tuple[float, ...] = 0.0
    # corner f_c of a one-pole low-pass on each node's noise current (noise = "injected" only); None: white
    noise_bandwidth_hz: float | None = None
    # temperature the noise is placed at instead of temperature_k (thermal) or noise_temperature_k
    # (injected); the theory stays at the nominal one
    actual_temperature_k: float | None = None


MAX_SIGMA = 0.2
Z_TRUNCATE = 4.0
KINDS = ("c", "r", "coupling", "l", "r_series")  # one random stream per element kind


def active(p) -> bool:
    """True when any non-ideality differs from the ideal circuit."""
    return bool(
        p.mismatch_sigma > 0
        or np.any(np.asarray(p.parasitic_c_f, float) > 0)
        or p.noise_bandwidth_hz is not None
        or p.actual_temperature_k is not None
    )


def ideal(p):
    """The same params with every non-ideality off (the nominal circuit the theory describes)."""
    return replace(
        p, mismatch_sigma=0.0, parasitic_c_f=0.0, noise_bandwidth_hz=None, actual_temperature_k=None
    )


def validate(p, n: int, where: str) -> None:
    """Bad values raise SpecError naming the key."""
    assert {f.name for f in fields(p)} >= set(KEYS)
    s = p.mismatch_sigma
    if not (math.isfinite(s) and 0.0 <= s <= MAX_SIGMA):
        raise SpecError(f"{where}.mismatch_sigma must be between 0 and {MAX_SIGMA} (relative), got {s!r}")
    if p.mismatch_seed < 0:
        raise SpecError(f"{where}.mismatch_seed must be >= 0, got {p.mismatch_seed}")
    cp = (
        np.full(n, p.parasitic_c_f, float)
        if isinstance(p.parasitic_c_f, float)
        else np.asarray(p.parasitic_c_f, float)
    )
    if cp.shape != (n,):
        raise SpecError(f"{where}.parasitic_c_f has {cp.size} values but there are {n} nodes")
    for i, x in enumerate(cp):
        positive(x, f"{where}.parasitic_c_f" + ("" if isinstance(p.parasitic_c_f, float) else f"[{i}]"), True)
    if p.noise_bandwidth_hz is not None:
        positive(p.noise_bandwidth_hz, f"{where}.noise_bandwidth_hz")
        if p.noise != "injected":
            raise SpecError(
                f'{where}.noise_bandwidth_hz needs noise = "injected" (Johnson noise is white: its '
                "bandwidth is not a property of a source)"
            )
    if p.actual_temperature_k is not None:
        positive(p.actual_temperature_k, f"{where}.actual_temperature_k")


def parasitic(p, n: int) -> np.ndarray:
    return (
        np.full(n, p.parasitic_c_f, float)
        if isinstance(p.parasitic_c_f, float)
        else np.asarray(p.parasitic_c_f, float)
    )


def factors(p, kind: str, shape) -> np.ndarray:
    """Multiplicative tolerance factors 1 + σ·z (z truncated at ±4) for one kind of element; exactly 1
    when σ = 0. Seeded by (mismatch_seed, kind): the draws of one kind do not depend on the others."""
    if p.mismatch_sigma == 0:
        return np.ones(shape)
    rng = np.random.default_rng([p.mismatch_seed, KINDS.index(kind)])
    z = np.clip(rng.standard_normal(shape), -Z_TRUNCATE, Z_TRUNCATE)
    return 1.0 + p.mismatch_sigma * z


def noise_temperature(p, nominal_k: float) -> float:
    return nominal_k if p.actual_temperature_k is None else p.actual_temperature_k


def place_parasitics(circuit, p, n: int, node) -> np.ndarray:
    """Capacitors Cp{i} from each node to ground; returns their values (F)."""
    cp = parasitic(p, n)
    for i in range(n):
        if cp[i] > 0:
            circuit.C(f"p{i + 1}", node(i), circuit.gnd, float(cp[i]))
    return cp


def place_filtered_noise(circuit, plan, p, node_name: str, index: int, psd: float, c_b: float) -> float:
    """White noise of PSD ``psd`` (A²/Hz) on an auxiliary node b{index}, low-passed at
    ``noise_bandwidth_hz`` and injected into ``node_name`` by a transconductor 1/r_b. Returns g_b (S)."""
    g_b = 2 * math.pi * p.noise_bandwidth_hz * c_b
    aux = f"b{index}"
    plan.capacitor(circuit, f"f{index}", aux, c_b)
    circuit.R(f"f{index}", aux, circuit.gnd, 1.0 / g_b)
    circuit.VCCS(f"f{index}", circuit.gnd, node_name, aux, circuit.gnd, g_b)  # g_b·u flows into the node
    plan.white(aux, None, psd, f"inj-filtered@{p.noise_bandwidth_hz:g}Hz")
    return g_b


def with_filter(c: np.ndarray, g: np.ndarray, c_b: np.ndarray, g_b: np.ndarray) -> tuple:
    """Capacitance and conductance matrices extended by the auxiliary filter nodes (appended last):
    C' = diag(C, c_b), G' = [[G, −diag(g_b)], [0, diag(g_b)]]."""
    n, m = len(c), len(c_b)
    c2 = np.zeros((n + m, n + m))
    g2 = np.zeros((n + m, n + m))
    c2[:n, :n], g2[:n, :n] = c, g
    c2[n:, n:] = np.diag(c_b)
    g2[:n, n:] = -np.diag(g_b)
    g2[n:, n:] = np.diag(g_b)
    return c2, g2


def drift_matrix(c: np.ndarray, g: np.ndarray, l_h=None, r_s=None) -> np.ndarray:
    """Drift A of a linear network's state x = (v, i): C dv = −(G v + B i) dt + dQ, L di = (Bᵀv −
    R_s i) dt, inductors from node k to ground for k < len(l_h) (B = [I; 0]);
    A = [[C⁻¹G, C⁻¹B], [−L⁻¹Bᵀ, L⁻¹R_s]]. numpy only. Cost O((N + m)³)."""
    c, g = np.asarray(c, float), np.asarray(g, float)
    n = len(c)
    m = 0 if l_h is None else len(l_h)
    c_inv = np.linalg.inv(c)
    a = np.zeros((n + m, n + m))
    a[:n, :n] = c_inv @ g
    if m:
        b = np.zeros((n, m))
        b[:m, :m] = np.eye(m)
        l_inv = np.diag(1.0 / np.asarray(l_h, float))
        a[:n, n:] = c_inv @ b
        a[n:, :n] = -l_inv @ b.T
        a[n:, n:] = l_inv @ np.diag(np.zeros(m) if r_s is None else np.asarray(r_s, float))
    return a


def linear_theory(c: np.ndarray, g: np.ndarray, s: np.ndarray, l_h=None, r_s=None) -> tuple:
    """Stationary covariance and drift of a linear network (:func:`drift_matrix`) driven by white node
    currents, E[dQ dQᵀ] = S dt: D = blockdiag(C⁻¹SC⁻¹, 0); Σ solves AΣ + ΣAᵀ = D (exact for non-normal
    A). Returns (Σ, A). Units: V², V·A, A². Cost O((N + m)³).
    """
    a = drift_matrix(c, g, l_h, r_s)
    c_inv = np.linalg.inv(np.asarray(c, float))
    n = len(c_inv)
    d = np.zeros_like(a)
    d[:n, :n] = c_inv @ np.asarray(s, float) @ c_inv
    return lyapunov_covariance(a, d), a
