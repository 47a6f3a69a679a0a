"""The one exception type raised by thermosim.spice."""

from __future__ import annotations

import re
from pathlib import Path


class SpiceError(RuntimeError):
    """A failed ngspice run or an unreadable raw file.

    Carries ngspice's own message and the paths needed to inspect the failure.
    ``str(err)`` is a single line suitable for a CLI error message.
    """

    def __init__(
        self,
        message: str,
        *,
        netlist: Path | str | None = None,
        log: Path | str | None = None,
        ngspice_message: str = "",
    ) -> None:
        self.message = message
        self.netlist = Path(netlist) if netlist else None
        self.log = Path(log) if log else None
        self.ngspice_message = ngspice_message.strip()
        super().__init__(self._line())

    def _line(self) -> str:
        parts = [self.message]
        if self.ngspice_message:
            parts.append(f"ngspice: {self.ngspice_message.splitlines()[0]}")
        if self.netlist:
            parts.append(f"netlist: {self.netlist}")
        if self.log:
            parts.append(f"log: {self.log}")
        return " | ".join(parts)


_TIMESTEP = re.compile(
    r"timestep too small;?\s*time\s*=\s*(?P<time>[-+0-9.eE]+),?\s*timestep\s*=\s*(?P<step>[-+0-9.eE]+)", re.I
)


def timestep_message(ngspice_line: str, linear: bool | None = None) -> str:
    """Our one-line reading of ngspice's "Timestep too small; time = T, timestep = h" (T, h in s).

    ngspice gives up when its step falls below its minimum. On a nonlinear circuit that is usually Newton
    failing to converge; on a LINEAR circuit (``linear=True``: Newton converges in one iteration) and for
    a step of exactly 0 (a breakpoint closer than ngspice's own tolerance) it is ngspice's time-step and
    breakpoint control, and we say so, naming the times. ``linear=None``: not known (a foreign netlist).
    """
    m = _TIMESTEP.search(ngspice_line)
    where = f" at t = {m['time']} s (step {m['step']} s)" if m else ""
    zero = m is not None and _float(m["step"]) == 0.0
    if linear or zero:
        why = "the circuit is linear" if linear else "a zero step comes from a breakpoint"
        return (
            f"ngspice stopped: timestep too small{where}: a failure of ngspice's time-step/breakpoint "
            f"control, not of convergence ({why})"
        )
    return f"ngspice stopped: timestep too small{where} (the circuit did not converge there)"


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")
