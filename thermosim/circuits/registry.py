"""The family registry: :func:`register` (``thermosim.family``), :data:`FAMILIES`, entry-point plugins."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
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


class _Families(dict):
    """The registered families by name. Installed plugins (entry points) are looked for when a name is not
    registered and before the families are listed, not at import: scanning the installed packages'
    metadata costs ~20 ms of every command's start-up. (A plugin therefore cannot replace a shipped
    family: give yours its own name.)"""

    _plugins_loaded = False

    def _with_plugins(self) -> _Families:
        if not _Families._plugins_loaded:
            _Families._plugins_loaded = True
            load_plugins()
        return self

    def __missing__(self, name: str) -> Family:
        if _Families._plugins_loaded:
            raise KeyError(name)
        return self._with_plugins()[name]

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name) or dict.__contains__(self._with_plugins(), name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __iter__(self):
        return dict.__iter__(self._with_plugins())

    def __len__(self) -> int:
        return dict.__len__(self._with_plugins())

    def keys(self):
        return dict.keys(self._with_plugins())

    def values(self):
        return dict.values(self._with_plugins())

    def items(self):
        return dict.items(self._with_plugins())


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
        FAMILIES[name] = Family(name, params, build, tuple(metrics), figures, report)
        return build

    return deco


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
