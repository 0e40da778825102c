"""The on-disk cache of the HTTP sources, under :func:`default_cache_dir` unless
``--cache-dir`` says otherwise.

Two kinds of entries:

* ``http/``: responses with their validators (``ETag``, ``Last-Modified``) and
  ``Cache-Control``, for mutable things (project pages, ``*-variants.json``). A fresh entry is
  used without a request; a stale one is revalidated (304 keeps the body).
* ``derived/``: bytes derived from an immutable file: its core metadata or ``variant.json``,
  keyed by the file's sha256 when the index announced one (content addressed, so shared by
  every index that serves the same file), else by its URL. Core metadata is also kept parsed
  (:meth:`DiskCache.load_core_metadata`), so that a warm run needs no email parser.

Writes go to a temporary file and are renamed into place, so concurrent runs never see half an
entry; a damaged entry is treated as missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..repository import CoreMetadata

CACHE_DIR_VARIABLE = "VARSOLVE_CACHE_DIR"


def default_cache_dir() -> Path:
    """varsolve's one cache root: ``$VARSOLVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/varsolve``,
    else ``~/.cache/varsolve``. The HTTP cache and the provider plugins' environments
    (``plugins/``) live under it."""
    own = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "varsolve"


@dataclass
class CachedResponse:
    url: str
    headers: dict[str, str]  # lower-case names: etag, last-modified, cache-control, content-type
    content: bytes
    stored_at: float

    def max_age(self) -> int | None:
        directives = parse_cache_control(self.headers.get("cache-control", ""))
        if "no-cache" in directives or "no-store" in directives:
            return 0
        value = directives.get("max-age")
        try:
            return int(value) if value is not None else None
        except ValueError:
            return 0

    def is_fresh(self, now: float | None = None) -> bool:
        max_age = self.max_age()
        if not max_age:
            return False
        return (now if now is not None else time.time()) - self.stored_at < max_age

    def validators(self) -> dict[str, str]:
        out = {}
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


class DiskCache:
    KEPT_HEADERS = ("etag", "last-modified", "cache-control", "content-type", "date")

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @staticmethod
    def _name(key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def _path(self, kind: str, key: str) -> Path:
        name = self._name(key)
        return self.root / kind / name[:2] / name

    # -- HTTP responses ---------------------------------------------------------------------
    def load_response(self, key: str) -> CachedResponse | None:
        path = self._path("http", key)
        try:
            head = json.loads(path.with_suffix(".json").read_text("utf-8"))
            content = path.with_suffix(".body").read_bytes()
            if hashlib.sha256(content).hexdigest() != head["sha256"]:
                return None
            return CachedResponse(head["url"], dict(head["headers"]), content, float(head["stored_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store_response(self, key: str, url: str, headers: dict[str, str], content: bytes) -> None:
        if "no-store" in parse_cache_control(headers.get("cache-control", "")):
            return
        path = self._path("http", key)
        kept = {k: v for k, v in headers.items() if k in self.KEPT_HEADERS}
        head = {"url": url, "headers": kept, "stored_at": time.time(), "sha256": hashlib.sha256(content).hexdigest()}
        # Body first: a head pointing at a missing or older body fails its hash check.
        self._write(path.with_suffix(".body"), content)
        self._write(path.with_suffix(".json"), json.dumps(head).encode("utf-8"))

    def touch_response(self, key: str, cached: CachedResponse, headers: dict[str, str]) -> None:
        """A 304: keep the body, refresh the time and whatever validators came with it."""
        merged = dict(cached.headers)
        merged.update({k: v for k, v in headers.items() if k in self.KEPT_HEADERS})
        self.store_response(key, cached.url, merged, cached.content)

    # -- derived, immutable -----------------------------------------------------------------
    def load_derived(self, key: str) -> bytes | None:
        try:
            data = self._path("derived", key).read_bytes()
        except OSError:
            return None
        digest, _, content = data.partition(b"\n")
        if hashlib.sha256(content).hexdigest().encode() != digest:
            return None
        return content

    def store_derived(self, key: str, content: bytes) -> None:
        self._write(self._path("derived", key), hashlib.sha256(content).hexdigest().encode() + b"\n" + content)

    def load_core_metadata(self, key: str) -> CoreMetadata | None:
        """What :meth:`store_core_metadata` stored under ``key``; ``None`` when missing or damaged."""
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        from ..repository import CoreMetadata

        data = self.load_derived("parsed " + key)
        if data is None:
            return None
        try:
            doc = json.loads(data)
            rp = doc["requires_python"]
            return CoreMetadata(
                tuple(doc["requires_dist"]), SpecifierSet(rp) if rp is not None else None, frozenset(doc["provides_extra"])
            )
        except (ValueError, KeyError, TypeError, InvalidSpecifier):
            return None

    def store_core_metadata(self, key: str, meta: CoreMetadata) -> None:
        doc = {
            "requires_dist": list(meta.requires_dist),
            "requires_python": str(meta.requires_python) if meta.requires_python is not None else None,
            "provides_extra": sorted(meta.provides_extra),
        }
        self.store_derived("parsed " + key, json.dumps(doc).encode())

    def _write(self, path: Path, data: bytes) -> None:
        # A name no other process or thread uses (not tempfile: importing it costs more than
        # the rest of a warm run's cache work).
        tmp = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except OSError:
            # A cache that cannot be written (read-only home, full disk) only costs speed.
            try:
                os.unlink(tmp)
            except OSError:
                pass
