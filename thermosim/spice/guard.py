"""What ngspice may read: every netlist, include, library and card is checked before a run.

ngspice runs code from data. A ``.control … .endc`` block executes wherever it appears (in an included
file, a ``.lib`` section, a model card) and its ``shell`` command runs any program; a first line
``*ng_script`` turns a whole file into a script; ``.spiceinit`` files and ``SPICE_*`` environment
variables are read at start-up. thermosim therefore

- starts ngspice with ``-n`` (no init files) and a minimal environment (:func:`ngspice_env`), and
- refuses, before every run, any file ngspice would read that holds a control block or a script header,
  or whose path leaves the run's folder (:func:`check_netlist`).

The checks are by line, on every line of every file, so a refused construct cannot hide in a file the
check did not open: a file it cannot open or a path it cannot confine is itself refused. Cost: one
regular-expression pass per line of each file (milliseconds for the largest shipped netlists).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SpiceError

# dot-cards that open or close a control (script) section; ngspice matches card names by prefix, so
# ".controls" opens one too
_CONTROL = re.compile(r"^\s*\.(control|endc)", re.I)
_SCRIPT = re.compile(r"^\s*\*\s*ng_script", re.I)
# .include / .inc / .lib: ngspice matches these by prefix too (".incl" is an include)
_INCLUDE = re.compile(r"^\s*\.(inc\w*|lib\w*)(?:\s+|(?=[\"']))(.*)$", re.I)
# file parameters of XSPICE models (filesource's file=, d_source's input_file=, ...)
_FILE_PARAM = re.compile(r"\b\w*file\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,()]+)", re.I)
MAX_FILES = 1000  # includes of includes: a bound on the walk, far above any real netlist


@dataclass(frozen=True)
class Reference:
    """A file a netlist names: its path as written, the file that names it and the line."""

    path: str
    source: str
    line: int
    netlist: bool  # read as netlist text (include, library) rather than data (file=)
    maybe_section: bool = False  # a one-word .lib: a section name unless such a file exists


def ngspice_env(home: Path) -> dict[str, str]:
    """The environment ngspice runs in: PATH, the C locale, one OpenMP thread and ``home`` as HOME.

    Nothing else passes through: ``SPICE_SCRIPTS``, ``SPICE_LIB_DIR``, ``NGSPICE_INPUT_DIR`` and the rest
    would let the environment choose the start-up script (code) or where includes are found.
    """
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C",
        "LC_ALL": "C",
        "OMP_NUM_THREADS": "1",
        "HOME": str(home),
    }


def scan_text(text: str, source: str) -> list[Reference]:
    """Refuse control blocks and script headers in ``text``; return the files it references.

    ``source`` names the text in messages (a file name). Raises SpiceError naming the file and line.
    """
    refs = []
    for i, raw in enumerate(text.splitlines(), 1):
        if _SCRIPT.match(raw):  # ngspice reads it on a first line; anywhere else it is refused as well
            raise SpiceError(f"{source}:{i}: '*ng_script' makes a file an ngspice script; refused (not run)")
        if _CONTROL.match(raw):
            raise SpiceError(
                f"{source}:{i}: '{raw.strip()[:40]}' starts an ngspice control script; refused (not run): "
                "a control block may run any command"
            )
        m = _INCLUDE.match(raw)
        if m:
            args = _arguments(m.group(2))
            card = m.group(1).lower()
            # `.lib FILE SECTION` reads a file; `.lib WORD` opens a section, or reads a file if one exists
            if args:
                section = card.startswith("lib") and len(args) == 1
                refs.append(Reference(args[0], source, i, netlist=True, maybe_section=section))
            continue
        if raw.lstrip()[:1] in ("*", ""):
            continue
        refs += [Reference(v.strip("\"'"), source, i, netlist=False) for v in _FILE_PARAM.findall(raw)]
    return refs


def _arguments(rest: str) -> list[str]:
    """The words of a card's argument text; a quoted word may hold spaces."""
    return [a or b or c for a, b, c in re.findall(r"\"([^\"]*)\"|'([^']*)'|(\S+)", rest)]


def confined(root: Path, base: str, ref: Reference) -> str:
    """``ref``'s path relative to ``root`` (written relative to ``base``, its including file's folder,
    itself relative to ``root``). Refused unless it stays inside ``root`` both as written and after
    following symlinks; absolute paths and ``~`` are refused outright."""
    p = ref.path
    where = f"{ref.source}:{ref.line}"
    if not p:
        raise SpiceError(f"{where}: an empty file name")
    if p.startswith(("/", "~", "\\")) or re.match(r"^[A-Za-z]:", p):
        raise SpiceError(
            f"{where}: '{p}' is an absolute path; refused (files a netlist reads must sit in its folder)"
        )
    rel = os.path.normpath(os.path.join(base, p))
    real = Path(root, rel).resolve()
    if rel == ".." or rel.startswith("../") or not real.is_relative_to(Path(root).resolve()):
        raise SpiceError(
            f"{where}: '{p}' leads outside the netlist's folder {root}; refused (copy the file next to it)"
        )
    return rel


def check_netlist(text: str, root: Path, source: str = "netlist") -> list[tuple[str, bool]]:
    """Check a netlist that reads its files from ``root`` and every netlist file it includes, recursively.

    Returns every file it names as (path relative to ``root``, read as netlist text?). Included files must
    exist; data files (``file=``) need not (noise pipes appear when the run starts). Raises SpiceError
    naming the file and line of the first refused construct.
    """
    root = Path(root)
    found: dict[str, bool] = {}
    todo = [(".", r) for r in scan_text(text, source)]
    while todo:
        base, ref = todo.pop(0)
        if ref.maybe_section and not (root / base / ref.path).is_file():
            continue
        rel = confined(root, base, ref)
        if rel in found:
            continue
        found[rel] = ref.netlist
        if not ref.netlist:
            continue
        if len(found) > MAX_FILES:
            raise SpiceError(f"{source}: names more than {MAX_FILES} files; refused")
        target = root / rel
        if not target.is_file():
            raise SpiceError(f"{ref.source}:{ref.line}: included file '{ref.path}' not found")
        try:
            body = target.read_text(errors="replace")
        except OSError as err:
            raise SpiceError(f"{ref.source}:{ref.line}: cannot read '{ref.path}': {err.strerror}") from None
        todo += [(os.path.dirname(rel), r) for r in scan_text(body, rel)]
    return list(found.items())
