"""Parsing TOML and JSON that come from users or from indexes, in one place: every failure is one
error naming the file (an :class:`~varsolve.errors.InputError`, or the subclass the caller
asks for), never a traceback.

``tomllib`` and ``json`` recurse on nested arrays and tables (``x = [[[[...]]]]`` 100,000 deep is
a ``RecursionError``), and ``tomllib`` spends memory quadratic in the parts of one dotted key
(``a.a.a...a = 1`` with 100,000 parts wants tens of GB). So: a dotted key of more than
:data:`~varsolve.limits.MAX_NESTING` parts is refused before parsing (a cheap scan of the
text), a parser's ``RecursionError`` becomes "nested too deeply", and a parsed document nested
more than :data:`~varsolve.limits.MAX_NESTING` levels is refused too, so that no code after this
one meets a deep document.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from .errors import InputError
from .limits import MAX_NESTING

__all__ = ["load_json", "load_toml", "too_deep_message"]

# A dotted key (bare or quoted parts, whitespace around the dots) of more than MAX_NESTING parts.
# Not aware of strings: a string holding such a run is refused too (no real one does). The look-
# behind keeps the scan linear: no attempt starts inside a bare word.
_SEGMENT = r"""(?:[A-Za-z0-9_-]++|"[^"\n]*+"|'[^'\n]*+')"""
_LONG_DOTTED_KEY = re.compile(rf"(?<![A-Za-z0-9_-]){_SEGMENT}(?:[ \t]*+\.[ \t]*+{_SEGMENT}){{{MAX_NESTING},}}")


def too_deep_message() -> str:
    return f"nested too deeply (more than {MAX_NESTING} levels of arrays, tables or dotted key parts)"


def load_toml(text: str, where: str, *, error: type[InputError] = InputError) -> dict[str, Any]:
    """The TOML document ``text``; ``where`` names it in errors, raised as ``error``."""
    if _LONG_DOTTED_KEY.search(text):
        raise error(too_deep_message(), where=where)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise error(too_deep_message(), where=where) from None
    except ValueError as exc:  # TOMLDecodeError, and an integer of more than 4300 digits
        raise error(f"malformed TOML: {_one_line(exc)}", where=where) from None
    _check_depth(data, where, error)
    return data


def load_json(raw: str | bytes, where: str, *, error: type[InputError] = InputError) -> Any:
    """The JSON document ``raw`` (bytes: UTF-8, -16 or -32, as ``json.loads`` reads them)."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise error(too_deep_message(), where=where) from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, too many digits
        raise error(f"malformed JSON: {_one_line(exc)}", where=where) from None
    _check_depth(data, where, error)
    return data


def _check_depth(data: Any, where: str, error: type[InputError]) -> None:
    """Refuse a document whose arrays and tables nest more than MAX_NESTING deep (iteratively)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_NESTING:
            raise error(too_deep_message(), where=where)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
