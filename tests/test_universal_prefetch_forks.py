"""A universal resolution runs one search per fork over one source. What the source fetches
ahead when a search walks down a project's releases (``Prefetcher.older``) must not take two
forks' reads of one project (fork A takes lib 5, fork B lib 3) for a walk down: those older
releases are fetched and never read (73 of the 78 metadata files fetched in vain on the split
layered-100 universe through an index). A walk is one search reading older and older releases."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import NormalizedName

from index_helpers import build_index_from_text, repository
from varsolve.api import build_problem
from varsolve.index.server import IndexServer
from varsolve.sources import prefetch
from varsolve.universal.driver import resolve_universal

# The root splits the universe in two forks that take lib 5 and lib 3, neither the newest (6):
# each is the first release of lib its fork reads (where a cap led), and neither is a walk.
# Two more tiers of forks read them again (the check of each fork reads both as well).
SPLIT = (
    "[root]\n"
    "requires = [\"lib<=5 ; sys_platform == 'linux'\", \"lib<=3 ; sys_platform != 'linux'\"]\n"
    + "".join(f'[packages.lib.versions."{v}.0.0"]\nrequires_python = ""\nsdist = false\n' for v in range(6, 0, -1))
)


@pytest.fixture
def fetched_ahead(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """(project, release read, older release fetched ahead) for everything ``older`` names."""
    named: list[tuple[str, str, str]] = []
    older = prefetch.Prefetcher.older

    def recording(self, project, release, waited=True):  # type: ignore[no-untyped-def]
        for found in older(self, project, release, waited):
            named.append((release.name, str(release.version), str(found[0].version)))
            yield found

    monkeypatch.setattr(prefetch.Prefetcher, "older", recording)
    return named


def _resolve(tmp_path: Path, text: str, read_again: bool = False) -> dict[str, str]:
    """lib's version in each fork, through the project's own index server on loopback;
    ``read_again``: then each fork's release of lib is read once more, the newest first, as a
    universal lock's writer reads them (outside any search)."""
    index = build_index_from_text(tmp_path / "index", text)
    with IndexServer(index) as server, repository(server.index_url) as repo:
        problem = build_problem(scenario=index.with_suffix(".toml"), repository=repo)
        result = resolve_universal(problem, "backtrack", requires_python=">=3.10")
        if read_again:
            pins = sorted((fork.resolution.packages["lib"] for fork in result.forks), key=lambda p: p.version, reverse=True)
            for pin in pins:
                release = next(r for r in repo.releases(NormalizedName("lib")) if r.version == pin.version)
                repo.metadata(release, release.files[0])
    assert result.satisfiable and not result.violations
    pins = {
        "linux" if "sys_platform == 'linux'" in str(fork.region) else "elsewhere": str(fork.resolution.packages["lib"].version)
        for fork in result.forks
    }
    return pins


def test_forks_reading_different_releases_of_a_project_fetch_nothing_older_ahead(
    tmp_path: Path, fetched_ahead: list[tuple[str, str, str]]
) -> None:
    pins = _resolve(tmp_path, SPLIT)
    assert pins == {"linux": "5.0.0", "elsewhere": "3.0.0"}
    # Was: lib 4 and 3 (the second fork's 3 after the first fork's 5, or 2 and 1 after 3 and 5),
    # 4 read by no one. (lib 6, fetched when the page arrived, is not read either: a guess.)
    assert fetched_ahead == []


def test_the_forks_releases_read_again_after_the_resolution_fetch_nothing_older_ahead(
    tmp_path: Path, fetched_ahead: list[tuple[str, str, str]]
) -> None:
    """lib 5, then lib 3, read outside any search (a universal lock is written so): not a walk
    down from 5 to 3 either."""
    assert _resolve(tmp_path, SPLIT, read_again=True) == {"linux": "5.0.0", "elsewhere": "3.0.0"}
    assert fetched_ahead == []


def test_a_walk_down_inside_one_fork_still_fetches_ahead(tmp_path: Path, fetched_ahead: list[tuple[str, str, str]]) -> None:
    """lib 5 needs what does not exist: the linux fork reads lib 5, then 4, and walks on down
    (as a single target's search does): 3 and 2 are fetched ahead."""
    text = SPLIT.replace('[packages.lib.versions."5.0.0"]\n', '[packages.lib.versions."5.0.0"]\nrequires = ["missing>=9"]\n')
    pins = _resolve(tmp_path, text)
    assert pins == {"linux": "4.0.0", "elsewhere": "3.0.0"}
    assert fetched_ahead == [("lib", "4.0.0", "3.0.0"), ("lib", "4.0.0", "2.0.0")]


def _project(count: int):  # type: ignore[no-untyped-def]
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


def _ahead(prefetcher: prefetch.Prefetcher, project, index: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(r.version) for r, _ in prefetcher.older(project, project.releases[index])]


def test_each_search_has_its_own_walks() -> None:
    from varsolve.target import Target

    project = _project(10)
    prefetcher = prefetch.Prefetcher(depth=1)
    prefetcher.hint_target(Target.make("3.12", "linux"))
    with prefetch.search():
        assert _ahead(prefetcher, project, 2) == []  # 8.0, where a cap led: no walk
    with prefetch.search():
        assert _ahead(prefetcher, project, 5) == []  # another fork's 5.0: no walk either
        assert _ahead(prefetcher, project, 6) == ["3.0", "2.0"]  # 4.0 after it, in the same search: a walk
    with prefetch.search():
        assert _ahead(prefetcher, project, 0) == []  # the newest
        assert _ahead(prefetcher, project, 2) == ["7.0", "6.0"]  # read again in another search: a walk of its own
    with prefetch.no_search():  # the check of the forks
        assert _ahead(prefetcher, project, 7) == []
        assert _ahead(prefetcher, project, 8) == []
    # Outside: one search, the single target's, as before; except that releases a search read
    # (8.0, 5.0, 4.0, 10.0) are no step of a walk there.
    assert _ahead(prefetcher, project, 2) == []
    assert _ahead(prefetcher, project, 5) == []
    assert _ahead(prefetcher, project, 1) == []
    assert _ahead(prefetcher, project, 3) == ["6.0", "5.0"]


def test_a_single_target_has_one_search_as_before() -> None:
    """No search started: every read is the one search's (the walk rules of
    tests/test_source_tasks.py)."""
    from varsolve.target import Target

    project = _project(10)
    prefetcher = prefetch.Prefetcher(depth=1)
    prefetcher.hint_target(Target.make("3.12", "linux"))
    assert _ahead(prefetcher, project, 2) == []  # where a cap led
    assert _ahead(prefetcher, project, 5) == ["4.0", "3.0"]  # after it: a walk
    assert _ahead(prefetcher, project, 2) == []  # each release once
