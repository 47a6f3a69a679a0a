"""Physical constants and the noise amplitudes thermosim places in circuits.

Convention: every white-noise intensity in thermosim is the TWO-SIDED power spectral density ``s``
(A²/Hz = A²·s), i.e. E[ξ(t) ξ(t')] = s·δ(t − t'). Johnson's one-sided 4kT/R is s = 2kT/R.
"""

from __future__ import annotations

import math

K_B = 1.380649e-23  # J/K, exact (SI 2019)
Q_E = 1.602176634e-19  # C, exact (SI 2019)


def kt(temperature_k: float) -> float:
    """Thermal energy kT in joules."""
    return K_B * temperature_k


def johnson_current_psd(r_ohm: float, temperature_k: float) -> float:
    """Two-sided current-noise PSD of a resistor, s = 2kT/R (A²/Hz); one-sided 4kT/R."""
    return 2.0 * K_B * temperature_k / r_ohm


def ktc_variance(c_f: float, temperature_k: float) -> float:
    """Equilibrium voltage variance kT/C (V²) of a node of capacitance C."""
    return K_B * temperature_k / c_f


def ktc_rms(c_f: float, temperature_k: float) -> float:
    """Equilibrium rms voltage sqrt(kT/C) (V)."""
    return math.sqrt(ktc_variance(c_f, temperature_k))
