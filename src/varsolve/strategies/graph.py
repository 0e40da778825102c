"""The installed part of a strategy's choice: the packages reachable from the root through the
dependencies of the chosen candidates, and the edges of that graph.

A search may keep pins nothing requires any more (resolvelib after backtracking) or choose a
candidate for every package it read (an optimum chooses nothing else, but walking the graph
keeps the output exact regardless); every strategy reports only what this walk reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.utils import NormalizedName

from ..candidates import Candidate, CandidateFinder, Dependency
from ..resolution import Edge


def walk(
    finder: CandidateFinder, roots: Iterable[Dependency], chosen: Mapping[NormalizedName, Candidate]
) -> tuple[dict[str, Candidate], tuple[Edge, ...]]:
    """The chosen candidates reachable from ``roots`` (extras collected to a fixpoint) and the
    requirement edges between them, in a deterministic order."""
    extras: dict[str, set[str]] = {}
    reached: dict[str, Candidate] = {}
    edges: set[Edge] = set()
    queue: list[tuple[Dependency, str | None]] = [(dep, None) for dep in roots]
    while queue:
        dep, parent = queue.pop()
        cand = chosen.get(dep.name)
        if cand is None:
            continue
        edges.add(_edge(parent, dep))
        new = set(dep.extras) - extras.setdefault(dep.name, set())
        if dep.name in reached and not new:
            continue
        reached[dep.name] = cand
        extras[dep.name] |= new
        queue.extend((child, cand.name) for child in finder.dependencies(cand, frozenset(extras[dep.name])))
    ordered = sorted(edges, key=lambda e: (e.parent is not None, e.parent or "", e.child, e.requirement))
    return {name: reached[name] for name in sorted(reached)}, tuple(ordered)


def _edge(parent: str | None, dep: Dependency) -> Edge:
    specifier = " || ".join(str(s) for s in dep.specifiers)
    return Edge(parent, dep.name, str(dep), specifier, tuple(sorted(dep.extras)), dep.marker)
