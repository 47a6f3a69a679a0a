"""Netlists written by anyone: make them run in batch mode with a raw file, and say what was changed."""

from __future__ import annotations

import re

NETLIST_SUFFIXES = (".cir", ".net", ".sp", ".spice")  # `thermosim run` treats these as netlists


def prepare_foreign(text: str, require_tran: bool = True) -> tuple[str, list[str]]:
    """Return (netlist to run with ``ngspice -b -r``, notes on what was changed).

    A ``.control … .endc`` block is commented out: in batch mode with ``-r`` the netlist's own analysis
    cards produce the raw data, and control scripts (``run``, ``write``, ``quit``, plots) would compete
    with them. If the netlist has no ``.tran`` card but its control block runs ``tran …``, that command
    becomes a ``.tran`` card.
    """
    lines = text.splitlines()
    out, notes, in_control, tran_cmds = [], [], False, []
    for line in lines:
        low = line.strip().lower()
        if low.startswith(".control"):
            in_control = True
            out.append("* [thermosim] " + line)
            continue
        if in_control:
            if low.startswith(".endc"):
                in_control = False
            elif re.match(r"^tran\s", low):
                tran_cmds.append(line.strip())
            out.append("* [thermosim] " + line)
            continue
        out.append(line)
    if any(x.startswith("* [thermosim]") for x in out):
        notes.append("commented out the .control block (batch mode runs the netlist's analysis cards)")
    has_tran = any(re.match(r"^\s*\.tran\s", x, re.I) for x in out)
    if not has_tran and tran_cmds:
        card = "." + tran_cmds[0]
        idx = next((i for i, x in enumerate(out) if x.strip().lower() == ".end"), len(out))
        out.insert(idx, card)
        notes.append(f"turned the control command '{tran_cmds[0]}' into the card '{card}'")
    if require_tran and not any(re.match(r"^\s*\.tran\s", x, re.I) for x in out):
        raise ValueError("the netlist has no .tran analysis (thermosim analyses transient noise runs)")
    return "\n".join(out) + "\n", notes
