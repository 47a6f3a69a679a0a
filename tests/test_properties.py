"""Property tests (hypothesis) for the spec parser and the precision-matrix compilers of rc and rlc.

* Parser: random valid specs → TOML → load_spec → the dataclasses they describe, and back again;
  a random invalid value at a random key → SpecError naming that key; random junk tables → SpecError
  or a Spec, never another exception.
* Compilers: a random SPD precision matrix P → the rc circuit's conductances are g0·P (read back from
  the netlist) and its theory covariance (Lyapunov, thermosim.analysis.theory) is (kT/C)·P⁻¹ to rounding; a
  random SPD M-matrix → the rlc circuit's (v, i) covariance is (kT/c_unit)·P⁻¹, kT·L⁻¹ and v ⟂ i;
  random non-SPD, non-symmetric or non-square matrices → SpecError naming circuit.precision.

Derandomized with small example counts, so the file is reproducible and takes seconds.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import tomllib

import numpy as np
import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from thermosim.circuits import FAMILIES
from thermosim.circuits.rc import RCParams
from thermosim.errors import SpecError
from thermosim.paths import CIRCUITS_DIR
from thermosim.physics import K_B
from thermosim.runs.spec import (
    MAX_NOISE_STEPS,
    EnergySpec,
    SimSpec,
    Spec,
    load_spec,
    read_toml,
    spec_from_table,
)

SETTINGS = settings(
    derandomize=True,
    database=None,  # no example database: runs do not depend on earlier ones
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ---- strategies for valid specs


def pos(lo: float = 1e-15, hi: float = 1e15):
    """A positive finite float, log-uniform-ish over [lo, hi]."""
    return st.floats(math.log10(lo), math.log10(hi)).map(lambda e: float(f"{10**e:.6g}"))


def per_node(n: int, values):
    """A scalar (every node) or a list of n values."""
    return st.one_of(values, st.lists(values, min_size=n, max_size=n))


names = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,12}", fullmatch=True)
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@st.composite
def spd(draw, n: int, lo: float = 0.2, hi: float = 5.0) -> np.ndarray:
    """A symmetric positive-definite n×n matrix with eigenvalues in [lo, hi] (condition <= hi/lo)."""
    lam = draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n))
    b = draw(arrays(np.float64, (n, n), elements=st.floats(-1, 1)))
    q, _ = np.linalg.qr(b + 3 * np.eye(n))
    p = q @ np.diag(lam) @ q.T
    return (p + p.T) / 2


@st.composite
def rc_circuit(draw) -> dict:
    n = draw(st.integers(1, 4))
    t = {}
    if draw(st.booleans()):
        t["n"] = n
    if draw(st.booleans()):  # a precision matrix (any signs), injected noise
        t["precision"] = draw(spd(n)).tolist()
        t["c_f"] = draw(pos(1e-15, 1e-9))
        t["g0_s"] = draw(pos(1e-9, 1e-2))
        t["noise"] = "injected"
        t["noise_temperature_k"] = draw(pos(1.0, 1e9))
        return t
    t["c_f"] = draw(per_node(n, pos(1e-15, 1e-9)))
    t["r_ohm"] = draw(per_node(n, st.one_of(pos(1.0, 1e9), st.integers(1, 10**9))))
    if n > 1 and draw(st.booleans()):
        g = np.triu(draw(arrays(np.float64, (n, n), elements=st.floats(0, 1e-5))), 1)
        t["coupling_s"] = (g + g.T).tolist()
    if draw(st.booleans()):
        t["noise"] = "thermal"
        t["temperature_k"] = draw(pos(1e-3, 1e4))
    else:
        t["noise"] = "injected"
        t["noise_temperature_k"] = draw(pos(1.0, 1e9))
    if draw(st.booleans()):
        t["initial_v"] = draw(st.lists(st.floats(-10, 10), min_size=n, max_size=n))
    if not any(isinstance(t.get(k), list) for k in ("c_f", "r_ohm", "coupling_s")):
        t["n"] = n  # nothing else tells the node count
    return t


@st.composite
def sim_table(draw) -> dict:
    t = {}
    if draw(st.booleans()):
        step = draw(pos(1e-12, 1e-3))
        t["noise_step_s"] = step
        t["t_stop_s"] = float(f"{step * draw(st.floats(1.0, 1e6)):.6g}")
    else:
        t["t_stop_s"] = draw(pos(1e-9, 1e3))
        if draw(st.booleans()):
            t["noise_step_s"] = "auto"
    if draw(st.booleans()):
        t["burn_in_s"] = draw(st.one_of(st.just("auto"), st.just(0.0), pos(1e-12, 1.0)))
    if draw(st.booleans()):
        t["seed"] = draw(st.integers(0, 2**63 - 1))
    if draw(st.booleans()):
        t["timeout_s"] = draw(pos(1e-3, 1e6))
    return t


@st.composite
def energy_table(draw) -> dict:
    t = {}
    for key, strat in [
        ("temperature_k", pos(1e-3, 1e4)),
        ("adc_bits", st.integers(1, 32)),
        ("adc_fom_j", pos(1e-18, 1e-9)),
        ("program_bits", st.integers(1, 32)),
        ("dac_unit_cap_f", pos(1e-18, 1e-12)),
        ("dac_v", pos(1e-3, 10.0)),
        ("samples_per_write", pos(1.0, 1e9)),
    ]:
        if draw(st.booleans()):
            t[key] = draw(strat)
    return t


@st.composite
def rc_spec_table(draw) -> dict:
    t = {"name": draw(names), "family": "rc", "circuit": draw(rc_circuit()), "sim": draw(sim_table())}
    if draw(st.booleans()):
        t["description"] = draw(text)
    energy = draw(energy_table())
    if energy or draw(st.booleans()):
        t["energy"] = energy
    return t


# ---- the parser


def tuples(v):
    """TOML lists → the tuples a frozen dataclass holds; ints where floats belong are the caller's."""
    return tuple(tuples(x) for x in v) if isinstance(v, list) else v


def floats_of(v):
    return tuple(floats_of(x) for x in v) if isinstance(v, list | tuple) else float(v)


def expected_spec(t: dict, path) -> Spec:
    """The dataclasses a valid table describes, built without the parser (lists → tuples, ints → floats)."""
    c = dict(t["circuit"])
    for key in ("c_f", "r_ohm", "coupling_s", "precision", "initial_v", "g0_s"):
        if key in c:
            c[key] = floats_of(c[key])
    for key in ("temperature_k", "noise_temperature_k"):
        if key in c:
            c[key] = float(c[key])
    return Spec(
        name=t["name"],
        family="rc",
        params=RCParams(**c),
        sim=SimSpec(**t["sim"]),
        description=t.get("description", ""),
        path=path,
        energy=EnergySpec(**t.get("energy", {})),
    )


def to_table(spec: Spec) -> dict:
    """A loaded spec written back as a TOML table (tuples → lists, None omitted)."""

    def plain(obj) -> dict:
        return {
            k: _lists(v)
            for k, v in dataclasses.asdict(obj).items()
            if v is not None and not (isinstance(v, tuple) and not v)
        }

    t = {"name": spec.name, "family": spec.family, "description": spec.description}
    return t | {"circuit": plain(spec.params), "sim": plain(spec.sim), "energy": plain(spec.energy)}


def _lists(v):
    return [_lists(x) for x in v] if isinstance(v, tuple) else v


@SETTINGS
@given(table=rc_spec_table())
def test_valid_specs_round_trip(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("spec") / "s.toml"
    path.write_text(tomli_w.dumps(table))
    spec = load_spec(path)
    assert spec == expected_spec(table, path)
    # and back: the loaded dataclasses written as TOML load to the same dataclasses
    again = spec_from_table(tomllib.loads(tomli_w.dumps(to_table(spec))), path)
    assert again == spec


# invalid values by kind of key; each must give a SpecError naming the key
NOT_A_NUMBER = st.one_of(text, st.booleans(), st.dictionaries(st.just("x"), st.integers(), min_size=1))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
NOT_POSITIVE = st.one_of(st.just(0.0), st.just(-0.0), st.floats(max_value=-1e-300, allow_infinity=False))
BAD = {
    "positive": st.one_of(NOT_A_NUMBER, NON_FINITE, NOT_POSITIVE),
    "per_node": st.one_of(NON_FINITE, NOT_POSITIVE, st.booleans(), text),
    "seed": st.one_of(st.integers(max_value=-1), st.floats(allow_nan=False), text, st.booleans()),
    "noise": text.filter(lambda s: s not in ("thermal", "injected")),
    "step": st.one_of(NON_FINITE, NOT_POSITIVE, text.filter(lambda s: s != "auto"), st.booleans()),
    "burn": st.one_of(NON_FINITE, st.floats(max_value=-1e-300, allow_infinity=False), st.booleans()),
    "bits": st.one_of(st.integers(max_value=0), st.integers(min_value=33), st.floats(allow_nan=False), text),
    "matrix": st.one_of(NON_FINITE, text, st.booleans()),
}
KINDS = {
    "circuit.c_f": "per_node",
    "circuit.r_ohm": "per_node",
    "circuit.g0_s": "positive",
    "circuit.temperature_k": "positive",
    "circuit.noise_temperature_k": "positive",
    "circuit.noise": "noise",
    "circuit.precision": "matrix",
    "circuit.coupling_s": "matrix",
    "sim.t_stop_s": "positive",
    "sim.timeout_s": "positive",
    "sim.seed": "seed",
    "sim.noise_step_s": "step",
    "sim.burn_in_s": "burn",
    "energy.temperature_k": "positive",
    "energy.adc_fom_j": "positive",
    "energy.dac_v": "positive",
    "energy.adc_bits": "bits",
    "energy.program_bits": "bits",
}


@SETTINGS
@given(table=rc_spec_table(), data=st.data())
def test_an_invalid_value_is_a_spec_error_naming_its_key(table, data):
    present = [k for k in KINDS if k.split(".")[1] in table.get(k.split(".")[0], {})]
    for section in ("sim", "energy"):  # keys with defaults can be set even when the table omits them
        present += [k for k in KINDS if k.startswith(section) and k not in present]
    key = data.draw(st.sampled_from(sorted(present)), label="key")
    section, name = key.split(".")
    value = data.draw(BAD[KINDS[key]], label="value")
    target = table.setdefault(section, {})
    if KINDS[key] == "matrix":  # one entry of the matrix
        m = [list(r) for r in target[name]]
        i, j = data.draw(st.integers(0, len(m) - 1)), data.draw(st.integers(0, len(m) - 1))
        m[i][j] = value
        value = m
    elif KINDS[key] == "per_node" and isinstance(target[name], list) and data.draw(st.booleans()):
        target[name][data.draw(st.integers(0, len(target[name]) - 1))] = value  # one node's value
        value = target[name]
    target[name] = value
    with pytest.raises(SpecError) as info:
        spec_from_table(table)
    assert key in str(info.value), (key, value, str(info.value))
    assert "\n" not in str(info.value)


@SETTINGS
@given(table=rc_spec_table(), data=st.data())
def test_a_misspelt_key_is_named(table, data):
    section = data.draw(st.sampled_from(["", "circuit", "sim", "energy"]))
    key = data.draw(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True))
    target = table if not section else table.setdefault(section, {})
    allowed = (
        {"name", "family", "description", "circuit", "sim", "energy", "base", "axes"}
        if not section
        else {
            f.name
            for f in dataclasses.fields({"circuit": RCParams, "sim": SimSpec, "energy": EnergySpec}[section])
        }
    )
    if key in allowed:
        key += "_x"
    target[key] = 1.0
    with pytest.raises(SpecError, match=re.escape(f"unknown key '{section + '.' if section else ''}{key}'")):
        spec_from_table(table)


# random junk where a spec belongs: a SpecError or a Spec, never another exception
toml_scalar = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    text,
    st.sampled_from(["auto", "thermal", "injected", "rc", "rlc", "quartic", "cmos_pbit", "cmos_ring"]),
)
toml_value = st.recursive(
    toml_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)


SHIPPED = {p.stem: read_toml(p) for p in sorted(CIRCUITS_DIR.glob("*.toml"))}  # every family


def section_keys(family: str, section: str) -> list[str]:
    if section == "circuit":
        return sorted(f.name for f in dataclasses.fields(FAMILIES[family].params))
    cls = {"sim": SimSpec, "energy": EnergySpec}.get(section)
    return sorted(f.name for f in dataclasses.fields(cls)) if cls else ["name", "family", "description"]


@st.composite
def mutated_table(draw) -> dict:
    """A shipped spec (any family) with 1-3 random changes: a key set to junk, a key deleted, a section
    replaced by junk. Starting from valid specs lets the junk reach every family's own validation."""
    t = copy.deepcopy(SHIPPED[draw(st.sampled_from(sorted(SHIPPED)), label="spec")])
    family = t["family"]
    for _ in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(["", "circuit", "sim", "energy"]))
        keys = section_keys(family, section) if isinstance(t.get(section, {}), dict) else []
        key = draw(st.sampled_from([*keys, "junk"]))
        target = t if not section else t.setdefault(section, {})
        action = draw(st.sampled_from(["set", "set", "set", "delete", "section"]))
        if action == "section" and section:
            t[section] = draw(toml_value)
        elif isinstance(target, dict) and action == "delete":
            target.pop(key, None)
        elif isinstance(target, dict):
            target[key] = draw(toml_value)
    return t


@settings(SETTINGS, max_examples=200)
@given(table=mutated_table())
def test_junk_is_a_spec_error_never_a_crash(table):
    try:
        spec = spec_from_table(table)
    except SpecError as err:
        assert str(err) and "\n" not in str(err)
    else:
        assert isinstance(spec, Spec)


@SETTINGS
@given(t_stop=pos(1e-9, 1e9), step=pos(1e-300, 1e-3))
def test_noise_step_count_is_refused_above_the_limit(t_stop, step):
    table = {"name": "t", "family": "rc", "circuit": {"c_f": 1e-12, "r_ohm": 1e6}}
    table["sim"] = {"t_stop_s": t_stop, "noise_step_s": step}
    if t_stop / step <= MAX_NOISE_STEPS:
        spec_from_table(table)
    else:
        with pytest.raises(SpecError, match=r"sim\.t_stop_s / sim\.noise_step_s = .* noise steps"):
            spec_from_table(table)


# ---- the precision-matrix compilers


def netlist_conductance(netlist: str, n: int) -> np.ndarray:
    """G read back from an rc netlist: grounded resistors, resistors between nodes (any sign: a matched pair
    of couplings) and VCCS gains (off-diagonal)."""
    g = np.zeros((n, n))
    for line in netlist.splitlines():
        f = line.split()
        if re.fullmatch(r"R\d+", f[0] if f else "") and f[2] == "0":
            i = int(f[1][1:]) - 1
            g[i, i] += 1.0 / float(f[3])
        elif f and re.fullmatch(r"R\d+_\d+", f[0]):
            i, j, c = int(f[1][1:]) - 1, int(f[2][1:]) - 1, 1.0 / float(f[3])
            g[[i, j], [i, j]] += c
            g[i, j] -= c
            g[j, i] -= c
        elif f and re.fullmatch(r"G\d+_\d+", f[0]):
            g[int(f[1][1:]) - 1, int(f[3][1:]) - 1] += float(f[5])
    return g


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


@SETTINGS
@given(
    data=st.data(),
    n=st.integers(1, 6),
    c=pos(1e-14, 1e-10),
    g0=pos(1e-8, 1e-3),
    t=pos(1.0, 1e9),
)
def test_rc_precision_compiles_to_the_exact_covariance(data, n, c, g0, t):
    p = data.draw(spd(n), label="P")
    table = {"name": "p", "family": "rc", "sim": {"t_stop_s": 1.0}}
    table["circuit"] = {
        "precision": p.tolist(),
        "c_f": c,
        "g0_s": g0,
        "noise": "injected",
        "noise_temperature_k": t,
    }
    built = FAMILIES["rc"].build(spec_from_table(table).params)
    # the netlist realises G = g0·P: grounded resistors and one conductance −g0·P_ij per pair
    assert rel_err(netlist_conductance(str(built.circuit), n), g0 * p) < 1e-12
    # the Lyapunov theory of the built circuit is (kT/C)·P⁻¹, to rounding (cond(P) <= 25)
    assert rel_err(built.law().cov, K_B * t / c * np.linalg.inv(p)) < 1e-9


@st.composite
def m_matrix(draw, n: int) -> np.ndarray:
    """An SPD M-matrix with positive row sums: −w on the off-diagonals (w >= 0), row sums s > 0."""
    w = np.triu(draw(arrays(np.float64, (n, n), elements=st.floats(0, 2))), 1)
    w = w + w.T
    s = np.array(draw(st.lists(st.floats(0.1, 3), min_size=n, max_size=n)))
    return np.diag(w.sum(1) + s) - w


@SETTINGS
@given(data=st.data(), n=st.integers(1, 5), c_unit=pos(1e-12, 1e-8), l_h=pos(1e-7, 1e-4), t=pos(1.0, 1e4))
def test_rlc_precision_compiles_to_equipartition(data, n, c_unit, l_h, t):
    p = data.draw(m_matrix(n), label="P")
    table = {"name": "p", "family": "rlc", "sim": {"t_stop_s": 1.0}}
    table["circuit"] = {"precision": p.tolist(), "c_unit_f": c_unit, "l_h": l_h, "temperature_k": t}
    built = FAMILIES["rlc"].build(spec_from_table(table).params)
    cov = built.law().cov
    sv, si = K_B * t / c_unit * np.linalg.inv(p), K_B * t / l_h * np.eye(n)
    assert rel_err(cov[:n, :n], sv) < 1e-7
    assert rel_err(cov[n:, n:], si) < 1e-7
    assert np.abs(cov[:n, n:]).max() < 1e-7 * math.sqrt(np.abs(sv).max() * np.abs(si).max())


@SETTINGS
@given(data=st.data(), n=st.integers(1, 5), family=st.sampled_from(["rc", "rlc"]))
def test_non_spd_precision_is_a_spec_error(data, n, family):
    kind = data.draw(st.sampled_from(["indefinite", "asymmetric", "ragged"]))
    if kind == "indefinite":  # at least one eigenvalue <= -0.05
        lam = data.draw(st.lists(st.floats(-5, 5), min_size=n, max_size=n))
        lam[data.draw(st.integers(0, n - 1))] = data.draw(st.floats(-5, -0.05))
        b = data.draw(arrays(np.float64, (n, n), elements=st.floats(-1, 1)))
        q, _ = np.linalg.qr(b + 3 * np.eye(n))
        m = q @ np.diag(lam) @ q.T
        m = ((m + m.T) / 2).tolist()
    elif kind == "asymmetric":
        n = max(n, 2)
        m = data.draw(spd(n))
        i, j = data.draw(st.sampled_from([(i, j) for i in range(n) for j in range(n) if i != j]))
        m[i, j] += data.draw(st.floats(1e-6, 1.0)) * data.draw(st.sampled_from([-1, 1]))
        m = m.tolist()
    else:
        rows = data.draw(
            st.lists(st.integers(0, n + 1), min_size=n, max_size=n).filter(lambda r: set(r) != {n})
        )
        m = [[1.0] * r for r in rows]
    table = {"name": "p", "family": family, "sim": {"t_stop_s": 1.0}, "circuit": {"precision": m}}
    table["circuit"] |= {"noise": "injected", "noise_temperature_k": 1e6} if family == "rc" else {}
    with pytest.raises(SpecError, match=r"circuit\.(precision|n)"):
        spec_from_table(table)
