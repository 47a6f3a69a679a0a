"""Family ``cmos_network``: n transistor-level quartic units (``cmos_quartic``) with switched couplings.

Each unit is the five-transistor OTA ∥ R of :mod:`.cubic` on its own node ``u{i}`` (capacitor C, white
noise current of PSD 2·kT·g₀·C·V₀², x_i = (v(u_i) − vref)/V₀); all units share one set of bias sources
(vdd, vref, vbn: the declared supplies). From ``couple_at_s`` on, behavioural elements add what a trained
model asks beyond the units themselves: the couplings g₀J_ij (transconductors reading gated copies of
the unit voltages) and, per unit, the difference between the trained (J₂, J₄, b) and what the transistor
unit realises, ``unit_fit`` — measured from its DC characteristic by the caller (the cmos_quartic
reference run). Before the switch the units relax as the transistors make them: the circuit's own
uncoupled equilibrium.

Theory: none in closed form (coupled, non-polynomial); the generative module compares its samples with
the digital twin. Supply power counts the transistors' bias sources only: the behavioural couplings are
ideal elements whose cost the energy table lists as programming, not supply.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ...errors import SpecError
from ...spice.noise import NoisePlan
from ..built import Built, Energy, Theory
from ..quartic import add_couplings, check_switched, switched
from ..rc import Scalar_or_list, square_param
from ..registry import register
from ..staged import StagedTerms, add_stages, sense_variables, staged_arrays
from .common import inline_card
from .cubic import SUPPLIES, CmosQuarticParams, _core, design


@dataclass(frozen=True)
class CmosNetworkParams(CmosQuarticParams, StagedTerms):
    n: int = 2  # number of transistor units (1 … 4096), each a cmos_quartic unit on its own node
    # J_ij of the coupling term Σ_(i<j) J_ij x_i x_j (model units, any sign): n × n, symmetric, zero
    # diagonal; ideal transconductors g₀·J_ij, on from couple_at_s (from the first stage when staged)
    coupling: tuple[tuple[float, ...], ...] | None = None
    # time the couplings and the coupled_* corrections switch on (0: from the start; unused when staged)
    couple_at_s: float = 0.0
    # trained J₂ per unit from couple_at_s on (model units, any sign; one value or one per unit): a
    # behavioural source adds the difference from unit_fit; default: the unit as built
    coupled_j2: Scalar_or_list | None = None
    # trained J₄ per unit from couple_at_s on (model units, > 0; one value or one per unit), added the same
    # way
    coupled_j4: Scalar_or_list | None = None
    # trained b per unit from couple_at_s on (model units, any sign; one value or one per unit), added the
    # same way
    coupled_bias: Scalar_or_list | None = None
    # (J₂, J₄, b) one transistor unit realises, measured from its DC characteristic (cmos_quartic's
    # j2_fit, j4_fit, bias_fit): the corrections are taken relative to it; default: the design (j2, j4, 0)
    unit_fit: tuple[float, ...] | None = None

    def validate(self, where: str) -> None:
        super().validate(where)
        if not 1 <= self.n <= 4096:
            raise SpecError(f"{where}.n must be between 1 and 4096, got {self.n}")
        if self.coupling is not None and square_param(self.coupling, f"{where}.coupling").shape[0] != self.n:
            raise SpecError(f"{where}.coupling must be {self.n}×{self.n}")
        check_switched(self, self.n, where)
        coupled = [k for k in ("coupled_j2", "coupled_j4", "coupled_bias") if getattr(self, k) is not None]
        if staged_arrays(self, self.n, where) is not None and coupled:
            raise SpecError(f"{where}: give either the staged terms or {', '.join(coupled)}, not both")
        if self.unit_fit is not None and len(self.unit_fit) != 3:
            raise SpecError(f"{where}.unit_fit must be (J2, J4, b), got {self.unit_fit}")


@register("cmos_network", CmosNetworkParams)
def build_cmos_network(p: CmosNetworkParams) -> Built:
    card, nmos, pmos = p.devices()
    d = design(p, nmos, pmos)
    n, v0, g0, vref = p.n, p.v_unit_v, p.g0_s, d["vref"]
    circuit = Circuit("thermosim cmos_network")
    inline_card(circuit, card)
    plan = NoisePlan()
    psd = 2 * p.kt * p.g0_s * p.c_f * v0**2
    fit = p.unit_fit if p.unit_fit is not None else (p.j2, p.j4, 0.0)
    gate = f"(time>={p.couple_at_s!r}?1:0)"
    after = switched(p, n, fit)  # the trained per-unit values; the cells realise ``fit`` themselves
    stages = staged_arrays(p, n, "circuit")
    if stages is not None:  # staged: the cells are corrected to the ideal (J₂, J₄, 0) from stage 0 on
        gate = f"(time>={float(stages[0][0])!r}?1:0)"
        after = (np.full(n, p.j2), np.full(n, p.j4), np.zeros(n))
    for i in range(n):
        _core(p, circuit, nmos, pmos, d, unit=str(i + 1), supplies=i == 0)
        u = f"u{i + 1}"
        plan.capacitor(circuit, f"c{i + 1}", u, p.c_f)
        plan.white(u, None, psd, f"kT={p.kt:g}")
        dj2, dj4, db = (float(a[i]) - f for a, f in zip(after, fit, strict=True)) if after else (0, 0, 0)
        if any((dj2, dj4, db)):
            x = f"((v({u})-{vref!r})/{v0!r})"
            circuit.raw_spice += (
                f"Bx{i + 1} {u} 0 I={g0 * v0!r}*{gate}*({2 * dj2!r}*{x}+{4 * dj4!r}*{x}*{x}*{x}+{db!r})\n"
            )
    jm = np.zeros((n, n)) if p.coupling is None else np.asarray(p.coupling, float)
    add_couplings(circuit, jm, g0, gate, ref="vref")
    if stages is not None:
        add_stages(circuit, stages, p, n, (p.j2, p.j4), g0, v0, ref="vref")
    circuit.raw_spice += ".ic " + " ".join(f"v(u{i + 1})={vref!r}" for i in range(n)) + "\n"
    curvature = 2 * p.j2 + 12 * p.j4 * 3 * p.kt
    return Built(
        circuit=circuit,
        noise=plan,
        variables=tuple(f"v(u{i + 1})" for i in range(n)) + sense_variables(p),
        theory=Theory(np.full(n, np.nan), np.full((n, n), np.nan)),
        tau_fast_s=p.tau_s / curvature,
        tau_slow_s=p.tau_s / (2 * p.j2),
        info={"tau_s": p.tau_s, "vref_v": vref, "unit_fit": list(fit), "design_r_ohm": d["r_ohm"]},
        energy=Energy(
            supplies=SUPPLIES,
            parameters=n + int(np.count_nonzero(np.triu(jm, 1))),
            kt_j=p.kt * p.c_f * v0**2,
        ),
    )
