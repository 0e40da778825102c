"""The HTTP client against hostile servers, in process (the CLI side is tests/hostile/cases_http.py):
the request deadline, body limits, redirects, and how several sources combine."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index_helpers import tiny_scenario
from varsolve.errors import InputError, SourceError
from varsolve.index.builder import build_index
from varsolve.index.server import Fault, IndexServer, parse_fault
from varsolve.sources import SourceSettings, open_repository
from varsolve.sources.http import HttpClient, check_url
from varsolve.sources.settings import NetworkLimits

TINY = tiny_scenario("limits")
OTHER = TINY.replace('name = "limits"', 'name = "other"').replace("1.1.0", "9.0.0")


def _build(tmp: Path, text: str, name: str) -> Path:
    (tmp / f"{name}.toml").write_text(text)
    build_index(tmp / f"{name}.toml", tmp / name)
    return tmp / name


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("limits")
    return {"main": _build(tmp, TINY, "main"), "other": _build(tmp, OTHER, "other")}


@pytest.fixture()
def client() -> Iterator[HttpClient]:
    c = HttpClient(timeout=1.0, retries=0)
    yield c
    c.close()


def test_fault_specs_with_text_values() -> None:
    f = parse_fault("redirect=file:///etc/passwd@/simple/*")
    assert (f.kind, f.text, f.path, f.times) == ("redirect", "file:///etc/passwd", "/simple/*", None)
    f = parse_fault("content-type=text/plain:2")
    assert (f.kind, f.text, f.times) == ("content-type", "text/plain", 2)
    assert parse_fault("drip=250:1@*.metadata").value == 250.0
    with pytest.raises(InputError):
        parse_fault("redirect")  # needs a URL


def test_the_deadline_bounds_a_dripping_answer(indexes: dict[str, Path], client: HttpClient) -> None:
    with IndexServer(indexes["main"], faults=[Fault("drip", value=200)]) as server:
        start = time.monotonic()
        with pytest.raises(SourceError, match=r"/simple/tinyutil/: timed out \(no retries\)"):
            client.get(server.index_url + "tinyutil/")
        assert time.monotonic() - start < 2.5  # 1 s, not the ~150 s the whole answer takes


def test_a_slow_large_answer_that_keeps_arriving_is_not_cut_off(indexes: dict[str, Path]) -> None:
    # 20 ms a byte is 50 B/s; with min_rate 40 B/s every byte buys more time than it costs.
    client = HttpClient(timeout=0.5, retries=0, limits=NetworkLimits(min_rate=40))
    with IndexServer(indexes["main"], faults=[Fault("drip", value=20, path="*.metadata")]) as server:
        r = client.get(server.url + "files/tinyutil-1.0.0-py3-none-any.whl.metadata")
    client.close()
    assert r.status == 200 and b"Name: tinyutil" in r.content


def test_bodies_past_their_limit_are_refused(indexes: dict[str, Path]) -> None:
    client = HttpClient(timeout=5.0, retries=0, limits=NetworkLimits(page=1000, metadata=20))
    with IndexServer(indexes["main"], faults=[Fault("huge", value=10_000_000, path="/simple/big/")]) as server:
        with pytest.raises(SourceError, match=r"/simple/big/: larger than 1,000 bytes, varsolve's limit for a project page"):
            client.get(server.index_url + "big/", what="project page")
        with pytest.raises(SourceError, match=r"\.metadata: the server announces \d+ bytes, more than 20 bytes"):
            client.get(server.url + "files/tinyutil-1.0.0-py3-none-any.whl.metadata", what="core metadata")
        with pytest.raises(SourceError, match="more than the 10 bytes the index announced"):
            client.get(server.url + "files/tinyutil-1.0.0.tar.gz", limit=10)
    client.close()


def test_redirects_only_to_http(indexes: dict[str, Path], client: HttpClient) -> None:
    faults = [
        Fault("redirect", path="/simple/a/", text="file:///etc/passwd"),
        Fault("redirect", path="/simple/b/", text="/simple/tinyutil/"),
        Fault("redirect-loop", path="/simple/c/"),
    ]
    with IndexServer(indexes["main"], faults=faults) as server:
        with pytest.raises(SourceError, match=r"/simple/a/: redirected to file:///etc/passwd: only redirects to http"):
            client.get(server.index_url + "a/")
        r = client.get(server.index_url + "b/")
        assert r.status == 200 and r.url == server.index_url + "tinyutil/"  # links resolve against it
        with pytest.raises(SourceError, match=r"/simple/c/: more than 10 redirects"):
            client.get(server.index_url + "c/")
        assert server.stats.by_path["/simple/c/"] == 11


@pytest.mark.parametrize(
    "url", ["ftp://example.org/simple/", "http://[::1/simple/", "http://h:99999/", "http:///simple/", "http://a b/"]
)
def test_urls_that_are_not_http_urls(url: str) -> None:
    with pytest.raises(SourceError, match="^" + url.replace("[", r"\[").replace("/", "/") + ": "):
        check_url(url)


@pytest.mark.parametrize(("strategy", "expected"), [("first-index", ["1.1.0", "1.0.0"]), ("unsafe-best-match", ["9.0.0", "1.1.0", "1.0.0"])])
def test_index_strategies(indexes: dict[str, Path], strategy: str, expected: list[str]) -> None:
    with IndexServer(indexes["main"]) as main, IndexServer(indexes["other"]) as other:
        settings = SourceSettings(index_urls=(main.index_url, other.index_url), no_cache=True, index_strategy=strategy)
        with open_repository(settings) as repo:
            releases = repo.releases("tinyutil")
            assert [str(r.version) for r in releases] == expected
            # 1.0.0 is on both: its files come from the first index only.
            old = next(r for r in releases if str(r.version) == "1.0.0")
            assert all(f.url and f.url.startswith(main.url) for f in old.files)


def test_unknown_index_strategy() -> None:
    with pytest.raises(InputError, match="unknown index strategy 'best'"):
        SourceSettings(index_strategy="best")


def test_redirect_targets() -> None:
    from varsolve.sources.http import _redirect_target

    page = "https://index.example/simple/a/"
    assert _redirect_target(page, page, "/simple/b/") == "https://index.example/simple/b/"
    assert _redirect_target(page, page, "https://cdn.example/x") == "https://cdn.example/x"
    assert _redirect_target("http://i.example/", "http://i.example/", "https://i.example/") == "https://i.example/"
    with pytest.raises(SourceError, match="from https to plain http"):
        _redirect_target(page, page, "http://index.example/simple/a/")
    for location in ("file:///etc/passwd", "ftp://index.example/x", "data:text/html,<a>"):
        with pytest.raises(SourceError, match="only redirects to http"):
            _redirect_target(page, page, location)
    with pytest.raises(SourceError, match="redirected to an invalid URL"):
        _redirect_target(page, page, "http://[::1/x")
