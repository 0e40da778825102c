"""A Repository over simple-repository indexes (PEP 503/691) and ``--find-links`` folders.

The parts, each in its own module: link sources say where a project's files are
(:mod:`.linksources`, :mod:`.findlinks`); :mod:`.fetch` reads pages and metadata through one
HTTP client (:mod:`.http`, one connection pool) and the on-disk cache (:mod:`.cache`);
:mod:`.prefetch` decides what to read before the resolver asks; :mod:`.workers` runs every
fetch once, in the background or in the thread that waits for it; :mod:`.build` builds
the metadata of sdists that need it, only in the thread of a caller that asked for it (never
in a prefetch). This module ties them to the :class:`~varsolve.repository.Repository`
protocol. Open one with :func:`varsolve.sources.open_repository`.

A project's releases are listed at once, but the files of a release (their
:class:`~varsolve.repository.DistFile` and :class:`~.pages.Link` objects) are built when the
resolver first reads them (:class:`~.files.ProjectPage`): it reads a few releases of a large
project, newest first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, overload

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ..errors import BuildError, SourceError, VarsolveError
from ..repository import CoreMetadata, DistFile, Release, RepositoryBase
from ..variants.metadata import VariantMetadata
from .distmeta import DynamicMetadata
from .fetch import Fetcher, Project
from .files import ProjectPage, is_local
from .http import HttpClient
from .linksources import LinkSource
from .pages import Link, Row
from .prefetch import Prefetcher
from .settings import SourceSettings
from .workers import TaskTable

if TYPE_CHECKING:
    from ..target import Target
    from .build import SdistBuilder


_T = TypeVar("_T")


class _LazyRelease(Release):
    """A :class:`~varsolve.repository.Release` whose files are built the first time they are
    read. Hashed by name and version (equal releases have equal ones), equal to another lazy
    release with the same files, and pickled (or copied) as a plain Release."""

    _build: Callable[[], tuple[DistFile, ...]]

    def __init__(self, name: NormalizedName, version: Version, build: Callable[[], tuple[DistFile, ...]]) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "_build", build)

    @property
    def files(self) -> tuple[DistFile, ...]:
        return self._build()

    def __hash__(self) -> int:
        return hash((self.name, self.version))

    def __reduce__(self) -> tuple[type[Release], tuple[NormalizedName, Version, tuple[DistFile, ...]]]:
        return Release, (self.name, self.version, self.files)


class _ProjectFiles:
    """The files of one project's releases, each release built once (under a lock: every
    thread sees the same objects), from the page of the source its version comes from."""

    def __init__(self, owners: dict[Version, ProjectPage]) -> None:
        self._owners = owners
        self._built: dict[Version, tuple[DistFile, ...]] = {}
        self._lock = threading.Lock()
        self.links = _Links(self)

    @property
    def versions(self) -> list[Version]:
        return list(self._owners)

    def files(self, version: Version) -> tuple[DistFile, ...]:
        found = self._built.get(version)  # a dict read is atomic: no lock for what is built
        if found is not None:
            return found
        with self._lock:
            found = self._built.get(version)
            if found is None:
                pairs = self._owners[version].files(version)
                for row, _ in pairs:
                    self.links.put_row(row)
                found = self._built[version] = tuple(dist for _, dist in pairs)
            return found

    def build_all(self) -> None:
        for version in self._owners:
            self.files(version)


class _Links(dict[str, Link]):
    """A project's links by URL, filled as its releases are built (a file's :class:`Link` is
    made when it is first asked for): a URL asked for that is not there yet (a file of a
    release not built: nothing the resolver saw) builds them all."""

    def __init__(self, project: _ProjectFiles) -> None:
        super().__init__()
        self._project = project
        self._rows: dict[str, Row] = {}

    def put(self, link: Link) -> None:
        super().__setitem__(link.url, link)

    def put_row(self, row: Row) -> None:
        self._rows[row[1]] = row

    def _find(self, url: object) -> Link | None:
        link = super().get(url)  # type: ignore[call-overload]
        if link is None and isinstance(url, str):
            row = self._rows.get(url)
            if row is None:
                self._project.build_all()
                link = super().get(url)
                row = self._rows.get(url)
            if link is None and row is not None:
                link = Link(*row)
                super().__setitem__(url, link)
        return link if isinstance(link, Link) else None

    def __missing__(self, url: str) -> Link:
        link = self._find(url)
        if link is None:
            raise KeyError(url)
        return link

    def __contains__(self, url: object) -> bool:
        return self._find(url) is not None

    @overload
    def get(self, url: str, default: None = None, /) -> Link | None: ...
    @overload
    def get(self, url: str, default: Link, /) -> Link: ...
    @overload
    def get(self, url: str, default: _T, /) -> Link | _T: ...
    def get(self, url: str, default: Any = None, /) -> Any:
        link = self._find(url)
        return default if link is None else link


class _NotCached(Exception):
    """metadata_is_cheap asked the cache only, and it had nothing."""


def _cache_only() -> bytes:
    raise _NotCached


class SimpleRepository(RepositoryBase):
    """A :class:`~varsolve.repository.Repository` over link sources, in order: the first that
    lists a filename wins. Everything is memoised per run."""

    def __init__(
        self, sources: Sequence[LinkSource], client: HttpClient | None = None, settings: SourceSettings | None = None
    ) -> None:
        self.settings = settings or SourceSettings()
        self.client = client
        self.sources = list(sources)
        self.reporter = self.settings.reporter
        self._fetcher = Fetcher(self.sources, client, self.settings.index_strategy)
        self._tasks = TaskTable(self.settings.workers, on_hedge=(lambda: client.count(hedged=1)) if client is not None else None)
        self._prefetcher = Prefetcher(self.settings.prefetch)
        self._closed = False
        self._builder: SdistBuilder | None = None
        self._cheap: dict[str, bool] = {}  # sdist URL -> metadata known without a build
        # Time the callers (the resolver's thread) spent inside the Repository methods: waiting
        # for fetches, or doing them, and parsing what came back (counters: source_wait_ms).
        self._waited = 0.0
        self._depth = threading.local()
        self._pages: list[ProjectPage] = []  # every page read, for the counters

    # -- lifecycle -----------------------------------------------------------------------------
    def hint_target(self, target: Target) -> None:
        """Tell the prefetcher which files the resolver will pick (tags, Python, markers)."""
        self._prefetcher.hint_target(target)

    def prefetch(self, names: Iterable[str]) -> None:
        """Start fetching the project pages of ``names`` (the root requirements) in parallel."""
        for name in sorted(names):
            self._prefetch_project(canonicalize_name(name))

    def prefetch_metadata(self, files: Iterable[tuple[Release, DistFile]]) -> None:
        """Start fetching the metadata of ``files`` in parallel (a strategy's next batch)."""
        for release, file in files:
            self._prefetch_metadata(release, file)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._tasks.close()
        if self._builder is not None:
            self._builder.close()
        if self.client is not None:
            self.client.close()
        if self.reporter is not None:
            self.reporter.fetch_done()

    @property
    def counters(self) -> Mapping[str, int]:
        counters = self.client.counters.snapshot() if self.client is not None else {}
        pages = list(self._pages)
        unused = self._tasks.unused()
        return {
            **counters,
            "source_wait_ms": round(self._waited * 1000),
            # Project pages parsed from their body (a damaged parsed-page entry: once more), read
            # in parsed form from the cache (parsed-page cache hits), and releases whose files
            # were built (the rest of each page's releases were never read).
            "pages_parsed": sum(p.parses for p in pages),
            "pages_from_parsed_cache": sum(p.from_cache for p in pages),
            "releases_built": sum(p.releases_built for p in pages),
            # Prefetched and finished, never asked for (so far): metadata files, project pages.
            "metadata_prefetched_unused": unused.get("metadata", 0),
            "pages_prefetched_unused": unused.get("project", 0),
        }

    @contextmanager
    def _waiting(self) -> Iterator[None]:
        """Count the time of the outermost Repository call of this thread."""
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        start = time.perf_counter()
        try:
            yield
        finally:
            self._depth.n = depth
            if depth == 0:
                self._waited += time.perf_counter() - start

    # -- releases ------------------------------------------------------------------------------
    def releases(self, name: NormalizedName) -> list[Release]:
        with self._waiting():
            return list(self._project(canonicalize_name(name)).releases)

    def _project(self, name: NormalizedName) -> Project:
        project: Project = self._tasks.result(("project", name), lambda: self._load_project(name))
        return project

    def _prefetch_project(self, name: NormalizedName) -> None:
        self._tasks.prefetch(("project", name), lambda: self._load_project(name))

    def _load_project(self, name: NormalizedName) -> Project:
        project = self._read_project(name)
        for release, file, variants in self._prefetcher.newest(project):
            if variants:
                self._tasks.prefetch(("variants", release.name, release.version), partial(self._load_variant_metadata, release))
            if file is not None:
                self._prefetch_metadata(release, file)
        return project

    def _read_project(self, name: NormalizedName) -> Project:
        """The project as the sources list it (``first-index``: the first source that lists it
        is its only one; ``unsafe-best-match``: a version comes whole, files and
        ``*-variants.json``, from the first source that lists it), releases newest first."""
        owners: dict[Version, ProjectPage] = {}
        pages: list[ProjectPage] = []
        for source in self.sources:
            page = source.project_page(name)
            if page is None:
                continue
            pages.append(page)
            for version in (*page.versions, *page.variants):
                owners.setdefault(version, page)
            if self.settings.index_strategy == "first-index":
                break
        self._pages.extend(pages)
        if self.client is not None:
            self.client.count(pages=1)
        # A release: a version whose source (its first) lists distributions of it; written as
        # that page writes it (as its first file by name does).
        listed = {id(page): set(page.versions) for page in pages}
        files = _ProjectFiles({v: page for v, page in owners.items() if v in listed[id(page)]})
        variants_links: dict[Version, list[Link]] = {}
        seen: set[str] = set()
        for version, page in owners.items():
            for link in page.variants.get(version, ()):
                if link.url not in seen:
                    seen.add(link.url)
                    variants_links.setdefault(version, []).append(link)
                    files.links.put(link)
        releases: list[Release] = [_LazyRelease(name, v, partial(files.files, v)) for v in files.versions]
        releases.sort(key=lambda r: r.version, reverse=True)
        return Project(releases, files.links, variants_links)

    # -- core metadata -------------------------------------------------------------------------
    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        with self._waiting():
            return self._metadata(release, file)

    def _metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        ready = self._tasks.done(("metadata", file.url))  # else the prefetch was late (or absent)
        try:
            meta: CoreMetadata = self._tasks.result(("metadata", file.url), lambda: self._load_metadata(release, file))
        except DynamicMetadata as dynamic:  # only a build can tell: here, in the caller's thread
            meta = self._tasks.result(("build", file.url), partial(self._build_metadata, release, file, dynamic))
        if self._tasks.prefetching:
            for older, older_file in self._prefetcher.older(self._project(release.name), release, waited=not ready):
                self._prefetch_metadata(older, older_file)
        return meta

    def _prefetch_metadata(self, release: Release, file: DistFile) -> None:
        self._tasks.prefetch(("metadata", file.url), partial(self._load_metadata, release, file))

    def _load_metadata(self, release: Release, file: DistFile, built: Callable[[], bytes] | None = None) -> CoreMetadata:
        link = self._project(release.name).links.get(file.url or "")
        if link is None:
            raise SourceError(f"{file.url or file.filename}: not a file of {release.name} on any source")
        meta = self._fetcher.core_metadata(release, link, built)
        if self._tasks.prefetching:
            for name in self._prefetcher.dependencies(meta):
                self._prefetch_project(name)
        return meta

    def metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
        """False for an sdist whose metadata needs a build, or would have to be downloaded whole
        to find out (an index without PEP 658 files for sdists); the cache, a PEP 658 file and a
        local sdist are asked (no build, no large download)."""
        if file.is_wheel:
            return True
        with self._waiting():
            return self._metadata_is_cheap(release, file)

    def _metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
        url = file.url or ""
        if url not in self._cheap:
            link = self._project(release.name).links.get(url)
            try:
                if link is not None and link.core_metadata is None and not is_local(link.url):
                    self._fetcher.core_metadata(release, link, _cache_only)
                else:
                    self._tasks.result(("metadata", url), lambda: self._load_metadata(release, file))
                cheap = True
            except (_NotCached, DynamicMetadata):
                cheap = False
            except VarsolveError:
                cheap = True  # metadata() raises the same error, without building anything
            self._cheap.setdefault(url, cheap)
        return self._cheap[url]

    def download(self, release: Release, file: DistFile) -> bytes:
        """The whole file, hash-checked (build requirements' wheels, sdists to build)."""
        link = self._project(release.name).links.get(file.url or "")
        if link is None:
            raise SourceError(f"{file.url or file.filename}: not a file of {release.name} on any source")
        return self._fetcher.distribution(link)

    def _build_metadata(self, release: Release, file: DistFile, dynamic: DynamicMetadata) -> CoreMetadata:
        if not self.settings.builds:
            self._cheap[file.url or ""] = True  # the answer is this error, no build
            raise BuildError(
                file.filename, f"its dependencies are only known by building it ({dynamic.why}), and builds are off", url=file.url
            )
        data, dynamic.data = dynamic.data, None  # the memoised exception need not keep the sdist
        builder = self._sdist_builder()

        def built() -> bytes:
            sdist = data if data is not None else self.download(release, file)
            return builder.metadata(release, file.filename, sdist)

        try:
            return self._load_metadata(release, file, built)
        finally:
            self._cheap[file.url or ""] = True  # built or failed: asking again builds nothing

    def _sdist_builder(self) -> SdistBuilder:
        if self._builder is None:
            from .build import SdistBuilder  # only when an sdist is built

            self._builder = SdistBuilder(self, self.settings)
        return self._builder

    # -- variant metadata ----------------------------------------------------------------------
    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        if not any(f.label for f in release.files):
            return None
        with self._waiting():
            metadata: VariantMetadata = self._tasks.result(
                ("variants", release.name, release.version), lambda: self._load_variant_metadata(release)
            )
        return metadata

    def _load_variant_metadata(self, release: Release) -> VariantMetadata:
        return self._fetcher.variant_metadata(release, self._project(release.name))
