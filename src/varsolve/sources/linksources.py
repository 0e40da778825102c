"""Where a project's links come from: the :class:`LinkSource` protocol and its index
implementation, the simple repository API (PEP 503 HTML, PEP 691 JSON) over HTTP or
``file://``. (``--find-links`` folders are in :mod:`.findlinks`.)"""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from functools import partial
from typing import Protocol, TypeVar

from packaging.utils import NormalizedName

from ..errors import SourceError
from .files import ProjectPage, is_local, local_path
from .http import HttpClient, check_url
from .pages import ACCEPT, Link, is_json_page, json_page_files, page_rows, parse_page

_T = TypeVar("_T")


class LinkSource(Protocol):
    """Where links come from: an index URL or a local folder."""

    description: str
    announces_requires_python: bool  # an index does; a folder of files does not

    def project_links(self, name: NormalizedName) -> list[Link] | None:
        """The project's links; ``None`` when the source does not have the project."""

    def project_page(self, name: NormalizedName) -> ProjectPage | None:
        """The project's files grouped by version (built lazily); ``None`` as above."""


class IndexSource:
    """A PEP 503/691 index such as ``https://pypi.org/simple/``.

    A project page that is not found usually means "no such project"; but when the index
    itself is not found either, the URL is wrong, and the user hears that rather than a
    misleading "no package named ...". The index is looked at once per run, and only after a
    404, so a correct index costs nothing extra.
    """

    announces_requires_python = True

    def __init__(self, url: str, client: HttpClient | None) -> None:
        try:
            scheme = urllib.parse.urlsplit(url).scheme
        except ValueError as exc:
            raise SourceError(f"{url}: not a valid index URL ({exc})") from None
        if scheme not in ("http", "https", "file"):
            raise SourceError(f"{url}: an index URL must start with http://, https:// or file://")
        if scheme != "file":
            check_url(url)
        if client is None and not is_local(url):
            raise SourceError(f"{url}: an HTTP index needs an HTTP client")
        self.url = url.rstrip("/") + "/"
        self.description = self.url
        self.client = client
        self._found_a_project = False
        self._root_problem: str | None = None
        self._root_checked = False
        self._root_lock = threading.Lock()

    def project_links(self, name: NormalizedName) -> list[Link] | None:
        page = f"{self.url}{name}/"
        if is_local(page):
            links = file_index_links(page)
        else:
            assert self.client is not None
            r = self.client.get_cached(page, accept=ACCEPT, what="project page", package=name)
            links = None if r.status in (404, 410) else parse_page(r.content, r.headers.get("content-type", "text/html"), r.url)
        return self._found(links)

    def project_page(self, name: NormalizedName) -> ProjectPage | None:
        """The project page, grouped: for a page in the HTTP cache that answers without a
        request, its parsed form from the cache when there is one for that very body (the
        page's own entry is read up to its head only); else the page as the HTTP cache or the
        index serves it, parsed, and its parsed form stored for the next run."""
        page = f"{self.url}{name}/"
        if is_local(page):
            links = file_index_links(page)
            rows = None if links is None else [link.row() for link in links]
            return self._found(None if rows is None else ProjectPage.from_rows(rows, name, page, True))
        client = self.client
        assert client is not None
        found = client.cache.load_response_head(_page_key(page)) if client.cache is not None else None
        if found is not None and found[0].usable(offline=client.offline, refresh_before=client.refresh_before(name)):
            head, body_sha256 = found
            parsed = None
            if head.status == 200:
                parsed = self._cached_page(name, page, body_sha256, head.url, head.headers.get("content-type", "text/html"))
            if parsed is not None or head.status in (404, 410):
                client.count(cache_hits=1)  # as get_cached counts a page it answers from the cache
                return self._found(parsed)
        return self._found(self._parsed_page(name, page, cache_reads=True))

    def _parsed_page(self, name: NormalizedName, page: str, cache_reads: bool) -> ProjectPage | None:
        """The page through the HTTP cache (or the index), its parsed form read from the cache
        when ``cache_reads`` and it is there for this body; else parsed, and stored there."""
        assert self.client is not None
        cache = self.client.cache
        r = self.client.get_cached(page, accept=ACCEPT, what="project page", package=name)
        if r.status in (404, 410):
            return None
        content_type = r.headers.get("content-type", "text/html")
        body_sha256 = hashlib.sha256(r.content).hexdigest() if cache is not None else ""
        parsed = self._cached_page(name, page, body_sha256, r.url, content_type) if cache_reads and cache is not None else None
        if parsed is None:
            if is_json_page(content_type):
                parsed = ProjectPage.from_json_files(json_page_files(r.content, r.url), name, r.url, True)
            else:
                parsed = ProjectPage.from_rows(page_rows(r.content, content_type, r.url), name, r.url, True)
            if cache is not None:
                cache.store_page(_page_key(page), body_sha256, r.url, content_type, parsed.encode)
        return parsed

    def _cached_page(
        self, name: NormalizedName, page: str, body_sha256: str, url: str, content_type: str
    ) -> ProjectPage | None:
        """The parsed form of the page's body ``body_sha256`` (served from ``url``) from the
        cache; a release of it that does not check parses the page again."""
        assert self.client is not None and self.client.cache is not None
        data = self.client.cache.load_page(_page_key(page), body_sha256, url, content_type)
        if data is None:
            return None
        return ProjectPage.decode(data, name, url, True, partial(self._parsed_page, name, page, cache_reads=False))

    def _found(self, found: _T) -> _T:
        """``found`` (links or a page; ``None``: the index lacks the project, see
        :meth:`_check_root`)."""
        if found is None:
            self._check_root()
        else:
            self._found_a_project = True
        return found

    def _check_root(self) -> None:
        with self._root_lock:
            if not self._root_checked and not self._found_a_project:
                self._root_problem = self._root_status()
                self._root_checked = True
        if self._root_problem is not None:
            raise SourceError(f"{self.url}: {self._root_problem}: is the index URL right?")

    def _root_status(self) -> str | None:
        """Why the index's own page is missing, ``None`` when it is there."""
        if is_local(self.url):
            return None if local_path(self.url).is_dir() else "no such directory"
        assert self.client is not None
        if self.client.offline:  # the cached 404 is all there is to go on
            return None
        # HEAD: PyPI's root page lists every project (tens of MB); only its status matters.
        r = self.client.head(self.url, headers={"Accept": ACCEPT}, what="index page")
        if r.status in (404, 410):
            return f"HTTP {r.status} for the index page itself"
        return None


def file_index_links(page: str) -> list[Link] | None:
    """A built index on disk (``file:///.../simple/``): read its HTML page directly."""
    path = local_path(page) / "index.html"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SourceError(f"{page}: cannot read ({exc.strerror})") from None
    return parse_page(content, "text/html", path.as_uri())


def _page_key(page: str) -> str:
    """The key :meth:`HttpClient.get_cached` keeps ``page`` under (the request's ``Accept`` and
    URL); its parsed form is kept under the same key."""
    return f"{ACCEPT} {page}"
