"""One unit of a sweep: a scenario x strategy x target, run in a worker process (or on Dask).

A task carries the scenario's and the target's text rather than their paths, so a remote worker
needs no shared file system, only varsolve installed. The worker returns a :class:`Row` of plain
data; a strategy that crashes or runs out of time gives a row with ``status`` "error" or
"timeout" instead of ending the sweep.
"""

from __future__ import annotations

import functools
import signal
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..problem import Problem
from ..resolution import Resolution
from ..sources.scenario import Scenario

if TYPE_CHECKING:
    from ..strategies import Strategy
    from ..target_file import TargetFile

# Counters a strategy may report in ``resolution.stats``; missing ones stay None.
COUNTERS = ("backtracks", "rounds", "sat_calls", "candidates")
MEMORY_MODES = ("tracemalloc", "rss", "off")
TRACED_SLOWDOWN = 3


@dataclass(frozen=True)
class Task:
    index: int
    scenario_path: str
    scenario_text: str
    strategy: str
    target_path: str | None = None
    target_text: str | None = None
    memory: str = "tracemalloc"
    timeout: float | None = None
    # Known to the main process already; used for rows of tasks whose worker died.
    scenario_name: str = ""
    target_name: str = ""
    objective: str = "default"  # what sat optimises and every run is ranked by


@dataclass
class Row:
    """One line of the comparison. ``seconds`` and ``peak_kib`` are measurements; everything
    else is a function of the inputs and identical on every executor."""

    scenario: str
    path: str
    strategy: str
    complete: bool
    target: str = ""
    status: str = "ok"  # "ok", "timeout", "error"
    satisfiable: bool | None = None
    consistent: bool | None = None
    valid: bool | None = None  # no violation other than unify
    violations: list[str] = field(default_factory=list)
    objective: list[int] | None = None
    expected: str = "n/a"  # "pass", "fail", "n/a" (no expectation for this strategy/target)
    problems: list[str] = field(default_factory=list)
    packages: dict[str, str] = field(default_factory=dict)
    unified: dict[str, str] = field(default_factory=dict)
    explanation: str | None = None
    counters: dict[str, int | None] = field(default_factory=dict)
    size: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    peak_kib: int | None = None
    timeout: float | None = None  # the time limit the run had (--timeout), if any
    error: str | None = None

    MEASUREMENTS = ("seconds", "peak_kib")

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "path": self.path,
            "strategy": self.strategy,
            "complete": self.complete,
            "target": self.target,
            "status": self.status,
            "satisfiable": self.satisfiable,
            "consistent": self.consistent,
            "valid": self.valid,
            "violations": list(self.violations),
            "objective": self.objective,
            "expected": self.expected,
            "problems": list(self.problems),
            "packages": dict(sorted(self.packages.items())),
            "unified": dict(sorted(self.unified.items())),
            "explanation": self.explanation,
            "counters": {k: self.counters.get(k) for k in COUNTERS},
            "size": dict(sorted(self.size.items())),
            "seconds": self.seconds,
            "peak_kib": self.peak_kib,
            "timeout": self.timeout,
            "error": self.error,
        }


class TaskTimeout(BaseException):
    """Not an Exception: a strategy's own ``except Exception`` must not swallow the deadline."""


@functools.lru_cache(maxsize=16)
def scenario_from_text(text: str, path: str) -> Scenario:
    """Load a scenario from its text, as ``load_scenario`` does (cached: a worker runs one
    scenario with several strategies)."""
    from ..sources.scenario import load_scenario_text

    return load_scenario_text(text, path)


def scenario_size(scenario: Scenario) -> dict[str, float]:
    """How big the scenario's index is: the x axes of the scaling plots."""
    repo = scenario.problem.repository
    names = repo.names() or []  # a scenario lists its packages; other sources may not
    releases = [r for name in names for r in repo.releases(name)]
    variant_labels = 0
    for release in releases:
        try:
            metadata = repo.variant_metadata(release)
        except Exception:  # invalid metadata is the strategies' business, not the size's
            metadata = None
        variant_labels += len(metadata.variants) if metadata is not None else 0
    return {
        "packages": len(names),
        "releases": len(releases),
        "versions_per_package": round(len(releases) / len(names), 3) if names else 0,
        "variants": variant_labels,
        "variants_per_release": round(variant_labels / len(releases), 3) if releases else 0,
    }


def build_task_problem(task: Task) -> tuple[Scenario, Problem, str]:
    scenario = scenario_from_text(task.scenario_text, task.scenario_path)
    problem = scenario.problem
    name = ""
    if task.target_text is not None:
        from ..target_file import parse_target_text

        spec = parse_target_text(task.target_text, task.target_path or "target")
        problem = replace(problem, target=spec.over(problem.target))
        name = report_name(spec)
    return scenario, problem, name


def report_name(spec: TargetFile) -> str:
    """A target's name in the report: the file's ``name``, else the file's stem."""
    return spec.name or Path(spec.path).stem


def run_task(task: Task) -> Row:
    from ..strategies import COMPLETE

    scenario, problem, target_name = build_task_problem(task)
    row = Row(
        scenario=scenario.name,
        path=task.scenario_path,
        strategy=task.strategy,
        complete=task.strategy in COMPLETE,
        target=target_name,
        size=scenario_size(scenario),
        timeout=task.timeout,
    )
    if scenario.universal:
        return _run_universal(task, scenario, row)
    try:
        with _deadline(task.timeout):
            resolution, row.seconds, rss_kib = _timed_solve(problem, task.strategy, task.objective)
        if task.memory == "rss":
            row.peak_kib = rss_kib
        elif task.memory == "tracemalloc":
            # Tracing makes a run a few times slower; its own, longer deadline.
            with _deadline(task.timeout * TRACED_SLOWDOWN if task.timeout else None):
                row.peak_kib = _traced_peak_kib(problem, task.strategy, task.objective)
    except TaskTimeout:
        row.status = "timeout"
        row.error = f"no answer within {task.timeout:g} s"
        return row
    except Exception as exc:  # a crashing strategy is a finding of the sweep, not its end
        row.status = "error"
        row.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return row
    _fill_outcome(row, scenario, problem, resolution, overridden=task.target_text is not None, objective=task.objective)
    return row


def _run_universal(task: Task, scenario: Scenario, row: Row) -> Row:
    """A universal scenario, as ``scenario check`` runs it: every fork verified in each
    environment, ``[[expected.environments]]`` compared; ``packages`` lists each pin with its
    marker; no objective (it ranks one target's resolution)."""
    from ..scenario_check import CheckResult, check_universal

    try:
        with _deadline(task.timeout):
            start = time.perf_counter()
            empty = CheckResult(scenario.name, task.scenario_path, task.strategy, "pass")
            checked = check_universal(scenario, task.strategy, empty)
            row.seconds = round(time.perf_counter() - start, 6)
    except TaskTimeout:
        row.status, row.error = "timeout", f"no answer within {task.timeout:g} s"
        return row
    except Exception as exc:  # a crashing strategy is a finding of the sweep, not its end
        row.status, row.error = "error", f"{type(exc).__name__}: {exc}".splitlines()[0]
        return row
    result = checked.universal
    assert result is not None, "check_universal resolves"
    row.satisfiable = result.satisfiable
    row.consistent = all(v.kind != "unify" for _, _, v in result.violations) if result.satisfiable else None
    row.valid = result.valid
    row.violations = [f"{env}: {v.message}" for _, env, v in result.violations]
    for entry in result.entries():
        marker = result.marker_text(entry.marker)
        label = {None: " (sdist)", "": ""}.get(entry.pin.variant, f" [{entry.pin.variant}]")
        targets = [t for t in entry.targets if t is not None]
        key = entry.name + (f" ; {marker}" if marker else "") + (f" ({', '.join(targets)})" if targets else "")
        row.packages[key] = f"{entry.pin.version}{label}"
    row.explanation = result.explanation.text if result.explanation is not None else None
    row.counters = {k: _int_or_none(result.stats.get(k)) for k in COUNTERS}
    row.problems = list(checked.problems)
    row.expected = "fail" if row.problems else "pass"
    return row


def _strategy(strategy_name: str, objective: str) -> Strategy:
    """The strategy of ``strategy_name``; ``sat`` optimising ``objective``."""
    from ..objective import check_objective
    from ..strategies import get_strategy

    if strategy_name == "sat" and objective != "default":
        from ..strategies.sat import SatStrategy

        return SatStrategy(objective=check_objective(objective))
    return get_strategy(strategy_name)


def _timed_solve(problem: Problem, strategy_name: str, objective: str = "default") -> tuple[Resolution, float, int]:
    import resource

    strategy = _strategy(strategy_name, objective)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    resolution = strategy.solve(problem)
    seconds = time.perf_counter() - start
    # ru_maxrss is the process's high-water mark in KiB (Linux): a growth is only meaningful in
    # a fresh process, which is why --memory rss runs one process per task.
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return resolution, round(seconds, 6), rss_kib


# tracemalloc is per process: threads of one Dask worker take turns.
_TRACE_LOCK = threading.Lock()


def _traced_peak_kib(problem: Problem, strategy_name: str, objective: str = "default") -> int:
    """Peak Python heap of a second, traced run (tracing slows a run down, so the timed run
    is not traced). Memory allocated inside C extensions (the SAT solver's clause database) is
    not seen; use --memory rss for that."""
    import tracemalloc

    strategy = _strategy(strategy_name, objective)
    with _TRACE_LOCK:
        tracemalloc.start()
        try:
            strategy.solve(problem)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return (peak + 1023) // 1024


class _deadline:
    """SIGALRM-based timeout; only possible in a process's main thread (local workers)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.armed = False

    def __enter__(self) -> None:
        if self.seconds and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.armed = True

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)

    @staticmethod
    def _expire(signum: int, frame: object) -> None:
        raise TaskTimeout()


def _fill_outcome(
    row: Row, scenario: Scenario, problem: Problem, resolution: Resolution, overridden: bool, objective: str = "default"
) -> None:
    from ..expectations import Outcome
    from ..objective import check_objective, objective_vector
    from ..scenario_check import compare
    from ..verifier import verify

    resolution = resolution.with_violations(verify(problem, resolution))
    row.satisfiable = resolution.satisfiable
    row.consistent = resolution.consistent if resolution.satisfiable else None
    row.valid = resolution.valid
    row.violations = [v.message for v in resolution.violations]
    vector = objective_vector(problem, resolution, objective=check_objective(objective))
    row.objective = None if vector is None else list(vector)
    row.packages = {
        name: f"{pin.version}" + ({None: " (sdist)", "": ""}.get(pin.variant, f" [{pin.variant}]"))
        for name, pin in sorted(resolution.packages.items())
    }
    row.unified = dict(sorted(resolution.unified.items()))
    row.explanation = resolution.explanation.text if resolution.explanation is not None else None
    row.counters = {k: _int_or_none(resolution.stats.get(k)) for k in COUNTERS}
    # A target file changes what the scenario's expectations were written for: only the
    # verifier's rules apply then, as for the status quo without [expected.pep825].
    outcome = None if overridden else scenario.expected.for_strategy(row.strategy, row.complete)
    row.problems = compare(outcome or Outcome(), resolution, row.complete)
    if outcome is None:
        row.expected = "fail" if row.problems else "n/a"
    else:
        row.expected = "fail" if row.problems else "pass"


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
