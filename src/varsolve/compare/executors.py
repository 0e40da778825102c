"""Where the tasks of a sweep run: this process, a pool of local processes, or a Dask cluster.

Whichever runs them, rows come back in task order, so the report does not depend on which
task finished first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from multiprocessing.context import BaseContext
from typing import TypedDict
from urllib.parse import urlparse

from ..errors import InputError, SourceError
from .tasks import Row, Task, run_task

OnDone = Callable[[Row], None]


class _PoolOptions(TypedDict, total=False):
    max_tasks_per_child: int
    mp_context: BaseContext


def parse_executor(spec: str) -> tuple[str, str | None]:
    """``local`` or ``dask://HOST:PORT`` -> (kind, scheduler address)."""
    if spec == "local":
        return "local", None
    if spec.startswith("dask://"):
        parsed = urlparse(spec)
        try:
            port = parsed.port
        except ValueError:
            port = None
        if not parsed.hostname or port is None or parsed.path not in ("", "/"):
            raise InputError(f"--executor: expected dask://HOST:PORT, got {spec!r}")
        return "dask", f"tcp://{parsed.hostname}:{port}"
    raise InputError(f"--executor: expected 'local' or dask://HOST:PORT, got {spec!r}")


def run_local(tasks: Sequence[Task], jobs: int, on_done: OnDone) -> list[Row]:
    fresh_process = any(t.memory == "rss" for t in tasks)
    if jobs <= 1 and not fresh_process:
        rows = []
        for task in tasks:
            rows.append(run_task(task))
            on_done(rows[-1])
        return rows
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    kwargs: _PoolOptions = {}
    if fresh_process:
        # A process's peak RSS only says something about one task if it ran nothing else.
        kwargs = {"max_tasks_per_child": 1, "mp_context": multiprocessing.get_context("forkserver")}
    results: dict[int, Row] = {}
    pool = ProcessPoolExecutor(max_workers=max(1, jobs), **kwargs)
    try:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                row = future.result()
            except BrokenProcessPool:
                row = _crashed(task, "the worker process died (out of memory?)")
            results[task.index] = row
            on_done(row)
    except BaseException:
        # Ctrl-C: neither wait for queued tasks nor for running ones (a blown-up greedy search
        # may run for minutes). The executor has no public way to stop a running task, hence
        # its private process table.
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return [results[t.index] for t in tasks]


def run_dask(tasks: Sequence[Task], address: str, on_done: OnDone) -> list[Row]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError(
            "--executor dask://... needs dask.distributed: pip install 'varsolve[dask]'"
        ) from None
    _probe(address)
    try:
        client = Client(address, timeout="10s", set_as_default=False)  # type: ignore[no-untyped-call]  # distributed: untyped
    except (OSError, TimeoutError) as exc:
        raise SourceError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    results: dict[int, Row] = {}
    try:
        # pure=False: two identical tasks are two measurements, not one cached result.
        futures = client.map(run_task, list(tasks), pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
        for future in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]  # distributed: untyped
            task = by_key[future.key]
            try:
                row = future.result()
            except Exception as exc:  # a lost worker; the task's own errors come back as rows
                row = _crashed(task, f"{type(exc).__name__}: {exc}".splitlines()[0])
            results[task.index] = row
            on_done(row)
    finally:
        client.close()  # type: ignore[no-untyped-call]  # distributed: untyped
    return [results[t.index] for t in tasks]


def _probe(address: str) -> None:
    """Fail at once on a refused connection (Dask's client would retry for its whole timeout)."""
    import socket

    host, port = urlparse(address).hostname, urlparse(address).port
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise SourceError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None


def _crashed(task: Task, message: str) -> Row:
    from ..strategies import COMPLETE

    return Row(
        scenario=task.scenario_name or task.scenario_path, path=task.scenario_path, strategy=task.strategy,
        complete=task.strategy in COMPLETE, target=task.target_name, status="error", error=message,
    )
