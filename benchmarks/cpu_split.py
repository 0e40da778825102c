"""Benchmark: where a real-index resolution's CPU time goes, by part, against its wall time
(docs/benchmarks.md, "Real index, session 8"). Issue 11 asks that "the time varsolve spends
outside the network (solver + parsing)" stay under 20% of the wall time; ``real_index.py``
reports the whole process's CPU time (every thread, start-up included), this script splits it.

    python benchmarks/cpu_split.py [--rounds 5] [--sets jupyter,...] [--strategy backtrack]
                                   [--index-url URL] [--json FILE]

Each round runs, per set, a fresh interpreter that resolves the set for CPython 3.11 on
``x86_64-manylinux_2_36`` against ``--index-url`` on an empty cache directory ("cold") and
then again on the cache it filled ("warm"), as ``varsolve -q resolve SET --format json`` does
(``varsolve.cli.main`` in that process). Named functions are wrapped to add the CPU time of the
thread that runs them (``time.thread_time``: waiting costs nothing) to their part, each part's
time *exclusive* of the other parts it calls (the resolver's thread parsing a page it fetched
itself counts as parsing, not as solving):

* ``solver``: the strategy and the verifier (``pipeline.solve`` on the resolver's thread);
* ``parsing``: project pages (JSON and HTML, grouping by version, rows and files of the
  releases read, the parsed-page cache read back), core metadata, a wheel's zip directory;
* ``cache``: cache entries made (the parsed-page encoding, hashes) and written or read;
* ``http``: the HTTP client (requests, TLS, reading bodies);
* ``other``: the rest of the process's CPU time (start-up and imports, the CLI, thread
  hand-offs, the fetch threads' bookkeeping).

Medians over the rounds, seconds and shares of the wall time; ``solver + parsing`` is issue 11's
measure. The wrappers cost about a microsecond a call (a few thousand calls a run).
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
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_index import SETS  # noqa: E402  (the six sets of issue 11, one list for both scripts)

PARTS: dict[str, list[str]] = {
    "solver": ["varsolve.pipeline:solve"],
    "parsing": [
        "varsolve.sources.pages:json_page_files",
        "varsolve.sources.pages:page_rows",
        "varsolve.sources.files:ProjectPage.from_json_files",
        "varsolve.sources.files:ProjectPage.from_rows",
        "varsolve.sources.files:ProjectPage.decode",
        "varsolve.sources.files:ProjectPage.files",
        "varsolve.sources.distmeta:parse_core_metadata",
        "varsolve.sources.lazyzip:RemoteWheel.dist_info_members",
        "varsolve.sources.cache:DiskCache.load_core_metadata",
        "varsolve.sources.cache:DiskCache.load_response_head",
    ],
    "cache": [
        "varsolve.sources.cache:_Entry.data",
        "varsolve.sources.cache:DiskCache._write",
        "varsolve.sources.cache:_read_entry",
    ],
    "http": ["varsolve.sources.http:HttpClient._request"],
}
ORDER = ("solver", "parsing", "cache", "http", "other")

# Run in the child interpreter: wrap PARTS, run the CLI, write the figures as JSON to argv[1].
CHILD = r"""
import importlib, json, resource, sys, threading, time, types
T0 = time.perf_counter()
PARTS = json.loads(sys.argv[2])
spent = {part: 0.0 for part in PARTS}
calls = {}
by_spec = {}
local = threading.local()
originals = {}

def wrap(part, spec):
    module_name, qualname = spec.split(":")
    owner = importlib.import_module(module_name)
    *path, attr = qualname.split(".")
    for step in path:
        owner = getattr(owner, step)
    raw = vars(owner)[attr]
    kind = type(raw) if isinstance(raw, (classmethod, staticmethod)) else None
    original = raw.__func__ if kind is not None else raw
    if not callable(original):
        raise SystemExit(f"cpu_split: {spec} is not a function")
    def wrapper(*args, **kwargs):
        stack = local.__dict__.setdefault("stack", [])
        frame = [time.thread_time(), 0.0]
        stack.append(frame)
        try:
            return original(*args, **kwargs)
        finally:
            stack.pop()
            elapsed = time.thread_time() - frame[0]
            spent[part] += elapsed - frame[1]
            by_spec[spec] = by_spec.get(spec, 0.0) + elapsed - frame[1]
            if stack:
                stack[-1][1] += elapsed
            calls[spec] = calls.get(spec, 0) + 1
    setattr(owner, attr, kind(wrapper) if kind is not None else wrapper)
    originals[id(original)] = wrapper

for part, specs in PARTS.items():
    for spec in specs:
        wrap(part, spec)
# Modules that imported a wrapped function by name before it was wrapped call the wrapper too.
for module in list(sys.modules.values()):
    if isinstance(module, types.ModuleType) and module.__name__.startswith("varsolve"):
        for name, value in list(vars(module).items()):
            if id(value) in originals and callable(value):
                setattr(module, name, originals[id(value)])

import contextlib, io
from varsolve import cli
out = io.StringIO()
code = 0
with contextlib.redirect_stdout(out):
    try:
        cli.main(sys.argv[3:])
    except SystemExit as exc:
        code = exc.code or 0
usage = resource.getrusage(resource.RUSAGE_SELF)
wall = time.perf_counter() - T0
doc = json.loads(out.getvalue()) if code == 0 else {}
with open(sys.argv[1], "w") as f:
    json.dump({
        "code": code, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "parts": spent, "calls": calls,
        "by_function": by_spec, "requests": doc.get("stats", {}).get("http", {}).get("requests"),
    }, f)
"""


def run_once(requirements: list[str], cache: Path, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = Path(handle.name)
    command = [
        sys.executable, "-c", CHILD, str(report), json.dumps(PARTS), "-q", "resolve", *requirements,
        "--strategy", args.strategy, "--python", "3.11", "--python-platform", "x86_64-manylinux_2_36",
        "--index-url", args.index_url, "--cache-dir", str(cache), "--format", "json",
    ]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    wall = time.perf_counter() - start  # the whole process, interpreter start-up included
    try:
        found = json.loads(report.read_text())
    except (OSError, ValueError):
        raise SystemExit(f"cpu_split: {' '.join(requirements)}: no figures ({proc.stderr.strip()[-300:]})") from None
    finally:
        report.unlink(missing_ok=True)
    if found["code"] != 0:
        raise SystemExit(f"cpu_split: {' '.join(requirements)}: exit {found['code']}: {proc.stderr.strip()[-300:]}")
    parts = dict(found["parts"])
    parts["other"] = max(0.0, found["cpu"] - sum(parts.values()))
    return {
        "wall": wall, "cpu": found["cpu"], "parts": parts, "requests": found["requests"], "calls": found["calls"],
        "by_function": found["by_function"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--strategy", default="backtrack")
    parser.add_argument("--index-url", default=os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    names = [n for n in args.sets.split(",") if n]
    unknown = [n for n in names if n not in SETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(SETS)}")
    print(f"load average {os.getloadavg()[0]:.2f} at start; strategy {args.strategy}; index {args.index_url}")
    runs: dict[tuple[str, str], list[dict[str, object]]] = {}
    for round_ in range(args.rounds):
        for name in names:
            cache = Path(tempfile.mkdtemp(prefix="varsolve-cpu-split-"))
            try:
                for phase in ("cold", "warm"):
                    found = run_once(SETS[name], cache, args)
                    runs.setdefault((name, phase), []).append(found)
                    wall, cpu = found["wall"], found["cpu"]
                    print(f"round {round_ + 1} {name:<20} {phase} wall {wall:.2f} s cpu {cpu:.2f} s", flush=True)
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.2f} at end\n")
    print("| set | phase | wall s | CPU s | " + " | ".join(ORDER) + " | solver + parsing |")
    print("|---|---|---|---|" + "---|" * len(ORDER) + "---|")
    for name in names:
        for phase in ("cold", "warm"):
            found = runs[(name, phase)]
            wall = statistics.median(float(r["wall"]) for r in found)  # type: ignore[arg-type]
            cpu = statistics.median(float(r["cpu"]) for r in found)  # type: ignore[arg-type]
            part = {p: statistics.median(float(r["parts"][p]) for r in found) for p in ORDER}  # type: ignore[index]
            cells = " | ".join(f"{part[p]:.3f} ({part[p] / wall:.0%})" for p in ORDER)
            both = part["solver"] + part["parsing"]
            label = " ".join(SETS[name])
            print(f"| `{label}` | {phase} | {wall:.2f} | {cpu:.2f} | {cells} | {both:.3f} (**{both / wall:.0%}**) |")
    if args.json:
        args.json.write_text(json.dumps({f"{n} {p}": r for (n, p), r in runs.items()}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
