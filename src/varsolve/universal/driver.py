"""Universal resolution: one resolution for every environment, forking where the graph needs it.

The universe is every environment ``requires-python`` allows (narrowed to the required
environments, if any), times each variant target. A region of it is solved by any strategy at
once (:mod:`varsolve.universal.region`), and it forks the moment the search meets a fork point,
as uv's resolver does (docs: "Resolver internals"; read, not copied):

* when the dependencies of a package the search takes (or the root) name one package several
  times under markers that split the region (``a>=2 ; sys_platform == 'linux'``, ``a<2 ;
  sys_platform == 'darwin'``), the region forks along those markers and each part is solved;
* when a release the search takes needs a newer Python than the region's lowest (numpy 2.3 needs
  Python 3.11, the project allows 3.10), the region forks at that bound: the upper part keeps the
  release, the lower part does without (uv's ``fork-strategy = requires-python``);
* a region whose search ends without a solution and met no fork point has none.

Parts are solved lowest Python first, then those with more upper-bounded requirements first;
forks for the same Pythons prefer the versions chosen before them.

Regions that end with the same resolution are merged. A variant target (``--target FILE``: a
CUDA machine, a CPU-only one) is a fork dimension markers cannot express: each target is resolved
over the whole universe on its own, and ``unify`` holds inside each fork.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.version import Version

from ..errors import InputError
from ..resolution import Explanation, Step
from .region import ForkNeeded, ForkSignal, PartsTable, Region, ReleaseOrders, ReleaseParts, floor, refine
from .result import Fork, UniversalResolution
from .universe import universe

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from ..candidates import Candidate
    from ..marker_algebra import MarkerSet
    from ..problem import Problem
    from ..repository import DistFile, Release
    from ..resolution import Edge, Resolution
    from ..strategies import Strategy, StrategyName
    from ..target import SupportedMap, Target
    from ..variants.markers import VariantRequirement

__all__ = ["DEFAULT_MAX_FORKS", "resolve_universal"]

log = logging.getLogger("varsolve")

DEFAULT_MAX_FORKS = 256


def resolve_universal(
    problem: Problem,
    strategy: StrategyName | Strategy = "backtrack",
    *,
    requires_python: str | None = None,
    environments: Sequence[str] = (),
    targets: Sequence[tuple[str, Target]] = (),
    verify: bool = True,
    max_forks: int = DEFAULT_MAX_FORKS,
    requires_python_key: str = "requires-python",
    environments_key: str = "environments",
) -> UniversalResolution:
    """Resolve ``problem`` for every environment (see the module). ``requires_python`` defaults
    to ``>=`` the target's Python (X.Y); ``targets`` are named variant targets (only their
    supported properties matter; the problem's own target without them)."""
    from ..collector import fewer_collections
    from ..sources.prefetch import no_search

    # Each fork's search reads as a search of its own (what the source fetches ahead for a walk
    # down a project's releases is one search's: two forks reading two releases of a project do
    # not walk down it); the rest (the checks) is no search.
    with fewer_collections(), no_search():  # it keeps every fork's candidates, markers and checks alive
        return _resolve_universal(
            problem, strategy, requires_python, environments, targets, verify, max_forks,
            requires_python_key, environments_key,
        )


def _resolve_universal(
    problem: Problem,
    strategy: StrategyName | Strategy,
    requires_python: str | None,
    environments: Sequence[str],
    targets: Sequence[tuple[str, Target]],
    verify: bool,
    max_forks: int,
    requires_python_key: str,
    environments_key: str,
) -> UniversalResolution:
    from ..pipeline import start_fetching
    from ..sources.prefetch import search
    from ..strategies import get_strategy

    runner = get_strategy(strategy) if isinstance(strategy, str) else strategy
    start_fetching(problem)
    requires_python = requires_python or f">={problem.target.python_version}"
    starts = universe(requires_python, environments, requires_python_key, environments_key)
    variant_targets: list[tuple[str | None, Target]] = list(targets) or [(None, problem.target)]
    started = time.perf_counter()
    forks: list[Fork] = []
    solves = 0
    candidate_sets = 0  # releases expanded into candidates, over all forks (each once when they can share)
    for name, target in variant_targets:
        # (region, what the parent decided); forks are solved in order, and each solved fork's
        # versions are preferred by the forks after it (uv: fewer distinct versions).
        queue: deque[tuple[MarkerSet, dict[NormalizedName, Version]]] = deque((start, {}) for start in starts)
        # Pythons of a fork -> what the forks for those Pythons chose (uv's default fork strategy,
        # requires-python: the newest release for each Python, the fewest across platforms).
        chosen: dict[PythonKey, dict[NormalizedName, Version]] = {}
        # The candidates of each release, shared by every fork that can use the same files.
        expanded: dict[Hashable, tuple[list[Candidate], SupportedMap | None]] = {}
        release_parts = PartsTable()  # what decides each release's sharing
        orders = ReleaseOrders()  # each project's releases in the order a fork tries them
        needs: dict[PythonKey, dict[NormalizedName, tuple[Edge, ...]]] = {}  # a preferred release's requirements
        ahead = _ReadAhead(problem, bool(environments), release_parts)
        done: list[Fork] = []
        while queue:
            region, decided = queue.popleft()
            solves += 1
            if solves > max_forks * len(variant_targets):
                raise InputError(
                    f"universal resolution needs more than {max_forks} forks{_for(name)}; "
                    "narrow requires-python or give required environments"
                )
            pythons = _pythons(region)
            preferences = {**_compatible(chosen.get(pythons, {}), needs.get(pythons, {}), decided), **decided}
            # The first fork for these Pythons takes releases no fork before it read; the forks
            # after it mostly take its releases again (the preferences), fetched by then.
            guess = ahead.requirement if pythons not in chosen else None
            fork_problem = _fork_problem(
                problem, target, region, preferences, decided, bool(environments), expanded, ahead.read, release_parts,
                guess, orders,
            )
            parts = _root_split(fork_problem)
            if parts:
                queue.extendleft(reversed(parts))
                continue
            ahead.fetch([region, *(part for part, _ in queue)])
            try:
                with search():
                    resolution = runner.solve(fork_problem)
                if decided and not resolution.satisfiable:
                    # What the fork was made for does not hold up: uv would backtrack over it.
                    fork_problem = _fork_problem(
                        problem, target, region, preferences, {}, bool(environments), expanded, ahead.read,
                        release_parts, guess, orders,
                    )
                    with search():
                        resolution = runner.solve(fork_problem)
            except ForkNeeded as fork:  # the search met a fork point: solve the parts instead
                log.debug("fork %s%s: %s; splits into %d", region or "(all)", _for(name), fork, len(fork.parts))
                queue.extendleft(reversed(fork.parts))
                continue
            log.debug(
                "fork %s%s: %s; decided %s", region or "(all)", _for(name),
                "solved" if resolution.satisfiable else "no solution", {str(k): str(v) for k, v in decided.items()},
            )
            if not resolution.satisfiable:  # and no fork point met: no solution here
                return UniversalResolution(
                    runner.name, False, requires_python, tuple(environments),
                    explanation=_failure(resolution, region, name), failed_region=str(region) or None,
                    stats={"solves": solves, "seconds": round(time.perf_counter() - started, 3)},
                )
            done.append(_reachable(Fork(region, name, resolution, fork_problem)))
            for package, pin in resolution.packages.items():
                if package not in chosen.setdefault(pythons, {}):
                    chosen[pythons][NormalizedName(package)] = pin.version
                    needs.setdefault(pythons, {})[NormalizedName(package)] = tuple(resolution.dependencies(package))
        ahead.close()  # the forks' regions live on in the result, and are asked again there
        forks.extend(_merged(done))
        candidate_sets += len(expanded)
    result = UniversalResolution(
        runner.name, True, requires_python, tuple(environments), tuple(forks),
        stats={
            "solves": solves, "forks": len(forks), "seconds": round(time.perf_counter() - started, 3),
            "candidate_sets": candidate_sets,
        },
    )
    if verify:
        from .verify import verify_universal

        violations, gaps = verify_universal(result)
        result = replace(result, violations=tuple(violations), gaps=tuple(gaps))
    return result


class _ReadAhead:
    """Fetches metadata ahead of the forks' searches, in two ways; the source fetches what it is
    given in parallel, ahead of the search that would ask for each in turn. A wrong guess costs
    a request, never an answer.

    * Before each fork's search (:meth:`fetch`): of each release whose dependencies a fork
      before it read (forks mostly take the same releases), the non-variant wheel the candidate
      finder reads in that fork's region (the first by name of those the region can use; they
      differ from fork to fork when wheels are built per Python: pyzmq's cp310 wheel for 3.10,
      its cp311 one for 3.11). A cold jupyter run waited 0.1-0.35 s for each of a dozen such
      files, one after the other, 1.7 s in the forks after the first two.
    * While a search reads a release's requirements (:meth:`requirement`, told by the region):
      for each, the release the search will likely take (the pinned one, the preferred one, or
      the newest the requirement allows that the region can use). A fork for Pythons no fork
      before it had takes other releases than those (a 3.11 fork after the 3.10 ones: layered-100
      waited for 50 of them, one after the other), and the source's own read-ahead, which knows
      one target, one requirement per project and each page once, does not name them. Only in
      the first fork for its Pythons (the forks after it prefer its releases: :meth:`fetch` has
      them), and only for projects a fork before it read: finding the release must not wait for
      a page. Done in the search's own thread, at once: the search asks for the first of them
      right after, before another thread would have run (the client is busy with the GIL).
    """

    def __init__(self, problem: Problem, platforms: bool, release_parts: PartsTable | None = None) -> None:
        self.repository = problem.repository
        self.release_parts = release_parts  # the forks' (one ``platforms``), for the regions made here too
        # region -> id of a release's parts -> (them, kept so that the id stays theirs; the answers)
        self._pair_answers: dict[Region, dict[int, tuple[ReleaseParts, tuple[bool, ...]]]] = {}
        # (id of a specifier, a version) -> (the specifier, kept so that its id stays its own; whether it admits it)
        self._admits: dict[tuple[int, Version], tuple[SpecifierSet, bool]] = {}
        self.options = problem.options
        self.platforms = platforms
        self.read: set[tuple[NormalizedName, Version]] = set()  # filled by the forks' regions
        self._asked: dict[MarkerSet, set[tuple[NormalizedName, Version]]] = {}
        self._regions: dict[MarkerSet, Region] = {}
        self._by_version: dict[NormalizedName, dict[Version, list[tuple[int, Release]]]] = {}
        self._stable: dict[NormalizedName, list[Version]] = {}
        self._wheel_counts: dict[tuple[NormalizedName, Version], int] = {}
        self._sent: set[str] = set()  # files already given to the source by :meth:`requirement`
        self._paged: set[NormalizedName] = set()  # projects whose page the source has (a fork read them)
        self._closed = False

    def close(self) -> None:
        """The forks are solved: what else asks about their regions (the result) reads nothing."""
        self._closed = True

    def fetch(self, regions: Sequence[MarkerSet]) -> None:
        """Ask the source for what the searches of ``regions`` (the next first) will likely read."""
        files: list[tuple[Release, DistFile]] = []
        self._paged.update(name for name, _ in self.read)
        for markers in regions:
            asked = self._asked.setdefault(markers, set())
            new = self.read - asked
            if not new:
                continue
            asked |= new
            # A release with one wheel was read through it, by the fork that read it: fetched.
            new = {release for release in new if self._wheels(*release) > 1}
            if not new:
                continue
            region = self._regions.get(markers)
            if region is None:
                region = self._regions[markers] = Region(markers, platforms=self.platforms, release_parts=self.release_parts)
            files += self._likely(region, new)
        if files:
            self.repository.prefetch_metadata(files)

    def requirement(self, region: Region, requirement: VariantRequirement) -> None:
        """A search in ``region`` reads ``requirement`` (it applies there): fetch what it will
        likely take for it. Only for a project whose page the source has: finding the release
        must not wait for one (the search may not need it for a while)."""
        if self._closed or requirement.name not in self._paged:
            return
        try:
            files = self._taken(region, requirement)
            if files:
                self.repository.prefetch_metadata(files)
        except Exception:  # noqa: BLE001 - a guess must not change the search; it meets any such error itself
            log.debug("read-ahead for %s", requirement.text, exc_info=True)

    def _taken(self, region: Region, requirement: VariantRequirement) -> list[tuple[Release, DistFile]]:
        """The wheel of the release a search in ``region`` will likely take for
        ``requirement``, unless given to the source already."""
        name = requirement.name
        specifier = requirement.specifier
        pinned = region.pins.get(name)
        chosen = [pinned] if pinned is not None else [v for v in (region.preferences.get(name),) if v is not None]
        versions = chosen if pinned is not None else itertools.chain(chosen, self._versions(name))
        by_version = self._index(name)
        for version in versions:
            entries = by_version.get(version)
            if not entries or not self._contains(specifier, version):
                continue
            # A search skips a release that is yanked, unless pinned or preferred; asked only of
            # the versions looked at (reading a release's files builds them).
            if version not in chosen and all(r.yanked for _, r in entries):
                continue
            usable = [f for _, r in entries for f in self._usable_files(region, r)]
            if not usable:
                continue
            wheels = [f for f in usable if f.wheel is not None and f.label is None]
            if not wheels:
                return []
            file = min(wheels, key=lambda f: f.filename)
            key = file.url or file.filename
            if key in self._sent:
                return []
            self._sent.add(key)
            return [(next(r for _, r in entries if file in r.files), file)]
        return []

    def _contains(self, specifier: SpecifierSet, version: Version) -> bool:
        """``specifier`` admits ``version`` (pre-releases too), kept by the specifier's identity
        (a requirement's, one object for every fork that reads its text) and the version."""
        key = (id(specifier), version)
        known = self._admits.get(key)
        if known is None or known[0] is not specifier:
            known = self._admits[key] = (specifier, specifier.contains(version, prereleases=True))
        return known[1]

    def _usable_files(self, region: Region, release: Release) -> list[DistFile]:
        """The files of ``release`` the region can use, as the candidate finder reads them (by
        the release's parts: a few questions for many files)."""
        parts, places = region.parts_of(release)
        usable = self._answers(region, parts)
        return [f for f, place in zip(release.files, places, strict=True) if usable[place]]

    def _wheels(self, name: NormalizedName, version: Version) -> int:
        """How many wheels the release has (variant ones too: a fork reads those as well)."""
        known = self._wheel_counts.get((name, version))
        if known is None:
            known = self._wheel_counts[(name, version)] = sum(
                f.wheel is not None for _, r in self._index(name).get(version, ()) for f in r.files
            )
        return known

    def _index(self, name: NormalizedName) -> dict[Version, list[tuple[int, Release]]]:
        by_version = self._by_version.get(name)
        if by_version is None:  # asked again at every fork: a project has hundreds of releases
            by_version = self._by_version[name] = {}
            for i, r in enumerate(self.repository.releases(name)):
                by_version.setdefault(r.version, []).append((i, r))
        return by_version

    def _versions(self, name: NormalizedName) -> list[Version]:
        """The versions of ``name`` a search tries first, newest first (not pre-releases; yanked
        ones are skipped where :meth:`_taken` looks at them)."""
        known = self._stable.get(name)
        if known is None:
            known = self._stable[name] = sorted((v for v in self._index(name) if not v.is_prerelease), reverse=True)
        return known

    def _likely(self, region: Region, releases: set[tuple[NormalizedName, Version]]) -> list[tuple[Release, DistFile]]:
        versions: dict[NormalizedName, set[Version]] = {}
        for name, version in releases:
            versions.setdefault(name, set()).add(version)
        out: list[tuple[Release, DistFile]] = []
        for name in sorted(versions):
            by_version = self._index(name)
            # In the order the source lists them.
            wanted = sorted(entry for v in versions[name] for entry in by_version.get(v, ()))
            for _, release in wanted:
                # Which wheels the region can use, from the release's parts (one question per
                # distinct (Requires-Python, tags) pair, not per wheel; the same answers).
                parts, places = region.parts_of(release)
                answers = self._answers(region, parts)
                wheels = [(f, p) for f, p in zip(release.files, places, strict=True) if f.wheel is not None and f.label is None]
                usable = [f for f, p in wheels if answers[p]]
                file = min(usable or [f for f, _ in wheels], key=lambda f: f.filename, default=None)
                if file is not None:
                    out.append((release, file))
        return out

    def _answers(self, region: Region, parts: ReleaseParts) -> tuple[bool, ...]:
        """Whether ``region`` can use a file of each of ``parts``' pairs, once per region and
        distinct parts (most releases of a project share them: :class:`PartsTable`)."""
        memo = self._pair_answers.setdefault(region, {})
        known = memo.get(id(parts))
        if known is None or known[0] is not parts:
            reading = self.options.python_reading
            known = memo[id(parts)] = (parts, tuple(region.can_use(spec, served, reading) for spec, served in parts.pairs))
        return known[1]


def _compatible(
    chosen: dict[NormalizedName, Version], needs: dict[NormalizedName, tuple[Edge, ...]], decided: dict[NormalizedName, Version]
) -> dict[NormalizedName, Version]:
    """The versions other forks chose, less those whose requirements exclude what this fork has
    decided: uv takes a preference only where it fits the decisions already made, and a
    preference must never undo the decision that made the fork."""
    if not decided:
        return dict(chosen)
    from packaging.specifiers import SpecifierSet

    out = {}
    for name, version in chosen.items():
        clash = any(
            edge.child in decided and not any(
                SpecifierSet(part).contains(decided[NormalizedName(edge.child)], prereleases=True)
                for part in edge.specifier.split(" || ")
            )
            for edge in needs.get(name, ())
        )
        if not clash:
            out[name] = version
    return out


def _for(name: str | None) -> str:
    return f" for target {name!r}" if name else ""


def _fork_problem(
    problem: Problem,
    target: Target,
    region: MarkerSet,
    preferences: dict[NormalizedName, Version],
    pins: dict[NormalizedName, Version],
    platforms: bool,
    candidates: dict[Hashable, tuple[list[Candidate], SupportedMap | None]] | None = None,
    read: set[tuple[NormalizedName, Version]] | None = None,
    release_parts: PartsTable | None = None,
    ahead: Callable[[Region, VariantRequirement], None] | None = None,
    release_orders: ReleaseOrders | None = None,
) -> Problem:
    """``problem`` for one region: its target keeps the supported properties and gets the
    region's lowest Python (what explanations name)."""
    floor = region.python_lower_bound()
    fork_target = target if floor is None else target.with_python(f"{floor.major}.{floor.minor}.{floor.micro}")
    fork_target = replace(fork_target, variants=target.variants, enabled=target.enabled, provider_policy=target.provider_policy)
    fork_region = Region(
        region, preferences=preferences, pins=pins, platforms=platforms, candidates=candidates, eager=True, read=read,
        release_parts=release_parts, ahead=ahead, release_orders=release_orders,
    )
    return replace(problem, target=fork_target, region=fork_region)


Part = tuple["MarkerSet", dict[NormalizedName, Version]]


PythonKey = tuple[Version, tuple[Version, ...]]


def _pythons(region: MarkerSet) -> PythonKey:
    """Which Pythons a region spans (its lowest and every bound it mentions): forks for the same
    Pythons share their choices, forks for other Pythons do not."""
    return floor(region), region.python_cut_points()


def _root_split(problem: Problem) -> list[Part]:
    """The root's own fork point, before any solve."""
    region = problem.region
    assert region is not None, "a fork problem has a region"
    for signal in _root_signals(problem):
        parts = refine(region.markers, signal)
        if len(parts) > 1:
            return parts
    return []


def _root_signals(problem: Problem) -> list[ForkSignal]:
    from ..variants.markers import NON_VARIANT
    from .region import bounded_above

    region = problem.region
    assert region is not None, "a fork problem has a region"
    by_name: dict[NormalizedName, list[tuple[MarkerSet, bool]]] = {}
    for req in problem.root_requirements():
        part = region.applies(req, NON_VARIANT)
        if part is not None:
            by_name.setdefault(req.name, []).append((part, bounded_above(req.specifier)))
    signals = []
    for name, found in by_name.items():
        if len(found) > 1 and any(not region.markers.implies(m) for m, _ in found):
            markers, bounded = zip(*found, strict=True)
            signals.append(ForkSignal(None, name, markers, bounded))
    return signals


def _reachable(fork: Fork) -> Fork:
    """The fork without the packages no environment of it installs: the search took them in
    because their requirement can hold somewhere in the region, but every path to them needs
    markers that exclude each other (packse's unreachable-package: ``a ; sys_platform ==
    'win32'`` requires ``b ; sys_platform == 'linux'``)."""
    if _all_reached(fork):
        return fork
    unreachable = {name for name, marker in fork.markers.items() if marker.is_empty()}
    if not unreachable:
        return fork
    resolution = replace(
        fork.resolution,
        packages={n: p for n, p in fork.resolution.packages.items() if n not in unreachable},
        graph=tuple(e for e in fork.resolution.graph if e.child not in unreachable and e.parent not in unreachable),
    )
    return Fork(fork.region, fork.target_name, resolution, fork.problem)


def _all_reached(fork: Fork) -> bool:
    """Every package of the fork is reached from the root along requirements whose markers hold
    in the whole region: each is installed wherever the region holds, and none is unreachable
    (the exact answer, :attr:`Fork.markers`, costs a fixed point over every edge's markers)."""
    from .region import parse_marker

    region = fork.region
    holds: dict[str, bool] = {}
    by_parent: dict[str | None, list[str]] = {}
    for edge in fork.resolution.graph:
        marker = edge.marker
        if marker is not None:
            known = holds.get(marker)
            if known is None:
                known = holds[marker] = (region & parse_marker(marker, "")) == region  # implies, no complement built
            if not known:
                continue
        by_parent.setdefault(edge.parent, []).append(edge.child)
    reached: set[str] = set()
    todo: list[str | None] = [None]
    while todo:
        for child in by_parent.get(todo.pop(), ()):
            if child not in reached:
                reached.add(child)
                todo.append(child)
    return reached.issuperset(fork.resolution.packages)


def _merged(forks: list[Fork]) -> list[Fork]:
    """Forks with the same resolution become one fork over the union of their regions."""
    out: list[Fork] = []
    for fork in forks:
        key = _identity(fork.resolution)
        for i, other in enumerate(out):
            if _identity(other.resolution) == key:
                # The edges too: each region reached the packages through its own requirements.
                region = other.region | fork.region
                graph = tuple(sorted(
                    set(other.resolution.graph) | set(fork.resolution.graph),
                    key=lambda e: (e.parent is not None, e.parent or "", e.child, e.requirement),
                ))
                merged = replace(other.resolution, graph=graph)
                assert other.problem.region is not None, "a fork problem has a region"
                merged_region = Region(region, platforms=other.problem.region.platforms)
                out[i] = Fork(region, other.target_name, merged, replace(other.problem, region=merged_region))
                break
        else:
            out.append(fork)
    return out


def _identity(resolution: Resolution) -> tuple[object, ...]:
    return (tuple(sorted(resolution.packages.items())), tuple(sorted(resolution.unified.items())))


def _failure(resolution: Resolution, region: MarkerSet, target_name: str | None) -> Explanation:
    where = f"environments where {region}" if str(region) else "every environment"
    head = Step("root", f"In {where}{_for(target_name)}:")
    steps = resolution.explanation.steps if resolution.explanation is not None else ()
    return Explanation.of([head, *steps])
