"""Circuit specs: TOML → frozen dataclasses, validated once at the edge.

A spec names a registered builder (``family``) and its settings::

    name = "gauss4"
    family = "rc"
    description = "..."
    [circuit]       # the family's parameters (units in the names), validated by its dataclass
    [sim]           # SimSpec below
    [energy]        # optional: EnergySpec below (read-out, programming and temperature assumptions)

Every error is a :class:`SpecError` whose one-line message names the file and the key.
"""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

from ..errors import (
    MAX_SEED,
    SpecError,
    plain_name,
    positive,
    printable,
    spice_number,
)
from ..paths import CIRCUITS_DIR

# Limits that refuse absurd input up front instead of running out of memory or time: ngspice costs about
# 2 µs per time point for a tiny circuit (and 8 bytes per vector per point of raw file), so 2·10⁸ noise
# steps is minutes of ngspice and gigabytes of raw data; 4096 nodes is 8× the largest benchmarked network.
MAX_NOISE_STEPS = 200_000_000
MAX_NODES = 4096


@dataclass(frozen=True)
class SimSpec:
    """How long and how finely to simulate.

    noise_step_s: "auto" = fastest relaxation time / 10. burn_in_s: "auto" = 10 × slowest relaxation time.
    """

    # simulated time, burn-in included; rounded up to a whole number of noise steps (at least 79)
    t_stop_s: float
    # step of the noise grid and of ngspice's fixed time step (one noise sample per step); "auto": the
    # fastest relaxation time / 10
    noise_step_s: float | Literal["auto"] = "auto"
    # time dropped from the start before analysis (0 keeps all); "auto": 10 × the slowest relaxation time
    burn_in_s: float | Literal["auto"] = "auto"
    seed: int = 1  # seed of the noise streams (0 … 2⁶⁴ − 1): the same seed gives the same run, bit for bit
    # wall-clock limit of each ngspice process of the run (THERMOSIM_NGSPICE_TIMEOUT_S caps it)
    timeout_s: float = 3600.0

    def validate(self, where: str) -> None:
        positive(self.t_stop_s, f"{where}.t_stop_s")
        for key in ("noise_step_s", "burn_in_s"):
            v = getattr(self, key)
            if v != "auto":
                positive(v, f"{where}.{key}", allow_zero=key == "burn_in_s")
        if self.noise_step_s != "auto":
            check_steps(self.t_stop_s, self.noise_step_s, where)
        positive(self.timeout_s, f"{where}.timeout_s")
        if not 0 <= self.seed <= MAX_SEED:
            raise SpecError(f"{where}.seed must be an integer from 0 to 2**64 - 1, got {self.seed}")


@dataclass(frozen=True)
class EnergySpec:
    """Assumptions of the energy table (thermosim.analysis.energy): read-out, programming, temperature.

    temperature_k: the physical temperature of kT units and the Landauer bound. adc_bits / adc_fom_j:
    each independent sample converts the values the family reads out (every variable unless the family
    declares fewer, e.g. one bit for a p-bit) with a Walden-FOM ADC. program_bits, dac_unit_cap_f,
    dac_v: a capacitor DAC writes each programmable value; samples_per_write amortises one write
    (default: the run's independent samples).
    """

    # physical temperature of the Landauer bound (and the kT of the heat line when the family declares no
    # noise temperature)
    temperature_k: float = 300.0
    # resolution of the ADC conversion of each read-out value (1 … 32); also the output bits of the bound
    adc_bits: int = 8
    adc_fom_j: float = 2.2e-15  # Walden figure of merit per conversion step: a conversion costs FOM·2^bits
    program_bits: int = 8  # resolution of the capacitor DAC that writes each programmable value (1 … 32)
    dac_unit_cap_f: float = 1e-15  # the DAC's unit capacitor: a write costs 2^bits·C_unit·V² per value
    dac_v: float = 1.0  # the DAC's reference voltage V
    # independent samples one write of the programmable values is amortised over (dimensionless);
    # default: the run's independent samples
    samples_per_write: float | None = None

    def validate(self, where: str) -> None:
        for key in ("temperature_k", "adc_fom_j", "dac_unit_cap_f", "dac_v"):
            positive(getattr(self, key), f"{where}.{key}")
        for key in ("adc_bits", "program_bits"):
            if not 1 <= getattr(self, key) <= 32:
                raise SpecError(f"{where}.{key} must be between 1 and 32, got {getattr(self, key)}")
        if self.samples_per_write is not None:
            positive(self.samples_per_write, f"{where}.samples_per_write")


@dataclass(frozen=True)
class Spec:
    name: str
    family: str
    params: Any  # the family's frozen params dataclass
    sim: SimSpec
    description: str = ""
    path: Path | None = None
    energy: EnergySpec = EnergySpec()


def check_steps(t_stop_s: float, noise_step_s: float, where: str = "sim", why: str = "") -> int:
    """The number of noise steps t_stop/step, refused (SpecError naming both keys) above MAX_NOISE_STEPS."""
    steps = t_stop_s / noise_step_s
    if not steps <= MAX_NOISE_STEPS:  # also catches inf and nan
        raise SpecError(
            f"{where}.t_stop_s / {where}.noise_step_s = {t_stop_s:g} s / {noise_step_s:g} s{why} "
            f"= {steps:.3g} noise steps, more than {MAX_NOISE_STEPS:.0e} per run "
            f"(raise {where}.noise_step_s or shorten {where}.t_stop_s)"
        )
    return math.ceil(steps - 1e-9)


def find_spec(name_or_path: str | Path, directory: Path = CIRCUITS_DIR, what: str = "spec") -> Path:
    """A TOML file by path, or by name: ``NAME.toml`` in the current folder, else in ``directory``
    (``gauss4`` → circuits/gauss4.toml)."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise SpecError(f"{p}: no such {what} file")
        return p
    for folder in (Path.cwd(), directory):  # a name: the current folder first, then the shipped ones
        cand = folder / f"{p.name}.toml"
        if cand.is_file():
            return cand
    names = ", ".join(sorted(x.stem for x in directory.glob("*.toml")))
    raise SpecError(f"{name_or_path}: no such {what} (known: {names})")


def read_toml(path: Path) -> dict:
    """Parse a TOML file; SpecError naming the file when it cannot be read or parsed."""
    try:
        return tomllib.loads(Path(path).read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise SpecError(f"{path}: not valid TOML: {err}") from None
    except RecursionError:  # tomllib parses arrays and tables recursively
        raise SpecError(f"{path}: arrays or tables nested too deeply to read") from None
    except OSError as err:
        raise SpecError(f"{path}: cannot read: {err.strerror}") from None


def load_spec(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> Spec:
    """Read, parse and validate a spec file (a path, or a name: NAME.toml here, else a shipped spec);
    ``overrides`` sets dotted keys first (``{"sim.seed": 3, "circuit.c_f": 2e-12}``). Raises SpecError
    naming the file and key."""
    path = find_spec(name_or_path)
    table = read_toml(path)
    if overrides:
        try:
            table = with_overrides(table, overrides)
        except SpecError as err:
            raise SpecError(f"{path}: {err}") from None
    try:
        return spec_from_table(table, path)
    except SpecError as err:
        raise SpecError(f"{path}: {err}") from None


def with_overrides(table: dict, overrides: dict[str, Any]) -> dict:
    """A deep copy of a spec table with dotted keys set (``{"sim.seed": 3}``); validation is the caller's.

    Only ``circuit.*``, ``sim.*`` and ``energy.*`` may be overridden (name and family define the circuit).
    A key may address one element of a value the spec gives: ``circuit.c_f[2]`` (a list element),
    ``circuit.precision[0][1]`` (a matrix element; [1][0] too when the spec's matrix is symmetric) or
    ``circuit.values.R1`` (an entry of a table-valued parameter).
    """
    import copy

    out = copy.deepcopy(table)
    for key, value in overrides.items():
        m = _KEY.match(key) if isinstance(key, str) else None
        if m is None:
            raise SpecError(
                f"'{printable(str(key))}' is not a circuit, sim or energy parameter (write 'circuit.NAME', "
                "'sim.NAME', 'circuit.NAME[i]', 'circuit.NAME[i][j]' or 'circuit.NAME.ENTRY')"
            )
        section, name, index, entry = m.group(1), m.group(2), m.group(3), m.group(4)
        params = out.setdefault(section, {})
        if not isinstance(params, dict):
            raise SpecError(f"[{section}] must be a table, got {type(params).__name__}")
        if entry is not None:  # circuit.values.R1: an entry of a table-valued parameter
            inner = params.setdefault(name, {})
            if not isinstance(inner, dict):
                raise SpecError(f"{key}: {section}.{name} is {_show(inner)}, not a table of entries")
            inner[entry] = value
        elif index:
            _set_element(params, section, name, [int(i) for i in re.findall(r"\d+", index)], value, key)
        else:
            params[name] = value
    return out


# section.name, then [i] indices (a list or matrix element) or .entry (a key inside a table-valued parameter)
_KEY = re.compile(r"^(circuit|sim|energy)\.([A-Za-z_]\w*)((?:\[\d+\])*)(?:\.([A-Za-z_][\w.+-]*))?$")


def _shape(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(r, list) for r in value):
        return (
            f"a {len(value)}×{len(value[0])} matrix" if len({len(r) for r in value}) == 1 else "a nested list"
        )
    return f"a list of {len(value)}" if isinstance(value, list) else f"{_show(value)}"


def _set_element(params: dict, section: str, name: str, idx: list[int], value: Any, key: str) -> None:
    """Set ``params[name][i][j]...`` in place; the value must be in the spec, the indices in range."""
    if name not in params:
        raise SpecError(
            f"{key}: the spec gives no {section}.{name} to set an element of (set the whole value instead)"
        )
    whole = params[name]
    target = whole
    for depth, i in enumerate(idx):
        if not isinstance(target, list):
            raise SpecError(f"{key}: too many indices for {section}.{name}, {_shape(whole)}")
        if i >= len(target):
            raise SpecError(f"{key}: index out of range for {section}.{name}, {_shape(whole)}")
        if depth == len(idx) - 1:
            break
        target = target[i]
    square = (
        len(idx) == 2
        and all(isinstance(r, list) and len(r) == len(whole) for r in whole)
        and all(whole[i][j] == whole[j][i] for i in range(len(whole)) for j in range(i))
    )
    target[idx[-1]] = value
    if square:  # a symmetric matrix stays symmetric
        whole[idx[1]][idx[0]] = value


def spec_from_table(table: dict, path: Path | None = None) -> Spec:
    from ..circuits import FAMILIES  # the registry lives with the builders

    allowed = {"name", "family", "description", "circuit", "sim", "energy"}
    if "base" in table and "axes" in table:
        raise SpecError("this is a sweep spec (it has 'base' and 'axes'): run it with `thermosim sweep`")
    _no_unknown(table, allowed, "")
    for key in ("name", "family", "circuit", "sim"):
        if key not in table:
            raise SpecError(f"missing required key '{key}'")
    name = plain_name(table["name"], "name")
    family = _typed(table["family"], str, "family")
    if family not in FAMILIES:
        raise SpecError(
            f"family = {family!r} is not a known circuit family (known: {', '.join(sorted(FAMILIES))})"
        )
    params = build_dataclass(FAMILIES[family].params, table["circuit"], "circuit")
    size = getattr(params, "size", None)
    if size is not None and size() > MAX_NODES:  # before validation allocates anything per node
        raise SpecError(f"circuit.n = {size()} nodes is more than {MAX_NODES} (the most thermosim runs)")
    if hasattr(params, "validate"):  # a family may validate beyond the field types
        params.validate("circuit")
    if hasattr(params, "beside"):  # files a spec names are relative to the spec's folder
        params = params.beside(path.parent if path is not None else Path.cwd())
    sim = build_dataclass(SimSpec, table["sim"], "sim")
    sim.validate("sim")
    description = _typed(table.get("description", ""), str, "description")
    energy = build_dataclass(EnergySpec, table.get("energy", {}), "energy")
    energy.validate("energy")
    return Spec(
        name=name, family=family, params=params, sim=sim, description=description, path=path, energy=energy
    )


def build_dataclass(cls: type, table: Any, where: str) -> Any:
    """Instantiate a frozen dataclass from a TOML table, checking keys and types; lists become tuples."""
    if not isinstance(table, dict):
        raise SpecError(f"[{where}] must be a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    _no_unknown(table, set(fields), where)
    values = {}
    for name, f in fields.items():
        key = f"{where}.{name}"
        if name in table:
            values[name] = _coerce(table[name], hints[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SpecError(f"missing required key '{key}'")
    return cls(**values)


def _no_unknown(table: dict, allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            import difflib

            near = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else f" (allowed: {', '.join(sorted(allowed))})"
            raise SpecError(f"unknown key '{where + '.' if where else ''}{printable(key)}'{hint}")


def _typed(value: Any, typ: type, key: str) -> Any:
    if not isinstance(value, typ) or (typ is not bool and isinstance(value, bool)):
        raise SpecError(f"{key} must be {typ.__name__}, got {type(value).__name__} {value!r}")
    return value


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against a type hint (float, int, str, bool, Literal, unions, tuple[...] nests)."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            try:
                return _coerce(value, option, key)
            except SpecError as err:
                if isinstance(value, list) and typing.get_origin(option) is tuple:
                    raise  # a list it is: the element at fault, e.g. "circuit.c_f[1] must be ..."
                errors.append(str(err).split(" must be ", 1)[-1].split(", got")[0])
        raise SpecError(f"{key} must be {' or '.join(errors)}, got {_show(value)}")
    if origin is Literal:
        options = typing.get_args(hint)
        if value in options and isinstance(value, type(options[0])):
            return value
        raise SpecError(f"{key} must be one of {', '.join(repr(o) for o in options)}, got {_show(value)}")
    if hint is type(None):
        raise SpecError(f"{key} must be omitted, got {_show(value)}")
    if origin is dict:  # a table of named values, e.g. a netlist's element values
        if not isinstance(value, dict):
            raise SpecError(f"{key} must be a table, got {_show(value)}")
        inner = typing.get_args(hint)[1]
        return {str(k): _coerce(v, inner, f"{key}.{k}") for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise SpecError(f"{key} must be a list, got {_show(value)}")
        inner = typing.get_args(hint)[0]
        return tuple(_coerce(v, inner, f"{key}[{i}]") for i, v in enumerate(value))
    if hint is float:
        if isinstance(value, str) and spice_number(value) is not None:
            value = spice_number(value)  # "10k", "1Meg", "2.2p": SPICE's suffixes
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{key} must be a number, got {_show(value)}")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond float range
            number = math.inf
        if not math.isfinite(number):  # TOML has nan and inf; no parameter means them
            raise SpecError(f"{key} must be a finite number, got {_show(value)}")
        return number
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SpecError(f"{key} must be an integer, got {_show(value)}")
        return value
    if hint in (str, bool):
        return _typed(value, hint, key)
    raise TypeError(f"unsupported spec type {hint!r} for {key}")


def _show(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"[:80]
