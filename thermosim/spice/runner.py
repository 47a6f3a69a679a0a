"""Run ``ngspice -b -r out.raw`` in a run directory and return its waveforms.

The runner owns the run directory, the subprocess, the noise stream and the error messages. Every
failure raises :class:`SpiceError` with ngspice's own message and the netlist and log paths; the run
directory of a failed run is kept for inspection.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import SpiceError
from .raw import RawPlot, read_raw

INSTALL_HINT = "install it with `apt-get install -y ngspice` (or `make setup`)"
NETLIST = "circuit.cir"
RAW = "out.raw"
LOG = "ngspice.log"

# ngspice's own wording of what went wrong, most specific first (matched case-insensitively in its log)
_CAUSES = [
    (r"singular matrix", "ngspice stopped: singular matrix (a node without a DC path, or a loop of sources)"),
    (r"timestep too small", "ngspice stopped: timestep too small (the circuit did not converge)"),
    (
        r"gmin stepping failed|source stepping failed|no convergence|iteration limit reached",
        "ngspice could not find the operating point",
    ),
    (
        r"circuit not parsed|error on line|unknown (model|subckt|parameter)|could not find|unable to find",
        "ngspice could not parse the netlist",
    ),
    (r"cannot open|could not open|file not found|no such file", "ngspice could not open a file"),
    (r"simulation\(s\) aborted|simulation interrupted", "ngspice aborted the simulation"),
]
# these end a transient even when ngspice exits 0 in batch mode
_ALWAYS_FATAL = r"timestep too small|simulation\(s\) aborted|simulation interrupted|circuit not parsed"


@dataclass(frozen=True)
class RunResult:
    """Waveforms of one run plus what it cost."""

    plot: RawPlot
    run_dir: Path
    wall_s: float  # wall time of the ngspice process
    log: str


@cache
def ngspice_version() -> str:
    """ngspice's version string, e.g. ``"39"``; raises SpiceError if ngspice is missing."""
    exe = _ngspice()
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"ngspice-?\s*([0-9][0-9.+a-z-]*)", out)
    return m.group(1) if m else "unknown"


def _ngspice() -> str:
    exe = shutil.which(os.environ.get("THERMOSIM_NGSPICE", "ngspice"))
    if exe is None:
        raise SpiceError(f"ngspice not found on PATH; {INSTALL_HINT}")
    return exe


def run_netlist(
    netlist: str,
    run_dir: Path,
    *,
    noise_file: str | None = None,
    noise_lines: Iterable[str] | None = None,
    timeout_s: float = 3600.0,
    keep: bool = False,
    on_output: Callable[[int], None] | None = None,
) -> RunResult:
    """Write ``netlist`` to ``run_dir``, run ngspice on it and read the transient plot.

    ``on_output(bytes)`` is called about 4 times a second with the size of the raw file ngspice is
    writing (it appends every accepted point), which tells how far the simulation has got.

    ``noise_lines`` (text chunks) are streamed into ``run_dir/noise_file`` through a FIFO while ngspice
    runs, so generating noise overlaps the simulation and costs no disk. On success the run directory is
    removed unless ``keep``; on failure it is kept and named in the error.
    """
    exe = _ngspice()
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    net_path, raw_path, log_path = run_dir / NETLIST, run_dir / RAW, run_dir / LOG
    net_path.write_text(netlist)
    for p in (raw_path, log_path):
        p.unlink(missing_ok=True)
    writer = None
    if noise_lines is not None:
        if noise_file is None:
            raise ValueError("noise_lines needs noise_file")
        writer = _FifoWriter(run_dir / noise_file, noise_lines)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    try:
        with open(log_path, "w") as log_f:
            proc = subprocess.Popen(
                [exe, "-b", "-r", RAW, NETLIST],
                cwd=run_dir,
                stdout=log_f,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
            if writer:
                writer.start()
            # a timer kills on timeout; a plain blocking wait avoids Popen.wait(timeout)'s polling sleeps
            timer = threading.Timer(timeout_s, proc.kill)
            timer.start()
            if on_output:
                threading.Thread(target=_watch, args=(proc, raw_path, on_output), daemon=True).start()
            code = proc.wait()
            timed_out = not timer.is_alive()
            timer.cancel()
            timer.join()
            if timed_out:
                raise SpiceError(f"ngspice timed out after {timeout_s:g} s", netlist=net_path, log=log_path)
    finally:
        if writer:
            writer.finish()
    wall = time.perf_counter() - t0
    log = log_path.read_text(errors="replace")
    _raise_for_log(log, code, net_path, log_path)
    if writer and writer.error:
        raise SpiceError(f"noise stream failed: {writer.error}", netlist=net_path, log=log_path)
    if not raw_path.exists() or raw_path.stat().st_size == 0:
        message, line = _diagnose(log)
        raise SpiceError(
            message or "ngspice produced no data (no .tran analysis in the netlist?)",
            netlist=net_path,
            log=log_path,
            ngspice_message=line,
        )
    try:
        plots = [p for p in read_raw(raw_path) if p.names and p.names[0] == "time"]
    except SpiceError as err:
        raise SpiceError(err.message, netlist=net_path, log=log_path) from None
    if not plots or plots[-1].n_points == 0:
        raise SpiceError(
            "ngspice produced no transient data (the netlist needs a .tran analysis)",
            netlist=net_path,
            log=log_path,
        )
    plot = plots[-1]
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    return RunResult(plot=plot, run_dir=run_dir, wall_s=wall, log=log)


def _diagnose(log: str) -> tuple[str, str]:
    """(our explanation, ngspice's own line) for the most specific cause found in the log."""
    for pattern, message in _CAUSES:
        m = re.search(f"^.*(?:{pattern}).*$", log, re.I | re.M)
        if m:
            return message, m.group(0).strip()
    errors = [x.strip() for x in log.splitlines() if re.search(r"\berror\b", x, re.I)]
    return "", errors[0] if errors else ""


def _raise_for_log(log: str, code: int, net_path: Path, log_path: Path) -> None:
    """Raise on a non-zero exit or a fatal message; warnings ngspice recovered from are left alone."""
    message, line = _diagnose(log)
    if code != 0:
        raise SpiceError(
            message or f"ngspice exited with code {code}",
            netlist=net_path,
            log=log_path,
            ngspice_message=line,
        )
    m = re.search(f"^.*(?:{_ALWAYS_FATAL}).*$", log, re.I | re.M)
    if m:
        raise SpiceError(
            _diagnose(m.group(0))[0] or "ngspice aborted the simulation",
            netlist=net_path,
            log=log_path,
            ngspice_message=m.group(0).strip(),
        )


def _watch(proc: subprocess.Popen, raw_path: Path, on_output: Callable[[int], None]) -> None:
    while proc.poll() is None:
        try:
            on_output(raw_path.stat().st_size)
        except OSError:
            pass
        time.sleep(0.25)


class _FifoWriter:
    """Feeds text chunks into a named pipe in a thread; never blocks the caller forever.

    If ngspice dies before opening the pipe, :meth:`finish` opens the read end itself so the writer's
    ``open`` returns and its next write fails with a broken pipe, ending the thread.
    """

    def __init__(self, path: Path, chunks: Iterable[str]) -> None:
        self.path = path
        self.chunks = chunks
        self.error: str | None = None
        path.unlink(missing_ok=True)
        os.mkfifo(path)
        self._thread = threading.Thread(target=self._run, daemon=True, name="thermosim-noise-writer")

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            with open(self.path, "w") as f:
                _grow_pipe(f.fileno())
                for chunk in self.chunks:
                    f.write(chunk)
        except BrokenPipeError:
            pass  # ngspice stopped reading (finished early or failed): its log says why
        except Exception as err:  # noqa: BLE001 - reported to the caller as a SpiceError
            self.error = f"{type(err).__name__}: {err}"

    def finish(self) -> None:
        if self._thread.is_alive():
            try:  # unblock a writer still waiting in open(): be the reader, then hang up
                fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
            self._thread.join(timeout=10)
        self.path.unlink(missing_ok=True)


def _grow_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe buffer (Linux; default 64 KiB) so ngspice never waits for the next chunk."""
    import fcntl

    try:
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(1 << 20, limit))
    except (OSError, ValueError, AttributeError):
        pass  # a smaller buffer only costs speed
