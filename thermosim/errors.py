"""The leaf of the package: thermosim's error types and the parameter validators every layer shares.

Nothing here imports from thermosim. Every error a user can cause is one of these (or
:class:`thermosim.spice.errors.SpiceError`, also a :class:`ThermosimError`), and its message is one line
that names the file, the key or the value at fault; the command line prints it and exits with status 1.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any


class ThermosimError(Exception):
    """Base of every error thermosim raises for bad input or a failed simulation."""


class SpecError(ThermosimError, ValueError):
    """A spec (or other input) that cannot be used; the message names the file and the key."""


# a spec name becomes results/<name>/ and netlists/<name>.cir: a plain file name, no path
_NAME = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*")
# and a short one: it also names <name>.cir, the noise files and staging folders (file names ≤ 255 bytes)
MAX_NAME = 100
MAX_SEED = 2**64 - 1  # numpy's seed words are unsigned 64-bit; samples.npz stores the seed as uint64


def positive(value: float, key: str, allow_zero: bool = False) -> None:
    """Raise SpecError unless value > 0 (or >= 0) and finite."""
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise SpecError(f"{key} must be {'>= 0' if allow_zero else '> 0'}, got {float(value)!r}")


def is_plain_name(value: Any) -> bool:
    """True for a name that can become a file or folder name: letters, digits, _ - + . (not first), ≤ 100."""
    return isinstance(value, str) and len(value) <= MAX_NAME and bool(_NAME.fullmatch(value))


def plain_name(value: Any, key: str) -> str:
    """A name that becomes a file or directory name (results/<name>/), else SpecError naming ``key``."""
    if not is_plain_name(value):
        raise SpecError(
            f"{key} = {printable(repr(value))[:120]} must be a plain file name of at most {MAX_NAME} "
            "characters (letters, digits, '_', '-', '+', '.' not first; it names the results directory)"
        )
    return value


def printable(text: str) -> str:
    """``text`` for a one-line message: as is when printable, else with escapes (a key may hold '\\n')."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


# SPICE's scale suffixes (case-insensitive; "m" is milli, "meg" mega), as ngspice reads numbers
_SPICE_SCALE = {"t": 12, "g": 9, "meg": 6, "k": 3, "m": -3, "u": -6, "µ": -6, "n": -9, "p": -12, "f": -15}
_SPICE_NUMBER = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|[tgkmuµnpf])?", re.I)


def spice_number(text: str) -> float | None:
    """``"10k"`` → 1e4, ``"1Meg"`` → 1e6, ``"2.2p"`` → 2.2e-12, ``"1e-3"`` → 0.001; None when ``text`` is
    not a number with an optional SPICE scale suffix (units after the suffix, as in "1pF", are refused:
    the unit is in the key's name)."""
    m = _SPICE_NUMBER.fullmatch(text.strip())
    if m is None:
        return None
    exponent = _SPICE_SCALE[m.group(2).lower()] if m.group(2) else 0
    return float(Decimal(m.group(1)).scaleb(exponent))  # decimal: "2.2p" is exactly float("2.2e-12")
