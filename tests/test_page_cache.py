"""The parsed-page cache and lazily built releases (issue #15, item 3; docs/benchmarks.md,
"Parsed page cache"): a warm run reads each project page in parsed form (not its body, not its
JSON) and builds the files of the releases the resolver reads only; a damaged, truncated or
planted entry is ignored or healed (the page is parsed again), the answer never changes;
concurrent writers never leave a torn entry; a page revalidated to a new body is parsed again.

Indexes are real: built from a small scenario and served by the project's server on loopback.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.version import Version

from index_helpers import build_index_from_text
from varsolve.cli import main
from varsolve.index.server import IndexServer
from varsolve.pipeline import build_problem, solve
from varsolve.repository import Release
from varsolve.sources import SourceSettings, open_repository
from varsolve.sources.cache import PAGES_DIR, DiskCache
from varsolve.sources.files import ProjectPage
from varsolve.sources.pages import ACCEPT, checked_row, page_rows
from varsolve.target import Target

SCENARIO = """
name = "page-cache"
[root]
requires = ["app", "numpy"]
[environment.variants]
"blas_lapack :: library" = ["mkl", "openblas"]
[packages.app.versions."1.0.0"]
requires_python = ""
requires = ["lib>=2,<6"]
[packages.lib.versions."1.0.0"]
requires_python = ""
[packages.lib.versions."2.0.0"]
requires_python = ">=3.8"
wheel_tags = ["py3-none-any", "cp312-cp312-manylinux_2_17_x86_64"]
[packages.lib.versions."3.0.0"]
requires_python = ">=3.8"
wheel_tags = ["cp312-cp312-manylinux_2_17_x86_64", "cp311-cp311-manylinux_2_17_x86_64", "py3-none-any"]
[packages.lib.versions."4.0.0"]
requires_python = ""
[packages.lib.versions."5.0.0"]
requires_python = ""
yanked = true
[packages.lib.versions."6.0.0"]
requires_python = ""
[packages.numpy.versions."2.2.0"]
requires_python = ""
[packages.numpy.versions."2.3.0"]
requires_python = ""
wheel = false
[packages.numpy.versions."2.3.0".variants]
mkl = ["blas_lapack :: library :: mkl"]
openblas = ["blas_lapack :: library :: openblas"]
"""
NEWER_LIB = '[packages.lib.versions."4.5.0"]\nrequires_python = ""\n'
TARGET = Target.make("3.12", "x86_64-manylinux_2_39")
EXPECTED = {"app": "1.0.0", "lib": "4.0.0", "numpy": "2.3.0"}


def _build(directory: Path, text: str = SCENARIO) -> Path:
    return build_index_from_text(directory, text)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("page-cache") / "index")


@pytest.fixture(scope="module")
def scenario_file(index: Path) -> Path:
    return index.with_suffix(".toml")


def _resolve(index_url: str, cache: Path | None, **settings: object) -> tuple[dict[str, str], dict[str, int]]:
    """Pins (with the variant) and counters of one run; no prefetching, so that counters are
    exact (the resolver reads what it asks for)."""
    options = SourceSettings(index_urls=(index_url,), cache_dir=cache, no_cache=cache is None, timeout=10.0, retries=0, workers=0)
    with open_repository(replace(options, **settings)) as repo:  # type: ignore[arg-type]
        problem = build_problem(["app", "numpy"], repository=repo, target=replace(TARGET, variants={"blas_lapack": {"library": ["mkl", "openblas"]}}))
        repo.hint_target(problem.target)
        resolution = solve(problem, "backtrack")
        assert resolution.satisfiable, resolution.explanation
        assert resolution.valid and not resolution.violations  # checked by the independent verifier
        pins = {name: str(pin.version) for name, pin in resolution.packages.items()}
        return pins, dict(repo.counters)


def _cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> str:
    """``varsolve resolve`` in this process: its standard output and its pinned requirements
    (``-o``: versions, files and their hashes)."""
    pins = tmp_path / "pins.txt"
    capsys.readouterr()
    code = main(["-q", "resolve", *args, "-o", str(pins)])
    out = capsys.readouterr().out
    assert code == 0, out
    # -o writes the command line into its header: without it, the files are comparable.
    return out + "\n".join(line for line in pins.read_text().splitlines() if not line.startswith("#"))


def _page_entries(cache: Path) -> dict[str, Path]:
    """The parsed-page entries by project name."""
    out = {}
    for path in sorted((cache / PAGES_DIR).rglob("*")):
        if path.is_file():
            head = json.loads(path.read_bytes().split(b"\n", 2)[1])
            out[head["key"].rstrip("/").rsplit("/", 1)[-1]] = path
    return out


def _rewrite(entry: Path, content: bytes, **head_changes: object) -> None:
    """Replace the entry's content by ``content``, as a valid entry: head sha256 and length
    recomputed (what someone with write access to a shared cache could plant)."""
    magic, head_line, _ = entry.read_bytes().split(b"\n", 2)
    head = json.loads(head_line)
    head.update(sha256=hashlib.sha256(content).hexdigest(), length=len(content), **head_changes)
    entry.write_bytes(magic + b"\n" + json.dumps(head).encode() + b"\n" + content)


def _content(entry: Path) -> tuple[dict[str, object], list[bytes]]:
    """The entry's index line (decoded) and each version's rows (bytes), in index order."""
    content = entry.read_bytes().split(b"\n", 2)[2]
    line, _, region = content.partition(b"\n")
    index = json.loads(line)
    return index, [region[start:end] for _, start, end in index["versions"]]  # type: ignore[union-attr]


def _assemble(index: dict[str, object], blobs: list[bytes]) -> bytes:
    spans, offset = [], 0
    for (text, _, _), blob in zip(index["versions"], blobs, strict=True):  # type: ignore[call-overload]
        spans.append([text, offset, offset + len(blob)])
        offset += len(blob)
    return json.dumps({**index, "versions": spans}).encode() + b"\n" + b"".join(blobs)


# -- warm runs read the parsed form -----------------------------------------------------------------


def test_a_warm_run_reads_pages_in_parsed_form_and_builds_only_what_it_reads(index: Path, tmp_path: Path) -> None:
    with IndexServer(index) as server:
        cold_pins, cold = _resolve(server.index_url, tmp_path)
        warm_pins, warm = _resolve(server.index_url, tmp_path)
    assert cold_pins == warm_pins == EXPECTED
    assert cold["pages_parsed"] == cold["pages"] == 3 and cold["pages_from_parsed_cache"] == 0
    assert warm["pages_from_parsed_cache"] == warm["pages"] == 3 and warm["pages_parsed"] == 0
    assert warm["requests"] == 0 and warm["cache_hits"] == warm["pages"] + warm["metadata"] + 1  # + numpy's variants.json
    # lib 6.0.0 (excluded by app), 5.0.0 (yanked), then 4.0.0: its older releases are never built.
    assert warm["releases_built"] == cold["releases_built"] < 6 + 2 + 1
    assert set(_page_entries(tmp_path)) == {"app", "lib", "numpy"}


def test_a_warm_run_reads_only_the_head_of_a_fresh_page(index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with IndexServer(index) as server:
        _resolve(server.index_url, tmp_path)
        bodies: list[str] = []
        load = DiskCache.load_response

        def spy(self: DiskCache, key: str):  # type: ignore[no-untyped-def]
            bodies.append(key)
            return load(self, key)

        monkeypatch.setattr(DiskCache, "load_response", spy)
        pins, warm = _resolve(server.index_url, tmp_path)
    assert pins == EXPECTED and warm["pages_from_parsed_cache"] == 3
    assert not [key for key in bodies if key.startswith(ACCEPT)]  # no page body read


def test_the_same_answer_byte_for_byte_with_and_without_the_parsed_cache(
    index: Path, scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with IndexServer(index) as server:
        args = ["--scenario", str(scenario_file), "--index-url", server.index_url, "--cache-dir", str(tmp_path / "c")]
        cold = _cli(capsys, tmp_path, *args)
        warm = _cli(capsys, tmp_path, *args)
        shutil.rmtree(tmp_path / "c" / PAGES_DIR)  # the HTTP cache alone
        http_only = _cli(capsys, tmp_path, *args)
        uncached = _cli(capsys, tmp_path, "--scenario", str(scenario_file), "--index-url", server.index_url, "--no-cache")
        scenario_only = _cli(capsys, tmp_path, "--scenario", str(scenario_file))
    assert "--hash=sha256:" in cold and "lib==4.0.0" in cold
    assert cold == warm == http_only == uncached
    assert scenario_only.splitlines()[:3] == cold.splitlines()[:3]  # the same versions as the scenario's own


def test_offline_and_refresh_use_the_parsed_form(index: Path, tmp_path: Path) -> None:
    with IndexServer(index) as server:
        _resolve(server.index_url, tmp_path)
        pins, refreshed = _resolve(server.index_url, tmp_path, refresh=True)  # revalidated: 304, same body
        assert pins == EXPECTED and refreshed["not_modified"] == refreshed["requests"] == 3 + 1  # pages, variants.json
        assert refreshed["pages_from_parsed_cache"] == 3
        url = server.index_url
    pins, offline = _resolve(url, tmp_path, offline=True)  # the server is gone
    assert pins == EXPECTED and offline["pages_from_parsed_cache"] == 3 and offline["pages_parsed"] == 0


def test_a_page_revalidated_to_a_new_body_is_parsed_again(tmp_path: Path) -> None:
    index = _build(tmp_path / "index")
    with IndexServer(index, page_max_age=0) as server:  # every page revalidated on every run
        _resolve(server.index_url, tmp_path / "c")
        pins, same = _resolve(server.index_url, tmp_path / "c")
        assert pins == EXPECTED and same["not_modified"] == same["requests"] and same["pages_from_parsed_cache"] == 3
        _build(index, SCENARIO + NEWER_LIB)  # lib 4.5.0 published
        pins, new = _resolve(server.index_url, tmp_path / "c")
        assert pins == {**EXPECTED, "lib": "4.5.0"}
        assert new["pages_parsed"] >= 1 and new["pages_from_parsed_cache"] + new["pages_parsed"] == 3
        pins, again = _resolve(server.index_url, tmp_path / "c")
    assert pins["lib"] == "4.5.0" and again["pages_from_parsed_cache"] == 3  # the new body's parsed form, stored


# -- damaged and planted entries --------------------------------------------------------------------


def _truncated(entry: Path) -> None:
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) * 2 // 3])


def _flipped(entry: Path) -> None:
    data = bytearray(entry.read_bytes())
    data[-10] ^= 0x20
    entry.write_bytes(bytes(data))


def _head_only(entry: Path) -> None:
    data = entry.read_bytes()
    entry.write_bytes(data[: data.index(b"\n", data.index(b"\n") + 1) + 1])


def _other_project(entry: Path) -> None:
    index, blobs = _content(entry)
    _rewrite(entry, _assemble({**index, "name": "app"}, blobs))


def _bomb(entry: Path) -> None:
    _rewrite(entry, b"[" * 100_000 + b"]" * 100_000 + b"\n")


def _offsets_out_of_range(entry: Path) -> None:
    index, blobs = _content(entry)
    content = _assemble(index, blobs)
    line, _, region = content.partition(b"\n")
    doc = json.loads(line)
    doc["versions"][0][2] = len(region) + 100
    _rewrite(entry, json.dumps(doc).encode() + b"\n" + region)


def _noncanonical_version(entry: Path) -> None:
    index, blobs = _content(entry)
    versions = [[text.removesuffix(".0"), s, e] for text, s, e in index["versions"]]  # type: ignore[union-attr]
    _rewrite(entry, _assemble({**index, "versions": versions}, blobs))


def _each_row(change: Callable[[list[object]], None]) -> Callable[[Path], None]:
    """Every row of every version changed by ``change``: a valid entry whose rows do not check."""

    def damage(entry: Path) -> None:
        index, blobs = _content(entry)
        changed = []
        for blob in blobs:
            rows = json.loads(blob)
            for row in rows:
                change(row)
            changed.append(json.dumps(rows).encode())
        _rewrite(entry, _assemble(index, changed))

    return damage


def _swapped_versions(entry: Path) -> None:
    """The files of one version listed under another (each row well-formed)."""
    index, blobs = _content(entry)
    _rewrite(entry, _assemble(index, blobs[1:] + blobs[:1]))


def _set(position: int, value: object) -> Callable[[list[object]], None]:
    def change(row: list[object]) -> None:
        row[position] = value

    return change


def _upper_hash(row: list[object]) -> None:
    row[2] = {algo: digest.upper() for algo, digest in row[2].items()}  # type: ignore[union-attr]


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncated,
    "bit-flip": _flipped,
    "head-only": _head_only,
    "garbage": lambda entry: entry.write_bytes(bytes(range(256)) * 4),
    "empty": lambda entry: entry.write_bytes(b""),
    "other-project": _other_project,
    "nesting-bomb": _bomb,
    "offsets-out-of-range": _offsets_out_of_range,
    "noncanonical-version": _noncanonical_version,
    "other-format": lambda entry: _rewrite(entry, entry.read_bytes().split(b"\n", 2)[2], format=0),
    "other-body": lambda entry: _rewrite(entry, entry.read_bytes().split(b"\n", 2)[2], body_sha256="0" * 64),
    "file-urls": _each_row(_set(1, "file:///etc/passwd")),
    "relative-urls": _each_row(_set(1, "../../secret.whl")),
    "url-fragment": _each_row(lambda row: row.__setitem__(1, f"{row[1]}#sha256=00")),
    "wrong-types": _each_row(_set(7, "big")),
    "bool-yanked-reason": _each_row(_set(5, "a reason without being yanked")),
    "negative-size": _each_row(_set(7, -1)),
    "upper-case-hash": _each_row(_upper_hash),
    "short-hash": _each_row(_set(2, {"sha256": "abc"})),
    "row-too-short": _each_row(lambda row: row.pop()),
    "other-projects-file": _each_row(_set(0, "numpy-2.2.0-py3-none-any.whl")),
    "swapped-versions": _swapped_versions,
    "unsorted-rows": lambda entry: _rewrite(
        entry, _assemble(_content(entry)[0], [json.dumps(json.loads(b)[::-1] * 2).encode() for b in _content(entry)[1]])
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_or_planted_parsed_page_is_ignored_and_the_answer_stays(index: Path, tmp_path: Path, damage: str) -> None:
    with IndexServer(index) as server:
        clean_pins, _ = _resolve(server.index_url, tmp_path)
        for entry in _page_entries(tmp_path).values():
            DAMAGE[damage](entry)
        pins, counters = _resolve(server.index_url, tmp_path)
        _, healed = _resolve(server.index_url, tmp_path)
    if damage == "noncanonical-version":
        # A well-formed entry that spells each version otherwise (4.0 for 4.0.0) is caught when
        # a release is read, after its version was listed: the same releases and files, spelled
        # as planted (as a planted HTTP entry could spell them). Nothing else can be planted so.
        assert {n: Version(v) for n, v in pins.items()} == {n: Version(v) for n, v in EXPECTED.items()}
    else:
        assert pins == clean_pins == EXPECTED  # and verified (see _resolve)
    assert counters["pages_parsed"] >= 2  # at least lib's and app's pages (numpy: maybe only its variants line)
    assert counters["requests"] == 0  # the page's own HTTP entry was still good: no network
    assert healed["pages_parsed"] == 0 and healed["pages_from_parsed_cache"] == 3  # and written back whole


def test_a_planted_file_url_is_never_read(index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = tmp_path / "secret.whl"
    secret.write_bytes(b"not for varsolve")
    with IndexServer(index) as server:
        args = ["--scenario", str(index.with_suffix(".toml")), "--index-url", server.index_url, "--cache-dir", str(tmp_path)]
        clean = _cli(capsys, tmp_path, *args)
        for entry in _page_entries(tmp_path).values():
            _each_row(_set(1, secret.as_uri()))(entry)
        planted = _cli(capsys, tmp_path, *args)
    assert planted == clean and secret.as_uri() not in planted


# -- concurrency ------------------------------------------------------------------------------------

RACER = """
import hashlib, sys
from varsolve.sources.cache import DiskCache

root, me, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cache = DiskCache(root)
torn = misses = 0
for i in range(rounds):
    token = f"{me}:{i};".encode()
    content = token * (500 + (i * 7919 + me * 104729) % 40000)  # 3 kB .. 400 kB
    body_sha = hashlib.sha256(b"the page").hexdigest()
    cache.store_page("ACCEPT http://x/simple/p/", body_sha, "http://x/simple/p/", "application/json", content)
    got = cache.load_page("ACCEPT http://x/simple/p/", body_sha, "http://x/simple/p/", "application/json")
    if got is None:
        misses += 1
    elif len(set(got.split(b";")[:-1])) != 1 or not got.endswith(b";"):
        torn += 1
print(torn, misses)
"""


def test_concurrent_writers_never_leave_a_torn_parsed_page(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), str(me), "150"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for me in range(3)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(out.split())
    assert results == [["0", "0"]] * 3  # once written, always whole
    assert not list(tmp_path.rglob(".tmp-*"))


def test_concurrent_runs_on_one_cold_cache_agree(index: Path, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with IndexServer(index) as server, ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _resolve(server.index_url, tmp_path), range(4)))
        pins, warm = _resolve(server.index_url, tmp_path)
    assert all(p == EXPECTED for p, _ in results) and pins == EXPECTED
    assert warm["pages_from_parsed_cache"] == 3


# -- units ------------------------------------------------------------------------------------------


def test_parsed_pages_round_trip_and_every_parsed_row_checks(index: Path) -> None:
    for page in sorted((index / "simple").glob("*/index.json")):
        name = page.parent.name
        url = f"http://example.test/simple/{name}/"
        for body, content_type in ((page.read_bytes(), "application/vnd.pypi.simple.v1+json"), (page.with_name("index.html").read_bytes(), "text/html")):
            rows = page_rows(body, content_type, url)
            assert all(checked_row(list(row), url) == row for row in rows)
            fresh = ProjectPage.from_rows(rows, name, url, True)  # type: ignore[arg-type]
            decoded = ProjectPage.decode(fresh.encode(), name, url, True, lambda: None)  # type: ignore[arg-type]
            assert decoded is not None and decoded.versions == fresh.versions
            assert [str(v) for v in decoded.versions] == [str(v) for v in fresh.versions]
            assert decoded.variants == fresh.variants
            assert all(decoded.files(v) == fresh.files(v) for v in fresh.versions)


def test_lazy_releases_compare_hash_and_pickle_as_releases(index: Path, tmp_path: Path) -> None:
    with IndexServer(index) as server:
        with open_repository(SourceSettings(index_urls=(server.index_url,), cache_dir=tmp_path, workers=0)) as repo:
            releases = repo.releases("lib")
            assert [str(r.version) for r in releases] == ["6.0.0", "5.0.0", "4.0.0", "3.0.0", "2.0.0", "1.0.0"]
            assert repo.counters["releases_built"] == 0
            again = repo.releases("lib")
            assert releases == again and hash(releases[0]) == hash(again[0])
            plain = pickle.loads(pickle.dumps(releases[2]))
            assert type(plain) is Release and plain == Release(plain.name, plain.version, releases[2].files)
            assert releases[1].yanked and not releases[0].yanked
            assert repo.counters["releases_built"] == 3
            # A file of a release not built yet: found all the same (every release built).
            newest = releases[0].files[0]
            assert repo.metadata(releases[0], newest).requires_dist == ()
            assert repo.download(releases[-1], releases[-1].files[0])[:2] in (b"PK", b"\x1f\x8b")


def test_a_cache_folder_is_made_and_checked_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries written into one folder make and check it once (each system call is a GIL
    hand-off for a fetch thread); a folder replaced by a symlink before the first write is
    still refused, and the entries still read back."""
    import os

    from varsolve.sources.cache import DiskCache

    made: list[Path] = []
    mkdir = Path.mkdir

    def counting(self: Path, *args: object, **kwargs: object) -> None:
        if self.name == folder and kwargs.get("parents"):  # the cache's own call, not pathlib's recursion
            made.append(self)
        mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", counting)
    # Keys whose entries share a folder (the first hex digit of their hash).
    keys = [f"key-{n}" for n in range(2000)]
    folder = hashlib.sha256(keys[0].encode()).hexdigest()[:1]
    same = [k for k in keys if hashlib.sha256(k.encode()).hexdigest()[:1] == folder][:3]
    assert len(same) == 3
    cache = DiskCache(tmp_path / "cache")
    for n, key in enumerate(same):
        cache.store_derived(key, f"content {n}".encode())
    assert len(made) == 1
    assert [cache.load_derived(key) for key in same] == [f"content {n}".encode() for n in range(3)]

    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "planted" / "derived").mkdir(parents=True)
    os.symlink(outside, tmp_path / "planted" / "derived" / folder)
    DiskCache(tmp_path / "planted").store_derived(same[0], b"content")
    assert list(outside.iterdir()) == []
