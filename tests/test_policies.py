"""Resolver policies where packse (uv) and pip differ: pre-releases, yanked releases pinned by a
transitive dependency, Requires-Python upper bounds. Default: packse (docs/scenario-format.md).

Each case is a small inline scenario modelled on the packse scenario of the same name, run with
both policies and every strategy; every resolution goes through the independent verifier.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from varsolve.api import solve
from varsolve.errors import InputError
from varsolve.problem import ResolverOptions, lower_bounds
from varsolve.resolution import Pin, Resolution
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import available
from varsolve.verifier import verify

TRANSITIVE_PRERELEASE = """
    [root]
    requires = ["a", "b"]
    [packages.a.versions."1.0.0"]
    requires = ["c==2.0.0b1"]
    [packages.b.versions."1.0.0"]
    requires = ["c>=1.0.0,<=3.0.0"]
    [packages.c.versions."1.0.0"]
    [packages.c.versions."2.0.0b1"]
"""

ONLY_PRERELEASE_IN_RANGE = """
    [root]
    requires = ["a>0.1.0"]
    [packages.a.versions."0.1.0"]
    [packages.a.versions."1.0.0a1"]
"""

ROOT_OPTS_IN_TO_PRERELEASE = """
    [root]
    requires = ["a", "b", "c>=0.0.0a1"]
    [packages.a.versions."1.0.0"]
    requires = ["c==2.0.0b1"]
    [packages.b.versions."1.0.0"]
    requires = ["c>=1.0.0,<=3.0.0"]
    [packages.c.versions."1.0.0"]
    [packages.c.versions."2.0.0b1"]
"""

TRANSITIVE_YANKED_PIN = """
    [root]
    requires = ["a", "b"]
    [packages.a.versions."1.0.0"]
    requires = ["c==2.0.0"]
    [packages.b.versions."1.0.0"]
    requires = ["c>=1.0.0,<=3.0.0"]
    [packages.c.versions."1.0.0"]
    [packages.c.versions."2.0.0"]
    yanked = true
"""

ROOT_YANKED_PIN = """
    [root]
    requires = ["a", "b==1.0.0"]
    [packages.a.versions."0.1.0"]
    requires = ["b>0.1"]
    [packages.b.versions."0.1.0"]
    [packages.b.versions."1.0.0"]
    yanked = true
"""

PYTHON_UPPER_BOUND = """
    [root]
    requires = ["a"]
    [environment]
    python = "3.9"
    [packages.a.versions."1.0.0"]
    requires_python = "<=3.8"
"""

# (scenario, option, {policy: expected packages or None for unsatisfiable})
CASES = {
    "transitive-prerelease": (
        TRANSITIVE_PRERELEASE, "prerelease_policy",
        {"packse": None, "pip": {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"}},
    ),
    "only-prerelease-in-range": (
        ONLY_PRERELEASE_IN_RANGE, "prerelease_policy", {"packse": None, "pip": {"a": "1.0.0a1"}},
    ),
    "root-opts-in-to-prerelease": (
        ROOT_OPTS_IN_TO_PRERELEASE, "prerelease_policy",
        # pip reads the requirements on c together: c>=0.0.0a1 names a pre-release.
        {"packse": {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"}, "pip": {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"}},
    ),
    "transitive-yanked-pin": (
        TRANSITIVE_YANKED_PIN, "yanked",
        {"packse": None, "pip": {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0"}, "never": None},
    ),
    "root-yanked-pin": (
        ROOT_YANKED_PIN, "yanked",
        {"packse": {"a": "0.1.0", "b": "1.0.0"}, "pip": {"a": "0.1.0", "b": "1.0.0"}, "never": None},
    ),
    "python-upper-bound": (
        PYTHON_UPPER_BOUND, "requires_python_policy", {"packse": {"a": "1.0.0"}, "pip": None},
    ),
}


@pytest.fixture
def write_scenario(tmp_path: Path):
    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


def run_varsolve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "varsolve.cli", *args], capture_output=True, text=True, timeout=120
    )


def _params():
    for case, (_, _, outcomes) in CASES.items():
        for policy in outcomes:
            for strategy in available():
                yield pytest.param(case, policy, strategy, id=f"{case}-{policy}-{strategy}")


@pytest.mark.parametrize("case,policy,strategy", list(_params()))
def test_policy(write_scenario, case: str, policy: str, strategy: str) -> None:
    text, option, outcomes = CASES[case]
    path = write_scenario(text + f'\n    [resolver_options]\n    {option} = "{policy}"\n')
    problem = load_scenario(path).problem
    assert getattr(problem.options, option) == policy
    resolution = solve(problem, strategy)
    assert resolution.violations == ()
    expected = outcomes[policy]
    if expected is None:
        assert not resolution.satisfiable
        assert resolution.explanation
    else:
        assert resolution.satisfiable, resolution.explanation
        assert {n: str(p.version) for n, p in resolution.packages.items()} == expected


def test_defaults_are_packse(write_scenario) -> None:
    options = load_scenario(write_scenario(ONLY_PRERELEASE_IN_RANGE)).problem.options
    assert (options.prerelease_policy, options.yanked, options.requires_python_policy) == ("packse",) * 3
    assert ResolverOptions().prerelease_policy == ResolverOptions().yanked == "packse"


def test_old_pinned_value_means_pip(write_scenario) -> None:
    path = write_scenario(TRANSITIVE_YANKED_PIN + '\n    [resolver_options]\n    yanked = "pinned"\n')
    resolution = solve(load_scenario(path).problem, "backtrack")
    assert resolution.satisfiable and resolution.violations == ()


@pytest.mark.parametrize("key", ["prerelease_policy", "yanked", "requires_python_policy"])
def test_bad_policy_value_names_the_key(write_scenario, key: str) -> None:
    path = write_scenario(ONLY_PRERELEASE_IN_RANGE + f'\n    [resolver_options]\n    {key} = "sometimes"\n')
    with pytest.raises(InputError, match=rf"resolver_options\.{key}: must be one of"):
        load_scenario(path)


@pytest.mark.parametrize(
    "spec,python,allowed",
    [
        ("<=3.8", "3.9", True),  # upper bounds are ignored
        ("<3.9,!=3.9.*", "3.9", True),
        (">=3.10", "3.9", False),
        (">=3.9.4", "3.9", False),
        ("==3.8.*", "3.9", True),
        ("==3.10.*", "3.9", False),
        ("~=3.10", "3.11", True),
        ("~=3.10", "3.9", False),
        (">3.9", "3.9", False),
        ("", "3.9", True),
    ],
)
def test_requires_python_lower_bounds(spec: str, python: str, allowed: bool) -> None:
    packse = ResolverOptions()
    assert packse.allows_python(SpecifierSet(spec), Version(python)) is allowed
    pip = ResolverOptions(requires_python_policy="pip")
    assert pip.allows_python(SpecifierSet(spec), Version(python)) is SpecifierSet(spec).contains(python)


def test_lower_bounds_keeps_only_lower_clauses() -> None:
    assert lower_bounds(SpecifierSet(">=3.8,<4,!=3.9.1")) == SpecifierSet(">=3.8")
    assert lower_bounds(SpecifierSet("~=3.10.2")) == SpecifierSet(">=3.10.2")


def _hand_made(versions: dict[str, str]) -> Resolution:
    pins = {name: Pin(Version(v), "", f"{name}-{v}-py3-none-any.whl") for name, v in versions.items()}
    return Resolution("hand-made", satisfiable=True, packages=pins)


def test_verifier_enforces_packse_yanked_policy(write_scenario) -> None:
    """A transitive == pin does not make a yanked release usable under packse's policy."""
    problem = load_scenario(write_scenario(TRANSITIVE_YANKED_PIN)).problem
    resolution = _hand_made({"a": "1.0.0", "b": "1.0.0", "c": "2.0.0"})
    assert any("yanked and no root requirement pins it" in v.message for v in verify(problem, resolution))
    pip_problem = replace(problem, options=replace(problem.options, yanked="pip"))
    assert verify(pip_problem, resolution) == []


def test_verifier_enforces_packse_prerelease_policy(write_scenario) -> None:
    problem = load_scenario(write_scenario(TRANSITIVE_PRERELEASE)).problem
    resolution = _hand_made({"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"})
    assert any("c 2.0.0b1 is a pre-release" in v.message for v in verify(problem, resolution))


def test_verifier_follows_requires_python_policy(write_scenario) -> None:
    problem = load_scenario(write_scenario(PYTHON_UPPER_BOUND)).problem
    resolution = _hand_made({"a": "1.0.0"})
    assert verify(problem, resolution) == []
    pip_problem = replace(problem, options=replace(problem.options, requires_python_policy="pip"))
    assert any("requires Python <=3.8" in v.message for v in verify(pip_problem, resolution))


def test_explanations_say_why(write_scenario) -> None:
    yanked = solve(load_scenario(write_scenario(TRANSITIVE_YANKED_PIN, "y.toml")).problem, "backtrack")
    assert "c 2.0.0 is yanked" in yanked.explanation and "root requirement pins it" in yanked.explanation
    pre = solve(load_scenario(write_scenario(TRANSITIVE_PRERELEASE, "p.toml")).problem, "backtrack")
    assert "c 2.0.0b1 is a pre-release" in pre.explanation and "c>=2.0.0b1" in pre.explanation
    missing = solve(load_scenario(write_scenario('[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\nrequires = ["zz"]\n', "m.toml")).problem, "backtrack")
    assert "there is no package named zz" in missing.explanation


@pytest.mark.parametrize(
    "flag,value,scenario,satisfiable",
    [
        ("--yanked-policy", "pip", TRANSITIVE_YANKED_PIN, True),
        ("--yanked-policy", "packse", TRANSITIVE_YANKED_PIN, False),
        ("--prerelease-policy", "pip", TRANSITIVE_PRERELEASE, True),
        ("--requires-python-policy", "pip", PYTHON_UPPER_BOUND, False),
        ("--requires-python-policy", "packse", PYTHON_UPPER_BOUND, True),
    ],
)
def test_cli_policy_flags(write_scenario, flag: str, value: str, scenario: str, satisfiable: bool) -> None:
    path = write_scenario(scenario)
    proc = run_varsolve("resolve", "--scenario", str(path), flag, value, "--format", "json")
    assert proc.returncode == (0 if satisfiable else 1), proc.stderr
    out = json.loads(proc.stdout)
    assert out["satisfiable"] is satisfiable and out["violations"] == []


def test_cli_rejects_unknown_policy(write_scenario) -> None:
    proc = run_varsolve("resolve", "--scenario", str(write_scenario(PYTHON_UPPER_BOUND)), "--yanked-policy", "maybe")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--yanked-policy" in proc.stderr
