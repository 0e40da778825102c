"""SAT vs backtrack scaling (docs/benchmarks.md, "SAT vs backtrack scaling").

Each measurement runs in a fresh interpreter (so peak RSS is the run's own) with a time limit:
generate a scenario of a family (``varsolve.generate``), load it, solve it with one strategy,
verify the answer. Printed as markdown tables; ``--json FILE`` also writes the raw rows.

    python benchmarks/sat_scaling.py                 # every sweep
    python benchmarks/sat_scaling.py --sweep layered-packages --timeout 60 --json rows.json
    python benchmarks/sat_scaling.py --quick          # small sizes only (a smoke run)
    python benchmarks/sat_scaling.py --sweep layered-density4 --strategies sat,sat-eager --repeat 3

Strategies: ``sat`` (the default: reads releases on demand, then everything once that is
estimated to be cheaper), ``sat-lazy`` (on demand only), ``sat-eager`` (every release first),
``sat-newest`` (the ``newest`` objective), ``backtrack`` (resolvelib's decisions). ``encode`` /
``solve`` are the SAT strategy's own split of its time (building clauses / RC2 and MUS calls);
``total`` includes reading candidates; ``cpu`` is the process's CPU time over the solve (the
machine is shared: CPU seconds move less with the load than wall seconds). Cells are medians over
the seeds (and ``--repeat`` runs) that finished; a strategy that failed every seed of a size is
not run on the larger sizes of that sweep. Runs with an older checkout too (``PYTHONPATH=...``):
``sat-lazy`` is then that checkout's default.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

STRATEGIES = ("sat", "sat-eager", "backtrack")
KNOWN = ("sat", "sat-lazy", "sat-eager", "sat-newest", "backtrack", "pep825")

# (sweep name, family, fixed knobs, swept knob, values, seeds)
SWEEPS = [
    ("layered-packages", "layered", {"versions": 8, "variants": 3, "unified": 1}, "packages", [25, 50, 100, 150, 300, 600], [0, 1, 2]),
    ("layered-versions", "layered", {"packages": 150, "variants": 3, "unified": 1}, "versions", [2, 4, 8, 16, 32], [0, 1, 2]),
    ("layered-variants", "layered", {"packages": 150, "versions": 8, "unified": 1}, "variants", [1, 2, 3, 5, 8], [0, 1, 2]),
    ("layered-unified", "layered", {"packages": 150, "versions": 8, "variants": 3}, "unified", [0, 1, 2, 4], [0, 1, 2]),
    ("layered-density", "layered", {"packages": 150, "versions": 8, "variants": 3, "unified": 1}, "density", [0.5, 1.0, 2.0, 4.0], [0, 1, 2]),
    ("adversarial-variants", "adversarial", {"mode": "variants"}, "variables", [5, 8, 10, 20, 40, 80, 160], [0, 1, 2]),
    ("adversarial-versions", "adversarial", {"mode": "versions"}, "variables", [5, 8, 10, 20, 40, 80, 160], [0, 1, 2]),
    # Not in the default run: issue 15's target (density 4 proved under 10 s) and lazy rounds.
    ("layered-density4", "layered", {"packages": 150, "versions": 8, "variants": 3, "unified": 1}, "density", [4.0], [0, 1, 2]),
    ("layered-many-versions", "layered", {"packages": 1000, "variants": 3, "unified": 1}, "versions", [32], [0, 1, 2]),
    ("layered-dense-versions", "layered", {"packages": 300, "versions": 32, "variants": 3, "unified": 1}, "density", [3.0], [0, 1, 2]),
]
EXTRA = {"layered-density4", "layered-many-versions", "layered-dense-versions"}
QUICK = {"layered-packages": [25, 50], "adversarial-variants": [5, 10], "adversarial-versions": [5, 10]}


def worker(family: str, knobs: dict, strategy: str) -> dict:
    """One measurement, in this (fresh) process."""
    t0 = time.perf_counter()
    from varsolve.generate import FAMILIES, load
    from varsolve.verifier import verify

    scenario = load(FAMILIES[family](**knobs))
    t1 = time.perf_counter()
    c1 = time.process_time()
    if strategy.startswith("sat"):
        from varsolve.strategies.sat import SatStrategy

        options: dict = {"sat": {}, "sat-lazy": {"lazy": True}, "sat-eager": {"lazy": False}, "sat-newest": {"objective": "newest"}}
        resolution = SatStrategy(**options[strategy]).solve(scenario.problem)
    else:
        from varsolve.strategies import get_strategy

        resolution = get_strategy(strategy).solve(scenario.problem)
    c2 = time.process_time()
    t2 = time.perf_counter()
    violations = verify(scenario.problem, resolution)
    stats = resolution.stats
    return {
        "load": round(t1 - t0, 4),
        "total": round(t2 - t1, 4),
        "cpu": round(c2 - c1, 4),
        "optimal": stats.get("optimal"),
        "packages": len(resolution.packages),
        "read_everything_after_round": stats.get("read_everything_after_round"),
        "encode": stats.get("encode_seconds"),
        "solve": stats.get("solve_seconds"),
        "satisfiable": resolution.satisfiable,
        "gave_up": bool(stats.get("too_deep")),
        "verified": not violations,
        "objective": stats.get("objective"),
        "candidates": stats.get("candidates"),
        "releases_read": stats.get("releases_read"),
        "rounds": stats.get("rounds"),
        "sat_calls": stats.get("sat_calls"),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure(family: str, knobs: dict, strategy: str, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", family, json.dumps(knobs, sort_keys=True), strategy]
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "total": round(time.perf_counter() - start, 1)}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout)


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    return values[len(values) // 2] if values else None


def _finished(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not r.get("timeout") and not r.get("error") and not r.get("gave_up") and not r.get("skipped")]


def _cell(rows: list[dict], key: str, fmt: str = "{:.2f}") -> str:
    value = _median([r.get(key) for r in _finished(rows)])
    return "–" if value is None else fmt.format(value)


def _outcome(rows: list[dict]) -> str:
    solved = sum(1 for r in rows if r.get("satisfiable") and r.get("verified"))
    notes = []
    for key, word in (("timeout", "timed out"), ("gave_up", "gave up"), ("error", "crashed"), ("skipped", "not run")):
        count = sum(1 for r in rows if r.get(key))
        if count:
            notes.append(f"{count} {word}")
    return f"{solved}/{len(rows)}" + (f" ({', '.join(notes)})" if notes else "")


def run_sweep(
    name: str, family: str, fixed: dict, knob: str, values: list, seeds: list, timeout: float, log: list,
    strategies: tuple[str, ...] = STRATEGIES, repeat: int = 1,
) -> None:
    print(f"\n### {name}: {family} {' '.join(f'{k}={v}' for k, v in fixed.items())}, {knob} swept, seeds {seeds[0]}..{seeds[-1]}"
          f"{f', {repeat} runs each' if repeat > 1 else ''}, load average {os.getloadavg()[0]:.1f} at the start\n")
    print(f"| {knob} | strategy | total s | cpu s | cpu s per seed | encode s | solve s | peak MB | candidates | releases read "
          "| packages | objective (first seed) | solved |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    hopeless: set[str] = set()  # failed every seed at a smaller size: larger ones are not run
    for value in values:
        for strategy in strategies:
            rows = []
            per_seed = []
            for seed in seeds:
                knobs = {**fixed, knob: value, "seed": seed}
                runs = []
                for _ in range(repeat):
                    row = {"skipped": True} if strategy in hopeless else measure(family, knobs, strategy, timeout)
                    row.update(sweep=name, family=family, knobs=knobs, strategy=strategy)
                    runs.append(row)
                    log.append(row)
                rows.extend(runs)
                cpu = _median([r.get("cpu") for r in _finished(runs)])
                per_seed.append("–" if cpu is None else f"{cpu:.2f}")
            if not _finished(rows):
                hopeless.add(strategy)
            first = next((r.get("objective") for r in rows if r.get("objective")), None)
            print(
                f"| {value} | {strategy} | {_cell(rows, 'total')} | {_cell(rows, 'cpu')} | {' / '.join(per_seed)} | "
                f"{_cell(rows, 'encode', '{:.3f}')} | {_cell(rows, 'solve', '{:.3f}')} | {_cell(rows, 'peak_mb', '{:.0f}')} | "
                f"{_cell(rows, 'candidates', '{:.0f}')} | {_cell(rows, 'releases_read', '{:.0f}')} | "
                f"{_cell(rows, 'packages', '{:.0f}')} | {first} | {_outcome(rows)} |",
                flush=True,
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="append", help="run only these sweeps (repeatable)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per run (default 30)")
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--json", metavar="FILE", help="also write the raw rows as JSON")
    parser.add_argument("--strategies", help=f"comma-separated, from {', '.join(KNOWN)} (default: {','.join(STRATEGIES)})")
    parser.add_argument("--repeat", type=int, default=1, help="runs per seed (medians; default 1)")
    parser.add_argument("--worker", nargs=3, metavar=("FAMILY", "KNOBS", "STRATEGY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        family, knobs, strategy = args.worker
        print(json.dumps(worker(family, json.loads(knobs), strategy)))
        return 0
    baseline = measure("adversarial", {"variables": 3, "ratio": 0.5}, "sat", args.timeout)
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; a trivial run peaks at {baseline.get('peak_mb')} MB RSS.")
    strategies = tuple(args.strategies.split(",")) if args.strategies else STRATEGIES
    unknown = [s for s in strategies if s not in KNOWN]
    if unknown:
        parser.error(f"unknown strategies: {', '.join(unknown)}")
    log: list[dict] = []
    for name, family, fixed, knob, values, seeds in SWEEPS:
        if args.sweep and name not in args.sweep or not args.sweep and name in EXTRA:
            continue
        if args.quick:
            if name not in QUICK:
                continue
            values, seeds = QUICK[name], seeds[:1]
        run_sweep(name, family, fixed, knob, values, seeds, args.timeout, log, strategies, args.repeat)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(log, fh, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
