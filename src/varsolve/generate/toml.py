"""Scenario TOML text from plain data (dicts of tables, strings, booleans, numbers, lists).

Written by tomli-w, which keeps the dicts' insertion order: a generator that builds its dict in
a fixed order (and seeds its random choices) gets the same bytes every time.
"""

from __future__ import annotations

from typing import Any

import tomli_w


def dumps(data: dict[str, Any]) -> str:
    """TOML for ``data``; a nested dict becomes a ``[a.b."c"]`` table."""
    return tomli_w.dumps(data)
