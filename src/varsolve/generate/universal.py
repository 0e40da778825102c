"""Knobs shared by the ``layered`` and ``ecosystem`` families for universal resolution studies.

* ``marker_split``: probability that a dependency edge of a release after the first is written
  as two or three requirements on the same package under disjoint markers that together cover
  every environment, each with its own lower bound::

      dep>=2.0.0; python_version < '3.12'
      dep>=4.0.0; python_version >= '3.12'

  or ``sys_platform == 'linux'`` / ``sys_platform != 'linux'``, three Python ranges, or
  linux / win32 / the rest. Python parts get non-decreasing lower bounds (newer Pythons, newer
  releases), as real projects write them. A universal resolution forks where such a release is
  chosen; a single-target one reads the part whose marker holds.
* ``python_bumps``: probability that a release after the first needs a newer Python than the
  release before it (``Requires-Python >=3.11``, ``>=3.12``, ``>=3.13``; never lower than its
  predecessor's). A universal resolution forks at that bound (uv's Requires-Python fork).
* ``universal``: the scenario is universal (``resolver_options.universal = true``, root
  ``requires_python = ">=3.10"``): ``scenario check`` resolves it for every environment.

When any of the three is on, every release states its Requires-Python (``>=3.10`` unless
bumped): the format's default, ``>=3.12``, would leave Python 3.10 and 3.11 nothing.

The draws come from random streams of their own (seeded by the family, the knob and the seed),
so the graph, bounds and variants are those of the same seed without the knobs, and with all
three off nothing is drawn or written: the output is byte for byte what it was before them. The
knobs never touch the first release of a package or the root's requirements, so the families'
"a resolution exists by construction" (every first release, needing Python 3.10 and bounding its
dependencies from below by their first release only) still holds in every environment.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from ..errors import InputError

BASE_PYTHON = "3.10"
NEWER_PYTHONS = ("3.11", "3.12", "3.13")
PLATFORMS = ("linux", "win32", "darwin")


class UniversalKnobs:
    """The three knobs of one generated scenario (see the module)."""

    def __init__(self, family: str, seed: int, marker_split: float, python_bumps: float, universal: bool) -> None:
        for knob, value in (("marker_split", marker_split), ("python_bumps", python_bumps)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise InputError(f"{knob}: must be a number from 0 to 1, got {value!r}", where=family)
        if not isinstance(universal, bool):
            raise InputError(f"universal: must be true or false, got {universal!r}", where=family)
        self.marker_split = float(marker_split)
        self.python_bumps = float(python_bumps)
        self.universal = universal
        self.active = bool(marker_split or python_bumps or universal)
        self._split_rng = random.Random(f"{family}:marker_split:{seed}")
        self._python_rng = random.Random(f"{family}:python_bumps:{seed}")
        self._floors: dict[str, int] = {}  # package -> index into (BASE_PYTHON, *NEWER_PYTHONS)

    def requires_python(self, package: str, first: bool) -> str | None:
        """The Requires-Python of ``package``'s next release (called oldest release first);
        None when the knobs are off (the format's default stays implicit)."""
        if not self.active:
            return None
        floor = 0 if first else self._floors.get(package, 0)
        if not first and self.python_bumps and floor < len(NEWER_PYTHONS) and self._python_rng.random() < self.python_bumps:
            floor += 1
        self._floors[package] = floor
        return f">={(BASE_PYTHON, *NEWER_PYTHONS)[floor]}"

    def split(self, dep: str, lows: Sequence[str], upper: str | None, marker: str = "") -> list[str] | None:
        """Requirements on ``dep`` under disjoint markers covering every environment, each
        ``>=`` one of ``lows`` (versions, oldest first; all below ``upper`` when given) and
        ``<upper``, each marker joined with ``marker`` (a marker expression, without ``;``);
        None when this edge stays one requirement (drawn with probability 1 - marker_split)."""
        if not self.marker_split or not lows or self._split_rng.random() >= self.marker_split:
            return None
        rng = self._split_rng
        kind = rng.choice(("python", "python3", "platform", "platform3"))
        parts: list[str]
        if kind == "python":
            cut = rng.choice(NEWER_PYTHONS)
            parts = [f"python_version < '{cut}'", f"python_version >= '{cut}'"]
        elif kind == "python3":
            low, high = sorted(rng.sample(NEWER_PYTHONS, 2))
            parts = [
                f"python_version < '{low}'",
                f"python_version >= '{low}' and python_version < '{high}'",
                f"python_version >= '{high}'",
            ]
        elif kind == "platform":
            name = rng.choice(PLATFORMS)
            parts = [f"sys_platform == '{name}'", f"sys_platform != '{name}'"]
        else:
            parts = ["sys_platform == 'linux'", "sys_platform == 'win32'", "sys_platform != 'linux' and sys_platform != 'win32'"]
        bounds = [rng.randrange(len(lows)) for _ in parts]
        if kind.startswith("python"):
            bounds.sort()  # newer Pythons, newer releases
        cap = f",<{upper}" if upper is not None else ""
        suffix = f" and {marker}" if marker else ""
        return [f"{dep}>={lows[b]}{cap}; {part}{suffix}" for b, part in zip(bounds, parts, strict=True)]

    def name_suffix(self) -> str:
        """For the scenario's name: ``-split0.3-py0.2-universal`` (the knobs that are on)."""
        out = ""
        if self.marker_split:
            out += f"-split{self.marker_split:g}"
        if self.python_bumps:
            out += f"-py{self.python_bumps:g}"
        if self.universal:
            out += "-universal"
        return out

    def description(self) -> str:
        """A sentence for the scenario's description (empty when the knobs are off)."""
        if not self.active:
            return ""
        said = []
        if self.marker_split:
            said.append(f"dependencies of later releases split under disjoint markers with probability {self.marker_split:g}")
        if self.python_bumps:
            said.append(f"Requires-Python raised with probability {self.python_bumps:g} per release")
        if self.universal:
            said.append("resolved for every environment of Python >=3.10 (universal)")
        text = "; ".join(said)
        return f" {text[0].upper()}{text[1:]}."

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` (a scenario's top-level table, in its final key order) with the root's
        ``requires_python`` and ``resolver_options.universal`` when universal."""
        if not self.universal:
            return data
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "root":
                value = {"requires_python": f">={BASE_PYTHON}", **value}
            elif key == "resolver_options":
                value = {"universal": True, **value}
            out[key] = value
        if "resolver_options" not in out:
            out["resolver_options"] = {"universal": True}
        return out
