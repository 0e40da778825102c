"""``varsolve generate``'s knobs for universal resolution (varsolve.generate.universal):
marker-split dependencies, raised Requires-Python, universal scenarios."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from test_compare_generate import assert_generate_rejects
from varsolve.cli import main
from varsolve.generate import ecosystem, layered, load
from varsolve.marker_algebra import MarkerSet
from varsolve.scenario_check import check_scenario
from varsolve.strategies import COMPLETE

GENERATORS: dict[str, Callable[..., str]] = {"layered": layered.generate, "ecosystem": ecosystem.generate}
SMALL: dict[str, dict[str, Any]] = {"layered": {"packages": 30, "versions": 4, "roots": 4}, "ecosystem": {"leaves": 15, "versions": 4}}
# The knobs off: the bytes the families wrote before the knobs existed (commit ce46ad9).
# A deliberate change to a family's output updates these; an accidental one fails here.
BEFORE: dict[str, tuple[dict[str, Any], str]] = {
    "layered": ({"seed": 3, "packages": 40, "versions": 5}, "bba6172ef20e7cd0299aa71f4a99ac8a567c5ed628f22e4847b8f243b49451a1"),
    "ecosystem": ({"seed": 3, "leaves": 15}, "70ef383445c451400aadafaec27b8aafaf3de56c6f50a53c73505333f2c9821c"),
    "ecosystem-cpu": (
        {"seed": 5, "leaves": 10, "gpu": False, "unify": False},
        "5c5d48fd8caf9555daa1389fb0919a43d2569c3dc11380df326ff9cc9525a3e3",
    ),
}


@pytest.mark.parametrize("case", sorted(BEFORE))
def test_knobs_off_write_the_same_bytes_as_before(case: str) -> None:
    kwargs, digest = BEFORE[case]
    generate = GENERATORS[case.split("-")[0]]
    text = generate(**kwargs)
    assert hashlib.sha256(text.encode()).hexdigest() == digest
    assert generate(**kwargs, marker_split=0.0, python_bumps=0.0, universal=False) == text
    assert "python_version" not in text and "universal" not in text and "requires_python" not in text


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_same_seed_same_bytes(family: str, tmp_path: Path) -> None:
    generate = GENERATORS[family]
    knobs = {**SMALL[family], "marker_split": 0.4, "python_bumps": 0.3, "universal": True}
    assert generate(seed=2, **knobs) == generate(seed=2, **knobs)
    assert generate(seed=2, **knobs) != generate(seed=3, **knobs)
    args = ["-q", "generate", family, *(f"{k}={v}" for k, v in SMALL[family].items()),
            "--marker-split", "0.4", "python_bumps=0.3", "--universal", "--seed", "2"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    (a,) = (tmp_path / "a").iterdir()
    assert a.name.endswith("-markersplit0.4-universaltrue-seed2.toml")
    assert a.read_bytes() == (tmp_path / "b" / a.name).read_bytes()
    assert a.read_text() == generate(seed=2, **knobs)


def _releases(text: str) -> dict[tuple[str, str], dict[str, Any]]:
    load(text)  # the loader accepts it
    return {
        (name, version): info
        for name, package in tomllib.loads(text)["packages"].items()
        for version, info in package["versions"].items()
    }


def _requires(text: str) -> dict[tuple[str, str], list[tuple[Requirement, str]]]:
    """Per release: (name and specifier, marker text) of each requirement (packaging cannot
    read variant markers, so the marker stays text)."""
    out = {}
    for key, info in _releases(text).items():
        out[key] = [(Requirement(r.partition(";")[0]), r.partition(";")[2].strip()) for r in info.get("requires", [])]
    return out


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_marker_split_keeps_the_graph_and_splits_under_disjoint_covering_markers(family: str) -> None:
    base = {**SMALL[family], **({"variant_dependencies": 0.0} if family == "layered" else {})}
    plain = _requires(GENERATORS[family](seed=1, **base))
    split = _requires(GENERATORS[family](seed=1, **base, marker_split=1.0))
    assert plain.keys() == split.keys()
    kinds = set()
    for key, requirements in split.items():
        groups: dict[str, list[tuple[Requirement, str]]] = defaultdict(list)
        for r, marker in requirements:
            if "variant_properties" not in marker:
                groups[r.name].append((r, marker))
        # The same dependencies (names), only written differently.
        assert set(groups) == {r.name for r, m in plain[key] if "variant_properties" not in m}, key
        for group in groups.values():
            markers = [m for _, m in group if m]
            if len(group) == 1:
                continue
            assert len(group) in (2, 3) and len(markers) == len(group), (key, group)
            parts = [MarkerSet.parse(m) for m in markers]
            for i, a in enumerate(parts):
                for b in parts[i + 1:]:
                    assert a.disjoint(b), (key, markers)
            union = parts[0]
            for p in parts[1:]:
                union = union | p
            assert union.is_universe(), (key, markers)
            kinds.add("python" if "python_version" in markers[0] else "platform")
            if "python_version" in markers[0]:
                lows = [min(Version(s.version) for s in r.specifier if s.operator == ">=") for r, _ in group]
                assert lows == sorted(lows), (key, group)  # newer Pythons, newer releases
    assert kinds == {"python", "platform"}
    # Every release after the first has its dependencies split; the first releases never.
    firsts = {k for k in split if not any(n == k[0] and Version(v) < Version(k[1]) for n, v in split)}
    assert all(len(split[k]) == len(plain[k]) for k in firsts)
    assert sum(len(split[k]) for k in split) > sum(len(plain[k]) for k in plain)


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_python_bumps_raise_requires_python_monotonically(family: str) -> None:
    text = GENERATORS[family](seed=4, **SMALL[family], python_bumps=0.5)
    per_package: dict[str, list[tuple[Version, Version]]] = defaultdict(list)
    for (name, version), info in _releases(text).items():
        (clause,) = SpecifierSet(info["requires_python"])
        assert clause.operator == ">="
        per_package[name].append((Version(version), Version(clause.version)))
    raised = 0
    for name, releases in per_package.items():
        floors = [floor for _, floor in sorted(releases)]
        assert floors[0] == Version("3.10") and floors == sorted(floors), (name, floors)
        raised += floors[-1] > floors[0]
    assert raised > 0
    assert "universal" not in text


@pytest.mark.parametrize("family", sorted(GENERATORS))
def test_universal_marks_the_scenario(family: str) -> None:
    scenario = load(GENERATORS[family](seed=0, **SMALL[family], universal=True))
    assert scenario.universal and scenario.requires_python == ">=3.10"
    assert scenario.name.endswith("-universal")
    # Without python_bumps every release needs only Python 3.10.
    text = GENERATORS[family](seed=0, **SMALL[family], universal=True)
    assert {info["requires_python"] for info in _releases(text).values()} == {">=3.10"}


CASES = [
    ("layered", seed, {**SMALL["layered"], "marker_split": 0.3, "python_bumps": 0.3}) for seed in range(4)
] + [
    ("layered", 7, {"packages": 45, "versions": 5, "roots": 5, "marker_split": 0.5, "python_bumps": 0.2, "unified": 2}),
    ("layered", 8, {**SMALL["layered"], "marker_split": 0.4, "python_bumps": 0.0}),
] + [
    ("ecosystem", seed, {**SMALL["ecosystem"], "marker_split": 0.3, "python_bumps": 0.3}) for seed in range(4)
] + [
    ("ecosystem", 9, {"leaves": 30, "versions": 5, "density": 2.0, "marker_split": 0.5, "python_bumps": 0.2, "gpu": False}),
]


@pytest.mark.parametrize(("family", "seed", "knobs"), CASES, ids=[f"{f}-{s}" for f, s, _ in CASES])
@pytest.mark.parametrize("strategy", ["backtrack", "sat", "pep825"])
def test_generated_universal_scenarios_check_clean(family: str, seed: int, knobs: dict[str, Any], strategy: str) -> None:
    """Satisfiable in every environment, and every environment of every fork passes the
    verifier. The status quo (pep825) does not unify variants: it may mix BLAS or CUDA builds
    (the families' point), but breaks no other rule."""
    text = GENERATORS[family](seed=seed, **knobs, universal=True)
    scenario = load(text, f"{family}-{seed}")
    result = check_scenario(scenario, strategy, strategy in COMPLETE)
    universal = result.universal
    assert universal is not None and universal.satisfiable
    if strategy in COMPLETE:
        assert result.status == "pass" and not universal.violations, result.problems
    else:
        assert all(v.kind == "unify" for _, _, v in universal.violations), result.problems
    assert not universal.gaps


@pytest.mark.parametrize("strategy", ["backtrack", "sat", "pep825"])
def test_without_unify_every_strategy_checks_clean_and_forks(strategy: str) -> None:
    forks = []
    for family, knobs in (("layered", {**SMALL["layered"], "unified": 0}), ("ecosystem", {**SMALL["ecosystem"], "unify": False})):
        for seed in range(3):
            text = GENERATORS[family](seed=seed, **knobs, marker_split=0.4, python_bumps=0.3, universal=True)
            result = check_scenario(load(text), strategy, strategy in COMPLETE)
            assert result.status == "pass", (family, seed, result.problems)
            assert result.universal is not None and not result.universal.violations
            forks.append(len(result.universal.forks))
    assert max(forks) > 1  # the markers and Requires-Python bounds do split the universe


def test_scenario_check_command_over_generated_universal_scenarios(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert main(["-q", "generate", "layered", "packages=25", "versions=4", "unified=0",
                 "--marker-split", "0.4", "python-bumps=0.3", "--universal", "--seed", "0..1", "--out", str(out)]) == 0
    assert main(["-q", "generate", "ecosystem", "leaves=12", "unify=false",
                 "--marker-split", "0.4", "python-bumps=0.3", "--universal", "--seed", "0..1", "--out", str(out)]) == 0
    result = subprocess.run(
        [sys.executable, "-m", "varsolve.cli", "-q", "scenario", "check", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 passed, 0 failed" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["layered", "marker_split=1.5"], "layered: marker_split: must be a number from 0 to 1, got 1.5"),
        (["ecosystem", "python_bumps=-0.1"], "ecosystem: python_bumps: must be a number from 0 to 1, got -0.1"),
        (["ecosystem", "universal=perhaps"], "ecosystem: universal: expected true or false, got 'perhaps'"),
        (["adversarial", "--universal"], "adversarial: unknown knob 'universal'"),
        (["adversarial", "--marker-split", "0.2"], "adversarial: unknown knob 'marker_split'"),
    ],
)
def test_bad_knob_values_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    assert_generate_rejects(tmp_path, args, message)
