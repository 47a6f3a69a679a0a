"""Family ``rlc``: the SPU cell — LC resonators coupled through capacitors, with loss and noise.

Cell i: node ``n{i}`` with capacitance ``c_f`` to ground, inductor ``l_h`` to ground (``l{i}``, optional
series resistance ``r_series_ohm``), parallel resistor ``r_parallel_ohm``; cells are coupled by
capacitors ``coupling_f`` (symmetric, ≥ 0). State x = (v, i) with the Maxwell capacitance matrix C:

    C dv = −G_p v dt − i dt + dQ        L di = v dt − R_s i dt

so A = [[C⁻¹G_p, C⁻¹], [−L⁻¹, L⁻¹R_s]] (non-normal) and D = blockdiag(C⁻¹ S C⁻¹, 0).

``precision`` compiles a target precision matrix P of the voltages into C = c_unit·P: off-diagonals
become coupling capacitors −c_unit·P_ij (so P_ij must be ≤ 0: a positive one would need a negative
capacitor) and the row sums become the capacitors to ground (so every row must sum to > 0). In thermal
equilibrium Σv = kT·C⁻¹ = (kT/c_unit)·P⁻¹, Σi = kT·L⁻¹, v ⟂ i.

Noise enters as currents at the nodes (the SPU's noise current): ``thermal`` puts the Johnson noise of
each parallel resistor at ``temperature_k``; ``injected`` the Johnson level of each parallel resistor at
``noise_temperature_k`` with noiseless resistors. A series resistance would need a noise voltage in the
inductor branch, which this family does not place: it is accepted only with injected noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ..analysis.theory import GENERAL_MAX_STATES, time_scales
from ..errors import SpecError, positive
from ..physics import K_B, johnson_current_psd
from ..spice.noise import NoisePlan
from . import nonideal
from .built import Built, Energy, Theory
from .rc import (
    Scalar_or_list,
    checked_size,
    coupling_param,
    node,
    required,
    square_param,
    validate_noise,
    vector_param,
)
from .registry import register


@dataclass(frozen=True)
class RLCParams(nonideal.NonIdeal):  # + the non-ideality keys (circuits/nonideal.py)
    # number of cells; optional when precision, coupling_f or a per-cell c_f / l_h / r_parallel_ohm list
    # implies it; must agree with them when given
    n: int | None = None
    # capacitor from each cell's node to ground (one value or one per cell); required unless precision is
    # given
    c_f: Scalar_or_list | None = None
    l_h: Scalar_or_list = 1e-6  # inductor from each cell's node to ground (one value or one per cell)
    # loss resistor from each cell's node to ground (one value or one per cell); its Johnson level sets the
    # node's noise
    r_parallel_ohm: Scalar_or_list = 1e3
    # resistance in series with each inductor (one value or one per cell; default none); noise = "injected"
    # only, since its noise voltage is not placed
    r_series_ohm: Scalar_or_list | None = None
    # n × n coupling capacitors between cells: symmetric, ≥ 0, zero diagonal (explicit form)
    coupling_f: tuple[tuple[float, ...], ...] | None = None
    # target precision matrix P of the node voltages, compiled into the Maxwell capacitance matrix
    # C = c_unit·P: off-diagonals → coupling capacitors −c_unit·P_ij (so P_ij ≤ 0), row sums → capacitors
    # to ground (so each row sums to > 0); Σv = (kT/c_unit)·P⁻¹. Excludes c_f and coupling_f
    precision: tuple[tuple[float, ...], ...] | None = None
    c_unit_f: float = 1e-9  # capacitance unit of a precision matrix: C = c_unit·P
    # "thermal": Johnson noise of each parallel resistor at temperature_k; "injected": a white current at
    # each node at the nominal parallel resistor's Johnson level at noise_temperature_k
    noise: Literal["thermal", "injected"] = "thermal"
    temperature_k: float = 300.0  # temperature of the parallel resistors' noise (noise = "thermal" only)
    # effective temperature of the injected noise (required with noise = "injected", refused otherwise)
    noise_temperature_k: float | None = None

    def size(self) -> int:
        for m in (self.precision, self.coupling_f):
            if m is not None:
                return len(m)
        for v in (self.c_f, self.l_h, self.r_parallel_ohm):
            if isinstance(v, tuple):
                return len(v)
        return self.n if self.n is not None else 1

    def capacitance(self) -> np.ndarray:
        """The Maxwell capacitance matrix C (F)."""
        n = self.size()
        if self.precision is not None:
            return self.c_unit_f * np.asarray(self.precision, float)
        cc = np.zeros((n, n)) if self.coupling_f is None else np.asarray(self.coupling_f, float)
        return np.diag(vector_param(self.c_f, n, "c_f") + cc.sum(1)) - cc

    def validate(self, where: str) -> None:
        n = checked_size(self, where)
        if 2 * n > GENERAL_MAX_STATES:  # (v, i) per resonator; the drift is not symmetric
            raise SpecError(
                f"{where}.n = {n} resonators is more than {GENERAL_MAX_STATES // 2}: the exact theory of "
                f"{2 * n} states (voltages and currents: a nonsymmetric drift, O(n³)) takes tens of minutes"
            )
        vector_param(self.l_h, n, f"{where}.l_h")
        vector_param(self.r_parallel_ohm, n, f"{where}.r_parallel_ohm")
        if self.r_series_ohm is not None:
            vector_param(self.r_series_ohm, n, f"{where}.r_series_ohm")
            if self.noise == "thermal":
                raise SpecError(
                    f'{where}.r_series_ohm needs noise = "injected": the family places noise '
                    "currents at the nodes, not the series resistor's noise voltage"
                )
        if self.precision is not None:
            if self.c_f is not None or self.coupling_f is not None:
                raise SpecError(f"{where}.precision excludes c_f and coupling_f (they are compiled from it)")
            p = square_param(self.precision, f"{where}.precision")
            if not np.allclose(p, p.T, rtol=1e-12, atol=0):
                raise SpecError(f"{where}.precision must be symmetric")
            i, j = np.unravel_index(np.argmax(p - np.diag(np.diag(p))), p.shape)
            if i != j and p[i, j] > 0:
                raise SpecError(
                    f"{where}.precision[{i}][{j}] = {p[i, j]:g} > 0 cannot be realised with passive "
                    "coupling capacitors (it would need a negative capacitance)"
                )
            rows = p.sum(1)
            if rows.min() <= 0:
                k = int(np.argmin(rows))
                raise SpecError(
                    f"{where}.precision row {k} sums to {rows[k]:g} <= 0: cell {k}'s capacitance to "
                    "ground would not be positive"
                )
            positive(self.c_unit_f, f"{where}.c_unit_f")
        else:
            vector_param(required(self, "c_f", where), n, f"{where}.c_f")
            if self.coupling_f is not None:
                coupling_param(self.coupling_f, n, f"{where}.coupling_f", "capacitors between cells")
        validate_noise(self, where)
        nonideal.validate(self, n, where)


@register("rlc", RLCParams)
def build_rlc(p: RLCParams) -> Built:
    n = p.size()
    cm = p.capacitance()
    if p.mismatch_sigma > 0:  # each ground and coupling capacitor is its own part
        coupling = -(cm - np.diag(np.diag(cm))) * np.triu(nonideal.factors(p, "coupling", (n, n)), 1)
        coupling = coupling + coupling.T
        ground = cm.sum(1) * nonideal.factors(p, "c", n)
        cm = np.diag(ground + coupling.sum(1)) - coupling
    ground = cm.sum(1)  # capacitance of each node to ground
    l_h = vector_param(p.l_h, n, "l_h") * nonideal.factors(p, "l", n)
    r_p_nominal = vector_param(p.r_parallel_ohm, n, "r_parallel_ohm")
    r_p = r_p_nominal * nonideal.factors(p, "r", n)
    r_s = np.zeros(n) if p.r_series_ohm is None else vector_param(p.r_series_ohm, n, "r_series_ohm")
    r_s = r_s * nonideal.factors(p, "r_series", n)
    t_noise = nonideal.noise_temperature(
        p, p.temperature_k if p.noise == "thermal" else p.noise_temperature_k
    )
    circuit = Circuit("thermosim rlc")
    plan = NoisePlan()
    filtered = []  # (node index, psd) of noise to pass through the bandwidth filter
    for i in range(n):
        plan.capacitor(circuit, str(i + 1), node(i), ground[i])
        circuit.R(str(i + 1), node(i), circuit.gnd, r_p[i])
        if p.noise_bandwidth_hz is not None:
            filtered.append((i, johnson_current_psd(r_p_nominal[i], t_noise)))
        else:  # thermal: the actual resistor's noise; injected: the nominal resistor's level
            plan.johnson(node(i), None, r_p[i] if p.noise == "thermal" else r_p_nominal[i], t_noise)
        if r_s[i] > 0:
            circuit.L(str(i + 1), node(i), f"s{i + 1}", l_h[i])
            circuit.R(f"s{i + 1}", f"s{i + 1}", circuit.gnd, r_s[i])
        else:
            circuit.L(str(i + 1), node(i), circuit.gnd, l_h[i])
        for j in range(i + 1, n):
            if cm[i, j] != 0:
                circuit.C(f"{i + 1}_{j + 1}", node(i), node(j), -cm[i, j])
    cp = nonideal.place_parasitics(circuit, p, n, node)
    g_b = [
        nonideal.place_filtered_noise(circuit, plan, p, node(i), i + 1, psd, ground[i]) for i, psd in filtered
    ]
    c_full, g_full = cm + np.diag(cp), np.diag(1.0 / r_p)
    if g_b:
        c_full, g_full = nonideal.with_filter(
            c_full, g_full, np.array([ground[i] for i, _ in filtered]), np.array(g_b)
        )
    a = nonideal.drift_matrix(c_full, g_full, l_h, r_s)
    keep = list(range(n)) + list(range(len(c_full), len(c_full) + n))  # node voltages, inductor currents
    tau_fast, tau_slow = time_scales(a)

    def theory() -> Theory:  # called while ngspice runs
        cov_full = nonideal.linear_theory(c_full, g_full, plan.node_psd(), l_h, r_s)[0]
        return Theory(np.zeros(2 * n), cov_full[np.ix_(keep, keep)])

    info = {
        "f0_hz": float(np.abs(np.linalg.eigvals(a[np.ix_(keep, keep)])).max() / (2 * np.pi)),
        "coupling_capacitors": int(np.count_nonzero(np.triu(cm, 1))),
    }
    if nonideal.active(p):  # theory stays the nominal circuit's; the circuit as built goes to info
        info["actual"] = {"cov": theory().cov.tolist(), "mean": np.zeros(2 * n).tolist()}
        theory = build_rlc(nonideal.ideal(p)).law
    return Built(
        circuit=circuit,
        noise=plan,
        variables=tuple(f"v({node(i)})" for i in range(n)) + tuple(f"i(l{i + 1})" for i in range(n)),
        theory=theory,
        tau_fast_s=tau_fast,
        tau_slow_s=tau_slow,
        info=info,
        linear=True,
        energy=Energy(
            parameters=int(np.count_nonzero(np.triu(cm))),
            kt_j=K_B * t_noise,
        ),
    )
