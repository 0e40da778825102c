"""Benchmark: how much slower than one target is a universal resolution, for uv itself?

    python benchmarks/universal_uv_peer.py [--rounds 3] [--universes layered-25,layered-50] [--json FILE]

Issue 14 asks that varsolve's universal resolution take at most twice the slowest single-target
resolution of the same input. This measures the same ratio for the peer, uv 0.13.9, on the
generated universes of ``benchmarks/universal.py`` (b), with the same split knobs
(``marker_split=0.3 python_bumps=0.2``) but one build per release and nothing unified, because
``uv lock`` leaves variant wheels out (docs/universal.md): each universe is built into a real
index (varsolve's builder), served on loopback (varsolve's server), and

* ``uv lock`` (the universal resolution, ``--no-cache``, tests/uv_universal.py's project), and
* ``uv pip compile - --no-cache --python-version PY --python-platform PLAT`` for each of the
  12 targets of ``benchmarks/universal.py`` (Python 3.10-3.13 x linux, macos, windows),

timed by what uv itself reports for the resolution ("Resolved N packages in ..."; fetching the
loopback index's pages and metadata included, interpreter discovery and start-up not),
run in turn, each round in a rotating order. varsolve's universal and single-target
resolutions of the same universes (``backtrack``) are measured in the same rounds twice:
``varsolve-index`` the same way as uv (``varsolve resolve [--universal]`` against the served
index, ``--no-cache``, timed by its own ``stats.seconds``), ``varsolve`` in this process from
memory, verification included, as ``benchmarks/universal.py`` (b) does. Prints, per universe and
tool, the medians and the ratio universal / slowest single target.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))

SPLIT = {"marker_split": 0.3, "python_bumps": 0.2}
UNIVERSES = ("layered-25", "layered-50", "layered-100")


def universe_text(name: str) -> str:
    from varsolve.generate import layered

    family, _, size = name.partition("-")
    if family != "layered":
        raise SystemExit(f"unknown universe {name!r} (layered-N)")
    text = layered.generate(
        seed=0, packages=int(size), variants=1, unified=0, variant_dependencies=0.0, universal=True, **SPLIT
    )
    return without_variants(text)


def without_variants(text: str) -> str:
    """The universe with each release's one build as a plain wheel: what uv lock can read."""
    import tomli_w

    data = tomllib.loads(text)
    data["resolver_options"].pop("unify", None)
    data.pop("environment", None)
    for package in data["packages"].values():
        for release in package["versions"].values():
            release.pop("variants", None)
            release["wheel"] = True
    return tomli_w.dumps(data)


def timed(command: list[str], cwd: Path, stdin: str | None = None) -> float:
    """uv's own figure for its resolution ("Resolved N packages in 112ms"): the whole command
    spends most of its time elsewhere on these small universes (finding interpreters, about
    0.4-1.3 s per ``uv pip compile`` here), which would flatter the ratio."""
    from index_helpers import clean_env

    env = clean_env(NO_COLOR="1")
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed: {done.stderr.strip().splitlines()[-1:]}")
    found = re.search(r"Resolved \d+ packages? in ([\d.]+)(ms|s)\b", done.stderr)
    if found is None:
        raise SystemExit(f"{' '.join(command[:3])} did not say how long it resolved: {done.stderr[-300:]}")
    return float(found.group(1)) / (1000 if found.group(2) == "ms" else 1)


def varsolve_reported(command: list[str], cwd: Path) -> float:
    """varsolve's own figure, ``stats.seconds`` of its JSON (the strategy's time, waiting for the
    index included; verification and start-up not), to set beside uv's."""
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"varsolve failed: {done.stderr.strip().splitlines()[-1:]}")
    return float(json.loads(done.stdout)["stats"]["seconds"])


def measure(name: str, rounds: int, binary: str) -> list[dict[str, Any]]:
    """Every job of one universe, ``rounds`` times after a warm-up, in a rotating order."""
    from universal import TARGETS, time_single, time_universal

    from uv_universal import _project, choose_python, served_scenario

    text = universe_text(name)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="varsolve-uv-peer-") as tmp:
        scenario = Path(tmp) / f"{name}.toml"
        scenario.write_text(text, encoding="utf-8")
        data = tomllib.loads(text)
        project = _project(data)
        requirements = "\n".join(data["root"]["requires"]) + "\n"
        workdir = Path(tmp) / "project"
        workdir.mkdir()
        (workdir / "pyproject.toml").write_text(project.pyproject, encoding="utf-8")
        python = choose_python(project.requires_python, project.python)
        with served_scenario(scenario, Path(tmp)) as url:
            common = ["--no-cache", "--color", "never", "--no-config", "--index-url", url]

            def uv_single(py: str, plat: str) -> float:
                command = [binary, "pip", "compile", "-", *common, "--python-version", py, "--python-platform", plat]
                return timed([*command, "--no-header"], workdir, requirements)

            reqs = list(data["root"]["requires"])
            served = ["--index-url", url, "--no-cache", "--format", "json", *reqs]

            def varsolve_seconds(*options: str) -> float:
                return varsolve_reported([sys.executable, "-m", "varsolve.cli", "-q", "resolve", *options, *served], workdir)

            jobs = {
                "uv universal": lambda: timed([binary, "lock", *common, "--python", python], workdir),
                "varsolve universal": lambda: time_universal(text, "backtrack")["wall"],
                "varsolve-index universal": lambda: varsolve_seconds("--universal", "--python-requires", project.requires_python),
            }
            for target in TARGETS:
                py, plat = target.split("/")
                jobs[f"uv {target}"] = lambda py=py, plat=plat: uv_single(py, plat)
                jobs[f"varsolve {target}"] = lambda target=target: time_single(text, "backtrack", target)["wall"]
                jobs[f"varsolve-index {target}"] = lambda py=py, plat=plat: varsolve_seconds(
                    "--python", py, "--python-platform", plat
                )
            for job in jobs.values():  # warm-up, not counted
                job()
            names = list(jobs)
            for round_ in range(rounds):
                shift = (round_ * 5) % len(names)
                for job_name in names[shift:] + names[:shift]:
                    (workdir / "uv.lock").unlink(missing_ok=True)
                    rows.append({"universe": name, "job": job_name, "round": round_, "wall": jobs[job_name]()})
    return rows


def report(name: str, rows: list[dict[str, Any]]) -> None:
    for tool in ("uv", "varsolve-index", "varsolve"):
        walls: dict[str, list[float]] = {}
        for row in rows:
            if row["universe"] == name and row["job"].startswith(tool + " "):
                walls.setdefault(row["job"].split(" ", 1)[1], []).append(row["wall"])
        med = {job: statistics.median(values) for job, values in walls.items()}
        universal = med.pop("universal")
        slowest = max(med, key=lambda job: med[job])
        print(
            f"{name:<12} {tool:<9} universal {universal:7.3f} s  slowest single {med[slowest]:7.3f} s ({slowest})"
            f"  sum of 12 {sum(med.values()):7.3f} s  ratio {universal / med[slowest]:5.1f}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    from index_helpers import uv

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--universes", default=",".join(UNIVERSES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    binary = uv()
    if binary is None:
        raise SystemExit("uv is not installed next to this interpreter")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"load average {os.getloadavg()[0]:.2f}; {version}")
    rows: list[dict[str, Any]] = []
    for name in args.universes.split(","):
        rows += measure(name, args.rounds, binary)
        report(name, rows)
    print(f"load average {os.getloadavg()[0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
