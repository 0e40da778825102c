"""A subset-minimal set of constraint groups that is unsatisfiable with every fact: what the
``sat`` strategy hands to the explanation (:func:`varsolve.explain.unsat.explain_core`).

Deletion-based extraction over one selector literal per group, refined from the oracle's first
core, as pysat's ``MUSX`` does. It is written out here (a dozen lines) because the strategy
counts its oracle calls and ``MUSX`` offers no way to see them short of patching its solver.
"""

from __future__ import annotations

from typing import Any

from pysat.solvers import Solver

from .sat_encoding import Formula, Group, VariablePool

# Groups tried for removal first end up in the explanation least often: dependencies are
# dropped before the policies, the root's requirements and the rules that tie packages together.
REMOVAL_ORDER = {"dep": 0, "prerelease": 1, "yanked": 2, "rejected": 3, "one": 4, "root": 5, "unify": 6}


def minimal_unsatisfiable_groups(formula: Formula, pool: VariablePool, stats: dict[str, Any], solver: str) -> list[Group]:
    groups = sorted(formula.groups.values(), key=lambda g: (REMOVAL_ORDER[g.kind], g.key))
    selector = {g.key: pool.id(("select", *g.key)) for g in groups}
    index = {selector[g.key]: i for i, g in enumerate(groups)}
    with Solver(name=solver) as oracle:
        for key, clause in formula.hard:
            oracle.add_clause(clause if key is None else [*clause, -selector[key]])
        stats["sat_calls"] += 1
        if oracle.solve(assumptions=list(selector.values())):
            # The facts alone cannot be contradictory (they are implications) and the caller
            # found the whole formula unsatisfiable: reaching this is a bug.
            raise AssertionError("no unsatisfiable core although the formula is unsatisfiable")
        core = sorted(oracle.get_core() or (), key=index.__getitem__)
        i = 0
        while i < len(core):
            rest = core[:i] + core[i + 1 :]
            stats["sat_calls"] += 1
            if oracle.solve(assumptions=rest):
                i += 1  # needed: keep it
            else:
                core = rest
    return [groups[index[s]] for s in sorted(core, key=index.__getitem__)]
