"""``scenario check``: run scenarios with strategies and compare with their expectations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from .expectations import Outcome
from .resolution import Resolution
from .sources.scenario import Scenario

if TYPE_CHECKING:
    from .universal.result import UniversalResolution


@dataclass
class CheckResult:
    scenario: str
    path: str
    strategy: str
    status: str  # "pass", "fail", "skip"
    problems: list[str] = field(default_factory=list)
    resolution: Resolution | None = None
    universal: UniversalResolution | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "path": self.path,
            "strategy": self.strategy,
            "status": self.status,
            "problems": self.problems,
            "resolution": self.resolution.to_dict() if self.resolution else (
                self.universal.to_dict() if self.universal else None
            ),
        }


def compare(outcome: Outcome, resolution: Resolution, complete: bool) -> list[str]:
    """Differences between an expected outcome and a verified resolution."""
    problems: list[str] = []
    # Violations other than unify are never acceptable; unify ones only where expected.
    for v in resolution.violations:
        if v.kind != "unify" or complete:
            if not (v.kind == "unify" and outcome.consistent is False):
                problems.append(f"verifier: {v}")
    if outcome.satisfiable is not None and outcome.satisfiable != resolution.satisfiable:
        problems.append(
            f"expected {'satisfiable' if outcome.satisfiable else 'unsatisfiable'}, got "
            f"{'satisfiable' if resolution.satisfiable else 'unsatisfiable'}"
            + ("" if resolution.satisfiable else f" ({_first_line(resolution)})")
        )
        return problems
    if outcome.consistent is not None and outcome.consistent != resolution.consistent:
        problems.append(f"expected consistent={str(outcome.consistent).lower()}, got {str(resolution.consistent).lower()}")
    if resolution.satisfiable:
        for name, version in sorted((outcome.packages or {}).items()):
            pin = resolution.packages.get(name)
            if pin is None:
                problems.append(f"expected {name} {version}, not in the resolution")
            elif not _same_version(pin.version, version):
                problems.append(f"expected {name} {version}, got {pin.version}")
        if outcome.packages is not None:
            # `packages` lists the whole resolution (as packse's does): nothing else may be in it.
            for name in sorted(set(resolution.packages) - set(outcome.packages)):
                problems.append(f"unexpected {name} {resolution.packages[name].version} in the resolution")
        for name, label in sorted((outcome.variants or {}).items()):
            pin = resolution.packages.get(name)
            # The scenario format writes "" for a non-variant wheel and for an sdist alike.
            got = None if pin is None else (pin.variant or "")
            if got != label:
                problems.append(f"expected {name} variant {label!r}, got {got!r}")
    else:
        text = resolution.explanation.text if resolution.explanation is not None else ""
        for needle in outcome.explanation_contains:
            if needle not in text:
                problems.append(f"explanation lacks {needle!r}: {text!r}")
    return problems


def _first_line(resolution: Resolution) -> str:
    steps = resolution.explanation.steps if resolution.explanation is not None else ()
    return steps[0].text if steps else ""


def _same_version(version: Version, expected: str) -> bool:
    try:
        # packse writes some local versions without their local part
        return version == Version(expected) or version.public == expected
    except InvalidVersion:
        return str(version) == expected


def check_scenario(scenario: Scenario, strategy: str, complete: bool) -> CheckResult:
    from .pipeline import solve
    from .strategies import get_strategy

    result = CheckResult(scenario.name, str(scenario.path), strategy, "pass")
    if scenario.universal:
        return check_universal(scenario, strategy, result)
    outcome = scenario.expected.for_strategy(strategy, complete)
    resolution = solve(scenario.problem, get_strategy(strategy))
    result.resolution = resolution
    if outcome is None:
        # The status quo without [expected.pep825]: only the verifier's rules apply.
        outcome = Outcome()
    result.problems = compare(outcome, resolution, complete)
    result.status = "fail" if result.problems else "pass"
    return result


def check_universal(scenario: Scenario, strategy: str, result: CheckResult) -> CheckResult:
    """A universal scenario: satisfiability as expected, and every environment of every fork
    passes the verifier (:mod:`varsolve.universal.verify`)."""
    from .strategies import COMPLETE, get_strategy
    from .universal.driver import resolve_universal

    universal = resolve_universal(
        scenario.problem, get_strategy(strategy), requires_python=scenario.requires_python,
        environments=scenario.environments, targets=scenario.targets,
        requires_python_key=f"{scenario.path}: root.requires_python",
        environments_key=f"{scenario.path}: resolver_options.required_environments",
    )
    result.universal = universal
    expected = scenario.expected.for_strategy(strategy, strategy in COMPLETE)
    if strategy in COMPLETE and universal.satisfiable:
        result.problems += compare_environments(scenario, universal)
    for fork, env, violation in universal.violations:
        if violation.kind != "unify" or not (expected is not None and expected.consistent is False):
            result.problems.append(f"verifier (fork {fork}, {env}): {violation}")
    if expected is not None and expected.satisfiable is not None and expected.satisfiable != universal.satisfiable:
        got = "satisfiable" if universal.satisfiable else "unsatisfiable"
        result.problems.append(f"expected {'satisfiable' if expected.satisfiable else 'unsatisfiable'}, got {got}")
    result.status = "fail" if result.problems else "pass"
    return result


def compare_environments(scenario: Scenario, universal: UniversalResolution) -> list[str]:
    """``[[expected.environments]]``: exactly these packages (and labels) in each environment."""
    from .target import Target

    problems = []
    names = {name for name, _ in scenario.targets}
    for want in scenario.expected.environments:
        where = f"Python {want.python} on {want.platform}" + (f", target {want.target}" if want.target else "")
        if want.target is not None and want.target not in names:
            problems.append(f"{where}: no variant target {want.target!r} in [environment.targets]")
            continue
        env = Target.make(want.python, want.platform).marker_environment()
        got = universal.packages_for(env, want.target)
        versions = {name: str(pin.version) for name, pin in got.items()}
        expected = {name: version for name, version in want.packages.items()}
        for name in sorted(set(versions) | set(expected)):
            if name not in versions:
                problems.append(f"{where}: expected {name} {expected[name]}, not installed")
            elif name not in expected:
                problems.append(f"{where}: unexpected {name} {versions[name]}")
            elif not _same_version(got[name].version, expected[name]):
                problems.append(f"{where}: expected {name} {expected[name]}, got {versions[name]}")
        for name, label in sorted(want.variants.items()):
            pin = got.get(name)
            if pin is not None and (pin.variant or "") != label:
                problems.append(f"{where}: expected {name} variant {label!r}, got {pin.variant or ''!r}")
    return problems


def run_checks(paths: list[str | Path], strategies: list[str], strict: bool | None = None) -> list[CheckResult]:
    from .sources.scenario import iter_scenario_files, load_scenario
    from .strategies import COMPLETE

    results = []
    for file in iter_scenario_files(list(paths)):
        scenario = load_scenario(file, strict=strict)
        for strategy in strategies:
            results.append(check_scenario(scenario, strategy, strategy in COMPLETE))
    return results
