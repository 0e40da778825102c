"""One HTTP client for all remote sources: a shared connection pool (httpx), timeouts, bounded
retries with exponential backoff on connection errors and 5xx/429, the on-disk cache, and the
counters a :class:`~varsolve.reporter.Reporter` is told about.

Every failure a user can see is a :class:`~varsolve.errors.SourceError` of one line that names
the URL. A 404 is not an error here: callers decide what it means ("no such package").

What a hostile or broken server cannot do (docs/index.md, "Limits"):

* hold a request longer than its deadline: ``timeout`` seconds from the start of the request
  to its last byte, plus one second for every ``NetworkLimits.min_rate`` bytes received (a
  large file that keeps arriving is not cut off; a server that drips is). The deadline bounds
  every read and write on the socket (:class:`_DeadlineBackend`), headers included, not only
  the time between two reads;
* make varsolve hold more than a limit in memory: every body is read as a stream and refused
  once it passes the limit of what it is (:class:`~.settings.NetworkLimits`), or the size the
  index announced for it;
* redirect anywhere but to http(s) (never ``file://``, never from https to plain http), or
  more than :data:`MAX_REDIRECTS` times;
* send a body that does not decode as its ``Content-Encoding`` says, or a URL that is not one,
  without a one-line error.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import SourceError
from .cache import DiskCache
from .settings import NetworkLimits

if TYPE_CHECKING:
    import ssl

    import httpcore
    import httpx

    from ..reporter import Reporter

log = logging.getLogger("varsolve")

USER_AGENT = f"varsolve/{__version__}"
RETRY_STATUSES = {429, 500, 502, 503, 504}
REDIRECT_STATUSES = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 10  # as uv; pip (requests) allows 30


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
    range_requests: int = 0  # of the requests, Range reads of wheels (lazyzip)
    range_bytes: int = 0  # of the bytes, theirs
    hedged: int = 0  # fetches asked for again by a waiting thread, the first attempt being silent (sources.workers)
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
        limits: NetworkLimits | None = None,
        tune_process: bool = False,
    ) -> None:
        self.cache = cache
        self.tune_process = tune_process
        self.limits = limits or NetworkLimits()
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
        self._first_bytes = _FirstBytes(timeout)
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    @property
    def _client(self) -> httpx.Client:
        """The httpx client, made on the first request: a run served from a fresh cache
        never imports httpx (~60 ms)."""
        if self._client_instance is None:
            with self._client_lock:
                if self._client_instance is None:
                    self._client_instance = self._make_client()
        return self._client_instance

    def warm_up(self, urls: Iterable[str]) -> None:
        """For https ``urls``, the TLS context (the CA bundle read and parsed, ~15 ms, without the
        GIL), then the client (httpx imported, ~40 ms), made in a background thread while the
        caller goes on setting up the resolution: its first request finds them made, or being
        made. For a run about to go to the network (a cold cache); a no-op offline."""
        if self.offline or self._client_instance is not None:
            return
        https = any(url.lower().startswith("https:") for url in urls)

        def work() -> None:
            try:
                if https:
                    self._tls_context()
                self._client  # noqa: B018  (made on first use)
            except Exception:  # the first request meets the same problem and reports it
                log.debug("warming up the HTTP client failed", exc_info=True)

        threading.Thread(target=work, name="varsolve-http-warm-up", daemon=True).start()

    def _tls_context(self) -> ssl.SSLContext:
        """The https transport's TLS context, made once (what httpx makes for ``verify=True``)."""
        if self._tls is None:
            with self._tls_lock:
                if self._tls is None:
                    self._tls = default_tls_context()
        return self._tls

    def _make_client(self) -> httpx.Client:
        lib = import_httpx()  # the module, typed as such only under TYPE_CHECKING
        if self.tune_process:
            bound_malloc()

        limits = lib.Limits(max_connections=self._max_connections, max_keepalive_connections=self._max_connections)
        client: httpx.Client = lib.Client(
            timeout=lib.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
            # Loading the CA bundle costs ~60 ms: only pay it when an https URL shows up. The
            # default transport serves plain http (no TLS, so nothing to verify).
            transport=_bounded(lib.HTTPTransport(limits=limits, verify=False)),
            mounts={"https://": _LazyTransport(lambda: _bounded(lib.HTTPTransport(limits=limits, verify=self._tls_context())))},
            follow_redirects=False,  # followed by _send, which checks where they go
            headers={"User-Agent": USER_AGENT},
        )
        return client

    def close(self) -> None:
        if self._client_instance is not None:
            self._client_instance.close()
        if self.cache is not None:
            self.cache.flush()

    def count(self, **deltas: int) -> None:
        """Add to :attr:`counters` (callers count pages and metadata read) and report."""
        self.counters.add(**deltas)
        if self.reporter is not None:
            self.reporter.fetch_progress(self.counters.snapshot())

    # -- requests ---------------------------------------------------------------------------
    def get(self, url: str, *, headers: dict[str, str] | None = None, what: str = "", limit: int | None = None) -> Response:
        """GET with retries; returns 2xx, 304, 404 and 410 responses, raises on anything else.
        ``limit``: the most bytes the body may have (the size the index announced for a file);
        else the limit of ``what`` (:meth:`limit_for`)."""
        r = self._request("GET", url, headers, what, limit)
        if r.status in (200, 203, 206, 304, 404, 410):
            return r
        raise SourceError(f"{url}: HTTP {r.status} {r.reason}".rstrip() + (f" ({what})" if what else ""))

    def head(self, url: str, *, headers: dict[str, str] | None = None, what: str = "") -> Response:
        """HEAD with retries; returns whatever status the server ends with (no body)."""
        return self._request("HEAD", url, headers, what)

    def limit_for(self, what: str) -> tuple[int, str]:
        """The most bytes a body of ``what`` may have, and what to call it in an error."""
        limits = self.limits
        known = {
            "project page": (limits.page, "a project page"),
            "index page": (limits.page, "a project page"),
            "core metadata": (limits.metadata, "core metadata"),
            "variants.json": (limits.variants_json, "a *-variants.json file"),
            "wheel": (limits.download, "a distribution"),
            "distribution": (limits.download, "a distribution"),
        }
        return known.get(what, (limits.page, "a response"))

    def _request(
        self, method: str, url: str, headers: dict[str, str] | None, what: str, limit: int | None = None,
        partial_limit: int | None = None,
    ) -> Response:
        if self.offline:
            raise SourceError(f"{url}: not in the cache, and --offline allows no network access" + (f" ({what})" if what else ""))
        check_url(url)
        thread = threading.get_ident()
        watch = _Watch()
        outer = _BY_THREAD.get(thread)
        _BY_THREAD[thread] = watch
        try:
            return self._attempts(method, url, headers, what, limit, partial_limit, watch)
        finally:
            if outer is None:
                _BY_THREAD.pop(thread, None)
            else:
                _BY_THREAD[thread] = outer

    def _attempts(
        self, method: str, url: str, headers: dict[str, str] | None, what: str, limit: int | None,
        partial_limit: int | None, watch: _Watch,
    ) -> Response:
        httpx = import_httpx()
        attempts = self.retries + 1
        last_problem = ""
        for attempt in range(attempts):
            if attempt:
                if watch.abandoned:
                    raise SourceError(f"{url}: {last_problem}, not retried: another thread fetched it")
                self.counters.add(retries=1)
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            self.count(requests=1, in_flight=1)
            try:
                # The first attempt gives up early on an answer that does not start (a stalled
                # connection): it is tried again at once; later attempts have the whole timeout.
                first_byte = self._first_bytes.limit() if attempt == 0 and attempts > 1 else None
                r = self._send(method, url, headers, what, limit, partial_limit, watch, first_byte)
            except (httpx.TimeoutException, _Expired):
                last_problem = "timed out"
                continue
            except httpx.TransportError as exc:
                last_problem = _describe_transport_error(exc)
                continue
            except httpx.DecodingError as exc:
                encoding = _first_line(exc) or "undecodable body"
                raise SourceError(f"{url}: the body does not decode as its Content-Encoding says ({encoding})") from None
            except httpx.InvalidURL as exc:
                raise SourceError(f"{url}: invalid URL ({exc})") from None
            finally:
                self.count(in_flight=-1)
            self.counters.add(bytes=len(r.content))
            if r.status in RETRY_STATUSES:
                last_problem = f"HTTP {r.status} {r.reason}".rstrip()
                continue
            if r.status == 304:
                self.counters.add(not_modified=1)
            return r
        tries = f"after {attempts} attempts" if attempts > 1 else "no retries"
        raise SourceError(f"{url}: {last_problem} ({tries})")

    def _send(
        self, method: str, url: str, headers: dict[str, str] | None, what: str, limit: int | None, partial_limit: int | None,
        watch: _Watch | None = None, first_byte: float | None = None,
    ) -> Response:
        """One attempt: the request and the redirects it meets, within one deadline."""
        deadline = _Deadline(self._timeout, self.limits.min_rate, watch, first_byte)
        previous = getattr(_ACTIVE, "deadline", None)
        _ACTIVE.deadline = deadline
        try:
            current = url
            for hops in range(MAX_REDIRECTS + 1):
                request = self._client.build_request(method, current, headers=headers)
                response = self._client.send(request, stream=True)
                if hops == 0:
                    self._first_bytes.add(time.monotonic() - deadline.start)
                try:
                    location = response.headers.get("location")
                    if response.status_code in REDIRECT_STATUSES and location:
                        if hops == MAX_REDIRECTS:
                            raise SourceError(f"{url}: more than {MAX_REDIRECTS} redirects (a redirect loop?)")
                        current = _redirect_target(url, current, location)
                        continue
                    content = b"" if method == "HEAD" else self._read_body(response, url, what, limit, partial_limit, deadline)
                finally:
                    response.close()
                return Response(
                    str(response.url), response.status_code, {k.lower(): v for k, v in response.headers.items()}, content,
                    reason=response.reason_phrase,
                )
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            _ACTIVE.deadline = previous

    def _read_body(
        self, response: httpx.Response, url: str, what: str, limit: int | None, partial_limit: int | None, deadline: _Deadline
    ) -> bytes:
        """The body, read as a stream and refused once it passes its limit."""
        if response.status_code == 206 and partial_limit is not None:
            cap, why = partial_limit, f"the {partial_limit:,} bytes asked for"
        elif limit is not None:
            cap, why = limit, f"the {limit:,} bytes the index announced"
        else:
            cap, kind = self.limit_for(what)
            why = f"{_size(cap)}, varsolve's limit for {kind}"
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap and not response.headers.get("content-encoding"):
            raise SourceError(f"{url}: the server announces {int(length):,} bytes, more than {why}")
        # Into one growing buffer whose bytes getvalue() hands over without a copy: a list of
        # chunks joined at the end holds every body twice for a moment (a project page of 7 MB,
        # several at once from the prefetch threads).
        body = io.BytesIO()
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise SourceError(f"{url}: larger than {why}")
            body.write(chunk)
            deadline.watch.last_progress = time.monotonic()  # also where the socket is not wrapped (_bounded)
            if deadline.remaining() <= 0:
                raise _Expired
        return body.getvalue()

    def refresh_before(self, package: str | None = None) -> float | None:
        """The time before which cached entries of ``package`` must be revalidated (``--refresh``,
        ``--refresh-package``); ``None`` when the usual freshness rules apply."""
        if self.refresh or (package is not None and package in self.refresh_packages):
            return self.started
        return None

    def get_cached(
        self, url: str, *, accept: str | None = None, what: str = "", package: str | None = None, limit: int | None = None
    ) -> Response:
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
        r = self.get(url, headers=headers, what=what, limit=limit)
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

    def get_range(self, url: str, range_header: str, what: str = "", limit: int | None = None) -> Response:
        """A Range request; the server may answer 206 or 200 (whole file), both are returned.
        A 206 may have no more bytes than asked for (and no more than
        ``NetworkLimits.wheel_range``); a 200 is limited as ``limit`` or ``what`` says."""
        partial = min(_range_length(range_header) or self.limits.wheel_range, self.limits.wheel_range)
        r = self._request("GET", url, {"Range": range_header, "Accept-Encoding": "identity"}, what, limit, partial)
        self.counters.add(range_requests=1, range_bytes=len(r.content))
        if r.status in (404, 410):
            raise SourceError(f"{url}: HTTP {r.status} (the index lists this file)")
        if r.status not in (200, 203, 206):
            raise SourceError(f"{url}: HTTP {r.status} {r.reason}".rstrip() + (f" ({what})" if what else ""))
        return r


class _FirstBytes:
    """How long this index takes to start answering (the last :data:`SAMPLES` requests), and
    so how long the first attempt of a request waits for its first byte before it is taken for
    stalled and tried again: :data:`STALL_FACTOR` times the median, at least
    :data:`MIN_STALL` seconds, never more than the timeout, and only once :data:`MIN_SAMPLES`
    requests have been answered (a slow index is not mistaken for a stalled one)."""

    SAMPLES = 64
    MIN_SAMPLES = 16
    STALL_FACTOR = 10.0
    MIN_STALL = 1.0

    def __init__(self, timeout: float) -> None:
        import collections

        self._timeout = timeout
        self._samples: collections.deque[float] = collections.deque(maxlen=self.SAMPLES)
        self._lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)

    def limit(self) -> float | None:
        with self._lock:
            if len(self._samples) < self.MIN_SAMPLES:
                return None
            ordered = sorted(self._samples)
        limit = max(self.MIN_STALL, self.STALL_FACTOR * ordered[len(ordered) // 2])
        return limit if limit < self._timeout else None


_MALLOC_BOUND = False


def bound_malloc() -> None:
    """Keep glibc's allocator from holding on to freed bodies, once per process, before the
    fetch threads do much: with its defaults each thread allocates from an arena of its own
    (up to 8 per core), and the first multi-megabyte body freed raises the size from which
    allocations are mapped and unmapped, so later project pages (7 MB, parsed several at once)
    stay in the arenas, fragmented, after they are freed. One arena and a fixed threshold
    (128 KiB, glibc's default before it adapts) took a cold ``apache-airflow``'s peak RSS from
    219-230 MB to 167-197 MB (docs/benchmarks.md, "Heavy sets and memory"). Nothing on other
    C libraries, or when ``MALLOC_ARENA_MAX``/``MALLOC_MMAP_THRESHOLD_`` say otherwise."""
    global _MALLOC_BOUND
    if _MALLOC_BOUND:
        return
    _MALLOC_BOUND = True
    import os

    try:
        libc_name = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        libc_name = ""  # not glibc (platform.libc_ver() would read the interpreter's binary to say so)
    if not libc_name.startswith("glibc"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_arena_max, m_mmap_threshold = -8, -3  # malloc.h
    if "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(m_arena_max, 1)
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        mallopt(m_mmap_threshold, 128 * 1024)


def default_tls_context() -> ssl.SSLContext:
    """The context httpx 0.28 makes for ``verify=True`` (``httpx.create_ssl_context``): the CA
    bundle of ``$SSL_CERT_FILE``, else the folder ``$SSL_CERT_DIR``, else certifi's. Made here
    so that it can be made before httpx is imported (:meth:`HttpClient.warm_up`)."""
    import os
    import ssl

    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def check_url(url: str) -> None:
    """Only http(s) URLs with a host go over the network; anything else is a one-line error."""
    import urllib.parse

    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
    except ValueError as exc:
        raise SourceError(f"{url}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise SourceError(f"{url}: not an http(s) URL")
    if not parts.hostname or any(c.isspace() for c in parts.hostname):
        raise SourceError(f"{url}: not a valid URL (no host, or a space in its host)")


def _redirect_target(url: str, current: str, location: str) -> str:
    """Where a redirect from ``current`` to ``location`` goes, when varsolve may follow it:
    http(s) only, and never from https down to plain http."""
    import urllib.parse

    try:
        target = urllib.parse.urljoin(current, location.strip())
        scheme = urllib.parse.urlsplit(target).scheme.lower()
    except ValueError:
        raise SourceError(f"{url}: redirected to an invalid URL {location[:200]!r}") from None
    if scheme not in ("http", "https"):
        raise SourceError(f"{url}: redirected to {target[:200]}: only redirects to http(s) URLs are followed")
    if scheme == "http" and urllib.parse.urlsplit(current).scheme.lower() == "https":
        raise SourceError(f"{url}: redirected from https to plain http ({target[:200]}): refused")
    check_url(target)
    return target


def _range_length(header: str) -> int | None:
    """How many bytes ``bytes=A-B`` or ``bytes=-N`` asks for; ``None`` for anything else."""
    spec = header.partition("=")[2].strip()
    first, dash, last = spec.partition("-")
    if not dash or not last.isdigit() or (first and not first.isdigit()):
        return None
    return int(last) if not first else max(0, int(last) - int(first) + 1)


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} bytes"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


# -- the deadline of a request ------------------------------------------------------------------


class _Expired(Exception):
    """A request passed its deadline between two reads of its body."""


class _Deadline:
    """The time one request may still take: ``timeout`` seconds from its start, plus one second
    for every ``min_rate`` bytes received, and no more than ``first_byte`` seconds before its
    first byte; its request's :class:`_Watch` hears of every byte."""

    __slots__ = ("first_byte", "min_rate", "received", "start", "timeout", "watch")

    def __init__(self, timeout: float, min_rate: int, watch: _Watch | None = None, first_byte: float | None = None) -> None:
        self.start = time.monotonic()
        self.timeout = timeout
        self.min_rate = max(1, min_rate)
        self.received = 0
        self.watch = watch or _Watch()
        self.first_byte = first_byte  # seconds the answer's first byte may take (None: the whole timeout)

    def remaining(self) -> float:
        left = self.start + self.timeout + self.received / self.min_rate - time.monotonic()
        if self.first_byte is not None and self.received == 0:
            left = min(left, self.start + self.first_byte - time.monotonic())
        return left


class _Watch:
    """One request, all its attempts: when it last received a byte (or started), and whether
    another thread has given up on it (:func:`abandon`: it is then not retried)."""

    __slots__ = ("abandoned", "last_progress")

    def __init__(self) -> None:
        self.last_progress = time.monotonic()
        self.abandoned = False


# The deadline of the request this thread is making (httpx's sync client does all of a
# request's I/O in the calling thread).
_ACTIVE = threading.local()
# The request each thread is making, by thread ident, for other threads to see how it does.
_BY_THREAD: dict[int, _Watch] = {}


def stalled_for(thread: int) -> float:
    """Seconds since the request that thread ``thread`` is making last received a byte (or
    started; its retries included); 0 when it is making none: whether a fetch another thread
    waits for is stuck on the network (then worth asking again, :class:`~.workers.Task`)
    rather than slow to parse, or downloading a large file that keeps arriving."""
    watch = _BY_THREAD.get(thread)
    return 0.0 if watch is None else time.monotonic() - watch.last_progress


def abandon(thread: int) -> None:
    """Another thread got what the request thread ``thread`` is making was for: once its
    current attempt ends, it is not retried (a stalled prefetch does not hold its worker for
    every retry's timeout)."""
    watch = _BY_THREAD.get(thread)
    if watch is not None:
        watch.abandoned = True


def _time_left(timeout: float | None, kind: str) -> float | None:
    """``timeout`` (httpx's, for one socket operation) cut to what the thread's request has
    left; a timeout exception of ``kind`` when nothing is left."""
    deadline: _Deadline | None = getattr(_ACTIVE, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline.remaining()
    if left <= 0:
        import httpcore

        error = {"connect": httpcore.ConnectTimeout, "write": httpcore.WriteTimeout}.get(kind, httpcore.ReadTimeout)
        raise error("the request took longer than its timeout")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream:
    """An httpcore network stream whose every operation ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _time_left(timeout, "read"))
        deadline: _Deadline | None = getattr(_ACTIVE, "deadline", None)
        if deadline is not None:
            deadline.received += len(data)
            if data:
                deadline.watch.last_progress = time.monotonic()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _time_left(timeout, "write"))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> _DeadlineStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _time_left(timeout, "connect")))

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class _DeadlineBackend:
    """httpcore's network backend, with :class:`_DeadlineStream` streams."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _DeadlineStream:
        stream = self._inner.connect_tcp(host, port, _time_left(timeout, "connect"), local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _DeadlineStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _time_left(timeout, "connect"), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _bounded(transport: httpx.HTTPTransport) -> httpx.HTTPTransport:
    """``transport`` with the request deadline on its sockets. httpx does not let a network
    backend be passed in, so it is set on the connection pool httpx made (httpcore's public
    ``network_backend``, stored as ``_network_backend``); should that change, the deadline is
    still checked between the reads of a body."""
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is not None and backend is not None and not isinstance(backend, _DeadlineBackend):
        pool._network_backend = _DeadlineBackend(backend)  # noqa: SLF001
    return transport


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

    def ready(self) -> httpx.HTTPTransport:
        if self._transport is None:
            with self._lock:
                if self._transport is None:
                    self._transport = self._factory()
        return self._transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.ready().handle_request(request)

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
