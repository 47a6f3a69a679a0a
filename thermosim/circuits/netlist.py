"""Family ``netlist``: a netlist written by anyone, with calibrated Johnson noise on every resistor and,
when it is linear, its exact stationary law.

The netlist is read as it is (see :mod:`thermosim.spice.parse`): ``values`` may set element values and
``.param``\\ s first (sweeps), its analysis and output cards are dropped (thermosim runs its own fixed-step
transient), TRNOISE/TRRANDOM in its sources are removed (unseeded in ngspice 39; reported) and every
resistor's Johnson current at ``temperature_k`` is injected through the netlist's own capacitors
(:mod:`thermosim.spice.thermal`). When every element is linear (R, C, L, G, E, F, H, DC sources) the
theory is the stochastic MNA model's Lyapunov covariance and DC mean (:mod:`thermosim.analysis.mna`); for
a passive network at one temperature that is kT·C⁻¹. A netlist with anything else (a diode, a transistor,
a B source, a subcircuit, a time-varying source) is measured only: the run reports its statistics and no
verdict. Include files must lie in the netlist's folder and hold no control script (checked).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.mna import NotLinear, linear_law
from ..errors import SpecError, positive
from ..spice.foreign import NETLIST_SUFFIXES, prepare_foreign
from ..spice.guard import check_netlist
from ..spice.parse import NetlistError, parse, probe_name, set_values
from ..spice.thermal import thermalize
from .built import Built, Energy, Supply, Theory
from .registry import register

MAX_NETLIST_BYTES = 10 * 2**20
MAX_THEORY_UNKNOWNS = 500  # node voltages + branch currents: the dense Lyapunov solve takes ~4 s here at 500
STARTER_NETLIST = """two RC nodes coupled by a resistor and a capacitor (thermosim init: edit freely)
* at temperature T every node voltage fluctuates with covariance kT times the inverse capacitance matrix
V1 in 0 dc 1
R1 in n1 10k
R2 n1 n2 22k
R3 n2 0 47k
C1 n1 0 1p
C2 n2 0 2p
Cc n1 n2 0.5p
.tran 1n 20u
.end
"""


@dataclass(frozen=True)
class NetlistParams:
    # the netlist file (.cir, .net, .sp, .spice); a relative path is read from the spec file's folder
    file: str
    temperature_k: float = 300.0  # temperature of every resistor: Johnson current noise 4kT/R (one-sided)
    # variables to sample: node names ("n1"), "v(n1)" or branch currents "i(v1)", "i(l1)"; empty: every
    # node voltage that is not held by a source
    probes: tuple[str, ...] = ()
    # element values and .params set before the run, e.g. {r1 = "10k", cload = 1e-12} (sweepable as
    # circuit.values.NAME)
    values: dict[str, float] = field(default_factory=dict)

    def validate(self, where: str) -> None:
        positive(self.temperature_k, f"{where}.temperature_k")
        if Path(self.file).suffix.lower() not in NETLIST_SUFFIXES:
            raise SpecError(f"{where}.file = {self.file!r} must be a netlist ({', '.join(NETLIST_SUFFIXES)})")

    def beside(self, folder: Path) -> NetlistParams:
        """The same params with ``file`` made absolute from ``folder`` (the spec file's)."""
        return dataclasses.replace(self, file=str((Path(folder) / self.file).resolve()))


class TextCircuit:
    """A netlist given as text, in the place of a PySpice circuit (the noise plan appends to it)."""

    def __init__(self, text: str) -> None:
        self.text, self.raw_spice = text, ""

    def __str__(self) -> str:
        return self.text.rstrip() + "\n" + self.raw_spice


def read_netlist(file: str | Path, values: dict[str, float] | None = None) -> tuple[str, list[str]]:
    """(netlist text with its control block commented out and ``values`` set, notes); SpecError naming the
    file when it cannot be read."""
    path = Path(file)
    try:
        if path.stat().st_size > MAX_NETLIST_BYTES:
            raise SpecError(f"{path}: larger than {MAX_NETLIST_BYTES // 2**20} MiB; refused")
        text, notes = prepare_foreign(path.read_text(errors="replace"), require_tran=False)
        return (set_values(text, values) if values else text), notes
    except OSError as err:
        raise SpecError(f"{path}: cannot read the netlist: {err.strerror}") from None
    except ValueError as err:  # NetlistError included
        raise SpecError(f"{path}: {err}") from None


@register("netlist", NetlistParams)
def build(p: NetlistParams) -> Built:
    path = Path(p.file)
    text, notes = read_netlist(path, p.values)
    files = check_netlist(text, path.parent, source=str(path))  # hostile includes are refused here
    try:
        parsed = parse(text)
        thermal = thermalize(parsed, p.temperature_k)
    except NetlistError as err:
        raise SpecError(f"{path}: {err}") from None
    law, why = None, "; ".join(parsed.unsupported)
    size = len({n for e in parsed.elements for n in e.nodes}) + sum(e.kind in "vehl" for e in parsed.elements)
    if size > MAX_THEORY_UNKNOWNS:  # the exact law is dense O(n³): beyond this, measured only
        why = f"{size} unknowns, more than the {MAX_THEORY_UNKNOWNS} the dense exact theory solves"
    elif not parsed.unsupported:
        try:
            law = linear_law(parsed.elements, p.temperature_k)
        except NotLinear as err:
            why = str(err)
    nodes = sorted({n for e in parsed.elements for n in e.nodes} - {"0"})
    currents = [f"i({e.name})" for e in parsed.elements if e.kind in "vehl"]
    white = set(law.white) if law else set()
    probes = [probe_name(x) for x in p.probes] or [
        f"v({n})" for n in nodes if n not in thermal.held and f"v({n})" not in white
    ]
    for v in probes:
        if v not in [f"v({n})" for n in nodes] + currents:
            raise SpecError(
                f"{path}: circuit.probes: no variable {v} in the netlist (nodes: {', '.join(nodes[:12])}"
                + (f"; currents: {', '.join(currents[:6])}" if currents else "")
                + ")"
            )
        if v.startswith("v(") and v[2:-1] in thermal.held:
            raise SpecError(
                f"{path}: circuit.probes: {v} is held by a voltage source (no fluctuation to sample)"
            )
        if v in white:
            raise SpecError(
                f"{path}: circuit.probes: {v} carries white noise (a resistor's Johnson current reaches it "
                "through no capacitor or inductor), so it has no finite variance"
            )
    if not probes:
        raise SpecError(f"{path}: no node voltage to sample (every node is held by a source)")
    if law is not None:
        mean, cov = law.select(probes)
        theory, tau_fast, tau_slow = Theory(mean, cov), law.tau_fast_s, law.tau_slow_s
    else:
        if parsed.tran is None:
            raise SpecError(f"{path}: a nonlinear netlist needs a .tran card (its step sets the noise step)")
        # no eigenvalues to go by: the netlist's own .tran step is the resolution its author chose
        theory, tau_fast, tau_slow = Theory.unknown(len(probes)), 10 * parsed.tran[0], parsed.tran[1] / 100
    supplies = tuple(
        Supply(e.name, e.nodes[0], None if e.nodes[1] == "0" else e.nodes[1])
        for e in parsed.elements
        if e.kind == "v" and e.value and not e.functions and e.nodes[0] != "0"
    )
    info = {
        "netlist": str(path),
        "temperature_k": p.temperature_k,
        "theory": "exact: stochastic MNA, Lyapunov" if law else f"no exact law: {why}",
        "noise_ports": len(thermal.plan.nodes),
        "notes": notes + thermal.notes,
    }
    return Built(
        circuit=TextCircuit("\n".join([parsed.title, *thermal.body])),
        noise=thermal.plan,
        variables=tuple(probes),
        theory=theory,
        tau_fast_s=tau_fast,
        tau_slow_s=tau_slow,
        energy=Energy(supplies=supplies),
        info=info,
        linear=law is not None,
        files=tuple(
            (rel, (path.parent / rel).read_bytes()) for rel, _ in files if (path.parent / rel).is_file()
        ),
    )
