"""Run ``ngspice -b -r out.raw`` in a run directory and return its waveforms.

The runner owns the run directory, the subprocess, the noise stream and the error messages. Every
failure raises :class:`SpiceError` with ngspice's own message and the netlist and log paths; the run
directory of a failed run is kept for inspection.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import SpiceError, timestep_message
from .feeder import NoiseFeeder
from .guard import check_netlist, ngspice_env
from .raw import RawPlot, RawTail, read_raw

INSTALL_HINT = "install it with `apt-get install -y ngspice` (or `make setup`)"
NETLIST = "circuit.cir"
RAW = "out.raw"
LOG = "ngspice.log"

NOISE_WAIT_S = 2.0  # the longest a caller's side work waits for the noise to be written
_TIMESTEP_CAUSE = r"timestep too small"
# ngspice's own wording of what went wrong, most specific first (matched case-insensitively in its log)
_CAUSES = [
    (
        r"can't find model|could not find a valid modelname|unable to find definition of model",
        "ngspice could not parse the netlist: a model it uses is not defined (a missing .model or .include)",
    ),
    (r"singular matrix", "ngspice stopped: singular matrix (a node without a DC path, or a loop of sources)"),
    (_TIMESTEP_CAUSE, "ngspice stopped: timestep too small"),  # worded by errors.timestep_message
    (
        r"gmin stepping failed|source stepping failed|no convergence|iteration limit reached",
        "ngspice could not find the operating point",
    ),
    (
        r"circuit not parsed|error on line|unknown (model|subckt|parameter)|could not find|unable to find",
        "ngspice could not parse the netlist",
    ),
    (r"cannot open|could not open|file not found|no such file", "ngspice could not open a file"),
    (
        r"rawfile write error|no space left on device|disk quota exceeded",
        "ngspice could not write its raw file (is the disk full or the temporary folder not writable?)",
    ),
    (r"simulation\(s\) aborted|simulation interrupted", "ngspice aborted the simulation"),
]
# these end a transient even when ngspice exits 0 in batch mode
_ALWAYS_FATAL = r"timestep too small|simulation\(s\) aborted|simulation interrupted|circuit not parsed"
_TITLE = re.compile(r"^\s*Circuit: .*$", re.M)


@dataclass(frozen=True)
class RunResult:
    """Waveforms of one run plus what it cost."""

    plot: RawPlot
    run_dir: Path
    wall_s: float  # wall time of the ngspice process
    log: str
    cpu_s: float = 0.0  # CPU time of the ngspice process (user + system)
    read_s: float = 0.0  # wall time of reading the raw file
    noise_cpu_s: float = 0.0  # CPU time of the threads that streamed the noise (generation + pipe writes)
    meanwhile: object = None  # what the caller's ``meanwhile`` work returned
    streamed: bool = False  # ``on_rows`` saw every point of ``plot``, once each, in order


@cache
def ngspice_version() -> str:
    """ngspice's version string, e.g. ``"39"``; raises SpiceError if ngspice is missing."""
    exe = _ngspice()
    env = ngspice_env(home=Path(os.devnull))
    out = subprocess.run([exe, "-n", "--version"], capture_output=True, text=True, timeout=30, env=env).stdout
    m = re.search(r"ngspice-?\s*([0-9][0-9.+a-z-]*)", out)
    return m.group(1) if m else "unknown"


def require_ngspice() -> str:
    """The ngspice executable; raises SpiceError saying how to install it when there is none. Starts no
    process (:func:`ngspice_version` does: a run asks it while its own ngspice runs)."""
    return _ngspice()


def _version_meanwhile() -> None:
    try:
        ngspice_version()
    except Exception:  # noqa: BLE001 - asked again, and reported, where the version is used
        pass


def _ngspice() -> str:
    exe = shutil.which(os.environ.get("THERMOSIM_NGSPICE", "ngspice"))
    if exe is None:
        raise SpiceError(f"ngspice not found on PATH; {INSTALL_HINT}")
    return exe


def run_netlist(
    netlist: str,
    run_dir: Path,
    *,
    noise_files: list[str] | None = None,
    noise_blocks: Iterable[list[bytes]] | None = None,
    timeout_s: float = 3600.0,
    keep: bool = False,
    on_output: Callable[[int], None] | None = None,
    analysis: str = "tran",
    meanwhile: Callable[[], object] | None = None,
    on_rows: Callable[[tuple[str, ...], object], None] | None = None,
) -> RunResult:
    """Write ``netlist`` to ``run_dir``, run ngspice on it and read the transient plot.

    ``on_output(bytes)`` is called about 4 times a second with the size of the raw file ngspice is
    writing (it appends every accepted point), which tells how far the simulation has got.

    ``noise_blocks`` (lists of text chunks as bytes, one per name in ``noise_files``) are streamed into
    ``run_dir/<name>`` through FIFOs while ngspice runs, so generating noise overlaps the simulation and
    costs no disk. On success the run directory is removed unless ``keep``; on failure it is kept and
    named in the error; on an interrupt (Ctrl-C) it is removed unless ``keep``.

    Before ngspice starts, the netlist and every file it includes are checked (:mod:`.guard`): a control
    block, a script header or a path that leaves ``run_dir`` is refused. ngspice runs with ``-n`` (no
    ``.spiceinit``) in a minimal environment, so nothing but the checked files decides what it does.

    ``meanwhile()``: the caller's own work, run on another thread while ngspice runs, once all the noise
    is in the pipes (at most NOISE_WAIT_S later). ngspice 39 parses its noise files whole before its first
    step, and work that holds Python's lock meanwhile (imports above all) starves the writers: scipy's
    imports beside them stretched that parse from 0.25 to 0.33–0.44 s. Its result is
    ``RunResult.meanwhile``; what it raised is raised here after ngspice finished.

    ``on_rows(names, rows)``: the caller's work on the transient's points as ngspice writes them (rows:
    a float64 array (k, vectors), point-major, in file order), called from another thread; the raw file
    is then read while it grows (:class:`~.raw.RawTail`). ``RunResult.streamed`` says whether it saw
    every point of the returned plot once (a netlist with one real plot); if not, the plot was read
    afterwards and the caller redoes its work from it.

    ``analysis="dc"`` reads a DC sweep's plot instead (its first vector is the swept
    source's value, e.g. ``v-sweep``).
    """
    exe = _ngspice()
    timeout_s, limit = _timeout(timeout_s)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    net_path, raw_path, log_path = run_dir / NETLIST, run_dir / RAW, run_dir / LOG
    net_path.write_text(netlist)
    for p in (raw_path, log_path):
        p.unlink(missing_ok=True)
    check_netlist(netlist, run_dir, source=str(net_path))
    writer = None
    if noise_blocks is not None:
        if not noise_files:
            raise ValueError("noise_blocks needs noise_files")
        writer = NoiseFeeder([run_dir / n for n in noise_files], noise_blocks)
    env = ngspice_env(home=run_dir)
    t0 = time.perf_counter()
    proc = timer = watcher = None
    tail = RawTail(raw_path, on_rows) if on_rows is not None else None
    ended = threading.Event()  # ngspice has exited: only this thread waits for it (and reaps it)
    try:
        with open(log_path, "w") as log_f:
            proc = subprocess.Popen(
                _dies_with_parent([exe, "-n", "-b", "-r", RAW, NETLIST]),
                cwd=run_dir,
                stdout=log_f,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
            if writer:
                writer.start()
            side = _after(writer.written if writer else None, meanwhile)
            # a timer kills on timeout; a plain blocking wait avoids Popen.wait(timeout)'s polling sleeps
            timer = threading.Timer(timeout_s, proc.kill)
            timer.daemon = True
            timer.start()
            if on_output or tail:
                watcher = threading.Thread(
                    target=_watch, args=(ended, raw_path, on_output, tail), daemon=True, name="thermosim-tail"
                )
                watcher.start()
            code, cpu = _wait(proc)
            timed_out = not timer.is_alive()
            timer.cancel()
            timer.join()
            if timed_out:
                raise SpiceError(
                    f"ngspice timed out after {timeout_s:g} s ({limit})", netlist=net_path, log=log_path
                )
    except BaseException as err:  # interrupted (Ctrl-C) or failed while ngspice runs: it must not run on
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        ended.set()
        if tail is not None:
            tail.close()
        if isinstance(err, KeyboardInterrupt) and not keep:
            if writer:
                writer.finish()
            shutil.rmtree(run_dir, ignore_errors=True)  # a partial raw file is no result
        raise
    finally:
        ended.set()
        if timer is not None:
            timer.cancel()
        if writer:
            writer.finish()
        if watcher is not None:
            watcher.join()  # it stops once ngspice has: the tail is this thread's from here on
    wall = time.perf_counter() - t0
    t_read = time.perf_counter()
    tailed = tail.finish() if tail is not None else None
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
    if tailed is not None and analysis == "tran" and tailed.names[0] == "time" and tailed.n_points:
        plots = [tailed]
    else:
        try:
            plots = [
                p for p in read_raw(raw_path) if p.names and (p.names[0] == "time") == (analysis == "tran")
            ]
        except SpiceError as err:
            raise SpiceError(err.message, netlist=net_path, log=log_path) from None
    if not plots or plots[-1].n_points == 0:
        raise SpiceError(
            f"ngspice produced no {'transient' if analysis == 'tran' else analysis} data "
            f"(the netlist needs a .{analysis} analysis)",
            netlist=net_path,
            log=log_path,
        )
    plot = plots[-1]
    read_s = time.perf_counter() - t_read
    if not keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    noise_cpu = writer.cpu_s if writer else 0.0
    streamed = tail is not None and tail.streamed and plot is tailed
    return RunResult(
        plot,
        run_dir,
        wall,
        log,
        cpu_s=cpu,
        read_s=read_s,
        noise_cpu_s=noise_cpu,
        meanwhile=side.result(),
        streamed=streamed,
    )


def _wait(proc: subprocess.Popen) -> tuple[int, float]:
    """Wait for ``proc``: its exit code and the CPU seconds (user + system) it used itself. The process's
    RUSAGE_CHILDREN would also count every other child reaped meanwhile: the runs on a Dask worker's other
    threads (which doubled the ngspice CPU a cluster reported), or the version query run beside this run."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # retried on EINTR by Python (PEP 475)
    except ChildProcessError:  # reaped by the system: this process inherited SIGCHLD ignored
        return proc.wait(), 0.0  # Popen's answer (0); the kernel kept no CPU time either
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime


def _after(ready: threading.Event | None, work: Callable[[], object] | None) -> cf.Future:
    """``work()`` on a thread once ``ready`` is set (at most NOISE_WAIT_S later), then ngspice's version
    when no run has asked it yet (a process start, overlapped with the run); a Future of work's result."""
    future: cf.Future = cf.Future()

    def go() -> None:
        if ready is not None:
            ready.wait(NOISE_WAIT_S)
        try:
            future.set_result(work() if work is not None else None)
        except BaseException as err:  # noqa: BLE001 - raised by the caller's future.result()
            future.set_exception(err)
        if ngspice_version.cache_info().currsize == 0:
            _version_meanwhile()

    threading.Thread(target=go, daemon=True, name="thermosim-meanwhile").start()
    return future


def _dies_with_parent(cmd: list[str]) -> list[str]:
    """``cmd`` run so that it is killed when the process that started it dies (Linux parent-death
    signal, set by util-linux's ``setpriv``): ngspice from a killed sweep worker would otherwise run on,
    or wait forever for a noise pipe nobody will open. Without setpriv the command runs as is."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--", *cmd] if setpriv else cmd


def _timeout(timeout_s: float) -> tuple[float, str]:
    """The run's time limit and where it comes from: the caller's (a spec's sim.timeout_s), capped by
    the environment variable THERMOSIM_NGSPICE_TIMEOUT_S for every run (foreign netlists included)."""
    env = os.environ.get("THERMOSIM_NGSPICE_TIMEOUT_S")
    if env is not None:
        try:
            cap = float(env)
        except ValueError:
            cap = math.nan
        if not cap > 0:
            raise SpiceError(f"THERMOSIM_NGSPICE_TIMEOUT_S must be a number of seconds > 0, got {env!r}")
        if cap < timeout_s:
            return cap, "the limit set by THERMOSIM_NGSPICE_TIMEOUT_S"
    return timeout_s, "the limit: a spec's sim.timeout_s; THERMOSIM_NGSPICE_TIMEOUT_S caps any run"


def _diagnose(log: str) -> tuple[str, str]:
    """(our explanation, ngspice's own line) for the most specific cause found in the log."""
    log = _TITLE.sub("", log)  # ngspice echoes the netlist's title line, whatever words it holds
    for pattern, message in _CAUSES:
        m = re.search(f"^.*(?:{pattern}).*$", log, re.I | re.M)
        if m:
            if pattern == _TIMESTEP_CAUSE:  # name the time and the step; a zero step is not convergence
                message = timestep_message(m.group(0))
            return message, m.group(0).strip()
    errors = [x.strip() for x in log.splitlines() if re.search(r"\berror\b", x, re.I)]
    return "", errors[0] if errors else ""


def _raise_for_log(log: str, code: int, net_path: Path, log_path: Path) -> None:
    """Raise on a non-zero exit or a fatal message; warnings ngspice recovered from are left alone."""
    message, line = _diagnose(log)
    if code < 0:  # killed from outside (out of memory, a user, a scheduler): whatever the log says
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        raise SpiceError(
            f"ngspice was killed by signal {name} before it finished", netlist=net_path, log=log_path
        )
    if code != 0:
        raise SpiceError(
            message or f"ngspice exited with code {code}",
            netlist=net_path,
            log=log_path,
            ngspice_message=line,
        )
    m = re.search(f"^.*(?:{_ALWAYS_FATAL}).*$", _TITLE.sub("", log), re.I | re.M)
    if m:
        raise SpiceError(
            _diagnose(m.group(0))[0] or "ngspice aborted the simulation",
            netlist=net_path,
            log=log_path,
            ngspice_message=m.group(0).strip(),
        )


def _watch(ended: threading.Event, raw_path: Path, on_output, tail: RawTail | None) -> None:
    """Until ngspice has ``ended``: read its raw file as it grows (every 50 ms) and report its size (every
    0.25 s). It never polls the process: a poll that reaps it would leave the runner's wait without its exit
    status and CPU time."""
    last = 0.0
    while not ended.is_set():
        if tail is not None:
            tail.poll()
        if on_output and time.monotonic() - last >= 0.25:
            last = time.monotonic()
            try:
                on_output(raw_path.stat().st_size)
            except OSError:
                pass
        ended.wait(0.05 if tail is not None else 0.25)
