"""The environments a wheel's tags can serve, as markers: what a universal lock needs to list
only the wheels an entry's marker can reach and to drop a file no environment of a fork can use.

Hand-written (as uv's ``implied_markers``): packaging maps tags to one running interpreter, never
tags to markers. The mapping is deliberately loose where a tag says little: an unknown platform
tag or interpreter implies nothing, so a wheel is dropped only when its tags surely rule out
every environment of the region.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.tags import Tag

    from ..marker_algebra import MarkerSet

_CPYTHON = re.compile(r"^(cp|py)(\d)(\d+)?$")
_LINUX = re.compile(r"^(?:many|musl)linux(?:_\d+_\d+|1|2010|2014)_(\w+)$|^linux_(\w+)$")
_MAC = re.compile(r"^macosx_\d+_\d+_(\w+)$")
_WINDOWS = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64"}
_MAC_MACHINES = {
    "arm64": ("arm64",), "x86_64": ("x86_64",), "universal2": ("arm64", "x86_64"), "universal": ("x86_64",),
    "intel": ("x86_64",),
}


def wheel_markers(filename: str, tags: Iterable[Tag], platforms: bool = True) -> MarkerSet:
    """The union, over the wheel's tags, of the environments each tag can run on; with
    ``platforms=False`` only the Pythons (uv's universal resolution reads a wheel's platform
    only in the required environments, and its Python tags always). ``filename`` is unused: the
    tags say it all (kept for messages and symmetry with the callers)."""
    if platforms:
        return _union(frozenset((t.interpreter, t.abi, t.platform) for t in tags))
    return _union(frozenset((t.interpreter, t.abi, "any") for t in tags))


@lru_cache(maxsize=16384)
def _union(triples: frozenset[tuple[str, str, str]]) -> MarkerSet:
    # Memoised on the set of tags: a project's files share a handful of tag sets, and a search
    # asks about every file of every release it reads.
    from ..marker_algebra import MarkerSet

    out = MarkerSet.empty()
    for interpreter, abi, platform in sorted(triples):
        out = out | _tag(interpreter, abi, platform)
    return out


@lru_cache(maxsize=4096)
def _tag(interpreter: str, abi: str, platform: str) -> MarkerSet:
    return _python(interpreter, abi) & _platform(platform)


def _python(interpreter: str, abi: str) -> MarkerSet:
    from ..marker_algebra import MarkerSet

    m = _CPYTHON.match(interpreter)
    if m is None:
        return MarkerSet.universe()  # pp, graalpy, ... : no claim about CPython markers
    major, minor = m[2], m[3]
    if minor is None:
        return MarkerSet.parse(f"python_full_version >= '{major}' and python_full_version < '{int(major) + 1}'")
    if m[1] == "cp" and abi != "abi3":
        return MarkerSet.parse(f"python_full_version == '{major}.{minor}.*'")
    # abi3 and pyXY tags run on their version and every later one of the same major version.
    return MarkerSet.parse(f"python_full_version >= '{major}.{minor}' and python_full_version < '{int(major) + 1}'")


def _platform(platform: str) -> MarkerSet:
    from ..marker_algebra import MarkerSet

    if platform == "any":
        return MarkerSet.universe()
    if m := _LINUX.match(platform):
        return MarkerSet.parse(f"sys_platform == 'linux' and platform_machine == '{m[1] or m[2]}'")
    if m := _MAC.match(platform):
        machines = _MAC_MACHINES.get(m[1], (m[1],))
        either = " or ".join(f"platform_machine == '{machine}'" for machine in machines)
        return MarkerSet.parse(f"sys_platform == 'darwin' and ({either})")
    if platform in _WINDOWS:
        return MarkerSet.parse(f"sys_platform == 'win32' and platform_machine == '{_WINDOWS[platform]}'")
    return MarkerSet.universe()
