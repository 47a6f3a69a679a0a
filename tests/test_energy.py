"""Energy accounting: the table's terms, the supply sign convention, Sekimoto heat, and a relaxation in SPICE.

Expected values are closed forms: −∫V·I for a known waveform, the heat of a relaxation from a
non-equilibrium start ⟨Q(t)⟩ = ½(C·v₀²/kT − 1)(1 − e^{−2t/τ}) kT, and the published anchor figures.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.conftest import thermosim
from thermosim.analysis.energy import (
    ADC_FOM_J,
    energy_table,
    gaussian_potential,
    sekimoto_heat,
    supply_power,
)
from thermosim.physics import K_B


def test_supply_power_sign_and_window():
    # a source at 2 V whose current flows OUT of its + terminal (i < 0) delivers power: P = −V·I = +2·t mW
    t = np.linspace(0, 1, 1001)
    p = supply_power(t, np.full_like(t, 2.0), -1e-3 * t, t_from_s=0.5)
    assert p == pytest.approx(2e-3 * 0.75, rel=1e-9)  # mean of 2t mW over [0.5, 1]
    with pytest.raises(ValueError, match="fewer than 2 time points"):
        supply_power(t, t, t, t_from_s=2.0)


def test_sekimoto_heat_with_switching_work():
    # V/kT = a(t)·x² with a stepping from 1 to 2 at t = 1: the work is the jump at the switch, ΔV at fixed x
    x = np.array([[2.0], [1.5], [1.0], [0.5]])
    t = np.array([0.0, 0.5, 1.0, 1.5])

    def v(xs, ts):
        return np.where(np.asarray(ts) >= 1.0, 2.0, 1.0) * xs[:, 0] ** 2

    q = sekimoto_heat(x, t, v)
    assert q["work_kt"] == pytest.approx(1.5**2)  # V(x=1.5) doubles when t crosses 1
    assert q["heat_kt"] == pytest.approx(4.0 - 2 * 0.25 + 1.5**2)  # V(x₀,t₀) − V(x_f,t_f) + W
    g = gaussian_potential(np.zeros(2), np.diag([4.0, 1.0]))
    assert g(np.array([[2.0, 1.0]]), np.zeros(1))[0] == pytest.approx(1.0)  # ½(2²/4 + 1²/1)


def test_energy_table_rows_units_and_sources():
    rows = energy_table(
        supply_j=2e-9,
        supplies=["vdd"],
        window_s=1e-6,
        samples=100.0,
        heat_kt=50.0,
        heat_note="test",
        kt_j=K_B * 300,
        visible=4,
        parameters=10,
        adc_bits=8,
        samples_per_write=1000.0,
    )
    assert all(set(r) == {"term", "value", "unit", "per", "source"} for r in rows)
    by = {(r["term"], r["per"], r["unit"]): r["value"] for r in rows}
    assert by[("supply", "independent sample", "J")] == pytest.approx(2e-11)
    assert by[("supply", "simulated second", "W")] == pytest.approx(2e-3)
    assert by[("heat", "independent sample", "kT")] == pytest.approx(0.5)
    assert by[("readout", "independent sample", "J")] == pytest.approx(4 * ADC_FOM_J * 256)
    assert by[("programming", "write", "J")] == pytest.approx(10 * 256 * 1e-15)
    assert by[("programming", "independent sample", "J")] == pytest.approx(10 * 256 * 1e-15 / 1000)
    assert by[("bound", "independent sample", "J")] == pytest.approx(32 * K_B * 300 * math.log(2))
    # a passive circuit: no supply sources, and no heat line without a potential
    rows = energy_table(
        supply_j=0.0,
        supplies=[],
        window_s=1.0,
        samples=10.0,
        heat_kt=None,
        heat_note="",
        kt_j=1.0,
        visible=1,
        parameters=0,
    )
    assert {r["term"] for r in rows} == {"supply", "readout", "programming", "bound"}
    assert all(r["value"] == 0 for r in rows if r["term"] == "supply")


@pytest.mark.ngspice
def test_rc_relaxation_heat_matches_theory(tmp_path):
    # 64 independent RC nodes (τ = RC = 1 µs) start with ½Cv₀² = 50 kT each; burn-in 0 keeps the start.
    # Per node Q = ½C(v₀² − v_f²)/kT; over the run the trapezoid rule decays the mean by exactly
    # ((1 − h/2τ)/(1 + h/2τ))^k, which differs from e^{−t/τ} by 4e-4 of ⟨Q⟩ here (≪ the SE of 0.45 %).
    c, v0, n = 1e-12, math.sqrt(100 * K_B * 300 / 1e-12), 64
    spec = tmp_path / "relax.toml"
    spec.write_text(
        f'name = "relax"\nfamily = "rc"\n[circuit]\nn = {n}\nc_f = {c}\nr_ohm = 1e6\ninitial_v = {v0!r}\n'
        "[sim]\nt_stop_s = 2e-6\nnoise_step_s = 2.5e-8\nburn_in_s = 0.0\nseed = 5\n"
    )
    p = thermosim("run", str(spec), "--json", "--out", str(tmp_path / "o"))
    m = json.loads(p.stdout)
    d = np.load(tmp_path / "o" / "samples.npz")
    x, t = d["samples"], d["t_s"]
    kt = K_B * 300
    q = 0.5 * c * (x[0] ** 2 - x[-1] ** 2) / kt
    theory = (0.5 * c * v0**2 / kt - 0.5) * (1 - math.exp(-2 * (t[-1] - t[0]) / 1e-6))
    se = q.std(ddof=1) / math.sqrt(n)
    assert abs(q.mean() - theory) <= 3 * se, (q.mean(), theory, se)
    # the run's energy table carries the same heat (the Gaussian potential of the theory is ½Cv²/kT)
    run_heat = next(r["value"] for r in m["energy"] if r["term"] == "heat" and r["per"] == "run")
    assert run_heat == pytest.approx(q.sum(), rel=1e-9)
