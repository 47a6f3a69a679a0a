"""Spec validation: every bad input is one SpecError naming the key."""

from __future__ import annotations

import copy

import pytest

from thermosim.errors import SpecError
from thermosim.paths import CIRCUITS_DIR
from thermosim.runs.spec import load_spec, spec_from_table

GOOD = {
    "name": "t",
    "family": "rc",
    "circuit": {"c_f": 1e-12, "r_ohm": 1e6, "noise": "thermal", "temperature_k": 300.0},
    "sim": {"t_stop_s": 1e-3},
}


def bad(path: str, value, match: str):
    t = copy.deepcopy(GOOD)
    keys = path.split(".")
    d = t
    for k in keys[:-1]:
        d = d[k]
    if value is KeyError:
        del d[keys[-1]]
    else:
        d[keys[-1]] = value
    with pytest.raises(SpecError, match=match):
        spec_from_table(t)


def test_good_spec_is_frozen():
    s = spec_from_table(GOOD)
    assert s.params.r_ohm == 1e6 and s.sim.seed == 1 and s.sim.noise_step_s == "auto"
    with pytest.raises(AttributeError):
        s.sim.seed = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    "path,value,match",
    [
        ("circuit.r_ohmm", 1.0, r"unknown key 'circuit.r_ohmm' \(did you mean 'r_ohm'\?\)"),
        ("sim.tstop", 1.0, r"unknown key 'sim.tstop'.*t_stop_s"),
        ("family", "rcc", r"family = 'rcc' is not a known circuit family"),
        ("circuit.r_ohm", "1kohm", r"circuit.r_ohm must be"),
        ("circuit.r_ohm", -5.0, r"circuit.r_ohm must be > 0"),
        ("circuit.r_ohm", 0.0, r"circuit.r_ohm must be > 0"),
        ("circuit.c_f", -1e-12, r"circuit.c_f must be > 0"),
        ("circuit.c_f", [1e-12, 0.0], r"circuit.c_f\[1\] must be > 0"),
        ("circuit.n", 0, r"circuit.n = 0 disagrees|circuit.n must be >= 1"),
        ("circuit.noise", "shot", r"circuit.noise must be one of 'thermal', 'injected'"),
        ("circuit.temperature_k", True, r"circuit.temperature_k must be"),
        ("sim.t_stop_s", 0.0, r"sim.t_stop_s must be > 0"),
        ("sim.t_stop_s", -1.0, r"sim.t_stop_s must be > 0"),
        ("sim.t_stop_s", KeyError, r"missing required key 'sim.t_stop_s'"),
        ("sim.noise_step_s", "fast", r"sim.noise_step_s must be"),
        ("sim.seed", 1.5, r"sim.seed must be an integer"),
        ("circuit", 3, r"\[circuit\] must be a table"),
    ],
)
def test_bad_values_name_the_key(path, value, match):
    bad(path, value, match)


@pytest.mark.parametrize(
    "energy,match",
    [
        ({"adc_bits": 0}, r"energy.adc_bits must be between 1 and 32, got 0"),
        ({"adc_fom_j": -1e-15}, r"energy.adc_fom_j must be > 0"),
        ({"samples_per_write": 0.0}, r"energy.samples_per_write must be > 0"),
        ({"adc_bit": 8}, r"unknown key 'energy.adc_bit' \(did you mean 'adc_bits'\?\)"),
        (3, r"\[energy\] must be a table"),
    ],
)
def test_bad_energy_assumptions_name_the_key(energy, match):
    t = copy.deepcopy(GOOD)
    t["energy"] = energy
    with pytest.raises(SpecError, match=match):
        spec_from_table(t)


def test_zero_nodes():
    t = copy.deepcopy(GOOD)
    t["circuit"] = {"n": 0, "c_f": 1e-12, "r_ohm": 1e6}
    with pytest.raises(SpecError, match=r"circuit.n must be >= 1"):
        spec_from_table(t)


@pytest.mark.parametrize(
    "matrix,match",
    [
        ([[1.0, 0.5], [0.5]], r"circuit.precision must be a square matrix"),
        ([[1.0, 0.5], [0.4, 1.0]], r"circuit.precision must be symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], r"circuit.precision must be positive definite"),
        ([[0.0]], r"circuit.precision must be positive definite"),
    ],
)
def test_bad_precision(matrix, match):
    t = copy.deepcopy(GOOD)
    t["circuit"] = {"precision": matrix, "noise": "injected", "noise_temperature_k": 1e6}
    with pytest.raises(SpecError, match=match):
        spec_from_table(t)


def test_precision_needs_injected_noise():
    t = copy.deepcopy(GOOD)
    t["circuit"] = {"precision": [[1.0]], "noise": "thermal"}
    with pytest.raises(SpecError, match='needs noise = "injected"'):
        spec_from_table(t)


def test_negative_coupling_rejected_for_resistors():
    t = copy.deepcopy(GOOD)
    t["circuit"] = {"r_ohm": [1e6, 1e6], "coupling_s": [[0.0, -1e-6], [-1e-6, 0.0]]}
    with pytest.raises(SpecError, match=r"coupling_s must be symmetric, >= 0"):
        spec_from_table(t)


def test_unreadable_toml_names_file(tmp_path):
    p = tmp_path / "broken.toml"
    p.write_text("name = 'x'\nfamily = \n")
    with pytest.raises(SpecError, match=r"broken.toml: not valid TOML"):
        load_spec(p)


def test_unknown_spec_name_lists_known():
    with pytest.raises(SpecError, match=r"no such spec \(known: .*gauss4"):
        load_spec("gauss44")


@pytest.mark.parametrize("name", sorted(p.stem for p in CIRCUITS_DIR.glob("*.toml")))
def test_shipped_specs_load(name):
    assert load_spec(name).name == name


RLC = {"name": "r", "family": "rlc", "circuit": {"c_f": 1e-9, "l_h": 1e-6}, "sim": {"t_stop_s": 1e-4}}


@pytest.mark.parametrize(
    "circuit,match",
    [
        (
            {"precision": [[1.0, 0.2], [0.2, 1.0]]},
            r"precision\[0\]\[1\] = 0.2 > 0 cannot be realised with passive",
        ),
        ({"precision": [[1.0, -0.6], [-0.6, 0.5]]}, r"precision row 1 sums to -0.1 <= 0"),
        ({"c_f": 1e-9, "l_h": -1e-6}, r"circuit.l_h must be > 0"),
        ({"c_f": 1e-9, "r_series_ohm": 1.0}, r"r_series_ohm needs noise = \"injected\""),
        ({"c_f": 1e-9, "coupling_f": [[0.0, -1e-12], [-1e-12, 0.0]]}, r"coupling_f must be symmetric, >= 0"),
        ({"l_h": 1e-6}, r"missing required key 'circuit.c_f'"),
    ],
)
def test_bad_rlc(circuit, match):
    t = copy.deepcopy(RLC)
    t["circuit"] = circuit
    with pytest.raises(SpecError, match=match):
        spec_from_table(t)


@pytest.mark.parametrize(
    "circuit,match",
    [
        ({"kt": -0.1}, r"circuit.kt must be > 0"),
        ({"coupling": [[0.0, 1.0], [0.5, 0.0]]}, r"circuit.coupling must be symmetric with a zero diagonal"),
        ({"n": 2, "bias": [0.1, 0.2, 0.3]}, r"circuit.n = 2 disagrees"),
        ({"couple_at_s": -1e-6}, r"circuit.couple_at_s must be >= 0"),
    ],
)
def test_bad_quartic(circuit, match):
    t = {"name": "q", "family": "quartic", "circuit": circuit, "sim": {"t_stop_s": 1e-3}}
    with pytest.raises(SpecError, match=match):
        spec_from_table(t)
