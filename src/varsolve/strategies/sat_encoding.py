"""CNF encoding of the materialised part of a problem for the ``sat`` strategy, built
incrementally: each round adds the clauses of what the universe gained since the last one.

Variables (all from one :class:`pysat.formula.IDPool`, so that cardinality encodings, objective
ladders and explanation selectors never collide):

* ``x`` per candidate (package, version, variant label | non-variant wheel | sdist);
* ``y`` per release read: "some candidate of this release" (``y ↔ OR x``);
* ``o`` per run of releases not read yet ("gap"): "some release of this gap", a stand-in whose
  cost is a lower bound of theirs and which has no dependencies (a relaxation, see sat.py);
* ``e`` per requested extra of a package; ``u`` per value of a unified feature;
* ``p`` (package present), ``g`` (version index ladder) and ``r`` (variant rank ladder) for the
  objective.

**Monotone.** Reading releases only ever adds clauses. A package's releases form a tree: at the
top, the releases read when the package was met and the gaps between them; when releases of a
gap are read, the gap gets children (the releases read and the smaller gaps left), each child
implies the gap and the gap implies one of its children. A requirement is a clause over the ``y``
of the releases in its range and the ``o`` of the gaps that touch it; when such a gap gets
children the clause is added again over the children (the old one, implied by the new, stays).
So nothing is ever re-encoded, and a round costs what it added.

**Closed-world pieces** depend on every requirement known on a package (pip's yanked and
pre-release policies, "an extra is requested only by a requirement that applies", and the
optimiser-only support and dominance clauses below): they are kept per package, rebuilt when its
requirements change and handed to each round's optimiser as they are (never accumulated).

Hard clauses carry the key of their constraint group (None: a fact about a candidate), which
the explanation of an unsatisfiable problem minimises over.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Protocol

from packaging.utils import NormalizedName
from pysat.card import CardEnc, EncType

from ..candidates import Candidate
from ..variants.properties import VariantFeature
from .sat_universe import Gap, GroupKey, PackageState, Requirement, Universe, dependency_key, positions, touches

PAIRWISE_MAX = 6  # at-most-one over this many literals or fewer: pairwise, no auxiliaries

Clause = tuple[GroupKey | None, list[int]]


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
    """Hard clauses with their groups: what the explanation's minimal core is computed over."""

    hard: list[Clause] = field(default_factory=list)
    groups: dict[GroupKey, Group] = field(default_factory=dict)


@dataclass
class _Piece:
    """A closed-world piece of one package: its inputs' state, clauses and groups."""

    state: Hashable
    clauses: list[Clause] = field(default_factory=list)
    groups: dict[GroupKey, Group] = field(default_factory=dict)
    explain: bool = True  # part of the formula explanations read (support, dominance: not)


@dataclass
class _Package:
    """What the encoding has of one package: the objective's literals and the current leaves."""

    present: int
    versions: list[int] = field(default_factory=list)  # g_1 ... g_K
    ranks: list[int] = field(default_factory=list)  # r_1 ... r_K
    leaves: dict[tuple[int, int], int] = field(default_factory=dict)  # (start, stop) -> o literal
    candidates: list[Candidate] = field(default_factory=list)  # read so far (for explanations)


class Encoder:
    """The formula of a universe, kept up to date by :meth:`update` (call once per round)."""

    def __init__(
        self,
        universe: Universe,
        pool: VariablePool,
        unify: tuple[VariantFeature, ...],
        roots: AbstractSet[str],
        *,
        support: bool = True,
        dominance: bool = True,
    ) -> None:
        self.universe = universe
        self.finder = universe.finder
        self.pool = pool
        self.unify = unify
        self.roots = roots
        # Both rest on "a requirement only ever constrains": not so under pip's policies, where a
        # requirement that applies can make a yanked release or a pre-release usable.
        self.support = support and self._requirements_only_constrain()
        self.dominance = dominance and self._requirements_only_constrain()
        self.hard: list[Clause] = []  # monotone: only ever appended to
        self.groups: dict[GroupKey, Group] = {}
        self.candidates: dict[int, Candidate] = {}  # x literal -> candidate
        self.excluded: set[Candidate] = set()  # by a policy, whatever else applies
        self.conditions: dict[Requirement, list[int]] = {}
        self.boundary: dict[int, Gap] = {}  # o literal of a current leaf -> its gap
        self.packages: dict[NormalizedName, _Package] = {}
        self._requirements_on: dict[NormalizedName, list[Requirement]] = {}  # encoded so far
        self._values: dict[str, list[str]] = {}  # unified feature -> values with a literal
        self._actives: set[Requirement] = set()
        self._pieces: dict[tuple[str, str], _Piece] = {}
        self._costs: dict[NormalizedName, list[int]] = {}
        # Per package (or set of packages), "something not read yet of another package is
        # chosen": a gap or a candidate whose dependencies are unknown. Closed-world clauses that
        # a release not read yet could satisfy (a pin from its dependencies) hold unless it is
        # true; what it means is each round's own (:meth:`_round_clauses`).
        self._escapes: dict[frozenset[NormalizedName], int] = {}
        # Sets of packages an optimum installed that nothing installed from the root required
        # (with pip's policies, to pin a yanked release): each needs a requirement from outside.
        self.unfounded: list[frozenset[NormalizedName]] = []
        self.rounds = 0

    def _requirements_only_constrain(self) -> bool:
        """Support clauses (a package is installed only if a requirement that applies asks for
        it) and dominance (a file with fewer dependencies) keep every optimum as long as a
        requirement only ever rules candidates out, which pip's yanked and pre-release policies
        (a pin or a pre-release named by *any* requirement that applies) do not promise."""
        opts = self.finder.options
        return opts.yanked not in ("pip", "pinned") and not (opts.prerelease_policy == "pip" and not opts.prereleases)

    # -- literals ---------------------------------------------------------------------------
    def x(self, cand: Candidate) -> int:
        # Candidates are unique objects of the finder's cache: identity is a cheap, exact key.
        return self.pool.id(("x", cand))

    def y(self, name: NormalizedName, position: int) -> int:
        return self.pool.id(("y", name, position))

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
        if req not in self._actives:
            self._actives.add(req)
            for neg in self.condition(req):
                self.hard.append((None, [-lit, -neg]))
        return lit

    def actives(self, reqs: Sequence[Requirement]) -> list[int]:
        """:meth:`active` of each of ``reqs``, none of which is the root's."""
        lits: list[int] = []
        for req in reqs:
            lit = self.active(req)
            assert lit is not None, "the root's requirements are left out by the caller"
            lits.append(lit)
        return lits

    def _group(
        self,
        groups: dict[GroupKey, Group],
        key: GroupKey,
        kind: str,
        *,
        package: NormalizedName | None = None,
        feature: VariantFeature | None = None,
        candidates: list[Candidate] | None = None,
    ) -> Group:
        if key not in groups:
            groups[key] = Group(kind, key, package=package, feature=feature, candidates=[] if candidates is None else candidates)
        return groups[key]

    def _at_most_one(self, group: GroupKey | None, lits: list[int], out: list[Clause]) -> None:
        encoding = EncType.pairwise if len(lits) <= PAIRWISE_MAX else EncType.seqcounter
        for clause in CardEnc.atmost(lits, 1, vpool=self.pool, encoding=encoding).clauses:
            out.append((group, clause))

    # -- the round --------------------------------------------------------------------------
    def update(self) -> None:
        """Encode what the universe gained since the last call."""
        self.rounds += 1
        u = self.universe
        changes = u.take_changes()
        fresh: dict[NormalizedName, list[int]] = {name: [] for name in changes.packages}
        for name, position in changes.releases:
            fresh.setdefault(name, []).append(position)
        refined: dict[NormalizedName, list[tuple[int, int]]] = {}
        for name in sorted(fresh):
            state = u.packages[name]
            if name not in self.packages:
                self._cover(state, None, 0, len(state.releases))
            else:
                spans = self._refine(state, fresh[name])
                if spans:
                    refined[name] = spans
        for cand in changes.rejected:
            key: GroupKey = ("rejected", cand.name, str(cand.version), cand.label or "", u.rejected[cand])
            self._group(self.groups, key, "rejected", package=cand.name, candidates=[cand])
            self.hard.append((key, [-self.x(cand)]))
            self.excluded.add(cand)
        # Requirements met before this round whose clause named a gap that got children.
        for name, spans in sorted(refined.items()):
            for req in self._requirements_on.get(name, []):
                inside = u.intervals(req.dep)
                if any(touches(inside, a, b) for a, b in spans):
                    self.hard.append((req.group, self.conditions[req] + self._cover_literals(req)))
        for req in changes.requirements:
            self._requirement(req)
        self._closed_world()

    def _structure(self, state: PackageState, start: int, stop: int) -> Iterator[tuple[int, Gap | None]]:
        """Positions [start, stop) as nodes: (position, None) per release read, (start, gap)
        per run not read."""
        gaps = {g.start: g for g in state.gaps(start, stop)}
        i = start
        while i < stop:
            if i in gaps:
                yield i, gaps[i]
                i = gaps[i].stop
            else:
                yield i, None
                i += 1

    def _cover(self, state: PackageState, parent: int | None, start: int, stop: int) -> None:
        """Literals for the releases and gaps of [start, stop): at most one of them; with a
        ``parent`` gap, each implies it and it implies one of them."""
        name = state.name
        pkg = self.packages.get(name)
        lits: list[int] = []
        for position, gap in self._structure(state, start, stop):
            if pkg is None:
                pkg = self.packages[name] = _Package(self.pool.id(("p", name)))
            if gap is None:
                lit = self.y(name, position)
                self._release(state, position, lit, pkg)
            else:
                lit = self.pool.id(gap.key)
                self.boundary[lit] = gap
                pkg.leaves[(gap.start, gap.stop)] = lit
                # The gap stands for what the policy can admit: its cost is the least of such
                # releases', and a gap of excluded pre-releases only stands for nothing.
                admissible = [i for i in range(gap.start, gap.stop) if not self.universe.excluded(state, i)]
                if not admissible:
                    self.hard.append((None, [-lit]))
                else:
                    position = min(admissible, key=self._cost_of(state))
            lits.append(lit)
            self.hard.append((None, [-lit, pkg.present]))
            cost = self._cost_of(state)(position)
            if cost:
                self.hard.append((None, [-lit, self._step(name, pkg.versions, "g", cost)]))
        if parent is not None:
            self.hard.extend((None, [-lit, parent]) for lit in lits)
            self.hard.append((None, [-parent, *lits]))
        if len(lits) > 1 and pkg is not None:
            self._at_most_one(self._one(name, pkg), lits, self.hard)

    def _cost_of(self, state: PackageState) -> Callable[[int], int]:
        """The version cost of each position of ``state``: the objective's ruler
        (:meth:`CandidateFinder.version_costs`): its index in the order the policy prefers
        releases, newest first (uv's pre-release policy puts every final release before the
        pre-releases, as uv tries them), not counting pre-releases the policy excludes."""
        costs = self._costs.get(state.name)
        if costs is None:
            ruler = self.finder.version_costs(state.name)
            costs = self._costs[state.name] = [ruler[release.version] for release in state.releases]
        return costs.__getitem__

    def _one(self, name: NormalizedName, pkg: _Package) -> GroupKey:
        """The group "one candidate per package" of ``name``."""
        key: GroupKey = ("one", name)
        self._group(self.groups, key, "one", package=name, candidates=pkg.candidates)
        return key

    def _refine(self, state: PackageState, fresh: list[int]) -> list[tuple[int, int]]:
        """Give children to the leaves of ``state`` in which releases were read."""
        pkg = self.packages[state.name]
        spans = []
        for span, lit in sorted(pkg.leaves.items()):
            if any(span[0] <= i < span[1] for i in fresh):
                del pkg.leaves[span]
                del self.boundary[lit]
                self._cover(state, lit, *span)
                spans.append(span)
        return spans

    def _step(self, name: NormalizedName, steps: list[int], kind: str, k: int) -> int:
        """The literal "cost at least k" of a ladder, extending it (``k`` >= 1)."""
        while len(steps) < k:
            lit = self.pool.id((kind, name, len(steps) + 1))
            if steps:
                self.hard.append((None, [-lit, steps[-1]]))
            steps.append(lit)
        return steps[k - 1]

    def _release(self, state: PackageState, position: int, y: int, pkg: _Package) -> None:
        """A release read: ``y`` is one of its candidates, at most one of them, their ranks,
        the unified values they declare, the policies that exclude one whatever else applies."""
        name = state.name
        finder = self.finder
        cands = finder.release_candidates(state.releases[position])
        xs = [self.x(c) for c in cands]
        self.hard.append((None, [-y, *xs]))
        pkg.candidates.extend(cands)
        for cand, x in zip(cands, xs, strict=True):
            self.candidates[x] = cand
            self.hard.append((None, [-x, y]))
            if cand.rank:
                self.hard.append((None, [-x, self._step(name, pkg.ranks, "r", cand.rank)]))
            for feature in self.unify:
                values = cand.feature_values(feature)
                if values is not None:
                    self.hard.append((None, [-x, *(self._value(feature, v) for v in values)]))
            if self._policy_excludes(cand):
                self.hard.append((None, [-x]))
                self.excluded.add(cand)
        if len(xs) > 1:
            self._at_most_one(self._one(name, pkg), xs, self.hard)

    def _policy_excludes(self, cand: Candidate) -> bool:
        """A yanked or pre-release candidate that no requirement can make usable."""
        finder = self.finder
        if cand.yanked and not finder.yanked_usable(cand, pinned=False) and not finder.yanked_usable(cand, pinned=True):
            return True
        return finder.prerelease_excluded(cand.name, cand.version)

    def _value(self, feature: VariantFeature, value: str) -> int:
        """The literal of ``feature`` taking ``value``: at most one per feature."""
        values = self._values.setdefault(str(feature), [])
        lit = self.pool.id(("u", str(feature), value))
        if value not in values:
            if values:
                key: GroupKey = ("unify", str(feature))
                self._group(self.groups, key, "unify", feature=feature)
                self.hard.extend((key, [-self.pool.id(("u", str(feature), v)), -lit]) for v in values)
            values.append(value)
        return lit

    def _cover_literals(self, req: Requirement) -> list[int]:
        """The ``y`` of the releases read in ``req``'s range and the ``o`` of the gaps touching it."""
        name = req.dep.name
        state = self.universe.packages[name]
        inside = self.universe.intervals(req.dep)
        lits = [self.y(name, i) for i in positions(inside) if state.read[i]]
        pkg = self.packages.get(name)
        if pkg is not None:
            lits.extend(lit for (a, b), lit in sorted(pkg.leaves.items()) if touches(inside, a, b))
        return lits

    def _requirement(self, req: Requirement) -> None:
        key = req.group
        self._group(self.groups, key, key[0]).requirements.append(req)
        cond = self.condition(req)
        self.conditions[req] = cond
        self._requirements_on.setdefault(req.dep.name, []).append(req)
        self.hard.append((key, cond + self._cover_literals(req)))
        for extra in sorted(req.dep.extras):
            self.hard.append((key, cond + [self.e(req.dep.name, extra)]))

    # -- closed-world pieces ------------------------------------------------------------------
    def _closed_world(self) -> None:
        u = self.universe
        for name in sorted(u.packages):
            state = u.packages[name]
            inputs = (state.count, len(u.by_target.get(name, [])), u.rejected_count.get(name, 0), len(u.extras.get(name, [])))
            self._piece("admissible", name, inputs, self._admissible)
            if name in u.extras:
                self._piece("extras", name, inputs, self._extras)
            if self.support and name in self.packages and name not in self.roots:
                self._piece("support", name, (*inputs, len(self.packages[name].leaves)), self._support)
            if self.dominance and state.count:
                self._piece("dominance", name, inputs, self._dominance)

    def _piece(
        self, kind: str, name: NormalizedName, inputs: Hashable, build: Callable[[NormalizedName, _Piece], None]
    ) -> None:
        """The piece ``kind`` of ``name``, rebuilt when its ``inputs`` changed."""
        piece = self._pieces.get((kind, name))
        if piece is None or piece.state != inputs:
            piece = self._pieces[(kind, name)] = _Piece(inputs, explain=kind not in ("support", "dominance"))
            build(name, piece)

    def _when_some_applies(self, piece: _Piece, key: GroupKey, cand: Candidate, reqs: list[Requirement]) -> None:
        """``cand`` only if one of ``reqs`` applies (nothing to add when the root is among them)."""
        if any(r.parent is None for r in reqs):
            return
        self._group(piece.groups, key, key[0], package=cand.name, candidates=[cand])
        piece.clauses.append((key, [-self.x(cand)] + self.actives(reqs) + [self._escape(frozenset([cand.name]))]))

    def _admissible(self, name: NormalizedName, piece: _Piece) -> None:
        """``CandidateFinder.admissible`` as clauses where it depends on the requirements that
        apply (the rest is :meth:`_policy_excludes`):

        * yanked (``pip``): usable only when an applying requirement pins it, and for every
          version that is not yanked, an applying requirement excludes it;
        * pre-release (``pip``, PEP 440 on the merged requirements): one of them names a
          pre-release, or no final release satisfies all of them, i.e. for every final version
          one of them excludes it.
        """
        finder = self.finder
        opts = finder.options
        reqs = self.universe.by_target.get(name, [])
        for cand in self.universe.candidates(name):
            if cand in self.universe.rejected or cand in self.excluded:
                continue
            if cand.yanked and not finder.yanked_usable(cand, pinned=False):
                pins = [r for r in reqs if r.dep.pins and r.dep.contains(cand.version)]
                self._when_some_applies(piece, ("yanked", name, str(cand.version)), cand, pins)
                if opts.yanked in ("pip", "pinned"):
                    for version in sorted({c.version for c in finder.candidates(name) if not c.yanked}):
                        excluding = [r for r in reqs if not r.dep.contains(version)]
                        self._when_some_applies(piece, ("yanked", name, str(cand.version), str(version)), cand, excluding)
            if not cand.version.is_prerelease or opts.prereleases or opts.prerelease_policy != "pip":
                continue
            explicit = [r for r in reqs if r.dep.explicit_prerelease]
            finals = sorted({c.version for c in finder.candidates(name) if not c.version.is_prerelease})
            for version in finals:
                excluding = [r for r in reqs if not r.dep.contains(version)]
                self._when_some_applies(piece, ("prerelease", name, str(cand.version), str(version)), cand, explicit + excluding)

    def _extras(self, name: NormalizedName, piece: _Piece) -> None:
        """A requested extra only where some applying requirement asks for it, so that its
        dependencies (and their pins, which the yanked policy reads) are not imagined."""
        for extra in self.universe.extras[name]:
            requesters = [r for r in self.universe.by_target.get(name, []) if extra in r.dep.extras]
            if any(r.parent is None for r in requesters):
                continue
            piece.clauses.append((None, [-self.e(name, extra)] + self.actives(requesters)))

    def _support(self, name: NormalizedName, piece: _Piece) -> None:
        """Optimiser-only: a package, a release, a gap is chosen only if a requirement that
        applies asks for it. Every optimum keeps them once what nothing requires is dropped
        (which lowers the objective), and with them an optimiser learns at once that leaving a
        dependency out means changing what requires it."""
        u = self.universe
        reqs = u.by_target.get(name, [])
        pkg = self.packages[name]
        piece.clauses.append((None, [-pkg.present, *self.actives(reqs)]))
        state = u.packages[name]
        covering: dict[int, list[int]] = {}  # node literal -> actives of the requirements in range
        for req in reqs:
            inside = u.intervals(req.dep)
            lit = self.active(req)
            assert lit is not None
            for i in positions(inside):
                if state.read[i]:
                    covering.setdefault(self.y(name, i), []).append(lit)
            for (a, b), leaf in pkg.leaves.items():
                if touches(inside, a, b):
                    covering.setdefault(leaf, []).append(lit)
        for i in state.read_positions():
            node = self.y(name, i)
            piece.clauses.append((None, [-node, *covering.get(node, [])]))
        for leaf in pkg.leaves.values():
            piece.clauses.append((None, [-leaf, *covering.get(leaf, [])]))

    def _dominance(self, name: NormalizedName, piece: _Piece) -> None:
        """Optimiser-only: a file is never chosen where a better-ranked file of the same release
        does everything it does: it is usable (read, not rejected, not yanked unless this one is
        too), needs no dependency this one does not (with the extras requested of the package),
        and declares, for each unified feature, nothing or a superset of this one's values.
        Swapping one for the other keeps a resolution valid and lowers its variant rank."""
        u = self.universe
        finder = self.finder
        extras = frozenset(u.extras.get(name, []))
        state = u.packages[name]

        def usable(cand: Candidate) -> bool:
            return cand not in u.unread and cand not in u.rejected and cand not in self.excluded

        for i in state.read_positions():
            cands = finder.release_candidates(state.releases[i])
            if len(cands) < 2:
                continue
            deps = {c: {dependency_key(d) for d in finder.dependencies(c, extras)} for c in cands if usable(c)}
            for cand in cands:
                if cand not in deps:
                    continue
                for better in cands:
                    if better.rank >= cand.rank or better not in deps or (better.yanked and not cand.yanked):
                        continue
                    if deps[better] <= deps[cand] and all(_covers(better, cand, f) for f in self.unify):
                        piece.clauses.append((None, [-self.x(cand)]))
                        break

    # -- what a round hands out ---------------------------------------------------------------
    def _round_clauses(self) -> list[Clause]:
        """This round's own facts: what "something not read yet is chosen" means now, and the
        requirement from outside that each unfounded set needs (with the requirements known now)."""
        out: list[Clause] = []
        for loop in self.unfounded:
            external = [
                r for name in sorted(loop) for r in self.universe.by_target.get(name, [])
                if r.parent is None or r.parent.name not in loop
            ]
            if any(r.parent is None for r in external):
                continue
            support = self.actives(external) + [self._escape(loop)]
            out.extend((None, [-self.packages[name].present, *support]) for name in sorted(loop) if name in self.packages)
        for names, escape in self._escapes.items():
            unread = [lit for lit, gap in self.boundary.items() if gap.name not in names]
            unread += [self.x(c) for c in self.universe.unread if c.name not in names]
            out.append((None, [-escape, *sorted(unread)]))
        return out

    def _escape(self, names: frozenset[NormalizedName]) -> int:
        """The literal "something not read yet of a package other than ``names`` is chosen"."""
        if names not in self._escapes:
            self._escapes[names] = self.pool.id(("escape", *sorted(names)))
        return self._escapes[names]

    def clauses(self) -> Iterator[list[int]]:
        """Every hard clause for the optimiser: the monotone ones, the current pieces and this
        round's own."""
        round_clauses = self._round_clauses()  # may add "active" literals' facts to the hard part
        for _, clause in self.hard:
            yield clause
        for piece in self._pieces.values():
            for _, clause in piece.clauses:
                yield clause
        for _, clause in round_clauses:
            yield clause

    def formula(self) -> Formula:
        """The clauses and groups an explanation is computed over (no optimiser-only pieces)."""
        round_clauses = self._round_clauses()
        hard = list(self.hard)
        groups = dict(self.groups)
        for piece in self._pieces.values():
            if piece.explain:
                hard.extend(piece.clauses)
                groups.update(piece.groups)
        hard.extend(round_clauses)
        return Formula(hard, groups)

    def soft(self) -> Iterable[tuple[NormalizedName, _Package]]:
        return sorted(self.packages.items())

    def chosen(self, model: AbstractSet[int]) -> list[Candidate]:
        return [c for lit, c in self.candidates.items() if lit in model]

    def applies(self, req: Requirement, model: AbstractSet[int]) -> bool:
        return all(-neg in model for neg in self.conditions[req])

    def core_view(self) -> CoreView:
        return CoreView(self)


def _covers(better: Candidate, cand: Candidate, feature: VariantFeature) -> bool:
    mine = better.feature_values(feature)
    if mine is None:
        return True
    theirs = cand.feature_values(feature)
    return theirs is not None and set(mine) >= set(theirs)


class _Matching(Mapping[Requirement, Sequence[Candidate]]):
    """Candidates read within each requirement's range, computed when asked."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder

    def __getitem__(self, req: Requirement) -> Sequence[Candidate]:
        if req not in self.encoder.conditions:
            raise KeyError(req)
        return self.encoder.universe.matching_candidates(req.dep)

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.encoder.conditions)

    def __len__(self) -> int:
        return len(self.encoder.conditions)


class CoreView:
    """What :func:`varsolve.explain.unsat.explain_core` reads of the encoding."""

    def __init__(self, encoder: Encoder) -> None:
        self.matching = _Matching(encoder)
        self.excluded: set[Candidate] = set(encoder.excluded)
        self.hidden: set[Requirement] = {r for r in encoder.conditions if encoder.universe.hidden_gaps(r.dep)}
