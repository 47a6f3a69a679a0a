"""Transistor-level families: model cards, bad input, and each circuit against its reference in ngspice.

References: the p-bit's mirror symmetry (P(1) = 1/2 at zero bias), the transistor quartic unit's exact
density from its own DC characteristic (a 1-D overdamped node: p ∝ exp((2C/s)∫I_in du)), the ring's
noise-free frequency, the linear scaling of period-jitter variance with the noise temperature, and the
energy bound of charging the loads (supply power ≥ C·V²·f).
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from tests.conftest import thermosim
from tests.test_cli import one_line_error
from thermosim.circuits.cmos.common import MODELS_DIR, load_card
from thermosim.errors import SpecError
from thermosim.runs.spec import spec_from_table

PBIT = {
    "name": "p",
    "family": "cmos_pbit",
    "circuit": {"noise_temperature_k": 4e9},
    "sim": {"t_stop_s": 2e-6},
}
RING = {
    "name": "r",
    "family": "cmos_ring",
    "circuit": {"load_f": [100e-15, 102e-15]},
    "sim": {"t_stop_s": 5e-7},
}
QUARTIC = {"name": "q", "family": "cmos_quartic", "circuit": {}, "sim": {"t_stop_s": 4e-3}}


def table(base: dict, **circuit) -> dict:
    t = copy.deepcopy(base)
    t["circuit"].update(circuit)
    return t


def test_committed_card_parses_to_the_published_values():
    card = load_card("cmos_0p5um_level1.lib")
    n, p = card.models["nmos0p5"], card.models["pmos0p5"]
    assert (n.kind, p.kind) == ("nmos", "pmos")
    assert n.params["vto"] == 0.7 and p.params["vto"] == -0.8 and n.params["ld"] == 0.08e-6
    # k' = UO·ε_ox/TOX, the derived values the card's header states (167 and 41.8 µA/V²)
    assert n.k_prime() == pytest.approx(167e-6, rel=0.005) and p.k_prime() == pytest.approx(
        41.8e-6, rel=0.005
    )


@pytest.mark.parametrize(
    ("base", "circuit", "match"),
    [
        (PBIT, {"model_card": "no_such.lib"}, r"circuit.model_card = 'no_such.lib': no such model card"),
        (
            PBIT,
            {"nmos_model": "nfet"},
            r"circuit.nmos_model = 'nfet' is not a model in cmos_0p5um_level1.lib",
        ),
        (PBIT, {"nmos_model": "pmos0p5"}, r"circuit.nmos_model = 'pmos0p5' is a pmos model"),
        (PBIT, {"l_m": 0.1e-6}, r"circuit.l_m = 1e-07 m is not longer than 2·LD"),
        (PBIT, {"threshold_v": 5.0}, r"circuit.threshold_v = 5 V must be below vdd_v"),
        (PBIT, {"vdd_v": -1.0}, r"circuit.vdd_v must be > 0"),
        (RING, {"stages": 4}, r"circuit.stages must be odd and >= 3"),
        (RING, {"load_f": [1e-13]}, r"circuit.load_f has 1 values but there are 2 rings"),
        (RING, {"coupling_s": -1e-6}, r"circuit.coupling_s must be >= 0"),
        (QUARTIC, {"vref_v": 4.0}, r"circuit.vref_v = 4 V must lie between 0 and vdd_v"),
        (QUARTIC, {"vref_v": 0.9}, r"leaves the tail transistor out of saturation"),
        (QUARTIC, {"j4": 0.0}, r"circuit.j4 must be > 0"),
    ],
)
def test_bad_cmos_specs_name_the_key(base, circuit, match):
    with pytest.raises(SpecError, match=match):
        spec_from_table(table(base, **circuit))


def test_missing_model_card_is_one_line_exit_2(tmp_path):
    spec = tmp_path / "p.toml"
    spec.write_text(
        'name = "p"\nfamily = "cmos_pbit"\n[circuit]\nmodel_card = "gone.lib"\n[sim]\nt_stop_s = 1e-6\n'
    )
    line = one_line_error(thermosim("run", str(spec), "--out", str(tmp_path / "o")))
    assert "model_card = 'gone.lib': no such model card" in line and str(MODELS_DIR) in line
    assert not (tmp_path / "o").exists()


@pytest.mark.ngspice
def test_pbit_symmetric_at_zero_bias(shipped_runs):
    code, m, _ = shipped_runs["pbit"]
    c = next(c for c in m["checks"] if c["name"] == "p1_symmetry")
    assert code == 0 and c["passed"], c  # |P(1) − 1/2| ≤ 3 SE, SE from the 0/1 series' tau_int
    assert m["switches"] > 300 and m["supply_power_w"] > 0
    assert m["supply_energy_per_sample_j"] == pytest.approx(
        m["supply_power_w"] * (m["t_stop_s"] - m["burn_in_s"]) / m["independent_samples"], rel=1e-3
    )


@pytest.mark.ngspice
def test_pbit_bias_tilts_the_odds(tmp_path):
    # a bias of +/-150 µA (about one logistic width) must move P(1) away from 1/2 in opposite directions
    # by far more than 3 SE each (P(1) ≈ 0.73 there, pbit_bias sweep; SE ≈ 0.02 for a 1 µs run)
    ps = []
    for bias in (1.5e-4, -1.5e-4):
        spec = tmp_path / "p.toml"
        spec.write_text(
            'name = "p"\nfamily = "cmos_pbit"\n[circuit]\nnoise_temperature_k = 4e9\n'
            f"bias_a = {bias}\n[sim]\nt_stop_s = 1e-6\nseed = 3\n"
        )
        p = thermosim("run", str(spec), "--json", "--out", str(tmp_path / "o"))
        assert p.returncode == 0, p.stderr
        m = json.loads(p.stdout)
        ps.append((m["p1"], m["p1_se"]))
    (hi, se_hi), (lo, se_lo) = ps
    assert hi - 0.5 > 3 * se_hi and 0.5 - lo > 3 * se_lo


@pytest.mark.ngspice
def test_transistor_quartic_matches_its_dc_characteristic(shipped_runs):
    code, m, _ = shipped_runs["quartic_cmos"]
    names = {c["name"]: c for c in m["checks"]}
    # mean and variance within the Bonferroni k·SE, KS distance below its 0.27 % point, n_eff > 5000
    assert code == 0 and all(c["passed"] for c in names.values()), names
    assert {"var[v(u)]", "ks[v(u)]", "mean[v(u)]"} <= set(names) and m["n_eff"] > 5000
    # the behavioural unit fitted to the same characteristic reproduces its variance (the fit is the
    # realised J₂, J₄, offset; not a statistical check — a 3 % bound on the fit's model error)
    assert m["var_x_behavioural_fit"] == pytest.approx(m["var_x_dc"], rel=0.03)
    assert m["supply_power_by_source_w"]["vdd"] > 0


def _ring(tmp_path, **circuit) -> dict:
    t = table(RING, **circuit)
    spec = tmp_path / "r.toml"
    body = "\n".join(f"{k} = {json.dumps(v)}" for k, v in t["circuit"].items())
    spec.write_text(f'name = "r"\nfamily = "cmos_ring"\n[circuit]\n{body}\n[sim]\nt_stop_s = 6e-7\n')
    p = thermosim("run", str(spec), "--json", "--out", str(tmp_path / "o"))
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.ngspice
def test_ring_frequency_jitter_and_power(tmp_path):
    quiet, hot, hotter = (
        _ring(tmp_path, noise_temperature_k=t, rings=1, load_f=1e-13) for t in (1e-6, 1e5, 4e5)
    )
    # weak noise leaves the mean frequency where the noise-free ring has it (within 3 SE of the noisy run)
    assert abs(hot["frequency_hz"] - quiet["frequency_hz"]) <= 3 * hot["frequency_se_hz"]
    # linear response: period-jitter variance ∝ noise PSD ∝ T, so σ(4T)/σ(T) = 2; each σ has relative SE
    # 1/√(2·n_periods) (periods of a free ring are independent), the ratio √2 times that
    n = min(hot["cycles"], hotter["cycles"])
    ratio = hotter["period_jitter_s"] / hot["period_jitter_s"]
    assert abs(ratio - 2) <= 3 * 2 * math.sqrt(2 / (2 * n)), ratio
    assert quiet["period_jitter_s"] < 0.1 * hot["period_jitter_s"]  # the read-out's own floor
    # energy: every cycle charges each load from 0 to VDD through a PMOS, taking C·VDD² from the supply;
    # the transistors' gate capacitance and short-circuit current only add (measured ≈ 1.16×)
    assert 1.0 <= hot["supply_power_w"] / hot["cv2f_power_w"] < 1.5
    # with the transistors' own switched capacitance (first-order textbook load model, not a statistic:
    # Meyer's gate capacitance varies over the swing) the hand estimate is within 10 % (measured 0.97)
    assert hot["supply_power_w"] / hot["cv2f_device_power_w"] == pytest.approx(1.0, abs=0.1)


@pytest.mark.ngspice
def test_rings_lock_or_drift(tmp_path):
    free = _ring(tmp_path, coupling_s=0.0, noise_temperature_k=300.0)
    locked = _ring(tmp_path, coupling_s=1e-4, noise_temperature_k=300.0)
    # a frequency difference of two rings has SE ≈ √2 × one ring's frequency SE (independent periods)
    se_free, se_locked = (math.sqrt(2) * m["frequency_se_hz"] for m in (free, locked))
    # uncoupled: the 1.6 % load detuning makes the rings differ by ≫ 3 SE and the phase difference drifts
    # at that difference (R far from 1); locked: one common frequency, no drift, R → 1
    df = free["frequency_by_ring_hz"][1] - free["frequency_by_ring_hz"][0]
    assert abs(df) > 3 * se_free and abs(free["phase_diff_drift_hz"] - df) <= 3 * se_free
    assert free["locking_r"] < 0.3
    f = np.array(locked["frequency_by_ring_hz"])
    assert abs(f[1] - f[0]) <= 3 * se_locked and abs(locked["phase_diff_drift_hz"]) <= 3 * se_locked
    assert locked["locking_r"] > 0.999
