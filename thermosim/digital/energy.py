"""Energy of a digital generator per sample, each assumption on its own line (same rows as the circuits').

Published figures (each line of the table names its source):

* 1 pJ per multiply-accumulate at 45 nm — M. Horowitz, "Computing's energy problem (and what we can
  do about it)", ISSCC 2014 (32-bit float: multiply 3.7 pJ, add 0.9 pJ; 32-bit int: 3.1 + 0.1 pJ;
  8-bit int: 0.2 + 0.03 pJ). The round 1 pJ/MAC is the figure Whitelam (PRL 2026) uses for his baseline.
* A current GPU at full utilisation: NVIDIA A100 SXM4, 312 TFLOP/s dense FP16 tensor throughput at
  400 W board power (NVIDIA A100 datasheet, 2020) ⇒ 1.28 pJ per FLOP, 2.56 pJ per MAC (2 FLOP).
* This machine: measured CPU seconds per sample × a stated nominal power per busy core
  (``CPU_WATTS_PER_CORE``, an assumption, not a measurement).
"""

from __future__ import annotations

import math

from ..analysis.energy import row
from ..physics import K_B

J_PER_MAC_45NM = 1e-12
J_PER_MAC_A100 = 2 * 400.0 / 312e12
CPU_WATTS_PER_CORE = 10.0


def digital_energy_rows(macs_per_sample: float, cpu_s_per_sample: float | None) -> list[dict]:
    """Energy per sample of a network evaluated ``macs_per_sample`` times a MAC: three estimates."""
    rows = [
        row(
            "compute",
            macs_per_sample * J_PER_MAC_45NM,
            "J",
            "sample",
            f"{macs_per_sample:.4g} MACs × 1 pJ/MAC (45 nm; Horowitz, ISSCC 2014)",
        ),
        row(
            "compute",
            macs_per_sample * J_PER_MAC_A100,
            "J",
            "sample",
            f"{macs_per_sample:.4g} MACs × {J_PER_MAC_A100 * 1e12:.2f} pJ/MAC (A100: 312 TFLOP/s FP16 at "
            "400 W, datasheet 2020; full utilisation)",
        ),
    ]
    if cpu_s_per_sample is not None:
        rows.append(
            row(
                "compute",
                cpu_s_per_sample * CPU_WATTS_PER_CORE,
                "J",
                "sample",
                f"measured {cpu_s_per_sample:.3g} CPU s/sample here × {CPU_WATTS_PER_CORE:g} W per core "
                "(nominal)",
            )
        )
    return rows


def mlp_macs(layers: tuple[int, ...]) -> int:
    """Multiply-accumulates of one pass through a dense network with these layer widths: Σ n_i·n_{i+1}."""
    return sum(a * b for a, b in zip(layers[:-1], layers[1:], strict=False))


def prl_baseline(temperature_k: float = 300.0) -> dict:
    """Whitelam's published comparison (PRL 2026): a digital denoiser MLP 784-128-128-784 run 10 times at
    1 pJ/MAC against ⟨Q⟩ = 2.9·10³ kT of heat per generated sample. Heat only vs digital compute only:
    read-out, control and programming are excluded on both sides (as in the paper)."""
    macs = 10 * mlp_macs((784, 128, 128, 784))
    digital = macs * J_PER_MAC_45NM
    heat = 2.9e3 * K_B * temperature_k
    return {
        "macs": macs,
        "digital_j": digital,
        "thermodynamic_heat_j": heat,
        "ratio": digital / heat,
        "log10_ratio": math.log10(digital / heat),
    }
