"""The research harness: every scenario x every strategy (x every target), in parallel.

``run_compare`` is what ``varsolve compare`` and the notebooks call::

    from varsolve.compare import run_compare
    report = run_compare(["scenarios/variants"], jobs=2)
    print(report.render("table"))

Inputs are validated in the calling process (a bad scenario or target file is a one-line
:class:`~varsolve.errors.InputError` before anything runs); tasks then run locally in a process
pool or on a Dask cluster, and the rows come back in a fixed order: scenario files in the order
given (directories sorted), then targets, then strategies.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..reporter import Reporter
from .report import FORMATS, Report
from .tasks import MEMORY_MODES, Row, Task, report_name

__all__ = ["run_compare", "Report", "Row", "FORMATS", "MEMORY_MODES"]


def run_compare(
    paths: Sequence[str | Path],
    strategies: Sequence[str] | None = None,
    targets: Sequence[str | Path] = (),
    *,
    jobs: int = 1,
    executor: str = "local",
    memory: str = "tracemalloc",
    timeout: float | None = None,
    reporter: Reporter | None = None,
    objective: str = "default",
) -> Report:
    """Run the sweep. ``reporter`` hears ``tasks_started(number of tasks)`` once the inputs are
    valid, ``task_done("scenario [strategy]")`` as each task finishes (in completion order; the
    report's rows are in task order) and ``tasks_done()`` at the end, finished or interrupted."""
    from ..errors import InputError
    from ..sources.scenario import iter_scenario_files
    from ..strategies import available, get_strategy
    from ..target_file import read_target_file
    from ..textfile import read_text_file
    from .executors import parse_executor, run_dask, run_local
    from .tasks import scenario_from_text

    kind, address = parse_executor(executor)
    from ..objective import check_objective

    try:
        check_objective(objective)  # sat optimises it, every run is ranked by it
    except ValueError as exc:
        raise InputError(f"--objective: {exc}") from None
    if memory not in MEMORY_MODES:
        raise InputError(f"--memory: expected one of {', '.join(MEMORY_MODES)}, got {memory!r}")
    if memory == "rss" and kind == "dask":
        raise InputError("--memory rss needs a fresh process per task; on Dask use tracemalloc")
    if jobs < 1:
        raise InputError(f"--jobs: must be at least 1, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise InputError(f"--timeout: must be positive, got {timeout:g}")
    names = list(dict.fromkeys(strategies or available()))
    for name in names:
        get_strategy(name)  # unknown or unavailable: an input error now, not in every worker

    files = list(dict.fromkeys(str(f) for f in iter_scenario_files(list(paths))))
    if not files:
        raise InputError(f"no scenario files (*.toml) under {', '.join(map(str, paths))}")
    scenarios = []
    for file in files:
        text = read_text_file(file, "scenario")
        scenarios.append((file, text, scenario_from_text(text, file).name))
    loaded_targets = [read_target_file(t) for t in targets]
    target_slots: list[tuple[str | None, str | None, str]] = (
        [(spec.path, text, report_name(spec)) for spec, text in loaded_targets] or [(None, None, "")]
    )

    tasks: list[Task] = []
    for file, text, scenario_name in scenarios:
        for target_path, target_text, target_name in target_slots:
            for name in names:
                tasks.append(
                    Task(
                        index=len(tasks), scenario_path=file, scenario_text=text, strategy=name,
                        target_path=target_path, target_text=target_text, memory=memory, timeout=timeout,
                        scenario_name=scenario_name, target_name=target_name, objective=objective,
                    )
                )
    events = reporter or Reporter()

    def done(row: Row) -> None:
        events.task_done(f"{row.scenario} [{row.strategy}]")

    events.tasks_started(len(tasks))
    try:
        rows = run_dask(tasks, address or "", done) if kind == "dask" else run_local(tasks, jobs, done)
    finally:
        events.tasks_done()
    return Report(rows, names, [report_name(spec) for spec, _ in loaded_targets], executor=kind)
