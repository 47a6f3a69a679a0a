"""The one exception type raised by thermosim.spice."""

from __future__ import annotations

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
