"""Deterministic TOML in and out.

packaging has no TOML writer; tomli-w writes dicts in insertion order, quotes the keys that
need it (``"$schema"``, ``"cuda12.6"``) and renders arrays of small tables (``wheels``) inline.
Determinism therefore comes from the dict we hand it: the writer builds every table in a fixed
key order with sorted contents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError


def dumps(data: dict[str, Any]) -> str:
    try:
        import tomli_w
    except ModuleNotFoundError:
        raise InputError("writing pylock.toml needs tomli-w: pip install 'varsolve[lock]'") from None
    return tomli_w.dumps(data, indent=2)


def loads_file(path: Path) -> dict[str, Any]:
    from ..structured import load_toml
    from ..textfile import read_text_file

    return load_toml(read_text_file(path, "lock file"), str(path))
