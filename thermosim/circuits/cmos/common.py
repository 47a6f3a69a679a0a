"""What the transistor-level families share: model cards, the common params, inlining, hooks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import SpecError, positive
from ...paths import MODELS_DIR
from ...spice.errors import SpiceError
from ...spice.guard import scan_text

DEFAULT_CARD = "cmos_0p5um_level1.lib"
EPS_OX = 3.9 * 8.8541878128e-12  # F/m, SiO₂


@dataclass(frozen=True)
class Model:
    """One ``.model`` of a card: its name, type (``nmos``/``pmos``) and parameters (lower-case keys)."""

    name: str
    kind: str
    params: dict

    def k_prime(self) -> float:
        """Process transconductance k' = µ·C_ox (A/V²): KP if the card gives it, else UO·ε_ox/TOX."""
        if "kp" in self.params:
            return self.params["kp"]
        return self.params.get("uo", 600.0) * 1e-4 * EPS_OX / self.params.get("tox", 1e-7)

    def beta(self, w_m: float, l_m: float) -> float:
        """β = k'·W/L_eff (A/V²), L_eff = L − 2·LD (the square-law current is β/2·V_ov²)."""
        return self.k_prime() * w_m / (l_m - 2 * self.params.get("ld", 0.0))

    @property
    def vt(self) -> float:
        """|VTO| (V), the zero-bias threshold magnitude."""
        return abs(self.params.get("vto", 0.0))


@dataclass(frozen=True)
class Card:
    path: Path
    text: str
    models: dict

    def model(self, name: str, kind: str, key: str) -> Model:
        m = self.models.get(name.lower())
        if m is None:
            known = ", ".join(sorted(self.models)) or "none"
            raise SpecError(f"{key} = {name!r} is not a model in {self.path.name} (it defines {known})")
        if m.kind != kind:
            raise SpecError(f"{key} = {name!r} is a {m.kind} model in {self.path.name}, not {kind}")
        return m


def _number(s: str) -> float:
    """A SPICE number: 1e-6, 0.5u, 10n, 3.3 (scale suffixes as SPICE reads them)."""
    m = re.fullmatch(r"([-+]?[\d.]+(?:e[-+]?\d+)?)(meg|[tgkmunpf])?[a-z]*", s.lower())
    if not m:
        raise ValueError(s)
    scale = {
        "t": 1e12,
        "g": 1e9,
        "meg": 1e6,
        "k": 1e3,
        "m": 1e-3,
        "u": 1e-6,
        "n": 1e-9,
        "p": 1e-12,
        "f": 1e-15,
    }
    return float(m.group(1)) * scale.get(m.group(2) or "", 1.0)


def parse_card(text: str) -> dict:
    """The ``.model`` statements of a card (continuation lines joined) → {name: Model}."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw.split(";")[0].rstrip()
        if not line.strip() or line.lstrip().startswith("*"):
            continue
        if line.lstrip().startswith("+") and lines:
            lines[-1] += " " + line.lstrip()[1:]
        else:
            lines.append(line.strip())
    models = {}
    for line in lines:
        m = re.match(r"\.model\s+(\S+)\s+(\w+)\s*\(?(.*?)\)?\s*$", line, re.I)
        if not m:
            continue
        params = {}
        for key, value in re.findall(r"(\w+)\s*=\s*([^\s,()]+)", m.group(3)):
            try:
                params[key.lower()] = _number(value)
            except ValueError:
                params[key.lower()] = value
        models[m.group(1).lower()] = Model(m.group(1).lower(), m.group(2).lower(), params)
    return models


def load_card(name: str, key: str = "circuit.model_card") -> Card:
    """A model card by file name in circuits/models/ (or a path); SpecError naming the key if unusable.

    The card is inlined into the netlist, so it is checked as ngspice would read it: a control block or
    script header is refused (it could run commands), and so are includes (a card must be self-contained).
    """
    p = Path(name)
    path = p if p.is_absolute() or p.parent != Path(".") else MODELS_DIR / p
    if not path.is_file():
        known = ", ".join(sorted(x.name for x in MODELS_DIR.glob("*"))) if MODELS_DIR.is_dir() else "none"
        raise SpecError(f"{key} = {name!r}: no such model card ({path}; known: {known})")
    try:
        text = path.read_text()
        refs = scan_text(text, str(path))
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{key} = {name!r}: cannot read {path}: {err}") from None
    except SpiceError as err:
        raise SpecError(f"{key} = {name!r}: {err}") from None
    for r in (r for r in refs if r.netlist and not r.maybe_section):
        raise SpecError(
            f"{key} = {name!r}: {path}:{r.line} includes '{r.path}'; a model card must be self-contained"
        )
    models = parse_card(text)
    if not models:
        raise SpecError(f"{key} = {name!r}: {path} has no .model statement")
    return Card(path=path, text=text, models=models)


@dataclass(frozen=True)
class CmosParams:
    """Keys every cmos family shares (the process, the supply, the noise)."""

    # MOSFET model card: a file name in circuits/models/ or a path; its text is inlined into the netlist
    model_card: str = DEFAULT_CARD
    nmos_model: str = "nmos0p5"  # name of the card's .model of type nmos used for every NMOS device
    pmos_model: str = "pmos0p5"  # name of the card's .model of type pmos used for every PMOS device
    vdd_v: float = 3.3  # supply voltage VDD (an ideal DC source; its −V·I is the supply power)

    def card(self, where: str = "circuit") -> Card:
        return load_card(self.model_card, f"{where}.model_card")

    def devices(self, where: str = "circuit") -> tuple[Card, Model, Model]:
        card = self.card(where)
        return (
            card,
            card.model(self.nmos_model, "nmos", f"{where}.nmos_model"),
            card.model(self.pmos_model, "pmos", f"{where}.pmos_model"),
        )

    def validate_cmos(self, where: str) -> tuple[Card, Model, Model]:
        positive(self.vdd_v, f"{where}.vdd_v")
        return self.devices(where)


@dataclass(frozen=True)
class NoisyCmosParams(CmosParams):
    """Digital-style cmos circuits: the channel-noise stand-in of the package docstring at each node."""

    # temperature T of the white noise current at each node, two-sided PSD 2·k·T·g_n (raise it to describe
    # injected noise)
    noise_temperature_k: float = 300.0
    # g_n of that noise; default: the NMOS full-drive channel conductance β_n·(VDD − V_Tn) from the card
    noise_conductance_s: float | None = None

    def validate_cmos(self, where: str) -> tuple[Card, Model, Model]:
        positive(self.noise_temperature_k, f"{where}.noise_temperature_k")
        if self.noise_conductance_s is not None:
            positive(self.noise_conductance_s, f"{where}.noise_conductance_s")
        return super().validate_cmos(where)


def inline_card(circuit, card: Card) -> None:
    """Copy the card's text into the netlist (a comment names its file): the netlist stands alone."""
    body = "\n".join(x for x in card.text.splitlines() if x.strip())
    circuit.raw_spice += (
        f"* --- model card circuits/models/{card.path.name} ---\n{body}\n* --- end of card ---\n"
    )


def check_length(l_m: float, models: tuple[Model, ...], key: str) -> None:
    """A channel length must exceed 2·LD of every model that uses it (L_eff = L − 2·LD > 0)."""
    positive(l_m, key)
    for m in models:
        ld = m.params.get("ld", 0.0)
        if l_m <= 2 * ld:
            raise SpecError(f"{key} = {l_m:g} m is not longer than 2·LD = {2 * ld:g} m of model {m.name}")


def report_section(runs: dict, out: Path) -> str:
    """The families' report hook (the demo's transistor-level section; see :mod:`.report`)."""
    from .report import cmos_markdown  # plotting is imported only when a report is written

    return cmos_markdown(runs, out)


def density_figures(metrics: dict, samples, outdir: Path) -> list[str]:
    """cmos_quartic's figure hook: its samples against the exact density (see :mod:`.report`)."""
    from .report import density_figure

    return density_figure(metrics, samples, outdir)
