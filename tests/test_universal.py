"""Universal resolution (varsolve.universal): ``resolve --universal`` and the Python API, forks on
markers and on Requires-Python, variant targets, the per-environment verifier, and bad input.

The packse universal scenarios against uv lock are in tests/test_universal_packse.py; locks of
universal resolutions in tests/test_lock_universal.py.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.version import Version

from conftest import SCENARIOS, run_varsolve
from test_cli import assert_one_line_error
from varsolve.api import resolve_universal
from varsolve.errors import InputError
from varsolve.marker_algebra import MarkerSet
from varsolve.resolution import Pin
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import get_strategy
from varsolve.target import Target
from varsolve.universal.driver import resolve_universal as drive
from varsolve.universal.result import Fork, UniversalResolution
from varsolve.universal.universe import universe
from varsolve.universal.verify import verify_universal

STRATEGIES = ("pep825", "backtrack", "sat")
LINUX_312 = Target.make("3.12", "linux").marker_environment()
MACOS_312 = Target.make("3.12", "macos").marker_environment()
WINDOWS_312 = Target.make("3.12", "windows").marker_environment()
LINUX_310 = Target.make("3.10", "linux").marker_environment()

FORK = """
name = "fork"
[root]
requires = ["a>=2 ; sys_platform == 'linux'", "a<2 ; sys_platform == 'darwin'", "b"]
[resolver_options]
universal = true
[packages.a.versions."1.0.0"]
[packages.a.versions."2.0.0"]
requires = ["c ; implementation_name == 'cpython'"]
[packages.b.versions."1.0.0"]
requires = ["d ; python_version < '3.13'"]
[packages.c.versions."1.0.0"]
[packages.d.versions."1.0.0"]
"""

# lib 2 needs Python 3.11 and helper 2, lib 1 helper 1: a universal resolution forks on Python.
LIB_FORKS_ON_PYTHON = """\
[resolver_options]
universal = true
[packages.lib.versions."2.0.0"]
requires_python = ">=3.11"
requires = ["helper>=2"]
[packages.lib.versions."1.0.0"]
requires_python = ">=3.10"
requires = ["helper<2"]
[packages.helper.versions."1.0.0"]
requires_python = ">=3.10"
[packages.helper.versions."2.0.0"]
requires_python = ">=3.10"
"""

PYTHON_SPLIT = """
name = "python-split"
[root]
requires_python = ">=3.10"
requires = ["lib"]
""" + LIB_FORKS_ON_PYTHON


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def versions(result: UniversalResolution, env: dict[str, str], target: str | None = None) -> dict[str, str]:
    return {name: str(pin.version) for name, pin in result.packages_for(env, target).items()}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_forks_on_markers_and_installs_per_environment(tmp_path: Path, strategy: str) -> None:
    result = resolve_universal(scenario=write(tmp_path, "fork.toml", FORK), strategy=strategy)
    assert result.satisfiable and result.violations == () and result.requires_python == ">=3.12"
    assert versions(result, LINUX_312) == {"a": "2.0.0", "b": "1.0.0", "c": "1.0.0", "d": "1.0.0"}
    assert versions(result, MACOS_312) == {"a": "1.0.0", "b": "1.0.0", "d": "1.0.0"}
    assert versions(result, WINDOWS_312) == {"b": "1.0.0", "d": "1.0.0"}
    py313 = Target.make("3.13", "linux").marker_environment()
    assert versions(result, py313) == {"a": "2.0.0", "b": "1.0.0", "c": "1.0.0"}
    pypy = {**LINUX_312, "implementation_name": "pypy"}
    assert versions(result, pypy) == {"a": "2.0.0", "b": "1.0.0", "d": "1.0.0"}
    markers = {(e.name, str(e.pin.version)): result.marker_text(e.marker) for e in result.entries()}
    assert markers[("a", "2.0.0")] == "sys_platform == 'linux'"
    assert markers[("c", "1.0.0")] == "implementation_name == 'cpython' and sys_platform == 'linux'"
    assert markers[("b", "1.0.0")] == ""  # everywhere (requires-python is the universe)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_requires_python_fork_gives_each_python_its_newest_release(tmp_path: Path, strategy: str) -> None:
    result = resolve_universal(scenario=write(tmp_path, "split.toml", PYTHON_SPLIT), strategy=strategy)
    assert result.satisfiable and result.violations == ()
    assert versions(result, LINUX_310) == {"lib": "1.0.0", "helper": "1.0.0"}
    assert versions(result, LINUX_312) == {"lib": "2.0.0", "helper": "2.0.0"}
    assert sorted(str(f.region) for f in result.forks) == ["python_full_version == '3.10.*'", "python_full_version >= '3.11'"]


def test_forks_with_the_same_answer_merge(tmp_path: Path) -> None:
    same = FORK.replace('"a<2 ; sys_platform == \'darwin\'"', '"a>=1 ; sys_platform == \'darwin\'"')
    result = resolve_universal(scenario=write(tmp_path, "same.toml", same))
    # linux and darwin both take a 2.0.0 (darwin prefers what linux chose): one fork for both.
    assert {str(p.version) for f in result.forks for n, p in f.resolution.packages.items() if n == "a"} == {"2.0.0"}
    assert versions(result, MACOS_312)["a"] == "2.0.0"


def test_bundled_universes_resolve_with_every_strategy() -> None:
    for path in sorted((SCENARIOS / "universal").glob("*.toml")):
        scenario = load_scenario(path)
        assert scenario.universal and scenario.expected.environments
        for strategy in STRATEGIES:
            result = drive(scenario.problem, get_strategy(strategy), requires_python=scenario.requires_python,
                           targets=scenario.targets)
            assert result.satisfiable
            allowed = set() if strategy != "pep825" else {"unify"}
            assert {v.kind for _, _, v in result.violations} <= allowed, result.violations


def test_variant_targets_share_versions_and_differ_in_labels() -> None:
    result = resolve_universal(scenario=SCENARIOS / "universal" / "cuda-cpu-one-lock.toml", targets=())
    # Without targets the scenario's own target (no variant properties) is the one target.
    assert {f.target_name for f in result.forks} == {None}
    scenario = load_scenario(SCENARIOS / "universal" / "cuda-cpu-one-lock.toml")
    both = drive(scenario.problem, get_strategy("sat"), requires_python=">=3.12", targets=scenario.targets)
    cuda, cpu = both.packages_for(LINUX_312, "cuda"), both.packages_for(LINUX_312, "cpu")
    assert {n: p.variant for n, p in cuda.items()} == {"torch": "cu128", "torchvision": "cu128", "nvidia-cublas": ""}
    assert {n: p.variant for n, p in cpu.items()} == {"torch": "", "torchvision": ""}
    assert both.packages_for(WINDOWS_312, "cuda").keys() == {"torch", "torchvision"}
    text = both.to_text()
    assert "nvidia-cublas" in text and "(target cuda)" in text


def test_the_verifier_catches_a_wrong_marker_and_a_stray_package(tmp_path: Path) -> None:
    result = resolve_universal(scenario=write(tmp_path, "fork.toml", FORK))
    assert verify_universal(result) == ([], [])
    darwin = next(i for i, f in enumerate(result.forks) if "a" in f.resolution.packages and "c" not in f.resolution.packages)
    fork = result.forks[darwin]
    # A package that nothing requires in any environment of the fork.
    stray = replace(fork.resolution, packages={**fork.resolution.packages, "c": Pin(Version("1.0.0"), "", "c-1.0.0-py3-none-any.whl")})
    forks = list(result.forks)
    forks[darwin] = Fork(fork.region, None, stray, fork.problem)
    violations, _ = verify_universal(replace(result, forks=tuple(forks)))
    assert any("c" in v.packages and "nothing requires it" in v.message for _, _, v in violations), violations
    fork = result.forks[0]
    # A package marker that leaves out an environment where it is required.
    narrowed = Fork(fork.region, None, fork.resolution, fork.problem)
    narrowed.markers["b"] = fork.markers["b"] & MarkerSet.parse("sys_platform == 'win32'")
    violations, _ = verify_universal(replace(result, forks=(narrowed, *result.forks[1:])))
    assert any("b" in v.packages and v.kind == "requirement" for _, _, v in violations), violations


def test_unsatisfiable_region_names_its_environments(tmp_path: Path) -> None:
    text = FORK.replace('"b"]', '"b", "a>=3 ; sys_platform == \'linux\'"]')
    result = resolve_universal(scenario=write(tmp_path, "unsat.toml", text))
    assert not result.satisfiable and result.failed_region is not None
    assert "sys_platform == 'linux'" in result.failed_region
    assert result.explanation is not None and "In environments where" in result.explanation.text


def test_universe_bad_input_is_an_input_error_naming_the_key() -> None:
    with pytest.raises(InputError, match=r"^envs\[1\]: .* can never be true$"):
        universe(">=3.10", ["sys_platform == 'linux'", "sys_platform == 'win32' and sys_platform == 'linux'"], environments_key="envs")
    with pytest.raises(InputError, match=r"^envs\[0\]: .* with requires-python"):
        universe(">=3.10", ["python_version < '3.9'"], environments_key="envs")
    with pytest.raises(InputError, match=r"^envs\[1\]: .* adds no environment"):
        universe(">=3.10", ["sys_platform == 'linux'", "sys_platform == 'linux' and python_version >= '3.11'"], environments_key="envs")
    with pytest.raises(InputError, match=r"^rp: '>=3.12,<3.11' allows no Python"):
        universe(">=3.12,<3.11", requires_python_key="rp")
    with pytest.raises(InputError, match=r"^rp: invalid specifier"):
        universe("3.10", requires_python_key="rp")
    regions = universe(">=3.10", ["sys_platform == 'linux'", "python_version >= '3.12'"])
    assert [str(r) for r in regions] == [
        "python_full_version >= '3.10' and sys_platform == 'linux'",
        "python_full_version >= '3.12' and sys_platform != 'linux'",
    ]


def test_too_many_forks_is_an_input_error(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, "fork.toml", FORK))
    with pytest.raises(InputError, match="more than 1 forks"):
        drive(scenario.problem, get_strategy("backtrack"), max_forks=1)


# -- the command line -----------------------------------------------------------------------------


def test_cli_text_json_and_byte_for_byte(tmp_path: Path) -> None:
    path = str(write(tmp_path, "fork.toml", FORK))
    first = run_varsolve("resolve", "--universal", "--scenario", path)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    assert "a  2.0.0  ; sys_platform == 'linux'" in first.stdout and "forks: 3" in first.stdout
    assert run_varsolve("resolve", "--universal", "--scenario", path).stdout == first.stdout
    # universal = true in the scenario is enough.
    assert run_varsolve("resolve", "--scenario", path).stdout == first.stdout
    proc = run_varsolve("resolve", "--universal", "--scenario", path, "--format", "json", "--strategy", "sat")
    data = json.loads(proc.stdout)
    assert data["universal"] and data["satisfiable"] and data["valid"] and data["requires-python"] == ">=3.12"
    assert {(p["name"], p["version"], p["marker"]) for p in data["packages"]} >= {("a", "1.0.0", "sys_platform == 'darwin'")}
    assert len(data["forks"]) == 3


def test_cli_environments_and_python_requires(tmp_path: Path) -> None:
    path = str(write(tmp_path, "fork.toml", FORK))
    proc = run_varsolve("resolve", "--universal", "--scenario", path, "--python-requires", ">=3.13",
                        "--environment", "sys_platform == 'linux'")
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines() if not line.startswith((" ", "forks:"))]
    assert names == ["a", "b", "c"] and "a  2.0.0" in proc.stdout  # no d (Python < 3.13), no darwin


def test_cli_unsatisfiable_exits_1(tmp_path: Path) -> None:
    text = FORK.replace('"b"]', '"b", "a>=3 ; sys_platform == \'linux\'"]')
    proc = run_varsolve("resolve", "--universal", "--scenario", str(write(tmp_path, "unsat.toml", text)))
    assert proc.returncode == 1 and proc.stdout.startswith("no solution for environments where ")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--environment", "sys_platform == 'linux' and sys_platform == 'win32'"], ["--environment[0]", "can never be true"]),
        (["--environment", "python_version < '3.9'"], ["--environment[0]", "requires-python"]),
        (["--environment", "os_name == 'nt'", "--environment", "os_name == 'nt'"], ["--environment[1]", "adds no environment"]),
        (["--environment", "sys_platform = 'linux'"], ["--environment[0]", "invalid marker"]),
        (["--python-requires", ">=3.12,<3.11"], ["--python-requires", "allows no Python"]),
        (["--python-platform", "linux"], ["--python-platform", "every platform"]),
        (["-o", "x.txt"], ["-o:", "lock --universal"]),
    ],
)
def test_cli_bad_universe_is_one_line_exit_2(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    path = str(write(tmp_path, "fork.toml", FORK))
    assert_one_line_error(run_varsolve("resolve", "--universal", "--scenario", path, *args), *fragments)


def test_cli_flags_that_need_universal(tmp_path: Path) -> None:
    plain = str(SCENARIOS / "variants" / "blas-unify.toml")
    assert_one_line_error(run_varsolve("resolve", "--scenario", plain, "--environment", "os_name == 'nt'"), "--environment", "--universal")
    assert_one_line_error(run_varsolve("resolve", "--scenario", plain, "--python-requires", ">=3.10"), "--python-requires")
    assert_one_line_error(run_varsolve("resolve", "--scenario", plain, "--target", "x.toml"), "--target", "--universal")


def test_cli_scenario_required_environments_errors_name_the_file(tmp_path: Path) -> None:
    text = FORK.replace("universal = true", "universal = true\nrequired_environments = [\"python_version < '3.9'\"]")
    path = write(tmp_path, "envs.toml", text)
    assert_one_line_error(run_varsolve("resolve", "--scenario", str(path)), str(path), "required_environments[0]")


def test_cli_variant_target_files(tmp_path: Path) -> None:
    scenario = str(SCENARIOS / "universal" / "cuda-cpu-one-lock.toml")
    cuda = write(
        tmp_path, "cuda.toml",
        'name = "cuda"\n[[provider]]\nnamespace = "nvidia"\n[provider.properties]\ncuda_version_lower_bound = ["12.8"]\n',
    )
    cpu = write(tmp_path, "cpu.toml", 'name = "cpu"\n')
    proc = run_varsolve("resolve", "--universal", "--scenario", scenario, "--target", str(cuda), "--target", str(cpu))
    assert proc.returncode == 0, proc.stderr
    assert "torch          2.9.0 [cu128]  (target cuda)" in proc.stdout
    assert "nvidia-cublas  12.8.4  (target cuda)  ; sys_platform == 'linux'" in proc.stdout
    twin = write(tmp_path, "twin.toml", 'name = "cuda"\n')
    assert_one_line_error(
        run_varsolve("resolve", "--universal", "--scenario", scenario, "--target", str(cuda), "--target", str(twin)),
        "two targets are named 'cuda'",
    )


SHARED = """
name = "shared-candidates"
[root]
requires_python = ">=3.10"
requires = ["lib", "common"]
[resolver_options]
universal = true
[packages.lib.versions."2.0.0"]
requires_python = ">=3.11"
[packages.lib.versions."1.0.0"]
requires_python = ">=3.10"
[packages.common.versions."1.0.0"]
requires_python = ">=3.8"
[packages.common.versions."2.0.0"]
requires_python = ">=3.8"
"""


def test_forks_for_other_pythons_share_the_candidates_of_a_release_they_can_both_use(tmp_path: Path) -> None:
    # Served, so that every file announces its Requires-Python (a scenario read from memory does
    # not, and then a fork's Pythons are part of what its candidates depend on). The fork for
    # 3.10 and the one for >= 3.11 read common 2.0.0, usable by both: built once, not twice.
    from varsolve.index.builder import build_index
    from varsolve.index.server import IndexServer
    from varsolve.sources import SourceSettings, open_repository

    scenario = write(tmp_path, "shared.toml", SHARED)
    build_index(scenario, tmp_path / "index")
    with IndexServer(tmp_path / "index") as server:
        repository = open_repository(SourceSettings(index_urls=(server.index_url,), no_cache=True))
        assert repository is not None
        with repository:
            result = resolve_universal(["lib", "common"], requires_python=">=3.10", repository=repository)
    assert result.satisfiable and result.violations == ()
    assert versions(result, LINUX_310) == {"lib": "1.0.0", "common": "2.0.0"}
    assert versions(result, LINUX_312) == {"lib": "2.0.0", "common": "2.0.0"}
    assert result.stats["solves"] == 3  # the whole universe (meets the fork), then each part
    # The whole universe reads lib 2.0.0 and common 2.0.0; the fork for 3.10 reads lib 2.0.0
    # again, whose files it cannot use (a set of its own, empty), lib 1.0.0, and common 2.0.0
    # from the set the whole built; the fork for >= 3.11 nothing new: four sets, where keying
    # them by the forks' Pythons built one per fork and release read.
    assert result.stats["candidate_sets"] == 4


def test_the_verifier_reads_the_dependencies_of_the_file_each_fork_read(tmp_path: Path) -> None:
    # A package with a wheel per platform: each environment checks its own wheel's tags, but
    # its dependencies are read from the wheel the fork pinned, as a universal lock records one
    # set per version (no download of every platform's wheel to verify).
    text = """
    name = "per-platform"
    [root]
    requires = ["native"]
    [resolver_options]
    universal = true
    [packages.native.versions."1.0.0"]
    wheel_tags = ["py3-none-manylinux_2_17_x86_64", "py3-none-win_amd64", "py3-none-macosx_11_0_arm64"]
    requires = ["helper"]
    [packages.helper.versions."1.0.0"]
    """
    result = resolve_universal(scenario=write(tmp_path, "native.toml", text), requires_python=">=3.12")
    assert result.satisfiable
    fork = result.forks[0]
    pinned = {(name, pin.filename) for name, pin in fork.resolution.packages.items()}
    read: list[tuple[str, str]] = []
    base = fork.problem.repository

    class Counting:
        def __getattr__(self, name: str) -> object:
            return getattr(base, name)

        def metadata(self, release, file):  # type: ignore[no-untyped-def]
            read.append((release.name, file.filename))
            return base.metadata(release, file)

    counted = replace(fork, problem=replace(fork.problem, repository=Counting()))  # type: ignore[arg-type]
    violations, _ = verify_universal(replace(result, forks=(counted,)))
    assert violations == []
    checked = {(name, filename) for name, filename in read}
    assert checked and checked <= pinned  # never another platform's wheel
