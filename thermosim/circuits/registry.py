"""The family registry: :func:`register` (``thermosim.family``), :data:`FAMILIES`, entry-point plugins."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from .built import Built

# a run's extra figures: (metrics, samples (n, d), folder) -> file names written there
FiguresHook = Callable[[dict, np.ndarray, Path], list[str]]
# the demo report's section: ({spec name: (spec, metrics)} of the family's runs, results folder) -> markdown
ReportHook = Callable[[dict, Path], str]


@dataclass(frozen=True)
class Family:
    """A registered family: its params dataclass, its builder and its optional hooks."""

    name: str
    params: type
    build: Callable[[Any], Built]
    metrics: tuple[str, ...] = ()  # scalar metrics the family's ``analyse`` adds (sweepable by name)
    figures: FiguresHook | None = None
    report: ReportHook | None = None


# The shipped families by name, and the module of this package that registers each (adding a family: its
# module plus its names here). A module is imported when one of its names is first looked up, or when the
# families are listed: a run then loads its own family only (all of them took 20 ms of every start-up).
SHIPPED = {
    "rc": "rc",
    "rlc": "rlc",
    "quartic": "quartic",
    "netlist": "netlist",
    "cmos_quartic": "cmos",
    "cmos_ring": "cmos",
    "cmos_pbit": "cmos",
    "cmos_network": "cmos",
}


class _Families(dict):
    """The registered families by name. A shipped family's module is imported when its name is first looked
    up (:data:`SHIPPED`); installed plugins (entry points) are looked for when a name is neither registered
    nor shipped, and before the families are listed, not at import: scanning the installed packages'
    metadata costs ~20 ms of every command's start-up. (A plugin therefore cannot replace a shipped
    family: give yours its own name.)"""

    _all_loaded = False

    def _everything(self) -> _Families:
        if not _Families._all_loaded:
            _Families._all_loaded = True
            for module in dict.fromkeys(SHIPPED.values()):
                _load_shipped(module)
            load_plugins()
        return self

    def _shipped(self, name: object) -> bool:
        """Whether ``name`` is registered, once its shipped module (if it has one) is imported."""
        if not dict.__contains__(self, name) and name in SHIPPED:
            _load_shipped(SHIPPED[name])
        return dict.__contains__(self, name)

    def __missing__(self, name: str) -> Family:
        if self._shipped(name):
            return dict.__getitem__(self, name)
        if _Families._all_loaded:
            raise KeyError(name)
        return self._everything()[name]

    def __contains__(self, name: object) -> bool:
        return self._shipped(name) or dict.__contains__(self._everything(), name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __iter__(self):
        return dict.__iter__(self._everything())

    def __len__(self) -> int:
        return dict.__len__(self._everything())

    def keys(self):
        return dict.keys(self._everything())

    def values(self):
        return dict.values(self._everything())

    def items(self):
        return dict.items(self._everything())


FAMILIES: dict[str, Family] = _Families()


def register(
    name: str,
    params: type,
    metrics: tuple[str, ...] = (),
    figures: FiguresHook | None = None,
    report: ReportHook | None = None,
) -> Callable[[Callable[[Any], Built]], Callable[[Any], Built]]:
    """Decorator: register ``build(params) -> Built`` as the family ``name``.

    ``params`` is a frozen dataclass whose fields are the spec's ``[circuit]`` keys (units in the names,
    defaults where sensible; ``validate()`` if it has one is called with the spec's path). ``metrics``
    names the scalars the built circuit's ``analyse`` adds, so sweeps may ask for them. ``figures`` and
    ``report`` are the optional hooks (see :data:`FiguresHook`, :data:`ReportHook`). Registering a name
    again replaces the earlier family (a notebook cell run twice).
    """

    def deco(build: Callable[[Any], Built]) -> Callable[[Any], Built]:
        if _ships(name, build) and dict.__contains__(FAMILIES, name):
            return build  # registered under a shipped name before that module loaded: the user's stays
        FAMILIES[name] = Family(name, params, build, tuple(metrics), figures, report)
        return build

    return deco


def _ships(name: str, build: Callable) -> bool:
    """Whether ``build`` is the shipped family ``name``'s own builder (defined in its module or package)."""
    module = f"{__package__}.{SHIPPED[name]}" if name in SHIPPED else None
    return module is not None and (build.__module__ == module or build.__module__.startswith(module + "."))


def _load_shipped(module: str) -> None:
    import_module(f"{__package__}.{module}")


def load_plugins() -> None:
    """Import every module named in the ``thermosim.families`` entry-point group (each registers its
    families). A plugin that fails to import is reported as a warning and skipped."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="thermosim.families"):
        try:
            ep.load()
        except Exception as err:  # an installed plugin must not break thermosim
            warnings.warn(
                f"thermosim family plugin '{ep.name}' ({ep.value}) failed to load: {err}", stacklevel=2
            )
