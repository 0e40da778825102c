"""Benchmark: issue 15's heavy cases, CPU seconds and peak memory first (docs/benchmarks.md,
"Heavy sets and memory").

    python benchmarks/heavy_sets.py [--rounds 3] [--sets airflow,boto3-backtrack] [--tools backtrack,uv]
                                    [--rev REV] [--no-generated] [--no-uv-traffic] [--json FILE]

Real index (``--index-url``, default the public one), one target (CPython 3.11.7 on
x86_64-manylinux_2_36 by default), each command as benchmarks/real_index.py runs it (whose
helpers this script imports: ``Tools``, ``run_measured``, ...):

* **varsolve**: ``varsolve -q resolve REQS --strategy backtrack --python V --python-platform P
  --index-url URL --cache-dir C --format json`` (its JSON has the versions, requests and bytes);
* **uv**: ``uv pip compile - --no-header --no-annotate -q --python-version V --python-platform P
  --index-url URL --cache-dir C``, the requirements on stdin.

Each round runs every set with every tool, in a rotating order, "cold" (an empty cache
directory) then "warm" (the same again). Per set, tool and phase: CPU seconds (user + system
of the process and what it waited for, ``wait4``), peak RSS (``ru_maxrss``), wall seconds: min
and median of the rounds, with the load average (1 min) at the start of each run. Requests and
bytes: varsolve's own counters (``stats.http``); uv's from one more cold run per set with
``RUST_LOG=h2=trace`` (HTTP/2 requests sent and DATA bytes received; untimed, since the tracing
costs time), unless ``--no-uv-traffic``.

Generated instances (``--no-generated`` skips them): ``backtrack`` on ``layered packages=150
versions=8 variants=3 unified=1`` seeds 0-2 and ``layered packages=2000`` (same knobs) seeds 0-2,
each in a fresh interpreter (benchmarks/sat_scaling.py's worker: generate, load, solve, verify),
with a time limit (``--timeout``) and an address-space limit (``--memory-limit-mb``, by
``prlimit``: before the fix of issue 15 a 2,000-package instance ran out of 24 GB). Reported:
the solve call's seconds, load seconds, process CPU seconds and peak RSS, rounds, backtracks.

``--rev REV`` measures the varsolve of a commit instead of the checkout: ``git archive REV src``
unpacked into a temporary directory put first on ``PYTHONPATH`` and run as ``python -m
varsolve.cli`` (so do both sides of a comparison with ``--rev``: ``--rev HEAD`` for the
current one, as process start-up differs slightly from the ``varsolve`` script's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_index import Run as RealIndexRun  # noqa: E402
from real_index import Tools, clean_env, default_platform, machine, run_measured  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SETS: dict[str, list[str]] = {
    "airflow": ["apache-airflow"],
    # Every boto3 release since 1.26.165 requires a botocore >= 1.30: the search rejects 822
    # boto3 releases (reading each one's metadata) before boto3 1.26.165 / botocore 1.29.165.
    "boto3-backtrack": ["boto3", "botocore<1.30", "urllib3<1.27", "s3transfer", "awscli"],
    # Heavier (not a target of issue 15): awscli < 1.40 pins a botocore >= 1.30 down to awscli
    # 1.27.165, so 600 awscli releases (large wheels) are rejected too.
    "boto3-awscli-backtrack": ["boto3", "botocore<1.30", "awscli<1.40"],
}
DEFAULT_SETS = ["airflow", "boto3-backtrack"]
TOOLS = ("backtrack", "uv")
GENERATED: list[tuple[str, dict[str, Any]]] = [
    *((f"layered-150-seed{s}", {"packages": 150, "versions": 8, "variants": 3, "unified": 1, "seed": s}) for s in (0, 1, 2)),
    *((f"layered-2000-seed{s}", {"packages": 2000, "versions": 8, "variants": 3, "unified": 1, "seed": s}) for s in (0, 1, 2)),
]


@dataclass
class Run(RealIndexRun):
    """A run of real_index.py's kind, with what the index was asked for."""

    requests: int | None = None
    bytes: int | None = None


def snapshot(rev: str, into: Path) -> str:
    """``git archive REV src`` unpacked into ``into``; the full commit id."""
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", rev], capture_output=True, text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return commit


def uv_traffic(tools: Tools, requirements: list[str], cache: Path) -> tuple[int, int]:
    """HTTP/2 requests and DATA bytes of one cold ``uv pip compile``, from h2's trace log."""
    command = [
        tools.uv, "pip", "compile", "-", "--no-header", "--no-annotate", "-q", "--python", tools.pip_python,
        "--python-version", tools.python, "--python-platform", tools.platform, "--index-url", tools.index_url,
        "--cache-dir", str(cache),
    ]
    env = dict(clean_env(), RUST_LOG="h2=trace")
    requests = received = 0
    with tempfile.TemporaryFile() as log:
        subprocess.run(command, input="\n".join(requirements).encode() + b"\n", stdout=subprocess.DEVNULL, stderr=log,
                       env=env, timeout=tools.timeout, check=False)
        log.seek(0)
        for raw in log:
            line = raw.decode(errors="replace")
            if "send_headers;" in line:
                requests += 1
            elif "recv_data; size=" in line:
                received += int(line.split("recv_data; size=", 1)[1].split(";", 1)[0])
    return requests, received


def run_set(tools: Tools, tool: str, name: str, cache: Path, round_: int, phase: str) -> Run:
    load = os.getloadavg()[0]
    wall, cpu, rss, rc, versions, stats, error = tools.run(tool, SETS[name], cache)
    http = stats.get("http", {})
    return Run(
        name, tool, round_, phase, wall, cpu, rss, rc, load, versions,
        {k: stats[k] for k in ("seconds", "rounds", "backtracks", "rejected", "candidates") if k in stats} | (
            {"source_wait_ms": http.get("source_wait_ms")} if http else {}
        ),
        error, requests=http.get("requests"), bytes=http.get("bytes"),
    )


def run_generated(label: str, knobs: dict[str, Any], timeout: float, memory_mb: int) -> dict[str, Any]:
    knobs = dict(knobs)
    seed = knobs.pop("seed")
    command = [
        "prlimit", f"--as={memory_mb * 1024 * 1024}", sys.executable, str(REPO / "benchmarks" / "sat_scaling.py"),
        "--worker", "layered", json.dumps({**knobs, "seed": seed}, sort_keys=True), "backtrack",
    ]
    loadavg = os.getloadavg()[0]
    wall, cpu, rss, rc, out, err = run_measured(command, None, timeout)
    row: dict[str, Any] = {"instance": label, "wall": wall, "cpu": cpu, "maxrss_mb": rss / 1024, "rc": rc, "loadavg": loadavg}
    if rc == 0:
        row.update(json.loads(out))
    else:
        tail = (err.strip().splitlines() or [f"exit {rc}"])[-1]
        row["error"] = "timed out" if wall >= timeout else ("out of memory" if "MemoryError" in err else tail)
    return row


def summarise(runs: list[Run], sets: list[str], tools: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sets:
        per: dict[str, Any] = {}
        for tool in tools:
            entry: dict[str, Any] = {}
            for phase in ("cold", "warm"):
                ok = [r for r in runs if r.set == name and r.tool == tool and r.phase == phase and r.rc == 0]
                failed = [r for r in runs if r.set == name and r.tool == tool and r.phase == phase and r.rc != 0]
                if not ok:
                    entry[phase] = {"failed": len(failed), "error": failed[0].error if failed else "not run"}
                    continue
                entry[phase] = {
                    "runs": len(ok), "failed": len(failed),
                    **{f"{key}_{stat}": fn(getattr(r, key) for r in ok) for key in ("wall", "cpu") for stat, fn in
                       (("min", min), ("median", statistics.median))},
                    "maxrss_mb_min": min(r.maxrss_kb for r in ok) / 1024,
                    "maxrss_mb_median": statistics.median(r.maxrss_kb for r in ok) / 1024,
                    "load_min": min(r.load for r in ok), "load_max": max(r.load for r in ok),
                }
                counted = [r for r in ok if r.requests is not None]
                if counted:
                    entry[phase]["requests_median"] = statistics.median(r.requests or 0 for r in counted)
                    entry[phase]["bytes_median"] = statistics.median(r.bytes or 0 for r in counted)
                if tool != "uv":
                    entry[phase]["solve_median"] = statistics.median(float(r.stats.get("seconds", 0.0)) for r in ok)
            versions = [r.versions for r in runs if r.set == name and r.tool == tool and r.rc == 0]
            entry["versions"] = versions[0] if versions else {}
            entry["versions_vary"] = any(v != versions[0] for v in versions[1:])
            per[tool] = entry
        if "backtrack" in per and "uv" in per:
            a, b = per["backtrack"]["versions"], per["uv"]["versions"]
            names = sorted(set(a) | set(b))
            per["disagreements"] = [f"{n}: {a.get(n, '-')} vs {b.get(n, '-')}" for n in names if a.get(n) != b.get(n)]
        out[name] = per
    return out


def print_tables(summary: dict[str, Any], tools: list[str], traffic: dict[str, tuple[int, int]]) -> None:
    print("\nCPU s (user+sys) min / median | peak RSS MB min / median | wall s min / median | requests, MB (cold):\n")
    print("| set | tool | phase | CPU s | peak RSS MB | wall s | requests | MB | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, per in summary.items():
        for tool in tools:
            for phase in ("cold", "warm"):
                p = per[tool].get(phase, {})
                if "cpu_min" not in p:
                    print(f"| `{name}` | {tool} | {phase} | failed: {p.get('error', '')[:80]} | | | | | |")
                    continue
                requests, size = p.get("requests_median"), p.get("bytes_median")
                if tool == "uv" and phase == "cold" and name in traffic:
                    requests, size = traffic[name]
                req = "-" if requests is None else f"{requests:.0f}"
                mb = "-" if size is None else f"{size / 1e6:.1f}"
                print(f"| `{name}` | {tool} | {phase} | {p['cpu_min']:.2f} / {p['cpu_median']:.2f} | "
                      f"{p['maxrss_mb_min']:.0f} / {p['maxrss_mb_median']:.0f} | {p['wall_min']:.2f} / {p['wall_median']:.2f} | "
                      f"{req} | {mb} | {p['load_min']:.1f}-{p['load_max']:.1f} |")
    print("\nVersions:")
    for name, per in summary.items():
        if per.get("disagreements"):
            print(f"  {name}: backtrack vs uv: " + "; ".join(per["disagreements"]))
        elif "disagreements" in per:
            print(f"  {name}: backtrack and uv chose the same versions")
        for tool in tools:
            if per[tool].get("versions_vary"):
                print(f"  {name}: {tool}: versions differ between rounds")


def print_generated(rows: list[dict[str, Any]]) -> None:
    print("\nGenerated, backtrack (the solve call; loading the scenario; the whole process's CPU and peak RSS):\n")
    print("| instance | solve s | load s | CPU s | peak RSS MB | rounds | load avg |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['instance']} | {r['error']} after {r['wall']:.1f} s | | {r['cpu']:.1f} | {r['maxrss_mb']:.0f} | | "
                  f"{r['loadavg']:.1f} |")
            continue
        verdict = "" if r.get("verified") else " (not verified)" if r.get("satisfiable") else " (unsolved)"
        print(f"| {r['instance']} | {r['total']:.2f}{verdict} | {r['load']:.2f} | {r['cpu']:.2f} | {r['maxrss_mb']:.0f} | "
              f"{r.get('rounds')} | {r['loadavg']:.1f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated, of backtrack, uv")
    parser.add_argument("--index-url", default=os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/")
    parser.add_argument("--uv", default=shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv")
    parser.add_argument("--python", default="3.11.7", help="target Python")
    parser.add_argument("--python-platform", help="target platform, uv's name (default: x86_64-manylinux_<this glibc>)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--rev", help="measure this commit's varsolve (git archive REV src), not the checkout's")
    parser.add_argument("--no-generated", action="store_true", help="skip the generated instances")
    parser.add_argument("--generated-only", action="store_true", help="only the generated instances")
    parser.add_argument("--generated-timeout", type=float, default=120.0)
    parser.add_argument("--memory-limit-mb", type=int, default=4096, help="address space of a generated run")
    parser.add_argument("--no-uv-traffic", action="store_true", help="no extra traced uv run for its requests and bytes")
    parser.add_argument("--json", type=Path, help="write every run and the summary here")
    args = parser.parse_args(argv)
    sets = [] if args.generated_only else [s.strip() for s in args.sets.split(",") if s.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for s in sets:
        if s not in SETS:
            parser.error(f"unknown set {s!r}")
    for t in tools:
        if t not in TOOLS:
            parser.error(f"unknown tool {t!r}")
    args.python_platform = args.python_platform or default_platform()
    args.pip = sys.executable  # uv's --python (an interpreter for builds); pip itself is not run
    with tempfile.TemporaryDirectory(prefix="varsolve-heavy-") as tmp_name:
        tmp = Path(tmp_name)
        runner = Tools(args)
        measured = "checkout"
        if args.rev:
            (tmp / "snapshot").mkdir()
            measured = snapshot(args.rev, tmp / "snapshot")
            paths = [str(tmp / "snapshot" / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
            os.environ["PYTHONPATH"] = os.pathsep.join(paths)
            runner.varsolve = [sys.executable, "-m", "varsolve.cli"]
        info: dict[str, Any] = {
            "machine": machine(), "varsolve": measured, "target": f"CPython {args.python} on {args.python_platform}",
            "index": args.index_url, "rounds": args.rounds, "load_start": os.getloadavg(),
            "uv": subprocess.run([args.uv, "--version"], capture_output=True, text=True).stdout.strip(),
        }
        print(f"Machine: {info['machine']}; load average {os.getloadavg()[0]:.2f} at start; varsolve: {measured}; {info['uv']}")
        runs: list[Run] = []
        for round_ in range(args.rounds if sets else 0):
            for i, name in enumerate(sets):
                shift = (round_ + i) % len(tools)
                for tool in tools[shift:] + tools[:shift]:
                    cache = tmp / f"{tool}-{name}-{round_}"
                    for phase in ("cold", "warm"):
                        run = run_set(runner, tool, name, cache, round_, phase)
                        runs.append(run)
                        status = "ok" if run.rc == 0 else f"FAILED rc={run.rc}: {run.error.splitlines()[-1] if run.error else ''}"
                        traffic = f" {run.requests} requests {run.bytes / 1e6:.1f} MB" if run.bytes is not None else ""
                        print(f"round {round_ + 1} {name:<22} {tool:<9} {phase} wall {run.wall:7.2f} s cpu {run.cpu:6.2f} s "
                              f"{run.maxrss_kb / 1024:5.0f} MB load {run.load:.2f}{traffic} {status}", flush=True)
                    shutil.rmtree(cache, ignore_errors=True)
        traffic_by_set: dict[str, tuple[int, int]] = {}
        if "uv" in tools and not args.no_uv_traffic:
            for name in sets:
                cache = tmp / f"uv-traffic-{name}"
                traffic_by_set[name] = uv_traffic(runner, SETS[name], cache)
                shutil.rmtree(cache, ignore_errors=True)
                requests, received = traffic_by_set[name]
                print(f"uv traffic {name}: {requests} requests, {received / 1e6:.1f} MB", flush=True)
        generated: list[dict[str, Any]] = []
        if not args.no_generated:
            for label, knobs in GENERATED:
                row = run_generated(label, knobs, args.generated_timeout, args.memory_limit_mb)
                generated.append(row)
                print(f"generated {label}: " + json.dumps({k: row.get(k) for k in (
                    "total", "load", "cpu", "maxrss_mb", "rounds", "satisfiable", "verified", "error")}), flush=True)
    summary = summarise(runs, sets, tools)
    info["load_end"] = os.getloadavg()
    print(f"\nLoad average at the end: {info['load_end'][0]:.2f}")
    if sets:
        print_tables(summary, tools, traffic_by_set)
    if generated:
        print_generated(generated)
    if args.json:
        args.json.write_text(json.dumps({
            **info, "runs": [asdict(r) for r in runs], "summary": summary, "uv_traffic": traffic_by_set, "generated": generated,
        }, indent=1, default=str) + "\n")
    failed = [r for r in runs if r.rc != 0] + [g for g in generated if "error" in g]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
