"""Where independent runs execute: local processes, or Dask (a local cluster or an existing scheduler).

The one place that makes an executor from (workers, dask, scheduler): sweeps, the generative
computer's netlists and the linear-algebra runs all use :func:`make_executor` and see only
``submit`` and futures. Each caller seeds a task by its index alone and reads results in index order,
so its output is the same on any executor.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
from collections.abc import Iterator


@contextlib.contextmanager
def make_executor(
    workers: int,
    dask: bool = False,
    scheduler: str | None = None,
    threads: bool = False,
    start_method: str = "spawn",
) -> Iterator[cf.Executor]:
    """A concurrent.futures Executor: local processes by default, or Dask (local cluster or ``scheduler``).

    ``threads``: a thread pool instead of processes, for a family defined in ``__main__`` (a notebook or
    a script), which fresh worker processes cannot import; ngspice still runs in its own processes.
    ``start_method`` of the local processes: spawn (workers start clean, with no inherited threads, and
    import thermosim once, ~0.3 s) or fork. Dask's ``Client.get_executor`` gives the same API.
    ValueError (one line) when Dask is not installed or the scheduler cannot be reached.
    """
    if threads:
        with cf.ThreadPoolExecutor(max_workers=workers) as ex:
            yield ex
        return
    if not (dask or scheduler):
        context = multiprocessing.get_context(start_method)
        with cf.ProcessPoolExecutor(max_workers=workers, mp_context=context) as ex:
            yield ex
        return
    try:
        from distributed import Client, LocalCluster, Worker
    except ImportError:
        raise ValueError("Dask is not installed: pip install 'thermosim[dask]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as err:
            raise ValueError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        cluster = None
    else:
        # plain workers, no nanny: the workers are threads of this process (ngspice runs in processes of its
        # own either way), so no further Python processes compete with ngspice for the cores
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_class=Worker,
        )
        client = Client(cluster)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def describe(workers: int, dask: bool = False, scheduler: str | None = None) -> str:
    """Where the runs go, for a progress line: ``2 worker(s)``, ``2 worker(s) (Dask)``, ``Dask at ADDR``."""
    if scheduler:
        return f"the Dask scheduler at {scheduler}"
    return f"{workers} worker(s){' (Dask)' if dask else ''}"


def results_in_order(futures: list[cf.Future]) -> Iterator:
    """The futures' results in list order (whatever order they finish in); on an error or an interrupt
    the futures not yet finished are cancelled, so nothing more starts."""
    try:
        for fut in futures:
            yield fut.result()
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
