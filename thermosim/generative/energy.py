"""Energy per generated sample, line by line, and the class bits of unconditional generation.

Lines (J per sample unless stated; each names its source):

* heat — Sekimoto heat (kT, and J at 300 K): relaxations plus the work of every switch;
* bank switching — C_sw·V² per switch toggle: each stage change opens the 64 gates of the leaving bank
  and closes the 64 of the arriving one; the trained terms switch on once and off once; the class bank
  selects one of ten bias sources per unit (on and off): 128·(K + 2) toggles. C_sw = 1 fF, V = 1 V
  (a minimum transmission gate; an estimate, not a citation);
* read-out, integrator — each of the 64 sense capacitors charged to at most the full scale and reset,
  C_q·V_fs², plus the mirror's supply |i|·T_w·V_dd with |i| ≤ g₀V₀·drive (an upper estimate);
* read-out, ADC — 64 conversions (the shared energy table's Walden-FOM line);
* programming — every stage's values written once (the shared table's DAC line), amortised over the
  samples of one write;
* class bits — bits drawn per sample × energy per bit: a counted digital RNG (rejection sampling of
  4-bit words: 4·16/10 = 6.4 bits per class on average), at an estimated 0.02 pJ per bit (xorshift128+:
  about 8 64-bit integer operations per 64 bits at 0.2 pJ each — twice Horowitz's 0.1 pJ 32-bit add,
  ISSCC 2014), or the thermal p-bit (``cmos_pbit``) at its measured supply energy per independent bit.
"""

from __future__ import annotations

import numpy as np

from ..analysis.energy import energy_table, row
from ..physics import K_B
from .model import N_VISIBLE, Model

ROOM_K = 300.0
SWITCH_C_F = 1e-15
SWITCH_V = 1.0
VDD_V = 1.0
RNG_J_PER_BIT = 8 * 0.2e-12 / 64
BITS_PER_WORD = 4


def classes_from_bits(bits: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Up to n classes from a 0/1 stream: 4-bit words (most significant first), values ≥ 10 rejected.
    Returns (classes, bits used); fewer than n classes when the stream runs out."""
    words = np.asarray(bits[: len(bits) // BITS_PER_WORD * BITS_PER_WORD], int).reshape(-1, BITS_PER_WORD)
    values = words @ (2 ** np.arange(BITS_PER_WORD - 1, -1, -1))
    keep = np.flatnonzero(values < 10)[:n]
    used = (keep[-1] + 1) * BITS_PER_WORD if len(keep) else len(words) * BITS_PER_WORD
    return values[keep], int(used)


def draw_classes(n: int, seed: int) -> tuple[np.ndarray, int]:
    """n classes uniform on 0…9 from a counted digital RNG: 4-bit words, values ≥ 10 rejected.

    Returns (classes, bits used). Bit-identical for a seed (numpy's PCG64, ``default_rng([seed, 16])``).
    """
    rng = np.random.default_rng([seed, 16])
    out, bits = [], 0
    while len(out) < n:
        for w in rng.integers(0, 2**BITS_PER_WORD, 2 * (n - len(out)) + 8):
            bits += BITS_PER_WORD
            if w < 10:
                out.append(int(w))
                if len(out) == n:
                    break
    return np.array(out), bits


def pbit_classes(n: int, seed: int) -> tuple[np.ndarray, int, float]:
    """n classes from the thermal p-bit (family ``cmos_pbit``, spec ``circuits/pbit.toml``) in ngspice.

    The latch state v(a) > v(b) (Schmitt read-out) is taken every 3 integrated autocorrelation times, so
    successive bits are nearly independent; the run is extended until the words give n classes. Returns
    (classes, bits used, supply energy per bit in J = the run's supply energy / bits taken).
    Cost: about 8 ms of ngspice CPU per bit (≈ 20 s for 360 classes).
    """
    import dataclasses
    import tempfile
    from pathlib import Path

    from ..analysis.pbit import binarize
    from ..runs.experiment import prepare, simulate
    from ..runs.spec import load_spec

    spec = load_spec("pbit")
    # the shipped 6 µs run holds about 1000 bits at 3 τ_int apart; 1.4× the 6.4 bits a class needs on average
    t_stop = spec.sim.t_stop_s * (n * 6.4 * 1.4 + 64) / 1000
    bits, energy = np.zeros(0, np.int8), 0.0
    for attempt in range(4):  # a short draw (rare) is extended by a further run, seeded seed + attempt
        sim = dataclasses.replace(spec.sim, t_stop_s=t_stop, seed=seed + attempt)
        with tempfile.TemporaryDirectory(prefix="thermosim-pbit-") as tmp:
            out = simulate(prepare(dataclasses.replace(spec, sim=sim)), seed + attempt, Path(tmp) / "run")
        m = out.metrics
        thr = m["info"]["threshold_v"]
        state = binarize(out.samples[:, 0] - out.samples[:, 1], -thr, thr)
        step = max(1, round(3 * m["pbit_tau_int_s"] / m["noise_step_s"]))
        bits = np.concatenate([bits, state[::step]])
        energy += m["supply_power_w"] * (m["t_stop_s"] - m["burn_in_s"])
        classes, used = classes_from_bits(bits, n)
        if len(classes) == n:
            break
    else:
        raise RuntimeError(f"the p-bit runs gave {len(classes)} of {n} classes")
    return classes, used, energy / len(bits)


def generative_energy(
    model: Model,
    heat_kt: float,
    n_samples: int,
    bits_per_sample: float,
    sense_c_f: float,
    window_s: float,
    g0_v0_a: float,
    sense_full_v: float = 0.5,
    j_per_bit: float = RNG_J_PER_BIT,
    bit_source: str = "digital RNG estimate, see thermosim.generative.energy",
) -> list[dict]:
    """The per-sample lines of the module docstring (rows of :func:`thermosim.analysis.energy.row`)."""
    k = model.config.stages
    kt_j = K_B * ROOM_K
    note = "Sekimoto heat: relaxations + switching work (class bank on, every stage change)"
    shared = energy_table(
        supply_j=0.0,
        supplies=[],
        window_s=1.0,
        samples=n_samples,
        heat_kt=heat_kt * n_samples,
        heat_note=note,
        kt_j=kt_j,
        visible=N_VISIBLE,
        parameters=model.parameters,
    )
    keep = {
        r["term"]: r for r in shared if r["per"] in ("independent sample", "write") and r["term"] != "supply"
    }
    heat = [r for r in shared if r["term"] == "heat" and r["per"] == "independent sample"]
    toggles = 2 * N_VISIBLE * (k + 2)
    integ = N_VISIBLE * (sense_c_f * sense_full_v**2 + g0_v0_a * model.config.drive * window_s * VDD_V)
    prog = [r for r in shared if r["term"] == "programming"]
    rows = [{**r, "per": "sample"} for r in heat]
    rows += [
        row(
            "bank switching",
            toggles * SWITCH_C_F * SWITCH_V**2,
            "J",
            "sample",
            f"{toggles} switch toggles (K = {k}: 64 gates × 2 per stage change, on/off, class bank) × "
            f"C_sw·V² ({SWITCH_C_F:g} F, {SWITCH_V:g} V; estimate)",
        ),
        row(
            "read-out (integrator)",
            integ,
            "J",
            "sample",
            f"64 × (C_q·V_fs² = {sense_c_f:.3g} F·({sense_full_v:g} V)² + mirror g₀V₀·drive·T_w·V_dd, "
            f"T_w = {window_s:.3g} s; upper estimate)",
        ),
        {**keep["readout"], "term": "read-out (ADC)", "per": "sample"},
        prog[0],
        {**prog[1], "per": "sample"},
        row(
            "class bits",
            bits_per_sample * j_per_bit,
            "J",
            "sample",
            f"{bits_per_sample:.2f} bits per sample (counted) × {j_per_bit * 1e12:.3g} pJ/bit ({bit_source})",
        ),
        {**keep["bound"], "per": "sample"},
    ]
    return rows


def total_per_sample(rows: list[dict]) -> float:
    """Sum of the J-per-sample cost lines (not the bound, not the per-write line)."""
    return float(
        sum(r["value"] for r in rows if r["unit"] == "J" and r["per"] == "sample" and r["term"] != "bound")
    )
