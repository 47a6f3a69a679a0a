"""A family's spec keys as text, read from its params dataclass: name, type, default, unit and the
comment written beside the field. ``thermosim families``, ``thermosim describe FAMILY`` and
docs/reference.md all print this, so the reference cannot drift from the code."""

from __future__ import annotations

import dataclasses
import inspect
import re
import textwrap
import typing

from ..analysis.quantities import unit as _unit
from .registry import FAMILIES


def unit(name: str) -> str:
    """The unit a key's name declares ('' if none): ``c_f`` → F, ``coupling_s`` → S, ``t_stop_s`` → s."""
    return _unit(name)


def _comments(cls: type) -> dict[str, str]:
    """Each field's note: the ``# ...`` comment at the end of its line, else the comment lines right above
    it (empty when there is none); a field inherited from a base dataclass keeps its base's note."""
    out: dict[str, str] = {}
    for klass in cls.__mro__:  # the class's own notes first
        if dataclasses.is_dataclass(klass):
            for key, note in _own_comments(klass).items():
                out.setdefault(key, note)
    return out


def _own_comments(cls: type) -> dict[str, str]:
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):  # a class defined in a notebook cell may have no retrievable source
        return {}
    out: dict[str, str] = {}
    above: list[str] = []
    for line in src.splitlines():
        if re.match(r"\s+#", line):
            above.append(line.strip().lstrip("#").strip())
            continue
        m = re.match(r"\s+(\w+)\s*:[^#]*?(?:#\s*(.*))?$", line)
        if m and (m.group(2) or above):
            out.setdefault(m.group(1), (m.group(2) or " ".join(above)).strip())
        above = []
    return out


def _type_text(hint) -> str:
    text = str(hint).replace("typing.", "").replace("NoneType", "None")
    return re.sub(r"<class '(\w+)'>", r"\1", text)


def fields(cls: type) -> list[dict]:
    """One dict per field of the dataclass ``cls``: key, type, default ('required' if none), unit, note."""
    hints = typing.get_type_hints(cls)
    notes = _comments(cls)
    rows = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "required"
        rows.append(
            {
                "key": f.name,
                "type": _type_text(hints.get(f.name, f.type)),
                "default": default,
                "unit": unit(f.name),
                "note": notes.get(f.name, ""),
            }
        )
    return rows


def summary(family: str) -> str:
    """The first paragraph of the family's builder docstring (or its module's)."""
    fam = FAMILIES[family]
    doc = inspect.getdoc(inspect.getmodule(fam.build)) or inspect.getdoc(fam.build) or ""
    return re.sub(r"^Family ``[^`]*``:\s*", "", doc.split("\n\n")[0].replace("\n", " "))


def describe(family: str) -> str:
    """Markdown: the family's summary and a table of its keys (type, default, unit, note)."""
    if family not in FAMILIES:
        from ..errors import SpecError

        raise SpecError(f"{family!r} is not a known circuit family (known: {', '.join(sorted(FAMILIES))})")
    lines = [f"### `{family}`", "", summary(family), "", keys_table(FAMILIES[family].params)]
    if FAMILIES[family].metrics:
        lines += [
            "",
            "Metrics its runs add (sweepable): " + ", ".join(f"`{m}`" for m in FAMILIES[family].metrics),
        ]
    return "\n".join(lines) + "\n"


def keys_table(cls: type) -> str:
    """A markdown table of the dataclass's keys: type, default, unit, note."""
    lines = ["| key | type | default | unit | note |", "|---|---|---|---|---|"]
    for r in fields(cls):
        cells = [f"`{r['key']}`", r["type"], f"`{r['default']}`", r["unit"], r["note"]]
        cells = [c.replace("|", "\\|") for c in cells]  # a pipe inside a cell would end it
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def reference_head() -> str:
    """The opening of docs/reference.md."""
    return textwrap.dedent(
        """\
        # Spec reference

        Generated from the families' parameter dataclasses by `thermosim describe --all` (the same text as
        `thermosim describe FAMILY`); do not edit by hand. A spec is a TOML file with `name`, `family`,
        an optional `description`, and the tables `[circuit]` (the family's keys below), `[sim]` and
        `[energy]` (shared by all families, at the end). Units are in the key names: `_s` seconds (or
        siemens for conductances), `_f` farads, `_ohm` ohms, `_h` henries, `_a` amperes, `_v` volts,
        `_k` kelvin, `_hz` hertz, `_j` joules, `_m` metres.

        """
    )


def starter_spec(family: str, name: str, circuit: dict, sim: dict) -> str:
    """A commented spec file: ``circuit`` and ``sim`` values set, every other ``[circuit]`` key of the
    family listed with its default and note, commented out (``thermosim init``)."""
    import tomli_w

    def line(key: str, value, note: str, commented: bool) -> str:
        text = tomli_w.dumps({key: list(value) if isinstance(value, tuple) else value}).strip()
        return f"{'# ' if commented else ''}{text}" + (f"  # {note}" if note else "")

    out = [
        f"# {name}: a spec of the family '{family}', written by `thermosim init`. Uncomment a key to set",
        f"# it; `thermosim describe {family}` lists them with their units. Run: thermosim run {name}",
        tomli_w.dumps({"name": name, "family": family, "description": ""}).strip(),
        "",
        "[circuit]",
    ]
    cls = FAMILIES[family].params
    notes = _comments(cls)
    for f in dataclasses.fields(cls):
        note = notes.get(f.name, "")
        if f.name in circuit:
            out.append(line(f.name, circuit[f.name], note, False))
        elif f.default is dataclasses.MISSING or f.default is None:  # required, or off by default
            out.append(f"# {f.name} =  # {note}".rstrip())
        else:
            out.append(line(f.name, f.default, note, True))
    out += ["", "[sim]"] + [tomli_w.dumps({k: v}).strip() for k, v in sim.items()]
    return "\n".join(out) + "\n"
