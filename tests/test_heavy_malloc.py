"""http.bound_malloc (issue 15: peak memory of a cold apache-airflow): glibc's allocator is told
once per process, when the first HTTP client is made, to keep one arena and a fixed mmap
threshold, unless the environment already says what to use."""

from __future__ import annotations

import ctypes
import os

import pytest

from varsolve.sources import http


class _Libc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


@pytest.fixture
def libc(monkeypatch: pytest.MonkeyPatch) -> _Libc:
    fake = _Libc()
    monkeypatch.setattr(http, "_MALLOC_BOUND", False)
    monkeypatch.setattr(ctypes, "CDLL", lambda name: fake)
    monkeypatch.setattr(os, "confstr", lambda name: "glibc 2.36")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    return fake


def test_once_per_process(libc: _Libc) -> None:
    http.bound_malloc()
    http.bound_malloc()
    assert libc.calls == [(-8, 1), (-3, 128 * 1024)]


def test_the_environment_decides_first(libc: _Libc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    http.bound_malloc()
    assert libc.calls == [(-3, 128 * 1024)]


def test_nothing_on_another_c_library(libc: _Libc, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_glibc(name: str) -> str:
        raise ValueError("unrecognized configuration name")

    monkeypatch.setattr(os, "confstr", no_glibc)
    http.bound_malloc()
    assert libc.calls == []


def test_made_with_the_first_client_of_the_command_line(libc: _Libc) -> None:
    client = http.HttpClient(tune_process=True)
    try:
        assert libc.calls == []  # no request yet: no httpx, no allocator settings
        client._client  # noqa: B018
        assert libc.calls == [(-8, 1), (-3, 128 * 1024)]
    finally:
        client.close()


def test_a_library_leaves_the_allocator_of_the_process_alone(libc: _Libc) -> None:
    client = http.HttpClient()  # what varsolve.sources.open_repository makes for an API user
    try:
        client._client  # noqa: B018
        assert libc.calls == []
    finally:
        client.close()


def test_only_the_command_line_process_asks_for_it() -> None:
    from varsolve.cli import build_parser
    from varsolve.commands.options import source_settings_from_args as source_settings

    argv = ["resolve", "x", "--index-url", "http://127.0.0.1:9/simple/"]
    args = build_parser(argv).parse_args(argv)
    assert source_settings(args).tune_process is False  # main(argv) in a caller's process
    args.whole_process = True
    assert source_settings(args).tune_process is True
