"""Energy of a sampling run, term by term (pure numpy, SI units; no SPICE imports).

Every line of the table names its unit, what it is per, and its source (a measurement, a cited figure or
a stated estimate); terms are never silently summed. The power that noise sources deliver is not a cost
and never appears (docs/architecture.md: a parallel noise current exchanges ≈ kT/τ with its resistor, a series
noise voltage's power grows without bound as its step shrinks).

Published figures used as defaults (each overridable in a spec's ``[energy]`` table):

* ADC: Walden figure of merit 2.2 fJ per conversion step — the 10/12-bit SAR ADC of P. Harpe,
  E. Cantatore and A. van Roermund (ISSCC 2013), then the record in B. E. Jonsson's ADC survey.
  Energy per conversion = FOM·2^bits.
* Programming: a binary-weighted capacitor DAC charging its whole array once per written value,
  E = 2^bits·C_unit·V² (an estimate, not a citation; C_unit = 1 fF and V = 1 V by default).
* Bound: Landauer's kT·ln 2 per bit of output (R. Landauer, IBM J. Res. Dev. 5, 183, 1961).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..physics import K_B

ADC_FOM_J = 2.2e-15  # J per conversion step (Harpe, Cantatore, van Roermund, ISSCC 2013)
ADC_SOURCE = "Walden FOM 2.2 fJ/conv-step (Harpe et al., ISSCC 2013) × 2^bits"


def supply_power(t: np.ndarray, v: np.ndarray, i: np.ndarray, t_from_s: float = 0.0) -> float:
    """Mean power delivered by a source over t ≥ t_from_s: P = −(1/T)∫ v·i dt (W).

    ``i`` is the current into the source's + terminal (ngspice's convention), so a source delivering power
    has v·i < 0. The integral is the trapezoid rule on the simulator's own time points (exact for the
    piecewise-linear waveforms ngspice interpolates between them). Cost O(n).
    """
    t, v, i = (np.asarray(a, float) for a in (t, v, i))
    keep = t >= t_from_s
    if keep.sum() < 2:
        raise ValueError(f"supply_power: fewer than 2 time points after t = {t_from_s:g} s")
    t, p = t[keep], -(v * i)[keep]
    return float(np.trapezoid(p, t) / (t[-1] - t[0]))


def sekimoto_heat(
    x: np.ndarray, t: np.ndarray, potential: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> dict:
    """Heat released to the bath along one overdamped trajectory, in units of kT (Sekimoto).

    ``potential(x, t)`` is V/kT for the rows of ``x`` (shape (n, d)) at times ``t``. With the work done by
    changing parameters at fixed state, W = Σ_k [V(x_k, t_{k+1}) − V(x_k, t_k)], the first law gives the
    heat released Q = V(x_0, t_0) − V(x_f, t_f) + W. For a time-independent potential W = 0 and
    Q = V(x_0) − V(x_f), whose mean vanishes in a stationary state. Cost: two potential evaluations over
    the trajectory; two points for a potential marked time-independent (``potential.static = True``).
    """
    x, t = np.asarray(x, float), np.asarray(t, float)
    if x.ndim == 1:
        x = x[:, None]
    if getattr(potential, "static", False):
        ends = potential(x[[0, -1]], t[[0, -1]])
        return {"heat_kt": float(ends[0] - ends[1]), "work_kt": 0.0}
    v_now = potential(x, t)
    v_next = potential(x[:-1], t[1:])
    work = float(np.sum(v_next - v_now[:-1]))
    return {"heat_kt": float(v_now[0] - v_now[-1] + work), "work_kt": work}


def gaussian_potential(mean: np.ndarray, cov: np.ndarray) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """V/kT = ½(x − m)ᵀΣ⁻¹(x − m) of a Gaussian stationary law (kT at its effective temperature)."""
    prec = np.linalg.inv(np.asarray(cov, float))
    m = np.asarray(mean, float)

    def v(x: np.ndarray, t: np.ndarray) -> np.ndarray:
        y = np.asarray(x, float) - m
        return 0.5 * np.einsum("ni,ij,nj->n", y, prec, y)

    v.static = True  # no time dependence: the heat needs the trajectory's two ends only
    return v


def row(term: str, value: float, unit: str, per: str, source: str) -> dict:
    return {"term": term, "value": float(value), "unit": unit, "per": per, "source": source}


def energy_table(
    *,
    supply_j: float,
    supplies: list[str],
    window_s: float,
    samples: float,
    heat_kt: float | None,
    heat_note: str,
    kt_j: float,
    visible: int,
    parameters: int,
    temperature_k: float = 300.0,
    adc_bits: int = 8,
    adc_fom_j: float = ADC_FOM_J,
    program_bits: int = 8,
    dac_unit_cap_f: float = 1e-15,
    dac_v: float = 1.0,
    samples_per_write: float | None = None,
) -> list[dict]:
    """The energy rows of one run: {term, value, unit, per, source}; SI units (J, W) and kT.

    ``supply_j`` is the supply energy over the analysis window of ``window_s`` seconds holding ``samples``
    independent samples; ``heat_kt`` the Sekimoto heat over the same window (None: not defined, say why in
    ``heat_note``) and ``kt_j`` its unit in joules; ``visible`` the values read out per sample,
    ``parameters`` the programmable values; ``temperature_k`` the physical temperature of the bound.
    """
    kt = K_B * temperature_k
    per_write = samples if samples_per_write is None else samples_per_write
    supply_src = (
        f"−∫V·I dt of {', '.join(supplies)} from the raw data" if supplies else "no supply sources (passive)"
    )
    adc_j = visible * adc_fom_j * 2**adc_bits
    write_j = parameters * 2**program_bits * dac_unit_cap_f * dac_v**2
    dac_src = f"capacitor DAC estimate 2^{program_bits}·{dac_unit_cap_f:g} F·({dac_v:g} V)² per value"
    rows = [
        row("supply", supply_j, "J", "run", supply_src),
        row("supply", supply_j / window_s, "W", "simulated second", supply_src),
        row("supply", supply_j / samples, "J", "independent sample", supply_src),
    ]
    if heat_kt is not None:
        rows += [
            row("heat", heat_kt, "kT", "run", heat_note),
            row("heat", heat_kt / samples, "kT", "independent sample", heat_note),
            row(
                "heat",
                heat_kt * kt_j / samples,
                "J",
                "independent sample",
                f"{heat_note}; kT = {kt_j:.3g} J (T = {kt_j / K_B:.3g} K, the noise's temperature)",
            ),
        ]
    rows += [
        row(
            "readout",
            adc_j,
            "J",
            "independent sample",
            f"{visible} × {adc_bits}-bit conversions, {ADC_SOURCE}",
        ),
        row("programming", write_j, "J", "write", f"{parameters} programmable value(s), {dac_src}"),
        row(
            "programming",
            write_j / per_write if per_write else math.nan,
            "J",
            "independent sample",
            f"one write amortised over {per_write:.4g} samples",
        ),
        row(
            "bound",
            visible * adc_bits * kt * math.log(2),
            "J",
            "independent sample",
            f"Landauer kT·ln 2 × {visible * adc_bits} output bits at {temperature_k:g} K",
        ),
    ]
    return rows


def stationary_heat_se(rows: list[dict], d: int) -> float | None:
    """SE [J per independent sample] of the Sekimoto heat line of a stationary window: Q = V(x₀) − V(x_f)
    of two independent states has Var Q = 2·Var(V/kT)·kT² = d·kT² for a d-variable Gaussian law (less
    for quartic walls), so SE = √d·kT per window, divided by the window's independent samples."""
    run = next((r["value"] for r in rows if r["term"] == "heat" and r["per"] == "run"), None)
    per = next((r for r in rows if r["term"] == "heat" and r["unit"] == "J"), None)
    if not run or per is None:
        return None
    return float(np.sqrt(d) * abs(per["value"] / run))  # per-sample J / window kT = kT [J] / samples
