"""The per-environment check of a universal resolution shares work between environments and forks
(varsolve.universal.verify) without changing what it checks: each environment gets the file an
installer takes there, a file's metadata is read once, and the pinned release is found first."""

from __future__ import annotations

import textwrap
from collections import Counter
from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name

from test_universal import LIB_FORKS_ON_PYTHON
from varsolve.api import resolve_universal
from varsolve.resolution import Pin
from varsolve.universal.verify import (
    best_file,
    environment_target,
    environments_of,
    project,
    projections,
    read_as_locked,
)

# Forks on Python (lib 2 needs 3.11) and on markers (extra on Windows only); files per platform
# and per Python, a package with no file for macOS (a gap there), an sdist-only package.
MIXED = """
name = "mixed"
[root]
requires_python = ">=3.10"
requires = ["lib", "native", "winonly ; sys_platform == 'win32'", "plain", "source"]
""" + LIB_FORKS_ON_PYTHON + """\
[packages.native.versions."1.0.0"]
requires_python = ">=3.10"
wheel_tags = ["cp310-cp310-manylinux_2_17_x86_64", "cp311-cp311-manylinux_2_17_x86_64", "cp312-cp312-manylinux_2_17_x86_64", "py3-none-win_amd64"]
requires = ["helper"]
[packages.winonly.versions."1.0.0"]
requires_python = ">=3.10"
wheel_tags = ["py3-none-win_amd64"]
[packages.plain.versions."1.0.0"]
requires_python = ">=3.10"
requires = ["helper ; python_version >= '3.12'"]
[packages.source.versions."1.0.0"]
requires_python = ">=3.10"
sdist = true
wheel = false
"""


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.toml"
    path.write_text(textwrap.dedent(MIXED), encoding="utf-8")
    return path


def _naive_pin(problem, name: str, pin: Pin) -> Pin | None:  # type: ignore[no-untyped-def]
    """The file an installer takes, found the way the check did before it shared anything."""
    release = next((r for r in problem.repository.releases(canonicalize_name(name)) if r.version == pin.version), None)
    if release is None:
        return pin
    file = best_file(release.files, pin.variant, problem.target)
    if file is None and pin.variant == "" and problem.options.allows_build(name):
        file = best_file(release.files, None, problem.target)
    if file is None or (file.wheel is None and not problem.repository.metadata_is_cheap(release, file)):
        return None
    return Pin(pin.version, file.wheel.label or "" if file.wheel is not None else None, file.filename)


def test_each_environment_gets_the_file_an_installer_takes_there(tmp_path: Path) -> None:
    result = resolve_universal(scenario=_scenario(tmp_path))
    assert result.satisfiable and len(result.forks) >= 2
    checked = 0
    for fork in result.forks:
        # As the check goes: one projection per environment, sharing what does not depend on it.
        for env, problem, projected, missing in projections(fork):
            assert project(fork, env)[1] == projected
            assert problem.target == environment_target(fork.problem.target, env)
            expected: dict[str, Pin] = {}
            for name, pin in fork.resolution.packages.items():
                if not fork.markers[name].evaluate(env):
                    continue
                installed = _naive_pin(problem, name, pin)
                if installed is not None:
                    expected[name] = installed
            assert {n: p for n, p in projected.packages.items() if n not in missing} == expected
            assert missing == {n for n in projected.packages if n not in expected}
            checked += 1
    assert checked >= 6
    # native's Linux wheels differ per Python: an environment takes its own Python's.
    taken = {
        p.filename
        for fork in result.forks
        for env in environments_of(fork)
        if env["sys_platform"] == "linux"
        for n, p in project(fork, env)[1].packages.items()
        if n == "native"
    }
    assert len(taken) >= 2
    assert result.violations == ()  # each environment's wheel fits it


def test_a_file_s_metadata_is_read_once_for_every_environment_and_fork(tmp_path: Path) -> None:
    from varsolve.universal.verify import verify_universal

    result = resolve_universal(scenario=_scenario(tmp_path))
    base = result.forks[0].problem.repository
    read: Counter[tuple[str, str]] = Counter()

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(base, name)

        def metadata(self, release, file):  # type: ignore[no-untyped-def]
            read[(release.name, file.filename)] += 1
            return base.metadata(release, file)

    counting = Counting()
    forks = tuple(replace(f, problem=replace(f.problem, repository=counting)) for f in result.forks)  # type: ignore[arg-type]
    assert sum(len(environments_of(f)) for f in forks) > 4
    violations, gaps = verify_universal(replace(result, forks=forks))
    assert (violations, gaps) == (list(result.violations), list(result.gaps))
    assert read and max(read.values()) == 1


def test_the_locked_view_lists_every_release_with_the_pinned_one_first(tmp_path: Path) -> None:
    result = resolve_universal(scenario=_scenario(tmp_path))
    for fork in result.forks:
        view = read_as_locked(fork)
        base = fork.problem.repository
        for name, pin in fork.resolution.packages.items():
            releases = view.releases(canonicalize_name(name))
            assert sorted(r.version for r in releases) == sorted(r.version for r in base.releases(canonicalize_name(name)))
            assert releases[0].version == pin.version
            releases.clear()  # a copy: the view's own list is untouched
            assert view.releases(canonicalize_name(name))


def test_environments_are_those_of_every_marker_of_the_fork(tmp_path: Path) -> None:
    # Sets whose part of the region an earlier one had are left out of the cut: the same cells,
    # in the same order, as cutting by every distinct marker (edges' markers included).
    from varsolve.marker_algebra import representative_environments
    from varsolve.universal.region import parse_marker
    from varsolve.universal.verify import MAX_ENVIRONMENTS, realistic

    text = MIXED.replace(
        '"plain", "source"]', '"plain", "source", "extra ; os_name == \'nt\'", "other ; platform_python_implementation == \'PyPy\'"]'
    ) + """
[packages.extra.versions."1.0.0"]
requires_python = ">=3.10"
requires = ["helper ; sys_platform == 'win32'", "plain ; os_name == 'nt'"]
[packages.other.versions."1.0.0"]
requires_python = ">=3.10"
"""
    path = tmp_path / "more.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    result = resolve_universal(scenario=path)
    assert result.satisfiable
    for fork in result.forks:
        sets = [fork.region, *fork.markers.values()]
        sets += [parse_marker(e.marker, "") for e in fork.resolution.graph if e.marker]
        every = [m for m in dict.fromkeys(sets) if not fork.region.implies(m) and not fork.region.disjoint(m)]
        cells = representative_environments(every or [fork.region], within=fork.region)
        assert environments_of(fork) == [env for env in cells if realistic(env)][:MAX_ENVIRONMENTS]
        assert len(environments_of(fork)) > 2


def test_each_fork_s_likely_reads_are_fetched_ahead(tmp_path: Path) -> None:
    # A fork reads the wheel of its own Python (native's cp311 wheel for >= 3.11, cp310 for
    # 3.10): what the forks before it read is asked of the source ahead, with the file this
    # fork's region reads; every guess is a file some fork reads.
    from varsolve.sources.scenario import load_scenario
    from varsolve.universal import driver

    problem = load_scenario(_scenario(tmp_path)).problem
    base = problem.repository
    read: list[tuple[str, str]] = []
    ahead: list[tuple[str, str]] = []

    class Recording:
        def __getattr__(self, name: str) -> object:
            return getattr(base, name)

        def metadata(self, release, file):  # type: ignore[no-untyped-def]
            read.append((release.name, file.filename))
            return base.metadata(release, file)

        def prefetch_metadata(self, files):  # type: ignore[no-untyped-def]
            ahead.extend((release.name, file.filename) for release, file in files)

    recorded = replace(problem, repository=Recording())  # type: ignore[arg-type]
    result = driver.resolve_universal(recorded, "backtrack", requires_python=">=3.10", verify=False)
    plain = driver.resolve_universal(problem, "backtrack", requires_python=">=3.10", verify=False)
    assert [f.resolution.packages for f in result.forks] == [f.resolution.packages for f in plain.forks]
    assert result.stats["solves"] >= 2
    natives = {filename for name, filename in ahead if name == "native"}
    assert any("cp311" in f or "cp312" in f for f in natives)  # the upper fork's own wheel
    assert ahead and set(ahead) <= set(read)  # every guess was read

# -- the collector ---------------------------------------------------------------------------------


def test_the_collector_collects_less_during_a_universal_resolution_and_is_put_back(tmp_path: Path) -> None:
    import gc

    from varsolve.collector import THRESHOLD
    from varsolve.sources.scenario import load_scenario
    from varsolve.strategies import get_strategy
    from varsolve.universal import driver

    seen: list[tuple[int, int, int]] = []
    backtrack = get_strategy("backtrack")

    class Spy:
        name, complete = backtrack.name, backtrack.complete

        def solve(self, problem):  # type: ignore[no-untyped-def]
            seen.append(gc.get_threshold())
            return backtrack.solve(problem)

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        problem = load_scenario(_scenario(tmp_path)).problem
        result = driver.resolve_universal(problem, Spy(), requires_python=">=3.10")  # type: ignore[arg-type]
        assert result.satisfiable
        assert seen and all(t == (THRESHOLD, 10, 10) for t in seen)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
