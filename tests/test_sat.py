"""The ``sat`` strategy: bundled scenarios, explanations (golden), objective levels, laziness (in
memory and over the project's HTTP index server), extras and policies, CLI and stats.

Every resolution goes through the independent verifier (``api.solve``)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import SCENARIOS, run_varsolve
from varsolve.api import build_problem, solve
from varsolve.objective import objective_vector
from varsolve.repository import RepositoryBase
from varsolve.scenario_check import run_checks
from varsolve.sources.scenario import load_scenario
from varsolve.strategies.sat import SatStrategy
from varsolve.verifier import verify

VARIANTS = SCENARIOS / "variants"

SAT_EXPLANATIONS = {
    "blas-unify-unsatisfiable": """\
the root requires numpy
the root requires scipy
numpy 2.3.0 has only the mkl variant (blas_lapack :: library :: mkl)
scipy 1.16.0 has only the openblas variant (blas_lapack :: library :: openblas)
blas_lapack :: library must take one value across the environment""",
    "unify-transitive-unsatisfiable": """\
the root requires scipy
scipy 1.16.0 and 1.15.0 (every version that fits) require numpy>=2
scipy 1.16.0 and 1.15.0 have only the openblas variant (blas_lapack :: library :: openblas)
numpy 2.3.0 and 2.2.0 have only the mkl variant (blas_lapack :: library :: mkl)
blas_lapack :: library must take one value across the environment""",
    "version-conflict-unsatisfiable": """\
the root requires a
the root requires c>=2
a 2.0.0 and 1.0.0 (every version that fits) require c<2
only one version of c can be installed""",
    "abi-dependency-unsatisfiable": """\
the root requires flashkit
the root requires torch>=2.8
flashkit 0.10.0 requires torch==2.7.* (abi_dependency :: torch :: 2.7)
only one version of torch can be installed""",
    "variant-unsupported-unsatisfiable": """\
the root requires numpy
numpy 2.4.0 (and 2.3.0) has only variants the target does not support: x86_64_v4 (x86_64 :: level :: v4) and has no sdist""",
}

BACKTRACK_EXPLANATIONS = {
    "blas-unify-unsatisfiable": SAT_EXPLANATIONS["blas-unify-unsatisfiable"],
    "unify-transitive-unsatisfiable": """\
the root requires scipy
scipy 1.15.0 has only the openblas variant (blas_lapack :: library :: openblas)
numpy 2.3.0 has only the mkl variant (blas_lapack :: library :: mkl)
numpy 2.2.0 has only the mkl variant (blas_lapack :: library :: mkl)
blas_lapack :: library must take one value across the environment""",
    "version-conflict-unsatisfiable": """\
the root requires a
the root requires c>=2
a 2.0.0 and 1.0.0 require c<2
no version of c satisfies all of these (available: 2.0.0, 1.0.0)""",
    "abi-dependency-unsatisfiable": """\
the root requires flashkit
the root requires torch>=2.8
flashkit 0.10.0 requires torch==2.7.* (abi_dependency :: torch :: 2.7)
no version of torch satisfies all of these (available: 2.8.0, 2.7.1)""",
}


def _solve(path: Path, strategy: str = "sat"):
    resolution = solve(load_scenario(path).problem, strategy)
    assert resolution.violations == (), resolution.violations
    return resolution


def _checked(strategy: SatStrategy, problem):  # type: ignore[no-untyped-def]
    """``strategy``'s resolution of ``problem``, through the independent verifier."""
    resolution = strategy.solve(problem)
    assert verify(problem, resolution) == [], verify(problem, resolution)
    return resolution


# -- bundled scenarios, CLI -----------------------------------------------------------------------
def test_every_bundled_scenario_passes_with_sat() -> None:
    results = run_checks([SCENARIOS], ["sat"])
    assert len(results) >= 20
    failed = {r.scenario: r.problems for r in results if r.status != "pass"}
    assert failed == {}


def test_scenario_check_command_with_sat() -> None:
    out = run_varsolve("scenario", "check", str(SCENARIOS), "--strategy", "sat")
    assert out.returncode == 0, out.stdout + out.stderr
    assert ", 0 failed" in out.stdout


def test_resolve_command_reports_the_objective_and_the_work_done() -> None:
    out = run_varsolve("resolve", "--scenario", str(VARIANTS / "blas-unify.toml"), "--strategy", "sat", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["strategy"] == "sat" and data["violations"] == []
    assert {n: p["variant"] for n, p in data["packages"].items()} == {"numpy": "openblas", "scipy": "openblas"}
    assert data["unified"] == {"blas_lapack :: library": "openblas"}
    stats = data["stats"]
    assert stats["objective"] == [0, 0, 1, 2]  # numpy's openblas build is its second choice
    assert stats["optimal"] is True
    assert stats["sat_calls"] >= 1 and stats["candidates"] >= 3 and stats["seconds"] >= 0


def test_unsatisfiable_resolve_exits_1_with_the_derivation() -> None:
    out = run_varsolve("resolve", "--scenario", str(VARIANTS / "blas-unify-unsatisfiable.toml"), "--strategy", "sat")
    assert out.returncode == 1
    assert out.stdout.splitlines()[0] == "no solution:"
    assert "  blas_lapack :: library must take one value across the environment" in out.stdout


def test_the_cli_does_not_import_pysat_before_it_solves() -> None:
    code = "import sys, varsolve.cli, varsolve.strategies; assert 'pysat' not in sys.modules, 'pysat'"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


# -- explanations (golden) ------------------------------------------------------------------------
@pytest.mark.parametrize("stem", sorted(SAT_EXPLANATIONS))
def test_sat_explanation(stem: str) -> None:
    resolution = _solve(VARIANTS / f"{stem}.toml")
    assert not resolution.satisfiable
    assert resolution.explanation.text == SAT_EXPLANATIONS[stem]
    assert resolution.stats["explanation_groups"] >= 1


@pytest.mark.parametrize("stem", sorted(BACKTRACK_EXPLANATIONS))
def test_backtrack_explanation(stem: str) -> None:
    resolution = _solve(VARIANTS / f"{stem}.toml", "backtrack")
    assert not resolution.satisfiable
    assert resolution.explanation.text == BACKTRACK_EXPLANATIONS[stem]


def test_explanation_is_minimal_and_names_only_what_matters(load) -> None:
    """An unrelated root requirement and an unrelated unified feature stay out of it."""
    scenario = load(
        """
        [root]
        requires = ["a", "c>=2", "unrelated"]
        [environment.variants]
        "gpu :: arch" = ["x", "y"]
        [resolver_options]
        unify = ["gpu :: arch"]
        [packages.a.versions."1.0.0"]
        requires = ["c<2"]
        [packages.c.versions."1.0.0"]
        [packages.c.versions."2.0.0"]
        [packages.unrelated.versions."1.0.0"]
        wheel = false
        sdist = false
        [packages.unrelated.versions."1.0.0".variants]
        x = ["gpu :: arch :: x"]
        """
    )
    resolution = solve(scenario.problem, "sat")
    assert resolution.explanation.text == (
        "the root requires a\nthe root requires c>=2\na 1.0.0 requires c<2\nonly one version of c can be installed"
    )


def test_explanation_of_a_policy_exclusion(load) -> None:
    scenario = load(
        """
        [root]
        requires = ["a"]
        [packages.a.versions."1.0.0"]
        requires = ["c==2.0.0"]
        [packages.c.versions."1.0.0"]
        [packages.c.versions."2.0.0"]
        yanked = true
        """
    )
    resolution = solve(scenario.problem, "sat")
    assert resolution.explanation.text == (
        "the root requires a\na 1.0.0 requires c==2.0.0\n"
        "c 2.0.0 is yanked (a yanked version is used only when a root requirement pins it with ==)"
    )


def test_explanation_of_a_per_variant_dependency(load) -> None:
    """Only the MKL build has the failing dependency: the sentence names that build."""
    scenario = load(
        """
        [root]
        requires = ["a", "b"]
        [environment.variants]
        "blas :: lib" = ["mkl", "openblas"]
        [resolver_options]
        unify = ["blas :: lib"]
        [packages.a.versions."1.0.0"]
        wheel = false
        sdist = false
        requires = ["mkl-runtime>=9; 'blas :: lib :: mkl' in variant_properties"]
        [packages.a.versions."1.0.0".variants]
        mkl = ["blas :: lib :: mkl"]
        openblas = ["blas :: lib :: openblas"]
        [packages.b.versions."1.0.0"]
        wheel = false
        sdist = false
        [packages.b.versions."1.0.0".variants]
        mkl = ["blas :: lib :: mkl"]
        [packages.mkl-runtime.versions."1.0.0"]
        """
    )
    resolution = solve(scenario.problem, "sat")
    assert not resolution.satisfiable
    assert resolution.explanation.text == (
        "the root requires a\n"
        "the root requires b\n"
        "a 1.0.0 [mkl] requires mkl-runtime>=9; 'blas :: lib :: mkl' in variant_properties\n"
        "no version of mkl-runtime matches >=9 (available: 1.0.0)\n"
        "a 1.0.0 has the mkl variant (blas :: lib :: mkl) and the openblas variant (blas :: lib :: openblas)\n"
        "b 1.0.0 has only the mkl variant (blas :: lib :: mkl)\n"
        "blas :: lib must take one value across the environment"
    )


# -- objective ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "stem,sat_vector,backtrack_vector",
    [
        ("greedy-forces-older-root", (1, 0, 0, 2), (2, 0, 0, 2)),
        ("variant-rank-vs-dependency-version", (0, 0, 1, 2), (0, 1, 0, 3)),
    ],
)
def test_sat_beats_greedy_where_the_scenarios_say(stem: str, sat_vector, backtrack_vector) -> None:
    problem = load_scenario(VARIANTS / f"{stem}.toml").problem
    sat, greedy = solve(problem, "sat"), solve(problem, "backtrack")
    assert sat.violations == () and greedy.violations == ()
    assert tuple(sat.stats["objective"]) == objective_vector(problem, sat) == sat_vector
    assert objective_vector(problem, greedy) == backtrack_vector
    assert sat_vector < backtrack_vector


LEVELS = """
[root]
requires = ["a"]
[environment.variants]
"blas :: lib" = ["mkl", "openblas"]
[packages.a.versions."2.0.0"]
wheel = false
sdist = false
requires = ["b<3; 'blas :: lib :: mkl' in variant_properties", "helper; 'blas :: lib :: mkl' in variant_properties"]
[packages.a.versions."2.0.0".variants]
mkl = ["blas :: lib :: mkl"]
openblas = ["blas :: lib :: openblas"]
[packages.a.versions."1.0.0"]
[packages.b.versions."3.0.0"]
[packages.b.versions."2.0.0"]
[packages.helper.versions."1.0.0"]
"""


def test_objective_levels_in_order(load) -> None:
    """A newer root beats anything below it; among a 2.0.0's builds, the one whose dependency is
    older loses (level 2) although it is the preferred build (level 3); fewer packages (level 4)
    only break ties."""
    problem = load(LEVELS).problem
    resolution = solve(problem, "sat")
    assert resolution.violations == ()
    got = {n: (str(p.version), p.variant) for n, p in resolution.packages.items()}
    assert got == {"a": ("2.0.0", "openblas")}
    assert resolution.stats["objective"] == [0, 0, 1, 1]
    # Without the cap the preferred build wins, although it brings two more packages.
    uncapped = load(LEVELS.replace("b<3", "b"), "uncapped.toml").problem
    resolution = solve(uncapped, "sat")
    got = {n: (str(p.version), p.variant) for n, p in resolution.packages.items()}
    assert got == {"a": ("2.0.0", "mkl"), "b": ("3.0.0", ""), "helper": ("1.0.0", "")}
    assert resolution.stats["objective"] == [0, 0, 0, 3]


def test_the_version_index_counts_every_release_on_the_index(load) -> None:
    """A release the target cannot install still counts as newer: an objective is comparable
    across strategies and does not depend on what was read."""
    problem = load(
        """
        [root]
        requires = ["a"]
        [packages.a.versions."3.0.0"]
        requires_python = ">=3.99"
        [packages.a.versions."2.0.0"]
        """
    ).problem
    resolution = solve(problem, "sat")
    assert str(resolution.packages["a"].version) == "2.0.0"
    assert resolution.stats["objective"] == [1, 0, 0, 1]


# -- laziness -------------------------------------------------------------------------------------
def _many_releases(count: int, cap: str = "") -> str:
    lines = ['[root]', f'requires = ["app", "lib{cap}"]']
    for i in range(count, 0, -1):
        lines += [f'[packages.lib.versions."{i}.0.0"]', "sdist = false"]
    lines += ['[packages.app.versions."2.0.0"]', 'requires = ["lib>=3"]', '[packages.app.versions."1.0.0"]']
    return "\n".join(lines) + "\n"


def test_the_newest_releases_are_enough_when_they_fit(load) -> None:
    problem = load(_many_releases(40)).problem
    lazy = solve(problem, "sat")
    assert lazy.violations == () and lazy.stats["rounds"] == 1
    assert lazy.stats["releases_read"] == 2 and lazy.stats["releases_known"] == 42
    eager = _checked(SatStrategy(lazy=False), problem)
    assert eager.stats["releases_read"] == 42
    assert lazy.packages == eager.packages and lazy.stats["objective"] == eager.stats["objective"]


def test_older_releases_are_read_where_the_optimum_needs_them(load) -> None:
    """``lib<3`` caps the root: the optimum needs lib 2.0.0 and app 1.0.0, found by widening."""
    problem = load(_many_releases(40, cap="<3")).problem
    # lazy=True, not "auto": on a loaded machine the ski-rental rule may read everything at once
    lazy = _checked(SatStrategy(lazy=True), problem)
    assert {n: str(p.version) for n, p in lazy.packages.items()} == {"app": "1.0.0", "lib": "2.0.0"}
    assert lazy.stats["rounds"] >= 2 and lazy.stats["releases_read"] < 10
    eager = _checked(SatStrategy(lazy=False), problem)
    assert lazy.packages == eager.packages and lazy.stats["objective"] == eager.stats["objective"]


def test_expensive_rounds_switch_to_reading_everything(load) -> None:
    """``lazy="auto"``: once the rounds' optimisation costs more than reading the rest is
    estimated to (here at once: ``switch_factor=0``), the rest is read at once: one more round,
    the same optimum. ``lazy=True`` never switches."""
    problem = load(_many_releases(40, cap="<3")).problem
    resolution = _checked(SatStrategy(switch_factor=0.0), problem)
    assert resolution.stats["read_everything_after_round"] == 1 and resolution.stats["rounds"] == 2
    assert resolution.stats["releases_read"] == 42
    assert resolution.stats["objective"] == _checked(SatStrategy(lazy=False), problem).stats["objective"]
    always = _checked(SatStrategy(lazy=True, switch_factor=0.0), problem)
    assert "read_everything_after_round" not in always.stats and always.stats["releases_read"] < 10


def test_lazy_over_http_reads_few_metadata_files(tmp_path: Path, write_scenario) -> None:
    """Against the project's own index server: the lazy strategy fetches the metadata (the
    dependencies) of the releases it reads, the newest ones; the eager one of every release."""
    from index_helpers import repository
    from varsolve.index.builder import build_index
    from varsolve.index.server import IndexServer

    scenario = write_scenario(_many_releases(30))
    build_index(scenario, tmp_path / "index")
    counts = {}
    for name, strategy in (("lazy", SatStrategy()), ("eager", SatStrategy(lazy=False))):
        with IndexServer(tmp_path / "index") as server:
            with repository(server.index_url, prefetch=0) as repo:
                problem = build_problem(scenario=scenario, repository=repo)
                resolution = strategy.solve(problem)
                counts[name] = sum(n for path, n in server.stats.by_path.items() if path.endswith(".metadata"))
                assert verify(problem, resolution) == []
        assert resolution.satisfiable and str(resolution.packages["lib"].version) == "30.0.0"
    assert counts["lazy"] <= 3 < 30 <= counts["eager"]


class _Announced(RepositoryBase):
    """A scenario repository that records what a strategy announces before reading it."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.batches: list[list[tuple[str, str]]] = []
        self.read: list[tuple[str, str]] = []

    def releases(self, name):
        return self.inner.releases(name)

    def metadata(self, release, file):
        self.read.append((release.name, str(release.version)))
        return self.inner.metadata(release, file)

    def variant_metadata(self, release):
        return self.inner.variant_metadata(release)

    def prefetch_metadata(self, files) -> None:
        self.batches.append([(release.name, str(release.version)) for release, _ in files])


def test_a_lazy_round_announces_each_batch_before_reading_it(load) -> None:
    """The requirements met at once are read as one batch, announced to the source first (an
    index fetches the batch in parallel instead of one file after another)."""
    text = '[root]\nrequires = ["a", "b", "c", "d"]\n' + "".join(
        f'[packages.{name}.versions."{v}.0.0"]\nsdist = false\n' for name in "abcd" for v in (3, 2, 1)
    )
    problem = load(text).problem
    announced = _Announced(problem.repository)
    resolution = SatStrategy().solve(replace(problem, repository=announced))
    assert verify(problem, resolution) == []
    assert resolution.violations == () and resolution.stats["rounds"] == 1
    assert announced.batches == [[(n, "3.0.0") for n in "abcd"]]
    assert set(announced.read) == set(announced.batches[0])
    assert resolution.packages == solve(problem, "sat").packages


def test_a_requirement_reads_past_releases_the_target_cannot_install(load) -> None:
    """The newest lib needs a newer Python: reading it alone would serve nothing and cost a
    round; the releases up to the first one with a candidate are read at once."""
    text = '[root]\nrequires = ["lib"]\n' + "".join(
        f'[packages.lib.versions."{v}.0.0"]\nsdist = false\n' + ('requires_python = ">=3.99"\n' if v > 2 else "")
        for v in (5, 4, 3, 2, 1)
    )
    problem = load(text).problem
    lazy = _checked(SatStrategy(lazy=True), problem)  # never switching to reading everything
    assert lazy.satisfiable and str(lazy.packages["lib"].version) == "2.0.0"
    assert lazy.stats["rounds"] == 1 and lazy.stats["releases_read"] == 4
    assert solve(problem, "sat").violations == ()
    assert lazy.stats["objective"] == _checked(SatStrategy(lazy=False), problem).stats["objective"]


@pytest.mark.parametrize(("policy", "read"), [("packse", 1), ("pip", 2)])
def test_pre_releases_newer_than_the_release_read(load, policy: str, read: int) -> None:
    """lib 3.0.0a1 is newer than 2.0.0. Where the policy excludes it whatever is read (packse:
    nothing names a pre-release of lib), it is never read and no gap stands for it; else it is
    read with 2.0.0 (unread, it would be the cheapest stand-in for lib, and reading it later
    would cost a round of its own). One round either way."""
    text = (
        f'[root]\nrequires = ["lib"]\n[resolver_options]\npolicy = "{policy}"\n'
        '[packages.lib.versions."3.0.0a1"]\nsdist = false\n'
        '[packages.lib.versions."2.0.0"]\nsdist = false\n[packages.lib.versions."1.0.0"]\nsdist = false\n'
    )
    problem = load(text).problem
    lazy = _checked(SatStrategy(lazy=True), problem)
    assert lazy.satisfiable and str(lazy.packages["lib"].version) == "2.0.0"
    assert lazy.stats["rounds"] == 1 and lazy.stats["releases_read"] >= read
    assert (lazy.stats["releases_read"] == 1) == (policy == "packse")
    assert solve(problem, "sat").violations == ()


def test_a_gap_of_excluded_pre_releases_stands_for_nothing(load) -> None:
    """Under packse's policy the pre-releases of lib between 2.0.0 and 1.0.0 are never read, and
    the older releases are reached through the gap's admissible cost (the same optimum as
    reading everything)."""
    lines = ['[root]', 'requires = ["lib", "c<2"]']
    for v in ("4.0.0", "3.0.0rc1", "3.0.0b1", "2.0.0", "1.1.0a1", "1.0.0"):
        lines += [f'[packages.lib.versions."{v}"]', "sdist = false"]
        if v in ("4.0.0", "2.0.0"):
            lines.append('requires = ["c>=2"]')
    lines += ['[packages.c.versions."2.0.0"]', "sdist = false", '[packages.c.versions."1.0.0"]', "sdist = false"]
    problem = load("\n".join(lines) + "\n").problem
    lazy = _checked(SatStrategy(lazy=True), problem)
    assert lazy.satisfiable and str(lazy.packages["lib"].version) == "1.0.0"
    assert lazy.stats["releases_read"] <= 5  # lib 4.0.0, 2.0.0, 1.0.0 and c: no pre-release
    eager = _checked(SatStrategy(lazy=False), problem)
    assert lazy.packages == eager.packages and lazy.stats["objective"] == eager.stats["objective"]
    assert lazy.stats["releases_read"] < eager.stats["releases_read"]
    assert solve(problem, "sat").violations == ()


def test_widening_does_not_count_releases_the_target_cannot_install(load) -> None:
    """lib 39..3 need a newer Python (no candidate: reading them fetches nothing), 40 conflicts
    with the root: one widening reaches lib 2.0.0 instead of doubling through the unusable ones
    round after round (6 rounds before)."""
    lines = ['[root]', 'requires = ["lib", "c<2"]']
    for v in range(40, 0, -1):
        lines += [f'[packages.lib.versions."{v}.0.0"]', "sdist = false"]
        if v == 40:
            lines.append('requires = ["c>=2"]')
        elif v >= 3:
            lines.append('requires_python = ">=3.99"')
    lines += ['[packages.c.versions."2.0.0"]', "sdist = false", '[packages.c.versions."1.0.0"]', "sdist = false"]
    problem = load("\n".join(lines) + "\n").problem
    lazy = solve(problem, "sat")
    assert lazy.violations == () and str(lazy.packages["lib"].version) == "2.0.0"
    assert lazy.stats["rounds"] <= 3
    eager = _checked(SatStrategy(lazy=False), problem)
    assert lazy.packages == eager.packages and lazy.stats["objective"] == eager.stats["objective"]


# -- extras, policies, unify ----------------------------------------------------------------------
def test_extras_bring_their_dependencies(load) -> None:
    problem = load(
        """
        [root]
        requires = ["app[gpu]"]
        [packages.app.versions."1.0.0"]
        requires = ["core"]
        extras = { gpu = ["cudart>=12", "app[fast]"], fast = ["speedups"] }
        [packages.core.versions."1.0.0"]
        [packages.cudart.versions."12.0.0"]
        [packages.cudart.versions."11.0.0"]
        [packages.speedups.versions."1.0.0"]
        """
    ).problem
    resolution = solve(problem, "sat")
    assert resolution.violations == ()
    assert sorted(resolution.packages) == ["app", "core", "cudart", "speedups"]


def test_pip_yanked_policy_reads_every_requirement_on_the_package(load) -> None:
    """Under pip's policy a yanked release is usable when any applying requirement pins it."""
    text = """
        [root]
        requires = ["a", "b"]
        [resolver_options]
        yanked = "{policy}"
        [packages.a.versions."1.0.0"]
        requires = ["c==2.0.0"]
        [packages.b.versions."1.0.0"]
        requires = ["c>=1"]
        [packages.c.versions."1.0.0"]
        [packages.c.versions."2.0.0"]
        yanked = true
        """
    pip = solve(load(text.format(policy="pip"), "pip.toml").problem, "sat")
    assert pip.violations == () and str(pip.packages["c"].version) == "2.0.0"
    packse = solve(load(text.format(policy="packse"), "packse.toml").problem, "sat")
    assert not packse.satisfiable and "c 2.0.0 is yanked" in packse.explanation


def test_pip_yanked_policy_explanation(load) -> None:
    resolution = solve(
        load(
            """
            [root]
            requires = ["c>=2"]
            [resolver_options]
            yanked = "pip"
            [packages.c.versions."2.0.0"]
            yanked = true
            [packages.c.versions."1.0.0"]
            """
        ).problem,
        "sat",
    )
    assert resolution.explanation.text == (
        "the root requires c>=2\nc 2.0.0 is yanked and no requirement that applies pins it with =="
    )


def test_pip_prerelease_policy_on_the_merged_requirements(load) -> None:
    """PEP 440 on all requirements on c: one names a pre-release, so 2.0.0b1 is usable; without
    that requirement a final release satisfies them and the pre-release is not."""
    text = """
        [root]
        requires = ["a", "b"]
        [resolver_options]
        prerelease_policy = "pip"
        [packages.a.versions."1.0.0"]
        requires = ["{a_dep}"]
        [packages.b.versions."1.0.0"]
        requires = ["c>=1"]
        [packages.c.versions."1.0.0"]
        [packages.c.versions."2.0.0b1"]
        """
    named = solve(load(text.format(a_dep="c>=2.0.0b1"), "named.toml").problem, "sat")
    assert named.violations == () and str(named.packages["c"].version) == "2.0.0b1"
    plain = solve(load(text.format(a_dep="c"), "plain.toml").problem, "sat")
    assert plain.violations == () and str(plain.packages["c"].version) == "1.0.0"


def test_unified_value_follows_the_target_order(load) -> None:
    """Two fat builds share both values: the reported value is the target's preferred one."""
    problem = load(
        """
        [root]
        requires = ["a", "b"]
        [environment.variants]
        "blas :: lib" = ["openblas", "mkl"]
        [resolver_options]
        unify = ["blas :: lib"]
        [packages.a.versions."1.0.0"]
        wheel = false
        sdist = false
        [packages.a.versions."1.0.0".variants]
        fat = ["blas :: lib :: mkl", "blas :: lib :: openblas"]
        [packages.b.versions."1.0.0"]
        wheel = false
        sdist = false
        [packages.b.versions."1.0.0".variants]
        fat = ["blas :: lib :: mkl", "blas :: lib :: openblas"]
        """
    ).problem
    resolution = solve(problem, "sat")
    assert resolution.violations == () and resolution.unified == {"blas :: lib": "openblas"}


def test_same_input_same_output() -> None:
    problem = load_scenario(VARIANTS / "mpi-shared-by-three.toml").problem
    runs = [solve(problem, "sat").to_dict() for _ in range(2)]
    for run in runs:
        run["stats"] = {k: v for k, v in run["stats"].items() if not k.endswith("seconds")}
    assert runs[0] == runs[1]


def test_backtrack_decides_packages_with_fewest_candidates_first(tmp_path: Path) -> None:
    """PubGrub's heuristic in the preference: on this generated instance, deciding packages by
    name alone takes 1,597 rounds and 735 backtracks; fewest candidates first takes about 130."""
    from varsolve.generate.layered import generate

    path = tmp_path / "layered.toml"
    path.write_text(generate(seed=1), encoding="utf-8")
    resolution = solve(build_problem(scenario=path), "backtrack")
    assert resolution.satisfiable and resolution.violations == ()
    assert resolution.stats["rounds"] < 300 and resolution.stats["backtracks"] < 20, resolution.stats


def test_time_budget_returns_a_valid_resolution_marked_not_optimal(tmp_path: Path) -> None:
    """Anytime mode: proving the optimum of this dense instance takes minutes; with a budget the
    strategy stops optimising and returns a resolution the verifier accepts, not optimal."""
    from varsolve.generate.layered import generate
    from varsolve.strategies.sat import SatStrategy

    path = tmp_path / "dense.toml"
    path.write_text(generate(seed=1, density=4.0), encoding="utf-8")
    problem = build_problem(scenario=path)
    resolution = solve(problem, SatStrategy(time_budget=0.2))
    assert resolution.satisfiable and resolution.violations == ()
    assert resolution.stats["optimal"] is False and resolution.stats["time_budget_spent_in_round"] >= 1
    # What is returned: the optimum of the quick "newest" objective (or the levels proved, if
    # better), not just any model: far closer to the optimum on the default objective's levels.
    assert resolution.stats["fallback"] in ("newest", "levels proved")
    assert resolution.stats["objective"][1] < 200
    # A budget that suffices changes nothing, and unsatisfiability stays exact.
    small = build_problem(scenario=VARIANTS / "blas-unify.toml")
    assert solve(small, SatStrategy(time_budget=60)).packages == solve(small, "sat").packages
    unsat = solve(build_problem(scenario=VARIANTS / "blas-unify-unsatisfiable.toml"), SatStrategy(time_budget=60))
    assert not unsat.satisfiable and "must take one value" in unsat.explanation


def test_time_budget_on_the_command_line(capsys) -> None:
    from varsolve.cli import main

    blas = ["resolve", "--scenario", str(VARIANTS / "blas-unify.toml")]
    assert main([*blas, "--strategy", "backtrack", "--time-budget", "1"]) == 2
    assert "only --strategy sat" in capsys.readouterr().err
    assert main([*blas, "--strategy", "sat", "--time-budget", "0"]) == 2
    code = main([*blas, "--strategy", "sat", "--time-budget", "30", "--format", "json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["stats"]["optimal"] is True


# -- uv's pre-release policy: final releases before pre-releases, in the objective too ------------
UV_PRERELEASES = """
    [root]
    requires = ["a"{extra}]
    [resolver_options]
    policy = "uv"
    [packages.a.versions."3.0.0rc1"]
    [packages.a.versions."2.0.0"]
    requires = ["c<2"]
    [packages.a.versions."1.0.0"]
    requires = ["c<2"]
    [packages.b.versions."1.0.0"]
    requires = ["a>2.5"]
    [packages.c.versions."2.0.0"]
    [packages.c.versions."1.0.0"]
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # uv takes a 2.0.0 (a pre-release only once the finals are exhausted), hence c 1.0.0
        ("", {"a": "2.0.0", "c": "1.0.0"}),
        # b leaves a no final release: the pre-release it is
        (', "b"', {"a": "3.0.0rc1", "b": "1.0.0"}),
    ],
)
@pytest.mark.parametrize("lazy", [True, False])
def test_sat_under_uv_policy_prefers_final_releases(write_scenario, extra: str, expected: dict[str, str], lazy: bool) -> None:
    problem = load_scenario(write_scenario(UV_PRERELEASES.format(extra=extra))).problem
    sat = _checked(SatStrategy(lazy=lazy), problem)
    backtrack = solve(problem, "backtrack")
    assert {n: str(p.version) for n, p in sat.packages.items()} == expected
    assert sat.packages == backtrack.packages
    assert objective_vector(problem, sat) == objective_vector(problem, backtrack) == tuple(sat.stats["objective"])


# -- the version ruler leaves out pre-releases the policy excludes ---------------------------------
PRE_ABOVE = """
[root]
requires = ["w"]
[packages.w.versions."1.0.0"]
requires = ["x"]
[packages.x.versions."2.0.0"]
requires = ["y"]
[packages.x.versions."1.0.0"]
[packages.y.versions."3.0.0a1"]
[packages.y.versions."2.0.0"]
"""


def test_pre_releases_the_policy_excludes_cost_nothing(tmp_path: Path) -> None:
    """y 3.0.0a1 cannot be chosen (no root requirement names a pre-release of y): y 2.0.0 is
    its newest release and costs 0. Counting the alpha made x 2.0.0 (which brings y at cost 1)
    tie with x 1.0.0 (cost 1, one package fewer) among the dependencies: the optimum left y
    out and took the older x (jupyter on the real index: a second lazy round,
    docs/strategies.md)."""
    scenario = tmp_path / "pre-above.toml"
    scenario.write_text(PRE_ABOVE, encoding="utf-8")
    problem = build_problem(scenario=scenario)
    for lazy in (True, False):
        resolution = solve(problem, SatStrategy(lazy=lazy))
        assert resolution.satisfiable and resolution.violations == ()
        assert {n: str(p.version) for n, p in resolution.packages.items()} == {"w": "1.0.0", "x": "2.0.0", "y": "2.0.0"}
        assert resolution.stats["objective"] == [0, 0, 0, 3]
    greedy = solve(problem, "backtrack")
    assert greedy.violations == () and greedy.packages.keys() == {"w", "x", "y"}
    # A root requirement that names a pre-release of y lets the policy choose it: it counts again.
    scenario.write_text(PRE_ABOVE.replace('requires = ["w"]', 'requires = ["w", "y>=3.0.0a1"]', 1), encoding="utf-8")
    resolution = solve(build_problem(scenario=scenario), "sat")
    assert resolution.satisfiable and resolution.violations == ()
    assert {n: str(p.version) for n, p in resolution.packages.items()} == {"w": "1.0.0", "x": "2.0.0", "y": "3.0.0a1"}
