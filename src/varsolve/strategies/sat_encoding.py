"""CNF encoding of the materialised part of a problem for the ``sat`` strategy.

Variables (all from one :class:`pysat.formula.IDPool`, so that cardinality encodings, objective
ladders and explanation selectors never collide):

* ``x`` per candidate (package, version, variant label | non-variant wheel | sdist);
* ``o`` per run of releases not read yet ("gap"): "some release of this gap", a stand-in whose
  cost is a lower bound of theirs and which has no dependencies (a relaxation, see sat.py);
* ``e`` per requested extra of a package; ``u`` per value of a unified feature;
* ``p`` (package present), ``g`` (version index ladder) and ``r`` (variant rank ladder) for the
  objective.

Hard clauses carry the key of their constraint group (None: a fact about a candidate), which
the explanation of an unsatisfiable problem minimises over.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol

from packaging.utils import NormalizedName
from pysat.card import CardEnc, EncType

from ..candidates import Candidate
from ..variants.properties import VariantFeature
from .sat_universe import Gap, GroupKey, Requirement, Universe

# Objective levels, most important first (docs/strategies.md).
ROOT_VERSIONS, OTHER_VERSIONS, VARIANT_RANK, PACKAGE_COUNT = range(4)
PAIRWISE_MAX = 6  # at-most-one over this many literals or fewer: pairwise, no auxiliaries

# What a cached piece of the encoding depends on: its kind, then names, requirements and counts.
PieceKey = tuple[Hashable, ...]


class VariablePool(Protocol):
    """What the encoding uses of :class:`pysat.formula.IDPool`: one variable per hashable key."""

    def id(self, obj: Hashable) -> int: ...


@dataclass
class Group:
    """A constraint group an explanation may name."""

    kind: str  # "root" | "dep" | "one" | "unify" | "yanked" | "prerelease" | "rejected"
    key: GroupKey
    requirements: list[Requirement] = field(default_factory=list)
    package: NormalizedName | None = None
    feature: VariantFeature | None = None
    candidates: list[Candidate] = field(default_factory=list)  # "one": the package's candidates


@dataclass
class Formula:
    hard: list[tuple[GroupKey | None, list[int]]] = field(default_factory=list)
    soft: list[tuple[int, int]] = field(default_factory=list)  # (literal to make true, level)
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    boundary: dict[int, Gap] = field(default_factory=dict)  # literal -> the gap it stands for
    matching: dict[Requirement, list[Candidate]] = field(default_factory=dict)
    conditions: dict[Requirement, list[int]] = field(default_factory=dict)
    candidates: dict[int, Candidate] = field(default_factory=dict)  # x literal -> candidate
    excluded: set[Candidate] = field(default_factory=set)  # by a policy, whatever else applies
    hidden: set[Requirement] = field(default_factory=set)  # may be met by a release not read yet

    def add(self, group: GroupKey | None, clause: list[int]) -> None:
        self.hard.append((group, clause))

    def merge(self, part: Formula) -> None:
        """Add ``part`` (a cached piece: never modified here) to this formula."""
        self.hard.extend(part.hard)
        self.soft.extend(part.soft)
        for key, group in part.groups.items():
            mine = self.groups.get(key)
            if mine is None:
                self.groups[key] = Group(
                    group.kind, key, list(group.requirements), group.package, group.feature, list(group.candidates)
                )
            else:
                mine.requirements.extend(group.requirements)
        self.boundary.update(part.boundary)
        self.matching.update(part.matching)
        self.conditions.update(part.conditions)
        self.candidates.update(part.candidates)
        self.excluded |= part.excluded
        self.hidden |= part.hidden

    def chosen(self, model: set[int]) -> list[Candidate]:
        return [c for lit, c in self.candidates.items() if lit in model]

    def applies(self, req: Requirement, model: set[int]) -> bool:
        return all(-neg in model for neg in self.conditions[req])


class Encoder:
    """Encodes a universe; ``cache`` (kept across rounds) holds the pieces of earlier rounds,
    each keyed by what it depends on, so a round re-encodes only what widening changed."""

    def __init__(
        self,
        universe: Universe,
        pool: VariablePool,
        unify: tuple[VariantFeature, ...],
        roots: AbstractSet[str],
        cache: dict[PieceKey, Formula] | None = None,
    ) -> None:
        self.universe = universe
        self.finder = universe.finder
        self.pool = pool
        self.unify = unify
        self.roots = roots
        self.cache = {} if cache is None else cache
        self.formula = Formula()

    # -- literals ---------------------------------------------------------------------------
    def x(self, cand: Candidate) -> int:
        # Candidates are unique objects of the finder's cache: identity is a cheap, exact key.
        return self.pool.id(("x", cand))

    def e(self, name: str, extra: str) -> int:
        return self.pool.id(("e", name, extra))

    def condition(self, req: Requirement) -> list[int]:
        """Negated literals of what makes ``req`` apply (empty for the root)."""
        if req.parent is None:
            return []
        cond = [-self.x(req.parent)]
        if req.extra is not None:
            cond.append(-self.e(req.parent.name, req.extra))
        return cond

    def active(self, req: Requirement) -> int | None:
        """A literal that can be true only when ``req`` applies (None: the root, always)."""
        if req.parent is None:
            return None
        if req.extra is None:
            return self.x(req.parent)
        lit = self.pool.id(("active",) + req.key)
        for neg in self.condition(req):  # in every piece that uses it; duplicates are harmless
            self.formula.add(None, [-lit, -neg])
        return lit

    def actives(self, reqs: Sequence[Requirement]) -> list[int]:
        """:meth:`active` of each of ``reqs``, none of which is the root's."""
        lits: list[int] = []
        for req in reqs:
            lit = self.active(req)
            assert lit is not None, "the root's requirements are left out by the caller"
            lits.append(lit)
        return lits

    def group(
        self,
        key: GroupKey,
        kind: str,
        *,
        package: NormalizedName | None = None,
        feature: VariantFeature | None = None,
        candidates: list[Candidate] | None = None,
    ) -> Group:
        if key not in self.formula.groups:
            self.formula.groups[key] = Group(
                kind, key, package=package, feature=feature, candidates=[] if candidates is None else candidates
            )
        return self.formula.groups[key]

    # -- encoding ---------------------------------------------------------------------------
    def encode(self) -> Formula:
        u = self.universe
        whole = Formula()
        read = 0
        for name in sorted(u.packages):
            state = (
                name, len(u.packages[name].materialised), len(u.by_target.get(name, [])), u.rejected_count.get(name, 0)
            )
            read += state[1]
            whole.merge(self._piece(("package", *state), partial(self._package, name)))
            whole.merge(self._piece(("admissible", *state), partial(self._admissible, name)))
        for req in u.requirements:
            key = ("requirement", req, len(u.packages[req.dep.name].materialised))
            whole.merge(self._piece(key, partial(self._requirement, req)))
        whole.merge(self._piece(("extras", len(u.requirements), read), self._extras))
        for feature in self.unify:
            whole.merge(self._piece(("unify", str(feature), read), partial(self._unified, feature)))
        return whole

    def _piece(self, key: PieceKey, build: Callable[[], None]) -> Formula:
        if key not in self.cache:
            outer, self.formula = self.formula, Formula()
            build()
            self.cache[key], self.formula = self.formula, outer
        return self.cache[key]

    def _package(self, name: NormalizedName) -> None:
        state = self.universe.packages[name]
        cands = self.universe.candidates(name)
        reqs = self.universe.by_target.get(name, [])
        entries: list[tuple[int, int, int]] = [(self.x(c), state.index[c.version], c.rank) for c in cands]
        for cand in cands:
            self.formula.candidates[self.x(cand)] = cand
        hidden = {g for r in reqs for g in self.universe.hidden_gaps(r.dep)}
        for gap in sorted(hidden, key=lambda g: g.index):
            lit = self.pool.id(gap.key)
            self.formula.boundary[lit] = gap
            entries.append((lit, gap.index, 0))
        if not entries:
            return
        lits = [lit for lit, _, _ in entries]
        if len(lits) > 1:
            self.group(("one", name), "one", package=name, candidates=cands)
            encoding = EncType.pairwise if len(lits) <= PAIRWISE_MAX else EncType.seqcounter
            for clause in CardEnc.atmost(lits, 1, vpool=self.pool, encoding=encoding).clauses:
                self.formula.add(("one", name), clause)
        present = self.pool.id(("p", name))
        for lit in lits:
            self.formula.add(None, [-lit, present])
        self.formula.soft.append((-present, PACKAGE_COUNT))
        level = ROOT_VERSIONS if name in self.roots else OTHER_VERSIONS
        self._ladder(("g", name), [(lit, index) for lit, index, _ in entries], level)
        self._ladder(("r", name), [(lit, rank) for lit, _, rank in entries], VARIANT_RANK)

    def _ladder(self, key: tuple[str, str], costs: list[tuple[int, int]], level: int) -> None:
        """cost(chosen literal) as a sum of unit soft clauses: step k is true when the cost is at
        least k, so each level of the objective is an unweighted sum (good for core-guided MaxSAT)."""
        top = max((cost for _, cost in costs), default=0)
        steps = [self.pool.id(key + (k,)) for k in range(1, top + 1)]
        for k in range(1, top):
            self.formula.add(None, [-steps[k], steps[k - 1]])
        for lit, cost in costs:
            if cost:
                self.formula.add(None, [-lit, steps[cost - 1]])
        for step in steps:
            self.formula.soft.append((-step, level))

    def _requirement(self, req: Requirement) -> None:
        dep = req.dep
        u = self.universe
        matching = [c for r in u.materialised_releases(dep.name) for c in u.matching(dep, r)]
        self.formula.matching[req] = matching
        lits = [self.x(c) for c in matching]
        gaps = u.hidden_gaps(dep)
        if gaps:
            lits.extend(self.pool.id(gap.key) for gap in gaps)
            self.formula.hidden.add(req)
        key = req.group
        self.group(key, key[0]).requirements.append(req)
        cond = self.condition(req)
        self.formula.conditions[req] = cond
        self.formula.add(key, cond + lits)
        for extra in sorted(dep.extras):
            self.formula.add(key, cond + [self.e(dep.name, extra)])

    def _extras(self) -> None:
        """A requested extra only where some applying requirement asks for it, so that its
        dependencies (and their pins, which the yanked policy reads) are not imagined."""
        for name in sorted(self.universe.extras):
            for extra in self.universe.extras[name]:
                requesters = [r for r in self.universe.by_target.get(name, []) if extra in r.dep.extras]
                if any(r.parent is None for r in requesters):
                    continue
                self.formula.add(None, [-self.e(name, extra)] + self.actives(requesters))

    def _admissible(self, name: NormalizedName) -> None:
        """``CandidateFinder.admissible`` as clauses: its yanked and pre-release policies depend
        on every requirement on the package that applies, so they are constraints, not filters.

        * yanked: usable without a pin, never, or only when an applying requirement pins it
          (``pip``: and for every version that is not yanked, an applying requirement excludes it);
        * pre-release: always (``prereleases``, ``uv``), per package (``packse``), or PEP 440 on
          the merged requirements (``pip``): one of them names a pre-release, or no final release
          satisfies all of them, i.e. for every final version one of them excludes it.
        """
        finder = self.finder
        opts = finder.options
        reqs = self.universe.by_target.get(name, [])
        for cand in self.universe.candidates(name):
            x = self.x(cand)
            reason = self.universe.rejected.get(cand)
            if reason is not None:
                rejected: GroupKey = ("rejected", name, str(cand.version), cand.label or "", reason)
                self.group(rejected, "rejected", package=name, candidates=[cand])
                self.formula.add(rejected, [-x])
                self.formula.excluded.add(cand)
                continue
            if cand.yanked and not finder.yanked_usable(cand, pinned=False):
                if not finder.yanked_usable(cand, pinned=True):
                    self.formula.add(None, [-x])
                    self.formula.excluded.add(cand)
                    continue
                pins = [r for r in reqs if r.dep.pins and r.dep.contains(cand.version)]
                self._when_some_applies(("yanked", name, str(cand.version)), cand, pins)
                if opts.yanked in ("pip", "pinned"):
                    # pip: and only when no release that is not yanked satisfies them all.
                    for version in sorted({c.version for c in finder.candidates(name) if not c.yanked}):
                        excluding = [r for r in reqs if not r.dep.contains(version)]
                        self._when_some_applies(("yanked", name, str(cand.version), str(version)), cand, excluding)
            if not cand.version.is_prerelease or opts.prereleases or opts.prerelease_policy == "uv":
                continue  # uv: pre-releases are only tried late (a preference), never excluded
            if opts.prerelease_policy == "packse":
                if not finder.prereleases_allowed_for(name):
                    self.formula.add(None, [-x])
                    self.formula.excluded.add(cand)
                continue
            explicit = [r for r in reqs if r.dep.explicit_prerelease]
            finals = sorted({c.version for c in finder.candidates(name) if not c.version.is_prerelease})
            for version in finals:
                excluding = [r for r in reqs if not r.dep.contains(version)]
                key = ("prerelease", name, str(cand.version), str(version))
                self._when_some_applies(key, cand, explicit + excluding)

    def _when_some_applies(self, key: GroupKey, cand: Candidate, reqs: list[Requirement]) -> None:
        """``cand`` only if one of ``reqs`` applies (nothing to add when the root is among them)."""
        if any(r.parent is None for r in reqs):
            return
        self.group(key, key[0], package=cand.name, candidates=[cand])
        self.formula.add(key, [-self.x(cand)] + self.actives(reqs))

    def _unified(self, feature: VariantFeature) -> None:
        order = self.finder.value_order(feature)
        declaring: list[tuple[Candidate, tuple[str, ...]]] = []
        for name in sorted(self.universe.packages):
            for cand in self.universe.candidates(name):
                values = cand.feature_values(feature)
                if values is not None:
                    declaring.append((cand, values))
        used = sorted({v for _, vs in declaring for v in vs}, key=lambda v: (order.index(v) if v in order else len(order), v))
        value_lit = {v: self.pool.id(("u", str(feature), v)) for v in used}
        for cand, values in declaring:
            self.formula.add(None, [-self.x(cand)] + [value_lit[v] for v in values])
        if len(used) > 1:
            key = ("unify", str(feature))
            self.group(key, "unify", feature=feature)
            lits = [value_lit[v] for v in used]
            encoding = EncType.pairwise if len(lits) <= PAIRWISE_MAX else EncType.seqcounter
            for clause in CardEnc.atmost(lits, 1, vpool=self.pool, encoding=encoding).clauses:
                self.formula.add(key, clause)
