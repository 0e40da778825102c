"""``sat``: a complete resolver that returns a provably optimal resolution or a minimal reason.

Each round adds to the encoding what has been read of the index since the last one
(:mod:`.sat_encoding`) and optimises it with RC2 (core-guided MaxSAT, python-sat). Releases not
read yet are represented, per run of them between releases that were read ("gap"), by one
boundary literal with no dependencies and the lowest cost any of them could have, so every round
solves a *relaxation* of the whole problem:

* if the relaxation is unsatisfiable, so is the problem: a minimal unsatisfiable set of
  constraint groups explains why (:mod:`varsolve.explain.unsat`);
* if its optimum uses no boundary literal, that optimum is a real resolution whose objective is
  at most that of every resolution of the whole problem, hence optimal;
* otherwise the gaps whose literal was used are read (partly) and the round repeats.

Whether to keep reading lazily is decided per instance (``lazy="auto"``): once the rounds'
optimisation has cost more than reading everything left is estimated to cost (measured per
release so far), everything is read and one more round decides.

The objective (:mod:`varsolve.objective`): ``default`` 1. versions of the root requirements,
2. versions of the other packages (each a version index, 0 = newest release on the index,
summed), 3. variant rank of each chosen file in PEP 825 order, 4. number of packages;
``newest``: the versions level by level of depth from the root, then rank and packages.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Literal

from pysat.examples.rc2 import RC2Stratified
from pysat.formula import WCNF, IDPool

from ..candidates import CandidateFinder, Dependency
from ..objective import ObjectiveName, check_objective, objective_vector
from ..problem import Problem
from ..repository import Release
from ..resolution import Pin, Resolution
from .graph import walk
from .sat_encoding import Encoder
from .sat_universe import Gap, Universe

SOLVER = "g4"  # Glucose 4: RC2's usual oracle; fastest here (benchmarks/sat_scaling.py)
# Core exhaustion and minimisation pay off; at-most-one detection ("adapt") costs more than it
# saves on dependency graphs (2x slower on dense layered and adversarial instances).
RC2_OPTIONS = {"adapt": False, "exhaust": True, "minz": True}
# A widening reads at least this many releases of a gap. On an index every round waits for the
# metadata it reads, one round trip after another, while the releases of one widening are
# fetched in parallel: jupyter's lazy rounds went from 4 to 2 (jupyterlab's and notebook's
# gaps, one release each at first). In memory a few more releases cost a few more clauses.
MIN_WIDENING = 4
# lazy="auto": read everything once the lazy rounds' optimisation time reaches this many times
# the estimated cost of reading (and encoding) every release left (docs/strategies.md).
SWITCH_FACTOR = 1.0

Lazy = bool | Literal["auto"]


class SatStrategy:
    name = "sat"
    complete = True

    def __init__(
        self,
        lazy: Lazy = "auto",
        solver: str = SOLVER,
        time_budget: float | None = None,
        objective: ObjectiveName = "default",
        switch_factor: float = SWITCH_FACTOR,
        support: bool = True,
        dominance: bool = True,
        min_widening: int = MIN_WIDENING,
    ) -> None:
        """``lazy``: read releases on demand (True), every reachable release first (False), or
        on demand until reading the rest is estimated to be cheaper than more rounds ("auto").

        ``time_budget`` (seconds): the anytime mode. Proving the optimum can take long on
        dense instances while finding some resolution takes milliseconds; with a budget, an
        optimisation still running when it is spent is stopped, and a valid resolution found by
        one plain SAT call (every release read, the objective's literals as preferred phases) is
        returned with ``stats["optimal"] = False``. Unsatisfiability is still proved exactly.

        ``objective``: ``"default"`` or ``"newest"`` (:mod:`varsolve.objective`); ``newest``
        needs the depth of every package, so it reads every reachable release first.

        ``min_widening``: the fewest releases a widening of a gap reads (it reads at least as
        many as the package has read so far, so a package needs O(log n) widenings).

        ``support``, ``dominance``: optimiser-only clauses that leave every optimum in place
        (docs/strategies.md); off only to measure what they save."""
        if time_budget is not None and not time_budget > 0:
            raise ValueError("time_budget must be a positive number of seconds")
        if lazy not in (True, False, "auto"):
            raise ValueError(f"lazy must be True, False or 'auto', not {lazy!r}")
        if min_widening < 1:
            raise ValueError("min_widening must be at least 1")
        self.lazy: Lazy = lazy
        self.solver = solver
        self.time_budget = time_budget
        self.objective: ObjectiveName = check_objective(objective)
        self.switch_factor = switch_factor
        self.support = support
        self.dominance = dominance
        self.min_widening = min_widening

    def solve(self, problem: Problem) -> Resolution:
        start = time.perf_counter()
        finder = CandidateFinder(problem)
        pool = IDPool()  # one pool for every round, cardinality encoding and selector
        newest = self.objective == "newest"
        universe = Universe(finder, lazy=self.lazy is not False and not newest, min_widening=self.min_widening)
        roots = problem.root_names()
        stats: dict[str, Any] = {
            "sat_calls": 0, "rounds": 0, "read_seconds": 0.0, "encode_seconds": 0.0, "solve_seconds": 0.0,
            "objective_name": self.objective, "lazy": self.lazy if not newest else False,
        }
        t = time.perf_counter()
        universe.add_roots(Dependency.from_requirement(r) for r in problem.root_requirements())
        stats["read_seconds"] += time.perf_counter() - t
        encoder = Encoder(universe, pool, problem.options.unify, roots, support=self.support, dominance=self.dominance)
        resolution = Resolution(self.name, satisfiable=False)
        deadline = None if self.time_budget is None else start + self.time_budget
        # lazy="auto" (not in a universal fork: there, reading a release can meet a fork point,
        # and which ones are met is what uv's forking follows).
        auto = self.lazy == "auto" and universe.lazy and problem.region is None
        optimal = True
        depths: dict[Any, int] | None = None
        update_seconds = 0.0
        while True:
            stats["rounds"] += 1
            t0 = time.perf_counter()
            encoder.update()
            update_seconds += time.perf_counter() - t0
            hard = list(encoder.clauses())
            if newest:
                depths = universe.depths()
            soft, version_levels = _soft(encoder, roots, depths)
            t1 = time.perf_counter()
            stats["encode_seconds"] += t1 - t0
            switch_at = self._switch_deadline(universe, stats, update_seconds) if auto and universe.lazy else None
            try:
                if optimal:
                    # A lazy round stops once the versions are optimised if that optimum uses
                    # a gap: the gap is read either way, and the lower levels are optimised in
                    # the round that uses none.
                    watch = set(encoder.boundary) if universe.lazy else set()
                    until = min((d for d in (deadline, switch_at) if d is not None), default=None)
                    model = self._optimise(hard, soft, pool.top, stats, until, watch, version_levels)
                else:
                    model = self._fallback(hard, soft, universe, encoder, pool.top, stats)
            except _OutOfTime as stop:
                if deadline is None or time.perf_counter() < deadline:
                    # lazy rounds cost more than reading the rest: stop this one, read it
                    stats["read_everything_after_round"] = stats["rounds"]
                    self._read(stats, universe.read_everything)
                    continue
                optimal = False
                stats["time_budget_spent_in_round"] = stats["rounds"]
                incumbent = set() if stop.model is None else {lit for lit in stop.model if lit > 0}
                stand_ins = incumbent & set(encoder.boundary) or any(c in universe.unread for c in encoder.chosen(incumbent))
                if not incumbent or stand_ins:
                    # Settle for some resolution (_fallback): read what is left (no stand-ins
                    # for unread releases), then one more round.
                    self._read(stats, universe.read_everything)
                    continue
                # The model of the last level proved is a resolution as it is; the fallback's
                # may still be better below that level.
                stats["levels_proved"] = stop.levels
                model = self._fallback(hard, soft, universe, encoder, pool.top, stats)
                if model is None or _vector(soft, incumbent) <= _vector(soft, model):
                    stats["fallback"] = "levels proved"
                    model = incumbent
            finally:
                stats["solve_seconds"] += time.perf_counter() - t1
            if model is None:
                from ..explain.unsat import explain_core
                from .sat_mus import minimal_unsatisfiable_groups

                t2 = time.perf_counter()
                formula = encoder.formula()
                groups = minimal_unsatisfiable_groups(formula, pool, stats, self.solver)
                stats["explanation_groups"] = len(groups)
                explanation = explain_core(finder, encoder.core_view(), groups)
                resolution = Resolution(self.name, satisfiable=False, explanation=explanation)
                stats["explain_seconds"] = time.perf_counter() - t2
                break
            hidden = [gap for lit, gap in sorted(encoder.boundary.items()) if lit in model]
            unread = [c for c in encoder.chosen(model) if c in universe.unread]
            if not hidden and unread:
                # The optimum leans on candidates whose dependencies are unknown (sdists to
                # build): read them (build them, or reject them) and optimise again.
                stats["candidates_built"] = stats.get("candidates_built", 0) + len(unread)
                self._read(stats, partial(universe.read_candidates, unread))
                continue
            if not hidden:
                resolution = _resolution(self.name, problem, finder, encoder, model)
                unfounded = frozenset(c.name for c in encoder.chosen(model)) - frozenset(resolution.packages)
                if unfounded and not encoder.support:
                    # With pip's policies an optimum may install what nothing reachable
                    # requires, to pin a yanked release: not a resolution. Each such set needs a
                    # requirement from outside it from now on, and the round repeats.
                    encoder.unfounded.append(unfounded)
                    stats["unfounded_sets"] = stats.get("unfounded_sets", 0) + 1
                    continue
                vector = objective_vector(problem, resolution, finder, self.objective, depths)
                stats["objective"] = list(vector or ())
                stats["optimal"] = optimal
                break
            preferred = [_preferred(universe, encoder, model, gap) for gap in hidden]
            universe.prefetch_widenings(zip(hidden, preferred, strict=True))
            for gap, releases in zip(hidden, preferred, strict=True):
                self._read(stats, partial(universe.widen, gap, releases))
        stats.update(
            variables=pool.top,
            clauses=len(encoder.hard),
            candidates=finder.stats["candidates"],
            releases_read=finder.stats["releases"],
            releases_known=sum(len(s.releases) for s in universe.packages.values()),
        )
        if finder.metadata_report:  # variant metadata ignored or read leniently: say so in the JSON
            stats["variant_metadata"] = finder.metadata_report
        for key in ("read_seconds", "encode_seconds", "solve_seconds", "explain_seconds"):
            if key in stats:
                stats[key] = round(stats[key], 6)
        stats["seconds"] = round(time.perf_counter() - start, 6)
        return resolution.with_stats(**stats)

    @staticmethod
    def _read(stats: dict[str, Any], read: Callable[[], object]) -> None:
        t = time.perf_counter()
        read()
        stats["read_seconds"] += time.perf_counter() - t

    def _switch_deadline(self, universe: Universe, stats: dict[str, Any], update_seconds: float) -> float:
        """``lazy="auto"``, the ski-rental rule: another lazy round costs at least what the
        rounds so far cost to optimise, reading everything left costs, per release, what reading
        and encoding one has cost so far. The lazy rounds may spend on optimising up to that
        estimate (times ``switch_factor``); the round that reaches it is stopped and everything
        is read. Returns the ``perf_counter`` time at which to switch."""
        read: float = stats["read_seconds"]
        per_release = (read + update_seconds) / max(1, universe.releases_read)
        estimate: float = universe.unread_releases() * per_release
        stats["estimated_read_everything_seconds"] = round(estimate, 6)
        spent: float = stats["solve_seconds"]
        return time.perf_counter() + self.switch_factor * estimate - spent

    def _fallback(
        self,
        hard: list[list[int]],
        soft: list[tuple[int, int]],
        universe: Universe,
        encoder: Encoder,
        top: int,
        stats: dict[str, Any],
    ) -> set[int] | None:
        """The anytime mode's resolution once the budget is spent and nothing better was proved:
        the optimum of ``newest`` (versions level by level of depth: many small levels, quick to
        prove even where the default objective is not) if it takes at most half the budget
        again (at least a second), else one plain SAT call."""
        assert self.time_budget is not None
        if self.objective != "newest":
            newest, levels = _soft(encoder, encoder.roots, universe.depths())
            try:
                grace = time.perf_counter() + max(1.0, self.time_budget / 2)
                model = self._optimise(hard, newest, top, stats, grace, None, levels)
                stats["fallback"] = "newest"
                return model
            except _OutOfTime:
                pass
        stats["fallback"] = "feasible"
        return self._feasible(hard, soft, stats)

    def _feasible(self, hard: list[list[int]], soft: list[tuple[int, int]], stats: dict[str, Any]) -> set[int] | None:
        """Some model of the hard clauses (the objective's literals preferred as phases, which
        leans towards newer versions and better variants), or None if unsatisfiable."""
        from pysat.solvers import Solver

        with Solver(name=self.solver, bootstrap_with=hard) as oracle:
            oracle.set_phases([lit for lit, _ in soft])
            stats["sat_calls"] += 1
            if not oracle.solve():
                return None
            return {lit for lit in oracle.get_model() or () if lit > 0}

    def _optimise(
        self,
        hard: list[list[int]],
        soft: list[tuple[int, int]],
        top: int,
        stats: dict[str, Any],
        deadline: float | None = None,
        watch: set[int] | None = None,
        version_levels: int = 0,
    ) -> set[int] | None:
        """The lexicographic optimum as the set of true literals, or None if unsatisfiable;
        raises :class:`_OutOfTime` when ``deadline`` (a ``perf_counter`` time) passes first.

        With ``watch``: once the first ``version_levels`` levels are optimised, a model that
        makes one of ``watch`` true is returned as it is (optimal on those levels only)."""
        if any(not clause for clause in hard):
            return None  # a requirement nothing can satisfy (RC2 would drop the empty clause)
        # Filled directly: WCNF.append costs more than the rest of the round on large formulas.
        wcnf = WCNF()
        wcnf.hard = hard
        wcnf.soft = [[lit] for lit, _ in soft]
        wcnf.wght = _weights(soft)
        wcnf.topw = sum(wcnf.wght) + 1
        wcnf.nv = top
        with _CountingRC2(wcnf, solver=self.solver, **RC2_OPTIONS) as rc2:
            if watch:
                rc2.watch = frozenset(watch)
                weights = zip(wcnf.wght, soft, strict=True)
                rc2.watch_below = min((w for w, (_, level) in weights if level < version_levels), default=0)
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
            except _Watched as early:
                model = early.model
            finally:
                if timer is not None:
                    timer.cancel()
            stats["sat_calls"] += rc2.calls
            if model is None and rc2.interrupted:
                raise _OutOfTime(rc2.incumbent, rc2.levels_proved)
        return None if model is None else {lit for lit in model if lit > 0}


class _OutOfTime(Exception):
    """The time budget ran out during an optimisation; ``model``: the optimum of the first
    ``levels`` levels, if one was proved."""

    def __init__(self, model: list[int] | None = None, levels: int = 0) -> None:
        self.model = model
        self.levels = levels


class _Watched(Exception):  # noqa: N818 - a signal, not an error
    """A level's optimum makes a watched literal true (see :meth:`SatStrategy._optimise`)."""

    def __init__(self, model: list[int]) -> None:
        self.model = model


class _CountingRC2(RC2Stratified):  # type: ignore[misc]  # pysat has no type information
    calls = 0
    watch: frozenset[int] = frozenset()  # literals to watch for after the versions
    watch_below = 0  # weight of the last level after which the watch applies

    incumbent: list[int] | None = None  # the model of the last level proved
    levels_proved = 0

    def finish_level(self) -> None:
        # RC2Stratified calls this after each stratum but the last; a stratum is one level of
        # the objective (each level's weight exceeds all lower levels together).
        model = self.oracle.get_model()
        if self.watch and self.blop[self.levl] <= self.watch_below:
            if any(model[lit - 1] > 0 for lit in self.watch if lit <= len(model)):
                raise _Watched(model)
        self.incumbent = model
        self.levels_proved = self.levl + 1
        super().finish_level()

    def _call_oracle(
        self, assumptions: Sequence[int] = [], expect_interrupt: bool = False  # noqa: B006 (RC2's signature)
    ) -> bool | None:
        self.calls += 1
        # pysat's untyped Solver.solve_limited: True, False, or None when interrupted
        answer: bool | None = super()._call_oracle(assumptions, expect_interrupt)
        return answer


def _soft(encoder: Encoder, roots: Any, depths: dict[Any, int] | None) -> tuple[list[tuple[int, int]], int]:
    """(literal to make true, level) for every unit of the objective: per package, its version
    ladder at its level (root/other, or its depth), its rank ladder, and its presence; and the
    number of version levels (which come first)."""
    if depths is None:
        rank_level, count_level = 2, 3
    else:
        deepest = max(depths.values(), default=1)
        rank_level, count_level = deepest, deepest + 1
    soft: list[tuple[int, int]] = []
    for name, pkg in encoder.soft():
        if depths is None:
            level = 0 if name in roots else 1
        else:
            level = depths.get(name, rank_level) - 1
        soft.extend((-lit, level) for lit in pkg.versions)
        soft.extend((-lit, rank_level) for lit in pkg.ranks)
        soft.append((-pkg.present, count_level))
    return soft, rank_level


def _vector(soft: Sequence[tuple[int, int]], model: set[int]) -> list[int]:
    """The objective of ``model`` (its true variables): per level, the units it does not satisfy."""
    vector = [0] * (max((level for _, level in soft), default=0) + 1)
    for lit, level in soft:
        if (lit > 0) != (abs(lit) in model):
            vector[level] += 1
    return vector


def _weights(soft: Sequence[tuple[int, int]]) -> list[int]:
    """One weight per level such that a unit of a level outweighs all lower levels together:
    the weighted optimum is then the lexicographic one."""
    levels = max((level for _, level in soft), default=0) + 1
    counts = [0] * levels
    for _, level in soft:
        counts[level] += 1
    weight = [0] * levels
    below = 0
    for level in range(levels - 1, -1, -1):
        weight[level] = below + 1
        below += counts[level] * weight[level]
    return [weight[level] for _, level in soft]


def _preferred(universe: Universe, encoder: Encoder, model: set[int], gap: Gap) -> list[Release]:
    """Releases of ``gap`` to read first: those every applying requirement admits."""
    applying = [req for req in universe.by_target.get(gap.name, []) if encoder.applies(req, model)]
    if not applying:
        return gap.releases
    common = universe.range_of(applying[0].dep)
    for req in applying[1:]:
        common = common.intersection(universe.range_of(req.dep))
    return list(common.filter(gap.releases, prereleases=True, key=lambda r: r.version)) or gap.releases


def _resolution(name: str, problem: Problem, finder: CandidateFinder, encoder: Encoder, model: set[int]) -> Resolution:
    """The resolution of an optimal model: what is reachable from the root through the chosen
    candidates, and the best common value of each unified feature they declare."""
    chosen = {c.name: c for c in encoder.chosen(model)}
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

