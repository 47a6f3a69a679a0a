"""The only code that talks to ngspice: noise placement, the subprocess runner, the raw-file reader."""

from .errors import SpiceError
from .noise import NoisePlan
from .raw import RawPlot, read_raw, read_tran
from .runner import RunResult, ngspice_version, run_netlist

__all__ = [
    "SpiceError",
    "NoisePlan",
    "RawPlot",
    "read_raw",
    "read_tran",
    "RunResult",
    "ngspice_version",
    "run_netlist",
]
