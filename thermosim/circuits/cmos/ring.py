"""Family ``cmos_ring``: coupled noisy CMOS ring oscillators.

Ring k (k = 1 … ``rings``) is ``stages`` inverters in a loop (odd count), nodes ``r{k}_{j}``, each with a
load capacitor ``load_f`` (one value, or one per ring: unequal loads detune the rings) and a white
noise current (two-sided PSD 2·k·T·g_n, see the package docstring). Neighbouring rings k, k+1 are coupled
node to node through a resistor of conductance ``coupling_s`` and/or a capacitor ``coupling_f`` (0 =
uncoupled). Ring k starts from v(r{k}_1) = 0 (odd k) or VDD (even k): the rings start in anti-phase, so
the run shows them lock (or not) from there; the burn-in drops the transient.

Read-out: the first node of each ring, rising crossings of VDD/2 with a VDD/5 hysteresis band → each
ring's frequency and period jitter; the phase difference of ring k to ring 1 → its circular mean, the
locking order parameter R = |⟨e^{iΔφ}⟩| (1 locked, ≈ 0 drifting), drift and diffusion; the supply power
and its hand estimate m·N·C·VDD²·f (the dynamic power of charging every load once per period, without the
short-circuit current and the transistors' own capacitances).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ...analysis.oscillator import ring_metrics
from ...analysis.stats import integrated_autocorr_time
from ...errors import SpecError, positive
from ...physics import K_B
from ...spice.noise import NoisePlan
from ..built import Built, Energy, Supply, Theory
from ..rc import Scalar_or_list, vector_param
from ..registry import register
from .common import EPS_OX, Model, NoisyCmosParams, check_length, inline_card, report_section

METRICS = (
    "frequency_hz",
    "frequency_se_hz",
    "period_jitter_s",
    "locking_r",
    "phase_diff_mean",
    "phase_diff_circstd",
    "phase_diff_drift_hz",
    "phase_diffusion_rad2_per_s",
    "independent_samples",
    "cv2f_power_w",
    "cv2f_device_power_w",
    "supply_energy_per_cycle_j",
    "supply_energy_per_sample_j",
)


@dataclass(frozen=True)
class RingParams(NoisyCmosParams):
    rings: int = 2  # number of rings (≥ 1), coupled in a chain: ring k to ring k + 1
    stages: int = 3  # inverters per ring (odd, ≥ 3)
    wn_m: float = 1.5e-6  # width of every inverter's NMOS
    wp_m: float = 6e-6  # width of every inverter's PMOS
    l_m: float = 0.5e-6  # channel length of every transistor (> 2·LD of both models)
    # load capacitor at every node to ground (one value, or one per ring: unequal loads detune the rings)
    load_f: Scalar_or_list = 100e-15
    coupling_s: float = 0.0  # conductance from each node of ring k to the same node of ring k + 1 (0: none)
    coupling_f: float = 0.0  # capacitor from each node of ring k to the same node of ring k + 1 (0: none)

    def validate(self, where: str) -> None:
        _, nmos, pmos = self.validate_cmos(where)
        if self.rings < 1:
            raise SpecError(f"{where}.rings must be >= 1, got {self.rings}")
        if self.stages < 3 or self.stages % 2 == 0:
            raise SpecError(f"{where}.stages must be odd and >= 3 (an even ring latches), got {self.stages}")
        for key in ("wn_m", "wp_m"):
            positive(getattr(self, key), f"{where}.{key}")
        check_length(self.l_m, (nmos, pmos), f"{where}.l_m")
        vector_param(self.load_f, self.rings, f"{where}.load_f", what="rings")
        positive(self.coupling_s, f"{where}.coupling_s", allow_zero=True)
        positive(self.coupling_f, f"{where}.coupling_f", allow_zero=True)


def ring_node(k: int, j: int) -> str:
    return f"r{k + 1}_{j + 1}"


@register("cmos_ring", RingParams, METRICS, report=report_section)
def build_ring(p: RingParams) -> Built:
    card, nmos, pmos = p.devices()
    loads = vector_param(p.load_f, p.rings, "load_f")
    circuit = Circuit("thermosim cmos_ring")
    inline_card(circuit, card)
    circuit.V("dd", "vdd", circuit.gnd, p.vdd_v)
    g_on = nmos.beta(p.wn_m, p.l_m) * (p.vdd_v - nmos.vt), pmos.beta(p.wp_m, p.l_m) * (p.vdd_v - pmos.vt)
    g_noise = p.noise_conductance_s or g_on[0]
    psd = 2 * K_B * p.noise_temperature_k * g_noise
    plan = NoisePlan()
    ics = []
    for k in range(p.rings):
        for j in range(p.stages):
            inp, out = ring_node(k, j), ring_node(k, (j + 1) % p.stages)
            name = f"{k + 1}_{j + 1}"
            circuit.MOSFET(f"n{name}", out, inp, circuit.gnd, circuit.gnd, model=nmos.name, w=p.wn_m, l=p.l_m)
            circuit.MOSFET(f"p{name}", out, inp, "vdd", "vdd", model=pmos.name, w=p.wp_m, l=p.l_m)
            plan.capacitor(circuit, name, inp, loads[k])
            plan.white(inp, None, psd, f"{p.noise_temperature_k:g}K·{g_noise:.3g}S")
            if k + 1 < p.rings:
                if p.coupling_s > 0:
                    circuit.R(f"c{name}", inp, ring_node(k + 1, j), 1 / p.coupling_s)
                if p.coupling_f > 0:
                    circuit.C(f"c{name}", inp, ring_node(k + 1, j), p.coupling_f)
        ics.append(f"v({ring_node(k, 0)})={0.0 if k % 2 == 0 else p.vdd_v!r}")
    circuit.raw_spice += ".ic " + " ".join(ics) + "\n"
    # square-law estimates: the fastest node time constant, and the period 2·N·t_pd with
    # t_pd ≈ 0.69·C/g_on averaged over the rise and fall (only for the automatic step and burn-in)
    c_max = float(loads.max())
    tau_fast = float(loads.min()) / sum(g_on)
    period = 2 * p.stages * 0.69 * c_max * 0.5 * (1 / g_on[0] + 1 / g_on[1])
    info = {
        "g_on_s": list(g_on),
        "noise_conductance_s": g_noise,
        "noise_rms_v": float(np.sqrt(K_B * p.noise_temperature_k / c_max)),
        "period_estimate_s": period,
        "load_f": loads.tolist(),
    }
    c_dev = device_cap_f(p, nmos, pmos)
    info["device_cap_f"] = c_dev
    observed = tuple(f"v({ring_node(k, 0)})" for k in range(p.rings))
    return Built(
        circuit=circuit,
        noise=plan,
        variables=observed,
        theory=Theory(np.full(p.rings, np.nan), np.full((p.rings, p.rings), np.nan)),
        tau_fast_s=tau_fast,
        tau_slow_s=20 * period,  # automatic burn-in: 200 periods for start-up and locking
        info=info,
        analyse=lambda x, dt: analyse_rings(
            x,
            dt,
            p.vdd_v,
            p.stages * float(loads.sum()) * p.vdd_v**2,
            p.stages * p.rings * c_dev * p.vdd_v**2,
        ),
        energy=Energy(
            supplies=(Supply("vdd", "vdd"),),
            visible=max(1, p.rings - 1),  # phase differences to ring 1 (a ring's frequency when alone)
            parameters=(p.rings - 1) * p.stages * ((p.coupling_s > 0) + (p.coupling_f > 0)),
        ),
    )


def device_cap_f(p: RingParams, nmos: Model, pmos: Model) -> float:
    """First-order switched capacitance a stage's transistors add to each node (F), for the hand estimate
    of the supply power: the next stage's gate (C_ox·W·L_eff plus both overlaps) and the driving stage's
    gate-drain overlap counted twice (Miller: its gate swings opposite to its drain); junction areas are
    not given, so no diffusion capacitance. (The textbook load model, e.g. Rabaey, *Digital Integrated
    Circuits*, 2nd ed., 2003, ch. 5.)"""
    total = 0.0
    for m, w in ((nmos, p.wn_m), (pmos, p.wp_m)):
        cox = EPS_OX / m.params.get("tox", 1e-7)
        l_eff = p.l_m - 2 * m.params.get("ld", 0.0)
        cgso, cgdo = m.params.get("cgso", 0.0), m.params.get("cgdo", 0.0)
        total += cox * w * l_eff + (cgso + cgdo) * w + 2 * cgdo * w
    return total


def analyse_rings(
    samples: np.ndarray, dt: float, vdd: float, cv2: float, cv2_dev: float
) -> tuple[dict, list]:
    """Frequency, jitter and phase locking of the rings (first node of each), and C·V²·f."""
    r = ring_metrics(samples, dt, level=vdd / 2, hysteresis=vdd / 5)
    metrics = {
        "frequency_hz": float(r["frequency_hz"][0]),
        "frequency_se_hz": float(r["frequency_se_hz"][0]),
        "frequency_by_ring_hz": r["frequency_hz"].tolist(),
        "period_jitter_s": float(r["period_jitter_s"][0]),
        "cycles": float(np.sum(r["n_periods"])),
        "cv2f_power_w": cv2 * float(np.mean(r["frequency_hz"])),
        # the same with the transistors' own switched capacitance added (device_cap_f)
        "cv2f_device_power_w": (cv2 + cv2_dev) * float(np.mean(r["frequency_hz"])),
    }
    if samples.shape[1] > 1:  # ring 2 against ring 1
        for key in (
            "locking_r",
            "locking_r_se",
            "phase_diff_mean",
            "phase_diff_mean_se",
            "phase_diff_circstd",
            "phase_diff_drift_hz",
            "phase_diffusion_rad2_per_s",
        ):
            metrics[key] = float(r[key][0])
        phi = r["phase_diff"][:, 0]
        thin = max(1, len(phi) // 200_000)
        # independent phase-difference samples: the slower of cos Δφ and sin Δφ sets the correlation time
        tau = max(
            integrated_autocorr_time(np.cos(phi), thin=thin), integrated_autocorr_time(np.sin(phi), thin=thin)
        )
        metrics["independent_samples"] = len(phi) / tau
        metrics["phase_diff_hist"] = np.histogram(phi, bins=36, range=(-np.pi, np.pi))[0].tolist()
    return metrics, []
