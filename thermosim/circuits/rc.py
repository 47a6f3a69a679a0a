"""Family ``rc``: N noisy nodes, capacitors to ground, resistors to ground, couplings.

Two ways to give the network:

* explicit: ``c_f``, ``r_ohm`` (grounded resistors) and ``coupling_s`` (symmetric, non-negative
  conductances between nodes, realised as resistors) or, for a large sparse network, ``coupling_list_s``
  (rows [i, j, g_s]: a resistor of conductance g_s between nodes n_i and n_j, numbered from 1; give ``n``);
* ``precision``: a symmetric positive-definite matrix P (any signs). It is compiled into conductances
  G = g0·P with equal capacitors ``c_f``. The off-diagonals are matched pairs of transconductors
  (g_ij = g_ji); for the circuit's equations such a pair is one floating conductance −g_ij between the
  two nodes (a negative resistor where P_ij > 0, an ordinary one where P_ij < 0) with its diagonal share
  given back to ground, so the netlist writes one resistor per pair and one grounded resistor per node of
  conductance Σ_j G_ij (the row sum; any sign). Same equations to rounding, half the elements of one G
  element per ordered pair, and faster in ngspice (docs/results.md "Dense coupling"). Mismatched
  transconductors (``mismatch_sigma``: each its own device, G no longer symmetric) stay G elements. With
  injected noise of equal PSD s = 2·k·T_eff·g0 at every node the stationary covariance is
  Σ = (k T_eff / C)·P⁻¹  (Lyapunov with A = G/C, D = s/C²). (Differential encoding, x = v⁺ − v⁻ with
  crossed wires for negative couplings, is the passive alternative; it needs a diagonally dominant P and
  doubles the node count: ten times slower at n = 64.)

Noise: ``thermal`` puts the Johnson noise of every resistor at ``temperature_k`` (fluctuation–dissipation;
for a passive network Σ = kT·C⁻¹, independent of R); ``injected`` puts independent white currents at the
nodes at ``noise_temperature_k`` (each node the Johnson level of its grounded resistor, or of g0 for a
precision matrix) and leaves resistors noiseless. Theory is always the exact Lyapunov solution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ..analysis.gaussian import MAX_MATRIX_DIM
from ..analysis.theory import GENERAL_MAX_STATES, symmetric_lyapunov, symmetric_network, time_scales
from ..errors import SpecError, positive
from ..physics import K_B, johnson_current_psd
from ..spice.noise import NoisePlan
from . import nonideal
from .built import Built, Energy, Theory
from .registry import register

Scalar_or_list = float | tuple[float, ...]


@dataclass(frozen=True)
class RCParams(nonideal.NonIdeal):  # + the non-ideality keys (circuits/nonideal.py)
    # number of nodes; optional when precision, coupling_s or a per-node c_f / r_ohm list implies it
    # (coupling_list_s does not); must agree with them when given
    n: int | None = None
    c_f: Scalar_or_list = 1e-12  # capacitor from each node to ground (one value or one per node)
    # resistor from each node to ground (one value or one per node); required unless precision is given
    r_ohm: Scalar_or_list | None = None
    # n × n conductances between nodes, each realised as a resistor: symmetric, ≥ 0, zero diagonal
    coupling_s: tuple[tuple[float, ...], ...] | None = None
    # sparse form of coupling_s: rows [i, j, g_s], a resistor of conductance g_s > 0 between nodes i and j
    # (numbered from 1, each pair once)
    coupling_list_s: tuple[tuple[float, ...], ...] | None = None
    # target precision matrix P (symmetric positive definite, any signs) compiled into G = g0·P: a resistor
    # −1/(g0·P_ij) per pair (any sign) and row sums to ground; Σ = (kT_eff/C)·P⁻¹. Needs noise = "injected"
    # and equal c_f; excludes r_ohm, coupling_s and coupling_list_s
    precision: tuple[tuple[float, ...], ...] | None = None
    # conductance unit of a precision matrix (G = g0·P); its Johnson level sets every node's injected noise
    g0_s: float = 1e-4
    # "thermal": Johnson noise of every resistor at temperature_k; "injected": an independent white
    # current at each node at noise_temperature_k (its grounded resistor's Johnson level, or g0's for a
    # precision matrix), resistors noiseless
    noise: Literal["thermal", "injected"] = "thermal"
    temperature_k: float = 300.0  # temperature of the resistors' Johnson noise (noise = "thermal" only)
    # effective temperature of the injected noise (required with noise = "injected", refused otherwise)
    noise_temperature_k: float | None = None
    # node voltages at t = 0 (.ic; one value or one per node, any sign); default: the DC operating point
    # (0 V without bias_a). burn_in_s = 0 keeps the relaxation from there
    initial_v: Scalar_or_list | None = None
    bias_a: Scalar_or_list | None = None  # DC current into each node (any sign): the mean moves to v = G⁻¹·I

    def size(self) -> int:
        for m in (self.precision, self.coupling_s):
            if m is not None:
                return len(m)
        for v in (self.c_f, self.r_ohm):
            if isinstance(v, tuple):
                return len(v)
        return self.n if self.n is not None else 1

    def validate(self, where: str) -> None:
        n = checked_size(self, where)
        vector_param(self.c_f, n, f"{where}.c_f")
        if self.precision is not None:
            if self.r_ohm is not None or self.coupling_s is not None or self.coupling_list_s is not None:
                raise SpecError(
                    f"{where}.precision excludes r_ohm, coupling_s and coupling_list_s (they are compiled "
                    "from it)"
                )
            p = square_param(self.precision, f"{where}.precision")
            if not np.allclose(p, p.T, rtol=1e-12, atol=0):
                raise SpecError(f"{where}.precision must be symmetric")
            if np.linalg.eigvalsh(p).min() <= 0:
                raise SpecError(
                    f"{where}.precision must be positive definite "
                    f"(smallest eigenvalue {np.linalg.eigvalsh(p).min():.3g})"
                )
            if self.noise != "injected":
                raise SpecError(
                    f'{where}.precision needs noise = "injected" (transconductor couplings are '
                    "active elements: there is no thermal equilibrium to appeal to)"
                )
            if isinstance(self.c_f, tuple) and len(set(self.c_f)) > 1:
                raise SpecError(f"{where}.c_f must be one value for a precision matrix (equal capacitors)")
            positive(self.g0_s, f"{where}.g0_s")
        else:
            vector_param(required(self, "r_ohm", where), n, f"{where}.r_ohm")
            if self.coupling_s is not None:
                if self.coupling_list_s is not None:
                    raise SpecError(f"{where}.coupling_s excludes coupling_list_s (give the couplings once)")
                coupling_param(
                    self.coupling_s, n, f"{where}.coupling_s", "resistors; use precision for any sign"
                )
            if self.coupling_list_s is not None:
                coupling_list(self.coupling_list_s, n, f"{where}.coupling_list_s")
        validate_noise(self, where)
        if self.initial_v is not None:
            vector_param(self.initial_v, n, f"{where}.initial_v", signed=True)
        if self.bias_a is not None:
            vector_param(self.bias_a, n, f"{where}.bias_a", signed=True)
        nonideal.validate(self, n, where)
        general_size_limit(self, n, where)


def general_size_limit(p: RCParams, n: int, where: str) -> None:
    """Refuse (SpecError naming the key) a network whose exact theory needs the general O(n³) solver at
    more than theory.GENERAL_MAX_STATES states: noise filters (one extra node each, one-way coupled),
    mismatched transconductors, or a precision matrix that is symmetric only to rounding. Passive
    networks and exactly symmetric precision matrices take the symmetric solver up to MAX_NODES."""
    states = n * (2 if p.noise_bandwidth_hz is not None else 1)
    if states <= GENERAL_MAX_STATES:
        return
    if p.noise_bandwidth_hz is not None:
        key, value = "noise_bandwidth_hz", p.noise_bandwidth_hz
    elif p.precision is not None and p.mismatch_sigma > 0:
        key, value = "mismatch_sigma", p.mismatch_sigma
    elif p.precision is not None and not np.array_equal(np.asarray(p.precision), np.asarray(p.precision).T):
        key, value = "precision", "symmetric only to rounding"
    else:
        return
    raise SpecError(
        f"{where}.{key} = {value!r} with {n} nodes: the circuit's drift is then not symmetric, and its "
        f"exact theory (an O(n³) Schur form) takes ~12 min of CPU at 4096 states; such networks are "
        f"limited to {GENERAL_MAX_STATES} states (nodes, plus one per noise filter)"
    )


def checked_size(p, where: str) -> int:
    """The node count implied by the matrices and lists, agreeing with ``n`` when that is given."""
    n = p.size()
    if p.n is not None and p.n != n:
        raise SpecError(f"{where}.n = {p.n} disagrees with the matrix/list size {n}")
    if n < 1:
        raise SpecError(f"{where}.n must be >= 1, got {n}")
    return n


def validate_noise(p, where: str) -> None:
    """The noise keys shared by families with ``noise = "thermal" | "injected"``."""
    if p.noise == "thermal":
        positive(p.temperature_k, f"{where}.temperature_k")
        if p.noise_temperature_k is not None:
            raise SpecError(f'{where}.noise_temperature_k is for noise = "injected"; use temperature_k')
    else:
        if p.noise_temperature_k is None:
            raise SpecError(f"missing required key '{where}.noise_temperature_k' (noise = \"injected\")")
        positive(p.noise_temperature_k, f"{where}.noise_temperature_k")


def coupling_param(m: tuple, n: int, key: str, what: str) -> np.ndarray:
    """A matrix of passive couplings: n×n, symmetric, >= 0, zero diagonal."""
    g = square_param(m, key)
    if g.shape[0] != n:
        raise SpecError(f"{key} is {g.shape[0]}×{g.shape[0]} but there are {n} nodes")
    if not np.allclose(g, g.T) or np.any(g < 0) or np.any(np.diag(g) != 0):
        raise SpecError(f"{key} must be symmetric, >= 0, with a zero diagonal ({what})")
    return g


def coupling_list(rows: tuple, n: int, key: str) -> np.ndarray:
    """The symmetric n×n conductance matrix (S) of rows [i, j, g_s]: node numbers 1 … n, i ≠ j, g_s > 0,
    each pair once. Errors name the row. Cost O(n² + rows)."""
    g = np.zeros((n, n))
    for r, row in enumerate(rows):
        where = f"{key}[{r}]"
        if len(row) != 3:
            raise SpecError(
                f"{where} must be [i, j, g_s] (two node numbers and a conductance), got {list(row)}"
            )
        i, j, g_ij = row
        for v in (i, j):
            if not (float(v).is_integer() and 1 <= v <= n):
                raise SpecError(f"{where} names node {v!r}: node numbers are whole numbers from 1 to n = {n}")
        i, j = int(i) - 1, int(j) - 1
        if i == j:
            raise SpecError(f"{where} couples node {i + 1} to itself (use r_ohm for a grounded resistor)")
        positive(g_ij, f"{where} conductance")
        if g[i, j] != 0:
            raise SpecError(f"{where} couples nodes {i + 1} and {j + 1} a second time")
        g[i, j] = g[j, i] = g_ij
    return g


def required(params, key: str, where: str):
    """The value of ``key``, which a network given without a precision matrix must have."""
    value = getattr(params, key)
    if value is None:
        raise SpecError(f"missing required key '{where}.{key}' (or give '{where}.precision')")
    return value


def vector_param(
    v: Scalar_or_list, n: int, key: str, signed: bool = False, what: str = "nodes"
) -> np.ndarray:
    """A scalar (same for every node) or a list of n values; each > 0 unless ``signed``."""
    arr = np.full(n, v, float) if isinstance(v, float) else np.asarray(v, float)
    if arr.shape != (n,):
        raise SpecError(f"{key} has {arr.size} values but there are {n} {what}")
    for i, x in enumerate(arr):
        if not signed:
            positive(x, f"{key}" if isinstance(v, float) else f"{key}[{i}]")
    return arr


def square_param(m: tuple, key: str) -> np.ndarray:
    rows = [len(r) for r in m]
    if len(m) == 0 or any(r != len(m) for r in rows):
        raise SpecError(f"{key} must be a square matrix, got rows of lengths {rows}")
    arr = np.asarray(m, float)
    if not np.all(np.isfinite(arr)):
        raise SpecError(f"{key} has non-finite entries")
    return arr


def node(i: int) -> str:
    return f"n{i + 1}"


@register("rc", RCParams)
def build_rc(p: RCParams) -> Built:
    n = p.size()
    c_nominal = vector_param(p.c_f, n, "c_f")
    c = c_nominal * nonideal.factors(p, "c", n)
    circuit = Circuit("thermosim rc")
    plan = NoisePlan()
    for i in range(n):
        plan.capacitor(circuit, str(i + 1), node(i), c[i])
    info: dict = {}
    filters: list[float] = []  # g_b of each noise filter (noise_bandwidth_hz)

    def inject(i: int, psd: float, label: str) -> None:
        if p.noise_bandwidth_hz is None:
            plan.white(node(i), None, psd, label)
        else:
            filters.append(nonideal.place_filtered_noise(circuit, plan, p, node(i), i + 1, psd, c_nominal[i]))

    if p.precision is not None:
        prec = np.asarray(p.precision, float)
        g = p.g0_s * prec
        if p.mismatch_sigma > 0:  # each grounded resistor and each transconductor is its own device
            g = g * nonideal.factors(p, "coupling", (n, n))
            g[np.diag_indices(n)] = np.diag(p.g0_s * prec) * nonideal.factors(p, "r", n)
        t_noise = nonideal.noise_temperature(p, p.noise_temperature_k)
        off = g - np.diag(np.diag(g))
        # matched pairs g_ij = g_ji: one floating conductance −g_ij each, its diagonal share given back to
        # ground (dense.py "rpair": the same equations, half the elements, measured faster in ngspice)
        ground = np.diag(g) + off.sum(1)
        with np.errstate(divide="ignore", over="ignore"):  # a conductance too small to invert: VCCS
            pairs = np.array_equal(off, off.T) and np.all(
                np.isfinite(1 / np.concatenate([off[off != 0], ground[ground != 0]]))
            )
        ground = ground if pairs else np.diag(g)
        for i in range(n):
            if ground[i] != 0:
                circuit.R(str(i + 1), node(i), circuit.gnd, 1.0 / ground[i])
            for j in i + 1 + np.flatnonzero(off[i, i + 1 :]) if pairs else ():
                circuit.R(f"{i + 1}_{j + 1}", node(i), node(j), -1.0 / off[i, j])
            for j in () if pairs else np.flatnonzero(off[i]):  # current g_ij·v_j leaves node i
                circuit.VCCS(f"{i + 1}_{j + 1}", node(i), circuit.gnd, node(j), circuit.gnd, g[i, j])
            inject(i, 2 * K_B * t_noise * p.g0_s, f"inj@{t_noise:g}K")
        info["couplings"] = int(np.count_nonzero(off))  # ordered pairs i ≠ j
        info["coupling_elements"] = "resistor pairs" if pairs else "transconductors"
    else:
        r_nominal = vector_param(p.r_ohm, n, "r_ohm")
        r = r_nominal * nonideal.factors(p, "r", n)
        gc = (
            np.asarray(p.coupling_s, float)
            if p.coupling_s is not None
            else coupling_list(p.coupling_list_s or (), n, "coupling_list_s")
        )
        gc = gc * np.triu(nonideal.factors(p, "coupling", (n, n)), 1)  # one resistor per pair
        gc = np.triu(gc, 1) + np.triu(gc, 1).T
        g = np.diag(1.0 / r) + np.diag(gc.sum(1)) - gc
        nominal_k = p.temperature_k if p.noise == "thermal" else p.noise_temperature_k
        t_noise = nonideal.noise_temperature(p, nominal_k)
        for i in range(n):
            circuit.R(str(i + 1), node(i), circuit.gnd, r[i])
            if p.noise == "thermal":
                plan.johnson(node(i), None, r[i], t_noise)
            else:  # an injected source at the nominal resistor's Johnson level
                psd = johnson_current_psd(r_nominal[i], t_noise)
                inject(i, psd, f"R{r_nominal[i]:g}@{t_noise:g}K")
            for j in i + 1 + np.flatnonzero(gc[i, i + 1 :] > 0):
                circuit.R(f"{i + 1}_{j + 1}", node(i), node(j), 1.0 / gc[i, j])
                if p.noise == "thermal":
                    plan.johnson(node(i), node(j), 1.0 / gc[i, j], t_noise)
    cp = nonideal.place_parasitics(circuit, p, n, node)
    if p.bias_a is not None:  # DC currents into the nodes: the mean moves to G⁻¹·I
        bias = vector_param(p.bias_a, n, "bias_a", signed=True)
        for i in range(n):
            if bias[i] != 0:
                circuit.I(f"b{i + 1}", circuit.gnd, node(i), float(bias[i]))
    if p.initial_v is not None:  # a relaxation from a non-equilibrium start (burn_in_s = 0 keeps it)
        v0 = vector_param(p.initial_v, n, "initial_v", signed=True)
        circuit.raw_spice += ".ic " + " ".join(f"v({node(i)})={float(v0[i])!r}" for i in range(n)) + "\n"
    c_full, g_full = np.diag(c + cp), g
    if filters:
        c_full, g_full = nonideal.with_filter(c_full, g_full, c_nominal, np.asarray(filters))
    bias = np.zeros(n) if p.bias_a is None else vector_param(p.bias_a, n, "bias_a", signed=True)
    mean = np.linalg.solve(g_full, np.concatenate([bias, np.zeros(len(g_full) - n)]))[:n]
    if symmetric_network(c_full, g_full):  # large and symmetric: the eigh solver (theory.SYMMETRIC_FROM)
        cov_full, tau_fast, tau_slow = symmetric_lyapunov(c_full, g_full, plan.node_psd())
        theory: Theory | Callable[[], Theory] = Theory(mean, cov_full[:n, :n])
    else:  # the time scales now (they set the noise step), the covariance while ngspice runs
        drift = nonideal.drift_matrix(c_full, g_full)
        tau_fast, tau_slow = time_scales(drift)

        def theory() -> Theory:
            return Theory(mean, nonideal.linear_theory(c_full, g_full, plan.node_psd())[0][:n, :n])

    if nonideal.active(p):  # theory stays the nominal circuit's; the circuit as built goes to info
        cov = (theory if isinstance(theory, Theory) else theory()).cov
        info["actual"] = {"mean": mean.tolist()} | (  # d² values only while metrics.json stays small
            {"cov": cov.tolist()} if n <= MAX_MATRIX_DIM else {"var": np.diag(cov).tolist()}
        )
        theory = build_rc(nonideal.ideal(p)).law
    info["noise_sources"] = len(plan.sources)
    return Built(
        circuit=circuit,
        noise=plan,
        variables=tuple(f"v({node(i)})" for i in range(n)),
        theory=theory,
        tau_fast_s=tau_fast,
        tau_slow_s=tau_slow,
        info=info,
        linear=True,
        energy=Energy(
            parameters=int(np.count_nonzero(np.triu(g))) + (0 if p.bias_a is None else n),
            kt_j=K_B * (p.temperature_k if p.noise == "thermal" else p.noise_temperature_k),
        ),
    )


__all__ = ["RCParams", "build_rc", "johnson_current_psd"]
