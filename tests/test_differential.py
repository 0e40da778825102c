"""Differential tests (issue #13 §2): varsolve's ``uv`` and ``pip`` policy presets against uv 0.13.9
and pip 26.3 themselves, both pinned test dependencies, on plain scenarios (no variants) built
into indexes and served on loopback (tests/differential_helpers.py).

* every regression scenario of tests/fixtures/differential/ through both installers: what each
  chooses is recorded below (a change means the installer changed), and varsolve under the
  matching preset must choose the same, or differ only by search order where the scenario says
  so; and each one's ``[expected]`` with every strategy, as ``varsolve scenario check`` does (they
  live outside scenarios/, which ``varsolve conformance`` and ``compare`` sweep with the
  scenarios' own policies);
* hypothesis-generated scenarios (a fixed number in CI, ``examples()``; twenty times as many
  under ``--hypothesis-profile deep``; benchmarks/differential.py runs more and counts): every
  disagreement under the matching preset fails, with the scenario to keep as a regression file;
* the presets themselves: the scenario key, the ``--policy`` flag and what overrides them, and
  the verifier's checks of the rules the installers taught us.

Every varsolve resolution here goes through the independent verifier (``varsolve_outcome``).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings

from conftest import FIXTURES, examples, run_varsolve
from differential_helpers import PRESETS, Installers, compare, plain_scenarios
from index_helpers import uv
from varsolve.errors import InputError
from varsolve.problem import POLICIES, ResolverOptions
from varsolve.resolution import Pin, Resolution
from varsolve.scenario_check import check_scenario
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import COMPLETE, available
from varsolve.verifier import verify

REGRESSIONS = sorted((FIXTURES / "differential").glob("*.toml"))
needs_uv = pytest.mark.skipif(uv() is None, reason="needs uv (a test dependency)")

# What uv 0.13.9 and pip 26.3 choose on each regression scenario (None: no solution).
CHOSEN: dict[str, dict[str, dict[str, str] | None]] = {
    "pip-exclusion-opts-in-to-nothing": {"uv": {"a": "1.0.0"}, "pip": {"a": "1.0.0"}},
    "pip-requirement-order": {"uv": {"a": "1.0.0", "c": "1.5.0"}, "pip": {"a": "1.0.0", "c": "1.5.0"}},
    "pip-upper-bound-opts-in": {"uv": {"a": "1.0.0"}, "pip": {"a": "2.0.0b2"}},
    "pip-yanked-beside-local-version": {"uv": {"c": "2.0.0"}, "pip": None},
    "pip-yanked-final-hides-prerelease": {"uv": {"a": "2.0.0a1"}, "pip": None},
    "uv-final-before-named-prerelease": {"uv": {"a": "1.0.0"}, "pip": {"a": "1.1.0b1"}},
    "uv-post-release-before-dev": {"uv": {"a": "1.0.0.post1"}, "pip": {"a": "1.0.0.post2.dev1"}},
    "uv-prerelease-after-finals-fail": {"uv": {"a": "2.0.0a1", "b": "1.0.0"}, "pip": None},
    "uv-prerelease-only-in-range": {"uv": {"a": "1.0.0a1"}, "pip": {"a": "1.0.0a1"}},
    "uv-requires-python-upper-bound": {"uv": {"a": "2.0.0"}, "pip": {"a": "1.0.0"}},
    "uv-search-order": {"uv": {"a": "1.1.0b2", "b": "1.1.0"}, "pip": {"a": "2.0.0a1", "b": "2.0.0a1"}},
    "uv-transitive-prerelease": {
        "uv": {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"}, "pip": {"a": "1.0.0", "b": "1.0.0", "c": "2.0.0b1"},
    },
    "uv-yanked-local-version": {"uv": None, "pip": {"c": "2.0.0+cpu"}},
}
# Where varsolve differs by search order only (the scenario's description says why).
ORDER = {("uv-search-order", "uv"), ("pip-requirement-order", "pip")}


@pytest.fixture(scope="module")
def installers():
    found = Installers()
    try:
        yield found
    finally:
        found.close()


def test_every_regression_scenario_is_listed() -> None:
    assert {p.stem for p in REGRESSIONS} == set(CHOSEN)
    for path in REGRESSIONS:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert data["name"] == path.stem
        assert data["resolver_options"]["policy"] in PRESETS.values()


@pytest.mark.parametrize("strategy", available())
@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression_scenario_expectations(path: Path, strategy: str) -> None:
    scenario = load_scenario(path, strict=True)
    result = check_scenario(scenario, strategy, strategy in COMPLETE)
    assert result.status == "pass", "\n".join(result.problems)
    assert result.resolution is not None and result.resolution.violations == ()
    if strategy in COMPLETE:
        outcome = scenario.expected.for_strategy(strategy, True)
        assert outcome is not None and outcome.satisfiable is not None
        assert outcome.packages if outcome.satisfiable else outcome.explanation_contains


@needs_uv
@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.stem for p in REGRESSIONS])
def test_regression_scenario_against_the_installers(installers: Installers, path: Path) -> None:
    comparison = compare(installers, path.read_text(encoding="utf-8"))
    assert comparison.tools == CHOSEN[path.stem], comparison.describe()
    for tool, verdict in comparison.verdicts.items():
        assert verdict == ("order" if (path.stem, tool) in ORDER else "same"), comparison.describe()


@needs_uv
def test_pip_follows_the_root_requirement_order(installers: Installers) -> None:
    """pip-requirement-order with the root requirements the other way round: pip decides `a`
    first, knows `c>=1.0.0b1` when it decides `c`, and takes the pre-release, as varsolve does."""
    text = (FIXTURES / "differential" / "pip-requirement-order.toml").read_text(encoding="utf-8")
    swapped = text.replace('requires = ["c", "a"]', 'requires = ["a", "c"]')
    assert swapped != text
    comparison = compare(installers, swapped)
    assert comparison.tools["pip"] == {"a": "1.0.0", "c": "2.0.0b1"}
    assert comparison.verdicts == {"uv": "same", "pip": "same"}, comparison.describe()


@needs_uv
@settings(max_examples=examples(20))
@given(data=plain_scenarios())
def test_varsolve_agrees_with_uv_and_pip(installers: Installers, data) -> None:
    comparison = compare(installers, data)
    assert not comparison.disagreements(), (
        "varsolve disagrees with an installer; keep the scenario (shrunk) under tests/fixtures/differential/\n"
        + comparison.describe()
    )


# -- the presets -----------------------------------------------------------------------------------

A_PRERELEASE_NAMED = """
    [root]
    requires = ["a>=1.0.0b1"]
    [packages.a.versions."1.0.0"]
    [packages.a.versions."1.1.0b1"]
"""


def test_presets() -> None:
    assert set(POLICIES) == {"packse", "uv", "pip"}
    default = ResolverOptions()
    assert default.policy_name() == "packse"
    uv_options = default.policy_preset("uv")
    assert (uv_options.prerelease_policy, uv_options.yanked, uv_options.requires_python_policy) == ("uv", "packse", "packse")
    pip_options = default.policy_preset("pip")
    assert (pip_options.prerelease_policy, pip_options.yanked, pip_options.requires_python_policy) == ("pip",) * 3
    assert replace(pip_options, yanked="pinned").policy_name() == "pip"
    assert replace(pip_options, yanked="never").policy_name() is None
    assert replace(uv_options, no_build=frozenset({":all:"})).policy_preset("packse") == replace(default, no_build=frozenset({":all:"}))


@pytest.mark.parametrize(
    "options,expected",
    [
        ("", ("packse", "packse", "packse")),
        ('policy = "uv"', ("uv", "packse", "packse")),
        ('policy = "pip"', ("pip", "pip", "pip")),
        ('policy = "pip"\n    yanked = "never"', ("pip", "never", "pip")),  # a policy's own key wins
        ('policy = "uv"\n    prerelease_policy = "packse"', ("packse", "packse", "packse")),
    ],
)
def test_scenario_policy_key(load, options: str, expected: tuple[str, str, str]) -> None:
    opts = load(A_PRERELEASE_NAMED + f"\n    [resolver_options]\n    {options}\n").problem.options
    assert (opts.prerelease_policy, opts.yanked, opts.requires_python_policy) == expected


@pytest.mark.parametrize("value", ['"npm"', "1", '["uv"]'])
def test_bad_policy_names_the_key(write_scenario, value: str) -> None:
    path = write_scenario(A_PRERELEASE_NAMED + f"\n    [resolver_options]\n    policy = {value}\n")
    with pytest.raises(InputError, match=r"resolver_options\.policy: must be one of 'packse', 'uv', 'pip'"):
        load_scenario(path)


@pytest.mark.parametrize(
    "flags,version",
    [
        ([], "1.1.0b1"),  # packse: the root names a pre-release
        (["--policy", "uv"], "1.0.0"),  # uv: a final release first
        (["--policy", "pip"], "1.1.0b1"),
        (["--policy", "uv", "--prerelease-policy", "pip"], "1.1.0b1"),  # the single flag overrides the preset
        (["--prerelease-policy", "uv"], "1.0.0"),
    ],
)
def test_cli_policy(write_scenario, flags: list[str], version: str) -> None:
    path = write_scenario(A_PRERELEASE_NAMED)
    proc = run_varsolve("resolve", "--scenario", str(path), *flags, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["packages"]["a"]["version"] == version and out["violations"] == []


def test_cli_policy_on_lock_overrides_the_scenario(write_scenario, tmp_path: Path) -> None:
    from varsolve.index.builder import build_index

    path = write_scenario(A_PRERELEASE_NAMED + '\n    [resolver_options]\n    policy = "pip"\n')
    build_index(path, tmp_path / "index")
    lock = tmp_path / "pylock.toml"
    proc = run_varsolve(
        "lock", "--scenario", str(path), "--find-links", str(tmp_path / "index" / "files"), "--policy", "uv", "-o", str(lock)
    )
    assert proc.returncode == 0, proc.stderr
    text = lock.read_text(encoding="utf-8")
    assert re.search(r'name = "a"\nversion = "1\.0\.0"', text), text
    assert 'prerelease-policy = "uv"' in text


def test_cli_rejects_unknown_policy(write_scenario) -> None:
    proc = run_varsolve("resolve", "--scenario", str(write_scenario(A_PRERELEASE_NAMED)), "--policy", "conda")
    assert proc.returncode == 2 and "--policy" in proc.stderr


# -- the verifier's side of the rules (independent of the candidates' code) ------------------------


def _pins(versions: dict[str, str]) -> Resolution:
    pins = {name: Pin(_v(v), "", f"{name}-{v}-py3-none-any.whl") for name, v in versions.items()}
    return Resolution("hand-made", satisfiable=True, packages=pins)


def _v(text: str):
    from packaging.version import Version

    return Version(text)


def _problem(path: Path, preset: str):
    problem = load_scenario(path).problem
    return replace(problem, options=problem.options.policy_preset(preset))


def test_verifier_pip_prerelease_rule() -> None:
    exclusion = FIXTURES / "differential" / "pip-exclusion-opts-in-to-nothing.toml"
    found = verify(_problem(exclusion, "pip"), _pins({"a": "2.0.0b2"}))
    assert [v.message for v in found] == [
        "a 2.0.0b2 is a pre-release, but no requirement on a names one and a 1.0.0 satisfies them all"
    ]
    assert verify(_problem(exclusion, "uv"), _pins({"a": "2.0.0b2"})) == []  # uv never forbids one
    upper = FIXTURES / "differential" / "pip-upper-bound-opts-in.toml"
    assert verify(_problem(upper, "pip"), _pins({"a": "2.0.0b2"})) == []


def test_verifier_yanked_rules() -> None:
    local = FIXTURES / "differential" / "uv-yanked-local-version.toml"
    found = verify(_problem(local, "uv"), _pins({"c": "2.0.0+cpu"}))
    assert [v.message for v in found] == ["c 2.0.0+cpu is yanked and no root requirement pins it"]
    assert verify(_problem(local, "pip"), _pins({"c": "2.0.0+cpu"})) == []
    beside = FIXTURES / "differential" / "pip-yanked-beside-local-version.toml"
    found = verify(_problem(beside, "pip"), _pins({"c": "2.0.0"}))
    assert [v.message for v in found] == [
        "c 2.0.0 is yanked and c 2.0.0+cpu, which is not, satisfies every requirement on it"
    ]
    assert verify(_problem(beside, "uv"), _pins({"c": "2.0.0"})) == []
