"""Family ``quartic``: Whitelam's thermodynamic neurons as circuits (PRL 2026; docs/architecture.md).

Model (dimensionless): overdamped Langevin  dx_i/dt' = −∂_i V(x) + √(2 kT) η_i(t')  (mobility μ = 1) with

    V(x) = Σ_i (J₂ x_i² + J₄ x_i⁴ + b_i x_i) + Σ_(i<j) J_ij x_i x_j .

Circuit: unit i is node ``u{i}`` with a capacitor C to ground; the voltage is u = V₀·x (``v_unit_v``)
and model time is t' = t/τ with τ = C/g₀ (``c_f``, ``g0_s``). The restoring force is a behavioural
current g₀V₀·(2J₂x + 4J₄x³ + b_i) leaving the node (ngspice B source); a coupling is a transconductance
g₀·J_ij from v(u_j) into node i (B source too, so it can be switched on at ``couple_at_s``). The noise is
a white current at each node of two-sided PSD s = 2·kT·g₀·C·V₀² (A²/Hz), which gives √(2kT) η in model
units: dividing C du/dt = −g₀V₀∂V + ξ by g₀V₀ and rescaling time by τ.

Theory: the stationary density of each uncoupled unit is ∝ exp(−V(x)/kT) (exact, by quadrature); there
is no closed form for coupled units: they are compared with the Euler–Maruyama twin in thermosim.digital.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ..errors import SpecError, positive
from ..spice.noise import NoisePlan
from . import dense
from .built import Built, Energy, Theory
from .rc import Scalar_or_list, checked_size, square_param, vector_param
from .registry import register
from .staged import StagedTerms, add_stages, sense_variables, staged_arrays, staged_potential


@dataclass(frozen=True)
class QuarticParams(StagedTerms):
    # number of units; optional when coupling or a per-unit list (bias, initial_x, coupled_*) implies it;
    # must agree with them when given
    n: int | None = None
    j2: float = 1.0  # J₂ of each unit's V = J₂x² + J₄x⁴ + b·x (model units, > 0)
    j4: float = 1.0  # J₄ of each unit's V = J₂x² + J₄x⁴ + b·x (model units, > 0)
    # temperature kT (model units; Whitelam's reference value): two-sided noise PSD 2·kT·g₀·C·V₀² per node
    kt: float = 0.1
    # b of each unit's linear term b·x (model units, any sign; one value or one per unit)
    bias: Scalar_or_list = 0.0
    # J_ij of the coupling term Σ_(i<j) J_ij x_i x_j (model units): n × n, any sign, symmetric, zero diagonal
    coupling: tuple[tuple[float, ...], ...] | None = None
    couple_at_s: float = 0.0  # time the couplings and the coupled_* values switch on (0: from the start)
    # J₂ per unit from couple_at_s on (a trained generative model; model units, any sign; one value or one
    # per unit); default: j2 unchanged
    coupled_j2: Scalar_or_list | None = None
    # J₄ per unit from couple_at_s on (model units, > 0; one value or one per unit); default: j4 unchanged
    coupled_j4: Scalar_or_list | None = None
    # b per unit from couple_at_s on (model units, any sign; one value or one per unit); default: bias
    # unchanged
    coupled_bias: Scalar_or_list | None = None
    # x at t = 0 (.ic; model units, one value or one per unit); default: the DC operating point
    initial_x: Scalar_or_list | None = None
    c_f: float = 1e-12  # capacitor C from each unit's node to ground; τ = C/g₀
    # conductance unit g₀: restoring current g₀V₀·∂V/∂x, couplings g₀·J_ij; τ = C/g₀ = 1 µs by default
    g0_s: float = 1e-6
    v_unit_v: float = 0.1  # V₀, the node voltage of one model unit: u = V₀·x

    def size(self) -> int:
        if self.coupling is not None:
            return len(self.coupling)
        for v in (self.bias, self.initial_x, self.coupled_j2, self.coupled_j4, self.coupled_bias):
            if isinstance(v, tuple):
                return len(v)
        return self.n if self.n is not None else 1

    def validate(self, where: str) -> None:
        n = checked_size(self, where)
        for key in ("j2", "j4", "kt", "c_f", "g0_s", "v_unit_v"):
            positive(getattr(self, key), f"{where}.{key}")
        positive(self.couple_at_s, f"{where}.couple_at_s", allow_zero=True)
        vector_param(self.bias, n, f"{where}.bias", signed=True)
        if self.initial_x is not None:
            vector_param(self.initial_x, n, f"{where}.initial_x", signed=True)
        check_switched(self, n, where)
        staged_arrays(self, n, where)
        if self.coupling is not None:
            j = square_param(self.coupling, f"{where}.coupling")
            if j.shape[0] != n:
                raise SpecError(f"{where}.coupling is {j.shape[0]}×{j.shape[0]} but there are {n} units")
            if not np.allclose(j, j.T) or np.any(np.diag(j) != 0):
                raise SpecError(f"{where}.coupling must be symmetric with a zero diagonal")

    @property
    def tau_s(self) -> float:
        return self.c_f / self.g0_s

    def potential(self, x: np.ndarray, b: float = 0.0) -> np.ndarray:
        """One unit's V(x) = J₂x² + J₄x⁴ + b·x (model units)."""
        return self.j2 * x**2 + self.j4 * x**4 + b * x


def node(i: int) -> str:
    return f"u{i + 1}"


def stationary(p: QuarticParams, b: float = 0.0):
    """Exact ⟨x⟩, Var x and the CDF of one uncoupled unit under ∝ exp(−V/kT), by quadrature (model units)."""
    x = np.linspace(-5, 5, 200_001)  # J₄x⁴ ≥ 625·J₄ beyond |x| = 5: the weight there is nil for kT ≲ 10·J₄
    w = np.exp(-(p.potential(x, b) - p.potential(x, b).min()) / p.kt)
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(x))])
    z = cum[-1]
    mean = np.trapezoid(x * w, x) / z
    var = np.trapezoid((x - mean) ** 2 * w, x) / z
    return float(mean), float(var), lambda xs: np.interp(xs, x, cum / z)


def _volts_cdf(cdf, v0: float, u: np.ndarray) -> np.ndarray:
    """A model-unit CDF evaluated at node voltages u = V₀·x."""
    return cdf(np.asarray(u) / v0)


@register("quartic", QuarticParams)
def build_quartic(p: QuarticParams) -> Built:
    n = p.size()
    v0, g0 = p.v_unit_v, p.g0_s
    bias = [float(b) for b in vector_param(p.bias, n, "bias", signed=True)]
    jm = np.zeros((n, n)) if p.coupling is None else np.asarray(p.coupling, float)
    after = switched(p, n, (p.j2, p.j4, np.asarray(bias)))
    circuit = Circuit("thermosim quartic")
    plan = NoisePlan()
    psd = 2 * p.kt * g0 * p.c_f * v0**2
    gate = f"(time>={p.couple_at_s!r}?1:0)"
    switch = p.couple_at_s > 0
    for i in range(n):
        u = node(i)
        plan.capacitor(circuit, str(i + 1), u, p.c_f)
        plan.white(u, None, psd, f"kT={p.kt:g}")
        x = f"(v({u})/{v0!r})"
        force = f"{2 * p.j2!r}*{x}+{4 * p.j4!r}*{x}*{x}*{x}+{bias[i]!r}"
        if after is not None:  # the trained per-unit values replace the untrained ones at the switch
            dj2, dj4, db = (float(a[i]) - float(b) for a, b in zip(after, (p.j2, p.j4, bias[i]), strict=True))
            terms = f"{2 * dj2!r}*{x}+{4 * dj4!r}*{x}*{x}*{x}+{db!r}"
            force += f"+{gate}*({terms})" if switch else f"+{terms}"
        circuit.raw_spice += f"Bf{i + 1} {u} 0 I={g0 * v0!r}*({force})\n"
    add_couplings(circuit, jm, g0, gate if switch else None)
    stages = staged_arrays(p, n, "circuit")
    if stages is not None:
        add_stages(circuit, stages, p, n, (p.j2, p.j4), g0, v0)
    if p.initial_x is not None:
        x0 = vector_param(p.initial_x, n, "initial_x", signed=True)
        circuit.raw_spice += ".ic " + " ".join(f"v({node(i)})={float(x0[i]) * v0!r}" for i in range(n)) + "\n"
    # exact theory for uncoupled units; coupled ones have none in closed form (NaN: measured, not judged
    # here — tests compare them with the Euler–Maruyama twin in thermosim.digital)
    coupled = bool(np.any(jm)) or after is not None or stages is not None
    mean, cov, cdfs = np.full(n, np.nan), np.full((n, n), np.nan), []
    if not coupled:
        cov = np.zeros((n, n))
        for i in range(n):
            m, var, cdf = stationary(p, bias[i])
            mean[i], cov[i, i] = m * v0, var * v0**2
            cdfs.append(functools.partial(_volts_cdf, cdf, v0))
    # fastest time scale: τ over the curvature V'' = 2J₂ + 12J₄x² where the quartic wall is met in
    # practice (x² = 3kT, beyond the thermal spread of every kT ≤ J₂ case); the step is a tenth of it
    curvature = 2 * p.j2 + 12 * p.j4 * 3 * p.kt
    info = {"tau_s": p.tau_s, "psd_a2_per_hz": psd, "coupled": coupled}
    return Built(
        circuit=circuit,
        noise=plan,
        variables=tuple(f"v({node(i)})" for i in range(n)) + sense_variables(p),
        theory=Theory(
            mean=mean,
            cov=cov,
            cdfs=tuple(cdfs),
            potential=functools.partial(potential_kt, p, np.asarray(bias), jm, after, stages),
        ),
        tau_fast_s=p.tau_s / curvature,
        tau_slow_s=p.tau_s / (2 * p.j2),
        info=info,
        energy=Energy(
            parameters=n + int(np.count_nonzero(np.triu(jm, 1))),
            kt_j=p.kt * p.c_f * v0**2,  # k·T_eff of the noise: s = 2·k·T_eff·g₀
        ),
    )


def check_switched(p, n: int, where: str) -> None:
    """The ``coupled_*`` keys: n values (or one), J₄ > 0 (V bounded below)."""
    for key in ("coupled_j2", "coupled_j4", "coupled_bias"):
        if getattr(p, key) is not None:
            vector_param(getattr(p, key), n, f"{where}.{key}", signed=key != "coupled_j4")


def switched(p, n: int, base: tuple):
    """(J₂, J₄, b) per unit in force from couple_at_s on — each ``coupled_*`` key of ``p``, or ``base`` where
    it is not set — or None when none is set."""
    keys = (p.coupled_j2, p.coupled_j4, p.coupled_bias)
    if all(k is None for k in keys):
        return None
    return tuple(
        np.broadcast_to(np.asarray(b, float), n) if k is None else vector_param(k, n, "coupled", signed=True)
        for k, b in zip(keys, base, strict=True)
    )


def add_couplings(
    circuit, jm: np.ndarray, g0: float, gate: str | None = None, ref: str | None = None
) -> None:
    """Couplings g₀J_ij as linear transconductors from unit j's voltage (relative to node ``ref``; ground
    if None) into node u_i. A G element costs far less per Newton step than a term in a B source, whose
    derivative ngspice differentiates symbolically. With ``gate`` (an expression of time, 0 or 1) they
    read gated copies of the unit voltages instead, one small B source per unit."""
    for j in np.flatnonzero(np.any(jm, axis=0)) if gate else ():
        v = f"v({node(j)})" if ref is None else f"(v({node(j)})-v({ref}))"
        circuit.raw_spice += f"Bg{j + 1} g{j + 1} 0 V={gate}*{v}\n"
    ctrl = [f"g{j + 1}" if gate else node(j) for j in range(len(jm))]
    units = [node(i) for i in range(len(jm))]
    circuit.raw_spice += dense.couple(g0 * jm, units, ctrl, "c", ref="0" if gate or ref is None else ref)


def potential_kt(
    p: QuarticParams, bias: np.ndarray, jm: np.ndarray, after, stages, u: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """V/kT of the network at node voltages u (rows; sense integrators after the units are ignored) and
    times t; switched terms count from couple_at_s, stage terms in their stage."""
    x = np.asarray(u, float)[:, : len(bias)] / p.v_unit_v
    v = (p.j2 * x**2 + p.j4 * x**4 + bias * x).sum(axis=1)
    on = np.asarray(t, float) >= p.couple_at_s
    if np.any(jm):
        v = v + on * 0.5 * np.einsum("ni,ij,nj->n", x, jm, x)
    if after is not None:
        j2, j4, b = after
        v = v + on * ((j2 - p.j2) * x**2 + (j4 - p.j4) * x**4 + (b - bias) * x).sum(axis=1)
    if stages is not None:
        v = v + staged_potential(stages, (p.j2, p.j4), x, t)
    return v / p.kt
