"""One installer over many scenarios: build, serve, run, read, verify, compare.

Per scenario: its index is built with the target written into the variant metadata
(:mod:`.target_index`) in a temporary folder, served on 127.0.0.1 on an ephemeral port, the
installer is run once (bounded by ``timeout``, its process group killed at the deadline), its
answer read and verified, and varsolve's strategies solve the same problem: the scenario's,
binaries only (``--only-binary :all:`` for the installers), with the installer's policies for
yanked releases, pre-releases and Requires-Python. An installer that cannot be run, hangs or
answers something unreadable gives an ``error`` row; the run goes on.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..errors import VarsolveError
from ..problem import Problem
from ..reporter import Reporter
from ..resolution import Resolution
from ..sources.scenario import Scenario
from .installers import CommandInstaller, Installer, InstallerFailure, Job, Outcome, get_installer, run_invocation
from .report import ConformanceReport, ConformanceRow
from .verdict import diagnose, verify_outcome

__all__ = ["DEFAULT_TIMEOUT", "conformance_problem", "run_conformance"]

DEFAULT_TIMEOUT = 60.0


def conformance_problem(problem: Problem, installer: Installer) -> Problem:
    """The problem installers and strategies are compared on (module docs)."""
    options = replace(problem.options, no_build=frozenset({":all:"}))
    if installer.pip_policies:
        options = replace(options, yanked="pip", prerelease_policy="pip", requires_python_policy="pip")
    return replace(problem, options=options)


def run_conformance(
    paths: Sequence[str | Path],
    installer: str | Installer,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = 1,
    reporter: Reporter | None = None,
    on_error: Callable[[str], None] | None = None,
) -> ConformanceReport:
    """Run ``installer`` (``"uv"``, ``"pip"``, a command template or an :class:`Installer`)
    on every scenario under ``paths``; rows in file order (directories sorted). ``on_error``
    hears one line per error row as it happens: ``INSTALLER: SCENARIO: what went wrong``."""
    from ..errors import InputError
    from ..sources.scenario import iter_scenario_files, load_scenario
    from ..strategies import COMPLETE, available

    if not timeout > 0:
        raise InputError(f"--timeout: must be a positive number of seconds, not {timeout:g}")
    if jobs < 1:
        raise InputError(f"--jobs: must be at least 1, got {jobs}")
    adapter = get_installer(installer) if isinstance(installer, str) else installer
    files = list(dict.fromkeys(iter_scenario_files(list(paths))))
    if not files:
        raise InputError(f"no scenario files (*.toml) under {', '.join(map(str, paths))}")
    scenarios = [load_scenario(f) for f in files]  # bad input: one line, before anything runs
    strategies: list[str] = list(available())
    complete = [name for name in strategies if name in COMPLETE]
    label = adapter.label()
    events = reporter or Reporter()

    def one(scenario: Scenario) -> ConformanceRow:
        row = _run_one(scenario, adapter, label, strategies, complete, timeout)
        if row.status == "error" and on_error is not None:
            on_error(f"{adapter.name}: {scenario.name}: {row.message}")
        events.task_done(f"{scenario.name} [{adapter.name}]")
        return row

    events.tasks_started(len(scenarios))
    try:
        if jobs == 1:
            rows = [one(s) for s in scenarios]
        else:
            with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="varsolve-conformance") as pool:
                rows = list(pool.map(one, scenarios))
    finally:
        events.tasks_done()
    command = adapter.template if isinstance(adapter, CommandInstaller) else None
    return ConformanceReport(label, rows, strategies, command)


def _run_one(
    scenario: Scenario, installer: Installer, label: str, strategies: list[str], complete: list[str], timeout: float
) -> ConformanceRow:
    row = ConformanceRow(scenario.name, str(scenario.path), label)
    if scenario.universal:
        row.status, row.message = "skip", "universal: the installers resolve one target (uv lock leaves variant wheels out)"
        return row
    problem = conformance_problem(scenario.problem, installer)
    started = time.perf_counter()
    try:
        outcome = _ask(scenario, problem, installer, timeout)
    except InstallerFailure as exc:
        row.status, row.message = "error", str(exc)
        return row
    except VarsolveError as exc:  # the scenario's index cannot be built (the builder's limits)
        row.status, row.message = "error", f"cannot build its index: {exc}"
        return row
    finally:
        row.seconds = round(time.perf_counter() - started, 3)
    results = _solve_all(problem, strategies)
    resolution = verify_outcome(problem, installer.name, outcome)
    verdict = diagnose(problem, installer, outcome, resolution, results, complete)
    row.status = "ok" if resolution.satisfiable else "no-solution"
    row.message = outcome.message
    if resolution.satisfiable:
        row.packages = {name: _pin_text(resolution, name) for name in resolution.packages}
        row.files = {name: pin.filename for name, pin in resolution.packages.items()}
        row.valid, row.consistent = resolution.valid, resolution.consistent
        row.mixed = sorted({v.feature for v in resolution.violations if v.kind == "unify" and v.feature})
        row.violations = [v.message for v in resolution.violations]
    row.same = dict(verdict.same)
    row.strategies = {
        name: ({p: _pin_text(r, p) for p in sorted(r.packages)} if r.satisfiable else None) for name, r in results.items()
    }
    row.reasons = [reason.to_dict() for reason in verdict.reasons]
    row.rejected = [
        {"name": r.name, "version": r.version, "file": r.filename or "", "marker": r.marker or "", "reason": r.reason,
         "instead": r.instead or ""}
        for r in outcome.rejected
    ]
    return row


def _ask(scenario: Scenario, problem: Problem, installer: Installer, timeout: float) -> Outcome:
    from ..index.server import IndexServer
    from .target_index import build_installer_index

    with tempfile.TemporaryDirectory(prefix="varsolve-conformance-") as tmp:
        index = Path(tmp) / "index"
        build_installer_index(replace(scenario, problem=problem), index)
        workdir = Path(tmp) / "run"
        workdir.mkdir()
        with IndexServer(index) as server:
            job = Job(scenario.name, server.index_url, problem.target, tuple(problem.requirements), workdir)
            job.write_inputs()
            completed = run_invocation(installer.invocation(job), timeout, installer.name)
            return installer.parse(job, completed)


def _solve_all(problem: Problem, strategies: list[str]) -> dict[str, Resolution]:
    """Each strategy's verified answer; one that fails on bad input (a VarsolveError) is left
    out (its column shows no comparison) rather than ending the run."""
    from ..pipeline import solve
    from ..strategies import get_strategy

    results: dict[str, Resolution] = {}
    for name in strategies:
        try:
            results[name] = solve(problem, get_strategy(name))
        except VarsolveError:
            continue
    return results


def _pin_text(resolution: Resolution, name: str) -> str:
    pin = resolution.packages[name]
    if pin.variant is None:
        return f"{pin.version} (sdist)"
    return f"{pin.version} [{pin.variant}]" if pin.variant else str(pin.version)
