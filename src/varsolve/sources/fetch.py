"""Reading what the :class:`~varsolve.repository.Repository` questions need from link sources,
once each (memoising and threads are :mod:`.simple`'s business):

* a project: the project page of the first source that lists it (``first-index``), or of every
  source with each version from the first that lists it (``unsafe-best-match``), files grouped
  by version;
* core metadata of one file: the PEP 658/714 ``.metadata`` file when the index has one, else
  ``METADATA`` read from the wheel with Range requests on its central directory
  (:mod:`.lazyzip`), else (sdists) ``PKG-INFO`` of the downloaded sdist when it is static
  (PEP 643); an sdist whose metadata is dynamic raises :class:`~.distmeta.DynamicMetadata`,
  and the repository passes a ``built`` callable (:mod:`.build`) that gives its metadata;
* variant metadata of a release: ``{name}-{version}-variants.json`` of every source listing
  it, plus ``variant.json`` from one wheel of each label those files lack (PEP 825 PR #5100),
  merged with PEP 825's consistency rules (:func:`~varsolve.variants.metadata.merge`).

Immutable results go through the on-disk cache (:mod:`.cache`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.version import Version

from ..errors import InvalidDistribution, InvalidVariantMetadata, SourceError
from ..repository import CoreMetadata, DistFile, Release
from ..variants.filenames import escaped_name, parse_wheel
from ..variants.metadata import VariantMetadata, load_metadata_bytes, merge
from . import distmeta
from .cache import DEFAULT_MAX_AGE, DiskCache, artefact_key
from .files import (
    VARIANTS_SUFFIX,
    dist_file,
    dist_version,
    hashes_match,
    is_local,
    local_path,
    open_local_zip,
    read_local,
    variants_json_version,
    verify_hashes,
)
from .http import HttpClient
from .linksources import LinkSource
from .pages import Link

if TYPE_CHECKING:
    from .lazyzip import Layout

log = logging.getLogger("varsolve")


@dataclass
class Project:
    """A project as every source lists it."""

    releases: list[Release]  # newest first
    links: dict[str, Link]  # by URL: the distributions and variants.json files
    variants_links: dict[Version, list[Link]]  # one per source that has one


class Fetcher:
    """Fetches and parses; counts what it read on the client's counters."""

    def __init__(self, sources: Sequence[LinkSource], client: HttpClient | None, index_strategy: str = "first-index") -> None:
        self.sources = list(sources)
        self.client = client
        self.index_strategy = index_strategy  # SourceSettings.index_strategy
        self.cache: DiskCache | None = client.cache if client is not None else None
        # The layout of the last wheel of each project read by ranges: the next wheel of the
        # project asks for what it says (lazyzip.tail_for), not for a fixed tail.
        self._layouts: dict[NormalizedName, Layout] = {}

    def count(self, **deltas: int) -> None:
        if self.client is not None:
            self.client.count(**deltas)

    def _http(self) -> HttpClient:
        if self.client is None:  # only file:// links without one
            raise SourceError("an HTTP link without an HTTP client")
        return self.client

    # -- project pages -------------------------------------------------------------------------
    def project(self, name: NormalizedName) -> Project:
        """The project as the sources list it. ``first-index``: the first source that lists the
        project is its only source (no other index can add a version: dependency confusion).
        ``unsafe-best-match``: every source adds its versions; a version that several list comes
        whole from the first of them: its files and its ``*-variants.json`` (PEP 825: each
        source's variant metadata stands alone, another index cannot add a variant to it)."""
        by_filename: dict[str, tuple[Link, DistFile]] = {}
        variants_links: dict[Version, list[Link]] = {}
        links_by_url: dict[str, Link] = {}
        owner: dict[Version, int] = {}  # the source each version comes from
        escaped = escaped_name(name)
        for position, source in enumerate(self.sources):
            links = source.project_links(name)
            if links is None:
                continue
            found: list[tuple[Version, Link, DistFile | None]] = []
            for link in links:
                if link.filename.endswith(VARIANTS_SUFFIX):
                    version = variants_json_version(link.filename, escaped)
                    if version is not None:
                        found.append((version, link, None))
                else:
                    dist = dist_file(link, name, source.announces_requires_python)
                    if dist is not None:
                        found.append((dist_version(dist), link, dist))
            for version, link, dist in found:
                if owner.setdefault(version, position) != position:
                    continue  # an earlier source lists this version
                if dist is None:
                    if link.url not in links_by_url:
                        variants_links.setdefault(version, []).append(link)
                        links_by_url[link.url] = link
                else:
                    by_filename.setdefault(link.filename, (link, dist))
            if self.index_strategy == "first-index":
                break
        self.count(pages=1)
        files: dict[Version, list[DistFile]] = {}
        for _, (link, dist) in sorted(by_filename.items()):
            files.setdefault(dist_version(dist), []).append(dist)
            links_by_url[link.url] = link
        releases = [Release(name, version, tuple(fs)) for version, fs in sorted(files.items(), reverse=True)]
        return Project(releases, links_by_url, variants_links)

    # -- core metadata -------------------------------------------------------------------------
    def _artefact(self, kind: str, link: Link, release: Release) -> tuple[str, float | None, float | None]:
        """The cache key of what is derived from ``link``'s file (its URL and announced hashes:
        never another index's), its lifetime (``None``: immutable, the key names the content)
        and the time before which a cached copy is not trusted (``--refresh``)."""
        metadata_hashes = link.core_metadata if kind == "core-metadata" else None
        key = artefact_key(kind, link.url, link.hashes, metadata_hashes)
        max_age = None if link.hashes or metadata_hashes else float(DEFAULT_MAX_AGE)
        refresh_before = self.client.refresh_before(release.name) if self.client is not None else None
        return key, max_age, refresh_before

    def core_metadata(self, release: Release, link: Link, built: Callable[[], bytes] | None = None) -> CoreMetadata:
        """The file's core metadata, from the cache or else fetched; ``built`` instead of
        fetching: the metadata of a dynamic sdist, built (and checked) by the caller, which
        is then cached like any other."""
        key, max_age, refresh_before = self._artefact("core-metadata", link, release)
        meta = self.cache.load_core_metadata(key, refresh_before=refresh_before) if self.cache else None
        if meta is None:
            raw = self.cache.load_derived(key, refresh_before=refresh_before) if self.cache else None
            if raw is None:
                # Kept parsed only (below): a file fewer per wheel of a cold run, each of which
                # costs more system time than the rest of its caching.
                raw = built() if built is not None else self._fetch_metadata(release, link)
                self.count(metadata_fetched=1)
            else:
                self.count(cache_hits=1)
            meta = distmeta.parse_core_metadata(raw, link.url)
            if self.cache:
                self.cache.store_core_metadata(key, meta, max_age=max_age)
        else:
            self.count(cache_hits=1)
        self.count(metadata=1)
        return meta

    def _fetch_metadata(self, release: Release, link: Link) -> bytes:
        if is_local(link.url):
            return self._local_metadata(release, link)
        if link.core_metadata is not None:
            r = self._http().get(link.metadata_url, what="core metadata")
            if r.status == 200:
                verify_hashes(link.core_metadata, r.content, link.metadata_url)
                if not link.filename.endswith(".whl"):  # an sdist's PKG-INFO: final only if PEP 643 says so
                    why = distmeta.dynamic_fields(r.content, link.metadata_url)
                    if why is not None:
                        raise distmeta.DynamicMetadata(why)
                return r.content
            log.info("%s: HTTP %s, reading the metadata from the file instead", link.metadata_url, r.status)
        if link.filename.endswith(".whl"):
            return self._remote_wheel_member(release, link, "METADATA")
        return distmeta.sdist_pkg_info(self._download(link), link.filename, link.url)

    def _local_metadata(self, release: Release, link: Link) -> bytes:
        path = local_path(link.url)
        if link.filename.endswith(".whl"):
            return distmeta.wheel_metadata(open_local_zip(path, link.url), release.name, link.url)
        return distmeta.sdist_pkg_info(read_local(path, link.url), link.filename, link.url)

    def _remote_wheel_member(self, release: Release, link: Link, member: str) -> bytes:
        """Read METADATA (and, for a variant wheel, variant.json) in one pass over the zip."""
        from .lazyzip import RemoteWheel, tail_for

        wheel = RemoteWheel(self._http(), link.url, link.size, tail_for(self._layouts.get(release.name)))
        wanted = ["METADATA"] + (["variant.json"] if parse_wheel(link.filename).label else [])
        found = wheel.dist_info_members(release.name, wanted)
        if wheel.layout is not None:
            self._layouts[release.name] = wheel.layout
        if found["METADATA"] is None:
            raise InvalidDistribution(link.url, f"not a valid wheel (no {release.name}-*.dist-info/METADATA)")
        if wheel.whole is not None:
            verify_hashes(link.hashes, wheel.whole, link.url)
        if self.cache:
            for name, data in found.items():
                # The METADATA asked for is kept parsed by core_metadata, not as it is.
                if data is not None and not (name == member == "METADATA"):
                    key, max_age, _ = self._artefact("core-metadata" if name == "METADATA" else "variant-json", link, release)
                    self.cache.store_derived(key, data, max_age=max_age)
        data = found.get(member)
        if data is None:
            raise SourceError(f"{link.url}: not a valid variant wheel (no *.dist-info/{member})")
        return data

    def distribution(self, link: Link) -> bytes:
        """The whole file, hash-checked: read (``file://``) or downloaded."""
        if is_local(link.url):
            data = read_local(local_path(link.url), link.url)
            verify_hashes(link.hashes, data, link.url)
            return data
        return self._download(link)

    def _download(self, link: Link) -> bytes:
        r = self._http().get(link.url, what="distribution", limit=link.size)
        if r.status != 200:
            raise SourceError(f"{link.url}: HTTP {r.status} (the index lists this file)")
        verify_hashes(link.hashes, r.content, link.url)
        return r.content

    # -- variant metadata ----------------------------------------------------------------------
    def variant_metadata(self, release: Release, project: Project) -> VariantMetadata:
        docs: list[VariantMetadata] = []
        for link in project.variants_links.get(release.version, []):
            docs.append(self._variants_json(link, release.name))
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

    def _variants_json(self, link: Link, package: NormalizedName) -> VariantMetadata:
        if is_local(link.url):
            data = read_local(local_path(link.url), link.url)
        else:
            # Mutable (PEP 825): cached with revalidation, never trusted as immutable.
            client = self._http()
            r = client.get_cached(link.url, what="variants.json", package=package)
            if r.status in (404, 410):
                raise SourceError(f"{link.url}: HTTP {r.status} (the index lists this file)")
            data = r.content
            if r.from_cache and not hashes_match(link.hashes, data):
                r = client.get(link.url, what="variants.json")  # the page is newer than our copy
                data = r.content
        verify_hashes(link.hashes, data, link.url)
        return load_metadata_bytes(data, link.url)

    def _wheel_variant_json(self, release: Release, link: Link) -> VariantMetadata:
        key, _, refresh_before = self._artefact("variant-json", link, release)
        data = self.cache.load_derived(key, refresh_before=refresh_before) if self.cache else None
        if data is None:
            if is_local(link.url):
                archive = open_local_zip(local_path(link.url), link.url)
                data = distmeta.read_wheel_member(archive, release.name, "variant.json", link.url)
                if data is None:
                    raise InvalidVariantMetadata("a variant wheel without *.dist-info/variant.json", where=link.url)
            else:
                data = self._remote_wheel_member(release, link, "variant.json")
        return load_metadata_bytes(data, link.url)
