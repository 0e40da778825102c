"""A universal resolution: forks, each a region of environments (and a variant target) with the
resolution that serves it, and where each pinned package is installed.

A package's marker inside a fork is the region narrowed by every path from the root to it: the
markers of the requirements on the way, with ``extra`` read as the extras each parent was asked
for (``psycopg[binary] ; platform_python_implementation != 'PyPy'`` makes ``psycopg-binary``
reachable only where that marker holds). The marker of a lock entry is the union over the forks
that chose it.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..resolution import Explanation, Pin, Resolution, Violation

if TYPE_CHECKING:
    from ..marker_algebra import MarkerSet
    from ..problem import Problem

__all__ = ["Fork", "UniversalEntry", "UniversalResolution", "package_markers"]


@dataclass(frozen=True, eq=False)
class Fork:
    """One part of the universe: its environments, the variant target it is for (None: the
    problem's own), the resolution, and the problem it was solved as (region set)."""

    region: MarkerSet
    target_name: str | None
    resolution: Resolution
    problem: Problem = field(repr=False)

    @cached_property
    def markers(self) -> dict[str, MarkerSet]:
        """Where each pinned package is installed within this fork."""
        return package_markers(self.region, self.resolution)


@dataclass(frozen=True)
class UniversalEntry:
    """A pinned (name, version, variant label) and where it is installed, over all forks."""

    name: str
    pin: Pin
    marker: MarkerSet
    targets: tuple[str | None, ...]


@dataclass(frozen=True, eq=False)
class UniversalResolution:
    strategy: str
    satisfiable: bool
    requires_python: str
    environments: tuple[str, ...]
    forks: tuple[Fork, ...] = ()
    # Why not: the failing fork's explanation, its region said first.
    explanation: Explanation | None = None
    failed_region: str | None = None
    # (fork index, environment, violation) found by the per-environment verifier.
    violations: tuple[tuple[int, str, Violation], ...] = ()
    # (fork index, environment, finding): packages no file of which installs there (outside the
    # required environments: uv lock does not promise it either).
    gaps: tuple[tuple[int, str, Violation], ...] = ()
    stats: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def universe(self) -> MarkerSet:
        """Every environment served: requires-python, narrowed to the required environments."""
        from .universe import universe

        parts = universe(self.requires_python, self.environments)
        out = parts[0]
        for part in parts[1:]:
            out = out | part
        return out

    def marker_text(self, marker: MarkerSet) -> str:
        """``marker`` as the output writes it: relative to the universe (:func:`relative_marker`)."""
        known = self._marker_texts.get(marker)
        if known is None:
            known = self._marker_texts[marker] = relative_marker(marker, self.universe)
        return known

    @cached_property
    def _marker_texts(self) -> dict[MarkerSet, str]:
        # Most packages of a fork share its region as their marker; entries repeat forks' markers.
        return {}

    @property
    def valid(self) -> bool:
        return all(v.kind == "unify" for _, _, v in self.violations)

    def entries(self) -> list[UniversalEntry]:
        """Every pinned (name, version, label), its marker over all forks, sorted."""
        merged: dict[tuple[str, str, str | None], tuple[Pin, MarkerSet, list[str | None]]] = {}
        for fork in self.forks:
            for name, pin in fork.resolution.packages.items():
                key = (name, str(pin.version), pin.variant)
                marker = fork.markers[name]
                if key in merged:
                    old_pin, old, targets = merged[key]
                    if fork.target_name not in targets:
                        targets.append(fork.target_name)
                    merged[key] = (old_pin, old | marker, targets)
                else:
                    merged[key] = (pin, marker, [fork.target_name])
        out = [
            UniversalEntry(name, pin, marker, tuple(targets))
            for (name, _, _), (pin, marker, targets) in merged.items()
        ]
        return sorted(out, key=lambda e: (e.name, e.pin.version, e.pin.variant or "", e.pin.variant is None))

    def fork_for(self, environment: Mapping[str, str], target_name: str | None = None) -> Fork | None:
        for fork in self.forks:
            if fork.target_name == target_name and fork.region.evaluate(environment):
                return fork
        return None

    def packages_for(self, environment: Mapping[str, str], target_name: str | None = None) -> dict[str, Pin]:
        """What is installed in ``environment`` (a full marker environment) on ``target_name``."""
        fork = self.fork_for(environment, target_name)
        if fork is None:
            return {}
        return {
            name: pin for name, pin in sorted(fork.resolution.packages.items()) if fork.markers[name].evaluate(environment)
        }

    # -- output ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "universal": True,
            "satisfiable": self.satisfiable,
            "strategy": self.strategy,
            "requires-python": self.requires_python,
            "environments": list(self.environments),
            "valid": self.valid,
            "violations": [
                {"fork": i, "environment": env, **v.to_dict()} for i, env, v in self.violations
            ],
            "gaps": [{"fork": i, "environment": env, **v.to_dict()} for i, env, v in self.gaps],
            "forks": [
                {
                    "marker": self.marker_text(fork.region),
                    "target": fork.target_name,
                    "unified": dict(sorted(fork.resolution.unified.items())),
                    "packages": {
                        name: {**fork.resolution.packages[name].to_dict(), "marker": self.marker_text(fork.markers[name])}
                        for name in sorted(fork.resolution.packages)
                    },
                }
                for fork in self.forks
            ],
            "packages": [
                {
                    "name": e.name,
                    **e.pin.to_dict(),
                    "marker": self.marker_text(e.marker),
                    "targets": [t for t in e.targets if t is not None],
                }
                for e in self.entries()
            ],
            "explanation": self.explanation.text if self.explanation is not None else None,
            "failed-region": self.failed_region,
            "stats": dict(self.stats),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_text(self) -> str:
        if not self.satisfiable:
            where = f"for environments where {self.failed_region or 'any'}"
            text = self.explanation.text if self.explanation is not None else "no resolution"
            return f"no solution {where}:\n{text}"
        lines: list[str] = []
        entries = self.entries()
        width = max((len(e.name) for e in entries), default=0)
        for e in entries:
            variant = {None: "(sdist)", "": ""}.get(e.pin.variant, f"[{e.pin.variant}]")
            head = f"{e.name.ljust(width)}  {e.pin.version} {variant}".rstrip()
            where = self.marker_text(e.marker)
            named = [t for t in e.targets if t is not None]
            if named:
                head += f"  (target{'s' if len(named) > 1 else ''} {', '.join(named)})"
            lines.append(f"{head}  ; {where}" if where else head)
        if len(self.forks) > 1:
            lines.append(f"forks: {len(self.forks)}")
            for fork in self.forks:
                target = f" [{fork.target_name}]" if fork.target_name else ""
                lines.append(f"  {self.marker_text(fork.region) or 'all environments'}{target}")
        for fork in self.forks:
            for feature, value in sorted(fork.resolution.unified.items()):
                region = self.marker_text(fork.region)
                where = f" where {region}" if len(self.forks) > 1 and region else ""
                lines.append(f"unified: {feature} = {value}{where}")
        return "\n".join(lines)


def relative_marker(marker: MarkerSet, universe: MarkerSet) -> str:
    """``marker`` as uv.lock writes it: "" when it holds in the whole universe, and without the
    lower Python bounds the universe implies (``sys_platform == 'linux'``, not
    ``python_full_version >= '3.10' and sys_platform == 'linux'`` under ``requires-python =
    ">=3.10"``). Installers check requires-python (and a lock's environments) before any package
    marker, so both mean the same; every step is checked to describe the same environments
    within the universe.

    Hand-written on the text: the algebra has no "simplify under an assumption" operation.
    """
    import re

    from ..errors import VarsolveError
    from ..marker_algebra import MarkerSet

    target = marker & universe
    if target == universe:  # the universe implies the marker (without negating it: a new diagram)
        return ""
    text = str(marker)
    atom = re.compile(r"python_full_version >= '[^']*'")
    shrinking = True
    while shrinking:
        shrinking = False
        for found in atom.finditer(text):
            start, end = found.span()
            if text[end:].startswith(" and "):
                candidate = text[:start] + text[end + len(" and "):]
            elif text[:start].endswith(" and "):
                candidate = text[: start - len(" and ")] + text[end:]
            else:
                continue
            try:
                same = (MarkerSet.parse(candidate) & universe) == target
            except VarsolveError:
                same = False
            if same:
                text, shrinking = candidate, True
                break
    return text


def package_markers(region: MarkerSet, resolution: Resolution) -> dict[str, MarkerSet]:
    """Where each package of ``resolution`` is installed within ``region`` (see the module)."""
    from ..marker_algebra import MarkerSet

    # (package, extra) -> where it is required with that extra ("" : at all).
    reach: dict[tuple[str, str], MarkerSet] = {}

    def add(key: tuple[str, str], part: MarkerSet) -> bool:
        if part.is_empty():
            return False
        old = reach.get(key)
        if old is None:
            reach[key] = part
            return True
        grown = old | part
        if grown == old:  # part implies old (asked without building its complement)
            return False
        reach[key] = grown
        return True

    by_parent: dict[str | None, list[Any]] = {}
    for edge in resolution.graph:
        by_parent.setdefault(edge.parent, []).append(edge)

    def contribution(parent_extra_markers: list[tuple[str, MarkerSet]], marker: str | None) -> MarkerSet:
        out = MarkerSet.empty()
        for extra, where in parent_extra_markers:
            if marker is None:
                part = where
            else:
                part = where & _edge_markers(marker, extra)
            out = out | part
        return out

    # The least fixed point, by a work list: a parent's edges are read again only when where it
    # is reached (with some extra) grew, not every edge in every round until none changes (each
    # round intersected every edge's marker with every context of its parent again). Markers only
    # grow, so the fixed point reached is the same whatever the order.
    extras_of: dict[str, dict[str, MarkerSet]] = {}  # package -> extra -> where (reach, by package)
    todo: deque[str | None] = deque([None])
    queued: set[str | None] = {None}
    steps = 0
    while todo:
        parent = todo.popleft()
        queued.discard(parent)
        steps += 1
        if steps > 1_000_000:  # pragma: no cover - markers only grow; a guard against a bug
            raise RuntimeError("package markers did not converge")
        contexts = [("", region)] if parent is None else list(extras_of.get(parent, {}).items())
        for edge in by_parent.get(parent, ()):
            part = contribution(contexts, edge.marker)
            if part.is_empty():
                continue
            grew = False
            for extra in ("", *edge.extras):
                if add((edge.child, extra), part):
                    extras_of.setdefault(edge.child, {})[extra] = reach[(edge.child, extra)]
                    grew = True
            if grew and edge.child not in queued:
                queued.add(edge.child)
                todo.append(edge.child)
    return {name: reach.get((name, ""), MarkerSet.empty()) for name in resolution.packages}


def _edge_markers(marker: str, extra: str) -> MarkerSet:
    from .region import parse_marker

    return parse_marker(marker, extra)
