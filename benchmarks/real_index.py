"""Benchmark: six real requirement sets against a public index, varsolve (``backtrack``, ``sat``;
``pep825`` on request) against pip and uv, cold and warm (docs/benchmarks.md, "Real index").

    python benchmarks/real_index.py [--rounds 5] [--sets requests,jupyter,...|more] [--tools ...]
                                    [--pip PYTHON] [--json FILE] [--index-url URL]

Every tool resolves for the same target: CPython ``--python`` (default: the version of the
interpreter pip runs under, 3.11.x) on ``--python-platform`` (default: this machine's glibc,
``x86_64-manylinux_2_N``), the platform pip sees natively:

* **varsolve**: ``varsolve -q resolve REQS --strategy S --python V --python-platform P
  --index-url URL --cache-dir C --format json`` (the JSON has the versions and varsolve's own
  statistics);
* **pip**: ``PYTHON -m pip install --isolated --dry-run --ignore-installed -q --report FILE
  --index-url URL --cache-dir C REQS`` under a CPython of the target's minor version (pip's own
  markers and tags: ``--python-version``/``--platform`` would force ``--only-binary :all:``;
  with its defaults pip, like the other two, may use an sdist when a version has no wheel);
* **uv**: ``uv pip compile - --no-header --no-annotate -q --python-version V
  --python-platform P --index-url URL --cache-dir C``.

Each round runs every set with every tool, the tools in a rotating order (so that a change of
load on the shared machine hits all of them), each tool "cold" (an empty cache directory) and
then "warm" (the same command on the cache it just filled). Per set and tool: min and median
wall time of the rounds, peak RSS (``wait4``'s ``ru_maxrss``, the largest of the process and
the children it waited for), CPU seconds (user + system: the time spent outside the network,
solver and parsing and start-up, of every thread), the versions chosen; for varsolve also its
``stats`` (``seconds`` in the strategy, ``source_wait_ms``: the resolver thread waiting on the
source). Ratios are taken between figures of the same run. Disagreements between the versions
chosen by ``backtrack``, pip and uv are reported (``sat``'s and ``pep825``'s separately: their
objectives may differ, docs/strategies.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SETS: dict[str, list[str]] = {
    "requests": ["requests"],
    "pandas-sklearn-mpl": ["pandas", "scikit-learn", "matplotlib"],
    "jupyter": ["jupyter"],
    "boto3-urllib3": ["boto3", "urllib3<2"],
    "torch": ["torch"],
    "numpy-pandas": ["numpy==1.26.4", "pandas>=2.2"],
}
# ``--sets more``: popular sets beyond the six, for agreement with uv and pip more than speed.
MORE_SETS: dict[str, list[str]] = {
    "django": ["django"],
    "flask": ["flask"],
    "fastapi": ["fastapi[standard]"],
    "scipy": ["scipy"],
    "transformers": ["transformers"],
    "requests-httpx": ["requests[socks]", "httpx[http2]"],
    "sqlalchemy-alembic": ["sqlalchemy[asyncio]", "alembic"],
    "pytest-hypothesis": ["pytest", "hypothesis"],
    "black-ruff-mypy": ["black", "ruff", "mypy"],
    "celery": ["celery[redis]"],
    "polars-pyarrow": ["polars", "pyarrow"],
    "old-matplotlib-numpy": ["matplotlib<3.8", "numpy<2"],
    "tensorflow": ["tensorflow"],
    "dask": ["dask[complete]"],
    "scrapy": ["scrapy"],
    "sphinx": ["sphinx"],
}
ALL_SETS = {**SETS, **MORE_SETS}
DEFAULT_TOOLS = ["backtrack", "sat", "pip", "uv"]
VARSOLVE_STRATEGIES = ("backtrack", "sat", "pep825")
_NAME = re.compile(r"[-_.]+")


def canonical(name: str) -> str:
    return _NAME.sub("-", name).lower()


def clean_env() -> dict[str, str]:
    """No user configuration of pip, uv or varsolve leaks into a run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VARSOLVE_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.update(UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never", PYTHONDONTWRITEBYTECODE="1")
    return env


@dataclass
class Run:
    set: str
    tool: str
    round: int
    phase: str  # cold | warm
    wall: float
    cpu: float
    maxrss_kb: int
    rc: int
    load: float
    versions: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def run_measured(command: list[str], stdin: str | None, timeout: float) -> tuple[float, float, int, int, str, str]:
    """Wall seconds, CPU seconds, peak RSS (KB), exit code, stdout, stderr of one process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL, stdout=out, stderr=err,
            env=clean_env(), cwd=tempfile.gettempdir(), start_new_session=True,
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin.encode())
            proc.stdin.close()
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.killpg(proc.pid, 9)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode,
                out.read().decode(errors="replace"), err.read().decode(errors="replace"))


class Tools:
    def __init__(self, args: argparse.Namespace) -> None:
        self.index_url = args.index_url
        self.python = args.python
        self.platform = args.python_platform
        self.pip_python = args.pip
        self.uv = args.uv
        script = Path(sys.executable).with_name("varsolve")
        self.varsolve = [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]
        self.timeout = args.timeout

    def run(
        self, tool: str, requirements: list[str], cache: Path
    ) -> tuple[float, float, int, int, dict[str, str], dict[str, Any], str]:
        stdin = None
        report = cache.with_suffix(".report.json")
        if tool in VARSOLVE_STRATEGIES:
            command = [
                *self.varsolve, "-q", "resolve", *requirements, "--strategy", tool, "--python", self.python,
                "--python-platform", self.platform, "--index-url", self.index_url, "--cache-dir", str(cache), "--format", "json",
            ]
        elif tool == "pip":
            command = [
                self.pip_python, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "-q",
                "--report", str(report), "--index-url", self.index_url, "--cache-dir", str(cache), *requirements,
            ]
        else:
            command = [
                self.uv, "pip", "compile", "-", "--no-header", "--no-annotate", "-q", "--python", self.pip_python,
                "--python-version", self.python, "--python-platform", self.platform,
                "--index-url", self.index_url, "--cache-dir", str(cache),
            ]
            stdin = "\n".join(requirements) + "\n"
        wall, cpu, rss, rc, out, err = run_measured(command, stdin, self.timeout)
        versions: dict[str, str] = {}
        stats: dict[str, Any] = {}
        error = ""
        try:
            if rc != 0:
                error = (err.strip() or out.strip())[-600:]
            elif tool in VARSOLVE_STRATEGIES:
                doc = json.loads(out)
                versions = {canonical(n): p["version"] for n, p in doc["packages"].items()}
                stats = doc.get("stats", {})
            elif tool == "pip":
                doc = json.loads(report.read_text())
                versions = {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in doc["install"]}
            else:
                for line in out.splitlines():
                    line = line.split("#", 1)[0].strip()
                    if "==" in line:
                        name, _, version = line.partition("==")
                        versions[canonical(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
        except (ValueError, KeyError, OSError) as exc:
            error = f"unreadable output ({exc}): {out[-300:]}"
        report.unlink(missing_ok=True)
        return wall, cpu, rss, rc, versions, stats, error


def tool_versions(tools: Tools) -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        r = subprocess.run(command, capture_output=True, text=True, env=clean_env())
        return (r.stdout or r.stderr).strip().splitlines()[0] if (r.stdout or r.stderr).strip() else "?"

    return {
        "varsolve": first_line([*tools.varsolve, "--version"]),
        "pip": first_line([tools.pip_python, "-m", "pip", "--version"]).split(" from ")[0],
        "pip python": first_line([tools.pip_python, "--version"]),
        "uv": first_line([tools.uv, "--version"]),
        "python (varsolve)": platform.python_version(),
    }


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "?")
    except OSError:
        pass
    system = f"{platform.system()} {platform.machine()}"
    return {"nproc": os.cpu_count(), "cpu": cpu, "system": system, "glibc": platform.libc_ver()[1]}


def default_platform() -> str:
    libc, version = platform.libc_ver()
    if libc != "glibc" or not version:
        raise SystemExit("give --python-platform (not a glibc Linux)")
    major, minor = version.split(".")[:2]
    return f"{platform.machine()}-manylinux_{major}_{minor}"


def summarise(runs: list[Run], sets: list[str], tools: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in sets:
        per: dict[str, Any] = {}
        for tool in tools:
            entry: dict[str, Any] = {}
            for phase in ("cold", "warm"):
                rs = [r for r in runs if r.set == name and r.tool == tool and r.phase == phase]
                ok = [r for r in rs if r.rc == 0]
                if not ok:
                    entry[phase] = {"failed": len(rs), "error": rs[0].error if rs else "not run"}
                    continue
                walls = [r.wall for r in ok]
                entry[phase] = {
                    "min": min(walls), "median": statistics.median(walls), "runs": len(ok), "failed": len(rs) - len(ok),
                    "cpu_median": statistics.median(r.cpu for r in ok),
                    "cpu_share": statistics.median(r.cpu / r.wall for r in ok),
                    "maxrss_mb": max(r.maxrss_kb for r in ok) / 1024,
                }
                if tool in VARSOLVE_STRATEGIES:
                    entry[phase]["solve_median"] = statistics.median(float(r.stats.get("seconds", 0.0)) for r in ok)
                    entry[phase]["wait_median"] = statistics.median(
                        float(r.stats.get("http", {}).get("source_wait_ms", 0)) / 1000 for r in ok
                    )
                    entry[phase]["requests_median"] = statistics.median(
                        int(r.stats.get("http", {}).get("requests", 0)) for r in ok
                    )
            versions = [r.versions for r in runs if r.set == name and r.tool == tool and r.rc == 0]
            entry["versions"] = versions[0] if versions else {}
            entry["versions_vary"] = any(v != versions[0] for v in versions[1:])
            per[tool] = entry
        ratios: dict[str, Any] = {}
        for tool in (t for t in tools if t in VARSOLVE_STRATEGIES):
            for other in ("uv", "pip"):
                if other not in per:
                    continue
                for phase in ("cold", "warm"):
                    mine, theirs = per[tool].get(phase, {}), per[other].get(phase, {})
                    if "median" in mine and "median" in theirs:
                        ratios[f"{tool}/{other} {phase}"] = {
                            "median": mine["median"] / theirs["median"], "min": mine["min"] / theirs["min"],
                        }
        per["ratios"] = ratios
        per["disagreements"] = disagreements({t: per[t]["versions"] for t in tools if per[t]["versions"]})
        out[name] = per
    return out


def disagreements(versions: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Per pair of tools (backtrack, pip, uv among themselves; sat and pep825 against uv),
    the packages whose version (or presence) differs."""
    pairs = [("backtrack", "uv"), ("backtrack", "pip"), ("pip", "uv"), ("sat", "uv"), ("pep825", "uv"), ("sat", "backtrack")]
    out: dict[str, list[str]] = {}
    for a, b in pairs:
        if a not in versions or b not in versions:
            continue
        va, vb = versions[a], versions[b]
        diff = [
            f"{n}: {va.get(n, '-')} vs {vb.get(n, '-')}" for n in sorted(set(va) | set(vb)) if va.get(n) != vb.get(n)
        ]
        if diff:
            out[f"{a} vs {b}"] = diff
    return out


def print_tables(summary: dict[str, Any], tools: list[str]) -> None:
    print("\n| set | tool | cold min | cold median | warm min | warm median | CPU/wall cold | CPU/wall warm | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, per in summary.items():
        for tool in tools:
            e = per[tool]
            cells = []
            for phase in ("cold", "warm"):
                p = e.get(phase, {})
                cells += [f"{p['min']:.2f}", f"{p['median']:.2f}"] if "min" in p else ["error", "error"]
            shares = [f"{e[p]['cpu_share']:.0%}" if "cpu_share" in e.get(p, {}) else "-" for p in ("cold", "warm")]
            rss = max((e[p]["maxrss_mb"] for p in ("cold", "warm") if "maxrss_mb" in e.get(p, {})), default=0.0)
            print(f"| `{name}` | {tool} | " + " | ".join(cells) + f" | {shares[0]} | {shares[1]} | {rss:.0f} |")
    print("\nRatios (median / median; min / min) from the same run; targets: varsolve/uv <= 1.5, varsolve/pip <= 0.5:\n")
    print("| set | ratio | cold (median; min) | warm (median; min) |")
    print("|---|---|---|---|")
    for name, per in summary.items():
        keys = sorted({k.rsplit(" ", 1)[0] for k in per["ratios"]})
        for key in keys:
            cells = []
            for phase in ("cold", "warm"):
                r = per["ratios"].get(f"{key} {phase}")
                cells.append(f"{r['median']:.2f}; {r['min']:.2f}" if r else "-")
            print(f"| `{name}` | {key} | {cells[0]} | {cells[1]} |")
    print("\nvarsolve's own split (medians, seconds): strategy time, of which the resolver waited on the source:\n")
    print("| set | strategy | cold: solve / wait / requests | warm: solve / wait / requests |")
    print("|---|---|---|---|")
    for name, per in summary.items():
        for tool in (t for t in tools if t in VARSOLVE_STRATEGIES):
            cells = []
            for phase in ("cold", "warm"):
                p = per[tool].get(phase, {})
                split = f"{p['solve_median']:.2f} / {p['wait_median']:.2f} / {p['requests_median']:.0f}"
                cells.append(split if "solve_median" in p else "-")
            print(f"| `{name}` | {tool} | {cells[0]} | {cells[1]} |")
    print("\nVersions:")
    for name, per in summary.items():
        varying = [t for t in tools if per[t].get("versions_vary")]
        if per["disagreements"] or varying:
            print(f"  {name}:")
            for pair, diff in per["disagreements"].items():
                print(f"    {pair}: " + "; ".join(diff))
            for tool in varying:
                print(f"    {tool}: versions differ between rounds")
        else:
            print(f"  {name}: every tool chose the same versions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(ALL_SETS)}; 'more': those after the six"
    )
    parser.add_argument("--tools", default=",".join(DEFAULT_TOOLS), help="comma-separated, of backtrack, sat, pep825, pip, uv")
    parser.add_argument("--index-url", default=os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/")
    parser.add_argument("--pip", default=sys.executable, help="a CPython of the target's minor version with pip installed")
    parser.add_argument("--uv", default=shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv")
    parser.add_argument("--python", help="target Python (default: the full version of --pip's interpreter)")
    parser.add_argument("--python-platform", help="target platform, uv's name (default: x86_64-manylinux_<this glibc>)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--json", type=Path, help="write every run and the summary here")
    args = parser.parse_args(argv)
    sets = [name for s in args.sets.split(",") if s.strip() for name in (MORE_SETS if s.strip() == "more" else [s.strip()])]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for s in sets:
        if s not in ALL_SETS:
            parser.error(f"unknown set {s!r}")
    for t in tools:
        if t not in (*VARSOLVE_STRATEGIES, "pip", "uv"):
            parser.error(f"unknown tool {t!r}")
    if args.python is None:
        args.python = subprocess.run(
            [args.pip, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True
        ).stdout.strip()
    args.python_platform = args.python_platform or default_platform()
    runner = Tools(args)
    info = {"machine": machine(), "tools": tool_versions(runner), "target": f"CPython {args.python} on {args.python_platform}",
            "index": args.index_url, "rounds": args.rounds, "load_start": os.getloadavg()}
    print(f"Machine: {info['machine']}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"Tools: {info['tools']}; target {info['target']}; index {args.index_url}")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="varsolve-real-index-") as tmp:
        for round_ in range(args.rounds):
            for i, name in enumerate(sets):
                shift = (round_ + i) % len(tools)
                for tool in tools[shift:] + tools[:shift]:
                    cache = Path(tmp) / f"{tool}-{name}-{round_}"
                    for phase in ("cold", "warm"):
                        load = os.getloadavg()[0]
                        wall, cpu, rss, rc, versions, stats, error = runner.run(tool, ALL_SETS[name], cache)
                        runs.append(Run(name, tool, round_, phase, wall, cpu, rss, rc, load, versions, stats, error))
                        status = "ok" if rc == 0 else f"FAILED rc={rc}: {error.splitlines()[-1] if error else ''}"
                        print(f"round {round_ + 1} {name:<20} {tool:<9} {phase} {wall:6.2f} s cpu {cpu:5.2f} s "
                              f"{rss / 1024:5.0f} MB load {load:.2f} {status}", flush=True)
                    shutil.rmtree(cache, ignore_errors=True)
    summary = summarise(runs, sets, tools)
    info["load_end"] = os.getloadavg()
    print(f"\nLoad average at the end: {info['load_end'][0]:.2f}")
    print_tables(summary, tools)
    if args.json:
        args.json.write_text(json.dumps({**info, "runs": [asdict(r) for r in runs], "summary": summary}, indent=1) + "\n")
    return 0 if all(r.rc == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
