"""thermosim: thermodynamic-computing circuits in SPICE, checked against exact theory."""

__version__ = "0.1.0"
