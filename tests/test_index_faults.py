"""A misbehaving index (the project's server with fault switches): bounded retries, one-line
errors naming the URL, no hang, never a wrong answer."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, varsolve_command
from index_helpers import clean_env, repository
from varsolve.api import build_problem, solve
from varsolve.errors import SourceError
from varsolve.index.builder import build_index
from varsolve.index.server import Fault, IndexServer

SCENARIO = SCENARIOS / "variants" / "blas-unify.toml"
FAST = {"retries": 2, "backoff": 0.01, "timeout": 2.0}


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "full"
    build_index(SCENARIO, out)
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("faults") / "plain"
    build_index(SCENARIO, out, metadata_files=False, json_pages=False)
    return out


def _resolve(server: IndexServer, **options):
    with repository(server.index_url, **{**FAST, **options}) as repo:
        problem = build_problem(scenario=SCENARIO, repository=repo)
        repo.hint_target(problem.target)
        return solve(problem, "backtrack"), repo.counters


def _fails(server: IndexServer, **options) -> str:
    with pytest.raises(SourceError) as info:
        _resolve(server, **options)
    message = str(info.value)
    assert "\n" not in message and message.startswith("http://127.0.0.1:")
    return message


def _expected():
    return solve(build_problem(scenario=SCENARIO), "backtrack").to_dict()["packages"]


def test_transient_500s_and_dropped_connections_are_retried(full: Path) -> None:
    faults = [Fault("http500", times=2, path="/simple/*"), Fault("drop", times=1, path="/files/*")]
    with IndexServer(full, faults=faults) as server:
        resolution, counters = _resolve(server)
    assert resolution.satisfiable and resolution.violations == ()
    assert resolution.to_dict()["packages"] == _expected()
    assert counters["retries"] == 3


def test_persistent_500_gives_up_after_the_retries(full: Path) -> None:
    with IndexServer(full, faults=[Fault("http500", path="/simple/numpy/")]) as server:
        message = _fails(server)
        assert server.stats.by_path["/simple/numpy/"] == 3  # 1 + 2 retries, then stop
    assert message.endswith("/simple/numpy/: HTTP 500 Internal Server Error (after 3 attempts)")


def test_dropped_connections_everywhere(full: Path) -> None:
    with IndexServer(full, faults=[Fault("drop")]) as server:
        message = _fails(server)
        # Only the root's pages are asked for (in the background as the search starts); the one
        # the search waits for is tried 1 + 2 retries times and the run stops (the other may be
        # cut short): nothing is tried more than 3 times.
        assert set(server.stats.by_path) <= {"/simple/numpy/", "/simple/scipy/"}
        assert max(server.stats.by_path.values()) == 3
    assert "connection broken" in message and "after 3 attempts" in message


def test_truncated_responses(full: Path) -> None:
    with IndexServer(full, faults=[Fault("truncate", path="*.metadata")]) as server:
        message = _fails(server)
    assert ".metadata: connection broken" in message


def test_malformed_pages(full: Path, plain: Path) -> None:
    with IndexServer(full, faults=[Fault("malformed", path="/simple/scipy/")]) as server:
        assert "/simple/scipy/: malformed JSON project page" in _fails(server)
    with IndexServer(plain, html_only=True, faults=[Fault("malformed", path="/simple/numpy/")]) as server:
        assert "/simple/numpy/: malformed HTML project page (not valid utf-8)" in _fails(server)


def test_wrong_hashes(full: Path, plain: Path) -> None:
    with IndexServer(full, faults=[Fault("wrong-hash")]) as server:
        message = _fails(server)
    assert "sha256 mismatch" in message and message.split(":")[-2].endswith((".metadata", "-variants.json"))
    # Without .metadata files the whole-file path checks the wheel itself (tiny wheels come whole).
    with IndexServer(plain, html_only=True, faults=[Fault("wrong-hash", path="/simple/mkl-runtime/")]) as server:
        with repository(server.index_url, **FAST) as repo:
            release = repo.releases("mkl-runtime")[0]
            wheel = next(f for f in release.files if f.filename.endswith(".whl"))
            with pytest.raises(SourceError, match=r"\.whl: sha256 mismatch"):
                repo.metadata(release, wheel)


def test_a_wheel_that_is_not_a_zip(plain: Path) -> None:
    with IndexServer(plain, html_only=True, faults=[Fault("not-zip")]) as server:
        message = _fails(server)
    assert ".whl: not a valid wheel" in message


def test_a_server_that_never_answers_does_not_hang(full: Path) -> None:
    with IndexServer(full, faults=[Fault("stall")]) as server:
        start = time.monotonic()
        message = _fails(server, timeout=0.3, retries=1)
        assert time.monotonic() - start < 5
    assert message.endswith("timed out (after 2 attempts)")


def test_nothing_listening() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceError, match=r"cannot connect .* \(after 3 attempts\)"):
        with repository(f"http://127.0.0.1:{port}/simple/", **FAST) as repo:
            repo.releases("numpy")


def test_variants_json_failure_is_an_error_not_a_silent_fallback(full: Path) -> None:
    with IndexServer(full, faults=[Fault("http500", path="*-variants.json")]) as server:
        assert "-variants.json: HTTP 500" in _fails(server)


def test_cli_reports_one_line_and_exit_2(full: Path, tmp_path: Path) -> None:
    for fault in (Fault("http500"), Fault("malformed"), Fault("wrong-hash")):
        with IndexServer(full, faults=[fault]) as server:
            r = subprocess.run(
                [*varsolve_command(), "resolve", "--scenario", str(SCENARIO), "--index-url", server.index_url,
                 "--no-cache", "--retries", "1", "--format", "json"],
                capture_output=True, text=True, cwd=REPO, env=clean_env(), timeout=60,
            )
        assert r.returncode == 2, (fault.kind, r.stderr)
        assert r.stdout == "" and "Traceback" not in r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("varsolve: error: http://127.0.0.1:"), (fault.kind, lines)
