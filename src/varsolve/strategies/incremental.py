"""resolvelib's resolution loop with the same decisions in linear time and memory.

Why: resolvelib's ``Resolution`` (``resolvelib.resolvers.resolution``) keeps a full copy of the
pins and of the criteria for every round (one ``State`` per pin, all kept for backtracking) and
re-reads every criterion at every round: the pin of each one is re-checked against all its
requirements (``_is_current_pin_satisfying``), twice; the preference of every unsatisfied name is
asked; the set of satisfied names is rebuilt. Resolving n packages thus takes O(n²) time and
memory: 2,000 independent roots took 12 s and 360 MB, 10,000 did not finish in 180 s and would
hold several GB of copies (docs/benchmarks.md, "Greedy scale (flat and chain)").

What: :class:`IncrementalResolution` is a re-implementation of ``Resolution.resolve`` of
resolvelib **1.2.1** (:data:`MIRRORED`), step by step and with its names: the same rounds, the
same candidate pinned at each, the same backjumping (optimistic backjumping, its cut-off and its
rollback included), the same provider calls that have effects (``find_matches``,
``get_dependencies``, the preference of a criterion the first time resolvelib would ask it) in
the same order, the same reporter events and the same exceptions with the same causes. Only the
bookkeeping differs:

* The stack of states is one live state (criteria, pins, backtrack causes) and, per state of
  resolvelib's stack, an undo log of what that state changed over the one below it. Pushing a
  state is O(1); discarding one undoes its log. resolvelib never changes a state below the top
  (it only reads them while backjumping), which is what makes the logs exact. Saving the stack
  for optimistic backjumping (at most once per resolution) copies it once.
* Whether each criterion is satisfied by its pin is kept in a set and re-checked only for the
  criteria and pins a round changed (``is_satisfied_by`` is pure).
* Preferences are kept in a heap. A criterion's preference is asked again only when its
  criterion object changed or its membership in the backtrack causes changed, and only at a
  round where resolvelib asks preferences (more than one unsatisfied name), in criteria order.

What it needs of the provider (varsolve's greedy provider has it; :func:`supports` checks the
rest): ``is_satisfied_by`` is pure; ``get_preference(identifier, ...)`` depends only on the
identifier's own criterion (its ``information`` and ``candidates``) and on whether the identifier
is one of ``identify(cause.requirement)`` for the backtrack causes, not on the pins nor on other
criteria; preferences of different identifiers differ (ties are broken by criteria order, as
resolvelib's ``min`` does, either way); ``find_matches`` reads ``incompatibilities`` as a set (the
incremental loop keeps each candidate once where resolvelib's lists repeat them, doubling at every
patch of the same criterion); ``narrow_requirement_selection`` is resolvelib's default.
A reporter's ``ending_round`` gets a snapshot of the state (O(n)), and only if it overrides it.

Guarded: :func:`supports` is false for any other resolvelib release (the caller then uses
resolvelib's own ``Resolver``), tests/test_greedy_scale.py fails when the installed resolvelib's
resolution module is not the one mirrored, and compares this loop with resolvelib's on the
bundled and generated scenarios (answers, explanations, rounds, backtracks, candidates read).
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Collection, Iterable
from typing import Any, Final, Generic

import resolvelib
from resolvelib import (
    AbstractProvider,
    BaseReporter,
    InconsistentCandidate,
    RequirementsConflicted,
    ResolutionImpossible,
    ResolutionTooDeep,
    Resolver,
)
from resolvelib.resolvers import Criterion, Result
from resolvelib.resolvers.resolution import _build_result
from resolvelib.structs import CT, KT, RT, IteratorMapping, RequirementInformation, State, build_iter_view

MIRRORED: Final = "1.2.1"
"""The resolvelib release whose ``Resolution.resolve`` this module re-implements."""

_OPTIMISTIC_BACKJUMPING_RATIO: Final = 0.1  # resolvelib's

# Undo log entries: (_CRIT, key, criterion before or None if the key was new),
# (_PIN, key, candidate before or _ABSENT, its position in the pin order before or -1),
# (_CAUSES, causes before).
_CRIT: Final = 0
_PIN: Final = 1
_CAUSES: Final = 2
_ABSENT: Final[Any] = object()
_TOMB: Final[Any] = object()  # a place in the pin order whose key was pinned again later


def supports(provider: AbstractProvider[Any, Any, Any]) -> bool:
    """Whether :class:`IncrementalResolver` reproduces resolvelib's resolution with ``provider``."""
    default_narrow = AbstractProvider.narrow_requirement_selection
    return resolvelib.__version__ == MIRRORED and type(provider).narrow_requirement_selection is default_narrow


class _Saved(Generic[RT, CT, KT]):
    """The whole stack, saved for the rollback of optimistic backjumping."""

    def __init__(self, r: IncrementalResolution[RT, CT, KT]) -> None:
        self.criteria = dict(r.criteria)
        self.crit_pos = dict(r.crit_pos)
        self.pins = dict(r.pins)
        self.order = list(r.order)
        self.pin_pos = dict(r.pin_pos)
        self.causes = list(r.causes)
        self.frames = [list(f) for f in r.frames]


class _Seen(Generic[RT, CT, KT]):
    """What a dropped state had where it differed from the state below it."""

    def __init__(self) -> None:
        self.criteria: dict[KT, Criterion[RT, CT]] = {}
        self.added: list[KT] = []  # keys it added, newest first


class IncrementalResolution(Generic[RT, CT, KT]):
    """One resolution, as resolvelib's ``Resolution`` (same constructor, same ``resolve``)."""

    def __init__(self, provider: AbstractProvider[RT, CT, KT], reporter: BaseReporter[RT, CT, KT]) -> None:
        self._p = provider
        self._r = reporter
        self._optimistic_backjumping_ratio = _OPTIMISTIC_BACKJUMPING_RATIO
        self._save_states: _Saved[RT, CT, KT] | None = None
        # The live state (resolvelib's top state).
        self.criteria: dict[KT, Criterion[RT, CT]] = {}
        self.crit_pos: dict[KT, int] = {}  # a key's place in the criteria's order
        self.pins: dict[KT, CT] = {}
        self.order: list[Any] = []  # keys in pin order (resolvelib's mapping order), _TOMB for re-pinned
        self.pin_pos: dict[KT, int] = {}
        self.causes: list[RequirementInformation[RT, CT]] = []
        self.frames: list[list[tuple[Any, ...]]] = []  # one undo log per state of resolvelib's stack
        # Derived from the live state, kept up to date from _dirty.
        self._unsat: set[KT] = set()
        self._dirty: set[KT] = set()
        self._with_incompat: set[KT] = set()
        self._conflict: set[KT] = set()  # identify(cause.requirement) of the backtrack causes
        self._stale: set[KT] = set()  # keys whose heap entry is missing or out of date
        self._pref: dict[KT, tuple[Criterion[RT, CT], bool, Any]] = {}
        self._heap: list[tuple[Any, int, int, KT]] = []  # (preference, criteria place, stamp, key)
        self._heap_stamp: dict[KT, int] = {}
        self._seq = 0
        # parent key -> keys whose criterion may hold information from it (a superset).
        self._children: dict[KT, set[KT]] = {}
        self._report_rounds = type(reporter).ending_round is not BaseReporter.ending_round

    # -- the live state and its undo logs ------------------------------------------------------
    @property
    def state(self) -> State[RT, CT, KT]:
        """A snapshot of the live state as resolvelib's ``State`` (O(n))."""
        mapping = {k: self.pins[k] for k in self.order if k is not _TOMB}
        return State(mapping=mapping, criteria=dict(self.criteria), backtrack_causes=list(self.causes))

    def _set_criterion(self, key: KT, criterion: Criterion[RT, CT]) -> None:
        old = self.criteria.get(key)
        self.frames[-1].append((_CRIT, key, old))
        if old is None:
            self.crit_pos[key] = len(self.criteria)
        self.criteria[key] = criterion
        self._touched(key, criterion)

    def _touched(self, key: KT, criterion: Criterion[RT, CT] | None) -> None:
        self._dirty.add(key)
        if criterion is not None and criterion.incompatibilities:
            self._with_incompat.add(key)
        else:
            self._with_incompat.discard(key)

    def _pin(self, key: KT, candidate: CT) -> None:
        # resolvelib: mapping.pop(name, None); mapping[name] = candidate (the pin goes last).
        old = self.pins.get(key, _ABSENT)
        old_pos = self.pin_pos.get(key, -1)
        if old is not _ABSENT:
            self.order[old_pos] = _TOMB
        self.frames[-1].append((_PIN, key, old, old_pos))
        self.pin_pos[key] = len(self.order)
        self.order.append(key)
        self.pins[key] = candidate
        self._dirty.add(key)

    def _set_causes(self, causes: list[RequirementInformation[RT, CT]]) -> None:
        self.frames[-1].append((_CAUSES, self.causes))
        self._causes_now(list(causes))

    def _causes_now(self, causes: list[RequirementInformation[RT, CT]]) -> None:
        self.causes = causes
        conflict = {self._p.identify(c.requirement) for c in causes}
        for key in conflict ^ self._conflict:
            self._stale.add(key)
            self._heap_stamp.pop(key, None)
        self._conflict = conflict

    def _undo(self, entry: tuple[Any, ...], seen: _Seen[RT, CT, KT] | None) -> None:
        if entry[0] == _CRIT:
            key, old = entry[1], entry[2]
            if seen is not None and key not in seen.criteria:
                seen.criteria[key] = self.criteria[key]  # the value the discarded state had
            if old is None:
                if seen is not None:
                    seen.added.append(key)
                del self.criteria[key]
                del self.crit_pos[key]
            else:
                self.criteria[key] = old
            self._touched(key, old)
        elif entry[0] == _PIN:
            key, old, old_pos = entry[1], entry[2], entry[3]
            self.order.pop()
            if old is _ABSENT:
                del self.pins[key]
                del self.pin_pos[key]
            else:
                self.order[old_pos] = key
                self.pins[key] = old
                self.pin_pos[key] = old_pos
            self._dirty.add(key)
        else:
            self._causes_now(entry[1])

    def _undo_to(self, mark: int) -> None:
        log = self.frames[-1]
        while len(log) > mark:
            self._undo(log.pop(), None)

    def _drop_state(self, seen: _Seen[RT, CT, KT] | None = None) -> None:
        """resolvelib's ``del self._states[-1]`` / ``self._states.pop()``: the live state becomes
        the one below. ``seen`` collects the criteria the dropped state had where they differ."""
        log = self.frames.pop()
        for entry in reversed(log):
            self._undo(entry, seen)

    def _push_new_state(self) -> None:
        self.frames.append([])

    # -- derived state ---------------------------------------------------------------------------
    def _refresh(self, round_start: int = -1) -> set[KT]:
        """Re-check the criteria and pins that changed; return those that existed at the round's
        start (``round_start``: the number of criteria then), were satisfied and are not now."""
        newly: set[KT] = set()
        for key in self._dirty:
            self._stale.add(key)
            self._heap_stamp.pop(key, None)
            criterion = self.criteria.get(key)
            if criterion is None:
                self._unsat.discard(key)
                continue
            pin = self.pins.get(key, _ABSENT)
            satisfied = pin is not _ABSENT and all(
                self._p.is_satisfied_by(requirement=r, candidate=pin) for r in criterion.iter_requirement()
            )
            if satisfied:
                self._unsat.discard(key)
            elif key not in self._unsat:
                self._unsat.add(key)
                if self.crit_pos[key] < round_start:
                    newly.add(key)
        self._dirty.clear()
        return newly

    def _most_preferred(self) -> KT:
        """resolvelib's ``min(unsatisfied_names, key=self._get_preference)``."""
        if self._stale:
            todo = sorted((k for k in self._stale if k in self._unsat), key=self.crit_pos.__getitem__)
            self._stale.clear()
            candidates = IteratorMapping(self.criteria, operator.attrgetter("candidates"))
            information = IteratorMapping(self.criteria, operator.attrgetter("information"))
            for key in todo:
                criterion, in_conflict = self.criteria[key], key in self._conflict
                cached = self._pref.get(key)
                if cached is not None and cached[0] is criterion and cached[1] == in_conflict:
                    preference = cached[2]
                else:
                    preference = self._p.get_preference(
                        identifier=key,
                        resolutions=self.pins,
                        candidates=candidates,
                        information=information,
                        backtrack_causes=self.causes,
                    )
                    self._pref[key] = (criterion, in_conflict, preference)
                self._seq += 1
                self._heap_stamp[key] = self._seq
                heapq.heappush(self._heap, (preference, self.crit_pos[key], self._seq, key))
            if len(self._heap) > 64 + 4 * len(self._unsat):  # mostly entries out of date: compact
                self._heap = [e for e in self._heap if self._heap_stamp.get(e[3]) == e[2]]
                heapq.heapify(self._heap)
        heap = self._heap
        while True:
            _, _, stamp, key = heap[0]
            if self._heap_stamp.get(key) == stamp and key in self._unsat:
                return key
            heapq.heappop(heap)

    # -- resolvelib's steps on the live state ----------------------------------------------------
    def _add_to_criteria(self, requirement: RT, parent: CT | None) -> None:
        self._r.adding_requirement(requirement=requirement, parent=parent)

        identifier = self._p.identify(requirement_or_candidate=requirement)
        criterion = self.criteria.get(identifier)
        incompatibilities = list(criterion.incompatibilities) if criterion else []
        matches = self._p.find_matches(
            identifier=identifier,
            requirements=IteratorMapping(self.criteria, operator.methodcaller("iter_requirement"), {identifier: [requirement]}),
            incompatibilities=IteratorMapping(
                self.criteria, operator.attrgetter("incompatibilities"), {identifier: incompatibilities}
            ),
        )
        if criterion:
            information = list(criterion.information)
            information.append(RequirementInformation(requirement, parent))
        else:
            information = [RequirementInformation(requirement, parent)]
        criterion = Criterion(candidates=build_iter_view(matches), information=information, incompatibilities=incompatibilities)
        if not criterion.candidates:
            raise RequirementsConflicted(criterion)
        self._set_criterion(identifier, criterion)
        if parent is not None:
            self._children.setdefault(self._p.identify(parent), set()).add(identifier)

    def _remove_information_from_criteria(self, parents: Collection[KT]) -> None:
        # resolvelib rebuilds every criterion; only those holding information from ``parents``
        # change, and ``_children`` names every such one.
        if not parents:
            return
        keys: set[KT] = set()
        for parent in parents:
            keys |= self._children.get(parent, set())
        for key in keys:
            criterion = self.criteria.get(key)
            if criterion is None:
                continue
            kept = [
                information
                for information in criterion.information
                if information.parent is None or self._p.identify(information.parent) not in parents
            ]
            if len(kept) != len(criterion.information):
                self._set_criterion(key, Criterion(criterion.candidates, kept, criterion.incompatibilities))

    def _attempt_to_pin_criterion(self, name: KT) -> list[Criterion[RT, CT]]:
        criterion = self.criteria[name]

        causes: list[Criterion[RT, CT]] = []
        for candidate in criterion.candidates:
            mark = len(self.frames[-1])
            try:
                # resolvelib: _get_updated_criteria on a copy of the criteria.
                for requirement in self._p.get_dependencies(candidate=candidate):
                    self._add_to_criteria(requirement, parent=candidate)
            except RequirementsConflicted as e:
                self._undo_to(mark)
                self._r.rejecting_candidate(e.criterion, candidate)
                causes.append(e.criterion)
                continue

            satisfied = all(self._p.is_satisfied_by(requirement=r, candidate=candidate) for r in criterion.iter_requirement())
            if not satisfied:
                raise InconsistentCandidate(candidate, criterion)

            self._r.pinning(candidate=candidate)
            self._pin(name, candidate)
            return []

        return causes

    def _broken_incompatibilities(self, seen: _Seen[RT, CT, KT]) -> list[tuple[KT, list[CT]]]:
        """resolvelib's ``[(k, list(v.incompatibilities)) for k, v in broken_state.criteria.items()]``
        without the empty ones (``_patch_criteria`` skips them), in O(changes): the live state is
        the one below the broken state, whose criteria differ in ``seen``."""
        broken = seen.criteria
        kept = [k for k in self._with_incompat if k not in broken]
        kept += [k for k in broken if k in self.crit_pos and broken[k].incompatibilities]
        kept.sort(key=self.crit_pos.__getitem__)
        out = [(k, list(broken[k].incompatibilities if k in broken else self.criteria[k].incompatibilities)) for k in kept]
        # The keys the broken state added come after, in the order it added them (``added`` was
        # filled undoing, newest first).
        out += [(k, list(broken[k].incompatibilities)) for k in reversed(seen.added) if broken[k].incompatibilities]
        return out

    def _patch_criteria(self, incompatibilities_from_broken: list[tuple[KT, list[CT]]]) -> bool:
        for k, incompatibilities in incompatibilities_from_broken:
            if not incompatibilities:
                continue
            criterion = self.criteria.get(k)
            if criterion is None:
                continue
            matches = self._p.find_matches(
                identifier=k,
                requirements=IteratorMapping(self.criteria, operator.methodcaller("iter_requirement")),
                incompatibilities=IteratorMapping(
                    self.criteria, operator.attrgetter("incompatibilities"), {k: incompatibilities}
                ),
            )
            candidates = build_iter_view(matches)
            if not candidates:
                return False
            # resolvelib extends with every known incompatibility, also those the broken state
            # inherited from this one (all of them, usually): the list doubles at every patch of
            # the same key, 2^k entries after k backjumps over it (a 2,000-package layered
            # instance ran out of 24 GB). The provider reads the list as a set (see the module
            # docstring), so each candidate is kept once, first place first.
            known = {id(c) for c in incompatibilities}
            incompatibilities.extend(c for c in criterion.incompatibilities if id(c) not in known)
            self._set_criterion(
                k, Criterion(candidates=candidates, information=list(criterion.information), incompatibilities=incompatibilities)
            )
        return True

    def _save_state(self) -> None:
        if self._save_states is None:
            self._save_states = _Saved(self)

    def _rollback_states(self) -> None:
        self._optimistic_backjumping_ratio = 0.0
        saved = self._save_states
        if saved is None:
            return
        self._save_states = None
        self.criteria, self.crit_pos = saved.criteria, saved.crit_pos
        self.pins, self.order, self.pin_pos = saved.pins, saved.order, saved.pin_pos
        self.frames = saved.frames
        self._with_incompat = {k for k, c in self.criteria.items() if c.incompatibilities}
        self._unsat.clear()
        self._dirty = set(self.criteria)
        self._heap.clear()
        self._heap_stamp.clear()
        self._causes_now(saved.causes)

    def _backjump(self, causes: list[RequirementInformation[RT, CT]]) -> bool:
        """resolvelib's ``_backjump`` (see there for the idea), on the undo logs."""
        incompatible_reqs: Iterable[CT | RT] = [
            *(c.parent for c in causes if c.parent is not None),
            *(c.requirement for c in causes),
        ]
        incompatible_deps = {self._p.identify(r) for r in incompatible_reqs}
        while len(self.frames) >= 3:
            # Remove the state that triggered backtracking.
            self._drop_state()

            # Optimistically backtrack to a state that caused the incompatibility
            while True:
                # Retrieve the last candidate pin and known incompatibilities.
                if not self.frames or not self.pins:
                    raise ResolutionImpossible(causes)
                name = self.order[-1]
                candidate = self.pins[name]
                broken_empty = len(self.pins) == 1  # its mapping after resolvelib's popitem
                seen: _Seen[RT, CT, KT] = _Seen()
                self._drop_state(seen)

                if not self._optimistic_backjumping_ratio and name not in incompatible_deps:
                    # For safe backjumping only backjump if the current dependency
                    # is not the same as the incompatible dependency
                    break

                # On the first time a non-safe backjump is done the state
                # is saved so we can restore it later if the resolution fails
                if self._optimistic_backjumping_ratio and self._save_states is None and name not in incompatible_deps:
                    self._save_state()

                # If the current dependencies and the incompatible dependencies
                # are overlapping then we have likely found a cause of the
                # incompatibility
                current_dependencies = {self._p.identify(d) for d in self._p.get_dependencies(candidate)}
                if not current_dependencies.isdisjoint(incompatible_deps):
                    break

                # Fallback: We should not backtrack to the point where
                # broken_state.mapping is empty, so stop backtracking for
                # a chance for the resolution to recover
                if broken_empty:
                    break

                # Guard: We need at least two state to remain to both
                # backtrack and push a new state
                if len(self.frames) <= 1:
                    raise ResolutionImpossible(causes)

            incompatibilities_from_broken = self._broken_incompatibilities(seen)

            # Also mark the newly known incompatibility.
            incompatibilities_from_broken.append((name, [candidate]))

            self._push_new_state()
            success = self._patch_criteria(incompatibilities_from_broken)

            # It works! Let's work on this new state.
            if success:
                return True

            # State does not work after applying known incompatibilities.
            # Try the still previous state.

        # No way to backtrack anymore.
        return False

    def _extract_causes(self, criteron: list[Criterion[RT, CT]]) -> list[RequirementInformation[RT, CT]]:
        """Extract causes from list of criterion and deduplicate"""
        return list({id(i): i for c in criteron for i in c.information}.values())

    def resolve(self, requirements: Iterable[RT], max_rounds: int) -> State[RT, CT, KT]:
        if self.frames:
            raise RuntimeError("already resolved")

        self._r.starting()

        # Initialize the root state.
        self.frames = [[]]
        for r in requirements:
            try:
                self._add_to_criteria(r, parent=None)
            except RequirementsConflicted as e:
                raise ResolutionImpossible(e.criterion.information) from e

        # The root state is saved as a sentinel so the first ever pin can have
        # something to backtrack to if it fails.
        self._push_new_state()

        # Variables for optimistic backjumping
        optimistic_rounds_cutoff: int | None = None
        optimistic_backjumping_start_round: int | None = None

        for round_index in range(max_rounds):
            self._r.starting_round(index=round_index)

            # Handle if optimistic backjumping has been running for too long
            if self._optimistic_backjumping_ratio and self._save_states is not None:
                if optimistic_backjumping_start_round is None:
                    optimistic_backjumping_start_round = round_index
                    optimistic_rounds_cutoff = int((max_rounds - round_index) * self._optimistic_backjumping_ratio)

                    if optimistic_rounds_cutoff <= 0:
                        self._rollback_states()
                        continue
                elif optimistic_rounds_cutoff is not None:
                    if round_index - optimistic_backjumping_start_round >= optimistic_rounds_cutoff:
                        self._rollback_states()
                        continue

            self._refresh()

            # All criteria are accounted for. Nothing more to pin, we are done!
            if not self._unsat:
                self._r.ending(state=self.state)
                return self.state

            round_start = len(self.criteria)
            if len(self._unsat) > 1:
                # Choose the most preferred unpinned criterion to try.
                name = self._most_preferred()
            else:
                name = next(iter(self._unsat))

            failure_criterion = self._attempt_to_pin_criterion(name)

            if failure_criterion:
                causes = self._extract_causes(failure_criterion)
                # Backjump if pinning fails. The backjump process puts us in
                # an unpinned state, so we can work on it in the next round.
                self._r.resolving_conflicts(causes=causes)

                try:
                    success = self._backjump(causes)
                except ResolutionImpossible:
                    if self._optimistic_backjumping_ratio and self._save_states is not None:
                        failed_optimistic_backjumping = True
                    else:
                        raise
                else:
                    failed_optimistic_backjumping = bool(
                        not success and self._optimistic_backjumping_ratio and self._save_states is not None
                    )

                if failed_optimistic_backjumping and self._save_states is not None:
                    self._rollback_states()
                else:
                    self._set_causes(causes)

                    # Dead ends everywhere. Give up.
                    if not success:
                        raise ResolutionImpossible(self.causes)
            else:
                # discard as information sources any invalidated names
                # (unsatisfied names that were previously satisfied)
                newly_unsatisfied_names = self._refresh(round_start)
                self._remove_information_from_criteria(newly_unsatisfied_names)
                # Pinning was successful. Push a new state to do another pin.
                self._push_new_state()

            if self._report_rounds:
                self._r.ending_round(index=round_index, state=self.state)

        raise ResolutionTooDeep(max_rounds)


class IncrementalResolver(Resolver[RT, CT, KT]):
    """resolvelib's ``Resolver`` on :class:`IncrementalResolution`; use where :func:`supports`."""

    def resolve(  # type: ignore[override]
        self, requirements: Iterable[RT], max_rounds: int = 100
    ) -> Result[RT, CT, KT]:
        resolution = IncrementalResolution(self.provider, self.reporter)
        state = resolution.resolve(requirements, max_rounds=max_rounds)
        return _build_result(state)
