"""The table of fetches a run shares between the resolver and prefetch threads
(varsolve.sources.workers): each runs once, its result or error is handed to every caller,
the lock-free path for finished work included."""

from __future__ import annotations

import threading

import pytest

from varsolve.sources.workers import TaskTable


def test_a_fetch_runs_once_and_every_caller_gets_its_result() -> None:
    table = TaskTable(workers=2)
    calls: list[int] = []

    def fetch() -> str:
        calls.append(1)
        return "page"

    table.prefetch("p", fetch)
    results = [table.result("p", fetch) for _ in range(5)]
    threads = [threading.Thread(target=lambda: results.append(table.result("p", fetch))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table.close()
    assert results == ["page"] * 9 and calls == [1]


def test_a_failed_fetch_raises_its_error_for_every_caller_and_is_not_retried() -> None:
    table = TaskTable(workers=0)
    calls: list[int] = []

    def fetch() -> str:
        calls.append(1)
        raise ValueError("broken page")

    for _ in range(3):  # the first runs it, the others take the finished task's error
        with pytest.raises(ValueError, match="broken page"):
            table.result("p", fetch)
    assert calls == [1]
