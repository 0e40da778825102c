"""The comparison's output: rows in a fixed order, a summary, and table/JSON/CSV renderings."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass, field
from typing import Any, TypedDict

from .tasks import COUNTERS, Row

FORMATS = ("table", "json", "csv")


class StrategySummary(TypedDict):
    strategy: str
    complete: bool
    runs: int
    satisfiable: int
    unsatisfiable: int
    inconsistent: int
    invalid: int
    expected_pass: int
    expected_fail: int
    timeouts: int
    errors: int
    skipped: int
    worse_objective_than_best_complete: int
    seconds_total: float
    seconds_median: float | None
    seconds_max: float | None
    peak_kib_max: int | None


class StatusQuoSummary(TypedDict):
    """An incomplete strategy against the complete ones, on the pairs they all ran."""

    strategy: str
    compared: int
    inconsistent: int
    fails_where_complete_succeeds: int


class Disagreement(TypedDict):
    path: str
    target: str


class Summary(TypedDict):
    tasks: int
    scenarios: int
    per_strategy: list[StrategySummary]
    status_quo: list[StatusQuoSummary]
    # Complete strategies answering "satisfiable?" differently: one of them has a bug.
    complete_strategies_disagree: list[Disagreement]


@dataclass
class Report:
    rows: list[Row]
    strategies: list[str]
    targets: list[str] = field(default_factory=list)
    executor: str = "local"

    @property
    def summary(self) -> Summary:
        return summarize(self.rows, self.strategies)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "strategies": list(self.strategies),
            "targets": list(self.targets),
            "rows": [r.to_json_dict() for r in self.rows],
            "summary": self.summary,
        }

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.to_json_dict(), indent=2) + "\n"
        if fmt == "csv":
            return render_csv(self.rows)
        return render_table(self.rows) + "\n" + render_summary(self.summary)

    @property
    def failed(self) -> bool:
        """Whether a run crashed or a result broke its expectation or the verifier's rules."""
        return any(r.status == "error" or r.expected == "fail" for r in self.rows)


# -- summary ----------------------------------------------------------------------------------
def summarize(rows: list[Row], strategies: list[str]) -> Summary:
    groups: dict[tuple[str, str], dict[str, Row]] = {}
    for row in rows:
        groups.setdefault((row.path, row.target), {})[row.strategy] = row
    best: dict[tuple[str, str], list[int] | None] = {}
    for key, by_strategy in groups.items():
        objectives = [r.objective for r in by_strategy.values() if r.complete and _solved(r) and r.objective is not None]
        best[key] = min(objectives) if objectives else None

    per_strategy: list[StrategySummary] = []
    for name in strategies:
        mine = [r for r in rows if r.strategy == name]
        if not mine:
            continue
        seconds = [r.seconds for r in mine if r.seconds is not None]
        peaks = [r.peak_kib for r in mine if r.peak_kib is not None]
        worse = sum(
            1 for key, by_strategy in groups.items() if name in by_strategy and _worse(by_strategy[name].objective, best[key])
        )
        per_strategy.append(
            {
                "strategy": name,
                "complete": mine[0].complete,
                "runs": len(mine),
                "satisfiable": sum(r.satisfiable is True for r in mine),
                "unsatisfiable": sum(r.status == "ok" and r.satisfiable is False for r in mine),
                "inconsistent": sum(r.satisfiable is True and r.consistent is False for r in mine),
                "invalid": sum(r.valid is False for r in mine),
                "expected_pass": sum(r.expected == "pass" for r in mine),
                "expected_fail": sum(r.expected == "fail" for r in mine),
                "timeouts": sum(r.status == "timeout" for r in mine),
                "errors": sum(r.status == "error" for r in mine),
                "skipped": sum(r.status == "skip" for r in mine),
                "worse_objective_than_best_complete": worse,
                "seconds_total": round(sum(seconds), 6),
                "seconds_median": round(statistics.median(seconds), 6) if seconds else None,
                "seconds_max": max(seconds) if seconds else None,
                "peak_kib_max": max(peaks) if peaks else None,
            }
        )

    status_quo: list[StatusQuoSummary] = []
    for name in strategies:
        compared = inconsistent = fails = 0
        for by_strategy in groups.values():
            own = by_strategy.get(name)
            complete = [r for r in by_strategy.values() if r.complete and r.status != "skip"]
            if own is None or own.complete or own.status == "skip" or not complete:
                continue
            compared += 1
            if own.satisfiable is True and own.consistent is False:
                inconsistent += 1
            if own.status == "ok" and own.satisfiable is False and any(_solved(r) for r in complete):
                fails += 1
        if compared:
            status_quo.append(
                {
                    "strategy": name,
                    "compared": compared,
                    "inconsistent": inconsistent,
                    "fails_where_complete_succeeds": fails,
                }
            )

    disagreements: list[Disagreement] = []
    for (path, target), by_strategy in groups.items():
        answers = {r.satisfiable for r in by_strategy.values() if r.complete and r.status == "ok"}
        if len(answers) > 1:
            disagreements.append({"path": path, "target": target})
    return {
        "tasks": len(rows),
        "scenarios": len({r.path for r in rows}),
        "per_strategy": per_strategy,
        "status_quo": status_quo,
        "complete_strategies_disagree": disagreements,
    }


def _worse(objective: list[int] | None, best: list[int] | None) -> bool:
    return objective is not None and best is not None and objective > best


def _solved(row: Row) -> bool:
    return row.status == "ok" and row.satisfiable is True and row.consistent is not False and row.valid is True


# -- renderings -------------------------------------------------------------------------------
def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _objective(value: list[int] | None) -> str:
    return "-" if value is None else ",".join(map(str, value))


def render_table(rows: list[Row]) -> str:
    with_target = any(r.target for r in rows)
    header = ["scenario"] + (["target"] if with_target else []) + [
        "strategy", "sat", "consistent", "objective", "expected", "seconds", "peak KiB", *COUNTERS,
    ]
    lines = [header]
    for r in rows:
        sat = _yes_no(r.satisfiable) if r.status == "ok" else r.status
        lines.append(
            [r.scenario]
            + ([r.target or "(scenario)"] if with_target else [])
            + [
                r.strategy, sat, _yes_no(r.consistent), _objective(r.objective), r.expected,
                _num(r.seconds), _num(r.peak_kib), *(_num(r.counters.get(c)) for c in COUNTERS),
            ]
        )
    return _align(lines)


def render_summary(summary: Summary) -> str:
    out = [f"summary: {summary['tasks']} runs over {summary['scenarios']} scenarios", ""]
    header = ["strategy", "complete", "runs", "sat", "unsat", "inconsistent", "invalid",
              "expected ok", "expected FAIL", "timeouts", "errors", "skipped", "worse objective", "total s", "median s",
              "max KiB"]
    lines = [header]
    for s in summary["per_strategy"]:
        lines.append([
            s["strategy"], _yes_no(s["complete"]), str(s["runs"]), str(s["satisfiable"]), str(s["unsatisfiable"]),
            str(s["inconsistent"]), str(s["invalid"]), str(s["expected_pass"]), str(s["expected_fail"]),
            str(s["timeouts"]), str(s["errors"]), str(s["skipped"]), str(s["worse_objective_than_best_complete"]),
            _num(s["seconds_total"]), _num(s["seconds_median"]), _num(s["peak_kib_max"]),
        ])
    out.append(_align(lines).rstrip("\n"))
    for q in summary["status_quo"]:
        n = q["compared"]
        out.append("")
        out.append(
            f"{q['strategy']} (status quo) against the complete strategies, {n} scenario/target pairs:"
        )
        out.append(
            f"  inconsistent environment (a unified feature takes two values): {q['inconsistent']} of {n} "
            f"({_pct(q['inconsistent'], n)})"
        )
        out.append(
            f"  no solution where a complete strategy finds one: {q['fails_where_complete_succeeds']} of {n} "
            f"({_pct(q['fails_where_complete_succeeds'], n)})"
        )
    for d in summary["complete_strategies_disagree"]:
        out.append(f"complete strategies disagree on satisfiability: {d['path']}" + (f" [{d['target']}]" if d["target"] else ""))
    return "\n".join(out) + "\n"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _align(lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines) + "\n"


CSV_COLUMNS = [
    "scenario", "path", "target", "strategy", "complete", "status", "satisfiable", "consistent", "valid",
    "objective", "expected", "problems", "violations", "packages", "unified", "seconds", "peak_kib",
    *COUNTERS, "size_packages", "size_releases", "size_versions_per_package", "size_variants",
    "size_variants_per_release", "error",
]


def render_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        def cell(value: Any) -> str:
            if value is None:
                return ""
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)

        writer.writerow([
            r.scenario, r.path, r.target, r.strategy, cell(r.complete), r.status, cell(r.satisfiable),
            cell(r.consistent), cell(r.valid), "" if r.objective is None else " ".join(map(str, r.objective)),
            r.expected, "; ".join(r.problems), "; ".join(r.violations),
            " ".join(f"{n}=={v.replace(' ', '')}" for n, v in sorted(r.packages.items())),
            " ".join(f"{f}={v}" for f, v in sorted(r.unified.items())),
            cell(r.seconds), cell(r.peak_kib), *(cell(r.counters.get(c)) for c in COUNTERS),
            *(cell(r.size.get(k)) for k in ("packages", "releases", "versions_per_package", "variants", "variants_per_release")),
            cell(r.error),
        ])
    return buffer.getvalue()
