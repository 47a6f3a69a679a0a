"""Family ``cmos_pbit``: a noisy CMOS latch (two cross-coupled inverters) used as a probabilistic bit.

Circuit: inverter 1 drives node ``b`` from ``a``, inverter 2 drives ``a`` from ``b`` (NMOS ``wn_m``,
PMOS ``wp_m``, length ``l_m``, supply ``vdd_v``); each node has ``c_f`` to ground and a white noise
current (two-sided PSD 2·k·T·g_n, see the package docstring). The bias input is a current ``bias_a``
pushed into ``a`` and drawn from ``b`` (an ideal source: the DAC that would drive it is a programming
cost, not the supply's). State 1 means v(a) > v(b).

Read-out: x = v(a) − v(b) through a Schmitt trigger at ±``threshold_v`` (default VDD/3), so noise on a
settled state is not counted as switching. Reported: P(1) with its standard error from the integrated
autocorrelation time of the 0/1 series, that time, the dwell times, and the supply energy per independent
sample (``independent_samples`` = the 0/1 series' n_eff). Reference: the circuit is mirror-symmetric
(a ↔ b), so at zero bias P(1) = 1/2 exactly — checked within 3 SE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySpice.Spice.Netlist import Circuit

from ...analysis.pbit import binarize, pbit_stats
from ...analysis.stats import check
from ...errors import SpecError, positive
from ...physics import K_B
from ...spice.noise import NoisePlan
from ..built import Built, Energy, Supply, Theory
from ..registry import register
from .common import NoisyCmosParams, check_length, inline_card, report_section

METRICS = (
    "p1",
    "p1_se",
    "pbit_tau_int_s",
    "switch_rate_hz",
    "independent_samples",
    "supply_energy_per_sample_j",
)


@dataclass(frozen=True)
class PbitParams(NoisyCmosParams):
    wn_m: float = 1.5e-6  # width of both inverters' NMOS
    wp_m: float = 6e-6  # width of both inverters' PMOS
    l_m: float = 0.5e-6  # channel length of all four transistors (> 2·LD of both models)
    c_f: float = 100e-15  # capacitor from each node (a, b) to ground; the noise enters through it
    bias_a: float = 0.0  # bias current into node a, out of node b (any sign; 0: symmetric, P(1) = 1/2)
    # Schmitt read-out on v(a) − v(b): state 1 above +threshold, 0 below −threshold; default VDD/3
    threshold_v: float | None = None

    def validate(self, where: str) -> None:
        _, nmos, pmos = self.validate_cmos(where)
        for key in ("wn_m", "wp_m", "c_f"):
            positive(getattr(self, key), f"{where}.{key}")
        check_length(self.l_m, (nmos, pmos), f"{where}.l_m")
        if not np.isfinite(self.bias_a):
            raise SpecError(f"{where}.bias_a must be finite, got {self.bias_a!r}")
        if self.threshold_v is not None:
            positive(self.threshold_v, f"{where}.threshold_v")
            if self.threshold_v >= self.vdd_v:
                raise SpecError(
                    f"{where}.threshold_v = {self.threshold_v:g} V must be below vdd_v = {self.vdd_v:g} V"
                )


@register("cmos_pbit", PbitParams, METRICS, report=report_section)
def build_pbit(p: PbitParams) -> Built:
    card, nmos, pmos = p.devices()
    circuit = Circuit("thermosim cmos_pbit")
    inline_card(circuit, card)
    circuit.V("dd", "vdd", circuit.gnd, p.vdd_v)
    for k, (inp, out) in enumerate((("a", "b"), ("b", "a")), start=1):
        circuit.MOSFET(f"n{k}", out, inp, circuit.gnd, circuit.gnd, model=nmos.name, w=p.wn_m, l=p.l_m)
        circuit.MOSFET(f"p{k}", out, inp, "vdd", "vdd", model=pmos.name, w=p.wp_m, l=p.l_m)
    g_on = nmos.beta(p.wn_m, p.l_m) * (p.vdd_v - nmos.vt), pmos.beta(p.wp_m, p.l_m) * (p.vdd_v - pmos.vt)
    g_noise = p.noise_conductance_s or g_on[0]
    psd = 2 * K_B * p.noise_temperature_k * g_noise
    plan = NoisePlan()
    for name in ("a", "b"):
        plan.capacitor(circuit, name, name, p.c_f)
        plan.white(name, None, psd, f"{p.noise_temperature_k:g}K·{g_noise:.3g}S")
    if p.bias_a:
        circuit.I("bias", "b", "a", p.bias_a)
    threshold = p.threshold_v if p.threshold_v is not None else p.vdd_v / 3
    info = {
        "g_on_s": list(g_on),
        "noise_conductance_s": g_noise,
        "noise_rms_v": float(np.sqrt(K_B * p.noise_temperature_k / p.c_f)),  # √(kT/C) of one node
        "threshold_v": threshold,
        "bias_a": p.bias_a,
    }
    return Built(
        circuit=circuit,
        noise=plan,
        variables=("v(a)", "v(b)"),
        theory=Theory(
            mean=np.full(2, np.nan),  # no closed form: judged by symmetry and measured
            cov=np.full((2, 2), np.nan),
        ),
        tau_fast_s=p.c_f / sum(g_on),
        tau_slow_s=p.c_f / min(g_on),
        info=info,
        analyse=lambda x, dt: analyse_pbit(x, dt, threshold, p.bias_a),
        energy=Energy(
            supplies=(Supply("vdd", "vdd"),),
            parameters=1,  # the bias
            visible=1,  # one bit, v(a) > v(b)
        ),
    )


def analyse_pbit(samples: np.ndarray, dt: float, threshold: float, bias_a: float) -> tuple[dict, list]:
    """P(1), its SE and time scales from v(a) − v(b); at zero bias, the symmetry check P(1) = 1/2."""
    state = binarize(samples[:, 0] - samples[:, 1], -threshold, threshold)
    s = pbit_stats(state, dt)
    metrics = {
        "p1": s["p1"],
        "p1_se": s["p1_se"],
        "pbit_tau_int_s": s["tau_int_s"],
        "switches": s["switches"],
        "switch_rate_hz": s["switch_rate_hz"],
        "mean_dwell_s": s["mean_dwell_s"],
        "independent_samples": s["n_eff"],
    }
    checks = []
    if bias_a == 0:
        checks.append(check("p1_symmetry", s["p1"], 0.5, s["p1_se"]))
    return metrics, checks
