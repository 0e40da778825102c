"""The part of the index the ``sat`` strategy has looked at, grown on demand.

Every requirement starts out with the newest release in its range; older releases of a package
are read only when the optimiser asks for them (see :mod:`varsolve.strategies.sat`), so a
resolution over a real index does not fetch the metadata of every release ever published.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, reduce

from packaging.ranges import VersionRange
from packaging.utils import NormalizedName
from packaging.version import Version

from ..candidates import Candidate, CandidateFinder, Dependency, UnusableCandidate
from ..repository import Release

# (name, text or specifiers, extras): what a Dependency's equality means, cheaply hashed.
DependencyKey = tuple[NormalizedName, str | tuple[str, ...], frozenset[str]]
# A constraint group of the encoding: its kind, then strings (see Requirement.group).
GroupKey = tuple[str, ...]


def dependency_key(dep: Dependency) -> DependencyKey:
    """A cheap key for ``dep`` (hashing its SpecifierSets canonicalises every version)."""
    return (dep.name, dep.text, dep.extras) if dep.text else (dep.name, tuple(map(str, dep.specifiers)), dep.extras)


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
    releases: list[Release]  # newest first: the project page, read once
    materialised: set[Version] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.index = {r.version: i for i, r in enumerate(self.releases)}

    def unmaterialised(self) -> list[Release]:
        return [r for r in self.releases if r.version not in self.materialised]

    def gaps(self) -> list[Gap]:
        """Runs of consecutive releases not read yet, newest first."""
        out: list[Gap] = []
        run: list[Release] = []
        for index, release in enumerate(self.releases):
            if release.version in self.materialised:
                if run:
                    out.append(Gap(self.name, index - len(run), tuple(run)))
                run = []
            else:
                run.append(release)
        if run:
            out.append(Gap(self.name, len(self.releases) - len(run), tuple(run)))
        return out


@dataclass(frozen=True, eq=False)
class Gap:
    """Releases of one package not read yet, between two that were (or the ends): what one
    boundary literal stands for. ``index`` is the version index of the newest: a lower bound on
    the cost of every candidate in the gap."""

    name: NormalizedName
    index: int
    releases: tuple[Release, ...]

    @cached_property
    def key(self) -> tuple[str, str, str, str]:
        return ("o", self.name, str(self.releases[0].version), str(self.releases[-1].version))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Gap) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


def dependency_range(dep: Dependency) -> VersionRange:
    """The versions ``dep`` admits (its alternatives united), pre-releases included: the
    pre-release and yanked policies are clauses of the encoding (``CandidateFinder.admissible``)."""
    return reduce(VersionRange.union, (spec.to_range() for spec in dep.specifiers))


class Universe:
    """Packages, materialised releases and requirements seen so far."""

    def __init__(self, finder: CandidateFinder, lazy: bool = True) -> None:
        self.finder = finder
        self.lazy = lazy
        self.packages: dict[NormalizedName, PackageState] = {}
        self.requirements: list[Requirement] = []
        self._seen_requirements: set[Requirement] = set()
        self.by_target: dict[NormalizedName, list[Requirement]] = {}
        self.extras: dict[NormalizedName, list[str]] = {}  # extras requested of each package
        self._ranges: dict[DependencyKey, VersionRange] = {}
        self._matching: dict[tuple[DependencyKey, Version], list[Candidate]] = {}
        self._hidden: dict[tuple[DependencyKey, int], list[Gap]] = {}
        self._read: dict[tuple[NormalizedName, int], list[Release]] = {}
        self._queue: deque[Requirement] = deque()
        # Candidates whose dependencies are not read yet because that builds an sdist: encoded
        # without them (a relaxation, like an unread release), read once an optimum chooses one.
        self.unread: set[Candidate] = set()
        # Candidates whose dependencies turned out unreadable (a failed build, malformed
        # metadata), with the reason; the encoding forbids them.
        self.rejected: dict[Candidate, str] = {}
        self.rejected_count: dict[NormalizedName, int] = {}

    # -- growing ----------------------------------------------------------------------------
    def add_roots(self, deps: Iterable[Dependency]) -> None:
        for dep in deps:
            self._require(Requirement(dep))
        self._drain()

    def widen(self, gap: Gap, preferred: list[Release]) -> list[Release]:
        """Read more releases of ``gap``: ``preferred`` first (newest first), then its newest;
        twice as many as the package has so far, so that a package needs O(log n) widenings."""
        state = self.packages[gap.name]
        budget = max(1, len(state.materialised))
        chosen: list[Release] = []
        for release in [*preferred, *gap.releases]:
            if len(chosen) == budget:
                break
            if release.version not in state.materialised and release not in chosen:
                chosen.append(release)
        for release in chosen:
            self._materialise(state, release)
        self._drain()
        return chosen

    def read_everything(self) -> None:
        """Stop being lazy: read every release of every package met, and of those met later."""
        self.lazy = False
        for state in list(self.packages.values()):
            for release in state.unmaterialised():
                self._materialise(state, release)
        self._drain()

    def _require(self, req: Requirement) -> None:
        if req in self._seen_requirements:
            return
        self._seen_requirements.add(req)
        self.requirements.append(req)
        name = req.dep.name
        state = self._package(name)
        self.by_target.setdefault(name, []).append(req)
        for extra in sorted(req.dep.extras):
            if extra not in self.extras.setdefault(name, []):
                self.extras[name].append(extra)
                for release in state.releases:
                    if release.version in state.materialised:
                        for cand in self.finder.release_candidates(release):
                            self._add_extra_requirements(cand, extra)
        self._queue.append(req)

    def _drain(self) -> None:
        while self._queue:
            req = self._queue.popleft()
            state = self.packages[req.dep.name]
            if not self.lazy:
                for release in state.unmaterialised():
                    self._materialise(state, release)
                continue
            if any(self.matching(req.dep, release) for release in self.materialised_releases(state.name)):
                continue
            newest = self.in_range(req.dep, state.unmaterialised())
            if newest:
                self._materialise(state, newest[0])

    def _package(self, name: NormalizedName) -> PackageState:
        if name not in self.packages:
            self.packages[name] = PackageState(name, self.finder.releases(name))
        return self.packages[name]

    def _materialise(self, state: PackageState, release: Release) -> None:
        if release.version in state.materialised:
            return
        state.materialised.add(release.version)
        for cand in self.finder.release_candidates(release):
            if self.finder.needs_build(cand):
                self.unread.add(cand)
            else:
                self._read_candidate(cand)

    def read_candidates(self, cands: Iterable[Candidate]) -> None:
        """Read the dependencies of ``cands`` (unread ones an optimum chose: builds happen here)."""
        for cand in cands:
            if cand in self.unread:
                self.unread.discard(cand)
                # As in pip and uv, an sdist is not built while a wheel of its release can be
                # installed (unread, it has no dependencies, so an optimum leans on it).
                if any(c.label is not None for c in self.finder.release_candidates(cand.release)):
                    self._reject(cand, f"{cand.describe()} is not built: a wheel of the release can be installed")
                else:
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
        key = (name, len(state.materialised))
        if key not in self._read:
            self._read[key] = [r for r in state.releases if r.version in state.materialised]
        return self._read[key]

    def candidates(self, name: NormalizedName) -> list[Candidate]:
        """Materialised candidates of ``name``: newest first, then PEP 825 order."""
        return [c for r in self.materialised_releases(name) for c in self.finder.release_candidates(r)]

    def range_of(self, dep: Dependency) -> VersionRange:
        key = dependency_key(dep)
        if key not in self._ranges:
            self._ranges[key] = dependency_range(dep)
        return self._ranges[key]

    def in_range(self, dep: Dependency, releases: list[Release]) -> list[Release]:
        """``releases`` within ``dep``'s range, final releases before pre-releases (a guess at
        what the pre-release policy admits; the policy itself decides per candidate)."""
        inside = list(self.range_of(dep).filter(releases, prereleases=True, key=lambda r: r.version))
        return sorted(inside, key=lambda r: r.version.is_prerelease)  # stable: newest first within

    def matching(self, dep: Dependency, release: Release) -> list[Candidate]:
        """Candidates of ``release`` within ``dep``'s range (``CandidateFinder.satisfies``); the
        yanked and pre-release policies read all requirements on a package together and are
        constraints of the encoding (``CandidateFinder.admissible``)."""
        key = (dependency_key(dep), release.version)
        if key not in self._matching:
            if release.name != dep.name or not dep.contains(release.version):
                self._matching[key] = []
            else:
                self._matching[key] = [
                    c for c in self.finder.release_candidates(release) if self.finder.satisfies(dep, c)
                ]
        return self._matching[key]

    def hidden_gaps(self, dep: Dependency) -> list[Gap]:
        """The gaps of ``dep``'s package with a release in ``dep``'s range: their boundary
        literals may stand in for it."""
        state = self.packages[dep.name]
        key = (dependency_key(dep), len(state.materialised))
        if key not in self._hidden:
            self._hidden[key] = [g for g in state.gaps() if self.in_range(dep, list(g.releases))]
        return self._hidden[key]
