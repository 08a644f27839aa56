"""Where tasks run: in this process, local worker processes, or a Dask cluster.

Every executor offers the same three calls (``submit``, ``wait_any``, ``close``) on
futures, so the driver (engine.py) has one code path for all of them:

- :class:`SerialExecutor`: in this process, one task at a time (``--workers 1``);
- :class:`LocalExecutor`: ``N`` worker processes of this machine (``--workers N``); they
  are forked from the driver when that is safe, else started fresh (``spawn``), and end
  themselves when the driver dies;
- :class:`DaskExecutor`: a ``distributed.Client`` on an existing scheduler
  (``--scheduler ADDRESS``) or on a Slurm/PBS cluster started through dask-jobqueue
  (``--cluster slurm|pbs``; :func:`jobqueue_cluster`).

Dask keeps no results across failures (a lost worker's tasks run again, distributed#2219);
that is harmless here because every task checks its own file first.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from gridplan.errors import CaseError


class SerialFuture:
    """A future that runs its call when it is first waited for."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._call = (fn, args)
        self._done = False
        self._result: Any = None
        self._exc: BaseException | None = None

    def run(self) -> None:
        if self._done:
            return
        fn, args = self._call
        try:
            self._result = fn(*args)
        except Exception as exc:  # as a pool would: the driver decides
            self._exc = exc
        self._done = True

    def result(self) -> Any:
        self.run()
        if self._exc is not None:
            raise self._exc
        return self._result


class SerialExecutor:
    """Tasks run in this process, in submission order."""

    n_workers = 1
    where = "this process"

    def __init__(self) -> None:
        self._order: dict[SerialFuture, int] = {}

    def submit(self, fn: Callable[..., Any], *args: Any) -> SerialFuture:
        fut = SerialFuture(fn, args)
        self._order[fut] = len(self._order)
        return fut

    def wait_any(self, futures: Iterable[Any]) -> tuple[set[Any], set[Any]]:
        pending = set(futures)
        first = min(pending, key=lambda f: self._order[f])
        first.run()
        return {first}, pending - {first}

    def close(self, cancel: bool = False) -> None:
        self._order.clear()


def start_method() -> str:
    """How local workers start: ``fork`` on Linux while this process runs one thread, else
    ``spawn``.

    A forked worker has every module of the driver already imported (pandapower alone takes
    3-5 s to import, which a spawned worker pays before its first task, after the driver
    paid it too). Forking is safe only while no other thread can hold a lock the child
    would inherit held, hence the thread check; a pool started later (after a worker died,
    progress threads running) is spawned.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


class LocalExecutor:
    """``n`` worker processes on this machine, started at once (:func:`start_method`)."""

    def __init__(self, n: int) -> None:
        from gridplan.studies.batch.worker import init_local_worker

        self.n_workers = n
        self.where = f"{n} local worker processes"
        self._init = init_local_worker
        self._pool = self._new_pool()

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        method = start_method()
        pool = cf.ProcessPoolExecutor(
            max_workers=self.n_workers,
            mp_context=multiprocessing.get_context(method),
            initializer=self._init,
            initargs=(os.getpid(),),
        )
        self.start_method = method
        if method == "fork":
            # the first submit forks every worker: now, while this is the only thread
            # (the pool's own manager thread starts after the forks)
            pool.submit(int)
        return pool

    def revive(self) -> None:
        """A new pool when a worker process died (the old one refuses work then)."""
        if getattr(self._pool, "_broken", False):
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()

    def submit(self, fn: Callable[..., Any], *args: Any) -> cf.Future[Any]:
        from gridplan.studies.batch.worker import call_local

        return self._pool.submit(call_local, fn, *args)

    def wait_any(self, futures: Iterable[Any]) -> tuple[set[Any], set[Any]]:
        done, pending = cf.wait(set(futures), return_when=cf.FIRST_COMPLETED)
        return set(done), set(pending)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            # stop running tasks now: SIGTERM makes a worker unwind (its temporary file
            # is deleted) instead of finishing a task nobody waits for
            procs = list(getattr(self._pool, "_processes", {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=10)
        else:
            self._pool.shutdown(wait=True)


class DaskExecutor:
    """Tasks on a Dask cluster through a ``distributed.Client``."""

    def __init__(
        self,
        client: Any,
        cluster: Any = None,
        target_workers: int | None = None,
        own: bool = False,
    ) -> None:
        self.client = client
        self.cluster = cluster
        self._target = target_workers
        self._own = own  # close the client (and cluster) at the end: only those we started
        self.where = f"Dask scheduler {client.scheduler.address}"

    @property
    def n_workers(self) -> int:
        if self._target:
            return self._target
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        # pure=False: a task is run every time it is submitted (its file decides)
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures: Iterable[Any]) -> tuple[set[Any], set[Any]]:
        from distributed import wait

        done, pending = wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done), set(pending)

    def close(self, cancel: bool = False) -> None:
        if not self._own:
            return
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def connect(address: str, timeout_s: float = 30.0) -> DaskExecutor:
    """A :class:`DaskExecutor` on the running scheduler at ``address``."""
    try:
        from distributed import Client
    except ImportError:
        raise CaseError(
            "--scheduler needs dask.distributed", hint="pip install 'gridplan[cluster]'"
        ) from None
    try:
        client = Client(address, timeout=timeout_s)
    except OSError as exc:
        raise CaseError(f"--scheduler {address}: cannot connect ({exc})") from None
    return DaskExecutor(client, own=True)


_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d+):(\d{1,2})(?::(\d{1,2}))?$")


def walltime_s(text: str) -> int:
    """Seconds of a Slurm/PBS walltime ``[D-]HH:MM[:SS]``."""
    m = _WALLTIME.match(text.strip())
    if not m:
        raise CaseError(f"--walltime must be [D-]HH:MM[:SS], got {text!r} instead")
    d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def lifetime_args(walltime: str) -> list[str]:
    """``--lifetime``/``--lifetime-stagger`` for Dask workers in jobs of ``walltime``.

    Workers retire before the scheduler of the batch system kills their job: 5 minutes
    (at most a tenth of the walltime) early, staggered by up to 2 minutes (at most a
    twentieth) so they do not all leave at once. A task running on a retiring worker runs
    again elsewhere (and its temporary file is not a result); finished tasks are files.
    """
    total = walltime_s(walltime)
    margin = min(300, max(total // 10, 1))
    stagger = min(120, max(total // 20, 0))
    life = max(total - margin - stagger, 1)
    return ["--lifetime", f"{life}s", "--lifetime-stagger", f"{stagger}s"]


def _import_jobqueue():  # type: ignore[no-untyped-def]
    """``dask_jobqueue``, leaving this process's Ctrl-C handling as it was.

    Importing it (its ``runner`` module) replaces the SIGINT handler of the whole process
    with ``sys.exit``: Ctrl-C would then end a scan without booking the finished outages
    (KeyboardInterrupt is what gridplan's studies catch).
    """
    main = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if main else None
    import dask_jobqueue

    if main and handler is not None:
        signal.signal(signal.SIGINT, handler)
    return dask_jobqueue


def jobqueue_settings(kind: str, settings: dict[str, Any]) -> tuple[type, dict[str, Any], int]:
    """The dask-jobqueue cluster class, its keyword arguments and the number of jobs.

    ``settings``: queue, account, cores, processes, memory, walltime, jobs, interface,
    job_extra_directives, job_script_prologue, local_directory, log_directory (the study
    file's ``[cluster]`` table, overridden by the command line). Each job runs ``processes``
    single-threaded workers (default: one per core) that retire before the walltime.
    """
    try:
        dask_jobqueue = _import_jobqueue()
    except ImportError:
        raise CaseError(
            f"--cluster {kind} needs dask-jobqueue", hint="pip install 'gridplan[cluster]'"
        ) from None
    cls = {"slurm": dask_jobqueue.SLURMCluster, "pbs": dask_jobqueue.PBSCluster}.get(kind)
    if cls is None:
        raise CaseError(f"--cluster must be slurm or pbs, got {kind!r} instead")
    s = dict(settings)
    jobs = int(s.pop("jobs", 1))
    cores = int(s.pop("cores", 1))
    processes = int(s.pop("processes", cores))
    walltime = str(s.pop("walltime", "01:00:00"))
    memory = str(s.pop("memory", f"{2 * cores}GiB"))
    if jobs < 1 or cores < 1 or not 1 <= processes <= cores:
        raise CaseError(
            f"--cluster {kind}: need jobs >= 1, cores >= 1 and 1 <= processes <= cores, "
            f"got jobs={jobs}, cores={cores}, processes={processes}"
        )
    kw: dict[str, Any] = {
        "cores": cores,
        "processes": processes,
        "memory": memory,
        "walltime": walltime,
        "python": sys.executable,
        "worker_extra_args": lifetime_args(walltime),
    }
    for k in ("queue", "account", "interface", "local_directory", "log_directory"):
        value = s.pop(k, None)
        if value:
            kw[k] = value
    for k in ("job_extra_directives", "job_script_prologue"):
        value = s.pop(k, None)
        if value:
            kw[k] = list(value)
    if s:
        raise CaseError(f"--cluster {kind}: unknown setting(s) {', '.join(sorted(s))}")
    return cls, kw, jobs


def jobqueue_cluster(kind: str, settings: dict[str, Any]) -> DaskExecutor:
    """Start a Slurm or PBS cluster through dask-jobqueue (:func:`jobqueue_settings`) and
    a client on it; jobs whose workers retired before the walltime are replaced (``adapt``)."""
    from distributed import Client

    cls, kw, jobs = jobqueue_settings(kind, settings)
    try:
        cluster = cls(**kw)
    except (ValueError, TypeError, OSError) as exc:
        raise CaseError(f"--cluster {kind}: cannot set up the cluster ({exc})") from None
    cluster.adapt(minimum_jobs=jobs, maximum_jobs=jobs)
    client = Client(cluster)
    ex = DaskExecutor(client, cluster, target_workers=jobs * kw["processes"], own=True)
    ex.where = f"{kind} cluster, {jobs} job(s) x {kw['processes']} worker(s)"
    return ex
