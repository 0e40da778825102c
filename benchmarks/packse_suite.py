"""Benchmark: the 107 single-target packse 0.3.59 scenarios, per strategy.

    python benchmarks/packse_suite.py [--scenarios DIR] [--strategy NAME ...] [--repeat N]

Without ``--scenarios`` the sdist is fetched into ``~/.cache/varsolve-tests`` (as the tests do;
tests/packse_data.py). For each strategy it prints the total wall time of solving every
scenario (best of ``--repeat`` runs per scenario; loading and verification not included), the
slowest scenario, and how many scenarios met packse's expectations (checked, untimed).
Results are recorded in docs/benchmarks.md, section "packse suite".
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def main(argv: list[str] | None = None) -> int:
    from packse_data import non_universal_scenarios, packse_scenarios_dir

    from varsolve.api import solve
    from varsolve.scenario_check import compare
    from varsolve.sources.scenario import load_scenario
    from varsolve.strategies import available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=Path, help="packse's scenarios folder (default: download)")
    parser.add_argument("--strategy", action="append", default=[], help="strategy (repeatable; default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per scenario; the fastest counts")
    args = parser.parse_args(argv)

    root = args.scenarios or packse_scenarios_dir()
    start = time.perf_counter()
    scenarios = [load_scenario(path) for path in non_universal_scenarios(root)]
    load_seconds = time.perf_counter() - start
    strategies = args.strategy or available()
    print(f"packse suite: {len(scenarios)} scenarios from {root}")
    print(f"python {platform.python_version()}, {platform.machine()}, load {load_seconds:.3f} s, best of {args.repeat}")
    print(f"{'strategy':<10} {'passed':>7} {'total s':>9} {'max s':>8}  slowest scenario")
    for strategy in strategies:
        total = 0.0
        slowest = (0.0, "")
        passed = 0
        for scenario in scenarios:
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                resolution = solve(scenario.problem, strategy, verify=False)
                best = min(best, time.perf_counter() - t0)
            total += best
            slowest = max(slowest, (best, scenario.name))
            checked = solve(scenario.problem, strategy)  # with the verifier, untimed
            passed += not compare(scenario.expected.complete, checked, True)
            del resolution
        print(f"{strategy:<10} {passed:>3}/{len(scenarios):<3} {total:>9.3f} {slowest[0]:>8.4f}  {slowest[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
