"""Staged trained terms and the current read-out, shared by the ``quartic`` and ``cmos_network`` families.

A staged protocol holds K parameter sets, stage k in force from ``stage_at_s[k]`` until the next switch
time (the last one to the end of the run). Per stage (model units, unit i, x_i its state):

* K banks of coupling transconductors g₀·Jᵏ_ij, each bank reading its own switched copies of the unit
  voltages (one ideal switch per unit per bank, closed during its stage; a B source ``gate·v``): the
  clocked bank selection. Measured against one bank of B sources re-weighted by time (see the README),
  linear G elements are the cheaper form in ngspice: their stamps are constant. When every stage has
  the same couplings (a model fitted with tied couplings) one bank is written, on from the first stage.
* per unit, the trained own terms g₀V₀·(2(J₂ᵏ−J₂)x + 4(J₄ᵏ−J₄)x³ + bᵏ) as one B source whose three
  coefficients are piecewise constant in time (:func:`piecewise`: nested conditionals on ``time``, the
  DACs the stage clock steps; J₂, J₄ the family's own values); ``stage_bias`` is what the class bank's
  switch selected for this sample. Written as one gated copy of the whole expression per stage instead,
  every Newton iteration evaluated and differentiated all K copies: at K = 10 that was half of ngspice's
  time (measured: `thermosim bench generate`).

Current read-out (``sense`` > 0): the trained branch of each of the first ``sense`` units (its couplings
and its own trained terms) is fed through a 0 V sense source from the unit node; a unity mirror (a B
source reading the sense current) integrates it on ``sense_c_f`` from ``sense_from_s`` to the end:
v(q_i) = −(1/C_q)∫ i_sense dt, with i_sense = g₀V₀·∂_i(V − V₀) = −g₀V₀·h_i. A 10¹² Ω leak gives the
node a DC path (time constant C_q·10¹² ≫ the window). The ADC samples v(q_i) once at the end.

Window calibration: a reference channel q0 integrates a known current I_ref (``sense_ref_a``) through the
same switch, v(q0) = I_ref·T_eff/C_q: the window the switch really held. The ideal time switch turns on at
the first simulator point past ``sense_from_s`` (ngspice sets no breakpoint there), which loses up to one
step — 5 % of a 0.1 τ window at τ/100 steps; dividing by the measured T_eff removes it, as a real read-out
would with its calibration channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecError, positive
from . import dense

LEAK_OHM = 1e12


@dataclass(frozen=True)
class StagedTerms:
    stage_at_s: tuple[float, ...] | None = None  # K switch times (s), increasing
    stage_coupling: tuple | None = None  # K × n × n, each symmetric with a zero diagonal
    stage_j2: tuple | None = None  # K × n trained J₂ per unit
    stage_j4: tuple | None = None  # K × n trained J₄ per unit (> 0)
    stage_bias: tuple | None = None  # K × n trained bias per unit (this sample's class)
    sense: int = 0  # current read-out on the first `sense` units
    sense_from_s: float = 0.0  # integration window start (to the end of the run)
    sense_c_f: float = 40e-15  # integrating capacitor per sensed unit
    sense_ref_a: float = 1e-7  # the window calibration channel's reference current


def staged_arrays(p, n: int, where: str):
    """(times, J, J₂, J₄, b) as arrays, validated (one-line SpecError), or None without stages."""
    if p.stage_at_s is None:
        for key in ("stage_coupling", "stage_j2", "stage_j4", "stage_bias"):
            if getattr(p, key) is not None:
                raise SpecError(f"{where}.{key} needs {where}.stage_at_s")
        if p.sense != 0:
            raise SpecError(f"{where}.sense needs a staged protocol ({where}.stage_at_s)")
        return None
    try:
        t = np.asarray(p.stage_at_s, float)
    except (TypeError, ValueError):
        raise SpecError(f"{where}.stage_at_s must be a list of times in seconds") from None
    k = len(t) if t.ndim == 1 else 0
    if t.ndim != 1 or k < 1 or np.any(t < 0) or np.any(np.diff(t) <= 0) or not np.all(np.isfinite(t)):
        raise SpecError(f"{where}.stage_at_s must be increasing times >= 0")
    out = [t]
    for key, shape in (("stage_coupling", (k, n, n)), ("stage_j2", (k, n)), ("stage_j4", (k, n))):
        out.append(_array(p, key, shape, where))
    out.append(_array(p, "stage_bias", (k, n), where))
    jm = out[1]
    if not np.allclose(jm, np.swapaxes(jm, 1, 2)) or np.any(np.diagonal(jm, axis1=1, axis2=2) != 0):
        raise SpecError(f"{where}.stage_coupling: every stage must be symmetric with a zero diagonal")
    if np.any(out[3] <= 0):
        raise SpecError(f"{where}.stage_j4 must be > 0 (V bounded below)")
    if not isinstance(p.sense, int) or not 0 <= p.sense <= n:
        raise SpecError(f"{where}.sense must be between 0 and {n}, got {p.sense}")
    positive(p.sense_c_f, f"{where}.sense_c_f")
    positive(p.sense_ref_a, f"{where}.sense_ref_a")
    positive(p.sense_from_s, f"{where}.sense_from_s", allow_zero=True)
    return tuple(out)


def _array(p, key: str, shape: tuple, where: str) -> np.ndarray:
    v = getattr(p, key)
    if v is None:
        return np.zeros(shape) if key in ("stage_coupling", "stage_bias") else np.full(shape, np.nan)
    try:
        a = np.asarray(v, float)
    except (TypeError, ValueError):
        raise SpecError(f"{where}.{key} must be a numeric array of shape {shape}") from None
    if a.shape != shape or not np.all(np.isfinite(a)):
        raise SpecError(f"{where}.{key} must be a finite array of shape {shape}, got {a.shape}")
    return a


def num(v) -> str:
    """A number as ngspice reads it (a plain float repr, never numpy's)."""
    return repr(float(v))


def gate(times: np.ndarray, k: int) -> str:
    """1 during stage k, else 0 (an ngspice expression of time)."""
    if k + 1 < len(times):
        return f"((time>={num(times[k])})&&(time<{num(times[k + 1])})?1:0)"
    return f"(time>={num(times[k])}?1:0)"


def piecewise(times: np.ndarray, values) -> str:
    """A value piecewise constant in time: 0 before ``times[0]``, ``values[k]`` from ``times[k]`` on (an
    ngspice expression of nested conditionals: only the branch in force is evaluated, and the value is a
    constant, so a B source's derivative trees stay one term long whatever K)."""
    values = [num(v) for v in values]
    if len(set(values)) == 1:
        return f"(time<{num(times[0])}?0:{values[0]})"
    out = values[-1]
    for k in range(len(times) - 2, -1, -1):
        out = f"(time<{num(times[k + 1])}?{values[k]}:{out})"
    return f"(time<{num(times[0])}?0:{out})"


def add_stages(circuit, arrays, p, n: int, base: tuple, g0: float, v0: float, ref: str | None = None) -> None:
    """Write the stage banks, own terms and sense integrators (module docstring) for units u1 … un.

    ``base`` = (J₂, J₄) the units realise without trained terms; J₂ᵏ/J₄ᵏ NaN (not given) mean "unchanged".
    Node voltages are relative to ``ref`` (ground if None)."""
    times, jm, j2, j4, b = arrays
    j2 = np.where(np.isnan(j2), base[0], j2)
    j4 = np.where(np.isnan(j4), base[1], j4)

    def volts(i):
        return f"v(u{i + 1})" if ref is None else f"(v(u{i + 1})-v({ref}))"

    into = [f"s{i + 1}" if i < p.sense else f"u{i + 1}" for i in range(n)]
    for i in range(n):
        x = f"({volts(i)}/{v0!r})"
        a, c, d = 2 * (j2[:, i] - base[0]), 4 * (j4[:, i] - base[1]), b[:, i]
        terms = [f"{piecewise(times, a)}*{x}"] if np.any(a) else []
        terms += [f"{piecewise(times, c)}*{x}*{x}*{x}"] if np.any(c) else []
        terms += [piecewise(times, d)] if np.any(d) or not terms else []
        circuit.raw_spice += f"Bt{i + 1} {into[i]} 0 I={num(g0 * v0)}*({'+'.join(terms)})\n"
    banks = range(len(times))
    if np.all(jm == jm[:1]):  # one coupling bank for every stage: switched on at the first stage only
        banks, times = range(1), times[:1]
    for k in banks:
        for j in np.flatnonzero(np.any(jm[k], axis=0)):
            circuit.raw_spice += f"Bg{k + 1}_{j + 1} g{k + 1}_{j + 1} 0 V={gate(times, k)}*{volts(j)}\n"
        copies = [f"g{k + 1}_{j + 1}" for j in range(n)]
        circuit.raw_spice += dense.couple(g0 * jm[k], into, copies, f"c{k + 1}_")  # G elements (dense.py)
    if p.sense:
        circuit.raw_spice += (
            f"Bq0 q0 0 I=(time>={num(p.sense_from_s)}?1:0)*{num(-p.sense_ref_a)}\n"
            f"Cq0 q0 0 {num(p.sense_c_f)}\nRq0 q0 0 {LEAK_OHM!r}\n"
        )
    for i in range(p.sense):
        circuit.raw_spice += (
            f"Vs{i + 1} u{i + 1} s{i + 1} 0\n"
            f"Bq{i + 1} q{i + 1} 0 I=(time>={num(p.sense_from_s)}?1:0)*i(vs{i + 1})\n"
            f"Cq{i + 1} q{i + 1} 0 {num(p.sense_c_f)}\n"
            f"Rq{i + 1} q{i + 1} 0 {LEAK_OHM!r}\n"
        )


def staged_potential(arrays, base: tuple, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The trained part V − V₀ (model units) at states x (rows) and times t: stage terms where in force."""
    times, jm, j2, j4, b = arrays
    j2 = np.where(np.isnan(j2), base[0], j2)
    j4 = np.where(np.isnan(j4), base[1], j4)
    k = np.searchsorted(times, np.asarray(t, float), side="right") - 1
    out = np.zeros(len(x))
    on = k >= 0
    ks, xs = k[on], x[on]
    own = (j2[ks] - base[0]) * xs**2 + (j4[ks] - base[1]) * xs**4 + b[ks] * xs
    out[on] = own.sum(axis=1) + 0.5 * np.einsum("ni,nij,nj->n", xs, jm[ks], xs)
    return out


def sense_variables(p) -> tuple[str, ...]:
    """The integrator voltages v(q1) … v(q_sense), then the calibration channel v(q0)."""
    return tuple(f"v(q{i + 1})" for i in range(p.sense)) + (("v(q0)",) if p.sense else ())


def sense_window(p, v_q0: float) -> float:
    """The integration time the switch really held, from the calibration channel: T = v(q0)·C_q/I_ref."""
    return v_q0 * p.sense_c_f / p.sense_ref_a
