"""CLI start-up: wall time of small commands, against a bare interpreter.

    python benchmarks/cli_startup.py [--runs 30]

Prints the median and the 90th percentile of each command over ``--runs`` runs, and which heavy
modules each command imported (a lazy import that regresses shows up here first).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "variants" / "blas-unify.toml"
HEAVY = ("resolvelib", "pysat", "httpx", "networkx", "installer")

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "varsolve --help": [sys.executable, "-m", "varsolve.cli", "--help"],
    "varsolve resolve (backtrack)": [sys.executable, "-m", "varsolve.cli", "resolve", "--scenario", str(SCENARIO)],
    "varsolve resolve (sat)": [
        sys.executable, "-m", "varsolve.cli", "resolve", "--scenario", str(SCENARIO), "--strategy", "sat",
    ],
}

_PROBE = (
    "import sys, runpy; sys.argv = {argv!r}; "
    "exec('try:\\n runpy.run_module(\"varsolve.cli\", run_name=\"__main__\")\\nexcept SystemExit: pass'); "
    "print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"
)


def heavy_imports(argv: list[str]) -> str:
    if argv[1:2] != ["-m"]:
        return "-"
    code = _PROBE.format(argv=["varsolve", *argv[3:]], heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return proc.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    print(f"{'command':32} {'median':>9} {'p90':>9}  heavy modules imported")
    for name, argv in COMMANDS.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append(time.perf_counter() - start)
        times.sort()
        p90 = times[int(0.9 * (len(times) - 1))]
        print(f"{name:32} {statistics.median(times) * 1000:7.1f}ms {p90 * 1000:7.1f}ms  {heavy_imports(argv)}")


if __name__ == "__main__":
    main()
