"""Memoised fetches shared by the resolver and background prefetch threads.

A request the resolver waits for runs at once in the resolver's own thread (or joins the one
in flight), never queues behind prefetches; every fetch runs at most once per run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any


class Task:
    """A memoised unit of work that either a prefetch worker or a waiting caller runs, once."""

    __slots__ = ("claimed", "error", "finished", "fn", "future", "lock", "value")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: Future[Any] = Future()
        self.claimed = False
        self.lock = threading.Lock()
        # Set once done, for the lock-free path of TaskTable.result (a run asks for the same
        # page and metadata tens of thousands of times, from memory).
        self.finished = False
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        with self.lock:
            if self.claimed:
                return
            self.claimed = True
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001  (handed to whoever asks for the result)
            self.error = exc
            self.finished = True
            self.future.set_exception(exc)
        else:
            self.value = result
            self.finished = True
            self.future.set_result(result)

    def result(self) -> Any:
        self.run()  # not started yet: do it here rather than wait for a worker
        return self.future.result()


class Workers:
    """Up to ``count`` daemon threads running prefetch tasks in submission order, started as
    work arrives (a warm run starts none).

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so queued prefetches
    would delay the end of a run that forgot (or had no chance) to close the repository.
    """

    def __init__(self, count: int) -> None:
        self._queue: queue.SimpleQueue[Callable[[], object] | None] = queue.SimpleQueue()
        self._closed = False
        self._count = count
        self._started = 0
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], object]) -> None:
        if self._closed:
            return
        self._queue.put(fn)
        with self._lock:
            if self._idle == 0 and self._started < self._count:
                self._started += 1
                threading.Thread(target=self._work, name=f"varsolve-fetch-{self._started}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            fn = self._queue.get()
            with self._lock:
                self._idle -= 1
            if fn is None or self._closed:
                return
            fn()

    def shutdown(self) -> None:
        self._closed = True
        for _ in range(self._started):
            self._queue.put(None)


class TaskTable:
    """Every fetch of a run by key: :meth:`result` waits for one, :meth:`prefetch` queues one
    for the workers (with ``workers=0`` prefetching is off)."""

    def __init__(self, workers: int) -> None:
        self._workers = Workers(workers) if workers > 0 else None
        self._tasks: dict[Hashable, Task] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def prefetching(self) -> bool:
        return self._workers is not None and not self._closed

    def result(self, key: Hashable, fn: Callable[[], Any]) -> Any:
        done = self._tasks.get(key)  # a dict read is atomic: no lock for what is already known
        if done is not None and done.finished:
            if done.error is not None:
                raise done.error
            return done.value
        return self._task(key, fn, background=False).result()

    def prefetch(self, key: Hashable, fn: Callable[[], object]) -> None:
        if self.prefetching:
            self._task(key, fn, background=True)

    def _task(self, key: Hashable, fn: Callable[[], Any], background: bool) -> Task:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = Task(fn)
                if background and self._workers is not None and not self._closed:
                    self._workers.submit(task.run)
        return task

    def close(self) -> None:
        self._closed = True
        if self._workers is not None:
            self._workers.shutdown()
