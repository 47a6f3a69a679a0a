"""Where the shipped data lives: circuit specs, sweep specs, model cards and the committed netlists.

The data ships inside the package: ``thermosim/_data/circuits`` and ``thermosim/_data/netlists`` are
symbolic links to the checkout's top-level ``circuits/`` and ``netlists/`` folders, which a wheel
(``pip install .``) copies in as package data, so an installed thermosim finds them from any directory
and a checkout edits the top-level folders themselves. ``THERMOSIM_ROOT`` names another tree holding
``circuits/`` and ``netlists/`` (tests use it).
"""

from __future__ import annotations

import os
from pathlib import Path

# The tree holding circuits/ and netlists/: the package's data (in a checkout, links to the top-level
# folders), or THERMOSIM_ROOT.
ROOT = Path(os.environ.get("THERMOSIM_ROOT") or Path(__file__).resolve().parent / "_data")
CIRCUITS_DIR = ROOT / "circuits"
NETLISTS_DIR = ROOT / "netlists"
SWEEPS_DIR = CIRCUITS_DIR / "sweeps"
# where commands write by default: results/ in the current folder (never inside the package)
RESULTS = Path("results")
MODELS_DIR = CIRCUITS_DIR / "models"


def shipped_specs() -> list[Path]:
    """The shipped circuit specs (circuits/*.toml), sorted by name: discovered, never listed."""
    return sorted(CIRCUITS_DIR.glob("*.toml"))


def shipped_sweeps() -> list[Path]:
    """The shipped sweep specs (circuits/sweeps/*.toml), sorted by name."""
    return sorted(SWEEPS_DIR.glob("*.toml"))
