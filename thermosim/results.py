"""Writing run outputs atomically: nothing half-written, nothing a user computed lost."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np


def atomic(path: Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place (mode 0644)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    except OSError as err:  # read-only or full disk, a path through a file: name the file we wanted
        raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
    try:  # from the first statement on, an interrupt (Ctrl-C) removes the temporary file
        os.close(fd)
        write(tmp)
        _place(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(err.errno, f"cannot write {path}: {err.strerror}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _place(tmp: str, path: Path) -> None:
    """A finished temporary file renamed into place, readable by all (mode 0644)."""
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic(path, lambda tmp: Path(tmp).write_text(text))


def atomic_write_json(path: Path, obj: dict) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, default=_jsonable) + "\n")


def atomic_savez(path: Path, **arrays: np.ndarray) -> Path:
    # plain savez: noise does not compress, and savez_compressed costs ~0.5 s per 1e6 samples
    return atomic(path, lambda tmp: np.savez(tmp, **arrays))


class BackgroundSavez:
    """``np.savez`` of ``arrays`` into a hidden temporary file in ``folder``, written on a thread.

    :meth:`move` waits for it and renames it into place; :meth:`discard` waits and removes it (a no-op
    after a move). A run writes its samples (32 MB for 2·10⁶ samples with their times, 0.02–0.04 s)
    while its analysis runs, instead of after it.
    """

    def __init__(self, folder: Path, **arrays: np.ndarray) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(dir=folder, prefix=".samples.", suffix=".npz")
        os.close(fd)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, args=(arrays,), name="thermosim-savez")
        self._thread.start()

    def _write(self, arrays: dict) -> None:
        try:
            np.savez(self._tmp, **arrays)  # plain savez, as atomic_savez
        except BaseException as err:  # noqa: BLE001 - raised by move(): no half-written file moves
            self._error = err

    def move(self, path: Path) -> Path:
        """Wait for the file, then rename it to ``path`` (mode 0644); OSError naming ``path`` if it failed."""
        self._thread.join()
        if self._error is not None:
            self.discard()
            if isinstance(self._error, OSError):
                raise OSError(self._error.errno, f"cannot write {path}: {self._error.strerror}")
            raise self._error
        _place(self._tmp, path)
        return Path(path)

    def discard(self) -> None:
        self._thread.join()
        Path(self._tmp).unlink(missing_ok=True)


def _jsonable(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


# A folder thermosim writes carries this file; only such a folder (or an empty one) is ever replaced.
MARKER = ".thermosim-output"
_MARKER_TEXT = "This folder was written by thermosim, which may replace it on the next run.\n"


def check_output_dir(out: Path, what: str = "output folder") -> Path:
    """Refuse (ValueError, one line) an output folder thermosim must not write into or replace.

    Allowed: a path that does not exist yet, an empty folder, or a folder thermosim wrote (it holds
    MARKER). Refused: '.', '..', the working directory or any folder above it, the home and root folders,
    a symbolic link, a file, and any other existing folder — whose contents are left untouched.
    """
    out = Path(out)
    if out.name in ("", ".", "..") or str(out).endswith(("/.", "/..")):
        raise ValueError(f"{what} '{out}' is not a folder name thermosim can write (give a new folder)")
    if out.is_symlink():
        raise ValueError(f"{what} '{out}' is a symbolic link; refused (give a real folder)")
    real = out.resolve()
    cwd = Path.cwd().resolve()
    if real == cwd or real in cwd.parents or real == Path.home().resolve() or real == Path(real.anchor):
        raise ValueError(f"{what} '{out}' is the working, home or root folder or above it; refused")
    if not out.exists():
        return out
    if not out.is_dir():
        raise ValueError(f"{what} '{out}' exists and is not a folder; refused (nothing was changed)")
    if not _marked(out) and any(out.iterdir()):
        raise ValueError(
            f"{what} '{out}' is an existing folder thermosim did not write (no {MARKER} file); refused, "
            "nothing in it was changed: give a new or empty folder"
        )
    return out


def claim_output_dir(out: Path, what: str = "output folder") -> Path:
    """:func:`check_output_dir`, then create the folder (and its parents) and mark it as thermosim's."""
    out = check_output_dir(out, what)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not _marked(out):
            atomic_write_text(out / MARKER, _MARKER_TEXT)
    except OSError as err:
        raise OSError(err.errno, f"cannot write {what} {out}: {err.strerror}") from None
    return out


def replace_dir(stage: Path, out: Path) -> None:
    """Move the finished folder ``stage`` to ``out``, replacing ``out`` only if it is thermosim's or empty."""
    check_output_dir(out)
    atomic_write_text(stage / MARKER, _MARKER_TEXT)
    if out.exists():
        if _marked(out):
            shutil.rmtree(out)
        else:
            out.rmdir()  # empty (checked above); fails rather than delete anything that appeared since
    stage.rename(out)


def _marked(folder: Path) -> bool:
    m = folder / MARKER
    return m.is_file() and not m.is_symlink()


def markdown_table(head: list[str], rows) -> list[str]:
    """A markdown table's lines: the header, the rule, one line per row of cells (already formatted)."""
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def reusable(result_json: Path, key: str, files: tuple[str, ...] = ()) -> dict | None:
    """The result stored in ``result_json`` when an earlier run of the same inputs wrote it: its
    ``stage_key`` equals ``key`` (:func:`thermosim.runs.keys.stage_key`) and every file it lists under
    ``figures``, and every one of ``files``, is still beside it. None otherwise (then run the stage)."""
    try:
        old = json.loads(Path(result_json).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(old, dict) or old.get("stage_key") != key:
        return None
    folder = Path(result_json).parent
    names = [*files, *(f for f in old.get("figures") or () if isinstance(f, str))]
    return old if all((folder / f).is_file() for f in names) else None
