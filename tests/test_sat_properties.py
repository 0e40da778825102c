"""Properties of the ``sat`` strategy on small random problems (issue 3, "Proof that it works").

On every drawn problem: ``sat`` is satisfiable exactly when an exhaustive search over all
assignments of candidates says so (each assignment judged by the independent verifier), its
answer passes the verifier, its objective equals the exhaustive optimum, is never worse than
``backtrack``'s, and the lazy, eager and automatic readings agree; with the ``newest``
objective, its objective equals the exhaustive optimum of that objective too.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from conftest import examples
from varsolve.api import solve
from varsolve.candidates import CandidateFinder
from varsolve.generate.toml import dumps
from varsolve.objective import Objective, objective_vector, package_depths
from varsolve.problem import Problem
from varsolve.resolution import Pin, Resolution
from varsolve.sources.scenario import load_scenario
from varsolve.strategies.sat import SatStrategy
from varsolve.verifier import verify

try:  # the shared hypothesis strategy, when another engineer's module is there
    import random_scenarios  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the tree
    random_scenarios = None

NAMES = ["a", "b", "c", "d"]
VERSIONS = ["1.0", "2.0", "3.0", "3.1rc1"]
FEATURE = "blas :: lib"
LABELS = {
    "mkl": [f"{FEATURE} :: mkl"],
    "openblas": [f"{FEATURE} :: openblas"],
    "fat": [f"{FEATURE} :: mkl", f"{FEATURE} :: openblas"],
    "accel": [f"{FEATURE} :: accelerate"],  # never supported by the target
    "null": [],
}
SPECS = ["", ">=2", "<2", "==1.0", "!=2.0", ">=3.1rc1", "==3.0"]
MARKERS = ["", f"; '{FEATURE} :: mkl' in variant_properties", '; variant_label == "openblas"', '; variant_label == ""']
MAX_ASSIGNMENTS = 3000


@st.composite
def small_scenarios(draw) -> dict:
    names = NAMES[: draw(st.integers(2, 4))]
    packages: dict = {}
    for name in names:
        versions = draw(st.lists(st.sampled_from(VERSIONS), min_size=1, max_size=3, unique=True))
        releases: dict = {}
        for version in versions:
            info: dict = {}
            labels = draw(st.lists(st.sampled_from(sorted(LABELS)), max_size=3, unique=True))
            if labels:
                info["variants"] = {label: LABELS[label] for label in labels}
                info["wheel"] = draw(st.booleans())
            info["sdist"] = draw(st.booleans())
            if draw(st.integers(0, 9)) == 0:
                info["yanked"] = True
            others = [n for n in names if n != name]
            deps = draw(st.lists(st.tuples(st.sampled_from(others), st.sampled_from(SPECS), st.sampled_from(MARKERS)), max_size=2))
            if deps:
                info["requires"] = [f"{n}{spec}{marker}" for n, spec, marker in deps]
            releases[version] = info
        packages[name] = {"versions": releases}
    roots = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(SPECS)), min_size=1, max_size=2))
    supported = draw(st.sampled_from([["mkl", "openblas"], ["openblas", "mkl"], ["openblas"]]))
    options: dict = {}
    if draw(st.booleans()):
        options["unify"] = [FEATURE]
    options["yanked"] = draw(st.sampled_from(["packse", "pip", "never"]))
    # Only packse's pre-release policy: the verifier does not check pip's (PEP 440 on the
    # merged requirements), so the exhaustive search could not judge it.
    options["prerelease_policy"] = "packse"
    return {
        "name": "random",
        "root": {"requires": [f"{n}{spec}" for n, spec in roots]},
        "environment": {"variants": {FEATURE: supported}},
        "resolver_options": options,
        "packages": packages,
        "expected": {},
    }


def load(data: dict) -> Problem:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.toml"
        path.write_text(dumps(data), encoding="utf-8")
        return load_scenario(path).problem


def exhaustive(problem: Problem) -> tuple[int, Objective | None, Objective | None]:
    """(number of valid assignments, best default objective, best ``newest`` objective) over
    every choice of at most one candidate per package; validity is the independent verifier's."""
    finder = CandidateFinder(problem)
    depths = package_depths(problem, CandidateFinder(problem))
    names = problem.repository.names()
    choices = [[None, *finder.candidates(n)] for n in names]
    valid, best, best_newest = 0, None, None
    for combo in itertools.product(*choices):
        pins = {c.name: Pin(c.version, c.label, c.file.filename) for c in combo if c is not None}
        resolution = Resolution("exhaustive", True, pins)
        if verify(problem, resolution):
            continue
        valid += 1
        vector = objective_vector(problem, resolution, finder)
        best = vector if best is None or (vector is not None and vector < best) else best
        newest = objective_vector(problem, resolution, finder, "newest", depths)
        best_newest = newest if best_newest is None or (newest is not None and newest < best_newest) else best_newest
    return valid, best, best_newest


def assignments(problem: Problem) -> int:
    finder = CandidateFinder(problem)
    total = 1
    for name in problem.repository.names():
        total *= 1 + len(finder.candidates(name))
    return total


def check_problem(problem: Problem) -> None:
    sat = solve(problem, "sat")
    assert sat.violations == (), sat.violations
    valid, best, best_newest = exhaustive(problem)
    event("satisfiable" if valid else "unsatisfiable")
    assert sat.satisfiable == (valid > 0), sat.explanation
    newest = solve(problem, SatStrategy(objective="newest"))
    assert newest.violations == () and newest.satisfiable == sat.satisfiable
    if not sat.satisfiable:
        assert sat.explanation and newest.explanation
        return
    vector = tuple(sat.stats["objective"])
    assert vector == objective_vector(problem, sat)
    assert vector == best, (vector, best, sat.to_text())
    for reading in (False, True):  # eager, and lazy without ever switching
        other = SatStrategy(lazy=reading).solve(problem)
        assert other.satisfiable and tuple(other.stats["objective"]) == vector
    newest_vector = tuple(newest.stats["objective"])
    assert newest_vector == objective_vector(problem, newest, objective="newest") == best_newest, newest.to_text()
    assert newest.stats["objective_name"] == "newest" and sat.stats["objective_name"] == "default"
    backtrack = solve(problem, "backtrack")
    if backtrack.satisfiable and not backtrack.violations:
        greedy = objective_vector(problem, backtrack)
        event("backtrack not optimal" if vector < greedy else "backtrack optimal")
        assert vector <= greedy


# Drawn in under 1% of the examples, so always run: the lexicographic objective prefers b's sdist
# without a (no dependency below its newest version) to the fat wheel, whose marker pulls in a
# 1.0 (2.0 is yanked); backtrack takes the wheel first.
BACKTRACK_NOT_OPTIMAL = {
    "name": "random",
    "root": {"requires": ["b"]},
    "environment": {"variants": {FEATURE: ["mkl", "openblas"]}},
    "resolver_options": {"yanked": "packse", "prerelease_policy": "packse"},
    "packages": {
        "a": {"versions": {"1.0": {"sdist": False}, "2.0": {"sdist": False, "yanked": True}}},
        "b": {
            "versions": {
                "1.0": {
                    "variants": {"accel": LABELS["accel"], "fat": LABELS["fat"]},
                    "wheel": False,
                    "sdist": True,
                    "requires": [f"a; '{FEATURE} :: mkl' in variant_properties"],
                },
                "2.0": {"sdist": False, "yanked": True},
                "3.0": {"sdist": False, "yanked": True},
            }
        },
    },
    "expected": {},
}


@settings(
    max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(small_scenarios())
@example(BACKTRACK_NOT_OPTIMAL)
def test_sat_agrees_with_exhaustive_search(data: dict) -> None:
    problem = load(data)
    if assignments(problem) > MAX_ASSIGNMENTS:
        event("too many assignments for the exhaustive search")
        return
    check_problem(problem)


@pytest.mark.skipif(random_scenarios is None, reason="tests/random_scenarios.py is not there yet")
@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_scenarios.scenario_data() if random_scenarios else st.nothing())
def test_sat_on_the_shared_random_scenarios(data: dict) -> None:
    """The shared strategy draws richer problems (several features, abi_dependency, optional
    providers, other platforms); its reference search walks every file, not only candidates."""
    problem = random_scenarios.load(data).problem
    sat = solve(problem, "sat")
    assert sat.violations == (), sat.violations
    assert sat.satisfiable == (random_scenarios.search_all(problem) is not None), sat.explanation
    event("satisfiable" if sat.satisfiable else "unsatisfiable")
    if sat.satisfiable and assignments(problem) <= MAX_ASSIGNMENTS:
        check_problem(problem)
