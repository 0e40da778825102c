"""The objective vector of any resolution, so that greedy and optimal strategies can be ranked.

Levels, compared lexicographically, smaller is better (docs/scenario-format.md, "sat"):
1. how many releases on the index are newer than each root requirement's chosen version,
2. the same for every other package,
3. the PEP 825 rank of each chosen file among the files of its version,
4. the number of packages.

The SAT strategy's own ``objective_vector`` is used when it exists, so both sides of a
comparison are measured with one ruler; this module is the fallback for installations without it.
"""

from __future__ import annotations

from ..problem import Problem
from ..resolution import Resolution


def objective_vector(problem: Problem, resolution: Resolution) -> list[int] | None:
    if not resolution.satisfiable:
        return None
    try:
        from ..strategies.sat import objective_vector as sat_objective  # type: ignore[attr-defined]
    except ImportError:
        sat_objective = None
    if sat_objective is not None:
        try:
            return [int(x) for x in sat_objective(problem, resolution)]
        except Exception:  # e.g. a pin the verifier rejected: rank it with the tolerant fallback
            pass
    return fallback_objective_vector(problem, resolution)


def fallback_objective_vector(problem: Problem, resolution: Resolution) -> list[int]:
    from ..candidates import CandidateFinder

    finder = CandidateFinder(problem)
    roots = problem.root_names()
    root_distance = other_distance = rank_sum = 0
    for name, pin in sorted(resolution.packages.items()):
        candidates = finder.candidates(name)
        # As the SAT strategy counts: releases on the index newer than the chosen one.
        versions = sorted({r.version for r in problem.repository.releases(name)}, reverse=True)
        distance = versions.index(pin.version) if pin.version in versions else len(versions)
        if name in roots:
            root_distance += distance
        else:
            other_distance += distance
        rank_sum += next(
            (c.rank for c in candidates if c.version == pin.version and c.label == pin.variant), 0
        )
    return [root_distance, other_distance, rank_sum, len(resolution.packages)]
