"""Greedy scale (docs/benchmarks.md, "Greedy scale (flat and chain)").

Two shapes of n packages with one release each and nothing to choose, where any cost beyond
linear is the resolver's own bookkeeping:

* ``flat``: the root requires p0 ... p{n-1}, none has dependencies;
* ``chain``: the root requires a0, and a{i} requires a{i+1}.

Each measurement runs in a fresh interpreter (so peak RSS is the run's own) with a time limit:
generate the scenario TOML, load it, solve it with one strategy, verify the answer. Printed as a
markdown table; ``--json FILE`` also writes the raw rows.

    python benchmarks/greedy_scale.py                                   # 1k 2k 5k 10k, backtrack pep825 sat
    python benchmarks/greedy_scale.py --sizes 1000 2000 --strategies backtrack backtrack-resolvelib
    python benchmarks/greedy_scale.py --quick                           # 1k and 2k only

Strategies: ``backtrack``, ``pep825``, ``sat``, and ``backtrack-resolvelib`` / ``pep825-resolvelib``,
the greedy strategies on resolvelib's own resolution loop (``incremental = False``: quadratic, the
figures before issue 12). A strategy that timed out or failed at a size is not run on larger
sizes of that shape.
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

SHAPES = ("flat", "chain")
SIZES = (1000, 2000, 5000, 10000)
STRATEGIES = ("backtrack", "pep825", "sat")


def scenario_toml(shape: str, n: int) -> str:
    """The scenario TOML (docs/scenario-format.md) of ``shape`` with ``n`` packages."""
    if shape == "flat":
        roots = ", ".join(f'"p{i}"' for i in range(n))
        lines = [f'name = "flat-{n}"', "", "[root]", f"requires = [{roots}]", ""]
        for i in range(n):
            lines += [f"[packages.p{i}.versions]", '"1.0.0" = {}', ""]
        return "\n".join(lines)
    if shape == "chain":
        lines = [f'name = "chain-{n}"', "", "[root]", 'requires = ["a0"]', ""]
        for i in range(n):
            lines.append(f'[packages.a{i}.versions."1.0.0"]')
            if i + 1 < n:
                lines.append(f'requires = ["a{i + 1}"]')
            lines.append("")
        return "\n".join(lines)
    raise ValueError(f"unknown shape {shape!r}")


def worker(shape: str, n: int, strategy: str) -> dict:
    """One measurement, in this (fresh) process."""
    from varsolve.generate import load
    from varsolve.strategies import get_strategy
    from varsolve.verifier import verify

    t0 = time.perf_counter()
    scenario = load(scenario_toml(shape, n))
    t1 = time.perf_counter()
    name, _, loop = strategy.partition("-")
    solver = get_strategy(name)
    if loop == "resolvelib":
        solver.incremental = False  # type: ignore[attr-defined]
    resolution = solver.solve(scenario.problem)
    t2 = time.perf_counter()
    violations = verify(scenario.problem, resolution)
    return {
        "load": round(t1 - t0, 3),
        "solve": round(t2 - t1, 3),
        "satisfiable": resolution.satisfiable,
        "packages": len(resolution.packages),
        "verified": resolution.satisfiable and not violations and len(resolution.packages) == n,
        "rounds": resolution.stats.get("rounds"),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def measure(shape: str, n: int, strategy: str, timeout: float) -> dict:
    cmd = [sys.executable, __file__, "--worker", shape, str(n), strategy]
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"timeout": True, "wall": round(time.perf_counter() - start, 1)}
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout)


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    return f"{platform.machine()}, {cores} cores (nproc), Python {platform.python_version()}, {platform.system()}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", nargs=3, metavar=("SHAPE", "N", "STRATEGY"), help=argparse.SUPPRESS)
    ap.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=SHAPES)
    ap.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    ap.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per measurement (default 180)")
    ap.add_argument("--quick", action="store_true", help="sizes 1000 and 2000 only")
    ap.add_argument("--json", metavar="FILE", help="also write the raw rows")
    args = ap.parse_args(argv)
    if args.worker:
        shape, n, strategy = args.worker
        print(json.dumps(worker(shape, int(n), strategy)))
        return 0
    sizes = [1000, 2000] if args.quick else args.sizes
    print(f"machine: {machine()}\n")
    print("| shape | packages | strategy | solve s | load s | peak MB | verified |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for shape in args.shapes:
        hopeless: set[str] = set()
        for n in sizes:
            for strategy in args.strategies:
                if strategy in hopeless:
                    row = {"skipped": True}
                else:
                    row = measure(shape, n, strategy, args.timeout)
                row.update(shape=shape, n=n, strategy=strategy)
                rows.append(row)
                if row.get("timeout"):
                    hopeless.add(strategy)
                    cells = [f"> {args.timeout:.0f} (timed out)", "–", "–", "–"]
                elif row.get("skipped"):
                    cells = ["not run", "–", "–", "–"]
                elif row.get("error"):
                    hopeless.add(strategy)
                    cells = [f"crashed: {row['error']}", "–", "–", "–"]
                else:
                    verified = "yes" if row["verified"] else "NO"
                    cells = [f"{row['solve']:.2f}", f"{row['load']:.2f}", f"{row['peak_mb']:.0f}", verified]
                print(f"| {shape} | {n} | {strategy} | " + " | ".join(cells) + " |", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine(), "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
