"""The objective vector of any resolution: the one ruler the ``sat`` strategy optimises and
``varsolve compare`` ranks every strategy's answer with.

Levels, compared lexicographically, smaller is better (docs/strategies.md, "Objective"):

1. the version indices of the root packages, summed (a version index counts the releases on the
   index newer than the chosen one, whether the target can install them or not),
2. the same for every other package,
3. the variant ranks, summed: the position of each chosen file among the installable files of
   its release in PEP 825 order (0 = what PEP 825 alone would pick),
4. the number of packages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .candidates import CandidateFinder
    from .problem import Problem
    from .resolution import Resolution

Objective = tuple[int, int, int, int]


def objective_vector(
    problem: Problem, resolution: Resolution, finder: CandidateFinder | None = None
) -> Objective | None:
    """The objective of ``resolution``, or None when it is unsatisfiable.

    Tolerant of pins the verifier rejects (a version not on the index counts as older than every
    release, a file that is not a candidate has rank 0), so that an invalid answer can still be
    ranked. ``finder``: the strategy's own, to reuse what it has read; only the chosen releases'
    candidates are read.
    """
    if not resolution.satisfiable:
        return None
    if finder is None:
        from .candidates import CandidateFinder

        finder = CandidateFinder(problem)
    roots = problem.root_names()
    root_versions = other_versions = ranks = 0
    for name, pin in resolution.packages.items():
        releases = finder.releases(name)
        index = next((i for i, r in enumerate(releases) if r.version == pin.version), len(releases))
        if index < len(releases):
            candidates = finder.release_candidates(releases[index])
            ranks += next((c.rank for c in candidates if c.label == pin.variant), 0)
        if name in roots:
            root_versions += index
        else:
            other_versions += index
    return (root_versions, other_versions, ranks, len(resolution.packages))
