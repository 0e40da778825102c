"""What to fetch before the resolver asks for it, so that its next questions are answered from
memory instead of a round trip each.

When a project page arrives, the metadata of the newest ``depth`` versions (the file the
target would pick; one by default, the one a resolver nearly always takes; for a page fetched
because a dependency named it, the newest that dependency allows) and their ``variants.json``
are worth fetching; when the resolver reads an older version's metadata after a newer one of
the same project it may go on backtracking downwards, so the next older ones are (two, more
while the resolver keeps waiting for them: :meth:`Prefetcher.older`; an old release read first
is where a pin or a cap led, not a walk); when metadata arrives, the project pages of its
dependencies are. All of this needs the target (:meth:`Prefetcher.hint_target`): without it
only dependencies are prefetched.

A walk is one search reading successively older releases. A universal resolution runs many
searches over one source, one per fork, and two forks read different releases of one project
(fork A takes 1.3, fork B 1.1): not a walk down. Its driver runs each search inside
:func:`search` and reads that are no search's (checking the forks) inside :func:`no_search`;
the walk state is kept per search. Outside both, all reads are one search (a single target),
except that a release some search read is no step of a walk there (a universal lock, written
after the searches, reads every fork's releases again).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName

from ..repository import CoreMetadata, DistFile, Release
from .fetch import Project

if TYPE_CHECKING:
    from ..target import Target


MAX_LOOKAHEAD = 32  # older releases prefetched at most when the search walks down a project

_NO_SEARCH = object()
# Which search reads metadata now (the context of the resolver's thread, which is where the
# source hears of each read); ``None``: the only one (a single target).
_search: ContextVar[object] = ContextVar("varsolve_prefetch_search", default=None)


@contextmanager
def search() -> Iterator[None]:
    """The reads inside the block are one search of their own: its walks down a project's
    releases are told apart from every other search's."""
    token = _search.set(object())
    try:
        yield
    finally:
        _search.reset(token)


@contextmanager
def no_search() -> Iterator[None]:
    """The reads inside the block are no search's (the check of a universal resolution's forks
    reads each fork's releases: no walk down): nothing older is fetched ahead for them."""
    token = _search.set(_NO_SEARCH)
    try:
        yield
    finally:
        _search.reset(token)


class Prefetcher:
    """Decides; the repository schedules the fetches it names."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self._target: Target | None = None
        self._tag_rank: dict[Tag, int] = {}
        self._env: dict[str, str] | None = None
        # The walk state, per search (:func:`search`) and project.
        self._older_done: set[tuple[object, NormalizedName, object]] = set()
        self._met: set[tuple[object, NormalizedName]] = set()  # projects with a release read
        self._walked: dict[tuple[object, NormalizedName], int] = {}  # older releases read
        self._ahead: dict[tuple[object, NormalizedName], int] = {}  # older releases fetched ahead
        self._in_time: dict[tuple[object, NormalizedName], int] = {}  # releases found fetched since the last wait
        self._searched: set[tuple[NormalizedName, object]] = set()  # releases read by a search (:func:`search`)
        self._wanted: dict[NormalizedName, SpecifierSet] = {}  # what the dependency that named a page allows

    def hint_target(self, target: Target) -> None:
        self._target = target
        self._tag_rank = target.tag_rank()
        self._env = target.marker_environment()

    def newest(self, project: Project) -> Iterator[tuple[Release, DistFile | None, bool]]:
        """For a project page that just arrived: ``(release, file whose metadata to fetch,
        whether to fetch its variant metadata)`` of the newest usable versions."""
        if self._target is None:
            return
        done = 0
        wanted = self._wanted.get(project.releases[0].name) if project.releases else None
        for release in project.releases:
            if done >= self.depth:
                break
            if release.yanked or release.version.is_prerelease:
                continue
            if wanted is not None and not wanted.contains(release.version, prereleases=True):
                continue  # the dependency that named the project excludes it: not what is read first
            variants = any(f.label for f in release.files) and release.version in project.variants_links
            yield release, self.likely_file(release, project), variants
            done += 1

    def older(self, project: Project, release: Release, waited: bool = True) -> Iterator[tuple[Release, DistFile]]:
        """The resolver reads ``release``, not the newest: the next older ones (and their file).
        ``waited``: its metadata was not there yet when the resolver asked for it. Walks are
        those of the search reading (:func:`search`)."""
        searching = _search.get()
        if self._target is None or searching is _NO_SEARCH:
            return
        if searching is not None:
            self._searched.add((release.name, release.version))
        elif (release.name, release.version) in self._searched:
            return  # read again after the searches (a universal lock's): no walk
        done = (searching, release.name, release.version)
        if done in self._older_done:
            return  # the same metadata is asked for again and again (the search, the verifier)
        self._older_done.add(done)
        walk = (searching, release.name)
        first = walk not in self._met
        self._met.add(walk)
        versions = [r.version for r in project.releases]
        try:
            i = versions.index(release.version)
        except ValueError:
            return
        if i == 0 or first:
            # The first release read of a project, when not its newest, is where a pin or a cap
            # took the search directly (torch's nvidia-* pins): no walk down, nothing to fetch
            # ahead. A walk reads a newer release first.
            return
        ahead = self._lookahead(walk, waited)
        for older in project.releases[i + 1 : i + 1 + ahead]:
            file = self.likely_file(older, project)
            if file is not None:
                yield older, file

    def _lookahead(self, name: tuple[object, NormalizedName], waited: bool) -> int:
        """How many older releases of ``name`` (a search's project) to have fetched ahead. The
        more of them the search reads, the likelier it is walking down them one by one (boto3
        against a capped botocore: hundreds): two for the first two, then doubled whenever the
        resolver had to wait for the one it read (up to MAX_LOOKAHEAD), and one less after as
        many in a row found already fetched as are fetched ahead: what is fetched ahead when
        the walk stops is fetched in vain (32 boto3 wheels at a constant 32)."""
        base = max(2, self.depth)
        walked = self._walked[name] = self._walked.get(name, 0) + 1
        ahead = self._ahead.get(name, base)
        if walked < 3:
            ahead = base
        elif waited:
            ahead = min(MAX_LOOKAHEAD, ahead * 2)
            self._in_time[name] = 0
        else:
            in_time = self._in_time[name] = self._in_time.get(name, 0) + 1
            if in_time >= ahead:
                ahead, self._in_time[name] = max(base, ahead - 1), 0
        self._ahead[name] = ahead
        return ahead

    def dependencies(self, meta: CoreMetadata) -> Iterator[NormalizedName]:
        """The projects ``meta`` may need (those whose markers surely fail on the target not);
        the first requirement naming each one says which of its releases :meth:`newest` picks."""
        from ..variants.markers import parse_requirement

        for text in meta.requires_dist:
            req = parse_requirement(text)
            # Variant clauses are unknown until a wheel is chosen, the target may be too: a page
            # fetched in vain is cheap, one fetched late costs a round trip.
            if self._env is not None and req.has_marker and not req.uses_variant_markers and not req.evaluate(self._env):
                continue
            if req.specifier and req.name not in self._wanted:
                self._wanted[req.name] = req.specifier
            yield req.name

    def likely_file(self, release: Release, project: Project) -> DistFile | None:
        """The non-variant wheel the target prefers (or a cheap sdist), as the finder would pick."""
        if self._target is None:
            return None
        python = self._target.python
        best: tuple[int, str] | None = None
        chosen = None
        for f in release.files:
            if f.requires_python is not None and not f.requires_python.contains(python, prereleases=True):
                continue
            if f.wheel is None or f.label is not None:
                continue
            ranks = [self._tag_rank[t] for t in f.wheel.tags if t in self._tag_rank]
            if ranks and (best is None or (min(ranks), f.filename) < best):
                best, chosen = (min(ranks), f.filename), f
        if chosen is None:
            sdists = [f for f in release.files if f.wheel is None and project.links[f.url or ""].core_metadata is not None]
            chosen = sdists[0] if sdists else None
        return chosen
