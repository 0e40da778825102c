"""A fork of a universal resolution: the set of environments one solve must serve.

A :class:`Region` rides on :class:`~varsolve.problem.Problem` (``problem.region``). When it is
set, every strategy resolves for all environments in the region at once, the way ``uv lock``
does inside one fork: a requirement applies when its marker *can* hold somewhere in the region,
a file is usable when it fits *some* environment in it, and Requires-Python is read against the
region's Python range. The candidate finder, shared by every strategy, is the only reader, so
the strategies need not know. It is also where the search meets a fork point (two requirements
on one package under markers that split the region; a release whose Requires-Python leaves out
the region's lowest Pythons): the region then raises :class:`ForkNeeded`, and
:mod:`varsolve.universal.driver` solves the parts instead, as uv forks its resolver there.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from packaging.specifiers import SpecifierSet

if TYPE_CHECKING:
    from packaging.tags import Tag
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from ..candidates import Candidate
    from ..marker_algebra import MarkerSet
    from ..repository import DistFile, Release
    from ..target import SupportedMap
    from ..variants.markers import VariantRequirement, VariantState

_T = TypeVar("_T")


@dataclass(frozen=True)
class ForkSignal:
    """The dependencies of ``parent`` (``None``: the root) name ``package`` under several markers
    (each already restricted to the region): the region should split along them. ``bounded``:
    whether each of those requirements bounds the version from above (uv solves the forks with
    more of them first: their answer is likelier to suit the others too)."""

    parent: tuple[NormalizedName, Version, str | None] | None
    package: NormalizedName
    markers: tuple[MarkerSet, ...]
    bounded: tuple[bool, ...] = ()


class ForkNeeded(Exception):  # noqa: N818 - a signal to the driver, not an error
    """Raised by the candidate finder of an eager region the moment the search meets a fork
    point (uv forks there and then): ``parts`` are the regions to solve instead, in order, each
    with what it decided (a release pinned there)."""

    def __init__(self, parts: list[tuple[MarkerSet, dict[NormalizedName, Version]]], why: str) -> None:
        super().__init__(why)
        self.parts = parts


def refine(region: MarkerSet, signal: ForkSignal) -> list[tuple[MarkerSet, dict[NormalizedName, Version]]]:
    """The cells ``signal``'s markers cut ``region`` into (each marker or its complement), not
    empty, in uv's order: lowest Python first, then those where more of the requirements bound
    the version from above (their answer is likelier to suit the others too)."""
    cells: list[tuple[MarkerSet, int]] = [(region, 0)]
    bounded = signal.bounded or (False,) * len(signal.markers)
    for marker, upper in zip(signal.markers, bounded, strict=True):
        nxt: list[tuple[MarkerSet, int]] = []
        for cell, count in cells:
            inside, outside = cell & marker, cell & ~marker
            if not inside.is_empty():
                nxt.append((inside, count + upper))
            if not outside.is_empty():
                nxt.append((outside, count))
        cells = nxt
    cells.sort(key=lambda part: (floor(part[0]), -part[1]))
    return [(cell, {}) for cell, _ in cells]


def floor(region: MarkerSet) -> Version:
    from packaging.version import Version

    return region.python_lower_bound() or Version("0")


def bounded_above(specifier: SpecifierSet) -> bool:
    """The specifier excludes every version above some version (``<``, ``<=``, ``==``, ``~=``)."""
    return any(clause.operator in ("<", "<=", "==", "===", "~=") for clause in specifier)


@dataclass(frozen=True, eq=False)
class Region:
    """``markers``: the environments; the rest is how the search in them behaves (what it
    prefers, what is decided, whether platforms count, what forks share)."""

    markers: MarkerSet
    # Versions to try first (what forks solved before chose, what the parent decided), as uv
    # prefers the versions other forks selected.
    preferences: Mapping[NormalizedName, Version] = field(default_factory=dict, compare=False)
    # What the fork was made for (uv decides it before forking): only that release is offered.
    pins: Mapping[NormalizedName, Version] = field(default_factory=dict, compare=False)
    # Fork the moment a fork point is met (ForkNeeded) instead of after the solve.
    eager: bool = False
    # Whether a wheel must fit a platform of the region, not only a Python: in the required
    # environments only (uv assumes a wheel for every platform elsewhere, and says so at install).
    platforms: bool = False
    # The candidates of each release, shared by the forks of one variant target, keyed by what
    # they depend on in a fork (CandidateFinder._share_key: the files the region can use);
    # None: not shared.
    candidates: dict[Hashable, tuple[list[Candidate], SupportedMap | None]] | None = field(
        default=None, compare=False, repr=False
    )
    # What decides, for each release, which of its files a fork can use (ReleaseParts), shared
    # by the forks of one variant target: worked out once per release instead of once per fork.
    # None: not shared.
    release_parts: PartsTable | None = field(default=None, compare=False, repr=False)
    # Each project's releases in the order a search tries them, and what a strategy derives from
    # that order (ReleaseOrders), shared by the forks of one variant target: sorted once, not in
    # every fork. None: not shared.
    release_orders: ReleaseOrders | None = field(default=None, compare=False, repr=False)
    # The releases whose dependencies a search in the region read, gathered over the forks of
    # one variant target (the driver fetches their metadata ahead for the forks after); None:
    # not gathered.
    read: set[tuple[NormalizedName, Version]] | None = field(default=None, compare=False, repr=False)
    # Told of each requirement a search in the region reads that applies there, once (the
    # driver fetches ahead the release the search will likely take for it); None: not told.
    ahead: Callable[[Region, VariantRequirement], None] | None = field(default=None, compare=False, repr=False)
    _told: set[str] = field(default_factory=set, compare=False, repr=False)
    # id of a Requires-Python as read -> (it, kept so that the id stays its own; the region's
    # (lower, upper) parts when it splits the region, else None).
    _python_splits: dict[int, tuple[SpecifierSet, tuple[MarkerSet, MarkerSet] | None]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Memoised answers (a search asks about every file of every release it reads; files share a
    # few Requires-Python texts and tag sets).
    _python_answers: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    _fit_answers: dict[MarkerSet, bool] = field(default_factory=dict, compare=False, repr=False)
    # id of a parsed Requires-Python -> (it, kept so that the id stays its own; the answer)
    _spec_answers: dict[int, tuple[SpecifierSet, bool]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def python_floor(self) -> Version | None:
        return self.markers.python_lower_bound()

    def applies(self, requirement: VariantRequirement, state: VariantState, extra: str = "") -> MarkerSet | None:
        """The part of the region where ``requirement`` applies for a wheel in ``state`` with
        ``extra`` requested; None when it applies nowhere in it."""
        if not requirement.has_marker:
            part = self.markers
        else:
            part = self.markers & requirement_markers(requirement, state, extra)
            if part.is_empty():
                return None
        if self.ahead is not None and requirement.text not in self._told:
            self._told.add(requirement.text)
            self.ahead(self, requirement)
        return part

    def check_python_fork(self, candidate: Candidate, requires_python: SpecifierSet | None, reading: SpecifierSet | None) -> None:
        """uv's Requires-Python fork, when the search is about to take ``candidate``: if its
        Requires-Python (``reading``: the part the policy reads) leaves out the low end of the
        region, fork: the lower part without it, the upper part with it decided. (Asked of
        every candidate whose dependencies the search read: :attr:`read` notes it.)"""
        if self.read is not None:
            self.read.add((candidate.name, candidate.version))
        if not self.eager or requires_python is None or reading is None:
            return
        split = self._python_split(reading)
        if split is not None:
            lower, upper = split
            raise ForkNeeded(
                [(lower, {}), (upper, {candidate.name: candidate.version})],
                f"{candidate.describe()} requires Python {requires_python}",
            )

    def _python_split(self, reading: SpecifierSet) -> tuple[MarkerSet, MarkerSet] | None:
        """The parts of the region whose Pythons ``reading`` leaves out and lets in, when both
        have some; memoised by the identity of ``reading`` (a project's files share a few
        parsed Requires-Python objects, and the search asks of every candidate it reads)."""
        known = self._python_splits.get(id(reading))
        if known is None or known[0] is not reading:
            text = str(reading)
            split = None
            if text:
                upper = self.markers & python_markers(text)
                lower = self.markers & _python_outside(text)
                if not upper.is_empty() and not lower.is_empty():
                    split = (lower, upper)
            known = self._python_splits[id(reading)] = (reading, split)
        return known[1]

    def check_signal(self, signal: ForkSignal) -> None:
        """Fork along ``signal`` now when it splits the region."""
        if not self.eager:
            return
        parts = refine(self.markers, signal)
        if len(parts) > 1:
            raise ForkNeeded(parts, f"requirements on {signal.package} under several markers")

    def allows_python(self, requires_python: SpecifierSet | None) -> bool:
        """Some Python of the region satisfies ``requires_python`` (already reduced to what the
        Requires-Python policy reads)."""
        if requires_python is None:
            return True
        text = str(requires_python)
        if not text:
            return True
        known = self._python_answers.get(text)
        if known is None:
            known = self._python_answers[text] = not (self.markers & python_markers(text)).is_empty()
        return known

    def allows_spec(self, spec: SpecifierSet, reading: Callable[[SpecifierSet], SpecifierSet]) -> bool:
        """:meth:`allows_python` of ``reading(spec)``, memoised by the identity of ``spec`` (the
        files of a project share a few parsed Requires-Python objects)."""
        known = self._spec_answers.get(id(spec))
        if known is None:
            known = self._spec_answers[id(spec)] = (spec, self.allows_python(reading(spec)))
        return known[1]

    def can_use(
        self, spec: SpecifierSet | None, served: MarkerSet | None, reading: Callable[[SpecifierSet], SpecifierSet]
    ) -> bool:
        """The region can use a file with Requires-Python ``spec`` (read by ``reading``, the
        Requires-Python policy) whose tags run where ``served`` says (None: an sdist): the
        question asked of each of a release's :class:`ReleaseParts` pairs."""
        return (spec is None or self.allows_spec(spec, reading)) and (served is None or self.serves(served))

    def fits(self, file: DistFile) -> bool:
        """The wheel fits some Python (in required environments: some environment) of the
        region; an sdist always does."""
        if file.wheel is None:
            return True
        return self.serves(_served(file.wheel.tags, self.platforms))

    def serves(self, served: MarkerSet) -> bool:
        """Some environment of the region is in ``served`` (where a wheel's tags run:
        :meth:`parts_of`)."""
        known = self._fit_answers.get(served)
        if known is None:
            known = self._fit_answers[served] = not (self.markers & served).is_empty()
        return known

    def parts_of(self, release: Release) -> tuple[ReleaseParts, tuple[int, ...]]:
        """:class:`ReleaseParts` of ``release`` and the place of each of its files' pair among
        them (shared by the forks when :attr:`release_parts` is)."""
        if self.release_parts is None:
            return ReleaseParts.read(release, self.platforms)
        return self.release_parts.get(release, self.platforms)


class PartsTable:
    """The :class:`ReleaseParts` of each release the forks of one variant target read (all with
    one ``platforms``), each distinct one kept once: most releases of a project have the same
    parts (one Requires-Python text, a pure-Python wheel and an sdist), so that a fork answers
    for them once, not once per release (CandidateFinder memoises by their identity)."""

    def __init__(self) -> None:
        self._by_release: dict[tuple[NormalizedName, Version], tuple[ReleaseParts, tuple[int, ...]]] = {}
        # (id of each pair's Requires-Python, where its tags run, metadata_python) -> the parts;
        # the parts kept hold those objects, so that their ids stay their own.
        self._distinct: dict[tuple[object, ...], ReleaseParts] = {}

    def get(self, release: Release, platforms: bool) -> tuple[ReleaseParts, tuple[int, ...]]:
        """The release's parts (one object for equal parts) and its files' places among them."""
        key = (release.name, release.version)
        known = self._by_release.get(key)
        if known is None:
            fresh, places = ReleaseParts.read(release, platforms)
            identity = (tuple((id(spec), served) for spec, served in fresh.pairs), fresh.metadata_python)
            known = self._by_release[key] = (self._distinct.setdefault(identity, fresh), places)
        return known

    def __len__(self) -> int:
        return len(self._by_release)


class ReleaseOrders:
    """The releases of each project in the orders the forks of one variant target (one
    repository, one set of options) try them, each order made once: a fork's order depends only
    on the releases the source lists, the version its region pins and the one it prefers (the
    candidate finder's ``releases``), and sorting hundreds of releases by version in every fork
    of every project cost a tenth of a warm universal jupyter run's solves. What a strategy
    derives from one order (greedy's release index, with its memos) is kept with it.

    Every memo is keyed by the identity of the list it is made from, kept with the answer, so
    that a list made again (the source listing other releases) is never answered for another."""

    def __init__(self) -> None:
        # name -> (the releases as the source listed them, newest first)
        self._newest: dict[NormalizedName, tuple[list[Release], list[Release]]] = {}
        # (id of a list, what is made of it) -> (the list, what was made)
        self._derived: dict[tuple[int, Hashable], tuple[list[Release], Any]] = {}

    def newest_first(self, name: NormalizedName, listed: list[Release]) -> list[Release]:
        """``listed`` (the source's releases of ``name``) newest first; one list while the source
        lists the same release objects."""
        known = self._newest.get(name)
        if known is None or len(known[0]) != len(listed) or not all(map(operator.is_, known[0], listed)):
            known = self._newest[name] = (listed, sorted(listed, key=lambda r: r.version, reverse=True))
        return known[1]

    def derived(self, source: list[Release], what: Hashable, make: Callable[[], _T]) -> _T:
        """``make()``, made once per ``source`` list (by identity) and ``what`` (all else
        ``make`` reads: the pin, the preference, the kind of thing made)."""
        key = (id(source), what)
        known = self._derived.get(key)
        if known is None or known[0] is not source:
            known = self._derived[key] = (source, make())
        return cast("_T", known[1])


@dataclass(frozen=True, eq=False)
class ReleaseParts:
    """What decides which files of a release a region can use: each distinct pair of a file's
    Requires-Python (the parsed object, shared by the files that announce the same text) and
    where its tags run (:func:`_served`; None for an sdist), in the order the files first have
    them. A file is usable exactly when its pair is, and every pair is some file's, so the
    answers for the pairs tell apart the same regions as the answers for the files, in fewer
    questions (a project's wheels for one Python on many platforms are one pair when platforms
    do not count). ``metadata_python``: some file's Requires-Python only its metadata tells."""

    pairs: tuple[tuple[SpecifierSet | None, MarkerSet | None], ...]
    metadata_python: bool

    @classmethod
    def read(cls, release: Release, platforms: bool) -> tuple[ReleaseParts, tuple[int, ...]]:
        """The parts of ``release`` and, for each of its files in order, the place of its pair."""
        # By the identity of the Requires-Python object, as CandidateFinder memoises its answers.
        pairs: dict[tuple[int, MarkerSet | None], int] = {}
        found: list[tuple[SpecifierSet | None, MarkerSet | None]] = []
        places: list[int] = []
        metadata_python = False
        for file in release.files:
            spec = file.requires_python
            metadata_python = metadata_python or spec is None
            served = _served(file.wheel.tags, platforms) if file.wheel is not None else None
            place = pairs.setdefault((id(spec), served), len(found))
            if place == len(found):
                found.append((spec, served))
            places.append(place)
        return cls(tuple(found), metadata_python), tuple(places)


@lru_cache(maxsize=16384)
def _served(tags: frozenset[Tag], platforms: bool) -> MarkerSet:
    """Where a wheel with ``tags`` runs (:func:`~varsolve.universal.tags.wheel_markers`), for
    every fork: each asks about the same few thousand tag sets."""
    from .tags import wheel_markers

    return wheel_markers("", tags, platforms)


def requirement_markers(requirement: VariantRequirement, state: VariantState, extra: str) -> MarkerSet:
    """Where ``requirement`` holds, for a wheel in ``state`` and ``extra``: its variant markers
    are decided by ``state`` (the candidate's own wheel), the rest stays symbolic. Kept by the
    requirement's text, the state and the extra (all it reads): every fork asks it of every
    requirement with a marker of every release it reads."""
    return _requirement_markers(requirement.text, state, extra)


@lru_cache(maxsize=65536)
def _requirement_markers(requirement_text: str, state: VariantState, extra: str) -> MarkerSet:
    from ..marker_algebra import MarkerSet
    from ..variants.markers import parse_requirement

    text = parse_requirement(requirement_text).specialise(state)
    if text is None:
        return MarkerSet.empty()
    marker = marker_part(text)
    return parse_marker(marker, extra) if marker is not None else MarkerSet.universe()


def marker_part(requirement_text: str) -> str | None:
    from ..variants.markers import parse_requirement

    return parse_requirement(requirement_text).marker_text


@lru_cache(maxsize=65536)
def parse_marker(marker: str, extra: str) -> MarkerSet:
    from ..marker_algebra import MarkerSet

    return MarkerSet.parse(marker, fixed={"extra": extra})


def python_projection(markers: MarkerSet) -> tuple[tuple[Version, ...], tuple[bool, ...]]:
    """Which Pythons ``markers`` holds for, whatever else it says: its Python bounds and, for each
    interval between them, whether some environment of it has such a Python (exact: membership
    can only change at a bound)."""
    cuts = markers.python_cut_points()
    edges = [None, *cuts, None]
    inside = []
    for low, high in zip(edges, edges[1:], strict=False):
        clauses = ([f">={low}"] if low is not None else []) + ([f"<{high}"] if high is not None else [])
        interval = python_markers(",".join(clauses)) if clauses else None
        inside.append(not (markers if interval is None else markers & interval).is_empty())
    return cuts, tuple(inside)


@lru_cache(maxsize=4096)
def python_markers(requires_python: str) -> MarkerSet:
    from ..marker_algebra import MarkerSet

    return MarkerSet.python_range(SpecifierSet(requires_python))


@lru_cache(maxsize=4096)
def _python_outside(requires_python: str) -> MarkerSet:
    """The complement of :func:`python_markers`, kept: negating builds a new diagram each time,
    which the memoised intersections then compare node by node."""
    return ~python_markers(requires_python)
