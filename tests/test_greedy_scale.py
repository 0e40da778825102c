"""The greedy strategies at scale (issue 12): backtrack and pep825 run resolvelib's decisions on
varsolve.strategies.incremental, a linear-time re-implementation of resolvelib 1.2.1's
resolution loop. No wall-clock asserts: growth is measured by counting provider calls and
allocations, and the re-implementation is held to resolvelib's own loop (same answers, same
explanations, same rounds, backtracks and candidates read) on scenarios that backtrack, backjump
optimistically and roll back.

The flat and chain shapes are those of benchmarks/greedy_scale.py.
"""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
import resolvelib
import resolvelib.resolvers.criterion
import resolvelib.resolvers.resolution
import resolvelib.structs
from hypothesis import given, settings

from conftest import FIXTURES, SCENARIOS, examples
from random_scenarios import load as load_random
from random_scenarios import scenario_data
from varsolve.generate import FAMILIES, load
from varsolve.problem import Problem
from varsolve.resolution import Resolution
from varsolve.sources.scenario import iter_scenario_files, load_scenario
from varsolve.strategies import greedy, incremental
from varsolve.verifier import verify

GREEDY = ("backtrack", "pep825")

# sha256 of the resolvelib 1.2.1 modules incremental.py mirrors or builds on. A new resolvelib
# release changes them: read its resolution loop, bring incremental.py in line (or confirm that
# nothing it mirrors changed), then update MIRRORED, these hashes and the pin in pyproject.toml.
MIRRORED_SOURCES = {
    resolvelib.resolvers.resolution: "dc9ff3916fac0f7118f8194d5e3ca59fffe78e9c87e67d146494fab95ec285e0",
    resolvelib.resolvers.criterion: "95c9991afe6c2873a7143fd1cd9c2f9464a3d7d31e03ee6b08ca5d7f64a0c3b6",
    resolvelib.structs: "a6ef84262476201213af649078d3d16b4ad7863952b5f98efc6120021af7d34e",
}


def scenario_toml(shape: str, n: int) -> str:
    """benchmarks/greedy_scale.py's shapes: ``flat`` (the root requires p0..p{n-1}) and ``chain``
    (the root requires a0, a{i} requires a{i+1})."""
    if shape == "flat":
        roots = ", ".join(f'"p{i}"' for i in range(n))
        body = "".join(f'[packages.p{i}.versions]\n"1.0.0" = {{}}\n' for i in range(n))
        return f"[root]\nrequires = [{roots}]\n{body}"
    body = "".join(
        f'[packages.a{i}.versions."1.0.0"]\n' + (f'requires = ["a{i + 1}"]\n' if i + 1 < n else "") for i in range(n)
    )
    return f'[root]\nrequires = ["a0"]\n{body}'


def strategy(name: str, incremental_loop: bool = True) -> greedy._ResolvelibStrategy:
    solver = greedy.Backtrack() if name == "backtrack" else greedy.StatusQuo()
    solver.incremental = incremental_loop
    return solver


# -- the mirrored resolvelib ------------------------------------------------------------------------


def test_resolvelib_is_the_mirrored_release():
    assert resolvelib.__version__ == incremental.MIRRORED, (
        f"resolvelib {resolvelib.__version__} is installed; varsolve.strategies.incremental mirrors "
        f"{incremental.MIRRORED} and is not used on another release (the greedy strategies fall back to "
        "resolvelib's quadratic loop)"
    )
    changed = [
        module.__name__
        for module, digest in MIRRORED_SOURCES.items()
        if hashlib.sha256(Path(module.__file__).read_bytes()).hexdigest() != digest
    ]
    assert not changed, f"resolvelib's internals changed ({', '.join(changed)}): check incremental.py against them"


def test_the_greedy_strategies_run_on_the_incremental_loop(monkeypatch):
    used = []
    original = incremental.IncrementalResolution.resolve

    def spy(self, requirements, max_rounds):
        used.append(type(self._p).__name__)
        return original(self, requirements, max_rounds)

    monkeypatch.setattr(incremental.IncrementalResolution, "resolve", spy)
    problem = load(scenario_toml("chain", 3)).problem
    for name in GREEDY:
        assert greedy.Backtrack.incremental and greedy.StatusQuo.incremental
        assert strategy(name).solve(problem).satisfiable
    assert used == ["_Provider", "_Provider"]


def test_a_provider_that_narrows_is_left_to_resolvelib():
    class Narrowing(resolvelib.AbstractProvider):
        def narrow_requirement_selection(self, identifiers, resolutions, candidates, information, backtrack_causes):
            return identifiers

    assert not incremental.supports(Narrowing())
    assert incremental.supports(resolvelib.AbstractProvider())


# -- growth, counted ----------------------------------------------------------------------------------

COUNTED = ("is_satisfied_by", "get_preference", "find_matches", "get_dependencies", "identify")


def provider_calls(monkeypatch: pytest.MonkeyPatch, problem: Problem, name: str, incremental_loop: bool = True) -> Counter:
    calls: Counter = Counter()
    with monkeypatch.context() as m:
        for method in COUNTED:
            original = getattr(greedy._Provider, method)

            def counting(self, *args, __original=original, __method=method, **kwargs):
                calls[__method] += 1
                return __original(self, *args, **kwargs)

            m.setattr(greedy._Provider, method, counting)
        resolution = strategy(name, incremental_loop).solve(problem)
    assert resolution.satisfiable
    calls["total"] = sum(calls.values())
    return calls


@pytest.mark.parametrize("shape", ["flat", "chain"])
@pytest.mark.parametrize("name", GREEDY)
def test_provider_calls_grow_linearly(monkeypatch, shape: str, name: str):
    small = provider_calls(monkeypatch, load(scenario_toml(shape, 500)).problem, name)
    large = provider_calls(monkeypatch, load(scenario_toml(shape, 1000)).problem, name)
    for method in (*COUNTED, "total"):
        # Twice the packages, twice the calls (give or take the root); quadratic would be 4x.
        assert large[method] <= 2.1 * small[method] + 10, (method, small[method], large[method])
    # And few per package: resolvelib's loop asks is_satisfied_by ~n²/2 times.
    assert large["is_satisfied_by"] <= 5 * 1000
    assert large["get_preference"] <= 2 * 1000


def test_the_count_catches_resolvelibs_own_loop(monkeypatch):
    """The measure above is sharp: resolvelib's loop (what the strategies ran before) fails it."""
    small = provider_calls(monkeypatch, load(scenario_toml("flat", 100)).problem, "backtrack", incremental_loop=False)
    large = provider_calls(monkeypatch, load(scenario_toml("flat", 200)).problem, "backtrack", incremental_loop=False)
    assert large["is_satisfied_by"] > 3.5 * small["is_satisfied_by"]
    assert large["get_preference"] > 3.5 * small["get_preference"]


@pytest.mark.parametrize("shape", ["flat", "chain"])
def test_memory_grows_linearly(shape: str):
    """resolvelib's loop keeps a copy of every pin and criterion per round: O(n²) memory."""
    peaks = []
    for n in (500, 1000):
        problem = load(scenario_toml(shape, n)).problem
        tracemalloc.start()
        try:
            assert strategy("backtrack").solve(problem).satisfiable
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] < 2.6 * peaks[0], peaks


def test_10k_flat_resolution_verifies():
    n = 10_000
    scenario = load(scenario_toml("flat", n))
    resolution = strategy("backtrack").solve(scenario.problem)
    assert resolution.satisfiable and len(resolution.packages) == n
    assert resolution.stats["rounds"] == n + 1 and resolution.stats["backtracks"] == 0
    assert verify(scenario.problem, resolution) == []


def test_2k_chain_resolution_verifies():
    n = 2_000
    scenario = load(scenario_toml("chain", n))
    resolution = strategy("pep825").solve(scenario.problem)
    assert resolution.satisfiable and len(resolution.packages) == n
    assert len(resolution.graph) == n
    assert verify(scenario.problem, resolution) == []


# -- the same decisions as resolvelib's loop -------------------------------------------------------------


def outcome(resolution: Resolution) -> tuple[str, dict]:
    data = resolution.to_dict()
    data.pop("stats", None)
    stats = {k: v for k, v in resolution.stats.items() if k != "seconds"}
    return json.dumps(data, sort_keys=True, default=str), stats


def assert_same_as_resolvelib(problem: Problem) -> None:
    for name in GREEDY:
        mirrored = outcome(strategy(name, True).solve(problem))
        original = outcome(strategy(name, False).solve(problem))
        assert mirrored == original, name


FILES = iter_scenario_files([SCENARIOS, FIXTURES / "differential"])


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_same_decisions_as_resolvelib_on_the_bundled_scenarios(path: Path):
    assert_same_as_resolvelib(load_scenario(path).problem)


# Generated scenarios that backtrack, backjump optimistically and roll back (adversarial seed 5),
# re-pin a package whose pin a later requirement invalidated (layered), and fail to patch a state.
GENERATED = [
    *(("adversarial", {"seed": s, "variables": 8}) for s in (0, 2, 5, 6, 7)),
    *(("adversarial", {"seed": s, "variables": 8, "mode": "versions"}) for s in (0, 5, 7, 9)),
    *(("layered", {"seed": s, "packages": 40}) for s in (0, 4, 6, 7, 8)),
    *(("ecosystem", {"seed": s}) for s in (0, 2, 7)),
]


@pytest.mark.parametrize(("family", "knobs"), GENERATED, ids=[f"{f}-{json.dumps(k)}" for f, k in GENERATED])
def test_same_decisions_as_resolvelib_on_generated_scenarios(family: str, knobs: dict):
    assert_same_as_resolvelib(load(FAMILIES[family](**knobs)).problem)


def test_the_generated_scenarios_take_every_path_of_the_loop(monkeypatch):
    """What the scenarios above exercise, so that a change of generators does not quietly make
    the comparison weaker."""
    seen: Counter = Counter()
    loop = incremental.IncrementalResolution

    def spying(method, event, when=lambda self, *a: True, after=None):
        original = getattr(loop, method)

        def spy(self, *args):
            if when(self, *args):
                seen[event] += 1
            out = original(self, *args)
            if after is not None and after(out):
                seen[after.__name__] += 1
            return out

        monkeypatch.setattr(loop, method, spy)

    def patch_failed(ok):
        return not ok

    spying("_save_state", "optimistic backjump", lambda self: self._save_states is None)
    spying("_rollback_states", "rollback", lambda self: self._save_states is not None)
    spying("_pin", "re-pin", lambda self, key, candidate: key in self.pins)
    spying("_remove_information_from_criteria", "information removed", lambda self, parents: bool(parents))
    spying("_patch_criteria", "patch", after=patch_failed)
    for family, knobs in GENERATED:
        problem = load(FAMILIES[family](**knobs)).problem
        for name in GREEDY:
            strategy(name).solve(problem)
    for event in ("optimistic backjump", "rollback", "re-pin", "information removed", "patch", "patch_failed"):
        assert seen[event] > 0, (event, seen)


@settings(max_examples=examples(60))
@given(scenario_data())
def test_same_decisions_as_resolvelib_on_random_scenarios(data):
    assert_same_as_resolvelib(load_random(data).problem)
