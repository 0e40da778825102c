"""``sat``: a complete resolver that returns a provably optimal resolution or a minimal reason.

Each round encodes what has been read of the index (:mod:`.sat_encoding`) and optimises it with
RC2 (core-guided MaxSAT, python-sat). Releases not read yet are represented, per run of them
between releases that were read ("gap"), by one boundary literal with no dependencies and the
lowest cost any of them could have, so every round solves a *relaxation* of the whole problem:

* if the relaxation is unsatisfiable, so is the problem: a minimal unsatisfiable set of
  constraint groups explains why (:mod:`varsolve.explain_sat`);
* if its optimum uses no boundary literal, that optimum is a real resolution whose objective is
  at most that of every resolution of the whole problem, hence optimal;
* otherwise the gaps whose literal was used are read (partly) and the round repeats.

The objective, lexicographic (docs/strategies.md): 1. versions of the root requirements, 2.
versions of the other packages (each a version index, 0 = newest release on the index, summed),
3. variant rank of each chosen file in PEP 825 order, 4. number of packages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from pysat.examples.rc2 import RC2Stratified
from pysat.formula import WCNF, IDPool

from ..candidates import CandidateFinder, Dependency
from ..objective import objective_vector
from ..problem import Problem
from ..repository import Release
from ..resolution import Pin, Resolution
from .graph import walk
from .sat_encoding import PACKAGE_COUNT, Encoder, Formula, PieceKey
from .sat_universe import Gap, Universe

SOLVER = "g4"  # Glucose 4: RC2's usual oracle; fastest here (benchmarks/sat_scaling.py)
# Core exhaustion and minimisation pay off; at-most-one detection ("adapt") costs more than it
# saves on dependency graphs (2x slower on dense layered and adversarial instances).
RC2_OPTIONS = {"adapt": False, "exhaust": True, "minz": True}
# Once one lazy round's optimisation takes this long, reading the rest of what is reachable at
# once (one more round) is cheaper than many more expensive rounds.
EAGER_AFTER_SECONDS = 1.0


class SatStrategy:
    name = "sat"
    complete = True

    def __init__(
        self,
        lazy: bool = True,
        solver: str = SOLVER,
        eager_after_seconds: float = EAGER_AFTER_SECONDS,
        time_budget: float | None = None,
    ) -> None:
        """``time_budget`` (seconds): the anytime mode. Proving the optimum can take long on
        dense instances while finding some resolution takes milliseconds; with a budget, an
        optimisation still running when it is spent is stopped, and a valid resolution found by
        one plain SAT call (every release read, the objective's literals as preferred phases) is
        returned with ``stats["optimal"] = False``. Unsatisfiability is still proved exactly."""
        if time_budget is not None and not time_budget > 0:
            raise ValueError("time_budget must be a positive number of seconds")
        self.lazy = lazy
        self.solver = solver
        self.eager_after_seconds = eager_after_seconds
        self.time_budget = time_budget

    def solve(self, problem: Problem) -> Resolution:
        start = time.perf_counter()
        finder = CandidateFinder(problem)
        pool = IDPool()  # one pool for every round, cardinality encoding and selector
        universe = Universe(finder, lazy=self.lazy)
        universe.add_roots(Dependency.from_requirement(r) for r in problem.root_requirements())
        roots = problem.root_names()
        stats: dict[str, Any] = {"sat_calls": 0, "rounds": 0, "encode_seconds": 0.0, "solve_seconds": 0.0}
        resolution = Resolution(self.name, satisfiable=False)
        pieces: dict[PieceKey, Formula] = {}  # encoded pieces, reused by later rounds where nothing they read changed
        deadline = None if self.time_budget is None else start + self.time_budget
        optimal = True
        while True:
            stats["rounds"] += 1
            t0 = time.perf_counter()
            formula = Encoder(universe, pool, problem.options.unify, roots, pieces).encode()
            t1 = time.perf_counter()
            try:
                model = self._optimise(formula, stats, deadline) if optimal else self._feasible(formula, stats)
            except _OutOfTime:
                # Settle for any resolution: read what is left (no stand-ins for unread
                # releases), then one plain SAT call in the next round.
                optimal = False
                stats["time_budget_spent_in_round"] = stats["rounds"]
                universe.read_everything()
                continue
            t2 = time.perf_counter()
            stats["encode_seconds"] += t1 - t0
            stats["solve_seconds"] += t2 - t1
            if model is None:
                from ..explain.unsat import explain_core
                from .sat_mus import minimal_unsatisfiable_groups

                t2 = time.perf_counter()
                groups = minimal_unsatisfiable_groups(formula, pool, stats, self.solver)
                stats["explanation_groups"] = len(groups)
                explanation = explain_core(finder, formula, groups)
                resolution = Resolution(self.name, satisfiable=False, explanation=explanation)
                stats["explain_seconds"] = time.perf_counter() - t2
                break
            hidden = [gap for lit, gap in sorted(formula.boundary.items()) if lit in model]
            unread = [c for c in formula.chosen(model) if c in universe.unread]
            if not hidden and unread:
                # The optimum leans on candidates whose dependencies are unknown (sdists to
                # build): read them (build them, or reject them) and optimise again.
                stats["candidates_built"] = stats.get("candidates_built", 0) + len(unread)
                universe.read_candidates(unread)
                continue
            if not hidden:
                resolution = _resolution(self.name, problem, finder, formula, model)
                stats["objective"] = list(objective_vector(problem, resolution, finder) or ())
                stats["optimal"] = optimal
                break
            if t2 - t1 > self.eager_after_seconds:
                stats["read_everything_after_round"] = stats["rounds"]
                universe.read_everything()
                continue
            preferred = [_preferred(universe, formula, model, gap) for gap in hidden]
            for gap, releases in zip(hidden, preferred, strict=True):
                universe.widen(gap, releases)
        stats.update(
            variables=pool.top,
            clauses=len(formula.hard),
            candidates=finder.stats["candidates"],
            releases_read=finder.stats["releases"],
            releases_known=sum(len(s.releases) for s in universe.packages.values()),
        )
        if finder.metadata_report:  # variant metadata ignored or read leniently: say so in the JSON
            stats["variant_metadata"] = finder.metadata_report
        for key in ("encode_seconds", "solve_seconds", "explain_seconds"):
            if key in stats:
                stats[key] = round(stats[key], 6)
        stats["seconds"] = round(time.perf_counter() - start, 6)
        return resolution.with_stats(**stats)

    def _feasible(self, formula: Formula, stats: dict[str, Any]) -> set[int] | None:
        """Some model of the hard clauses (the objective's literals preferred as phases, which
        leans towards newer versions and better variants), or None if unsatisfiable."""
        from pysat.solvers import Solver

        with Solver(name=self.solver, bootstrap_with=[clause for _, clause in formula.hard]) as oracle:
            oracle.set_phases([lit for lit, _ in formula.soft])
            stats["sat_calls"] += 1
            if not oracle.solve():
                return None
            return {lit for lit in oracle.get_model() or () if lit > 0}

    def _optimise(self, formula: Formula, stats: dict[str, Any], deadline: float | None = None) -> set[int] | None:
        """The lexicographic optimum as the set of true literals, or None if unsatisfiable;
        raises :class:`_OutOfTime` when ``deadline`` (a ``perf_counter`` time) passes first."""
        if any(not clause for _, clause in formula.hard):
            return None  # a requirement nothing can satisfy (RC2 would drop the empty clause)
        # Filled directly: WCNF.append costs more than the rest of the round on large formulas.
        wcnf = WCNF()
        wcnf.hard = [clause for _, clause in formula.hard]
        wcnf.soft = [[lit] for lit, _ in formula.soft]
        wcnf.wght = _weights(formula.soft)
        wcnf.topw = sum(wcnf.wght) + 1
        wcnf.nv = max((abs(lit) for clause in wcnf.hard for lit in clause), default=0)
        with _CountingRC2(wcnf, solver=self.solver, **RC2_OPTIONS) as rc2:
            timer = None
            if deadline is not None:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise _OutOfTime
                timer = threading.Timer(remaining, rc2.interrupt)
                timer.daemon = True
                timer.start()
            try:
                model = rc2.compute(expect_interrupt=deadline is not None)
            finally:
                if timer is not None:
                    timer.cancel()
            stats["sat_calls"] += rc2.calls
            if model is None and rc2.interrupted:
                raise _OutOfTime
        return None if model is None else {lit for lit in model if lit > 0}


class _OutOfTime(Exception):
    """The time budget ran out during an optimisation."""


class _CountingRC2(RC2Stratified):  # type: ignore[misc]  # pysat has no type information
    calls = 0

    def _call_oracle(
        self, assumptions: Sequence[int] = [], expect_interrupt: bool = False  # noqa: B006 (RC2's signature)
    ) -> bool | None:
        self.calls += 1
        # pysat's untyped Solver.solve_limited: True, False, or None when interrupted
        answer: bool | None = super()._call_oracle(assumptions, expect_interrupt)
        return answer


def _weights(soft: Sequence[tuple[int, int]]) -> list[int]:
    """One weight per level such that a unit of a level outweighs all lower levels together:
    the weighted optimum is then the lexicographic one."""
    counts = [0] * (PACKAGE_COUNT + 1)
    for _, level in soft:
        counts[level] += 1
    weight = [0] * (PACKAGE_COUNT + 1)
    below = 0
    for level in range(PACKAGE_COUNT, -1, -1):
        weight[level] = below + 1
        below += counts[level] * weight[level]
    return [weight[level] for _, level in soft]


def _preferred(universe: Universe, formula: Formula, model: set[int], gap: Gap) -> list[Release]:
    """Releases of ``gap`` to read first: those every applying requirement admits."""
    applying = [req for req in universe.by_target.get(gap.name, []) if formula.applies(req, model)]
    if not applying:
        return list(gap.releases)
    common = universe.range_of(applying[0].dep)
    for req in applying[1:]:
        common = common.intersection(universe.range_of(req.dep))
    return list(common.filter(gap.releases, prereleases=True, key=lambda r: r.version)) or list(gap.releases)


def _resolution(name: str, problem: Problem, finder: CandidateFinder, formula: Formula, model: set[int]) -> Resolution:
    """The resolution of an optimal model: what is reachable from the root through the chosen
    candidates, and the best common value of each unified feature they declare."""
    chosen = {c.name: c for c in formula.chosen(model)}
    reached, graph = walk(finder, [Dependency.from_requirement(r) for r in problem.root_requirements()], chosen)
    unified: dict[str, str] = {}
    for feature in problem.options.unify:
        declared = [set(v) for v in (c.feature_values(feature) for c in reached.values()) if v is not None]
        best = finder.rank_values(feature, set.intersection(*declared)) if declared else []
        if best:
            unified[str(feature)] = best[0]
    return Resolution(
        name,
        satisfiable=True,
        packages={n: Pin(c.version, c.label, c.file.filename) for n, c in reached.items()},
        graph=graph,
        unified=unified,
    )

