"""The part of the index the ``sat`` strategy has looked at, grown on demand.

Every requirement starts out with the newest release in its range; older releases of a package
are read only when the optimiser asks for them (see :mod:`varsolve.strategies.sat`), so a
resolution over a real index does not fetch the metadata of every release ever published.

The universe only grows, and it records what grew since the encoding last looked
(:meth:`Universe.take_changes`), so that each round encodes only the new part. What it keeps is
bounded by what it has read: per package its releases and which were read, per requirement its
range as intervals of release positions (per distinct requirement text, not per requirement
and release).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property, reduce

from packaging.ranges import VersionRange
from packaging.utils import NormalizedName

from ..candidates import Candidate, CandidateFinder, Dependency, UnusableCandidate
from ..repository import Release

# (name, text or specifiers, extras): what a Dependency's equality means, cheaply hashed.
DependencyKey = tuple[NormalizedName, str | tuple[str, ...], frozenset[str]]
# A constraint group of the encoding: its kind, then strings (see Requirement.group).
GroupKey = tuple[str, ...]
# Release positions of one package as half-open intervals [start, stop), newest first.
Intervals = tuple[tuple[int, int], ...]


def dependency_key(dep: Dependency) -> DependencyKey:
    """A cheap key for ``dep`` (hashing its SpecifierSets canonicalises every version)."""
    return (dep.name, dep.text, dep.extras) if dep.text else (dep.name, tuple(map(str, dep.specifiers)), dep.extras)


def _range_key(dep: Dependency) -> tuple[NormalizedName, tuple[str, ...]]:
    """What a requirement's range depends on: its package and specifiers (not extras or markers)."""
    return (dep.name, tuple(map(str, dep.specifiers)))


@dataclass(frozen=True, eq=False)
class Requirement:
    """One edge of the dependency graph: ``dep`` as required by the root (``parent`` None) or by
    the candidate ``parent``, through its ``extra`` (None: a base dependency)."""

    dep: Dependency
    parent: Candidate | None = None
    extra: str | None = None

    @cached_property
    def key(self) -> tuple[DependencyKey, int | None, str | None]:
        return (dependency_key(self.dep), id(self.parent) if self.parent is not None else None, self.extra)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Requirement) and self.key == other.key and self.parent is other.parent

    def __hash__(self) -> int:
        return hash(self.key)

    @cached_property
    def group(self) -> GroupKey:
        """Constraint group for explanations: the root's requirement, or one dependency of one
        release (through one extra), shared by the release's candidates that have it."""
        if self.parent is None:
            return ("root", self.dep.text or self.dep.name)
        p = self.parent
        return ("dep", p.name, str(p.version), self.extra or "", self.dep.text or self.dep.name)


@dataclass
class PackageState:
    name: NormalizedName
    releases: list[Release]  # the finder's order (newest first): the project page, read once
    read: list[bool] = field(default_factory=list)  # per position: materialised
    count: int = 0  # releases read

    def __post_init__(self) -> None:
        self.index = {r.version: i for i, r in enumerate(self.releases)}
        self.read = [False] * len(self.releases)

    def read_positions(self) -> list[int]:
        return [i for i, done in enumerate(self.read) if done]

    def gaps(self, start: int = 0, stop: int | None = None) -> list[Gap]:
        """Runs of consecutive releases not read yet within positions [start, stop), newest first."""
        stop = len(self.releases) if stop is None else stop
        out: list[Gap] = []
        run = -1
        for i in range(start, stop):
            if self.read[i]:
                if run >= 0:
                    out.append(Gap(self, run, i))
                run = -1
            elif run < 0:
                run = i
        if run >= 0:
            out.append(Gap(self, run, stop))
        return out


@dataclass(frozen=True, eq=False)
class Gap:
    """Releases of one package not read yet, between two that were (or the ends): what one
    boundary literal stands for. ``index`` (= ``start``) is the version index of the newest: a
    lower bound on the cost of every candidate in the gap."""

    state: PackageState
    start: int
    stop: int

    @property
    def name(self) -> NormalizedName:
        return self.state.name

    @property
    def index(self) -> int:
        return self.start

    @property
    def releases(self) -> list[Release]:
        return self.state.releases[self.start : self.stop]

    @cached_property
    def key(self) -> tuple[str, str, str, str]:
        releases = self.state.releases
        return ("o", self.name, str(releases[self.start].version), str(releases[self.stop - 1].version))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Gap) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def dependency_range(dep: Dependency) -> VersionRange:
    """The versions ``dep`` admits (its alternatives united), pre-releases included: the
    pre-release and yanked policies are clauses of the encoding (``CandidateFinder.admissible``)."""
    return reduce(VersionRange.union, (spec.to_range() for spec in dep.specifiers))


def touches(intervals: Intervals, start: int, stop: int) -> bool:
    """Whether some position in [start, stop) is in ``intervals``."""
    return any(a < stop and start < b for a, b in intervals)


def positions(intervals: Intervals) -> Iterator[int]:
    for a, b in intervals:
        yield from range(a, b)


@dataclass
class Changes:
    """What the universe gained since the encoding last looked (:meth:`Universe.take_changes`)."""

    packages: list[NormalizedName] = field(default_factory=list)  # first seen
    releases: list[tuple[NormalizedName, int]] = field(default_factory=list)  # read: (package, position)
    requirements: list[Requirement] = field(default_factory=list)
    rejected: list[Candidate] = field(default_factory=list)
    extras: list[tuple[NormalizedName, str]] = field(default_factory=list)  # newly requested extras

    def __bool__(self) -> bool:
        return bool(self.packages or self.releases or self.requirements or self.rejected or self.extras)


class Universe:
    """Packages, materialised releases and requirements seen so far."""

    def __init__(self, finder: CandidateFinder, lazy: bool = True, min_widening: int = 1) -> None:
        self.finder = finder
        self.lazy = lazy
        self.min_widening = min_widening
        self.packages: dict[NormalizedName, PackageState] = {}
        self.requirements: list[Requirement] = []
        self._seen_requirements: set[Requirement] = set()
        self.by_target: dict[NormalizedName, list[Requirement]] = {}
        self.extras: dict[NormalizedName, list[str]] = {}  # extras requested of each package
        self._ranges: dict[tuple[NormalizedName, tuple[str, ...]], VersionRange] = {}
        self._intervals: dict[tuple[NormalizedName, tuple[str, ...]], Intervals] = {}
        self._queue: deque[Requirement] = deque()
        # Candidates whose dependencies are not read yet because that builds an sdist: encoded
        # without them (a relaxation, like an unread release), read once an optimum chooses one.
        self.unread: set[Candidate] = set()
        # Candidates whose dependencies turned out unreadable (a failed build, malformed
        # metadata), with the reason; the encoding forbids them.
        self.rejected: dict[Candidate, str] = {}
        self.rejected_count: dict[NormalizedName, int] = {}
        self.changes = Changes()
        self.releases_read = 0

    def take_changes(self) -> Changes:
        changes, self.changes = self.changes, Changes()
        return changes

    # -- growing ----------------------------------------------------------------------------
    def add_roots(self, deps: Iterable[Dependency]) -> None:
        for dep in deps:
            self._require(Requirement(dep))
        self._drain()

    def widen(self, gap: Gap, preferred: list[Release]) -> list[Release]:
        """Read more releases of ``gap``: ``preferred`` first (newest first), then its newest;
        twice as many as the package has so far (at least ``min_widening``), so that a package
        needs O(log n) widenings."""
        state = self.packages[gap.name]
        chosen = self._widening(state, gap, preferred, state.count)
        self._prefetch([(state, i) for i in chosen])
        for i in chosen:
            self._materialise(state, i)
        self._drain()
        return [state.releases[i] for i in chosen]

    def prefetch_widenings(self, widenings: Iterable[tuple[Gap, list[Release]]]) -> None:
        """The source may fetch what :meth:`widen` will read for each of ``widenings`` (called
        in that order next), all at once."""
        planned: list[tuple[PackageState, int]] = []
        added: dict[NormalizedName, int] = {}
        for gap, preferred in widenings:
            state = self.packages[gap.name]
            chosen = self._widening(state, gap, preferred, state.count + added.get(gap.name, 0))
            added[gap.name] = added.get(gap.name, 0) + len(chosen)
            planned.extend((state, i) for i in chosen)
        self._prefetch(planned)

    def _widening(self, state: PackageState, gap: Gap, preferred: list[Release], count: int) -> list[int]:
        """What :meth:`widen` reads: ``count`` releases (at least ``min_widening``), not
        counting those the target cannot install (no candidate: reading them costs no metadata)
        nor pre-releases (the policy admits them rarely): each of those would otherwise cost a
        round. When the requirements that apply admit only some of the gap (``preferred`` is
        fewer than its releases: torch's ``sympy==1.13.3``), only those, while any is left to
        read: the others would be read for a choice no requirement allows yet (and, on an
        index, cost what their metadata costs)."""
        budget = max(self.min_widening, count)
        first = [state.index[r.version] for r in preferred]
        rest = range(gap.start, gap.stop)
        chosen = self._first_unread(state, first if len(first) < len(rest) else [*first, *rest], budget)
        return chosen or self._first_unread(state, rest, budget)

    def _first_unread(self, state: PackageState, order: Iterable[int], budget: int) -> list[int]:
        chosen: list[int] = []
        counted = 0
        for i in order:
            if counted == budget:
                break
            if not state.read[i] and i not in chosen and not self.excluded(state, i):
                chosen.append(i)
                release = state.releases[i]
                if not release.version.is_prerelease and self.finder.release_candidates(release):
                    counted += 1
        return chosen

    def read_everything(self) -> None:
        """Stop being lazy: read every release of every package met, and of those met later."""
        self.lazy = False
        states = list(self.packages.values())
        self._prefetch([(state, i) for state in states for i in range(len(state.releases)) if not state.read[i]])
        for state in states:
            for i in range(len(state.releases)):
                self._materialise(state, i)
        self._drain()

    def unread_releases(self) -> int:
        """Releases on the project pages of the packages met that are not read yet."""
        return sum(len(s.releases) - s.count for s in self.packages.values())

    def _require(self, req: Requirement) -> None:
        if req in self._seen_requirements:
            return
        self._seen_requirements.add(req)
        self.requirements.append(req)
        self.changes.requirements.append(req)
        name = req.dep.name
        state = self._package(name)
        self.by_target.setdefault(name, []).append(req)
        for extra in sorted(req.dep.extras):
            if extra not in self.extras.setdefault(name, []):
                self.extras[name].append(extra)
                self.changes.extras.append((name, extra))
                for i in state.read_positions():
                    for cand in self.finder.release_candidates(state.releases[i]):
                        self._add_extra_requirements(cand, extra)
        self._queue.append(req)

    def _drain(self) -> None:
        # In waves: the requirements queued so far, then those their releases add (the same
        # order as one at a time), so that a wave's metadata is fetched in parallel first.
        while self._queue:
            wave = list(self._queue)
            self._queue.clear()
            self._prefetch(self._planned(wave))
            for req in wave:
                state = self.packages[req.dep.name]
                for i in self._for_requirement(state, req):
                    self._materialise(state, i)

    def _planned(self, wave: list[Requirement]) -> list[tuple[PackageState, int]]:
        """The releases :meth:`_drain` will read for ``wave`` (before what they require)."""
        planned: list[tuple[PackageState, int]] = []
        seen: set[tuple[NormalizedName, int]] = set()
        for req in wave:
            state = self.packages[req.dep.name]
            for i in self._for_requirement(state, req, seen):
                if (state.name, i) not in seen:
                    seen.add((state.name, i))
                    planned.append((state, i))
        return planned

    def _for_requirement(
        self, state: PackageState, req: Requirement, planned: set[tuple[NormalizedName, int]] | None = None
    ) -> list[int]:
        """The releases of ``state`` to read for ``req``: every one not read yet when the
        strategy is not lazy, else :meth:`_to_read`."""
        if not self.lazy:
            return [i for i in range(len(state.releases)) if not state.read[i]]
        return self._to_read(state, self.intervals(req.dep), planned)

    def _prefetch(self, releases: list[tuple[PackageState, int]]) -> None:
        """Let the source fetch the metadata of the candidates of ``releases`` in parallel
        (reading them one by one would wait for each in turn)."""
        if len(releases) < 2:
            return
        self.finder.prefetch(c for state, i in releases for c in self.finder.release_candidates(state.releases[i]))

    def excluded(self, state: PackageState, i: int) -> bool:
        """Release ``i`` is a pre-release the policy excludes whatever is read
        (:meth:`CandidateFinder.prerelease_excluded`): never worth reading, and no stand-in for
        it in a gap."""
        return self.finder.prerelease_excluded(state.name, state.releases[i].version)

    def _to_read(
        self, state: PackageState, inside: Intervals, planned: set[tuple[NormalizedName, int]] | None = None
    ) -> list[int]:
        """What to read for a requirement whose range is ``inside``: nothing when a release read
        (or ``planned``) there has a candidate; else, newest first, every release up to the
        first final one with a candidate for the target. Those on the way are read with it:
        releases without a candidate cost no metadata, and pre-releases newer than it are
        what an optimum of the relaxation leans on first (a run of unread releases newer than
        every one read costs nothing); read alone later, each would cost a round. The
        pre-release policy decides per candidate; when no final release has a candidate, only
        the newest pre-release with one is read (a project of pre-releases only may have
        hundreds)."""
        found: list[tuple[int, bool]] = []
        for i in positions(inside):
            if self.excluded(state, i):
                continue
            usable = bool(self.finder.release_candidates(state.releases[i]))
            if state.read[i] or (planned is not None and (state.name, i) in planned):
                if usable:
                    return []
                continue
            found.append((i, usable))
            if usable and not state.releases[i].version.is_prerelease:
                return [i for i, _ in found]
        first = next((i for i, usable in found if usable), None)
        return [i for i, usable in found if not usable or i == first]

    def _package(self, name: NormalizedName) -> PackageState:
        if name not in self.packages:
            self.packages[name] = PackageState(name, self.finder.releases(name))
            self.changes.packages.append(name)
        return self.packages[name]

    def _materialise(self, state: PackageState, i: int) -> None:
        if state.read[i]:
            return
        state.read[i] = True
        state.count += 1
        self.releases_read += 1
        self.changes.releases.append((state.name, i))
        cands = self.finder.release_candidates(state.releases[i])
        for cand in cands:
            if not self.finder.needs_build(cand):
                self._read_candidate(cand)
            elif any(c.label is not None for c in cands):
                # As in pip and uv, an sdist is not built while a wheel of its release can be
                # installed. Said now: unread, it would have no dependencies, an optimum would
                # lean on it, and a round would go to finding this out.
                self._reject(cand, f"{cand.describe()} is not built: a wheel of the release can be installed")
            else:
                self.unread.add(cand)

    def read_candidates(self, cands: Iterable[Candidate]) -> None:
        """Read the dependencies of ``cands`` (unread ones an optimum chose: builds happen here)."""
        for cand in cands:
            if cand in self.unread:  # an sdist of a release without wheels (see _materialise)
                self.unread.discard(cand)
                self._read_candidate(cand)
        self._drain()

    def _read_candidate(self, cand: Candidate) -> None:
        try:
            for dep in self.finder.dependencies(cand):
                self._require(Requirement(dep, cand))
            for extra in self.extras.get(cand.name, []):
                self._add_extra_requirements(cand, extra)
        except UnusableCandidate as exc:
            self._reject(cand, exc.reason)

    def _reject(self, cand: Candidate, reason: str) -> None:
        self.rejected[cand] = reason
        self.rejected_count[cand.name] = self.rejected_count.get(cand.name, 0) + 1
        self.changes.rejected.append(cand)

    def _add_extra_requirements(self, cand: Candidate, extra: str) -> None:
        if cand in self.unread or cand in self.rejected:
            return  # read with the rest of its dependencies, if ever
        base = {d.text for d in self.finder.dependencies(cand)}
        for dep in self.finder.dependencies(cand, frozenset([extra])):
            if dep.text not in base:
                self._require(Requirement(dep, cand, extra))

    # -- queries ----------------------------------------------------------------------------
    def materialised_releases(self, name: NormalizedName) -> list[Release]:
        state = self.packages[name]
        return [state.releases[i] for i in state.read_positions()]

    def candidates(self, name: NormalizedName) -> list[Candidate]:
        """Materialised candidates of ``name``: newest first, then PEP 825 order."""
        return [c for r in self.materialised_releases(name) for c in self.finder.release_candidates(r)]

    def range_of(self, dep: Dependency) -> VersionRange:
        key = _range_key(dep)
        if key not in self._ranges:
            self._ranges[key] = dependency_range(dep)
        return self._ranges[key]

    def intervals(self, dep: Dependency) -> Intervals:
        """The positions of ``dep``'s package's releases within its range, as intervals: one
        computation per distinct range, whatever number of requirements share it."""
        key = _range_key(dep)
        found = self._intervals.get(key)
        if found is None:
            state = self._package(dep.name)
            inside = self.range_of(dep).filter(enumerate(state.releases), prereleases=True, key=lambda t: t[1].version)
            runs: list[tuple[int, int]] = []
            for i, _ in inside:
                if runs and runs[-1][1] == i:
                    runs[-1] = (runs[-1][0], i + 1)
                else:
                    runs.append((i, i + 1))
            found = self._intervals[key] = tuple(runs)
        return found

    def matching_candidates(self, dep: Dependency) -> list[Candidate]:
        """Every read candidate within ``dep``'s range, newest first."""
        state = self.packages[dep.name]
        return [
            c for i in positions(self.intervals(dep)) if state.read[i] for c in self.finder.release_candidates(state.releases[i])
        ]

    def hidden_gaps(self, dep: Dependency) -> list[Gap]:
        """The gaps of ``dep``'s package with a release in ``dep``'s range: their boundary
        literals may stand in for it."""
        inside = self.intervals(dep)
        return [g for g in self.packages[dep.name].gaps() if touches(inside, g.start, g.stop)]

    def depths(self) -> dict[NormalizedName, int]:
        """The static depth of every package met: the fewest requirements from the root to it
        through any candidate read (the root's requirements: 1)."""
        children: dict[NormalizedName, set[NormalizedName]] = {}
        depth: dict[NormalizedName, int] = {}
        for req in self.requirements:
            if req.parent is None:
                depth[req.dep.name] = 1
            elif req.parent not in self.rejected:
                children.setdefault(req.parent.name, set()).add(req.dep.name)
        queue = deque(sorted(depth))
        while queue:
            name = queue.popleft()
            for child in sorted(children.get(name, ())):
                if child not in depth:
                    depth[child] = depth[name] + 1
                    queue.append(child)
        return depth
