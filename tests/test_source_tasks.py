"""The table of fetches a run shares between the resolver and prefetch threads
(varsolve.sources.workers): each runs once, its result or error is handed to every caller,
the lock-free path for finished work included."""

from __future__ import annotations

import threading

import pytest

from varsolve.sources.workers import TaskTable


def test_a_fetch_runs_once_and_every_caller_gets_its_result() -> None:
    table = TaskTable(workers=2)
    calls: list[int] = []

    def fetch() -> str:
        calls.append(1)
        return "page"

    table.prefetch("p", fetch)
    results = [table.result("p", fetch) for _ in range(5)]
    threads = [threading.Thread(target=lambda: results.append(table.result("p", fetch))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    table.close()
    assert results == ["page"] * 9 and calls == [1]


def test_a_failed_fetch_raises_its_error_for_every_caller_and_is_not_retried() -> None:
    table = TaskTable(workers=0)
    calls: list[int] = []

    def fetch() -> str:
        calls.append(1)
        raise ValueError("broken page")

    for _ in range(3):  # the first runs it, the others take the finished task's error
        with pytest.raises(ValueError, match="broken page"):
            table.result("p", fetch)
    assert calls == [1]


def test_prefetch_looks_further_ahead_the_longer_the_search_walks_down_a_project() -> None:
    # boto3 against a capped botocore reads hundreds of older releases one by one: after the
    # first two, each one read doubles how many older releases are fetched ahead (up to 32),
    # so the walk stops waiting on the network per release.
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from varsolve.repository import DistFile, Release
    from varsolve.sources.fetch import Project
    from varsolve.sources.files import wheel_of
    from varsolve.sources.prefetch import MAX_LOOKAHEAD, Prefetcher
    from varsolve.target import Target

    name = NormalizedName("lib")
    releases = [
        Release(name, Version(f"{n}.0"), (DistFile(f"lib-{n}.0-py3-none-any.whl", wheel_of(f"lib-{n}.0-py3-none-any.whl")),))
        for n in range(200, 0, -1)
    ]
    project = Project(releases, {}, {})
    prefetcher = Prefetcher(depth=1)
    prefetcher.hint_target(Target.make("3.12", "linux"))
    assert list(prefetcher.older(project, releases[0])) == []  # the newest: the walk starts there
    ahead = [len(list(prefetcher.older(project, release))) for release in releases[1:9]]
    assert ahead == [2, 2, 4, 8, 16, 32, 32, MAX_LOOKAHEAD]
    assert list(prefetcher.older(project, releases[1])) == []  # each release is handled once


def _walk_project(count: int = 200):  # type: ignore[no-untyped-def]
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from varsolve.repository import DistFile, Release
    from varsolve.sources.fetch import Project
    from varsolve.sources.files import wheel_of

    name = NormalizedName("lib")
    releases = [
        Release(name, Version(f"{n}.0"), (DistFile(f"lib-{n}.0-py3-none-any.whl", wheel_of(f"lib-{n}.0-py3-none-any.whl")),))
        for n in range(count, 0, -1)
    ]
    return Project(releases, {}, {})


def test_prefetch_looks_less_far_ahead_while_what_it_fetched_is_there_in_time() -> None:
    # What is fetched ahead when the walk stops is fetched in vain: after as many releases in a
    # row found fetched as it looks ahead, it looks one less far (never under two).
    from varsolve.sources.prefetch import Prefetcher
    from varsolve.target import Target

    project = _walk_project()
    prefetcher = Prefetcher(depth=1)
    prefetcher.hint_target(Target.make("3.12", "linux"))
    releases = project.releases
    assert list(prefetcher.older(project, releases[0], waited=True)) == []
    ahead = [len(list(prefetcher.older(project, release, waited=True))) for release in releases[1:7]]
    assert ahead == [2, 2, 4, 8, 16, 32]
    in_time = [len(list(prefetcher.older(project, release, waited=False))) for release in releases[7:7 + 32 + 31]]
    assert in_time == [32] * 31 + [31] * 31 + [30]
    assert len(list(prefetcher.older(project, releases[70], waited=True))) == 32  # waited: doubled again (capped)


def test_a_pinned_release_read_first_fetches_nothing_ahead() -> None:
    """The first release read of a project, not its newest, is where a pin or a cap took the
    search (torch's ``nvidia-*==``): nothing older is fetched; reading another one is a walk."""
    from varsolve.sources.prefetch import Prefetcher
    from varsolve.target import Target

    project = _walk_project(20)
    prefetcher = Prefetcher(depth=1)
    prefetcher.hint_target(Target.make("3.12", "linux"))
    assert list(prefetcher.older(project, project.releases[5])) == []
    assert [str(r.version) for r, _ in prefetcher.older(project, project.releases[6])] == ["13.0", "12.0"]


def test_a_dependency_page_prefetches_the_newest_release_the_dependency_allows() -> None:
    from varsolve.repository import CoreMetadata
    from varsolve.sources.prefetch import Prefetcher
    from varsolve.target import Target

    project = _walk_project(10)
    prefetcher = Prefetcher(depth=1)
    prefetcher.hint_target(Target.make("3.12", "linux"))
    assert [str(r.version) for r, _, _ in prefetcher.newest(project)] == ["10.0"]
    assert list(prefetcher.dependencies(CoreMetadata(("lib<7,>=2",)))) == ["lib"]
    assert list(prefetcher.dependencies(CoreMetadata(("lib<3",)))) == ["lib"]  # the first one named it
    assert [str(r.version) for r, _, _ in prefetcher.newest(project)] == ["6.0"]
