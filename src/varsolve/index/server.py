"""``varsolve index serve``: an HTTP server for built indexes, with switchable faults.

What it does that a plain static server does not:

* PEP 691 content negotiation on directory URLs (``index.json`` vs ``index.html``, by the
  ``Accept`` header or a ``?format=`` query), ``Vary: Accept``;
* ``Range`` requests: one range gives 206, several give ``multipart/byteranges``, more than
  :data:`MAX_RANGES` or a bad header are ignored (200), unsatisfiable ones give 416;
* ``ETag`` / ``If-None-Match`` and ``Last-Modified`` / ``If-Modified-Since`` (304),
  ``Cache-Control`` (pages: ``max-age`` of ``page_max_age``; distributions: immutable); for
  the cache tests, ``page_max_age=None`` sends no ``Cache-Control`` on pages and
  ``validators=False`` neither ``ETag`` nor ``Last-Modified`` (an index like the public
  mirror this machine reaches);
* faults for tests, each limited to the first N matching requests and to a path glob
  (:class:`Fault`, :func:`parse_fault`): ``drop`` (close without answering), ``http500``,
  ``truncate`` (announce the full length, send half), ``malformed`` (broken JSON/HTML pages),
  ``wrong-hash`` (pages announce wrong sha256s), ``not-zip`` (wheels are not zips),
  ``stall`` (never answer), ``no-range`` (ignore Range), ``delay=MS`` (answer late); and for
  the hostile corpus (tests/hostile): ``drip=MS`` (the whole response one byte at a time),
  ``redirect=URL`` and ``redirect-loop``, ``gzip-garbage`` (``Content-Encoding: gzip`` on a
  body that is not gzip), ``content-type=TYPE``, ``huge=BYTES`` (a body of that size, generated
  while it is sent, without ``Content-Length``), ``nest=DEPTH`` (JSON nested that deep),
  ``file-links`` and ``base-file`` (pages that link the files as ``file://`` URLs).

Hand-written on stdlib ``http.server`` because no small library does negotiation, ranges and
fault injection together, and the tests need all three on a loopback port.
"""

from __future__ import annotations

import email.utils
import fnmatch
import hashlib
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from ..errors import InputError

MAX_RANGES = 16
JSON_TYPES = ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json")
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "text/html")
FAULT_KINDS = (
    "drop", "http500", "truncate", "malformed", "wrong-hash", "not-zip", "stall", "no-range", "delay",
    "drip", "redirect", "redirect-loop", "gzip-garbage", "content-type", "huge", "nest", "file-links", "base-file",
)
# Kinds whose VALUE is text (a URL, a media type), not a number.
_TEXT_VALUES = ("redirect", "content-type")
_BOUNDARY = "varsolve-byteranges"
_HEX64 = re.compile(rb"[0-9a-f]{64}")


@dataclass
class Fault:
    """Misbehave on requests whose path matches ``path`` (a glob), the first ``times`` of them
    (``None``: always). ``value`` is the number of ``delay`` and ``drip`` (milliseconds),
    ``huge`` (bytes) and ``nest`` (depth); ``text`` the URL of ``redirect`` and the media type
    of ``content-type``."""

    kind: str
    times: int | None = None
    path: str = "*"
    value: float = 0.0
    text: str = ""
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise InputError(f"unknown fault {self.kind!r} (choose from {', '.join(FAULT_KINDS)})")

    def fires(self, path: str) -> bool:
        if not fnmatch.fnmatchcase(path, self.path):
            return False
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
            return True


def parse_fault(spec: str) -> Fault:
    """``KIND[=VALUE][:TIMES][@PATH-GLOB]``, e.g. ``http500:2@/simple/*``, ``delay=20`` or
    ``redirect=file:///etc/passwd@/simple/*`` (``:TIMES`` is the digits after the last colon,
    so a URL that ends in ``:PORT`` needs a trailing ``/``)."""
    text, _, path = spec.partition("@")
    head, colon, times = text.rpartition(":")
    if colon and times.isdigit():
        text = head
    else:
        times = ""
    kind, _, value = text.partition("=")
    try:
        if kind in _TEXT_VALUES:
            if not value:
                raise ValueError(f"{kind} needs a value")
            return Fault(kind, int(times) if times else None, path or "*", text=value)
        return Fault(kind, int(times) if times else None, path or "*", float(value) if value else 0.0)
    except ValueError:
        raise InputError(f"invalid fault {spec!r} (expected KIND[=VALUE][:TIMES][@PATH-GLOB])") from None


@dataclass
class ServerStats:
    requests: int = 0
    by_path: dict[str, int] = field(default_factory=dict)
    range_requests: int = 0
    not_modified: int = 0
    max_in_flight: int = 0  # the most requests being answered at once (how parallel a client is)
    connections: int = 0  # TCP connections accepted (how well a client keeps its connections)
    _in_flight: int = field(default=0, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, path: str, ranged: bool) -> None:
        with self._lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            self.range_requests += ranged

    def connected(self) -> None:
        with self._lock:
            self.connections += 1

    def started(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def finished(self) -> None:
        with self._lock:
            self._in_flight -= 1


class IndexServer:
    """Serve ``root`` on ``host:port`` (port 0: an ephemeral one) from a background thread.

    Use as a context manager in tests::

        with IndexServer(index_dir, faults=[Fault("http500", times=2)]) as server:
            url = server.url + "simple/"
    """

    def __init__(
        self,
        root: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: list[Fault] | None = None,
        html_only: bool = False,
        page_max_age: int | None = 600,
        validators: bool = True,
        verbose: bool = False,
    ) -> None:
        self.root = Path(root).resolve()
        if not (self.root / "simple").is_dir():
            raise InputError("not an index directory (no simple/ inside)", where=str(root))
        self.faults = list(faults or [])
        self.html_only = html_only
        self.page_max_age = page_max_age  # None: pages carry no Cache-Control
        self.validators = validators  # False: no ETag, no Last-Modified, never 304
        self.verbose = verbose
        self.stats = ServerStats()
        self.closing = threading.Event()
        handler = type("Handler", (_Handler,), {"index": self})
        try:
            self.httpd = _Server((host, port), handler)
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        if not isinstance(host, str):  # the socket module gives str; the type also allows bytes
            host = bytes(host).decode()
        return f"http://{host}:{port}/"

    @property
    def index_url(self) -> str:
        return self.url + "simple/"

    def start(self) -> IndexServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name="varsolve-index-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def close(self) -> None:
        self.closing.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fault(self, kind: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.kind == kind and fault.fires(path):
                return fault
        return None


@dataclass(frozen=True)
class _Status:
    """An answer without a file: an HTTP status, with the ``Location`` of a redirect."""

    code: int
    location: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: tuple[str, int] | tuple[str, int, int, int]
    ) -> None:
        import sys

        # Clients hang up whenever they like (uv closes pooled connections at exit): not news.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    index: IndexServer
    protocol_version = "HTTP/1.1"
    server_version = "varsolve-index"
    # Headers and body go out in separate writes; with Nagle's algorithm the body then waits
    # for the client's delayed ACK (40 ms per response on Linux loopback).
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self.index.stats.connected()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.index.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    # -- request handling ---------------------------------------------------------------------
    def _serve(self, head: bool) -> None:
        self.index.stats.started()
        try:
            self._answer(head)
        finally:
            self.index.stats.finished()

    def _answer(self, head: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        self.index.stats.count(path, "Range" in self.headers)
        delay = self.index.fault("delay", path)
        if delay is not None:
            time.sleep(delay.value / 1000)
        if self.index.fault("stall", path):
            self.index.closing.wait(60)
            self.close_connection = True
            return
        if self.index.fault("drop", path):
            self.close_connection = True
            return
        if self.index.fault("http500", path):
            return self._plain(HTTPStatus.INTERNAL_SERVER_ERROR, "injected fault", head)
        redirect = self.index.fault("redirect", path)
        if redirect is not None:
            return self._plain(HTTPStatus.FOUND, "injected redirect", head, location=redirect.text)
        if self.index.fault("redirect-loop", path):
            return self._plain(HTTPStatus.FOUND, "injected redirect loop", head, location=self.path)
        huge = self.index.fault("huge", path)
        if huge is not None:
            return self._huge(int(huge.value), head)
        resolved = self._resolve(path, urllib.parse.parse_qs(url.query))
        if isinstance(resolved, _Status):
            status = HTTPStatus(resolved.code)
            return self._plain(status, status.phrase, head, location=resolved.location)
        file, content_type, vary = resolved
        body = file.read_bytes()
        body = self._mangle(path, body, content_type)
        stat = file.stat()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {"Content-Type": content_type}
        if self.index.validators:
            headers["ETag"] = etag
            headers["Last-Modified"] = email.utils.formatdate(stat.st_mtime, usegmt=True)
        headers["Accept-Ranges"] = "bytes"
        cache_control = self._cache_control(path)
        if cache_control is not None:
            headers["Cache-Control"] = cache_control
        if vary:
            headers["Vary"] = "Accept"
        content_type_fault = self.index.fault("content-type", path)
        if content_type_fault is not None:
            headers["Content-Type"] = content_type_fault.text
        if self.index.fault("gzip-garbage", path):
            headers["Content-Encoding"] = "gzip"
            body = (b"this is not gzip " * (len(body) // 17 + 1))[: max(len(body), 64)]
        if self.index.validators and self._not_modified(etag, stat.st_mtime):
            self.index.stats.not_modified += 1
            return self._send(HTTPStatus.NOT_MODIFIED, headers, b"", head)
        ranges = None if self.index.fault("no-range", path) else self._ranges(len(body), etag)
        if ranges == "unsatisfiable":
            headers["Content-Range"] = f"bytes */{len(body)}"
            return self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, headers, b"", head)
        if ranges and len(ranges) == 1:
            start, end = ranges[0]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(body)}"
            return self._send(HTTPStatus.PARTIAL_CONTENT, headers, body[start : end + 1], head, path)
        if ranges:
            parts = []
            for start, end in ranges:
                parts.append(
                    f"--{_BOUNDARY}\r\nContent-Type: {content_type}\r\n"
                    f"Content-Range: bytes {start}-{end}/{len(body)}\r\n\r\n".encode() + body[start : end + 1] + b"\r\n"
                )
            headers["Content-Type"] = f"multipart/byteranges; boundary={_BOUNDARY}"
            return self._send(HTTPStatus.PARTIAL_CONTENT, headers, b"".join(parts) + f"--{_BOUNDARY}--\r\n".encode(), head, path)
        return self._send(HTTPStatus.OK, headers, body, head, path)

    def _resolve(self, path: str, query: dict[str, list[str]]) -> tuple[Path, str, bool] | _Status:
        """The file for ``path`` with its content type, or an HTTP status (and redirect)."""
        root = self.index.root
        try:
            target = (root / path.lstrip("/")).resolve()
        except (OSError, ValueError):
            return _Status(404)
        if target != root and root not in target.parents:
            return _Status(404)
        if target.is_dir():
            if not path.endswith("/"):
                return _Status(301, path + "/")
            chosen = self._negotiate(target, query)
            if chosen is None:
                return _Status(406)
            return chosen[0], chosen[1], True
        if not target.is_file():
            return _Status(404)
        if target.suffix == ".json":
            return target, "application/json", False
        if target.name.endswith(".metadata"):
            return target, "text/plain; charset=utf-8", False
        return target, "application/octet-stream", False

    def _negotiate(self, directory: Path, query: dict[str, list[str]]) -> tuple[Path, str] | None:
        offers: list[tuple[str, Path]] = []
        if (directory / "index.json").is_file() and not self.index.html_only:
            offers += [(t, directory / "index.json") for t in JSON_TYPES]
        if (directory / "index.html").is_file():
            offers += [(t, directory / "index.html") for t in HTML_TYPES]
        if not offers:
            return None
        # An unencoded "+" in ?format= arrives as a space; media types have no spaces.
        requested = (query.get("format") or [""])[0].replace(" ", "+")
        accept = requested or self.headers.get("Accept") or "text/html"
        best: tuple[float, int, int] | None = None
        chosen: tuple[Path, str] | None = None
        for preference, (media_type, file) in enumerate(offers):
            q, specificity = _quality(accept, media_type)
            # Equal quality and specificity: HTML, the representation every client understands.
            rank = (q, specificity, preference if file.name == "index.html" else -1)
            if q > 0 and (best is None or rank > best):
                best = rank
                content_type = media_type + ("; charset=utf-8" if media_type == "text/html" else "")
                chosen = (file, content_type)
        return chosen

    def _cache_control(self, path: str) -> str | None:
        if path.startswith("/simple") or path.endswith("-variants.json"):
            if self.index.page_max_age is None:
                return None
            return f"max-age={self.index.page_max_age}, public"
        return "max-age=31536000, immutable, public"

    def _not_modified(self, etag: str, mtime: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
            return "*" in tags or etag in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
            return int(mtime) <= since
        return False

    def _ranges(self, size: int, etag: str) -> list[tuple[int, int]] | Literal["unsatisfiable"] | None:
        header = self.headers.get("Range")
        if not header or self.command != "GET":
            return None
        if_range = self.headers.get("If-Range")
        if if_range is not None and if_range.strip() != etag:
            return None
        unit, _, spec = header.partition("=")
        if unit.strip().lower() != "bytes" or not spec:
            return None
        out: list[tuple[int, int]] = []
        items = spec.split(",")
        if len(items) > MAX_RANGES:
            return None
        for item in items:
            first, dash, last = item.strip().partition("-")
            if not dash or not (first.isdigit() or (not first and last.isdigit())) or (last and not last.isdigit()):
                return None  # a syntactically invalid Range header is ignored (RFC 9110)
            if not first:
                length = int(last)
                if length == 0:
                    continue
                out.append((max(0, size - length), size - 1))
            else:
                start = int(first)
                end = min(int(last), size - 1) if last else size - 1
                if last and int(last) < start:
                    return None
                if start < size:
                    out.append((start, end))
        return out or "unsatisfiable"

    def _mangle(self, path: str, body: bytes, content_type: str) -> bytes:
        is_page = path.startswith("/simple")
        if is_page and self.index.fault("wrong-hash", path):
            body = _HEX64.sub(lambda m: hashlib.sha256(m[0]).hexdigest().encode(), body)
        if is_page and self.index.fault("malformed", path):
            if "json" in content_type:
                body = b'{"meta": {"api-version": "1.1"}, "files": [{"filename": ' + body[:40]
            else:
                body = b"<html><body>\xff\xfe<a href=\"../../files/x.whl#sha256=not-a-hash\">broken"
        if path.endswith(".whl") and self.index.fault("not-zip", path):
            body = (b"this is not a zip file\n" * (len(body) // 23 + 1))[: len(body)]
        files = b"file://" + urllib.parse.quote(str(self.index.root / "files")).encode() + b"/"
        if is_page and self.index.fault("file-links", path):
            body = body.replace(b"../../files/", files)
        if is_page and "html" in content_type and self.index.fault("base-file", path):
            body = body.replace(b"../../files/", b"").replace(b"<head>", b'<head>\n    <base href="' + files + b'">', 1)
        nest = self.index.fault("nest", path) if "json" in content_type else None
        if nest is not None:
            body = b"[" * int(nest.value) + b"]" * int(nest.value)
        return body

    # -- responses ----------------------------------------------------------------------------
    def _plain(self, status: HTTPStatus, text: str, head: bool, location: str | None = None) -> None:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if location:
            headers["Location"] = location
        self._send(status, headers, (text + "\n").encode(), head)

    def _huge(self, size: int, head: bool) -> None:
        """``size`` bytes, made while they are sent (never held in memory), delimited by closing
        the connection (no ``Content-Length``), until the client hangs up."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if head:
            return
        chunk = b"x" * 65536
        sent = 0
        while sent < size and not self.index.closing.is_set():
            part = chunk[: min(len(chunk), size - sent)]
            self.wfile.write(part)
            sent += len(part)

    def _drip(self, status: HTTPStatus, headers: dict[str, str], body: bytes, interval: float) -> None:
        """The whole response, status line and headers included, one byte every ``interval``
        seconds (until the client hangs up or the server stops)."""
        lines = [f"{self.protocol_version} {status.value} {status.phrase}", *(f"{k}: {v}" for k, v in headers.items())]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        self.close_connection = True
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            if self.index.closing.wait(interval):
                return

    def _send(self, status: HTTPStatus, headers: dict[str, str], body: bytes, head: bool, path: str = "") -> None:
        drip = self.index.fault("drip", path) if path else None
        if drip is not None:
            self.log_request(status.value)
            headers = {**headers, "Content-Length": str(len(body))}
            return self._drip(status, headers, b"" if head else body, (drip.value or 1000) / 1000)
        truncate = bool(path) and status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT) and self.index.fault("truncate", path)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head or status == HTTPStatus.NOT_MODIFIED:
            return
        if truncate:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def _quality(accept: str, media_type: str) -> tuple[float, int]:
    """Quality and specificity (2 exact, 1 ``type/*``, 0 ``*/*``) of ``media_type`` in ``accept``."""
    best = (0.0, -1)
    main = media_type.split("/")[0]
    for item in accept.split(","):
        fields = [f.strip() for f in item.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        pattern = fields[0].lower()
        if pattern == media_type:
            specificity = 2
        elif pattern == f"{main}/*":
            specificity = 1
        elif pattern == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best[0], max(best[1], 0)
