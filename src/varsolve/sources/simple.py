"""A Repository over simple-repository indexes (PEP 503/691) and ``--find-links`` folders.

The parts, each in its own module: link sources say where a project's files are
(:mod:`.linksources`, :mod:`.findlinks`); :mod:`.fetch` reads pages and metadata through one
HTTP client (:mod:`.http`, one connection pool) and the on-disk cache (:mod:`.cache`);
:mod:`.prefetch` decides what to read before the resolver asks; :mod:`.workers` runs every
fetch once, in the background or in the thread that waits for it; :mod:`.build` builds
the metadata of sdists that need it, only in the thread of a caller that asked for it (never
in a prefetch). This module ties them to the :class:`~varsolve.repository.Repository`
protocol. Open one with :func:`varsolve.sources.open_repository`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from ..errors import BuildError, SourceError, VarsolveError
from ..repository import CoreMetadata, DistFile, Release, RepositoryBase
from ..variants.metadata import VariantMetadata
from .distmeta import DynamicMetadata
from .fetch import Fetcher, Project
from .files import is_local
from .http import HttpClient
from .linksources import LinkSource
from .prefetch import Prefetcher
from .settings import SourceSettings
from .workers import TaskTable

if TYPE_CHECKING:
    from ..target import Target
    from .build import SdistBuilder


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
        self._tasks = TaskTable(self.settings.workers)
        self._prefetcher = Prefetcher(self.settings.prefetch)
        self._closed = False
        self._builder: SdistBuilder | None = None
        self._cheap: dict[str, bool] = {}  # sdist URL -> metadata known without a build
        # Time the callers (the resolver's thread) spent inside the Repository methods: waiting
        # for fetches, or doing them, and parsing what came back (counters: source_wait_ms).
        self._waited = 0.0
        self._depth = threading.local()

    # -- lifecycle -----------------------------------------------------------------------------
    def hint_target(self, target: Target) -> None:
        """Tell the prefetcher which files the resolver will pick (tags, Python, markers)."""
        self._prefetcher.hint_target(target)

    def prefetch(self, names: Iterable[str]) -> None:
        """Start fetching the project pages of ``names`` (the root requirements) in parallel."""
        for name in sorted(names):
            self._prefetch_project(canonicalize_name(name))

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
        return {**counters, "source_wait_ms": round(self._waited * 1000)}

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
        project = self._fetcher.project(name)
        for release, file, variants in self._prefetcher.newest(project):
            if variants:
                self._tasks.prefetch(("variants", release.name, release.version), partial(self._load_variant_metadata, release))
            if file is not None:
                self._prefetch_metadata(release, file)
        return project

    # -- core metadata -------------------------------------------------------------------------
    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        with self._waiting():
            return self._metadata(release, file)

    def _metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        try:
            meta: CoreMetadata = self._tasks.result(("metadata", file.url), lambda: self._load_metadata(release, file))
        except DynamicMetadata as dynamic:  # only a build can tell: here, in the caller's thread
            meta = self._tasks.result(("build", file.url), partial(self._build_metadata, release, file, dynamic))
        if self._tasks.prefetching:
            for older, older_file in self._prefetcher.older(self._project(release.name), release):
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
