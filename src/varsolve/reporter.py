"""Progress and events of a run, for whoever is watching (resolvelib's ``BaseReporter`` style).

Sources and the compare runner call a :class:`Reporter`'s methods as work happens; the base
class ignores every event, so an implementation overrides only what it shows.
:class:`TerminalReporter` draws one line on a terminal; nothing else in varsolve writes
progress.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Mapping
from typing import TextIO


class Reporter:
    """Receives a run's events; every method does nothing unless overridden.

    Methods may be called from several threads at once (sources fetch in parallel).
    """

    def fetch_progress(self, counters: Mapping[str, int]) -> None:
        """A source's counters changed: ``pages``, ``metadata``, ``in_flight``, ``requests``,
        ``bytes``, ``cache_hits`` ... (see :class:`varsolve.sources.http.Counters`)."""

    def fetch_done(self) -> None:
        """The source was closed: no more :meth:`fetch_progress` follows."""

    def tasks_started(self, total: int) -> None:
        """A batch of ``total`` tasks (``varsolve compare``'s runs) is about to run."""

    def task_done(self, label: str) -> None:
        """One task of the batch finished (in any order)."""

    def tasks_done(self) -> None:
        """The batch is over, finished or interrupted."""


class TerminalReporter(Reporter):
    """One line on ``stream`` (default stderr), redrawn in place and erased at the end.

    Drawn only when ``enabled`` (default: the stream is a terminal), so output piped to a file
    stays clean. Fetch counters are redrawn at most every ``interval`` seconds, the first
    update always; the task bar is redrawn per task.
    """

    BAR_WIDTH = 24

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, interval: float = 0.1) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self._last = float("-inf")
        self._shown = False
        self._total = 0
        self._done = 0
        self._lock = threading.Lock()

    @classmethod
    def for_stderr(cls, quiet: bool = False) -> TerminalReporter:
        """The reporter of a command: stderr, unless ``-q`` or stderr is not a terminal."""
        return cls(sys.stderr, enabled=not quiet and sys.stderr.isatty())

    def fetch_progress(self, counters: Mapping[str, int]) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                return
            self._last = now
            self._draw(
                f"varsolve: {counters.get('pages', 0)} projects, {counters.get('metadata', 0)} metadata, "
                f"{counters.get('in_flight', 0)} in flight, {counters.get('requests', 0)} requests, "
                f"{format_size(counters.get('bytes', 0))}"
            )

    def fetch_done(self) -> None:
        self._erase()

    def tasks_started(self, total: int) -> None:
        with self._lock:
            self._total, self._done = total, 0

    def task_done(self, label: str) -> None:
        with self._lock:
            self._done += 1
            if not self.enabled or self._total <= 0:
                return
            filled = self.BAR_WIDTH * min(self._done, self._total) // self._total
            bar = "#" * filled + "." * (self.BAR_WIDTH - filled)
            width = shutil.get_terminal_size((80, 20)).columns
            self._draw(f"compare [{bar}] {self._done}/{self._total} {label}"[: width - 1])

    def tasks_done(self) -> None:
        self._erase()

    def _draw(self, line: str) -> None:
        # Callers hold the lock: two threads must not interleave half lines.
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def _erase(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False


def format_size(n: float) -> str:
    """``5000`` -> ``"5.0 kB"`` (decimal units, as download tools show them)."""
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
