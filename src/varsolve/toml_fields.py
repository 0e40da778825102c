"""Checked access to a parsed TOML document: every error is one line naming the file and the key.

Used by the scenario loader (:mod:`varsolve.sources.scenario`) and the expectations it reads
(:mod:`varsolve.expectations`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .errors import InputError

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_KEY_SHOWN = 60  # characters of a long key shown in a message


def key_part(text: str, *, quote: bool = False) -> str:
    """One part of a dotted key as TOML writes it: bare when it can be (and not ``quote``), else
    quoted with its escapes (a newline stays ``\\n``: a message is one line); a long one is cut
    short."""
    if not quote and _BARE_KEY.fullmatch(text) and len(text) <= _KEY_SHOWN:
        return text
    quoted = json.dumps(text[:_KEY_SHOWN], ensure_ascii=False)
    return quoted[:-1] + '..."' if len(text) > _KEY_SHOWN else quoted


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
                raise self.err(f"{key}.{key_part(unknown[0])}" if key else key_part(unknown[0]), "unknown key")
        return data

    def string(self, data: Any, key: str) -> str:
        if not isinstance(data, str):
            raise self.err(key, f"must be a string (got {_type_name(data)})")
        return data

    def strings(self, data: Any, key: str) -> list[str]:
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise self.err(key, "must be a list of strings")
        return data

    def boolean(self, data: Any, key: str) -> bool:
        if not isinstance(data, bool):
            raise self.err(key, "must be true or false")
        return data


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)
