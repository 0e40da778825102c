"""The on-disk cache of the HTTP sources, under :func:`default_cache_dir` unless
``--cache-dir`` says otherwise.

Two kinds of entries:

* ``http/``: responses (200, and 404/410 for "no such project") of mutable resources
  (project pages, ``*-variants.json``) with their validators (``ETag``, ``Last-Modified``) and
  freshness (``Cache-Control``, ``Expires``, ``Age``), keyed by URL and ``Accept``. A fresh
  entry is used without a request; a stale one is revalidated (304 keeps the body). See
  :meth:`CachedResponse.freshness_lifetime` for the rules and :data:`DEFAULT_MAX_AGE`.
* ``derived/``: bytes derived from a distribution: its core metadata or ``variant.json``,
  keyed by the file's URL *and* the hashes the index announced for it and for its
  ``.metadata`` file (:func:`artefact_key`). An index never reads what another index served
  (a tampered ``METADATA`` on one index cannot leak into another's resolution through a
  shared cache), and a file whose hash changes gets a new entry. Entries of files with an
  announced hash are immutable; the others age like a page without caching headers. Core
  metadata is kept parsed (:meth:`DiskCache.load_core_metadata`), so that a warm run needs no
  email parser; as it is only when a wheel read for its ``variant.json`` gave it too.
* ``pages/``: project pages in parsed form (:class:`~.files.ProjectPage`), one entry per page
  URL, valid for one body: the entry names the sha256 of the body it was parsed from, and the
  format and varsolve version that wrote it; a page revalidated to a new body, or parsed by
  another varsolve, is a miss (and the entry is written again). A warm run reads a page's
  ``http/`` entry up to its head only (:meth:`DiskCache.load_response_head`) and then its
  parsed form: neither the page's body nor its JSON is read.

Every entry is one file that names its own key and carries the sha256 of its content; it is
written to a private temporary name and renamed into place, so concurrent runs sharing a cache
directory never see half an entry, and a damaged, truncated or foreign entry (or one of an older
format) is a miss. So is anything that is not a regular file of at most :data:`MAX_ENTRY_BYTES`:
a symlink (never followed, wherever it points), a FIFO, a device, a directory. Entries are never
written through a symlinked folder below the cache root.

A repository's cache writes in background threads (``background=True``; the repository's
``close`` waits for them, :meth:`DiskCache.flush`): creating a file can cost a millisecond of
system time, and each of an entry's system calls is a GIL hand-off that a fetch thread (or the
resolver, running a fetch itself) used to wait for before its page or metadata could be used.
An entry not yet written is read from memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..repository import CoreMetadata

log = logging.getLogger("varsolve")

CACHE_DIR_VARIABLE = "VARSOLVE_CACHE_DIR"
# Freshness of a page whose response says nothing about it (no Cache-Control max-age, no
# Expires): what PyPI announces on its pages, and what uv assumes for a response that has only
# a Last-Modified. A 404 without caching headers is stored but never fresh (it is only used
# offline): a project published a minute ago must not look missing for ten minutes.
DEFAULT_MAX_AGE = 600
HTTP_DIR = "http"
DERIVED_DIR = "derived"
PAGES_DIR = "pages"
# The parsed-page entries' layout (files.ProjectPage.encode): bump on any change to it or to
# what a page's rows hold.
PAGE_FORMAT = 3
# An entry's head (the magic line and the JSON line) is far smaller than this: a head-only read
# of an entry reads at most this much.
_HEAD_BYTES = 64 << 10
_MAGIC = b"varsolve-cache 2\n"
# Larger than any entry varsolve writes (a page is at most NetworkLimits.page, 64 MiB): a bigger
# file is not one of ours and is not read.
MAX_ENTRY_BYTES = 128 << 20
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def default_cache_dir() -> Path:
    """varsolve's one cache root: ``$VARSOLVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/varsolve``,
    else ``~/.cache/varsolve``. The HTTP cache and the provider plugins' environments
    (``plugins/``) live under it."""
    own = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "varsolve"


def artefact_key(kind: str, url: str, hashes: Mapping[str, str], metadata_hashes: Mapping[str, str] | None = None) -> str:
    """The cache key of what is derived from the file at ``url`` (``kind``: ``core-metadata``,
    ``variant-json``): its URL and every hash the index announced for it and its ``.metadata``."""
    parts = [kind, url]
    parts += [f"{algo}={value}" for algo, value in sorted(hashes.items())]
    parts += [f"metadata-{algo}={value}" for algo, value in sorted((metadata_hashes or {}).items())]
    return " ".join(parts)


@dataclass
class CachedResponse:
    url: str  # after redirects
    headers: dict[str, str]  # lower-case names: etag, last-modified, cache-control, expires, age, date, content-type
    content: bytes
    stored_at: float
    status: int = 200

    @property
    def cache_control(self) -> dict[str, str | None]:
        return parse_cache_control(self.headers.get("cache-control", ""))

    @property
    def immutable(self) -> bool:
        """``Cache-Control: immutable`` (RFC 8246): never revalidated while fresh, not even by
        ``--refresh`` (as uv does)."""
        directives = self.cache_control
        return "immutable" in directives and "no-cache" not in directives

    def freshness_lifetime(self) -> float:
        """Seconds the response may be used without asking the server (RFC 9111 §4.2.1, as a
        private cache): ``no-cache``/``no-store`` 0; else ``max-age``; else ``Expires`` minus
        ``Date``; else, for a 200, :data:`DEFAULT_MAX_AGE`; else 0."""
        directives = self.cache_control
        if "no-cache" in directives or "no-store" in directives:
            return 0.0
        if "max-age" in directives:
            return float(_seconds(directives["max-age"]))
        if "expires" in self.headers:
            expires = _http_date(self.headers["expires"])
            if expires is None:
                return 0.0  # an invalid Expires means "already expired" (RFC 9111 §5.3)
            date = _http_date(self.headers.get("date", ""))
            return max(0.0, expires - (date if date is not None else self.stored_at))
        return float(DEFAULT_MAX_AGE) if self.status in (200, 203) else 0.0

    def age(self, now: float | None = None) -> float:
        """The ``Age`` the response arrived with (time it spent in the index's CDN) plus the
        time since it was stored. ``Date`` is not used: a skewed clock would make every entry
        stale (or fresh forever)."""
        now = time.time() if now is None else now
        return _seconds(self.headers.get("age")) + max(0.0, now - self.stored_at)

    def is_fresh(self, now: float | None = None) -> bool:
        return self.age(now) < self.freshness_lifetime()

    def usable(self, *, offline: bool, refresh_before: float | None) -> bool:
        """Whether the entry answers without a request (the rule of
        :meth:`~.http.HttpClient.get_cached`): offline any entry does; else a fresh one, unless
        ``--refresh`` (``refresh_before``) asks to revalidate what was stored before, and the
        response is not ``immutable``."""
        if offline:
            return True
        revalidate = refresh_before is not None and self.stored_at < refresh_before and not self.immutable
        return not revalidate and self.is_fresh()

    def validators(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.status != 200:
            return out
        if "etag" in self.headers:
            out["If-None-Match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            out["If-Modified-Since"] = self.headers["last-modified"]
        return out


def parse_cache_control(value: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for item in value.split(","):
        key, _, arg = item.strip().partition("=")
        if key:
            out[key.strip().lower()] = arg.strip().strip('"') if arg else None
    return out


def _seconds(value: str | None) -> int:
    """A delta-seconds value (``max-age``, ``Age``); 0 when missing or malformed."""
    try:
        return max(0, int(value)) if value is not None else 0
    except ValueError:
        return 0


def _http_date(value: str) -> float | None:
    if not value:
        return None
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class DiskCache:
    KEPT_HEADERS = ("etag", "last-modified", "cache-control", "expires", "age", "date", "content-type")
    # A 304 says nothing about these unless it sends them again.
    _PER_RESPONSE = ("age", "date")

    def __init__(self, root: str | Path, *, background: bool = False) -> None:
        self.root = Path(root)
        # Folders this process made (or found) and checked to be real: each write into one
        # again costs no mkdir and lstat calls. (Every call releases the GIL, and getting it
        # back costs a thread up to the switch interval while others parse: 8 calls per entry
        # held a cold run's fetch threads for milliseconds each.)
        self._folders: set[Path] = set()
        self._writer = _Writer(self._write) if background else None

    def flush(self) -> None:
        """Wait until every entry stored so far is on disk (a no-op without ``background``)."""
        if self._writer is not None:
            self._writer.flush()

    @staticmethod
    def _name(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def _path(self, kind: str, key: str) -> Path:
        # Sixteen folders per kind, not git's 256: making a folder costs up to a millisecond of
        # system time on some machines (0.75 ms on the benchmark machine), and a cold run's few
        # hundred entries made over 250 of them, more than a tenth of its CPU time.
        name = self._name(key)
        return self.root / kind / name[:1] / name

    # -- HTTP responses ---------------------------------------------------------------------
    def load_response(self, key: str) -> CachedResponse | None:
        """The response stored under ``key``; ``None`` when missing, damaged or not its own."""
        found = self._read(self._path(HTTP_DIR, key), key)
        if found is None:
            return None
        head, content = found
        try:
            headers = {str(k): str(v) for k, v in dict(head["headers"]).items()}
            return CachedResponse(str(head["url"]), headers, content, float(head["stored_at"]), int(head["status"]))
        except (ValueError, KeyError, TypeError):
            return None

    def store_response(self, key: str, url: str, headers: Mapping[str, str], content: bytes, status: int = 200) -> None:
        if "no-store" in parse_cache_control(headers.get("cache-control", "")):
            return
        kept = {k: v for k, v in headers.items() if k in self.KEPT_HEADERS}
        self._store(self._path(HTTP_DIR, key), key, {"url": url, "status": status, "headers": kept}, content)

    def touch_response(self, key: str, cached: CachedResponse, headers: Mapping[str, str]) -> None:
        """A 304: keep the body, refresh the time and whatever validators came with it."""
        merged = {k: v for k, v in cached.headers.items() if k not in self._PER_RESPONSE}
        merged.update({k: v for k, v in headers.items() if k in self.KEPT_HEADERS})
        self.store_response(key, cached.url, merged, cached.content, cached.status)

    def load_response_head(self, key: str) -> tuple[CachedResponse, str] | None:
        """The response stored under ``key`` without its body (``content`` is empty), and the
        sha256 of the body its head names: the entry is read up to the end of its head. ``None``
        when missing, damaged, not its own, or not of a length that holds the whole body (a
        truncated entry, or one written before entries said their length)."""
        path = self._path(HTTP_DIR, key)
        found = self._read_entry(path, _HEAD_BYTES)
        if found is None:
            return None
        data, size = found
        if not data.startswith(_MAGIC):
            return None
        head_line, newline, _ = data[len(_MAGIC) :].partition(b"\n")
        if not newline:
            return None
        try:
            head = json.loads(head_line)
            if not isinstance(head, dict) or head.get("key") != key:
                return None
            length, digest = head["length"], head["sha256"]
            if type(length) is not int or size != len(_MAGIC) + len(head_line) + 1 + length or not isinstance(digest, str):
                return None
            headers = {str(k): str(v) for k, v in dict(head["headers"]).items()}
            cached = CachedResponse(str(head["url"]), headers, b"", float(head["stored_at"]), int(head["status"]))
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        return cached, digest

    # -- parsed project pages ---------------------------------------------------------------
    def load_page(self, key: str, body_sha256: str, url: str, content_type: str) -> bytes | None:
        """The parsed form of the page of request ``key`` (what :meth:`store_page` stored),
        when it was parsed from the body whose sha256 is ``body_sha256``, served from ``url``
        as ``content_type``, by this format and varsolve version; else ``None``."""
        entry = f"parsed-page {key}"
        found = self._read(self._path(PAGES_DIR, entry), entry)
        if found is None:
            return None
        head, content = found
        expected = {
            "format": PAGE_FORMAT, "varsolve": _varsolve_version(), "body_sha256": body_sha256, "url": url,
            "content_type": content_type,
        }
        if any(head.get(field) != value for field, value in expected.items()):
            return None
        return content

    def store_page(
        self, key: str, body_sha256: str, url: str, content_type: str, content: bytes | Callable[[], bytes]
    ) -> None:
        """``content``: the parsed form, or what makes it (called once, in the writer thread when
        there is one: encoding a large page is not the business of a thread someone waits for)."""
        fields: dict[str, object] = {
            "format": PAGE_FORMAT, "varsolve": _varsolve_version(), "body_sha256": body_sha256, "url": url,
            "content_type": content_type,
        }
        entry = f"parsed-page {key}"
        self._store(self._path(PAGES_DIR, entry), entry, fields, content)

    # -- derived ----------------------------------------------------------------------------
    def load_derived(self, key: str, *, refresh_before: float | None = None) -> bytes | None:
        """Bytes stored under ``key`` (see :func:`artefact_key`); ``None`` when missing, damaged,
        or (for an entry with a lifetime) expired or stored before ``refresh_before``."""
        found = self._read(self._path(DERIVED_DIR, key), key)
        if found is None:
            return None
        head, content = found
        max_age = head.get("max_age")
        if max_age is not None:  # None: immutable (the key names the file's hash)
            try:
                stored_at = float(head["stored_at"])
                if time.time() - stored_at >= float(max_age):
                    return None
            except (ValueError, KeyError, TypeError):
                return None
            if refresh_before is not None and stored_at < refresh_before:
                return None
        return content

    def store_derived(self, key: str, content: bytes, *, max_age: float | None = None) -> None:
        """Store ``content`` under ``key``, for ``max_age`` seconds (``None``: for good)."""
        self._store(self._path(DERIVED_DIR, key), key, {"max_age": max_age}, content)

    def load_core_metadata(self, key: str, *, refresh_before: float | None = None) -> CoreMetadata | None:
        """What :meth:`store_core_metadata` stored under ``key``; ``None`` when missing or damaged."""
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        from ..repository import CoreMetadata

        data = self.load_derived("parsed " + key, refresh_before=refresh_before)
        if data is None:
            return None
        try:
            doc = json.loads(data)
            rp = doc["requires_python"]
            return CoreMetadata(
                tuple(doc["requires_dist"]), SpecifierSet(rp) if rp is not None else None, frozenset(doc["provides_extra"])
            )
        except (ValueError, KeyError, TypeError, InvalidSpecifier, RecursionError):
            return None

    def store_core_metadata(self, key: str, meta: CoreMetadata, *, max_age: float | None = None) -> None:
        doc = {
            "requires_dist": list(meta.requires_dist),
            "requires_python": str(meta.requires_python) if meta.requires_python is not None else None,
            "provides_extra": sorted(meta.provides_extra),
        }
        self.store_derived("parsed " + key, json.dumps(doc).encode(), max_age=max_age)

    # -- entries ----------------------------------------------------------------------------
    # One file each: a magic line, a JSON head line (its key, the content's sha256 and length,
    # the time it was stored and the caller's fields), then the content.
    def _read(self, path: Path, key: str) -> tuple[dict[str, Any], bytes] | None:
        found = self._read_entry(path)
        if found is None or not found[0].startswith(_MAGIC):
            return None
        data = found[0]
        end = data.find(b"\n", len(_MAGIC))
        if end < 0:
            return None
        head_line, content = data[len(_MAGIC) : end], data[end + 1 :]
        try:
            head = json.loads(head_line)
        except (ValueError, RecursionError):
            return None
        if not isinstance(head, dict) or head.get("key") != key:
            return None
        if head.get("sha256") != hashlib.sha256(content).hexdigest() or "stored_at" not in head:
            return None
        return head, content

    def _store(self, path: Path, key: str, fields: dict[str, object], content: bytes | Callable[[], bytes]) -> None:
        entry = _Entry(key, fields, content, time.time())
        if self._writer is None:
            self._write(path, entry.data())
        else:
            self._writer.put(path, entry)

    def _read_entry(self, path: Path, prefix: int | None = None) -> tuple[bytes, int] | None:
        pending = self._writer.pending(path) if self._writer is not None else None
        if pending is not None:
            try:
                data = pending.data()
            except Exception:  # as the writer: what cannot be encoded is not in the cache
                return None
            return (data if prefix is None else data[:prefix]), len(data)
        return _read_entry(path, prefix, self._folders)

    def _write(self, path: Path, data: bytes) -> None:
        # A name no other process or thread uses (not tempfile: importing it costs more than
        # the rest of a warm run's cache work).
        tmp = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
        try:
            if path.parent not in self._folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                if not _real_folders(path.parent):
                    return
                self._folders.add(path.parent)
            # O_NOFOLLOW: a symlink planted at the temporary name is not written through.
            fd = os.open(tmp, _WRITE_FLAGS, 0o644)
            try:
                _write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError:
            # A cache that cannot be written (read-only home, full disk) only costs speed.
            try:
                os.unlink(tmp)
            except OSError:
                pass


class _Entry:
    """An entry's bytes (magic line, head, content), made once by whichever thread first wants
    them: the writer, or a reader of an entry not yet written."""

    __slots__ = ("_content", "_data", "_fields", "_key", "_lock", "_stored_at")

    def __init__(self, key: str, fields: dict[str, object], content: bytes | Callable[[], bytes], stored_at: float) -> None:
        self._key = key
        self._fields = fields
        self._content = content
        self._stored_at = stored_at
        self._data: bytes | None = None
        self._lock = threading.Lock()

    def data(self) -> bytes:
        with self._lock:
            if self._data is None:
                content = self._content if isinstance(self._content, bytes) else self._content()
                head = {
                    "key": self._key, "sha256": hashlib.sha256(content).hexdigest(), "length": len(content),
                    "stored_at": self._stored_at, **self._fields,
                }
                self._data = _MAGIC + json.dumps(head, separators=(",", ":")).encode("utf-8") + b"\n" + content
                self._content = b""
            return self._data


class _Writer:
    """A few daemon threads writing entries, each path always by the same thread, in the order
    stored (the last stored wins, as on disk); the ones not yet written are kept by path. More
    than one: each of an entry's system calls gives up the GIL, and under a busy resolution
    getting it back costs a thread up to the switch interval, so one thread fell hundreds of
    entries behind a cold run and wrote them after it."""

    LANES = 3

    def __init__(self, write: Callable[[Path, bytes], None]) -> None:
        self._write = write
        self._queues: list[queue.SimpleQueue[tuple[Path, _Entry] | threading.Event]] = []
        self._pending: dict[Path, _Entry] = {}
        self._lock = threading.Lock()

    def put(self, path: Path, entry: _Entry) -> None:
        with self._lock:
            self._pending[path] = entry
            if not self._queues:
                for n in range(self.LANES):
                    lane: queue.SimpleQueue[tuple[Path, _Entry] | threading.Event] = queue.SimpleQueue()
                    self._queues.append(lane)
                    threading.Thread(target=self._run, args=(lane,), name=f"varsolve-cache-writer-{n + 1}", daemon=True).start()
        self._queues[hash(path.name) % len(self._queues)].put((path, entry))

    def pending(self, path: Path) -> _Entry | None:
        return self._pending.get(path)  # a dict read is atomic

    def flush(self) -> None:
        with self._lock:
            queues = list(self._queues)
        done = [threading.Event() for _ in queues]
        for lane, event in zip(queues, done, strict=True):
            lane.put(event)
        for event in done:
            event.wait()

    def _run(self, lane: queue.SimpleQueue[tuple[Path, _Entry] | threading.Event]) -> None:
        while True:
            item = lane.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            path, entry = item
            try:
                self._write(path, entry.data())
            except Exception:  # a page that fails to encode only costs the next run a parse
                log.debug("cache entry %s not written", path, exc_info=True)
            with self._lock:
                if self._pending.get(path) is entry:
                    del self._pending[path]


def _real_folders(folder: Path) -> bool:
    """``folder`` (``root/kind/x``) and its parent below the root are real folders, not
    symlinks that would take an entry outside the cache."""
    for level in (folder, folder.parent):
        try:
            if not stat.S_ISDIR(os.lstat(level).st_mode):
                return False
        except OSError:
            return False
    return True


def _write_all(fd: int, data: bytes) -> None:
    # os.write rather than a file object: opening one costs three more system calls (fstat,
    # the isatty ioctl, lseek), and a cold run writes hundreds of entries (system calls are
    # dear in a sandbox, and each gives up the GIL).
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_entry(path: Path, prefix: int | None = None, real: set[Path] | None = None) -> tuple[bytes, int] | None:
    """The bytes of the entry at ``path`` (its first ``prefix`` bytes only, if given) and its
    size: a regular file of at most :data:`MAX_ENTRY_BYTES`, not reached through a symlink
    (neither the entry nor its folders below the root); ``None`` for anything else, or when it
    cannot be read. Never blocks on a FIFO or a device."""
    if real is None or path.parent not in real:
        if not _real_folders(path.parent):
            return None
        if real is not None:
            real.add(path.parent)  # ``real``: the folders found real already in this run
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            return None
        want = min(MAX_ENTRY_BYTES + 1 if prefix is None else prefix, info.st_size + 1)
        chunks = []
        while want > 0:  # os.read rather than a file object, as in _write_all
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            want -= len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return (data, info.st_size) if len(data) <= MAX_ENTRY_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _varsolve_version() -> str:
    from .. import __version__

    return __version__
