"""The cache's background writer: entries stored by a repository's cache are written by one
thread, read back from memory until then, and all on disk once the cache is flushed."""

from __future__ import annotations

import threading
from pathlib import Path

from varsolve.sources.cache import DiskCache


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_entries_read_back_before_and_after_they_are_written(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, background=True)
    release = threading.Event()
    calls: list[str] = []

    def encode() -> bytes:
        calls.append(threading.current_thread().name)
        release.wait(10)
        return b"parsed page"

    cache.store_page("page", "0" * 64, "http://x/page/", "application/json", encode)
    cache.store_derived("derived", b"metadata")
    cache.store_response("response", "http://x/r", {"etag": "1"}, b"body")
    # The writer is held in the page's encoding: the entries are only in memory, and read from there.
    assert cache.load_derived("derived") == b"metadata"
    response = cache.load_response("response")
    assert response is not None and response.content == b"body"
    release.set()
    assert cache.load_page("page", "0" * 64, "http://x/page/", "application/json") == b"parsed page"
    cache.flush()
    assert len(calls) == 1  # encoded once, whichever thread wanted it first
    assert len(_files(tmp_path)) == 3 and not list(tmp_path.rglob(".tmp-*"))
    again = DiskCache(tmp_path)  # another process's view: the files themselves
    assert again.load_derived("derived") == b"metadata"
    assert again.load_page("page", "0" * 64, "http://x/page/", "application/json") == b"parsed page"


def test_the_last_entry_stored_under_a_key_wins(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, background=True)
    for n in range(50):
        cache.store_derived("same", f"content {n}".encode())
    assert cache.load_derived("same") == b"content 49"
    cache.flush()
    assert DiskCache(tmp_path).load_derived("same") == b"content 49"


def test_a_page_that_fails_to_encode_is_not_written_and_the_writer_goes_on(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, background=True)

    def broken() -> bytes:
        raise ValueError("cannot encode")

    cache.store_page("bad", "0" * 64, "http://x/bad/", "application/json", broken)
    cache.flush()
    cache.store_derived("after", b"still written")
    cache.flush()
    assert DiskCache(tmp_path).load_derived("after") == b"still written"
    assert DiskCache(tmp_path).load_page("bad", "0" * 64, "http://x/bad/", "application/json") is None


def test_flush_without_entries_returns_at_once(tmp_path: Path) -> None:
    DiskCache(tmp_path, background=True).flush()
    DiskCache(tmp_path).flush()
    assert not tmp_path.exists() or _files(tmp_path) == []
