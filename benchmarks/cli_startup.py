"""CLI start-up: wall and CPU time of small commands, against a bare interpreter.

    python benchmarks/cli_startup.py [--runs 30] [--scenario FILE]

Prints, per command, the median and the 90th percentile of the wall time over ``--runs`` runs,
the median CPU time (user + system of the process), and which heavy modules the command
imported (a lazy import that regresses shows up here first); then the load average before and
after. The commands run the way a user runs them: the ``varsolve`` console script installed next
to this interpreter (``python -m varsolve.cli`` without one), with bytecode caches written and
current (``PYTHONDONTWRITEBYTECODE`` is dropped and each command runs once before it is timed:
otherwise every module edited since its ``.pyc`` was written is compiled again on every run).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "variants" / "blas-unify.toml"
HEAVY = ("resolvelib", "pysat", "httpx", "networkx", "installer")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def varsolve() -> list[str]:
    script = Path(sys.executable).with_name("varsolve")
    return [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]


def commands(scenario: Path) -> dict[str, list[str]]:
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "varsolve --help": [*varsolve(), "--help"],
        f"varsolve resolve --scenario {scenario.name}": [*varsolve(), "resolve", "--scenario", str(scenario)],
        "  ... --strategy sat": [*varsolve(), "resolve", "--scenario", str(scenario), "--strategy", "sat"],
    }


_PROBE = (
    "import sys, runpy; sys.argv = {argv!r}; "
    "exec('try:\\n runpy.run_module(\"varsolve.cli\", run_name=\"__main__\")\\nexcept SystemExit: pass'); "
    "print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)"
)


def heavy_imports(argv: list[str]) -> str:
    if argv[0] == sys.executable and argv[1:2] == ["-c"]:
        return "-"
    args = argv[1:] if argv[1:2] != ["-m"] else argv[3:]
    code = _PROBE.format(argv=["varsolve", *args], heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    return proc.stderr.strip().splitlines()[-1]


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--scenario", type=Path, default=SCENARIO, help="the scenario the resolve commands read")
    options = parser.parse_args()
    table = commands(options.scenario)
    for argv in table.values():
        timed(argv)  # bytecode caches written, files in the page cache
    load_before = os.getloadavg()
    print(f"{'command':46} {'median':>8} {'p90':>8} {'CPU':>8}  heavy modules imported")
    for name, argv in table.items():
        runs = sorted(timed(argv) for _ in range(options.runs))
        walls = sorted(wall for wall, _ in runs)
        p90 = walls[int(0.9 * (len(walls) - 1))]
        cpu = statistics.median(c for _, c in runs)
        print(
            f"{name:46} {statistics.median(walls) * 1000:6.1f}ms {p90 * 1000:6.1f}ms {cpu * 1000:6.1f}ms  {heavy_imports(argv)}"
        )
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in load_after)} after; {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
