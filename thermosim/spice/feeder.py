"""Streaming seeded noise into ngspice: named pipes fed by threads while ngspice reads them."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable
from pathlib import Path


class NoiseFeeder:
    """Feeds noise into named pipes, one writer thread per pipe, without ever blocking the caller.

    ngspice reads the files in lockstep (one line of each per time step), so a distributor thread hands
    every block to all writers before the next block. A queue is bounded only once its pipe is open:
    ngspice opens the files one by one, in its own order, and blocks on the first one's data, so a
    writer still waiting in ``open`` must not stall the others. If ngspice dies, :meth:`finish` stops
    the distributor, opens each pipe's read end so a writer still in ``open`` returns, and the writers
    end on a broken pipe.
    """

    QUEUE_BOUND = 8  # chunks per open pipe
    # a 1 MiB pipe lasts ngspice's parse ~5 ms: the writer looks again after 1 ms, up to 16 ms for a
    # reader that keeps the pipe full
    POLL_S, POLL_MAX_S = 0.001, 0.016

    def __init__(self, paths: list[Path], blocks: Iterable[list[bytes]]) -> None:
        self.paths = paths
        self.error: str | None = None
        self._cpu: list[float] = []  # CPU seconds of each thread, appended as it ends
        self._stop = threading.Event()
        self._queues = [queue.Queue() for _ in paths]
        self._opened = [threading.Event() for _ in paths]
        # set once every writer has ended: all the noise is in the pipes (or nobody reads it any more)
        self.written = threading.Event()
        self._writing = len(paths)
        self._lock = threading.Lock()
        for p in paths:
            p.unlink(missing_ok=True)
            os.mkfifo(p)
        self._threads = [
            threading.Thread(
                target=self._distribute, args=(blocks,), daemon=True, name="thermosim-noise-writer"
            )
        ]
        self._threads += [
            threading.Thread(target=self._write, args=(i,), daemon=True, name="thermosim-noise-writer")
            for i in range(len(paths))
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def _put(self, i: int, item) -> None:
        q = self._queues[i]
        while self._opened[i].is_set() and q.qsize() >= self.QUEUE_BOUND and not self._stop.is_set():
            time.sleep(0.002)  # the writer drains a chunk in about a millisecond
        if not self._stop.is_set():
            q.put(item)

    def _get(self, q: queue.Queue):
        while True:
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    return None

    def _distribute(self, blocks: Iterable[list[bytes]]) -> None:
        t0 = time.thread_time()
        try:
            for block in blocks:
                if len(block) != len(self._queues):
                    raise ValueError(f"noise block has {len(block)} chunks for {len(self._queues)} files")
                for i, chunk in enumerate(block):
                    self._put(i, chunk)
                if self._stop.is_set():
                    break
        except Exception as err:  # noqa: BLE001 - reported to the caller as a SpiceError
            self.error = f"{type(err).__name__}: {err}"
        finally:
            for i in range(len(self._queues)):
                self._put(i, None)
            self._cpu.append(time.thread_time() - t0)

    @property
    def cpu_s(self) -> float:
        """CPU seconds of the threads that have ended: noise generation and the writes into the pipes."""
        return sum(self._cpu)

    def _write(self, i: int) -> None:
        t0 = time.thread_time()
        try:
            self._write_pipe(i)
        finally:
            self._cpu.append(time.thread_time() - t0)
            with self._lock:
                self._writing -= 1
                if self._writing == 0:
                    self.written.set()

    def _write_pipe(self, i: int) -> None:
        q = self._queues[i]
        try:
            fd = os.open(self.paths[i], os.O_WRONLY)  # blocks until ngspice opens the file
            try:
                self._opened[i].set()
                _grow_pipe(fd)
                os.set_blocking(fd, False)
                while (chunk := self._get(q)) is not None:
                    self._write_all(fd, chunk)
            finally:
                os.close(fd)
            return  # every block written
        except BrokenPipeError:
            pass  # ngspice stopped reading (finished or failed): its log says why
        except Exception as err:  # noqa: BLE001
            self.error = f"{type(err).__name__}: {err}"
        self._opened[i].clear()  # nobody reads this queue any more: never bound it again
        while self._get(q) is not None:  # drain so the distributor can finish
            pass

    def _write_all(self, fd: int, data: bytes) -> None:
        """Write ``data`` into the non-blocking pipe ``fd``, sleeping while it is full.

        Why not a blocking write: a writer asleep in the kernel on a full pipe is woken by the reader each
        time it frees a page (4 KiB), on ngspice's side of the pipe; ngspice then parsed 2·10⁶ lines
        in 0.285 s instead of the 0.23 s it takes on a file. Polling keeps the wake-ups on this thread:
        0.24 s. The pause doubles from POLL_S up to POLL_MAX_S while the pipe stays full (a reader that
        takes its time is not polled a thousand times a second) and is back to POLL_S after a write.
        """
        view, pause = memoryview(data), self.POLL_S
        while view:
            try:
                view = view[os.write(fd, view) :]
                pause = self.POLL_S
            except BlockingIOError:
                if self._stop.is_set():
                    raise BrokenPipeError("the run ended before its noise was read") from None
                time.sleep(pause)
                pause = min(2 * pause, self.POLL_MAX_S)

    def finish(self) -> None:
        self._stop.set()
        for p in self.paths:
            try:  # unblock a writer still waiting in open(): be the reader, then hang up
                os.close(os.open(p, os.O_RDONLY | os.O_NONBLOCK))
            except OSError:
                pass
        for t in self._threads:
            t.join(timeout=10)
        for p in self.paths:
            p.unlink(missing_ok=True)


def _grow_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe buffer (Linux; default 64 KiB) so ngspice never waits for the next chunk."""
    import fcntl

    try:
        limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(1 << 20, limit))
    except (OSError, ValueError, AttributeError):
        pass  # a smaller buffer only costs speed
