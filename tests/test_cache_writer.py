"""What a cold run does off the resolver's path: the cache's background writer (entries stored
by a repository's cache are written by one thread, read back from memory until then, and all on
disk once the cache is flushed) and the HTTP client's warm-up."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

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


# -- the HTTP client's warm-up ------------------------------------------------------------------


@pytest.mark.parametrize("env", ["file", "dir", "certifi"])
def test_the_tls_context_is_the_one_httpx_makes(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """warm_up makes the https transport's context before httpx is imported: it must be the
    context httpx itself makes for verify=True, CA bundle included (whatever the environment)."""
    import certifi
    import httpx

    from varsolve.sources.http import default_tls_context

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    if env == "file":
        monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    elif env == "dir":
        monkeypatch.setenv("SSL_CERT_DIR", str(Path(certifi.where()).parent))
    ours, theirs = default_tls_context(), httpx.create_ssl_context()
    assert ours.cert_store_stats() == theirs.cert_store_stats()
    assert ours.get_ca_certs() == theirs.get_ca_certs()
    assert (ours.verify_mode, ours.check_hostname, ours.options) == (theirs.verify_mode, theirs.check_hostname, theirs.options)


def test_warm_up_makes_the_client_and_a_request_uses_it(tmp_path: Path) -> None:
    from varsolve.index.server import IndexServer
    from varsolve.sources.http import HttpClient

    (tmp_path / "simple" / "app").mkdir(parents=True)
    (tmp_path / "simple" / "app" / "index.html").write_text("<html><body></body></html>\n")
    with IndexServer(tmp_path) as server:
        client = HttpClient(timeout=5, retries=0)
        client.warm_up([server.index_url])
        response = client.get(server.index_url + "app/")
        assert response.status == 200
        client.close()
    offline = HttpClient(offline=True)
    offline.warm_up(["https://example.invalid/simple/"])
    assert offline._client_instance is None  # noqa: SLF001
