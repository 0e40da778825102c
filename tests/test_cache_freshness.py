"""The HTTP cache as uv keeps it (docs/index.md, "Cache"): freshness, revalidation, --refresh,
--refresh-package, --offline, --no-cache, lock --check, concurrent writers, damaged entries and
one index's metadata never used for another's files.

Indexes are real: built from small scenarios and served by the project's server on loopback,
with its switches for the headers a real index may or may not send. One opt-in test (``-m
live``) talks to a public index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import varsolve_command
from index_helpers import build_index_from_text, clean_env
from varsolve.errors import SourceError
from varsolve.index.server import IndexServer
from varsolve.pipeline import build_problem, solve
from varsolve.sources import SourceSettings, open_repository
from varsolve.sources.cache import DEFAULT_MAX_AGE, CachedResponse, DiskCache
from varsolve.target import Target

SCENARIO = """
name = "cache-index"
[root]
requires = ["app"]
[packages.app.versions."1.0.0"]
requires_python = ""
requires = ["lib>=1"]
[packages.lib.versions."1.0.0"]
requires_python = ""
[packages.lib.versions."2.0.0"]
requires_python = ""
"""
NEWER_LIB = '[packages.lib.versions."3.0.0"]\nrequires_python = ""\n'
TARGET = Target.make("3.12", "x86_64-manylinux_2_39")
TIMEOUT = 120


def _build(directory: Path, text: str = SCENARIO) -> Path:
    return build_index_from_text(directory, text)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("cache-freshness") / "index")


def _resolve(index_url: str, cache: Path | None, **settings: object) -> tuple[dict[str, str], dict[str, int]]:
    """Pins and HTTP counters of one run (one repository, as one command would have).

    No prefetching (``workers=0``): a run reads exactly what the resolver asks for, so that the
    counters of two runs can be compared request for request.
    """
    options = SourceSettings(
        index_urls=(index_url,), cache_dir=cache, no_cache=cache is None, timeout=10.0, retries=0, workers=0
    )
    with open_repository(replace(options, **settings)) as repo:  # type: ignore[arg-type]
        problem = build_problem(["app"], repository=repo, target=TARGET)
        repo.hint_target(problem.target)
        resolution = solve(problem, "backtrack")
        assert resolution.satisfiable, resolution.explanation
        return {name: str(pin.version) for name, pin in resolution.packages.items()}, dict(repo.counters)


def _requests(server: IndexServer, before: dict[str, int]) -> dict[str, int]:
    """Requests the server answered since ``before`` (a copy of ``stats.by_path``), by path."""
    return {path: n - before.get(path, 0) for path, n in server.stats.by_path.items() if n - before.get(path, 0)}


def _varsolve(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*varsolve_command(), *args], capture_output=True, text=True, cwd=cwd, env=clean_env(), timeout=TIMEOUT)


# -- freshness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_max_age", "validators"), [(600, True), (None, False), (None, True)],
    ids=["max-age", "no-caching-headers", "validators-only"],
)
def test_a_warm_run_within_freshness_makes_no_request(
    index: Path, tmp_path: Path, page_max_age: int | None, validators: bool
) -> None:
    with IndexServer(index, page_max_age=page_max_age, validators=validators) as server:
        cold_pins, cold = _resolve(server.index_url, tmp_path)
        before = dict(server.stats.by_path)
        warm_pins, warm = _resolve(server.index_url, tmp_path)
        assert _requests(server, before) == {}
    assert warm_pins == cold_pins == {"app": "1.0.0", "lib": "2.0.0"}
    assert cold["requests"] > 0 and cold["metadata_fetched"] > 0
    assert warm["requests"] == 0 and warm["bytes"] == 0 and warm["metadata_fetched"] == 0
    assert warm["cache_hits"] == warm["pages"] + warm["metadata"] > 0


def test_stale_pages_are_revalidated_and_a_304_is_a_cache_hit(index: Path, tmp_path: Path) -> None:
    with IndexServer(index, page_max_age=0) as server:
        _resolve(server.index_url, tmp_path)
        before = dict(server.stats.by_path)
        not_modified = server.stats.not_modified
        pins, warm = _resolve(server.index_url, tmp_path)
        asked = _requests(server, before)
        assert server.stats.not_modified - not_modified == sum(asked.values())
    assert pins == {"app": "1.0.0", "lib": "2.0.0"}
    assert set(asked) == {"/simple/app/", "/simple/lib/"}  # metadata of files with a hash: immutable
    assert warm["requests"] == warm["not_modified"] == 2 and warm["bytes"] == 0
    assert warm["cache_hits"] == warm["pages"] + warm["metadata"]


def test_freshness_rules() -> None:
    """RFC 9111 as a private cache, uv's choices, and the documented default."""

    def entry(status: int = 200, **headers: str) -> CachedResponse:
        return CachedResponse("http://x/simple/a/", {k.replace("_", "-"): v for k, v in headers.items()}, b"", 1000.0, status)

    assert entry(cache_control="max-age=600, public").is_fresh(now=1599)
    assert not entry(cache_control="max-age=600, public").is_fresh(now=1600)
    assert not entry(cache_control="max-age=600", age="590").is_fresh(now=1011)  # 590 s spent in a CDN
    assert not entry(cache_control="no-cache, max-age=600").is_fresh(now=1000)
    assert not entry(cache_control="max-age=oops").is_fresh(now=1000)
    assert entry().freshness_lifetime() == DEFAULT_MAX_AGE  # no caching headers at all
    assert entry(last_modified="Mon, 30 Nov 2026 12:00:00 GMT").freshness_lifetime() == DEFAULT_MAX_AGE  # uv: 10 minutes
    assert entry(date="Mon, 30 Nov 2026 12:00:00 GMT", expires="Mon, 30 Nov 2026 12:05:00 GMT").freshness_lifetime() == 300
    assert entry(expires="not a date").freshness_lifetime() == 0
    assert entry(404).freshness_lifetime() == 0  # a missing project is asked for again (and used offline)
    assert entry(404, cache_control="max-age=60").freshness_lifetime() == 60
    assert entry(cache_control="max-age=31536000, immutable").immutable
    assert entry(etag='"x"', last_modified="y").validators() == {"If-None-Match": '"x"', "If-Modified-Since": "y"}


# -- --refresh, --refresh-package ----------------------------------------------------------------


def test_refresh_revalidates_every_page_once(index: Path, tmp_path: Path) -> None:
    with IndexServer(index, page_max_age=600) as server:
        _resolve(server.index_url, tmp_path)
        before = dict(server.stats.by_path)
        pins, counters = _resolve(server.index_url, tmp_path, refresh=True)
        asked = _requests(server, before)
        after_refresh = dict(server.stats.by_path)
        _, warm = _resolve(server.index_url, tmp_path)  # the refreshed entries are fresh again
        assert _requests(server, after_refresh) == {}
    assert pins == {"app": "1.0.0", "lib": "2.0.0"}
    assert asked == {"/simple/app/": 1, "/simple/lib/": 1}  # immutable metadata is not asked for again, as in uv
    assert counters["not_modified"] == counters["requests"] == 2
    assert warm["requests"] == 0


def test_refresh_package_revalidates_only_that_package(index: Path, tmp_path: Path) -> None:
    with IndexServer(index, page_max_age=600) as server:
        _resolve(server.index_url, tmp_path)
        before = dict(server.stats.by_path)
        _, counters = _resolve(server.index_url, tmp_path, refresh_packages=frozenset({"LIB"}))  # any spelling
        assert _requests(server, before) == {"/simple/lib/": 1}
    assert counters["requests"] == counters["not_modified"] == 1


def test_refresh_refetches_pages_without_validators(index: Path, tmp_path: Path) -> None:
    with IndexServer(index, page_max_age=None, validators=False) as server:
        _resolve(server.index_url, tmp_path)
        before = dict(server.stats.by_path)
        _, counters = _resolve(server.index_url, tmp_path, refresh=True)
        assert _requests(server, before) == {"/simple/app/": 1, "/simple/lib/": 1}
    assert counters["requests"] == 2 and counters["not_modified"] == 0 and counters["bytes"] > 0


def test_cli_refresh_options(index: Path, tmp_path: Path) -> None:
    from varsolve.cli import build_parser
    from varsolve.commands.options import source_settings_from_args

    args = build_parser().parse_args(["resolve", "app", "--index-url", "http://x/", "--refresh", "--refresh-package", "Foo_Bar",
                         "--refresh-package", "baz", "--offline"])
    settings = source_settings_from_args(args)
    assert settings.refresh and settings.offline and settings.refresh_packages == {"foo-bar", "baz"}
    plain = source_settings_from_args(build_parser().parse_args(["resolve", "app", "--index-url", "http://x/"]))
    assert not plain.refresh and not plain.offline and plain.refresh_packages == frozenset()


# -- --offline, --no-cache ------------------------------------------------------------------------


def test_offline_uses_a_warm_cache_even_stale_and_with_the_index_gone(index: Path, tmp_path: Path) -> None:
    with IndexServer(index, page_max_age=0) as server:  # every entry is stale at once
        url = server.index_url
        cold_pins, _ = _resolve(url, tmp_path)
    pins, counters = _resolve(url, tmp_path, offline=True)  # the server is closed
    assert pins == cold_pins
    assert counters["requests"] == 0 and counters["cache_hits"] > 0


def test_offline_on_a_cold_cache_names_what_is_missing(index: Path, tmp_path: Path) -> None:
    with IndexServer(index) as server:
        with pytest.raises(SourceError, match=r"/simple/app/: not in the cache, and --offline allows no network access"):
            _resolve(server.index_url, tmp_path / "cold", offline=True)
        proc = _varsolve("resolve", "app", "--index-url", server.index_url, "--python", "3.12", "--offline",
                         "--cache-dir", str(tmp_path / "cli"), cwd=tmp_path)
        assert server.stats.requests == 0
    assert proc.returncode == 2 and proc.stdout == ""
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"{server.index_url}app/: not in the cache" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_offline_knows_a_missing_project_from_its_cached_404(index: Path, tmp_path: Path) -> None:
    with IndexServer(index) as server:
        settings = SourceSettings(index_urls=(server.index_url,), cache_dir=tmp_path, workers=0)
        for offline in (False, True):
            with open_repository(replace(settings, offline=offline)) as repo:
                resolution = solve(build_problem(["app", "nosuch"], repository=repo, target=TARGET))
                assert not resolution.satisfiable and "no package named nosuch" in str(resolution.explanation)
                requests = repo.counters["requests"]
            assert requests == (0 if offline else 2)  # online: app's page and nosuch's 404
        assert server.stats.by_path["/simple/nosuch/"] == 1


def test_offline_needs_the_metadata_too(index: Path, tmp_path: Path) -> None:
    """Pages cached but one file's metadata not: the error names that file's URL."""
    with IndexServer(index) as server:
        _resolve(server.index_url, tmp_path)
        for entry in (tmp_path / "derived").rglob("*"):
            if entry.is_file() and b"app-1.0.0-py3-none-any.whl" in entry.read_bytes()[:2000]:
                entry.unlink()
        with pytest.raises(SourceError, match=r"/files/app-1\.0\.0-py3-none-any\.whl\.metadata: not in the cache"):
            _resolve(server.index_url, tmp_path, offline=True)


def test_a_cached_run_does_not_import_httpx(index: Path, tmp_path: Path) -> None:
    with IndexServer(index) as server:
        _resolve(server.index_url, tmp_path)
        code = textwrap.dedent(f"""
            import sys
            from varsolve.pipeline import build_problem, solve
            from varsolve.sources import SourceSettings, open_repository
            from varsolve.target import Target
            settings = SourceSettings(index_urls=({server.index_url!r},), cache_dir={str(tmp_path)!r}, workers=0)
            with open_repository(settings) as repo:
                target = Target.make("3.12", "x86_64-manylinux_2_39")
                assert solve(build_problem(["app"], repository=repo, target=target)).satisfiable
                print(repo.counters["requests"], "httpx" in sys.modules)
        """)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT, env=clean_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "False"]


def test_no_cache_writes_nothing(index: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with IndexServer(index) as server:
        proc = _varsolve("resolve", "app", "--index-url", server.index_url, "--python", "3.12", "--no-cache",
                         "--cache-dir", str(cache), cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        _, counters = _resolve(server.index_url, None)
    assert proc.stdout.split()[:2] == ["app", "1.0.0"]
    assert not cache.exists()
    assert counters["cache_hits"] == 0 and counters["metadata_fetched"] == counters["metadata"] > 0


# -- lock --check ---------------------------------------------------------------------------------


def test_lock_check_sees_a_rebuilt_index_at_once(tmp_path: Path) -> None:
    index = _build(tmp_path / "index")
    cache = str(tmp_path / "cache")
    with IndexServer(index, page_max_age=600) as server:
        lock = _varsolve("lock", "app", "--index-url", server.index_url, "--python", "3.12", "--cache-dir", cache,
                         "-o", "pylock.toml", cwd=tmp_path)
        assert lock.returncode == 0, lock.stderr
        check = _varsolve("lock", "--check", "pylock.toml", "--cache-dir", cache, cwd=tmp_path)
        assert check.returncode == 0 and "up to date" in check.stdout, check.stdout + check.stderr
        _build(index, SCENARIO + NEWER_LIB)  # rebuilt in place, a second later
        resolve = _varsolve("resolve", "app", "--index-url", server.index_url, "--python", "3.12", "--cache-dir", cache,
                            cwd=tmp_path)
        check = _varsolve("lock", "--check", "pylock.toml", "--cache-dir", cache, cwd=tmp_path)
    # A plain run trusts its fresh cache (max-age=600); the check asks the index.
    assert "lib 2.0.0" in " ".join(resolve.stdout.split()), resolve.stdout + resolve.stderr
    assert check.returncode == 1, check.stdout + check.stderr
    assert "lib: locked 2.0.0, now 3.0.0" in check.stdout


# -- concurrency and damaged entries ---------------------------------------------------------------

RACER = """
import hashlib, os, sys
from varsolve.sources.cache import DiskCache

root, me, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cache = DiskCache(root)
torn = misses = 0
for i in range(rounds):
    for key in ("page a", "page b"):
        token = f"{me}:{i}:{key};".encode()
        body = token * (1000 + (i * 7919 + me * 104729) % 20000)  # 10 kB .. 400 kB
        cache.store_response(key, "http://x/" + key, {"etag": hashlib.sha256(body).hexdigest()}, body)
        got = cache.load_response(key)
        if got is None:
            misses += 1
        elif got.headers["etag"] != hashlib.sha256(got.content).hexdigest() or got.url != "http://x/" + key:
            torn += 1
        cache.store_derived("derived " + key, body)
        data = cache.load_derived("derived " + key)
        if data is None:
            misses += 1
        elif len(set(data.split(b";")[:-1])) != 1:
            torn += 1
print(torn, misses)
"""


def test_processes_racing_on_one_cache_never_see_a_torn_entry(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), str(me), "100"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for me in range(3)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0, err
        results.append(out.split())
    # Once an entry exists it is always whole: never torn, never missing.
    assert results == [["0", "0"]] * 3
    assert not [p for p in tmp_path.rglob(".tmp-*")]  # no temporary file left behind


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "other-key"])
def test_a_damaged_cache_entry_is_a_miss(index: Path, tmp_path: Path, damage: str) -> None:
    with IndexServer(index, page_max_age=600) as server:
        pins, _ = _resolve(server.index_url, tmp_path)
        entries = sorted(p for kind in ("http", "derived") for p in (tmp_path / kind).rglob("*") if p.is_file())
        assert entries
        for n, entry in enumerate(entries):
            data = entry.read_bytes()
            if damage == "truncate":
                entry.write_bytes(data[: len(data) // 2])
            elif damage == "garbage":
                entry.write_bytes(bytes(b ^ 0x55 for b in data))
            elif damage == "empty":
                entry.write_bytes(b"")
            else:  # a whole, valid entry, but of another key
                entry.write_bytes(entries[(n + 1) % len(entries)].read_bytes() if n + 1 < len(entries) else data)
        damaged_pins, counters = _resolve(server.index_url, tmp_path)
        _, healed = _resolve(server.index_url, tmp_path)
    assert damaged_pins == pins
    assert counters["requests"] > 0 and counters["metadata_fetched"] > 0  # read again, not trusted
    assert healed["requests"] == 0  # and written back whole


def test_a_body_with_another_hash_is_a_miss(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path)
    cache.store_response("k", "http://x/", {}, b"the body")
    (entry,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    entry.write_bytes(entry.read_bytes().replace(b"the body", b"the bodY"))
    assert cache.load_response("k") is None
    cache.store_derived("d", b"metadata")
    assert cache.load_derived("d") == b"metadata" and cache.load_derived("e") is None


# -- one index's metadata is never another's --------------------------------------------------------


def _tampered_copy(index: Path, directory: Path) -> Path:
    """A copy of ``index`` whose app files have the same bytes (same sha256) but whose
    ``.metadata`` says ``lib<2``, announced with its own hash, so the copy is self-consistent."""
    shutil.copytree(index, directory)
    new_hash = {}
    for metadata in (directory / "files").glob("app-1.0.0*.metadata"):
        data = metadata.read_bytes()
        tampered = data.replace(b"Requires-Dist: lib>=1", b"Requires-Dist: lib<2")
        assert tampered != data
        metadata.write_bytes(tampered)
        new_hash[hashlib.sha256(data).hexdigest()] = hashlib.sha256(tampered).hexdigest()
    for page in (directory / "simple" / "app").iterdir():
        text = page.read_text()
        for old, new in new_hash.items():
            text = text.replace(old, new)
        page.write_text(text)
    return directory


def _app_wheel(index: Path) -> dict[str, object]:
    files = json.loads((index / "simple/app/index.json").read_text())["files"]
    wheel: dict[str, object] = next(f for f in files if f["filename"] == "app-1.0.0-py3-none-any.whl")
    return wheel


@pytest.mark.parametrize("first", ["tampered", "honest"])
def test_a_shared_cache_never_gives_one_index_the_metadata_of_another(index: Path, tmp_path: Path, first: str) -> None:
    mirror = _tampered_copy(index, tmp_path / "mirror")
    ours, theirs = _app_wheel(index), _app_wheel(mirror)
    assert ours["hashes"] == theirs["hashes"] and ours["core-metadata"] != theirs["core-metadata"]  # same file, other metadata
    shared = tmp_path / "shared"
    with IndexServer(index) as honest, IndexServer(mirror) as tampered:
        order = [("honest", honest), ("tampered", tampered)]
        if first == "tampered":
            order.reverse()
        pins = {}
        for name, server in order * 2:  # cold, then warm from the shared cache
            pins.setdefault(name, []).append(_resolve(server.index_url, shared)[0])
    assert pins["honest"] == [{"app": "1.0.0", "lib": "2.0.0"}] * 2
    assert pins["tampered"] == [{"app": "1.0.0", "lib": "1.0.0"}] * 2


# -- the public index (opt in: -m live) ---------------------------------------------------------------


@pytest.mark.live
def test_live_warm_run_reuses_pages_and_metadata(tmp_path: Path) -> None:
    """``pytest -m live tests/test_cache_freshness.py``; the index is $VARSOLVE_LIVE_INDEX_URL,
    else https://pypi.org/simple/."""
    url = os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/"
    target = Target.make("3.11", "x86_64-manylinux_2_39")

    def run() -> dict[str, int]:
        # No prefetching: a prefetch the cold run had no use for may be cut off when it ends,
        # and the warm run would then fetch it; the resolver's own requests are the measure.
        settings = SourceSettings(index_urls=(url,), cache_dir=tmp_path, timeout=60.0, workers=0)
        with open_repository(settings) as repo:
            problem = build_problem(["requests"], repository=repo, target=target)
            repo.hint_target(problem.target)
            assert solve(problem, "backtrack").satisfiable
            return dict(repo.counters)

    cold, warm = run(), run()
    assert cold["requests"] > 0 and cold["bytes"] > 0
    assert warm["cache_hits"] > 0 and warm["requests"] == 0 and warm["bytes"] == 0  # within 10 minutes of the cold run
    assert warm["pages"] == cold["pages"] and warm["metadata_fetched"] == 0
