"""thermosim: thermodynamic-computing circuits in SPICE, checked against exact theory.

The public API (details in :mod:`thermosim.api`, docs/architecture.md and the README's quickstart)::

    import thermosim as ts
    r = ts.run("gauss4", seed=3)          # -> ts.Result: samples, exact law, checks, energy, metrics
    df = ts.sweep("gauss4_temperature")   # -> pandas.DataFrame, one row per point × replica
    ts.families(), ts.describe("rc")      # the circuit families and their spec keys
    @ts.family("my_rc", MyParams)         # register a family of your own (or an entry point)
    def build(p) -> ts.Built: ...

Attributes load on first use, so ``import thermosim`` stays cheap (no ngspice, no matplotlib).
"""

from __future__ import annotations

import importlib
import sys
import types

from .errors import SpecError as SpecError
from .errors import ThermosimError as ThermosimError

__version__ = "0.1.0"

# public name -> module that defines it (imported on first access, PEP 562)
_API = {
    "run": "api",
    "sweep": "api",
    "compare": "api",
    "plot": "api",
    "linalg": "api",
    "train": "api",
    "generate": "api",
    "families": "api",
    "family": "api",
    "describe": "api",
    "init": "api",
    "reference": "api",
    "load_spec": "runs.spec",
    "Spec": "runs.spec",
    "Result": "runs.result",
    "Check": "analysis.stats",
    "Built": "circuits.built",
    "Theory": "circuits.built",
    "Energy": "circuits.built",
    "Supply": "circuits.built",
    "NoisePlan": "spice.noise",
    "SpiceError": "spice.errors",
}

__all__ = sorted([*_API, "SpecError", "ThermosimError", "__version__"])


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(f".{_API[name]}", __name__), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'thermosim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


class _Package(types.ModuleType):
    """``thermosim`` itself: an API name stays the API's function when the subpackage of the same name is
    imported (``thermosim.linalg``, ``thermosim.compare``), which would otherwise rebind it to the module;
    the subpackage itself stays importable (``from thermosim.linalg import law``)."""

    def __setattr__(self, name: str, value) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
