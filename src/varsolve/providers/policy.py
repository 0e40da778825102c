"""The user's provider settings: ``--detect``, ``--allow-provider``, and the allow-list in
``[tool.varsolve]`` of ``pyproject.toml`` in the current directory."""

from __future__ import annotations

import argparse
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from ..errors import InputError
from ..target import ProviderPolicy

# PEP 508 distribution names.
_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
ALLOW_KEY = "allow-providers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("variant providers (see docs/providers.md)")
    group.add_argument(
        "--detect", action="store_true",
        help="the target is this machine: run varsolve's own x86_64, aarch64 and nvidia detectors",
    )
    group.add_argument(
        "--allow-provider", action="append", default=[], metavar="NAME",
        help="let the provider plugin distribution NAME be installed and run (repeatable)",
    )
    group.add_argument(
        "--plugin-timeout", type=float, default=ProviderPolicy.timeout, metavar="SECONDS",
        help=f"time a plugin's get_supported_configs() may take (default: {ProviderPolicy.timeout:g})",
    )


def normalize_names(names: Iterable[str], where: str) -> frozenset[str]:
    out = set()
    for name in names:
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise InputError(f"invalid distribution name {name!r}", where=where)
        out.add(canonicalize_name(name))
    return frozenset(out)


def allow_list_from_pyproject(path: str | Path = "pyproject.toml") -> frozenset[str]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed TOML: {exc}", where=str(path)) from None
    table = data.get("tool", {}).get("varsolve", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise InputError("tool.varsolve: must be a table", where=str(path))
    names = table.get(ALLOW_KEY, [])
    if not isinstance(names, list):
        raise InputError(f"tool.varsolve.{ALLOW_KEY}: must be a list of distribution names", where=str(path))
    return normalize_names(names, f"{path}: tool.varsolve.{ALLOW_KEY}")


def policy_from_args(args: argparse.Namespace, pyproject: str | Path = "pyproject.toml") -> ProviderPolicy:
    """The policy the command line asks for. Plugins install from the same places the packages
    come from, when the command has index options."""
    timeout = getattr(args, "plugin_timeout", ProviderPolicy.timeout)
    if not timeout > 0:
        raise InputError("--plugin-timeout: must be a positive number of seconds")
    allow = normalize_names(getattr(args, "allow_provider", []) or [], "--allow-provider")
    index_urls = _as_list(getattr(args, "index_url", None))
    return ProviderPolicy(
        detect=bool(getattr(args, "detect", False)),
        allow=allow | allow_list_from_pyproject(pyproject),
        find_links=tuple(_as_list(getattr(args, "find_links", None))),
        index_url=index_urls[0] if index_urls else None,
        extra_index_urls=tuple(index_urls[1:] + _as_list(getattr(args, "extra_index_url", None))),
        timeout=timeout,
    )


def _as_list(value: object) -> list[str]:
    """A command's option, whether it takes one value or is repeatable."""
    if value is None:
        return []
    return [str(value)] if isinstance(value, (str, Path)) else [str(v) for v in value]
