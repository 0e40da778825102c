"""Where a project's links come from: the :class:`LinkSource` protocol and its index
implementation, the simple repository API (PEP 503 HTML, PEP 691 JSON) over HTTP or
``file://``. (``--find-links`` folders are in :mod:`.findlinks`.)"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Protocol

from packaging.utils import NormalizedName

from ..errors import SourceError
from .files import is_local, local_path
from .http import HttpClient, check_url
from .pages import ACCEPT, Link, parse_page


class LinkSource(Protocol):
    """Where links come from: an index URL or a local folder."""

    description: str
    announces_requires_python: bool  # an index does; a folder of files does not

    def project_links(self, name: NormalizedName) -> list[Link] | None:
        """The project's links; ``None`` when the source does not have the project."""


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
        if links is None:
            self._check_root()
        else:
            self._found_a_project = True
        return links

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
