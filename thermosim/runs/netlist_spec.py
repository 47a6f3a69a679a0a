"""A netlist written by anyone as a spec of the ``netlist`` family: ``thermosim run X.cir --thermal T`` and
sweeps whose base is a netlist run through the same engine, checks, figures and cache as the shipped specs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .spec import Spec, spec_from_table, with_overrides


def netlist_table(path: str | Path, temperature_k: float, probes: list[str] | None = None) -> dict:
    """The spec table of ``path`` with Johnson noise at ``temperature_k``: named after the file, simulated
    for its ``.tran`` stop time (``sim.t_stop_s`` when it has none must come as an override)."""
    from ..circuits.netlist import read_netlist
    from ..spice.parse import NetlistError, parse

    path = Path(path).resolve()
    if not path.is_file():
        raise SpecError(f"{path}: no such netlist file")
    text, _ = read_netlist(path)
    try:
        tran = parse(text).tran
    except NetlistError as err:
        raise SpecError(f"{path}: {err}") from None
    name = re.sub(r"[^A-Za-z0-9_+.-]", "_", path.stem).lstrip(".")[:64] or "netlist"
    circuit: dict[str, Any] = {"file": str(path), "temperature_k": float(temperature_k)}
    if probes:
        circuit["probes"] = list(probes)
    return {
        "name": name,
        "family": "netlist",
        "circuit": circuit,
        "sim": {"t_stop_s": tran[1]} if tran else {},
    }


def netlist_spec(
    path: str | Path,
    temperature_k: float,
    probes: list[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Spec:
    """The validated :class:`Spec` of a netlist run with calibrated thermal noise (see :func:`netlist_table`);
    ``overrides`` as for spec files (``{"sim.noise_step_s": 1e-10, "circuit.values.r1": 2e3}``)."""
    table = netlist_table(path, temperature_k, probes)
    try:
        table = with_overrides(table, overrides or {})
        if "t_stop_s" not in table["sim"]:
            raise SpecError(
                "the netlist has no .tran card: give the simulated time with --set sim.t_stop_s=…"
            )
        return spec_from_table(table, Path(path).resolve())  # its runs name the netlist as their source
    except SpecError as err:
        raise SpecError(f"{path}: {err}") from None
