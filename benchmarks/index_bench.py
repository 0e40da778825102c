"""Benchmark: resolution over HTTP by varsolve, pip and uv, cold and warm cache (docs/benchmarks.md,
section "Loopback index").

    python benchmarks/index_bench.py [--repeat N] [--public-index URL | --no-public] [--sets ...]

Loopback: every bundled scenario (``scenarios/variants/*.toml``) is built into an index
(``varsolve index build``: PEP 691 JSON + PEP 658 ``.metadata``) and served by ``varsolve index
serve`` on 127.0.0.1 (``Cache-Control: max-age=600`` on pages, like PyPI). For each scenario
its root requirements are resolved by

* ``varsolve -q resolve --scenario S --index-url URL`` (variant-aware, strategy ``backtrack``,
  the scenario's target),
* ``pip install --dry-run --report --only-binary :all:`` (pip 23.2.1 under Python 3.12; the
  scenarios target 3.12), and
* ``uv pip compile --only-binary :all: --python-version 3.12``,

each as a whole command (process start included), "cold" with an empty cache directory every
run and "warm" with a cache filled by a previous run; best of ``--repeat`` runs per scenario,
summed. pip and uv are variant-unaware: they read the same pages and install the non-variant
fallback; varsolve also reads ``*-variants.json``.

Public: a few everyday requirement sets against a real index (default
``$VARSOLVE_LIVE_INDEX_URL``, else https://pypi.org/simple/), for Python 3.12 on
x86_64-manylinux, same three tools, cold and warm.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PUBLIC_SETS = [["requests"], ["flask<3"], ["numpy", "scipy"], ["django", "djangorestframework"], ["pandas", "matplotlib"]]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VARSOLVE_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never")
    env.update(extra)
    return env


def find_python312() -> str:
    for path in [shutil.which("python3.12"), *sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python3.12"))]:
        if path and subprocess.run([path, "-m", "pip", "--version"], capture_output=True, env=clean_env()).returncode == 0:
            return path
    raise SystemExit("needs a Python 3.12 with pip")


def tool_versions(python312: str, uv: str) -> dict[str, str]:
    pip = subprocess.run([python312, "-m", "pip", "--version"], capture_output=True, text=True, env=clean_env()).stdout.split()[1]
    uv_version = subprocess.run([uv, "--version"], capture_output=True, text=True).stdout.split()[1]
    return {"pip": pip, "uv": uv_version}


def run(command: list[str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    r = subprocess.run(command, input=stdin, capture_output=True, text=True, env=clean_env(), cwd=REPO)
    elapsed = time.perf_counter() - start
    # Exit 1 is "no solution" for varsolve and pip; uv uses 1 as well. 2+ is a broken setup.
    if r.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({r.returncode}): {r.stderr.strip()[-500:]}")
    return elapsed


class Tools:
    def __init__(self, python312: str, uv: str, varsolve: list[str]) -> None:
        self.python312 = python312
        self.uv = uv
        self.varsolve = varsolve

    def command(self, tool: str, index_url: str, cache: Path, requirements: list[str], scenario: Path | None, python: str = "3.12"):
        if tool == "varsolve":
            source = ["--scenario", str(scenario)] if scenario else [*requirements, "--python", python]
            return [*self.varsolve, "-q", "resolve", *source, "--index-url", index_url, "--cache-dir", str(cache)], None
        if tool == "pip":
            return [
                self.python312, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "--quiet",
                "--only-binary", ":all:", "--report", os.devnull, "--index-url", index_url, "--cache-dir", str(cache),
                *requirements,
            ], None
        return [
            self.uv, "pip", "compile", "-", "--python", self.python312, "--python-version", python, "--quiet",
            "--only-binary", ":all:", "--index-url", index_url, "--cache-dir", str(cache),
            "--python-platform", "x86_64-manylinux_2_39",
        ], "\n".join(requirements) + "\n"

    def time(self, tool: str, index_url: str, requirements: list[str], scenario: Path | None, repeat: int, tmp: Path) -> tuple[float, float]:
        """Best cold and best warm wall time."""
        cold = warm = float("inf")
        for i in range(repeat):
            cache = Path(tempfile.mkdtemp(prefix=f"{tool}-", dir=tmp))
            command, stdin = self.command(tool, index_url, cache, requirements, scenario)
            cold = min(cold, run(command, stdin))
            warm = min(warm, run(command, stdin))
            shutil.rmtree(cache, ignore_errors=True)
        return cold, warm


def loopback(tools: Tools, repeat: int, tmp: Path) -> dict[str, list[float]]:
    from varsolve.index.builder import build_index
    from varsolve.index.server import IndexServer
    from varsolve.index.wheels import specialise_requirements
    from varsolve.sources.scenario import load_scenario

    totals = {tool: [0.0, 0.0] for tool in ("varsolve", "pip", "uv")}
    memory_total = 0.0
    scenarios = sorted((REPO / "scenarios" / "variants").glob("*.toml"))
    print("| scenario | varsolve in memory | varsolve cold | varsolve warm | pip cold | pip warm | uv cold | uv warm |")
    print("|---|---|---|---|---|---|---|---|")
    for scenario in scenarios:
        index = tmp / "indexes" / scenario.stem
        build_index(scenario, index)
        requirements = specialise_requirements(load_scenario(scenario).problem.requirements)
        # The same resolution without any source but the scenario: process start, imports, solving.
        memory = min(run([*tools.varsolve, "-q", "resolve", "--scenario", str(scenario)]) for _ in range(repeat))
        memory_total += memory
        row = [memory]
        with IndexServer(index) as server:
            for tool in ("varsolve", "pip", "uv"):
                cold, warm = tools.time(tool, server.index_url, requirements, scenario if tool == "varsolve" else None, repeat, tmp)
                totals[tool][0] += cold
                totals[tool][1] += warm
                row += [cold, warm]
        print(f"| {scenario.stem} | " + " | ".join(f"{t:.2f}" for t in row) + " |", flush=True)
    print(f"| **total** | **{memory_total:.2f}** | " + " | ".join(f"**{t:.2f}**" for tool in totals.values() for t in tool) + " |")
    return totals


def public(tools: Tools, index_url: str, sets: list[list[str]], repeat: int, tmp: Path) -> None:
    print(f"\nPublic index {index_url}, Python 3.12, x86_64-manylinux_2_39:\n")
    print("| requirements | varsolve cold | varsolve warm | pip cold | pip warm | uv cold | uv warm |")
    print("|---|---|---|---|---|---|---|")
    for requirements in sets:
        row = []
        for tool in ("varsolve", "pip", "uv"):
            row += tools.time(tool, index_url, requirements, None, repeat, tmp)
        print(f"| `{' '.join(requirements)}` | " + " | ".join(f"{t:.2f}" for t in row) + " |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the fastest counts")
    parser.add_argument("--public-index", default=os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/")
    parser.add_argument("--no-public", action="store_true", help="only the loopback set")
    parser.add_argument("--no-loopback", action="store_true", help="only the public sets")
    parser.add_argument("--public-repeat", type=int, default=2)
    args = parser.parse_args(argv)

    python312 = find_python312()
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise SystemExit("needs uv")
    script = Path(sys.executable).with_name("varsolve")
    tools = Tools(python312, uv, [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"])
    versions = tool_versions(python312, uv)
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    print(f"Machine: {os.cpu_count()} cores, {cpu}, {platform.system()} {platform.machine()}, "
          f"CPython {platform.python_version()} (varsolve), pip {versions['pip']} under {python312}, uv {versions['uv']}; "
          f"load average {os.getloadavg()[0]:.1f} at start.\n")
    with tempfile.TemporaryDirectory(prefix="varsolve-index-bench-") as tmp:
        if not args.no_loopback:
            totals = loopback(tools, args.repeat, Path(tmp))
            v, p, u = totals["varsolve"], totals["pip"], totals["uv"]
            print(f"\npip / varsolve: cold {p[0] / v[0]:.1f}x, warm {p[1] / v[1]:.1f}x; "
                  f"uv / varsolve: cold {u[0] / v[0]:.2f}x, warm {u[1] / v[1]:.2f}x")
        if not args.no_public:
            public(tools, args.public_index, PUBLIC_SETS, args.public_repeat, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
