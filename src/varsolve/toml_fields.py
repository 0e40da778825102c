"""Checked access to a parsed TOML document: every error is one line naming the file and the key.

Used by the scenario loader (:mod:`varsolve.sources.scenario`) and the expectations it reads
(:mod:`varsolve.expectations`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError


class TomlFields:
    """Validators for values of the TOML file at ``path``; ``key`` is the dotted key of the value."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def err(self, key: str, message: str) -> InputError:
        return InputError(f"{key}: {message}", where=str(self.path))

    def table(self, data: Any, key: str, allowed: set[str] | None = None) -> dict[str, Any]:
        """``data`` as a table; with ``allowed``, an unknown key is an error naming that key."""
        if not isinstance(data, dict):
            raise self.err(key, "must be a table")
        if allowed is not None:
            unknown = sorted(set(data) - allowed)
            if unknown:
                raise self.err(f"{key}.{unknown[0]}" if key else unknown[0], "unknown key")
        return data

    def strings(self, data: Any, key: str) -> list[str]:
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise self.err(key, "must be a list of strings")
        return data

    def boolean(self, data: Any, key: str) -> bool:
        if not isinstance(data, bool):
            raise self.err(key, "must be true or false")
        return data
