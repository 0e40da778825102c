"""A Repository over simple-repository indexes (PEP 503/691) and ``--find-links`` folders.

How each question of the :class:`~varsolve.repository.Repository` protocol is answered:

* ``releases(name)``: the project page of every source (``<index>/<normalized name>/``, JSON
  asked first, HTML accepted; 404 = no such project), files grouped by version. The first
  source that lists a filename wins. An index's ``requires-python`` is the file's
  Requires-Python (PEP 503/691), so a file without one gets an empty specifier: "announced,
  no constraint".
* ``metadata(release, file)``: the PEP 658/714 ``.metadata`` file when the index has one, else
  ``METADATA`` read from the wheel with Range requests on its central directory
  (:mod:`.lazyzip`), else (sdists) ``PKG-INFO`` of the downloaded sdist when it is static.
* ``variant_metadata(release)``: ``{name}-{version}-variants.json`` of every source listing it,
  plus ``variant.json`` from one wheel of each label those files lack (PEP 825 PR #5100),
  merged with PEP 825's consistency rules (:func:`~varsolve.variants.metadata.merge`).

Concurrency: one HTTP client (one connection pool) and a thread pool of ``workers`` threads
for prefetching. When a project page arrives, the metadata of the newest ``prefetch`` versions
(the file the target would pick) and their ``variants.json`` are fetched in the background;
when metadata arrives, the project pages of its dependencies are. A request the resolver waits
for runs at once in its own thread (or joins the one in flight), never queues behind
prefetches. Everything is memoised per run and, through :mod:`.cache`, on disk.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.parse
from collections.abc import Callable, Sequence
import queue
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ..errors import InvalidVariantMetadata, InvalidWheelFilename, SourceError
from ..repository import CoreMetadata, DistFile, Release
from ..variants.filenames import escaped_name, parse_sdist, parse_wheel
from ..variants.metadata import VariantMetadata, load_metadata_bytes, merge
from . import distmeta
from .cache import DiskCache, default_cache_dir
from .http import HttpClient
from .pages import ACCEPT, Link, parse_page

if TYPE_CHECKING:
    from ..reporter import Reporter
    from .settings import SourceSettings

log = logging.getLogger("varsolve")

VARIANTS_SUFFIX = "-variants.json"
_HASH_PREFERENCE = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")


class LinkSource(Protocol):
    """Where links come from: an index URL or a local folder."""

    description: str
    announces_requires_python: bool  # an index does; a folder of files does not

    def project_links(self, name: NormalizedName) -> list[Link] | None:
        """The project's links; ``None`` when the source does not have the project."""


class IndexSource:
    """A PEP 503/691 index such as ``https://pypi.org/simple/``."""

    announces_requires_python = True

    def __init__(self, url: str, client: HttpClient) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https", "file"):
            raise SourceError(f"{url}: an index URL must start with http://, https:// or file://")
        self.url = url.rstrip("/") + "/"
        self.description = self.url
        self.client = client

    def project_links(self, name: NormalizedName) -> list[Link] | None:
        page = f"{self.url}{name}/"
        if page.startswith("file:"):
            return _file_index_links(page)
        r = self.client.get_cached(page, accept=ACCEPT, what="project page")
        if r.status in (404, 410):
            return None
        return parse_page(r.content, r.headers.get("content-type", "text/html"), r.url)


def _file_index_links(page: str) -> list[Link] | None:
    """A built index on disk (``file:///.../simple/``): read its HTML page directly."""
    path = _local_path(page) / "index.html"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(f"{page}: cannot read ({exc.strerror})") from None
    return parse_page(content, "text/html", path.as_uri())


@dataclass
class _Project:
    releases: list[Release]
    links: dict[str, Link]  # by URL
    variants_links: dict[Version, list[Link]]


class _Task:
    """A memoised unit of work that either a prefetch worker or a waiting caller runs, once."""

    __slots__ = ("fn", "future", "claimed", "lock")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: Future = Future()
        self.claimed = False
        self.lock = threading.Lock()

    def run(self) -> None:
        with self.lock:
            if self.claimed:
                return
            self.claimed = True
        try:
            result = self.fn()
        except BaseException as exc:  # handed to whoever asks for the result
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)

    def result(self) -> Any:
        self.run()  # not started yet: do it here rather than wait for a worker
        return self.future.result()


class _Workers:
    """Up to ``count`` daemon threads running prefetch tasks in submission order, started as
    work arrives (a warm run starts none).

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so queued prefetches
    would delay the end of a run that forgot (or had no chance) to close the repository.
    """

    def __init__(self, count: int) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._count = count
        self._started = 0
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], Any]) -> None:
        if self._closed:
            return
        self._queue.put(fn)
        with self._lock:
            if self._idle == 0 and self._started < self._count:
                self._started += 1
                threading.Thread(target=self._work, name=f"varsolve-fetch-{self._started}", daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            fn = self._queue.get()
            with self._lock:
                self._idle -= 1
            if fn is None or self._closed:
                return
            fn()

    def shutdown(self) -> None:
        self._closed = True
        for _ in range(self._started):
            self._queue.put(None)


@dataclass
class SourceOptions:
    cache_dir: str | Path | None = None  # None: ~/.cache/varsolve
    no_cache: bool = False
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 0.25
    workers: int = 8
    prefetch: int = 2  # newest versions whose metadata is fetched when a page arrives
    reporter: Reporter | None = None


def open_simple_repository(settings: SourceSettings) -> SimpleRepository:
    options = SourceOptions(
        cache_dir=settings.cache_dir, no_cache=settings.no_cache, timeout=settings.timeout,
        retries=max(0, settings.retries), backoff=settings.backoff, workers=settings.workers,
        prefetch=settings.prefetch, reporter=settings.reporter,
    )
    return SimpleRepository.from_locations(settings.index_urls, settings.find_links, options)


class SimpleRepository:
    """A :class:`~varsolve.repository.Repository` over index URLs and find-links folders."""

    def __init__(self, sources: Sequence[LinkSource], client: HttpClient | None = None, options: SourceOptions | None = None) -> None:
        self.options = options or SourceOptions()
        self.client = client
        self.sources = list(sources)
        self.reporter = self.options.reporter
        self.cache = client.cache if client is not None else None
        self._pool = _Workers(self.options.workers)
        self._tasks: dict[tuple, _Task] = {}
        self._lock = threading.Lock()
        self._target = None
        self._tag_rank: dict | None = None
        self._env: dict | None = None
        self._closed = False

    @classmethod
    def from_locations(
        cls,
        index_urls: Sequence[str] = (),
        find_links: Sequence[str | Path] = (),
        options: SourceOptions | None = None,
    ) -> SimpleRepository:
        """Sources in order: the index URLs, then the find-links folders."""
        from .findlinks import FindLinksSource

        options = options or SourceOptions()
        client = None
        if index_urls:
            cache = None if options.no_cache else DiskCache(options.cache_dir or default_cache_dir())
            client = HttpClient(
                cache=cache, timeout=options.timeout, retries=options.retries, backoff=options.backoff,
                max_connections=options.workers + 2,
            )
        sources: list[LinkSource] = [IndexSource(url, client) for url in index_urls]  # type: ignore[arg-type]
        sources += [FindLinksSource(path) for path in find_links]
        repo = cls(sources, client, options)
        if client is not None and options.reporter is not None:
            client.on_change = repo._report
        return repo

    # -- lifecycle -----------------------------------------------------------------------------
    def hint_target(self, target) -> None:
        """Tell the prefetcher which files the resolver will pick (tags, Python, markers)."""
        self._target = target
        self._tag_rank = target.tag_rank()
        self._env = target.marker_environment()

    def prefetch(self, names) -> None:
        """Start fetching the project pages of ``names`` (the root requirements) in parallel."""
        for name in sorted(names):
            self._prefetch_project(canonicalize_name(name))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown()
        if self.client is not None:
            self.client.close()
        if self.reporter is not None:
            self.reporter.fetch_done()

    def __enter__(self) -> SimpleRepository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def counters(self) -> dict[str, int]:
        return self.client.counters.snapshot() if self.client is not None else {}

    def _report(self) -> None:
        if self.reporter is not None and self.client is not None:
            self.reporter.fetch_progress(self.client.counters.snapshot())

    def _count(self, **deltas: int) -> None:
        if self.client is not None:
            self.client.counters.add(**deltas)
            self._report()

    # -- memoised work -------------------------------------------------------------------------
    def _task(self, key: tuple, fn: Callable[[], Any], background: bool) -> _Task:
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = _Task(fn)
                if background and not self._closed:
                    self._pool.submit(task.run)
        return task

    def _prefetch(self, key: tuple, fn: Callable[[], Any]) -> None:
        if self.options.workers > 0:
            self._task(key, fn, background=True)

    # -- releases ------------------------------------------------------------------------------
    def releases(self, name: NormalizedName) -> list[Release]:
        return list(self._project(canonicalize_name(name)).releases)

    def _project(self, name: NormalizedName) -> _Project:
        return self._task(("project", name), lambda: self._load_project(name), background=False).result()

    def _prefetch_project(self, name: NormalizedName) -> None:
        self._prefetch(("project", name), lambda: self._load_project(name))

    def _load_project(self, name: NormalizedName) -> _Project:
        by_filename: dict[str, tuple[Link, bool]] = {}
        variants_links: dict[Version, list[Link]] = {}
        links_by_url: dict[str, Link] = {}
        escaped = escaped_name(name)
        for source in self.sources:
            links = source.project_links(name)
            if links is None:
                continue
            for link in links:
                if link.filename.endswith(VARIANTS_SUFFIX):
                    # One per source: each source's file describes the wheels it serves, and
                    # their combination must pass PEP 825's consistency rules.
                    version = _variants_json_version(link.filename, escaped)
                    if version is not None and link.url not in links_by_url:
                        variants_links.setdefault(version, []).append(link)
                        links_by_url[link.url] = link
                else:
                    by_filename.setdefault(link.filename, (link, source.announces_requires_python))
        self._count(pages=1)
        files: dict[Version, list[DistFile]] = {}
        for filename, (link, announced) in sorted(by_filename.items()):
            dist = _dist_file(link, name, announced)
            if dist is None:
                continue
            version = dist.wheel.version if dist.wheel else parse_sdist(filename)[1]
            files.setdefault(version, []).append(dist)
            links_by_url[link.url] = link
        releases = [Release(name, version, tuple(fs)) for version, fs in sorted(files.items(), reverse=True)]
        project = _Project(releases, links_by_url, variants_links)
        self._prefetch_newest(project)
        return project

    def _prefetch_newest(self, project: _Project) -> None:
        if self._target is None:
            return
        done = 0
        for release in project.releases:
            if done >= self.options.prefetch:
                break
            if release.yanked or release.version.is_prerelease:
                continue
            if any(f.label for f in release.files) and release.version in project.variants_links:
                self._prefetch(("variants", release.name, release.version), lambda r=release: self._load_variant_metadata(r))
            file = self._likely_file(release, project)
            if file is not None:
                self._prefetch(("metadata", file.url), lambda r=release, f=file: self._load_metadata(r, f))
            done += 1

    def _likely_file(self, release: Release, project: _Project) -> DistFile | None:
        """The non-variant wheel the target prefers (or a cheap sdist), as the finder would pick."""
        assert self._tag_rank is not None and self._target is not None
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
            sdists = [f for f in release.files if f.wheel is None and project.links[f.url].core_metadata is not None]
            chosen = sdists[0] if sdists else None
        return chosen

    # -- core metadata -------------------------------------------------------------------------
    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        meta = self._task(("metadata", file.url), lambda: self._load_metadata(release, file), background=False).result()
        self._prefetch_older(release)
        return meta

    def _prefetch_older(self, release: Release) -> None:
        """The resolver is looking at an older version: it may go on backtracking downwards."""
        if self._target is None:
            return
        project = self._project(release.name)
        versions = [r.version for r in project.releases]
        try:
            i = versions.index(release.version)
        except ValueError:
            return
        if i == 0:
            return
        for older in project.releases[i + 1 : i + 1 + self.options.prefetch]:
            file = self._likely_file(older, project)
            if file is not None:
                self._prefetch(("metadata", file.url), lambda r=older, f=file: self._load_metadata(r, f))

    def _load_metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        project = self._project(release.name)
        link = project.links.get(file.url or "")
        if link is None:
            raise SourceError(f"{file.url or file.filename}: not a file of {release.name} on any source")
        key = f"core-metadata {_content_key(link)}"
        meta = _load_parsed(self.cache, key)
        if meta is None:
            raw = self.cache.load_derived(key) if self.cache else None
            if raw is None:
                raw = self._fetch_metadata(release, link)
                self._count(metadata_fetched=1)
                if self.cache:
                    self.cache.store_derived(key, raw)
            meta = distmeta.parse_core_metadata(raw, link.url)
            _store_parsed(self.cache, key, meta)
        self._count(metadata=1)
        self._prefetch_dependencies(meta)
        return meta

    def _fetch_metadata(self, release: Release, link: Link) -> bytes:
        if link.url.startswith("file:"):
            return self._local_metadata(release, link)
        if link.core_metadata is not None:
            r = self.client.get(link.metadata_url, what="core metadata")
            if r.status == 200:
                _verify(link.core_metadata, r.content, link.metadata_url)
                return r.content
            log.info("%s: HTTP %s, reading the metadata from the file instead", link.metadata_url, r.status)
        if link.filename.endswith(".whl"):
            return self._remote_wheel_member(release, link, "METADATA")
        return distmeta.sdist_pkg_info(self._download(link), link.filename, link.url)

    def _local_metadata(self, release: Release, link: Link) -> bytes:
        path = _local_path(link.url)
        if link.filename.endswith(".whl"):
            return distmeta.wheel_metadata(_open_local_zip(path, link.url), release.name, link.url)
        return distmeta.sdist_pkg_info(_read_local(path, link.url), link.filename, link.url)

    def _remote_wheel_member(self, release: Release, link: Link, member: str) -> bytes:
        """Read METADATA (and, for a variant wheel, variant.json) in one pass over the zip."""
        from .lazyzip import RemoteWheel

        wheel = RemoteWheel(self.client, link.url)
        archive = wheel.zipfile()
        wanted = ["METADATA"] + (["variant.json"] if parse_wheel(link.filename).label else [])
        found: dict[str, bytes | None] = {}
        for name in wanted:
            if name == "METADATA":
                found[name] = distmeta.wheel_metadata(archive, release.name, link.url)
            else:
                found[name] = distmeta.read_wheel_member(archive, release.name, name, link.url)
        if wheel.whole is not None:
            _verify(link.hashes, wheel.whole, link.url)
        if self.cache:
            for name, data in found.items():
                if data is not None:
                    self.cache.store_derived(f"{_member_key(name)} {_content_key(link)}", data)
        data = found.get(member)
        if data is None:
            raise SourceError(f"{link.url}: not a valid variant wheel (no *.dist-info/{member})")
        return data

    def _download(self, link: Link) -> bytes:
        r = self.client.get(link.url, what="distribution")
        if r.status != 200:
            raise SourceError(f"{link.url}: HTTP {r.status} (the index lists this file)")
        _verify(link.hashes, r.content, link.url)
        return r.content

    def _prefetch_dependencies(self, meta: CoreMetadata) -> None:
        if self.options.workers <= 0:
            return
        from ..variants.markers import parse_requirement

        for text in meta.requires_dist:
            req = parse_requirement(text)
            # Variant clauses are unknown until a wheel is chosen, the target may be too: a page
            # fetched in vain is cheap, one fetched late costs a round trip.
            if self._env is not None and req.has_marker and not req.uses_variant_markers and not req.evaluate(self._env):
                continue
            self._prefetch_project(req.name)

    # -- variant metadata ----------------------------------------------------------------------
    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        if not any(f.label for f in release.files):
            return None
        return self._task(
            ("variants", release.name, release.version), lambda: self._load_variant_metadata(release), background=False
        ).result()

    def _load_variant_metadata(self, release: Release) -> VariantMetadata:
        project = self._project(release.name)
        docs: list[VariantMetadata] = []
        for link in project.variants_links.get(release.version, []):
            docs.append(self._variants_json(link))
        known = {label for doc in docs for label in doc.variants}
        by_label: dict[str, DistFile] = {}
        for f in sorted(release.files, key=lambda f: f.filename):
            if f.label and f.label not in known:
                by_label.setdefault(f.label, f)
        for label, f in sorted(by_label.items()):
            doc = self._wheel_variant_json(release, project.links[f.url or ""])
            if set(doc.variants) != {label}:
                raise InvalidVariantMetadata(
                    f"variant.json lists {sorted(doc.variants)}, the filename says {label!r}", where=f.url
                )
            docs.append(doc)
        where = f"{release.name} {release.version}"
        if not docs:
            raise InvalidVariantMetadata("no variant metadata found", where=where)
        return merge(docs, where)

    def _variants_json(self, link: Link) -> VariantMetadata:
        if link.url.startswith("file:"):
            data = _read_local(_local_path(link.url), link.url)
        else:
            # Mutable (PEP 825): cached with revalidation, never trusted as immutable.
            r = self.client.get_cached(link.url, what="variants.json")
            if r.status in (404, 410):
                raise SourceError(f"{link.url}: HTTP {r.status} (the index lists this file)")
            data = r.content
            if r.from_cache and not _matches(link.hashes, data):
                r = self.client.get(link.url, what="variants.json")  # the page is newer than our copy
                data = r.content
        _verify(link.hashes, data, link.url)
        return load_metadata_bytes(data, link.url)

    def _wheel_variant_json(self, release: Release, link: Link) -> VariantMetadata:
        key = f"variant-json {_content_key(link)}"
        data = self.cache.load_derived(key) if self.cache else None
        if data is None:
            if link.url.startswith("file:"):
                archive = _open_local_zip(_local_path(link.url), link.url)
                data = distmeta.read_wheel_member(archive, release.name, "variant.json", link.url)
                if data is None:
                    raise InvalidVariantMetadata("a variant wheel without *.dist-info/variant.json", where=link.url)
            else:
                data = self._remote_wheel_member(release, link, "variant.json")
        return load_metadata_bytes(data, link.url)


# -- helpers ------------------------------------------------------------------------------------

def _dist_file(link: Link, name: NormalizedName, announced: bool) -> DistFile | None:
    filename = link.filename
    try:
        if filename.endswith(".whl"):
            wheel = parse_wheel(filename)
            if wheel.name != name:
                return None
        elif filename.endswith((".tar.gz", ".zip")):
            wheel = None
            if parse_sdist(filename)[0] != name:
                return None
        else:
            return None  # eggs, installers, signatures: not for us
    except InvalidWheelFilename:
        log.debug("skipping %s: not a valid distribution filename", link.url)
        return None
    requires_python = SpecifierSet() if announced else None
    if link.requires_python:
        try:
            requires_python = SpecifierSet(link.requires_python)
        except InvalidSpecifier:
            log.info("%s: ignoring invalid requires-python %r", link.url, link.requires_python)
    return DistFile(
        filename=filename,
        wheel=wheel,
        url=link.url,
        hashes=dict(link.hashes),
        size=link.size,
        upload_time=link.upload_time,
        requires_python=requires_python,
        yanked=link.yanked,
    )


def _variants_json_version(filename: str, escaped: str) -> Version | None:
    stem = filename[: -len(VARIANTS_SUFFIX)]
    name, _, version = stem.rpartition("-")
    if escaped_name(name) != escaped:
        return None
    try:
        return Version(version)
    except Exception:
        return None


def _load_parsed(cache: DiskCache | None, key: str) -> CoreMetadata | None:
    """The parsed form of cached core metadata: a warm run then needs no email parser."""
    import json

    data = cache.load_derived("parsed " + key) if cache else None
    if data is None:
        return None
    try:
        doc = json.loads(data)
        rp = doc["requires_python"]
        return CoreMetadata(tuple(doc["requires_dist"]), SpecifierSet(rp) if rp is not None else None, frozenset(doc["provides_extra"]))
    except (ValueError, KeyError, TypeError, InvalidSpecifier):
        return None


def _store_parsed(cache: DiskCache | None, key: str, meta: CoreMetadata) -> None:
    import json

    if cache is not None:
        doc = {
            "requires_dist": list(meta.requires_dist),
            "requires_python": str(meta.requires_python) if meta.requires_python is not None else None,
            "provides_extra": sorted(meta.provides_extra),
        }
        cache.store_derived("parsed " + key, json.dumps(doc).encode())


def _content_key(link: Link) -> str:
    digest = link.hashes.get("sha256")
    return f"sha256:{digest}" if digest else f"url:{link.url}"


def _member_key(member: str) -> str:
    return "core-metadata" if member == "METADATA" else "variant-json"


def _matches(hashes: dict[str, str], data: bytes) -> bool:
    for algo in _HASH_PREFERENCE:
        if algo in hashes:
            return hashlib.new(algo, data).hexdigest() == hashes[algo]
    return True


def _verify(hashes: dict[str, str], data: bytes, url: str) -> None:
    for algo in _HASH_PREFERENCE:
        if algo in hashes:
            got = hashlib.new(algo, data).hexdigest()
            if got != hashes[algo]:
                raise SourceError(f"{url}: {algo} mismatch (the index says {hashes[algo][:16]}..., the download has {got[:16]}...)")
            return


def _local_path(url: str) -> Path:
    from urllib.request import url2pathname  # heavy module, rarely needed

    return Path(url2pathname(urllib.parse.urlsplit(url).path))


def _read_local(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{where}: cannot read ({exc.strerror})") from None


def _open_local_zip(path: Path, where: str):
    import zipfile

    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{where}: not a valid wheel ({exc})") from None
