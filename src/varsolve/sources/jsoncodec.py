"""JSON for the bulk of a run's bytes: project pages read, and the parsed-page cache written and
read back. orjson where it is installed (CPython; a dependency there), the standard library
otherwise and whenever orjson refuses a document.

Why not ``json`` alone: a cold jupyter resolution reads 13 MB of JSON pages and writes their
30,000 entries back to the cache; orjson takes about two thirds of the time to read them and a
seventh to write them (docs/benchmarks.md, "Real index, session 9").

Same answers as the standard library, so that a page reads the same with and without orjson:

* a document orjson refuses (``NaN``, ``Infinity``, a number too large for a double, a lone
  surrogate escape, a UTF-8 byte order mark, UTF-16 or UTF-32 text, nesting deeper than 1,024)
  is read again by ``json.loads``, which accepts it or raises its own error as before;
* an integer beyond 64 bits is the one difference: orjson reads it as a float. The pages' only
  integer a resolution reads is a file's ``size``, which must be an ``int`` (``pages.py``): such
  a size counts as unknown with orjson, as an absurd announced size without it;
* :func:`dumps` writes compact JSON in UTF-8 (ASCII through ``json``); what orjson cannot
  write (an integer beyond 64 bits, a key that is not a string) goes through ``json.dumps``; a
  ``NaN`` (read by the fallback) is written as ``null`` by orjson, and the page fields a
  resolution reads never hold a float.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

__all__ = ["dumps", "loads", "native"]

_UNSET = ModuleType("unset")
_orjson: ModuleType | None = _UNSET  # imported on first use (1.5 ms: not for a run without pages)


def _module() -> ModuleType | None:
    global _orjson
    if _orjson is _UNSET:
        try:  # a compiled dependency on CPython only (pyproject.toml); PyPy and others use json
            import orjson
        except ImportError:  # pragma: no cover - CPython installs it
            _orjson = None
        else:
            _orjson = orjson
    return _orjson


def native() -> bool:
    """Whether orjson does the work in this interpreter."""
    return _module() is not None


def loads(data: bytes | bytearray | memoryview) -> Any:
    """``json.loads(data)``'s value and errors (``ValueError`` subclasses, ``RecursionError``,
    ``UnicodeDecodeError``), faster; see the module for the one difference."""
    fast = _orjson if _orjson is not _UNSET else _module()
    if fast is not None:
        try:
            return fast.loads(data)
        except fast.JSONDecodeError:
            pass  # read again below: accepted there, or refused with the standard message
    return json.loads(bytes(data) if isinstance(data, memoryview) else data)


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON in UTF-8."""
    fast = _orjson if _orjson is not _UNSET else _module()
    if fast is not None:
        try:
            result: bytes = fast.dumps(value)
            return result
        except TypeError:  # an integer beyond 64 bits, a key that is not a string, ...
            pass
    return json.dumps(value, separators=(",", ":")).encode("utf-8")  # ASCII: a lone surrogate escaped
