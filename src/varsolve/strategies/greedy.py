"""The two resolvelib strategies.

* ``pep825`` (the status quo of PEP 825 and every installer prototype): resolvelib over
  versions; each version is represented by its single best file in PEP 825 order, whose
  dependencies are read with that file's variant markers. Rejecting the file rejects the
  version. ``unify`` is ignored (the verifier reports the violations).
* ``backtrack``: resolvelib over (version, variant) candidates, newest version first, then PEP
  825 order; every unified feature is a virtual identifier whose candidates are its supported
  values, so a mismatch backtracks across the variants of a version and across versions.

Both are greedy: the first solution found in preference order is returned.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver
from resolvelib.resolvers import Criterion
from resolvelib.structs import RequirementInformation

from ..candidates import Candidate, CandidateFinder, Dependency, UnusableCandidate
from ..explain.conflict import Cause, ExactCause, RejectedCause, RequirementCause, UnifyCause, explain_conflict
from ..problem import Problem
from ..repository import Release
from ..resolution import Explanation, Pin, Resolution, Step
from ..variants.properties import VariantFeature
from .graph import walk
from .incremental import IncrementalResolver, supports

MAX_ROUNDS = 200_000  # pip's limit
FEWEST_CANDIDATES_CAP = 64


@dataclass(frozen=True)
class ExtrasCandidate:
    """``name[extras]`` at one candidate: depends on exactly that candidate plus the extras' deps."""

    base: Candidate
    extras: frozenset[str]


@dataclass(frozen=True)
class UnifyValue:
    feature: VariantFeature
    value: str


@dataclass(frozen=True)
class PackageRequirement:
    dep: Dependency


@dataclass(frozen=True)
class ExactRequirement:
    candidate: Candidate


@dataclass(frozen=True)
class RejectedRequirement:
    """What a candidate whose dependencies cannot be read (a failed build, malformed metadata)
    requires: anything of its package but itself. Pinning it thus conflicts at once and the
    search moves on to the next candidate, as it does for any conflict."""

    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class UnifyRequirement:
    feature: VariantFeature
    values: frozenset[str]
    source: Candidate


Req = PackageRequirement | ExactRequirement | UnifyRequirement | RejectedRequirement
Cand = Candidate | ExtrasCandidate | UnifyValue


class PackageKey(NamedTuple):
    """resolvelib identifier of a package, or of ``name[extras]`` (its candidate with the
    extras' dependencies)."""

    name: str
    extras: frozenset[str] = frozenset()


class UnifyKey(NamedTuple):
    """resolvelib identifier of a unified feature: its candidates are the feature's values."""

    feature: VariantFeature


Key = PackageKey | UnifyKey
Info = RequirementInformation[Req, Cand]


class ReleaseIndex:
    """The releases of one package in the order the search tries them, and their versions sorted,
    so that the releases a requirement may admit are found by bisection instead of asking every
    release (a backtracking search asks about thousands of releases per conflict: botocore has
    2,000, and each boto3 release tried requires a different range of them).

    :meth:`window` is a necessary condition only (a range of sorted positions outside of which
    no version matches); :meth:`Dependency.contains` still decides every release inside it."""

    def __init__(self, releases: Sequence[Release]) -> None:
        self.releases = list(releases)
        n = len(self.releases)
        ascending = sorted(range(n), key=lambda i: self.releases[i].version)
        self.versions = [self.releases[i].version for i in ascending]
        self.position = [0] * n  # place in the search order -> place among the sorted versions
        for place, i in enumerate(ascending):
            self.position[i] = place
        self.newest_first = ascending == list(range(n - 1, -1, -1))
        self._windows: dict[int, tuple[Dependency, int, int]] = {}  # id(dep) -> (dep, lo, hi)
        # ids of requirements -> (them, kept so that the ids stay theirs; how many releases they admit)
        self._counts: dict[tuple[int, ...], tuple[tuple[Dependency, ...], int]] = {}

    def count(self, deps: Sequence[Dependency]) -> int:
        """How many releases all of ``deps`` admit, up to :data:`FEWEST_CANDIDATES_CAP` (the
        fewest-candidates key); the same requirements are counted again at every round they are
        open, and by every fork that shares the index."""
        key = tuple(map(id, deps))
        known = self._counts.get(key)
        if known is None or not all(map(operator.is_, known[0], deps)):
            left = 0
            for release in self.between(*self.window_of(deps)):
                if all(d.contains(release.version) for d in deps):
                    left += 1
                    if left == FEWEST_CANDIDATES_CAP:
                        break
            known = self._counts[key] = (tuple(deps), left)
        return known[1]

    def window_of(self, deps: Sequence[Dependency]) -> tuple[int, int]:
        """Sorted positions ``[lo, hi)`` outside of which not all of ``deps`` admit a version."""
        lo, hi = 0, len(self.versions)
        for dep in deps:
            dep_lo, dep_hi = self.window(dep)
            lo, hi = max(lo, dep_lo), min(hi, dep_hi)
        return lo, hi

    def window(self, dep: Dependency) -> tuple[int, int]:
        """Sorted positions ``[lo, hi)`` outside of which ``dep`` admits no version."""
        known = self._windows.get(id(dep))
        if known is None or known[0] is not dep:
            spans = [self._spec_window(spec) for spec in dep.specifiers]
            lo = min((s[0] for s in spans), default=0)
            hi = max((s[1] for s in spans), default=len(self.versions))
            known = self._windows[id(dep)] = (dep, lo, hi)
        return known[1], known[2]

    def _spec_window(self, spec: SpecifierSet) -> tuple[int, int]:
        versions = self.versions
        lo, hi = 0, len(versions)
        for clause in spec:
            op, text = clause.operator, clause.version
            if op in ("===", "!=") or text.endswith(".*"):
                continue  # no bound: every version inside is checked
            try:
                bound = Version(text)
            except InvalidVersion:
                continue
            if op in (">=", "~="):  # public(v) >= X exactly when v >= X (a local sorts right after its public)
                lo = max(lo, bisect.bisect_left(versions, bound))
                if op == "~=":  # and ==P.* for X's release but its last part: below the next P's .dev0
                    *prefix, last = bound.release[:-1]
                    upper = Version(f"{bound.epoch}!{'.'.join(map(str, [*prefix, last + 1]))}.dev0")
                    hi = min(hi, bisect.bisect_left(versions, upper))
            elif op == ">":
                lo = max(lo, bisect.bisect_right(versions, bound))
            elif op == "<":
                hi = min(hi, bisect.bisect_left(versions, bound))
            elif op == "<=":  # X and its local versions
                hi = min(hi, self._past_locals(bisect.bisect_right(versions, bound), bound))
            elif op == "==":  # X and, unless X has one, its local versions
                public = Version(bound.public)
                lo = max(lo, bisect.bisect_left(versions, public))
                hi = min(hi, self._past_locals(bisect.bisect_right(versions, public), public))
        return lo, hi

    def _past_locals(self, i: int, public: Version) -> int:
        versions = self.versions
        while i < len(versions) and versions[i].local is not None and Version(versions[i].public) == public:
            i += 1
        return i

    def between(self, lo: int, hi: int) -> Iterator[Release]:
        """The releases whose versions lie at sorted positions ``[lo, hi)``, in search order."""
        if lo >= hi:
            return
        if self.newest_first:
            last = len(self.releases) - 1
            for place in range(hi - 1, lo - 1, -1):
                yield self.releases[last - place]
            return
        for i, release in enumerate(self.releases):
            if lo <= self.position[i] < hi:
                yield release


class _Provider(AbstractProvider[Req, Cand, Key]):
    def __init__(self, finder: CandidateFinder, one_per_version: bool, unify: Sequence[VariantFeature]) -> None:
        self.finder = finder
        self.one_per_version = one_per_version
        self.unify = tuple(unify)
        self.roots = finder.problem.root_names()
        self._indexes: dict[str, ReleaseIndex] = {}
        # (id(candidate), extras) whose dependencies were read (not unusable), and the candidates,
        # kept so that the ids stay theirs.
        self._deps_read: dict[tuple[int, frozenset[str]], Candidate] = {}
        self._causes: tuple[tuple[Info, ...], frozenset[Key]] | None = None

    def release_index(self, name: str) -> ReleaseIndex:
        index = self._indexes.get(name)
        if index is None:
            releases = self.finder.preferred_releases(name)
            orders = self.finder.release_orders
            # The forks of a universal resolution that try a project's releases in one order
            # share one index (and its memos).
            if orders is None:
                index = ReleaseIndex(releases)
            else:
                index = orders.derived(releases, "index", lambda: ReleaseIndex(releases))
            self._indexes[name] = index
        return index

    def identify(self, requirement_or_candidate: Req | Cand) -> Key:
        x = requirement_or_candidate
        if isinstance(x, PackageRequirement):
            return PackageKey(x.dep.name, x.dep.extras)
        if isinstance(x, (UnifyRequirement, UnifyValue)):
            return UnifyKey(x.feature)
        if isinstance(x, (ExactRequirement, RejectedRequirement)):
            return PackageKey(x.candidate.name)
        if isinstance(x, ExtrasCandidate):
            return PackageKey(x.base.name, x.extras)
        return PackageKey(x.name)

    def get_preference(
        self,
        identifier: Key,
        resolutions: Mapping[Key, Cand],
        candidates: Mapping[Key, Iterator[Cand]],
        information: Mapping[Key, Iterator[Info]],
        backtrack_causes: Sequence[Info],
    ) -> tuple[bool, bool, bool, bool, int, str]:
        """Decide first what leaves least choice: unified features, pinned packages, packages
        in the last conflict, the root's requirements, then the package with the fewest
        candidates left (PubGrub's heuristic: a package with few versions is decided, or found
        impossible, quickly), then by name for determinism."""
        in_conflict = identifier in self._in_conflict(backtrack_causes)
        if isinstance(identifier, UnifyKey):
            # Only unified values' requirements are on it: never pinned, never the root's. Not
            # read: every candidate that declares the feature requires it (thousands at scale).
            # Its candidates are a list of values: counted as they are.
            left = sum(1 for _ in itertools.islice(candidates[identifier], FEWEST_CANDIDATES_CAP))
            return (False, True, not in_conflict, True, left, _sort_text(identifier))
        infos = list(information[identifier])
        left = self._left(identifier.name, [i.requirement for i in infos])
        pinned = any(
            isinstance(i.requirement, ExactRequirement)
            or (isinstance(i.requirement, PackageRequirement) and i.requirement.dep.pins)
            for i in infos
        )
        is_root = any(i.parent is None for i in infos)
        return (True, not pinned, not in_conflict, not is_root, left, _sort_text(identifier))

    def _left(self, name: str, reqs: Sequence[Req]) -> int:
        """How many releases of ``name`` ``reqs`` admit, counted up to a cap (the order among
        packages with many candidates matters little, and counting every release of a large
        project at every round would be quadratic): the fewest-candidates key, by release.
        Counting candidates built every release up to the cap (468 releases where a cold
        pandas/scikit-learn/matplotlib resolution reads 30, 0.1 s of its 0.6 s), and by the
        search's history (what it happened to have read) the count would differ between
        resolvelib's loop and varsolve's; a release's versions and the requirements are the
        same in both. A pinned package (an exact candidate) has one."""
        if any(isinstance(r, ExactRequirement) for r in reqs):
            return 1
        deps = [r.dep for r in reqs if isinstance(r, PackageRequirement)]
        return self.release_index(name).count(deps)

    def _in_conflict(self, causes: Sequence[Info]) -> frozenset[Key]:
        """The identifiers of ``causes``' requirements, once per list of causes (the same list
        is passed to every preference of a round; a conflict on a unified feature lists every
        candidate that declares it)."""
        known = self._causes
        # By the identity of each cause: resolvelib's loop replaces the list's items in place.
        if known is None or len(known[0]) != len(causes) or not all(map(operator.is_, known[0], causes)):
            known = self._causes = (tuple(causes), frozenset(self.identify(c.requirement) for c in causes))
        return known[1]

    def find_matches(
        self,
        identifier: Key,
        requirements: Mapping[Key, Iterator[Req]],
        incompatibilities: Mapping[Key, Iterator[Cand]],
    ) -> list[Cand] | Callable[[], Iterator[Cand]]:
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        if isinstance(identifier, UnifyKey):
            # One requirement per candidate that declares the feature, with a few distinct sets
            # of values among them: intersect those.
            distinct = {r.values for r in reqs if isinstance(r, UnifyRequirement)}
            allowed = frozenset.intersection(*distinct) if distinct else frozenset()
            ranked = self.finder.rank_values(identifier.feature, allowed)
            return [c for c in (UnifyValue(identifier.feature, v) for v in ranked) if c not in bad]
        name, extras = identifier
        # The yanked and pre-release policies read all requirements on the package together.
        deps = [r.dep for r in reqs if isinstance(r, PackageRequirement)]
        # The rest (exact candidates, rejections) per candidate; ``deps`` per release.
        others = [r for r in reqs if not isinstance(r, PackageRequirement)]
        finder = self.finder
        index = self.release_index(name)
        lo, hi = index.window_of(deps)

        def matches() -> Iterator[Cand]:
            # Lazily, newest first (uv's policy: final releases first): resolvelib asks for the
            # next candidate only when the ones before it failed, and a project may have
            # thousands of files whose candidates (and variant metadata) need not be built.
            for release in index.between(lo, hi):
                if not all(d.contains(release.version) for d in deps):
                    continue  # no candidate of it can match: not even built
                for cand in finder.release_candidates(release):
                    if self.one_per_version and cand.rank > 0:
                        break  # the status quo sees only the best file of each version
                    wrapped: Cand = ExtrasCandidate(cand, extras) if extras else cand
                    if wrapped in bad:
                        continue
                    if all(self.is_satisfied_by(r, wrapped) for r in others) and finder.admissible(cand, deps):
                        yield wrapped

        return matches

    def _dependencies(self, candidate: Candidate, extras: frozenset[str]) -> list[Dependency]:
        """``candidate``'s dependencies with ``extras``. An sdist whose metadata is not at hand
        (it would be downloaded whole, or built) is read through the non-variant wheel of its
        release when the search read that wheel's: the files of one release share their
        metadata (uv and pip assume it: neither looks at an sdist of a version with a usable
        wheel; a universal fork reads sdists so too, ``CandidateFinder.metadata_file``). The
        sdist, tried right after its wheel, then meets the same conflict without the download
        (backtracking through 820 boto3 releases downloaded 870 MB of sdists)."""
        finder = self.finder
        if candidate.label is None and finder.needs_build(candidate):
            for twin in finder.release_candidates(candidate.release):
                if twin.label == "" and self._deps_read.get((id(twin), extras)) is twin:
                    return finder.dependencies(twin, extras)
        found = finder.dependencies(candidate, extras)
        self._deps_read[(id(candidate), extras)] = candidate
        return found

    def is_satisfied_by(self, requirement: Req, candidate: Cand) -> bool:
        if isinstance(requirement, UnifyRequirement):
            return isinstance(candidate, UnifyValue) and candidate.value in requirement.values
        base = candidate.base if isinstance(candidate, ExtrasCandidate) else candidate
        if not isinstance(base, Candidate):
            return False
        if isinstance(requirement, ExactRequirement):
            return base is requirement.candidate
        if isinstance(requirement, RejectedRequirement):
            return base is not requirement.candidate
        # The policies were applied by find_matches, which sees every requirement on the package.
        return self.finder.satisfies(requirement.dep, base)

    def get_dependencies(self, candidate: Cand) -> Iterable[Req]:
        if isinstance(candidate, UnifyValue):
            return []
        base = candidate.base if isinstance(candidate, ExtrasCandidate) else candidate
        extras = candidate.extras if isinstance(candidate, ExtrasCandidate) else frozenset()
        try:
            found = self._dependencies(base, extras)
        except UnusableCandidate as exc:
            return [RejectedRequirement(base, exc.reason)]
        if isinstance(candidate, ExtrasCandidate):
            deps: list[Req] = [ExactRequirement(candidate.base)]
            deps += [PackageRequirement(d) for d in found]
            return deps
        out: list[Req] = [PackageRequirement(d) for d in found]
        for dep in list(out):
            if isinstance(dep, PackageRequirement) and dep.dep.extras:
                # name[extra] pins the same candidate as the plain name.
                plain = Dependency(dep.dep.name, dep.dep.specifiers, frozenset(), dep.dep.text, dep.dep.url)
                out.append(PackageRequirement(plain))
        for feature in self.unify:
            values = candidate.feature_values(feature)
            if values is not None:
                out.append(UnifyRequirement(feature, frozenset(values), candidate))
        return out


class _CountingReporter(BaseReporter[Req, Cand, Key]):
    def __init__(self) -> None:
        self.rounds = 0
        self.backtracks = 0
        self.rejected = 0

    def starting_round(self, index: int) -> None:
        self.rounds = index + 1

    def resolving_conflicts(self, causes: Collection[Info]) -> None:
        self.backtracks += 1

    def rejecting_candidate(self, criterion: Criterion[Req, Cand], candidate: Cand) -> None:
        self.rejected += 1


class _ResolvelibStrategy:
    name = ""
    complete = False
    one_per_version = False
    use_unify = True
    # resolvelib's own loop is O(n^2) in time and memory over n packages; the incremental one
    # (.incremental) makes the same decisions in O(n). False: resolvelib's (the tests compare).
    incremental = True

    def solve(self, problem: Problem) -> Resolution:
        start = time.perf_counter()
        finder = CandidateFinder(problem)
        unify = problem.options.unify if self.use_unify else ()
        provider = _Provider(finder, self.one_per_version, unify)
        reporter = _CountingReporter()
        root_deps = [Dependency.from_requirement(r) for r in problem.root_requirements()]
        roots = [PackageRequirement(d) for d in root_deps]
        for r in list(roots):
            if r.dep.extras:
                roots.append(PackageRequirement(Dependency(r.dep.name, r.dep.specifiers, frozenset(), r.dep.text)))
        stats: dict[str, Any] = {}
        resolution = Resolution(self.name, satisfiable=False)
        try:
            resolver_type = IncrementalResolver if self.incremental and supports(provider) else Resolver
            result = resolver_type(provider, reporter).resolve(roots, max_rounds=MAX_ROUNDS)
        except ResolutionImpossible as exc:
            causes = [_cause(info) for info in exc.causes]
            explanation = explain_conflict(finder, causes, one_per_version=self.one_per_version)
            resolution = Resolution(self.name, satisfiable=False, explanation=explanation)
        except ResolutionTooDeep:
            explanation = Explanation((Step("limit", f"gave up after {MAX_ROUNDS} rounds of backtracking"),))
            resolution = Resolution(self.name, satisfiable=False, explanation=explanation)
            stats["too_deep"] = True
        else:
            chosen = {c.name: c for c in result.mapping.values() if isinstance(c, Candidate)}
            reached, graph = walk(finder, root_deps, chosen)
            unified = {
                str(c.feature): c.value
                for c in result.mapping.values()
                if isinstance(c, UnifyValue) and _declared_by_any(c.feature, reached.values())
            }
            resolution = Resolution(
                self.name,
                satisfiable=True,
                packages={name: Pin(c.version, c.label, c.file.filename) for name, c in reached.items()},
                graph=graph,
                unified=dict(sorted(unified.items())),
            )
        stats.update(
            seconds=round(time.perf_counter() - start, 6),
            rounds=reporter.rounds,
            backtracks=reporter.backtracks,
            rejected=reporter.rejected,
            candidates=finder.stats["candidates"],
        )
        if finder.metadata_report:  # variant metadata ignored or read leniently: say so in the JSON
            stats["variant_metadata"] = finder.metadata_report
        return resolution.with_stats(**stats)


class StatusQuo(_ResolvelibStrategy):
    name = "pep825"
    complete = False
    one_per_version = True
    use_unify = False


class Backtrack(_ResolvelibStrategy):
    name = "backtrack"
    complete = True
    one_per_version = False
    use_unify = True


def _sort_text(key: Key) -> str:
    """The identifier as text, the last tie-breaker of the preference."""
    if isinstance(key, UnifyKey):
        return f"<unify {key.feature}>"
    return f"{key.name}[{','.join(sorted(key.extras))}]" if key.extras else key.name


def _declared_by_any(feature: VariantFeature, cands: Iterable[Candidate]) -> bool:
    return any(c.feature_values(feature) is not None for c in cands)


def _cause(info: Info) -> Cause:
    """resolvelib's (requirement, parent) as a cause the explanation reads."""
    req, parent = info.requirement, info.parent
    if isinstance(req, UnifyRequirement):
        return UnifyCause(req.feature, req.source)
    if isinstance(req, RejectedRequirement):
        return RejectedCause(req.candidate, req.reason)
    parent_extras: frozenset[str] = frozenset()
    if isinstance(parent, ExtrasCandidate):
        parent_extras = parent.extras
        parent = parent.base
    assert parent is None or isinstance(parent, Candidate)  # a unified value has no dependencies
    if isinstance(req, ExactRequirement):
        assert parent is not None
        return ExactCause(req.candidate, parent, parent_extras)
    return RequirementCause(req.dep, parent, parent_extras)
