"""The user's provider settings that are not command-line options: the allow-list in
``[tool.varsolve]`` of ``pyproject.toml`` in the current directory, and distribution names.
(``--detect``, ``--allow-provider`` ...: :mod:`varsolve.commands.options`.)"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import InputError

# PEP 508 distribution names.
_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
ALLOW_KEY = "allow-providers"


def normalize_names(names: Iterable[str], where: str) -> frozenset[str]:
    out = set()
    for name in names:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InputError(f"invalid distribution name {name!r}", where=where)
        out.add(canonicalize_name(name))
    return frozenset(out)


def allow_list_from_pyproject(path: str | Path = "pyproject.toml") -> frozenset[str]:
    from ..structured import load_toml
    from ..textfile import read_text_file

    path = Path(path)
    if not path.exists():
        return frozenset()
    data = load_toml(read_text_file(path, "pyproject.toml"), str(path))
    table = data.get("tool", {}).get("varsolve", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise InputError("tool.varsolve: must be a table", where=str(path))
    names = table.get(ALLOW_KEY, [])
    if not isinstance(names, list):
        raise InputError(f"tool.varsolve.{ALLOW_KEY}: must be a list of distribution names", where=str(path))
    return normalize_names(names, f"{path}: tool.varsolve.{ALLOW_KEY}")
