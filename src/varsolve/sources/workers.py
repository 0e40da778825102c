"""Memoised fetches shared by the resolver and background prefetch threads.

A request the resolver waits for runs at once in the resolver's own thread (or joins the one
in flight), never queues behind prefetches; every fetch runs at most once per run, unless the
thread running it is stuck in a request that has received nothing for :data:`HEDGE_AFTER`
seconds while another waits for it: the waiting thread then fetches it too, and the first
result wins (a single stalled connection does not hold the resolution for the request's whole
timeout; no thread is added, so concurrency stays what it was).
"""

from __future__ import annotations

import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger("varsolve")

HEDGE_AFTER = 1.0  # seconds without a byte in the runner's request before a waiter asks again
_POLL = 0.25  # how often a waiter looks at the runner's request


def _no_stall(thread: int) -> float:
    return 0.0


class Task:
    """A memoised unit of work that either a prefetch worker or a waiting caller runs, once (a
    waiter runs it again when the runner is stalled, :meth:`result`)."""

    __slots__ = (
        "asked", "claimed", "error", "finished", "fn", "future", "hedged", "lock", "prefetched", "runner", "running", "value",
    )

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: Future[Any] = Future()
        self.claimed = False
        self.hedged = False
        # Only a prefetch is asked for again: what is asked for only in the foreground may be
        # no plain fetch (an sdist's build, which two threads of one run could wait for).
        self.prefetched = False
        self.asked = False  # someone waited for its result (else a prefetch so far in vain)
        self.runner = 0  # the ident of the thread running it
        self.running = False  # that thread is still in it
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
            self.claimed = self.running = True
            self.runner = threading.get_ident()
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001  (handed to whoever asks for the result)
            self._stopped()
            self._finish(None, exc)
        else:
            self._stopped()
            self._finish(result, None)

    def _stopped(self) -> None:
        with self.lock:
            self.running = False

    def _finish(self, value: Any, error: BaseException | None) -> bool:
        """The first outcome is the task's (a hedged task ends twice); False if it had one."""
        with self.lock:
            if self.finished:
                return False
            self.value, self.error = value, error
            self.finished = True
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(value)
        return True

    def result(
        self, stalled: Callable[[int], float] = _no_stall, hedge_after: float = HEDGE_AFTER,
        on_hedge: Callable[[], object] | None = None, abandon: Callable[[int], object] | None = None,
    ) -> Any:
        """The result: run here if no one has started it; else wait, and run it here too if the
        runner's request has received nothing for ``hedge_after`` seconds (``stalled(thread)``:
        how long that thread's request has been silent)."""
        self.run()  # not started yet: do it here rather than wait for a worker
        while not self.finished:
            try:
                return self.future.result(timeout=_POLL)
            except concurrent.futures.TimeoutError:
                pass
            silent = stalled(self.runner)
            if silent >= hedge_after and not self.hedged and self.prefetched:
                return self._hedge(silent, on_hedge, abandon)
        return self.future.result()

    def _hedge(self, silent: float, on_hedge: Callable[[], object] | None, abandon: Callable[[int], object] | None) -> Any:
        with self.lock:
            if self.hedged or self.finished:
                hedge = False
            else:
                self.hedged = hedge = True
        if not hedge:
            return self.future.result()
        log.info("a fetch has received nothing for %.1f s: fetching it again", silent)
        if on_hedge is not None:
            on_hedge()
        try:
            value = self.fn()
        except Exception:  # noqa: BLE001  (the runner may still succeed: its outcome then)
            return self.future.result()
        self._finish(value, None)
        if abandon is not None:
            with self.lock:
                if self.running:  # still stalled: its request is not to be retried
                    abandon(self.runner)
        return value


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

    def __init__(
        self, workers: int, stalled: Callable[[int], float] | None = None, hedge_after: float = HEDGE_AFTER,
        on_hedge: Callable[[], object] | None = None, abandon: Callable[[int], object] | None = None,
    ) -> None:
        self._workers = Workers(workers) if workers > 0 else None
        self._on_hedge = on_hedge  # told of every fetch asked for again (the client's counters)
        if stalled is None:
            from . import http

            stalled, abandon = http.stalled_for, abandon or http.abandon
        self._stalled = stalled
        self._abandon = abandon
        self.hedge_after = hedge_after
        self._tasks: dict[Hashable, Task] = {}
        self._lock = threading.Lock()
        self._closed = False

    @property
    def prefetching(self) -> bool:
        return self._workers is not None and not self._closed

    def result(self, key: Hashable, fn: Callable[[], Any]) -> Any:
        done = self._tasks.get(key)  # a dict read is atomic: no lock for what is already known
        if done is not None and done.finished:
            done.asked = True
            if done.error is not None:
                raise done.error
            return done.value
        task = self._task(key, fn, background=False)
        task.asked = True
        return task.result(self._stalled, self.hedge_after, self._on_hedge, self._abandon)

    def unused(self) -> dict[str, int]:
        """Prefetches finished that no one has asked for (yet), by the first item of their key
        (``"metadata"``, ``"project"``, ...): what was fetched in vain so far."""
        counts: dict[str, int] = {}
        for key, task in list(self._tasks.items()):
            if task.prefetched and task.finished and not task.asked:
                kind = str(key[0]) if isinstance(key, tuple) and key else "other"
                counts[kind] = counts.get(kind, 0) + 1
        return counts

    def done(self, key: Hashable) -> bool:
        """Whether the fetch of ``key`` has finished (a caller asking now will not wait)."""
        task = self._tasks.get(key)
        return task is not None and task.finished

    def prefetch(self, key: Hashable, fn: Callable[[], object]) -> None:
        if self.prefetching:
            self._task(key, fn, background=True)

    def _task(self, key: Hashable, fn: Callable[[], Any], background: bool) -> Task:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = Task(fn)
                task.prefetched = background
                if background and self._workers is not None and not self._closed:
                    self._workers.submit(task.run)
        return task

    def close(self) -> None:
        self._closed = True
        if self._workers is not None:
            self._workers.shutdown()
