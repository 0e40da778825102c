"""One HTTP client for all remote sources: a shared connection pool (httpx), timeouts, bounded
retries with exponential backoff on connection errors and 5xx/429, the on-disk cache, and the
counters a :class:`~varsolve.reporter.Reporter` is told about.

Every failure a user can see is a :class:`~varsolve.errors.SourceError` of one line that names
the URL. A 404 is not an error here: callers decide what it means ("no such package").
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import SourceError
from .cache import DiskCache

if TYPE_CHECKING:
    import httpx

    from ..reporter import Reporter

log = logging.getLogger("varsolve")

USER_AGENT = f"varsolve/{__version__}"
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Response:
    url: str  # after redirects
    status: int
    headers: dict[str, str]  # lower-case names
    content: bytes
    from_cache: bool = False
    reason: str = ""


@dataclass
class Counters:
    """What the progress display and the benchmarks report."""

    requests: int = 0
    in_flight: int = 0
    bytes: int = 0
    cache_hits: int = 0  # pages and metadata answered by the cache (fresh, offline, or revalidated by a 304)
    not_modified: int = 0  # 304 answers (each also a cache hit)
    retries: int = 0
    pages: int = 0  # project pages read
    metadata: int = 0  # core metadata files parsed (from the network or the cache)
    metadata_fetched: int = 0  # of those, fetched over the network
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: int) -> None:
        with self._lock:
            for key, delta in deltas.items():
                setattr(self, key, getattr(self, key) + delta)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class HttpClient:
    """GET (and HEAD) with retries, through one connection pool; ``reporter`` hears of every
    change of :attr:`counters`."""

    def __init__(
        self,
        *,
        cache: DiskCache | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.25,
        max_connections: int = 16,
        reporter: Reporter | None = None,
        refresh: bool = False,
        refresh_packages: frozenset[str] = frozenset(),
        offline: bool = False,
    ) -> None:
        self.cache = cache
        self.refresh = refresh
        self.refresh_packages = refresh_packages  # normalized names
        self.offline = offline
        # --refresh: what was stored before this moment is revalidated; what this run stored
        # itself (another thread, another target of the same lock) is not asked for again.
        self.started = time.time()
        self.retries = retries
        self.backoff = backoff
        self.counters = Counters()
        self.reporter = reporter
        self._timeout = timeout
        self._max_connections = max_connections
        self._client_instance: httpx.Client | None = None
        self._client_lock = threading.Lock()

    @property
    def _client(self) -> httpx.Client:
        """The httpx client, made on the first request: a run served from a fresh cache
        never imports httpx (~60 ms)."""
        if self._client_instance is None:
            with self._client_lock:
                if self._client_instance is None:
                    self._client_instance = self._make_client()
        return self._client_instance

    def _make_client(self) -> httpx.Client:
        lib = import_httpx()  # the module, typed as such only under TYPE_CHECKING

        limits = lib.Limits(max_connections=self._max_connections, max_keepalive_connections=self._max_connections)
        client: httpx.Client = lib.Client(
            timeout=lib.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
            # Loading the CA bundle costs ~60 ms: only pay it when an https URL shows up. The
            # default transport serves plain http (no TLS, so nothing to verify).
            transport=lib.HTTPTransport(limits=limits, verify=False),
            mounts={"https://": _LazyTransport(lambda: lib.HTTPTransport(limits=limits))},
            follow_redirects=True,
            headers={"User-Agent": USER_AGENT},
        )
        return client

    def close(self) -> None:
        if self._client_instance is not None:
            self._client_instance.close()

    def count(self, **deltas: int) -> None:
        """Add to :attr:`counters` (callers count pages and metadata read) and report."""
        self.counters.add(**deltas)
        if self.reporter is not None:
            self.reporter.fetch_progress(self.counters.snapshot())

    # -- requests ---------------------------------------------------------------------------
    def get(self, url: str, *, headers: dict[str, str] | None = None, what: str = "") -> Response:
        """GET with retries; returns 2xx, 304, 404 and 410 responses, raises on anything else."""
        r = self._request("GET", url, headers, what)
        if r.status in (200, 203, 206, 304, 404, 410):
            return r
        raise SourceError(f"{url}: HTTP {r.status} {r.reason}".rstrip() + (f" ({what})" if what else ""))

    def head(self, url: str, *, headers: dict[str, str] | None = None, what: str = "") -> Response:
        """HEAD with retries; returns whatever status the server ends with (no body)."""
        return self._request("HEAD", url, headers, what)

    def _request(self, method: str, url: str, headers: dict[str, str] | None, what: str) -> Response:
        if self.offline:
            raise SourceError(f"{url}: not in the cache, and --offline allows no network access" + (f" ({what})" if what else ""))
        httpx = import_httpx()

        attempts = self.retries + 1
        last_problem = ""
        for attempt in range(attempts):
            if attempt:
                self.counters.add(retries=1)
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            self.count(requests=1, in_flight=1)
            try:
                r = self._client.request(method, url, headers=headers)
            except httpx.TimeoutException:
                last_problem = "timed out"
                continue
            except httpx.TransportError as exc:
                last_problem = _describe_transport_error(exc)
                continue
            except httpx.InvalidURL as exc:
                raise SourceError(f"{url}: invalid URL ({exc})") from None
            finally:
                self.count(in_flight=-1)
            self.counters.add(bytes=len(r.content))
            if r.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {r.status_code} {r.reason_phrase}".rstrip()
                continue
            if r.status_code == 304:
                self.counters.add(not_modified=1)
            return Response(
                str(r.url), r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content, reason=r.reason_phrase
            )
        tries = f"after {attempts} attempts" if attempts > 1 else "no retries"
        raise SourceError(f"{url}: {last_problem} ({tries})")

    def refresh_before(self, package: str | None = None) -> float | None:
        """The time before which cached entries of ``package`` must be revalidated (``--refresh``,
        ``--refresh-package``); ``None`` when the usual freshness rules apply."""
        if self.refresh or (package is not None and package in self.refresh_packages):
            return self.started
        return None

    def get_cached(self, url: str, *, accept: str | None = None, what: str = "", package: str | None = None) -> Response:
        """GET a mutable resource through the cache: fresh entries need no request, stale ones
        are revalidated with their ``ETag`` / ``Last-Modified`` (a 304 counts as a cache hit).
        ``package`` (a normalized name) is whose resource it is, for ``--refresh-package``.
        Offline, any cached entry is used, and a missing one is an error naming ``url``."""
        key = f"{accept or ''} {url}"
        cached = self.cache.load_response(key) if self.cache else None
        if cached is not None:
            refresh_before = self.refresh_before(package)
            revalidate = refresh_before is not None and cached.stored_at < refresh_before and not cached.immutable
            if self.offline or (not revalidate and cached.is_fresh()):
                self.count(cache_hits=1)
                return Response(cached.url, cached.status, cached.headers, cached.content, from_cache=True)
        elif self.offline:
            raise SourceError(f"{url}: not in the cache, and --offline allows no network access" + (f" ({what})" if what else ""))
        headers = {"Accept": accept} if accept else {}
        if cached is not None:
            headers.update(cached.validators())
        r = self.get(url, headers=headers, what=what)
        if r.status == 304 and cached is not None and cached.status == 200:
            if self.cache:
                self.cache.touch_response(key, cached, r.headers)
            self.count(cache_hits=1)
            return Response(cached.url, 200, {**cached.headers, **r.headers}, cached.content, from_cache=True)
        if r.status == 304:
            raise SourceError(f"{url}: HTTP 304 for a request without validators")
        if r.status in (200, 203, 404, 410) and self.cache:
            self.cache.store_response(key, r.url, r.headers, r.content if r.status in (200, 203) else b"", r.status)
        return r

    def get_range(self, url: str, range_header: str, what: str = "") -> Response:
        """A Range request; the server may answer 206 or 200 (whole file), both are returned."""
        r = self.get(url, headers={"Range": range_header, "Accept-Encoding": "identity"}, what=what)
        if r.status in (404, 410):
            raise SourceError(f"{url}: HTTP {r.status} (the index lists this file)")
        return r


_HTTPX: ModuleType | None = None
_HTTPX_LOCK = threading.Lock()


def import_httpx() -> ModuleType:
    """``import httpx`` without its command-line entry point, safe from several threads.

    httpx's ``__init__`` imports ``httpx._main`` (click, rich, pygments: ~20 ms, a tenth of a
    cached resolution) whenever those happen to be installed, and falls back to a stub when
    that import fails. A placeholder module without ``main`` makes it fail; it is removed
    again so that ``python -m httpx`` in the same process would still work. The lock matters:
    another thread must never see the half-imported module.
    """
    global _HTTPX
    if _HTTPX is not None:
        return _HTTPX
    import sys
    import types

    with _HTTPX_LOCK:
        if _HTTPX is None:
            placeholder = None
            if "httpx" not in sys.modules:
                placeholder = types.ModuleType("httpx._main")
                sys.modules.setdefault("httpx._main", placeholder)
            try:
                import httpx
            finally:
                if placeholder is not None and sys.modules.get("httpx._main") is placeholder:
                    del sys.modules["httpx._main"]
            _HTTPX = httpx
    return _HTTPX


class _LazyTransport:
    """An httpx transport created on first use (httpx calls only these three methods)."""

    def __init__(self, factory: Callable[[], httpx.HTTPTransport]) -> None:
        self._factory = factory
        self._transport: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._transport is None:
            with self._lock:
                if self._transport is None:
                    self._transport = self._factory()
        assert self._transport is not None
        return self._transport.handle_request(request)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def __enter__(self) -> _LazyTransport:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _describe_transport_error(exc: Exception) -> str:
    httpx = import_httpx()

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({text or 'connection refused'})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection broken ({text or 'incomplete response'})"
    if isinstance(exc, httpx.ReadError):
        return f"connection broken while reading ({text or 'read error'})"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
