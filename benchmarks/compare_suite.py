"""Benchmark: ``varsolve compare`` wall time with --jobs 1 and 2 (docs/benchmarks.md).

    python benchmarks/compare_suite.py [--repeat N] [--jobs 1 2] [--generated]

Workload "bundled": every bundled scenario (``scenarios/``) with every available strategy, the
command a user runs. With ``--generated`` also a study-sized workload: ecosystem-shaped
scenarios written by ``varsolve generate ecosystem leaves=10,20,40,60 --seed 1..3`` and
compared with ``--timeout 2``. Each figure is the wall time of the whole command (process
start, imports, pool start, solving, verifying, the traced memory run, rendering), best of
``--repeat`` runs. The compare output goes to /dev/null.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def varsolve() -> list[str]:
    script = Path(sys.executable).with_name("varsolve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]


def wall_time(command: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        # Exit 1 (a broken expectation) still times the sweep; 2 is a usage error.
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=REPO)
        elapsed = time.perf_counter() - start
        if result.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} failed: {result.stderr.strip()}")
        best = min(best, elapsed)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure; the fastest counts")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--generated", action="store_true", help="also time a generated ecosystem study")
    args = parser.parse_args(argv)

    from varsolve.compare import run_compare
    from varsolve.strategies import available

    strategies = available()
    workloads = [("bundled", ["compare", "scenarios"], [])]
    with tempfile.TemporaryDirectory(prefix="varsolve-bench-") as tmp:
        if args.generated:
            study = Path(tmp) / "study"
            subprocess.run(
                [*varsolve(), "-q", "generate", "ecosystem", "leaves=10,20,40,60", "--seed", "1..3", "--out", str(study)],
                check=True, stdout=subprocess.DEVNULL,
            )
            workloads.append(("ecosystem study", ["compare", str(study)], ["--timeout", "2"]))
        print(f"machine: {os.cpu_count()} cores, {platform.machine()}, {platform.processor() or 'cpu'}, "
              f"CPython {platform.python_version()}; strategies: {', '.join(strategies)}")
        print()
        print("| workload | runs | --jobs | wall time (s), best of %d |" % args.repeat)
        print("|---|---|---|---|")
        for name, command, extra in workloads:
            runs = len(run_compare([command[1]], strategies, memory="off", timeout=2).rows)
            for jobs in args.jobs:
                full = [*varsolve(), "-q", *command, "--jobs", str(jobs), *extra]
                print(f"| {name} | {runs} | {jobs} | {wall_time(full, args.repeat):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
