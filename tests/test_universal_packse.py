"""packse 0.3.59's 41 universal scenarios: every strategy resolves each for every environment
(verified in each), satisfiability agrees with the scenario's expectation, and in every
environment the scenario's markers tell apart the installed (name, version) set equals what
``uv lock`` 0.13.9 installs there, from an index built from the same scenario and served on
loopback (tests/uv_universal.py).

Disagreements that remain, each explained in docs/benchmarks.md ("Universal: packse"):

* ``preferences-dependent-forking-conflicting``: packse expects no solution, but its text says that
  outcome needs the preferences of an earlier lock; ``uv lock`` locks it from scratch, as we do.
* ``wrong-backtracking-indirect`` with ``backtrack`` and ``pep825``: we install packse's intended
  answer (a 1.0.0, b-inner 2.0.9, in the scenario's comment); uv backtracks to b-inner 1.0.0
  (astral-sh/uv#12060, the TODO in the scenario). ``sat``'s optimum is uv's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index_helpers import uv
from packse_data import PackseUnavailable, packse_scenarios_dir
from uv_universal import UvUniversalResult, uv_universal_for_scenario
from varsolve.marker_algebra import MarkerSet, representative_environments
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import get_strategy
from varsolve.universal.driver import resolve_universal
from varsolve.universal.result import UniversalResolution

STRATEGIES = ("pep825", "backtrack", "sat")
# packse expects unsatisfiable; uv (and varsolve) lock it: see the module docstring.
UV_OVER_PACKSE = {"preferences-dependent-forking-conflicting"}
# (scenario, strategy) where varsolve keeps packse's intended answer over uv's.
INTENDED_OVER_UV = {("wrong-backtracking-indirect", "backtrack"), ("wrong-backtracking-indirect", "pep825")}


def _universal_files() -> list[Path]:
    try:
        root = packse_scenarios_dir()
    except PackseUnavailable:
        return []
    return sorted(p for p in root.rglob("*.toml") if "universal = true" in p.read_text(encoding="utf-8"))


FILES = _universal_files()



def test_the_41_universal_scenarios_are_there() -> None:
    if not FILES:
        pytest.skip("packse scenarios unavailable")
    assert len(FILES) == 41


def per_environment_differences(ours: UniversalResolution, theirs: UvUniversalResult) -> list[str]:
    """Environments (one per cell the markers of both answers tell apart, inside
    requires-python) where the installed sets differ."""
    within = MarkerSet.python_range(ours.requires_python)
    sets = [MarkerSet.parse(m) for _, _, m in theirs.entries if m]
    sets += [entry.marker for entry in ours.entries()] + [fork.region for fork in ours.forks]
    out = []
    for env in representative_environments(sets, within=within):
        mine = {(name, str(pin.version)) for name, pin in ours.packages_for(env).items()}
        uvs = set(theirs.packages_for(env))
        if mine != uvs:
            out.append(
                f"Python {env['python_full_version']} {env['sys_platform']} {env['platform_machine']}"
                f" {env['implementation_name']}: varsolve-only {sorted(mine - uvs)}, uv-only {sorted(uvs - mine)}"
            )
    return out


@pytest.mark.skipif(uv() is None, reason="uv is not installed")
@pytest.mark.network
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_universal_scenario_agrees_with_expectation_and_uv_lock(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    theirs = uv_universal_for_scenario(path, tmp_path)
    for strategy in STRATEGIES:
        ours = resolve_universal(
            scenario.problem, get_strategy(strategy),
            requires_python=scenario.requires_python, environments=scenario.environments,
        )
        assert ours.violations == (), (strategy, ours.violations)
        outcome = scenario.expected.for_strategy(strategy, True)
        expected = outcome.satisfiable if outcome is not None else True
        if scenario.name in UV_OVER_PACKSE:
            assert expected is False and ours.satisfiable and theirs.satisfiable
        else:
            assert ours.satisfiable == expected, (strategy, ours.to_text())
        assert ours.satisfiable == theirs.satisfiable, (strategy, theirs.message)
        if not ours.satisfiable:
            assert ours.explanation is not None and ours.explanation.text.strip()
            continue
        differences = per_environment_differences(ours, theirs)
        if (scenario.name, strategy) in INTENDED_OVER_UV:
            assert differences, "uv#12060 is fixed: drop the exception"
            chosen = {(n, str(p.version)) for n, p in ours.forks[0].resolution.packages.items()}
            assert {("a", "1.0.0"), ("b-inner", "2.0.9")} <= chosen
        else:
            assert differences == [], (strategy, ours.to_text(), theirs.entries)
