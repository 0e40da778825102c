"""A one-line progress display on stderr while a source fetches (pages, metadata, in flight).

Shown only when stderr is a terminal and ``-q`` was not given; redrawn at most ten times a
second; the line is erased when the work ends, so the output that follows is clean.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.interval = interval
        self._last = float("-inf")  # the first update is always drawn
        self._shown = False
        self._lock = threading.Lock()

    def update(self, counters: dict[str, int], force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last < self.interval:
                return
            self._last = now
            line = (
                f"varsolve: {counters.get('pages', 0)} projects, {counters.get('metadata', 0)} metadata, "
                f"{counters.get('in_flight', 0)} in flight, {counters.get('requests', 0)} requests, "
                f"{_size(counters.get('bytes', 0))}"
            )
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            self._shown = True

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"
