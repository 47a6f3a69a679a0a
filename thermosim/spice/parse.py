"""Read a netlist written by anyone into its elements: enough of SPICE's grammar to build the exact theory of
a linear circuit, to rewrite element values (sweeps) and to attach calibrated noise.

What is read: the title line, continuation lines (``+``), comments (``*`` lines, ``;`` and `` $ ``
inline), ``.param`` definitions (numbers with SPICE suffixes and ``{expressions}`` of earlier params),
``.subckt`` bodies (skipped: their instances are outside the linear theory), ``.tran``, and the element
lines R C L G E F H V I. Everything else is kept as text and named in :attr:`Parsed.unsupported` when it
is an element the linear theory cannot model (a diode, a transistor, a B source, a subcircuit instance, a
source that varies in time, ...).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass, field

GROUND = ("0", "gnd")
LINEAR_KINDS = "rclgefhvi"
NOISE_FUNCTIONS = ("trnoise", "trrandom")  # ngspice's noise in transient sources
_SCALE = {"t": 1e12, "g": 1e9, "meg": 1e6, "k": 1e3, "mil": 25.4e-6, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_SCALE |= {"p": 1e-12, "f": 1e-15}
# a netlist number: mantissa, an optional scale suffix, then any unit letters ngspice ignores ("10pF")
_NUMBER = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[tgkmunpf])?[a-z]*", re.I)
_FUNCTION = re.compile(r"([a-z_]\w*)\s*\(", re.I)
_ASSIGN = re.compile(r"\s*=\s*")


class NetlistError(ValueError):
    """A netlist thermosim cannot read; the message names the line."""


def netlist_number(token: str) -> float | None:
    """``"10k"`` → 1e4, ``"1pF"`` → 1e-12, ``"1meg"`` → 1e6 (as ngspice reads element values); None when
    ``token`` is not a number."""
    m = _NUMBER.fullmatch(token.strip())
    if m is None:
        return None
    return float(m.group(1)) * (_SCALE[m.group(2).lower()] if m.group(2) else 1.0)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_OPS |= {ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "ln": math.log, "log10": math.log10}
_FUNCS |= {"abs": abs, "min": min, "max": max, "pow": pow, "sin": math.sin, "cos": math.cos}


def evaluate(expr: str, params: dict[str, float]) -> float:
    """The value of a ``.param`` expression (``"2*rval + 1k"``): + − × ÷ ** and a few functions of numbers
    and earlier params. Written by hand over Python's ``ast`` because nothing in a netlist may run code:
    only these node types are evaluated, anything else is refused."""
    text = re.sub(  # SPICE numbers ("1k", "2.2pF") become plain literals Python can parse
        r"(?<![\w.])(\d+\.?\d*|\.\d+)(e[+-]?\d+)?((?:meg|mil|[tgkmunpf])[a-z]*|[a-z]+)?",
        lambda m: repr(netlist_number(m.group(0))) if netlist_number(m.group(0)) is not None else m.group(0),
        expr.strip().lower(),
    )
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError:
        raise NetlistError(f"cannot read the expression '{expr}'") from None

    def value(node) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id == "pi":
                return math.pi
            if node.id not in params:
                raise NetlistError(f"unknown parameter '{node.id}' in '{expr}'")
            return params[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.left), value(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](value(node.operand))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCS:
            return float(_FUNCS[node.func.id](*[value(a) for a in node.args]))
        raise NetlistError(f"cannot evaluate '{expr}' (numbers, parameters, + - * / ** and sqrt, exp, …)")

    try:
        out = value(tree)
    except (ZeroDivisionError, OverflowError, ValueError, TypeError) as err:
        if isinstance(err, NetlistError):
            raise
        raise NetlistError(f"cannot evaluate '{expr}': {err}") from None
    if not math.isfinite(out):
        raise NetlistError(f"'{expr}' is not a finite number")
    return out


@dataclass(frozen=True)
class Line:
    """One logical line (continuations joined, comments removed) and the physical line it starts on."""

    number: int
    text: str


@dataclass(frozen=True)
class Element:
    """An element of the top-level circuit, names and nodes in lower case.

    value: R [Ω], C [F], L [H], G [S], E/F/H gain, V/I its DC value; None where there is no single value.
    control: the controlling voltage source of an F or H. noisy: False for a resistor with ``noisy=0``.
    """

    name: str
    nodes: tuple[str, ...]
    value: float | None
    line: int
    control: str | None = None
    noisy: bool = True
    functions: tuple[str, ...] = ()  # transient functions of a source: "pulse", "trnoise", ...

    @property
    def kind(self) -> str:
        return self.name[0]


@dataclass
class Parsed:
    title: str
    lines: list[Line]  # every logical line after the title
    elements: list[Element] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    tran: tuple[float, float] | None = None  # (tstep, tstop) of the .tran card
    unsupported: list[str] = field(default_factory=list)  # why the linear theory does not apply


def probe_name(name: str) -> str:
    """A variable as ngspice saves it: "n1" → "v(n1)"; "V(N1)", "i(v1)" in lower case; "v1#branch" →
    "i(v1)"."""
    p = name.strip().lower()
    if p.endswith("#branch"):
        return f"i({p[:-7]})"
    return p if p.startswith(("v(", "i(")) and p.endswith(")") else f"v({p})"


def logical_lines(text: str) -> tuple[str, list[Line]]:
    """(title, logical lines): continuation lines joined, comment lines and inline comments removed."""
    physical = text.splitlines()
    if not physical:
        raise NetlistError("the netlist is empty")
    out: list[Line] = []
    for i, raw in enumerate(physical[1:], start=2):  # SPICE: the first line is the title
        line = re.split(r";| \$ |\t\$ ", raw, maxsplit=1)[0].rstrip()
        stripped = line.strip()
        if not stripped or stripped.startswith("*"):
            continue
        if stripped.startswith("+"):
            if not out:
                raise NetlistError(f"line {i}: a continuation line with nothing to continue")
            out[-1] = Line(out[-1].number, out[-1].text + " " + stripped[1:].strip())
            continue
        out.append(Line(i, stripped))
    return physical[0], out


def tokens(text: str) -> list[str]:
    """Fields of an element line: a ``{...}`` expression is one field; ``key = value`` is ``key=value``."""
    text = _ASSIGN.sub("=", text)
    return re.findall(r"\S*\{[^}]*\}\S*|\S+", text)


def _value(token: str, params: dict[str, float], where: str) -> float:
    token = token.strip()
    if token.startswith("{") and token.endswith("}"):
        return evaluate(token[1:-1], params)
    number = netlist_number(token)
    if number is not None:
        return number
    if token.lower() in params:
        return params[token.lower()]
    raise NetlistError(f"{where}: cannot read the value '{token}'")


def parse(text: str) -> Parsed:
    """Parse netlist text (see the module's docstring); raises NetlistError naming the line."""
    title, lines = logical_lines(text)
    parsed = Parsed(title=title, lines=lines)
    parsed.params = _params(lines)
    depth = 0
    for line in lines:
        low = line.text.lower()
        where = f"line {line.number}"
        if low.startswith(".subckt"):
            depth += 1
            continue
        if low.startswith(".ends"):
            depth = max(0, depth - 1)
            continue
        if depth:
            continue
        if low.startswith(".param"):
            continue  # read first, below
        if low.startswith(".tran"):
            fields = tokens(low)[1:]
            if len(fields) < 2:
                raise NetlistError(f"{where}: .tran needs a step and a stop time")
            parsed.tran = (_value(fields[0], parsed.params, where), _value(fields[1], parsed.params, where))
        elif low.startswith((".include", ".inc ", ".lib")):
            parsed.unsupported.append(f"{where}: an included file (the theory reads only this file)")
        elif not low.startswith("."):
            element = _element(tokens(low), parsed.params, where, line.number)
            parsed.elements.append(element)
            if element.kind not in LINEAR_KINDS:
                parsed.unsupported.append(f"{element.name} (nonlinear or not modelled)")
            elif element.value is None:
                parsed.unsupported.append(f"{element.name} (no single linear value)")
            elif element.kind in "vi" and set(element.functions) - set(NOISE_FUNCTIONS):
                parsed.unsupported.append(
                    f"{element.name} (varies in time: {', '.join(sorted(set(element.functions)))})"
                )
    return parsed


def _params(lines: list[Line]) -> dict[str, float]:
    """The top-level ``.param`` values; a parameter may use one defined anywhere in the netlist (SPICE
    reads them all before the elements), so definitions are evaluated until none is left."""
    todo, depth = {}, 0
    for line in lines:
        low = line.text.lower()
        depth += low.startswith(".subckt") - low.startswith(".ends")
        if depth == 0 and low.startswith(".param"):
            for name, expr in re.findall(r"([a-z_]\w*)\s*=\s*(\{[^}]*\}|[^\s,]+)", low[6:]):
                todo[name] = (expr, f"line {line.number} (.param {name})")
    params: dict[str, float] = {}
    while todo:
        done = {}
        for name, (expr, where) in todo.items():
            try:
                done[name] = _value(expr, params, where)
            except NetlistError:
                continue
        if not done:  # what is left refers to itself or to nothing: report the first
            name, (expr, where) = next(iter(todo.items()))
            _value(expr, params, where)
        params |= done
        todo = {k: v for k, v in todo.items() if k not in done}
    return params


def _element(fields: list[str], params: dict[str, float], where: str, number: int) -> Element:
    name, kind = fields[0], fields[0][0]
    n_nodes = {"r": 2, "c": 2, "l": 2, "v": 2, "i": 2, "f": 2, "h": 2, "g": 4, "e": 4}.get(kind)
    if n_nodes is None:  # a device thermosim does not model: keep its name only
        return Element(name, (), None, number)
    if len(fields) < n_nodes + 1:
        raise NetlistError(f"{where}: {name} needs {n_nodes} nodes and a value")
    nodes = tuple("0" if n in GROUND else n for n in fields[1 : n_nodes + 1])
    rest = fields[n_nodes + 1 :]
    where = f"{where} ({name})"
    if kind in "vi":
        functions = tuple(m.lower() for m in _FUNCTION.findall(" ".join(rest)))
        plain = [f for f in rest if "(" not in f and ")" not in f]
        value = 0.0
        if plain and plain[0] == "dc" and len(plain) > 1:
            value = _value(plain[1], params, where)
        elif plain and plain[0] not in ("dc", "ac") and "=" not in plain[0]:
            try:
                value = _value(plain[0], params, where)
            except NetlistError:
                value = None
        return Element(name, nodes, value, number, functions=functions)
    control = None
    if kind in "fh":
        if not rest:
            raise NetlistError(f"{where}: needs a controlling voltage source and a gain")
        control, rest = rest[0], rest[1:]
    options = {k: v for k, _, v in (f.partition("=") for f in rest if "=" in f)}
    positional = [f for f in rest if "=" not in f]
    if kind == "r" and "r" in options:
        positional = [options.pop("r")] + positional
    if not positional or len(positional) > 1 or set(options) - {"ic", "m", "noisy", "tc1", "tc2", "temp"}:
        return Element(name, nodes, None, number, control)  # a model, a table, a polynomial, ...
    value = _value(positional[0], params, where)
    if "m" in options:  # m parallel copies
        m = _value(options["m"], params, where)
        value = value / m if kind in "rl" else value * m
    noisy = kind != "r" or _value(options.get("noisy", "1"), params, where) != 0
    return Element(name, nodes, value, number, control, noisy)


_VALUE_AT = {"r": 3, "c": 3, "l": 3, "v": 3, "i": 3, "g": 5, "e": 5, "f": 4, "h": 4}


def set_values(text: str, values: dict[str, float]) -> str:
    """``text`` with element values and ``.param`` values replaced (``{"r1": 2e3, "cload": 1e-12}``): an
    element's value (a source's DC value) or a top-level ``.param``; the result has one logical line per
    card. Raises NetlistError naming a value that no element or parameter of the netlist has."""
    title, lines = logical_lines(text)
    todo = {k.lower(): float(v) for k, v in values.items()}
    out = []
    for line in lines:
        fields = tokens(line.text)
        head = fields[0].lower()
        if head == ".param":
            body = _ASSIGN.sub("=", line.text[6:])
            for name in list(todo):
                body, n = re.subn(
                    rf"(?i)(?<![\w.]){re.escape(name)}=(\{{[^}}]*\}}|[^\s,]+)", f"{name}={todo[name]!r}", body
                )
                if n:
                    del todo[name]
            out.append(".param " + body.strip())
            continue
        if head in todo and head[0] in _VALUE_AT:
            at = _VALUE_AT[head[0]]
            value = repr(todo.pop(head))
            keyed = [i for i, f in enumerate(fields) if head[0] == "r" and f.lower().startswith("r=")]
            if keyed:
                fields[keyed[0]] = "r=" + value
            elif head[0] in "vi":
                rest = fields[at:]
                if rest and rest[0].lower() == "dc" and len(rest) > 1:
                    fields[at + 1] = value
                elif (
                    rest and "(" not in rest[0] and "=" not in rest[0] and rest[0].lower() not in ("dc", "ac")
                ):
                    fields[at] = value
                else:
                    fields[at:at] = ["dc", value]
            elif len(fields) > at:
                fields[at] = value
            else:
                raise NetlistError(f"line {line.number}: {head} has no value to set")
            out.append(" ".join(fields))
            continue
        out.append(line.text)
    if todo:
        raise NetlistError(f"no element or .param named {', '.join(repr(k) for k in todo)} in the netlist")
    return "\n".join([title, *out]) + "\n"
