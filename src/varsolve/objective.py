"""The objective vector of any resolution: the one ruler the ``sat`` strategy optimises and
``varsolve compare`` ranks every strategy's answer with.

Two objectives, each compared lexicographically, smaller is better (docs/strategies.md,
"Objective"):

``default``
    1. the version indices of the root packages, summed (a version index counts the releases
       on the index newer than the chosen one, whether the target can install them or not,
       but for pre-releases the pre-release policy excludes whatever the requirements; under
       uv's pre-release policy every final release counts as newer than every pre-release, as
       uv tries them: ``CandidateFinder.version_costs``),
    2. the same for every other package,
    3. the variant ranks, summed: the position of each chosen file among the installable files
       of its release in PEP 825 order (0 = what PEP 825 alone would pick),
    4. the number of packages.

    A package that is not installed counts 0 at every level, so the optimum makes a package
    older when that lets it leave out a dependency that would not be at its newest release:
    it prefers fewer, older packages.

``newest``
    1. ... D. the version indices summed per *depth*: first over the packages at depth 1 (the
       root's requirements, as level 1 above), then depth 2, and so on; the depth of a package
       is the fewest requirements from the root to it through any release of the index (every
       release of every package reachable is read to know it),
    D+1. the variant ranks, summed,
    D+2. the number of packages.

    A package's version comes strictly before the versions of every package farther from the
    root, so a dependency is never left out, or made newer, by making what is nearer the root
    older: newest versions first, top down, as a greedy resolver takes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

    from .candidates import CandidateFinder
    from .problem import Problem
    from .resolution import Resolution

Objective = tuple[int, ...]
ObjectiveName = Literal["default", "newest"]
OBJECTIVES: tuple[ObjectiveName, ...] = get_args(ObjectiveName)

LEVELS: dict[ObjectiveName, str] = {
    "default": "root versions, other versions, variant rank, packages",
    "newest": "versions at depth 1, 2, ... from the root, variant rank, packages",
}


def objective_note(stats: Mapping[str, Any]) -> str | None:
    """One line for the user about what a ``sat`` resolution optimised (None for other
    strategies, or without a resolution)::

        sat: objective default (root versions, other versions, variant rank, packages) =
        (0, 95, 125, 142), proved optimal; a package left out counts 0, so fewer, older packages
        can win (--objective newest: versions nearest the root first)
    """
    name, vector = stats.get("objective_name"), stats.get("objective")
    if name not in LEVELS or not vector:
        return None
    proof = "proved optimal" if stats.get("optimal") else "not proved optimal (the time budget ran out)"
    note = f"sat: objective {name} ({LEVELS[name]}) = ({', '.join(map(str, vector))}), {proof}"
    if name == "default":
        note += (
            "; a package left out counts 0, so fewer, older packages can win"
            " (--objective newest: versions nearest the root first)"
        )
    return note


def check_objective(name: str) -> ObjectiveName:
    """``name`` as an objective name, or ValueError naming the choices."""
    for known in OBJECTIVES:
        if name == known:
            return known
    raise ValueError(f"unknown objective {name!r} (choose from {', '.join(OBJECTIVES)})")


def objective_vector(
    problem: Problem,
    resolution: Resolution,
    finder: CandidateFinder | None = None,
    objective: ObjectiveName = "default",
    depths: dict[NormalizedName, int] | None = None,
) -> Objective | None:
    """The objective of ``resolution``, or None when it is unsatisfiable.

    Tolerant of pins the verifier rejects (a version not on the index counts as older than every
    release, a file that is not a candidate has rank 0, a package the root cannot reach is at
    the deepest depth), so that an invalid answer can still be ranked. ``finder``: the
    strategy's own, to reuse what it has read; only the chosen releases' candidates are read
    (``newest``: every release reachable from the root, for the depths, unless ``depths``
    gives them).
    """
    if not resolution.satisfiable:
        return None
    from packaging.utils import canonicalize_name

    if finder is None:
        from .candidates import CandidateFinder

        finder = CandidateFinder(problem)
    roots = problem.root_names()
    if objective == "newest" and depths is None:
        depths = package_depths(problem, finder)
    deepest = max(depths.values(), default=1) if depths is not None else 2
    at = {canonicalize_name(n): d for n, d in depths.items()} if depths is not None else {}
    versions = [0] * deepest
    ranks = 0
    for name, pin in resolution.packages.items():
        releases = finder.preferred_releases(name)
        found = next((i for i, r in enumerate(releases) if r.version == pin.version), len(releases))
        if found < len(releases):
            candidates = finder.release_candidates(releases[found])
            ranks += next((c.rank for c in candidates if c.label == pin.variant), 0)
        index = finder.version_costs(name).get(pin.version, len(releases))
        if depths is not None:
            versions[at.get(canonicalize_name(name), deepest) - 1] += index
        else:
            versions[0 if name in roots else 1] += index
    return (*versions, ranks, len(resolution.packages))


def package_depths(problem: Problem, finder: CandidateFinder) -> dict[NormalizedName, int]:
    """The depth of every package reachable from the root (``newest``): the fewest requirements
    from the root to it through any release of the index (the root's requirements: 1)."""
    from .candidates import Dependency
    from .strategies.sat_universe import Universe

    universe = Universe(finder, lazy=False)
    universe.add_roots(Dependency.from_requirement(r) for r in problem.root_requirements())
    return universe.depths()
