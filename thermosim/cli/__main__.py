"""``python -m thermosim.cli``."""

from . import entry

entry()
