"""A one-line progress bar on stderr, drawn only for a person watching a terminal."""

from __future__ import annotations

import shutil
import sys
from typing import TextIO


class Progress:
    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0

    @classmethod
    def for_terminal(cls, total: int, quiet: bool) -> Progress:
        stream = sys.stderr
        return cls(total, enabled=not quiet and stream.isatty(), stream=stream)

    def advance(self, label: str = "") -> None:
        self.done += 1
        if not self.enabled:
            return
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = 24
        filled = bar_width * self.done // self.total
        text = f"compare [{'#' * filled}{'.' * (bar_width - filled)}] {self.done}/{self.total} {label}"
        self.stream.write("\r" + text[: width - 1].ljust(width - 1))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            width = shutil.get_terminal_size((80, 20)).columns
            self.stream.write("\r" + " " * (width - 1) + "\r")
            self.stream.flush()
