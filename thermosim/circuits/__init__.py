"""Circuit families: one plain builder function per family, registered under the family's name.

A builder takes its frozen params dataclass and returns a :class:`Built`: the PySpice circuit with its
noise placed, which ngspice vectors are the sampled variables, the exact :class:`Theory` to judge them
by and the :class:`Energy` declarations. Specs only name a family and its settings.

A family registers once, with :func:`register` (``thermosim.family`` in the public API); optional hooks
add figures to every run of the family and a section to the demo's report. The shipped families' modules
are imported when a family is first looked up or listed (``registry.SHIPPED``). Families outside the
package register the same way: in a notebook by calling the decorator, in an installed package through
the entry-point group ``thermosim.families`` (each entry point names a module that registers on import;
they are imported the first time a family name is not found, or the families are listed).
"""

from .built import Built, DcReference, Energy, Supply, Theory
from .registry import FAMILIES, Family, load_plugins, register

__all__ = [
    "FAMILIES",
    "Built",
    "DcReference",
    "Energy",
    "Family",
    "Supply",
    "Theory",
    "load_plugins",
    "register",
]
