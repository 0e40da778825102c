"""Resolution over real HTTP (built index + the project's server on loopback) equals resolution
in memory, for every bundled scenario and every strategy, through every client path: PEP 691
JSON with PEP 658 metadata, PEP 503 HTML with Range reads of the wheels, and --find-links."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import SCENARIOS, run_varsolve
from index_helpers import clean_env, repository
from varsolve.api import build_problem, solve
from varsolve.index.builder import build_index
from varsolve.index.server import IndexServer
from varsolve.scenario_check import compare
from varsolve.sources.findlinks import FindLinksRepository
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import COMPLETE, available

BUNDLED = sorted((SCENARIOS / "variants").glob("*.toml"))

FEATURES = """
name = "client-features"
[root]
requires = ["app[fast]", "pinned==1.0.0", "lib"]
[environment.variants]
"accel :: device" = ["cuda"]
[packages.app.versions."1.1.0"]
requires_python = ">=3.13"
[packages.app.versions."1.0.0"]
requires = ["helper; variant_label == ''", "accel-runtime; 'accel :: device :: cuda' in variant_properties"]
extras = { fast = ["speedups"] }
requires_python = ">=3.10"
[packages.app.versions."1.0.0".variants]
cuda = ["accel :: device :: cuda"]
null = []
[packages.pinned.versions."1.0.0"]
yanked = true
[packages.pinned.versions."0.9.0"]
[packages.lib.versions."2.0.0"]
yanked = true
[packages.lib.versions."1.5.0"]
wheel = false
[packages.helper.versions."1.0.0"]
[packages.speedups.versions."1.0.0"]
[packages.accel-runtime.versions."1.0.0"]
"""


def _without_stats(resolution) -> dict:
    out = resolution.to_dict()
    out.pop("stats")
    # A built wheel's METADATA has its variant markers already evaluated for its own label
    # (docs/index.md), so requirement texts may differ; who requires whom may not.
    out["graph"] = sorted({(e["parent"] or "", e["child"], tuple(e["extras"])) for e in out["graph"]})
    return out


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """Every bundled scenario built twice: JSON + .metadata, and HTML only without .metadata."""
    root = tmp_path_factory.mktemp("indexes")
    out = {}
    for scenario in BUNDLED:
        full, plain = root / "full" / scenario.stem, root / "plain" / scenario.stem
        build_index(scenario, full)
        build_index(scenario, plain, metadata_files=False, json_pages=False)
        out[scenario.stem] = {"full": full, "plain": plain}
    return out


def _check_same(scenario: Path, strategy: str, repo, tmp_path: Path) -> None:
    memory = solve(build_problem(scenario=scenario), strategy)
    problem = build_problem(scenario=scenario, repository=repo)
    repo.hint_target(problem.target)
    remote = solve(problem, strategy)  # verified: violations filled by the independent verifier
    assert _without_stats(remote) == _without_stats(memory), (scenario.stem, strategy)
    loaded = load_scenario(scenario)
    outcome = loaded.expected.for_strategy(strategy, strategy in COMPLETE)
    if outcome is not None:
        assert compare(outcome, remote, strategy in COMPLETE) == [], (scenario.stem, strategy)


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
def test_json_index_with_metadata_files_every_strategy(scenario: Path, indexes, tmp_path: Path) -> None:
    with IndexServer(indexes[scenario.stem]["full"]) as server:
        for strategy in available():
            with repository(server.index_url, tmp_path / strategy) as repo:
                _check_same(scenario, strategy, repo, tmp_path)
        assert server.stats.requests > 0
        assert server.stats.range_requests == 0  # PEP 658 files make wheel reads unnecessary


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
def test_html_index_without_metadata_reads_wheels_with_ranges(scenario: Path, indexes, tmp_path: Path) -> None:
    with IndexServer(indexes[scenario.stem]["plain"], html_only=True) as server:
        with repository(server.index_url, tmp_path / "cache") as repo:
            _check_same(scenario, "backtrack", repo, tmp_path)
        assert all(not p.endswith(".metadata") for p in server.stats.by_path)
        assert server.stats.range_requests > 0


@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
def test_find_links_folder(scenario: Path, indexes) -> None:
    with FindLinksRepository(indexes[scenario.stem]["full"] / "files") as repo:
        _check_same(scenario, "backtrack", repo, Path("."))


def test_yanked_requires_python_extras_and_sdists(write_scenario, tmp_path: Path) -> None:
    path = write_scenario(FEATURES)
    build_index(path, tmp_path / "full")
    build_index(path, tmp_path / "plain", metadata_files=False, json_pages=False)
    for name, html_only in (("full", False), ("plain", True)):
        with IndexServer(tmp_path / name, html_only=html_only) as server:
            for strategy in available():
                with repository(server.index_url) as repo:
                    _check_same(path, strategy, repo, tmp_path)


def test_labels_missing_from_variants_json_are_read_from_the_wheels(tmp_path: Path) -> None:
    scenario = SCENARIOS / "variants" / "two-namespaces-order.toml"
    index = tmp_path / "index"
    build_index(scenario, index, metadata_files=False)
    for page in (index / "simple").glob("*/index.json"):  # drop the *-variants.json entries
        doc = json.loads(page.read_text())
        doc["files"] = [f for f in doc["files"] if not f["filename"].endswith("-variants.json")]
        page.write_text(json.dumps(doc))
    with IndexServer(index) as server:
        with repository(server.index_url) as repo:
            _check_same(scenario, "backtrack", repo, tmp_path)
        assert not any(p.endswith("-variants.json") for p in server.stats.by_path)
    folder = tmp_path / "wheels"  # the same for a folder of wheels only
    folder.mkdir()
    for wheel in (index / "files").glob("*.whl"):
        shutil.copy(wheel, folder)
    with FindLinksRepository(folder) as repo:
        _check_same(scenario, "backtrack", repo, tmp_path)


@pytest.mark.parametrize("strategy", ["first-index", "unsafe-best-match"])
def test_another_source_cannot_change_a_release_variant_metadata(tmp_path: Path, strategy: str) -> None:
    """PEP 825: each source's variant metadata stands alone. A folder's numpy-2.3.0-variants.json
    that maps the index's label "mkl" to other properties is not merged into the index's
    release (with either strategy: the index lists 2.3.0 first)."""
    scenario = SCENARIOS / "variants" / "blas-unify.toml"
    build_index(scenario, tmp_path / "index")
    other = tmp_path / "other"
    other.mkdir()
    doc = json.loads((tmp_path / "index/files/numpy-2.3.0-variants.json").read_text())
    doc["variants"]["mkl"] = {"blas_lapack": {"library": ["accelerate"]}}  # same label, other property
    (other / "numpy-2.3.0-variants.json").write_text(json.dumps(doc))
    with IndexServer(tmp_path / "index") as server:
        from varsolve.sources import SourceSettings, open_repository

        settings = SourceSettings(index_urls=(server.index_url,), find_links=(other,), no_cache=True, index_strategy=strategy)
        with open_repository(settings) as repo:
            release = repo.releases("numpy")[0]
            metadata = repo.variant_metadata(release)
            assert metadata is not None and "accelerate" not in json.dumps(metadata.to_json_dict())
            resolution = solve(build_problem(scenario=scenario, repository=repo), "backtrack")
            assert resolution.satisfiable
            assert resolution.to_dict()["packages"] == solve(build_problem(scenario=scenario), "backtrack").to_dict()["packages"]


def test_json_and_html_pages_give_the_same_links(indexes) -> None:
    from varsolve.sources.pages import parse_html_page, parse_json_page

    for stem, dirs in indexes.items():
        for page in sorted((dirs["full"] / "simple").glob("*/index.json")):
            url = f"http://example.test/simple/{page.parent.name}/"
            assert parse_json_page(page.read_bytes(), url) and [
                (link.filename, link.url, link.hashes, link.requires_python, link.yanked, link.core_metadata)
                for link in parse_json_page(page.read_bytes(), url)
            ] == [
                (link.filename, link.url, link.hashes, link.requires_python, link.yanked, link.core_metadata)
                for link in parse_html_page(page.with_name("index.html").read_bytes(), url)
            ], stem


def test_cache_fresh_pages_need_no_request_and_stale_ones_revalidate(indexes, tmp_path: Path) -> None:
    scenario = SCENARIOS / "variants" / "mpi-shared-by-three.toml"
    index = indexes[scenario.stem]["full"]
    with IndexServer(index, page_max_age=600) as server:
        for _ in range(2):
            with repository(server.index_url, tmp_path / "fresh") as repo:
                _check_same(scenario, "backtrack", repo, tmp_path)
        assert repo.counters["requests"] == 0 and repo.counters["cache_hits"] > 0  # warm: no request at all
    with IndexServer(index, page_max_age=0) as server:  # always stale: revalidate with the ETag
        with repository(server.index_url, tmp_path / "stale") as repo:
            _check_same(scenario, "backtrack", repo, tmp_path)
        cold = dict(server.stats.by_path)
        with repository(server.index_url, tmp_path / "stale") as repo:
            _check_same(scenario, "backtrack", repo, tmp_path)
            assert repo.counters["not_modified"] > 0 and repo.counters["not_modified"] == repo.counters["requests"]
        warm = {p: n - cold.get(p, 0) for p, n in server.stats.by_path.items() if n - cold.get(p, 0)}
        assert warm and all(p.startswith("/simple/") or p.endswith("-variants.json") for p in warm)  # immutable files: cached
        assert server.stats.not_modified == sum(warm.values())


def test_a_wheel_larger_than_the_first_range(tmp_path: Path) -> None:
    """A wheel whose central directory lies beyond the first (tail) range request."""
    import os

    from varsolve.index import wheels
    from varsolve.sources import lazyzip

    index = tmp_path / "index"
    build_index(SCENARIOS / "variants" / "blas-unify.toml", index, metadata_files=False, json_pages=False)
    base = wheels.build_wheel("mkl-runtime", "2025.2.0", requires_python=">=3.12", requires_dist=["numpy"])
    big = tmp_path / "big.whl"
    with zipfile.ZipFile(big, "w") as out, zipfile.ZipFile(__import__("io").BytesIO(base.data)) as src:
        for i in range(3000):  # a central directory of ~200 kB
            out.writestr(f"mkl_runtime/data/file_{i:05d}_{'x' * 20}.bin", b"")
        out.writestr("mkl_runtime/blob.bin", os.urandom(300_000), compress_type=zipfile.ZIP_STORED)
        for info in src.infolist():
            out.writestr(info, src.read(info))
    target = index / "files" / base.filename
    target.write_bytes(big.read_bytes())
    page = index / "simple/mkl-runtime/index.html"
    import hashlib
    import re

    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    page.write_text(re.sub(r"(mkl_runtime-2025\.2\.0-py3-none-any\.whl#sha256=)[0-9a-f]+", r"\g<1>" + digest, page.read_text()))
    with IndexServer(index, html_only=True) as server:
        with repository(server.index_url) as repo:
            release = next(r for r in repo.releases("mkl-runtime"))
            wheel = next(f for f in release.files if f.filename == base.filename)
            assert repo.metadata(release, wheel).requires_dist == ("numpy",)
            fetched = repo.counters["bytes"]
        size = target.stat().st_size
        assert server.stats.by_path[f"/files/{base.filename}"] >= 2  # tail, then the rest of the directory
        assert fetched < size / 2 and lazyzip.TAIL < size


def test_range_file_fetches_only_missing_spans() -> None:
    from varsolve.sources.lazyzip import RangeFile

    data = bytes(range(256)) * 1000
    calls = []

    def fetch(start: int, end: int) -> bytes:
        calls.append((start, end))
        return data[start : end + 1]

    f = RangeFile(len(data), fetch, {len(data) - 100: data[-100:]})
    f.seek(-50, 2)
    assert f.read() == data[-50:] and calls == []
    f.seek(10)
    assert f.read(20) == data[10:30] and len(calls) == 1
    f.seek(15)
    assert f.read(10) == data[15:25] and len(calls) == 1  # already there
    f.seek(0)
    assert f.read() == data and all(s >= 0 for s, _ in calls)
    assert len(f._starts) == 1  # spans merged


def test_cli_resolves_a_scenario_against_an_index_and_a_folder(indexes, tmp_path: Path) -> None:
    scenario = SCENARIOS / "variants" / "blas-unify.toml"
    expected = run_varsolve("resolve", "--scenario", str(scenario), "--format", "json")
    assert expected.returncode == 0
    want = json.loads(expected.stdout)
    with IndexServer(indexes[scenario.stem]["full"]) as server:
        r = run_varsolve("resolve", "--scenario", str(scenario), "--index-url", server.index_url, "--cache-dir", str(tmp_path), "--format", "json")
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)
        assert got["packages"] == want["packages"] and got["stats"]["http"]["requests"] > 0
        assert r.stderr == ""  # no progress line when stderr is not a terminal
        r = run_varsolve("resolve", "numpy", "scipy", "--unify", "blas_lapack :: library", "--variants", str(tmp_path / "v.toml"), "--index-url", server.index_url, "--no-cache")
        assert r.returncode == 2 and "v.toml" in r.stderr  # missing static file: one line
    r = run_varsolve("resolve", "--scenario", str(scenario), "--find-links", str(indexes[scenario.stem]["full"] / "files"), "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["packages"] == want["packages"]


def test_cli_takes_the_index_url_from_the_environment(indexes) -> None:
    import subprocess

    from conftest import REPO, varsolve_command

    index = indexes["blas-unify"]["full"]
    with IndexServer(index) as server:
        for variable in ("PIP_INDEX_URL", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
            r = subprocess.run(
                [*varsolve_command(), "resolve", "mkl-runtime", "--python", "3.12", "--no-cache"], capture_output=True, text=True,
                cwd=REPO, env=clean_env(**{variable: server.index_url}), timeout=60,
            )
            assert r.returncode == 0 and r.stdout.split() == ["mkl-runtime", "2025.2.0"], (variable, r.stderr)
    r = subprocess.run([*varsolve_command(), "resolve", "x"], capture_output=True, text=True, cwd=REPO, env=clean_env(), timeout=60)
    assert r.returncode == 2 and "no package source" in r.stderr and "PIP_INDEX_URL" in r.stderr


def _run_in_terminal(args: list[str]) -> tuple[int, str]:
    """Run varsolve with stderr (and stdout) on a pseudo-terminal; return exit code and output."""
    import os
    import pty
    import subprocess

    from conftest import REPO, varsolve_command

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*varsolve_command(), *args], stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
        cwd=REPO, env=clean_env(),
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_progress_on_a_terminal_and_quiet_with_q(indexes) -> None:
    from varsolve.index.server import Fault

    scenario = SCENARIOS / "variants" / "mpi-shared-by-three.toml"
    with IndexServer(indexes[scenario.stem]["full"], faults=[Fault("delay", value=150)]) as server:
        base = ["resolve", "--scenario", str(scenario), "--index-url", server.index_url, "--no-cache"]
        code, out = _run_in_terminal(base)
        assert code == 0 and "varsolve: " in out and " in flight, " in out and "metadata" in out
        assert "\r\x1b[K" in out  # the line is erased before the result is printed
        assert out.rstrip().endswith("unified: mpi :: implementation = mpich")
        code, out = _run_in_terminal(["-q", *base])
        assert code == 0 and " in flight, " not in out


def test_progress_line_is_throttled_and_erased() -> None:
    import io

    from varsolve.reporter import TerminalReporter

    stream = io.StringIO()
    reporter = TerminalReporter(stream, enabled=True, interval=3600)
    reporter.fetch_progress({"pages": 1, "metadata": 2, "in_flight": 3, "requests": 4, "bytes": 5_000})
    reporter.fetch_progress({"pages": 9})  # within the interval: not drawn
    reporter.fetch_done()
    assert stream.getvalue() == "\rvarsolve: 1 projects, 2 metadata, 3 in flight, 4 requests, 5.0 kB\x1b[K\r\x1b[K"
    silent = io.StringIO()
    TerminalReporter(silent).fetch_progress({"pages": 1})  # StringIO is not a terminal
    assert silent.getvalue() == ""
