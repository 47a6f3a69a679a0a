"""Calibrated, seeded Johnson noise for a netlist written by anyone (``thermosim run X.cir --thermal T``).

Every resistor's Johnson current (two-sided PSD 2kT/R) is injected as charge through capacitors, the same
engine as the families (:mod:`.noise`): a capacitor whose far plate is driven by W(t) puts C·dW/dt into
its node. A netlist has its own capacitors, often floating ones, so the charge a resistor injects at node
n is routed along a spanning forest of capacitors from n to ground: W on each capacitor of that path
carries the charge one step on, and every intermediate node receives and passes it on, so n alone gains
it. A capacitor to ground is driven at its grounded plate; a floating one through an ideal unity-gain
VCVS that adds W to its far node (no current drawn, nothing else changed). Nodes held by voltage sources
count as ground (a current injected there flows into the source and changes no voltage).

A resistor terminal with no capacitive path to ground is refused: its voltage would carry white noise,
whose variance no circuit of finite bandwidth has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .noise import DRIVE_PREFIX, NoisePlan
from .parse import GROUND, NetlistError, Parsed, tokens

# analysis and output cards: thermosim runs its own fixed-step transient and saves its own vectors
DROPPED_CARDS = (".tran", ".end", ".op", ".ac", ".dc", ".noise", ".tf", ".pz", ".sens", ".disto", ".four")
DROPPED_CARDS += (".meas", ".measure", ".print", ".plot", ".probe", ".save", ".width")
_NOISE_CALL = re.compile(r"\b(trnoise|trrandom)\s*\([^)]*\)", re.I)
FLOAT_PREFIX = "nzf_"  # the far plate of a floating capacitor that carries noise


@dataclass
class Thermal:
    body: list[str]  # the netlist's cards (title excluded), rewritten: noise drives in, analyses out
    plan: NoisePlan
    held: set[str]  # nodes at a fixed voltage (ground and nodes held by voltage sources)
    notes: list[str] = field(default_factory=list)


def held_nodes(parsed: Parsed) -> set[str]:
    """Ground and every node a chain of voltage sources (V, E, H) ties to it."""
    held, grew = {"0"}, True
    while grew:
        grew = False
        for e in parsed.elements:
            if e.kind in "veh" and len(e.nodes) >= 2 and (e.nodes[0] in held) != (e.nodes[1] in held):
                held |= set(e.nodes[:2])
                grew = True
    return held


def thermalize(parsed: Parsed, temperature_k: float) -> Thermal:
    """Rewrite a parsed netlist so every noisy resistor carries its Johnson noise at ``temperature_k``."""
    held = held_nodes(parsed)
    resistors = [e for e in parsed.elements if e.kind == "r" and e.value and e.value > 0 and e.noisy]
    active = [e.name for e in parsed.elements if e.kind == "r" and e.value and e.value < 0]
    # a spanning forest of capacitors grown from the held nodes: parent[node] = (capacitor, parent node)
    parent: dict[str, tuple] = {}
    frontier = set(held)
    caps = [e for e in parsed.elements if e.kind == "c" and e.value and e.value > 0]
    while frontier:  # breadth first: every node gets the shortest capacitor path to ground
        nxt = set()
        for c in caps:
            a, b = c.nodes
            for near, far in ((a, b), (b, a)):
                if near in frontier and far not in held and far not in parent:
                    parent[far] = (c, near)
                    nxt.add(far)
        frontier = nxt
    routes: dict[str, tuple[tuple[str, float], ...]] = {n: () for n in held}
    ports: dict[str, tuple] = {}  # capacitor name -> (capacitor, the node it hands the charge to)

    def route(node: str) -> None:  # the capacitors from node down to a held node (iterative: deep chains)
        path = []
        while node not in routes:
            cap, up = parent[node]
            ports[cap.name] = (cap, up)
            path.append((node, cap.name))
            node = up
        for n, cap_name in reversed(path):
            routes[n] = ((cap_name, 1.0),) + routes[node]
            node = n

    plan = NoisePlan(file_stem="noise")
    for r in resistors:
        for node in r.nodes:
            if node not in held and node not in parent:
                raise NetlistError(
                    f"node '{node}' has no path to ground through capacitors, so the Johnson noise of "
                    f"{r.name} cannot be injected there exactly (add a capacitor from '{node}' to ground, "
                    "or mark the resistor noisy=0)"
                )
        route(r.nodes[0]), route(r.nodes[1])
    for name, (cap, _) in ports.items():
        plan.nodes.append(name)
        plan.caps_f.append(cap.value)
    plan.routes = routes
    for r in resistors:
        a, b = (None if n == "0" else n for n in r.nodes)
        plan.johnson(a, b, r.value, temperature_k)

    existing = {n for e in parsed.elements for n in e.nodes} | {e.name for e in parsed.elements}
    clash = [
        x
        for name in ports
        for x in (DRIVE_PREFIX + name, FLOAT_PREFIX + name, "e" + DRIVE_PREFIX + name)
        if x in existing
    ]
    if clash:
        raise NetlistError(
            f"the netlist already uses the name '{clash[0]}', which thermosim's noise drive needs"
        )

    by_line = {e.line: e for e in parsed.elements}
    body, notes, dropped, depth = [], [], [], 0
    for line in parsed.lines:
        low = line.text.lower()
        depth += low.startswith(".subckt") - low.startswith(".ends")
        head = low.split()[0]
        if depth == 0 and head in DROPPED_CARDS:
            if head not in (".tran", ".end"):
                dropped.append(head)
            continue
        element = by_line.get(line.number) if depth == 0 else None
        text = line.text
        if element is not None and element.kind in "vi" and _NOISE_CALL.search(text):
            text = _NOISE_CALL.sub("", text).rstrip()
            if len(tokens(text)) < 4:
                text += " 0"
            notes.append(
                f"removed the {'/'.join(sorted({f for f in element.functions if f.startswith('tr')}))} "
                f"of {element.name}: ngspice 39 seeds it from the process id; --thermal supplies the "
                "seeded Johnson noise"
            )
        if element is not None and element.name in ports:
            cap, up = ports[element.name]
            fields = tokens(text)
            far = 1 if ("0" if fields[1].lower() in GROUND else fields[1].lower()) == up else 2
            drive = DRIVE_PREFIX + cap.name
            if up == "0":
                fields[far] = drive
            else:
                fields[far] = FLOAT_PREFIX + cap.name
                body.append(" ".join(fields))
                text = f"e{drive} {FLOAT_PREFIX + cap.name} {up} {drive} 0 1"
                body.append(text)
                continue
            text = " ".join(fields)
        body.append(text)
    if active:  # a negative resistance is an active element: fluctuation–dissipation does not apply
        notes.append(
            f"no Johnson noise on the negative resistor(s) {', '.join(active[:8])} (active elements)"
        )
    if dropped:
        notes.append(
            f"dropped {', '.join(sorted(set(dropped)))}: thermosim runs its own fixed-step transient"
        )
    notes.append(
        f"Johnson noise at {temperature_k:g} K on {len(resistors)} resistor(s), injected through "
        f"{len(ports)} capacitor(s)"
    )
    return Thermal(body=body, plan=plan, held=held, notes=notes)
