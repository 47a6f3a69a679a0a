"""Family ``cmos_quartic``: Whitelam's quartic neuron built from transistors.

Model units as in the behavioural ``quartic`` family (u = V₀·x about the reference ``vref``, τ = C/g₀,
noise PSD s = 2·kT·g₀·C·V₀²). The restoring current is made by a five-transistor OTA (NMOS pair M1/M2
with tail M5, PMOS mirror M3/M4) whose non-inverting input and output are both the unit's node, in
parallel with a resistor R to ``vref``. The pair's output current is softening,

    I_OTA(Δ) = g_m·Δ·√(1 − Δ²/(4V_ov²)) ≈ g_m·Δ − g_m/(8V_ov²)·Δ³        (square law, |Δ| ≤ √2·V_ov),

so the current leaving the node, Δ/R − I_OTA(Δ), is a linear term plus a *hardening* cubic: matching
it to g₀V₀(2J₂x + 4J₄x³) gives g_m = 32·J₄·g₀·V_ov²/V₀² and 1/R = 2·J₂·g₀ + g_m − g_out. The builder sizes
the devices by these square-law formulas (with channel-length modulation and body effect estimated at
the operating point); the realised J₂, J₄ and offset differ from the design by what the estimates miss.

Reference: this is a one-dimensional overdamped node with additive current noise, so its stationary
density is exact for ANY restoring current: p(u) ∝ exp((2C/s)·∫ I_in(u) du), with I_in(u) the DC current
the circuit pushes into the node. thermosim measures I_in(u) with an ngspice DC sweep of the same
transistors (``dc_netlist``) and judges the transient samples against that density (moments and KS).
Fitting J₂, J₄, b to the same curve gives the behavioural unit it stands for (reported, not judged).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ...analysis.theory import node_density
from ...errors import SpecError, positive
from ...spice.noise import NoisePlan
from ..built import Built, DcReference, Energy, Supply, Theory
from ..quartic import QuarticParams, stationary
from ..registry import register
from .common import CmosParams, Model, check_length, density_figures, inline_card, report_section

METRICS = (
    "j2_fit",
    "j4_fit",
    "bias_fit",
    "var_x_dc",
    "var_x_behavioural_fit",
    "var_x_behavioural_target",
    "independent_samples",
    "supply_energy_per_sample_j",
)
X_RANGE = 4.0  # the DC sweep covers x ∈ [−4, 4] model units around vref
DC_POINTS = 1601


@dataclass(frozen=True)
class CmosQuarticParams(CmosParams):
    # target J₂ of the unit's V = J₂x² + J₄x⁴ (model units, > 0): sets the resistor R; the square-law
    # sizing realises it only approximately (j2_fit reports the realised one)
    j2: float = 1.0
    j4: float = 1.0  # target J₄ (model units, > 0): sets the pair's g_m; j4_fit reports the realised one
    kt: float = 0.1  # temperature kT (model units): two-sided noise PSD 2·kT·g₀·C·V₀² at the node
    c_f: float = 1e-11  # capacitor C from the unit's node to ground; τ = C/g₀
    # conductance unit g₀ of the target current g₀V₀·∂V/∂x; τ = C/g₀ = 1 µs by default
    g0_s: float = 1e-5
    v_unit_v: float = 0.1  # V₀, the node voltage of one model unit: x = (u − vref)/V₀
    # V_ov of the input pair M1/M2 at balance (tail current I_ss = g_m·V_ov); default V₀, so that the
    # square-law cubic holds for x within ±√2
    pair_overdrive_v: float | None = None
    tail_overdrive_v: float = 0.2  # V_ov of the tail M5: sets its gate bias vbn = V_Tn + V_ov and its width
    # V_ov of the PMOS mirror M3/M4: sets its width and the default vref_v = VDD − V_Tp − V_ov (V_Tp the
    # PMOS threshold magnitude)
    mirror_overdrive_v: float = 0.3
    # the unit's rest voltage (x = 0): M2's gate and the resistor's far end; default: the mirror's diode
    # voltage (no systematic offset). Must lie in (0, VDD) and keep the tail in saturation
    vref_v: float | None = None
    l_m: float = 1e-6  # every device's length; widths follow from the design

    def validate(self, where: str) -> None:
        _, nmos, pmos = self.validate_cmos(where)
        for key in ("j2", "j4", "kt", "c_f", "g0_s", "v_unit_v", "tail_overdrive_v", "mirror_overdrive_v"):
            positive(getattr(self, key), f"{where}.{key}")
        if self.pair_overdrive_v is not None:
            positive(self.pair_overdrive_v, f"{where}.pair_overdrive_v")
        check_length(self.l_m, (nmos, pmos), f"{where}.l_m")
        d = design(self, nmos, pmos)
        if not 0 < d["vref"] < self.vdd_v:
            raise SpecError(
                f"{where}.vref_v = {d['vref']:g} V must lie between 0 and vdd_v = {self.vdd_v:g} V"
            )
        if d["v_tail"] < self.tail_overdrive_v:
            raise SpecError(
                f"{where}: vref_v = {d['vref']:g} V leaves the tail transistor out of saturation "
                f"(tail node {d['v_tail']:.2f} V < tail_overdrive_v = {self.tail_overdrive_v:g} V); "
                "raise vref_v"
            )

    @property
    def tau_s(self) -> float:
        return self.c_f / self.g0_s


def design(p: CmosQuarticParams, nmos: Model, pmos: Model) -> dict:
    """Square-law sizing of the OTA + resistor for the target J₂, J₄ (SI units; see the module docstring)."""
    v0, g0 = p.v_unit_v, p.g0_s
    vov = p.pair_overdrive_v if p.pair_overdrive_v is not None else v0
    gm = 32 * p.j4 * g0 * vov**2 / v0**2
    i_ss = gm * vov  # g_m of a square-law pair = I_ss/V_ov
    ln, lp = nmos.params.get("lambda", 0.0), pmos.params.get("lambda", 0.0)
    gamma, phi = nmos.params.get("gamma", 0.0), nmos.params.get("phi", 0.6)
    v_mirror = p.vdd_v - pmos.vt - p.mirror_overdrive_v
    # with the node at the mirror's diode voltage, M3/M4 (and M1/M2) see equal drain voltages at
    # balance: channel-length modulation then adds no systematic offset current
    vref = p.vref_v if p.vref_v is not None else v_mirror
    v_tail = vref - nmos.vt - vov
    for _ in range(50):  # body effect: V_T of M1/M2 rises with their source (the tail node) voltage
        v_tail = vref - (nmos.vt + gamma * (np.sqrt(phi + max(v_tail, 0.0)) - np.sqrt(phi))) - vov
    g_out = ln * i_ss / 2 + lp * i_ss / 2  # output conductance of M2 and M4 at the node
    r = 1 / (2 * p.j2 * g0 + gm - g_out)
    if r <= 0:
        r = np.inf
    beta = {
        "m1": i_ss / (vov**2 * (1 + ln * (v_mirror - v_tail))),
        "m3": i_ss / (p.mirror_overdrive_v**2 * (1 + lp * (p.vdd_v - v_mirror))),
        "m5": 2 * i_ss / (p.tail_overdrive_v**2 * (1 + ln * max(v_tail, 0.0))),
    }
    model = {"m1": nmos, "m3": pmos, "m5": nmos}
    # W = β·L_eff/k' (β = k'·W/L_eff)
    w_m = {d: b * (p.l_m - 2 * model[d].params.get("ld", 0.0)) / model[d].k_prime() for d, b in beta.items()}
    return {
        "vref": float(vref),
        "gm_s": gm,
        "i_ss_a": i_ss,
        "r_ohm": r,
        "pair_overdrive_v": vov,
        "v_tail": float(v_tail),
        "v_bias_tail": nmos.vt + p.tail_overdrive_v,
        "w_m": w_m,
    }


def _core(
    p: CmosQuarticParams, circuit, nmos: Model, pmos: Model, d: dict, unit: str = "", supplies=True
) -> None:
    """One unit's transistors and resistor on node ``u{unit}`` (no capacitor, no noise), and the bias
    sources vdd, vref, vbn unless ``supplies`` is False (a network shares one set)."""
    if supplies:
        circuit.V("dd", "vdd", circuit.gnd, p.vdd_v)
        circuit.V("ref", "vref", circuit.gnd, d["vref"])
        circuit.V("bn", "vbn", circuit.gnd, d["v_bias_tail"])
    w, length = d["w_m"], p.l_m
    u, m, t = f"u{unit}", f"m{unit}", f"t{unit}"
    circuit.MOSFET(f"1{unit}", m, u, t, circuit.gnd, model=nmos.name, w=w["m1"], l=length)  # + input
    circuit.MOSFET(f"2{unit}", u, "vref", t, circuit.gnd, model=nmos.name, w=w["m1"], l=length)  # output
    circuit.MOSFET(f"3{unit}", m, m, "vdd", "vdd", model=pmos.name, w=w["m3"], l=length)
    circuit.MOSFET(f"4{unit}", u, m, "vdd", "vdd", model=pmos.name, w=w["m3"], l=length)
    circuit.MOSFET(f"5{unit}", t, "vbn", circuit.gnd, circuit.gnd, model=nmos.name, w=w["m5"], l=length)
    if np.isfinite(d["r_ohm"]):
        circuit.R(f"lin{unit}", u, "vref", d["r_ohm"])


SUPPLIES = (Supply("vdd", "vdd"), Supply("vref", "vref"), Supply("vbn", "vbn"))


@register("cmos_quartic", CmosQuarticParams, METRICS, figures=density_figures, report=report_section)
def build_cmos_quartic(p: CmosQuarticParams) -> Built:
    card, nmos, pmos = p.devices()
    d = design(p, nmos, pmos)
    circuit = Circuit("thermosim cmos_quartic")
    inline_card(circuit, card)
    _core(p, circuit, nmos, pmos, d)
    plan = NoisePlan()
    psd = 2 * p.kt * p.g0_s * p.c_f * p.v_unit_v**2
    plan.capacitor(circuit, "u", "u", p.c_f)
    plan.white("u", None, psd, f"kT={p.kt:g}")
    circuit.raw_spice += f".ic v(u)={d['vref']!r}\n"

    dc = Circuit("thermosim cmos_quartic DC characteristic")
    inline_card(dc, card)
    _core(p, dc, nmos, pmos, d)
    dc.V("force", "u", dc.gnd, d["vref"])
    lo, hi = d["vref"] - X_RANGE * p.v_unit_v, d["vref"] + X_RANGE * p.v_unit_v
    step = (hi - lo) / (DC_POINTS - 1)
    dc_text = f"{str(dc).rstrip()}\n.save i(vforce)\n.dc vforce {lo!r} {hi!r} {step!r}\n.end\n"

    curvature = 2 * p.j2 + 12 * p.j4 * 3 * p.kt
    info = {
        **{k: getattr(p, k) for k in ("j2", "j4", "kt", "c_f", "g0_s", "v_unit_v")},
        "tau_s": p.tau_s,
        "psd_a2_per_hz": psd,
        "design": {k: (v if k != "w_m" else {dev: float(x) for dev, x in v.items()}) for k, v in d.items()},
    }
    return Built(
        circuit=circuit,
        noise=plan,
        variables=("v(u)",),
        theory=Theory(
            mean=np.full(1, np.nan),  # filled from the DC characteristic (``reference``)
            cov=np.full((1, 1), np.nan),
            reference=DcReference(netlist=dc_text, theory=functools.partial(dc_theory, p, d["vref"])),
        ),
        tau_fast_s=p.tau_s / curvature,
        tau_slow_s=p.tau_s / (2 * p.j2),
        info=info,
        energy=Energy(
            supplies=SUPPLIES,
            parameters=1,  # the reference voltage (J₂, J₄ are set by the sizing)
            kt_j=p.kt * p.c_f * p.v_unit_v**2,
        ),
    )


def dc_theory(p: CmosQuarticParams, vref: float, plot) -> tuple:
    """Exact stationary density of the node from its DC characteristic, and the fitted behavioural unit.

    I_in(u) = i(vforce) (the current the circuit pushes into the node flows on into the forcing source).
    log p(u) = (2C/s)·∫ I_in du (trapezoid on the sweep grid; the ends lie ≥ 4 model units out, where the
    weight is nil). Fit: I_in = −g₀V₀·(2J₂x + 4J₄x³ + b) by least squares over ±4 σ of that density.
    """
    u = np.asarray(plot.data[plot.names[0]], float)  # the swept source value (ngspice: "v(v-sweep)")
    i_in = np.asarray(plot["i(vforce)"], float)
    pdf, cum = node_density(u, i_in, p.c_f, 2 * p.kt * p.g0_s * p.c_f * p.v_unit_v**2)
    mean = np.trapezoid(u * pdf, u)
    var = np.trapezoid((u - mean) ** 2 * pdf, u)
    x = (u - vref) / p.v_unit_v
    sel = np.abs(u - mean) <= 4 * np.sqrt(var)  # where the samples are: ±4 σ of the exact density
    a = np.column_stack([2 * x[sel], 4 * x[sel] ** 3, np.ones(sel.sum())])
    (j2, j4, b), *_ = np.linalg.lstsq(a, -i_in[sel] / (p.g0_s * p.v_unit_v), rcond=None)
    cdf = functools.partial(np.interp, xp=u, fp=cum)
    # the behavioural units it is compared with: the fitted one and the design target (model units)
    fit = stationary(QuarticParams(j2=float(j2), j4=float(j4), kt=p.kt), float(b))
    target = stationary(QuarticParams(j2=p.j2, j4=p.j4, kt=p.kt))
    var_x = var / p.v_unit_v**2
    info = {
        "j2_fit": float(j2),
        "j4_fit": float(j4),
        "bias_fit": float(b),
        "var_x_dc": float(var_x),  # the transistor unit's exact variance (model units)
        "var_x_behavioural_fit": fit[1],
        "var_x_behavioural_target": target[1],
        # every 10th point of the characteristic, for the report's density figure
        "dc_characteristic": {"u_v": u[::10].tolist(), "i_in_a": i_in[::10].tolist()},
    }
    # V/kT = −ln p(u) (+ const), for the Sekimoto heat
    potential = functools.partial(_interp_potential, u, -np.log(np.maximum(pdf, 1e-300)))
    return np.array([mean]), np.array([[var]]), (cdf,), info, potential


def _interp_potential(grid: np.ndarray, v_kt: np.ndarray, u: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.interp(np.asarray(u, float)[:, 0], grid, v_kt)
