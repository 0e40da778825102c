"""Benchmark: universal resolution against single-target resolution of the same input
(docs/benchmarks.md, "Universal resolution"). Issue 14's target: a universal resolution takes at
most twice the slowest single-target resolution of the same input.

    python benchmarks/universal.py [--rounds 5] [--sets jupyter,pandas-sklearn-mpl]
                                   [--strategies backtrack] [--no-uv] [--no-real]
                                   [--generated-strategies backtrack,sat,pep825]
                                   [--universes layered-50,...] [--no-generated]
                                   [--json FILE] [--index-url URL]

**(a) Real index.** Each requirement set (``requires-python >=3.10``) is resolved

* universally: ``varsolve -q resolve --universal --python-requires '>=3.10' REQS --strategy S
  --index-url URL --cache-dir C --format json``;
* for each of 12 targets, CPython 3.10/3.11/3.12/3.13 on ``linux``/``macos``/``windows`` (uv's
  names: x86_64 glibc 2.28, aarch64 macOS 13, x86_64 Windows): ``varsolve -q resolve REQS
  --strategy S --python V --python-platform P --index-url URL --cache-dir C --format json``;
* by the peer, ``uv lock --project D --python THIS --index-url URL --cache-dir C`` on a project
  ``D`` whose ``pyproject.toml`` has ``requires-python = ">=3.10"`` and the set as its
  dependencies (its ``uv.lock`` removed before every run).

Every run is a fresh process, "cold" (an empty cache directory of its own) and then "warm" (the
same command on the cache it just filled); each single target has its own cache. Each round runs
the jobs (universal, the 12 targets, uv lock) in a rotating order, so that a change of load on
the shared machine hits all of them. Reported per set: medians over the rounds (and minimums);
the slowest target is the one with the largest median; the ratio is universal median / slowest
target's median, cold with cold and warm with warm, from the same run; the sum of the 12 single
targets; the strategy's own time (``stats.seconds``: universal without its verification of every
fork); forks; and whether the universal resolution pins the same versions as ``uv.lock``.

**(b) Generated universes.** ``varsolve.generate`` families with the universal knobs
(``marker_split``, ``python_bumps``, ``universal``; docs/compare.md), a few sizes, each also
without splits and bumps (``plain``: one region, no forks); in this process, from memory, each
measurement on a freshly loaded scenario (loading not timed), after one untimed warm-up of each
kind: ``varsolve.universal.driver.resolve_universal`` (verified, as ``resolve --universal``) and
``varsolve.pipeline.solve`` (verified) for the same 12 targets, per strategy; medians over the
rounds, strategies in a rotating order.

Ratios are taken between figures of the same run. Prints markdown tables; ``--json`` writes
every run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_index import canonical, clean_env, machine, run_measured  # noqa: E402

SETS: dict[str, list[str]] = {
    "jupyter": ["jupyter"],
    "pandas-sklearn-mpl": ["pandas", "scikit-learn", "matplotlib"],
}
REQUIRES_PYTHON = ">=3.10"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
PLATFORMS = ("linux", "macos", "windows")
TARGETS = tuple(f"{py}/{plat}" for py in PYTHONS for plat in PLATFORMS)
STRATEGIES = ("backtrack", "sat", "pep825")
# family-size: the generated universes of (b); each with the knobs (split) and without (plain).
UNIVERSES = ("layered-25", "layered-50", "layered-100", "ecosystem-20", "ecosystem-40")
SPLIT = {"marker_split": 0.3, "python_bumps": 0.2}
SEED = 0


@dataclass
class Run:
    set: str
    job: str  # universal-S | single-S | uv
    target: str  # "universal", "3.10/linux", "uv lock"
    round: int
    phase: str  # cold | warm
    wall: float
    cpu: float
    maxrss_kb: int
    rc: int
    load: float
    seconds: float = 0.0  # the strategy's own time (stats.seconds)
    forks: int = 0
    solves: int = 0
    pins: list[str] = field(default_factory=list)  # name==version, universal and uv only
    error: str = ""


class Real:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        script = Path(sys.executable).with_name("varsolve")
        self.varsolve = [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]
        self.uv = args.uv
        self.index_url = args.index_url
        self.timeout = args.timeout
        self.tmp = tmp

    def universal(self, requirements: list[str], strategy: str, cache: Path) -> list[str]:
        return [
            *self.varsolve, "-q", "resolve", "--universal", "--python-requires", REQUIRES_PYTHON, *requirements,
            "--strategy", strategy, "--index-url", self.index_url, "--cache-dir", str(cache), "--format", "json",
        ]

    def single(self, requirements: list[str], strategy: str, target: str, cache: Path) -> list[str]:
        python, plat = target.split("/")
        return [
            *self.varsolve, "-q", "resolve", *requirements, "--strategy", strategy, "--python", python,
            "--python-platform", plat, "--index-url", self.index_url, "--cache-dir", str(cache), "--format", "json",
        ]

    def project(self, name: str, requirements: list[str]) -> Path:
        project = self.tmp / f"project-{name}"
        project.mkdir(exist_ok=True)
        deps = ", ".join(json.dumps(r) for r in requirements)
        (project / "pyproject.toml").write_text(
            f'[project]\nname = "bench-{name}"\nversion = "0.0.0"\nrequires-python = "{REQUIRES_PYTHON}"\n'
            f"dependencies = [{deps}]\n",
            encoding="utf-8",
        )
        return project

    def uv_lock(self, project: Path, cache: Path) -> list[str]:
        (project / "uv.lock").unlink(missing_ok=True)
        return [
            self.uv, "lock", "--project", str(project), "--python", sys.executable, "--index-url", self.index_url,
            "--cache-dir", str(cache), "-q",
        ]

    def measure(self, set_name: str, job: str, target: str, round_: int, phase: str,
                command: list[str], project: Path | None = None) -> Run:
        load = os.getloadavg()[0]
        wall, cpu, rss, rc, out, err = run_measured(command, None, self.timeout)
        run = Run(set_name, job, target, round_, phase, wall, cpu, rss, rc, load)
        try:
            if rc != 0:
                run.error = (err.strip() or out.strip())[-600:]
            elif project is not None:
                lock = tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))
                run.forks = max(1, len(lock.get("resolution-markers", [])))
                run.pins = sorted(
                    f"{canonical(p['name'])}=={p['version']}" for p in lock.get("package", [])
                    if not str(p.get("name", "")).startswith("bench-")
                )
            else:
                doc = json.loads(out)
                stats = doc.get("stats", {})
                run.seconds = float(stats.get("seconds", 0.0))
                if doc.get("universal"):
                    run.forks = len(doc.get("forks", []))
                    run.solves = int(stats.get("solves", 0))
                    run.pins = sorted({f"{canonical(p['name'])}=={p['version']}" for p in doc.get("packages", [])})
                if doc.get("satisfiable") is False:
                    run.rc, run.error = 1, "unsatisfiable"
        except (ValueError, KeyError, OSError, tomllib.TOMLDecodeError) as exc:
            run.rc, run.error = 1, f"unreadable output ({exc}): {out[-300:]}"
        status = "ok" if run.rc == 0 else f"FAILED rc={run.rc}: {run.error.splitlines()[-1] if run.error else ''}"
        print(f"round {round_ + 1} {set_name:<20} {job:<18} {target:<12} {phase} {wall:6.2f} s cpu {cpu:5.2f} s "
              f"{rss / 1024:5.0f} MB load {load:.2f} {status}", flush=True)
        return run


def run_real(args: argparse.Namespace, sets: list[str], strategies: list[str]) -> list[Run]:
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="varsolve-universal-") as name:
        tmp = Path(name)
        real = Real(args, tmp)
        jobs = [f"universal-{s}" for s in strategies] + [f"single-{s}" for s in strategies] + ([] if args.no_uv else ["uv"])
        for round_ in range(args.rounds):
            for i, set_name in enumerate(sets):
                requirements = SETS[set_name]
                shift = (round_ + i) % len(jobs)
                for job in jobs[shift:] + jobs[:shift]:
                    kind, _, strategy = job.partition("-")
                    targets = TARGETS if kind == "single" else ("uv lock" if kind == "uv" else "universal",)
                    for target in targets:
                        cache = tmp / f"cache-{set_name}-{job}-{target.replace('/', '-').replace(' ', '-')}-{round_}"
                        project = real.project(set_name, requirements) if kind == "uv" else None
                        for phase in ("cold", "warm"):
                            if kind == "universal":
                                command = real.universal(requirements, strategy, cache)
                            elif kind == "single":
                                command = real.single(requirements, strategy, target, cache)
                            else:
                                assert project is not None
                                command = real.uv_lock(project, cache)
                            runs.append(real.measure(set_name, job, target, round_, phase, command, project))
                        shutil.rmtree(cache, ignore_errors=True)
    return runs


def _stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values)} if values else {}


def summarise_real(runs: list[Run], sets: list[str], strategies: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for set_name in sets:
        per: dict[str, Any] = {}
        mine = [r for r in runs if r.set == set_name]
        uv_runs = [r for r in mine if r.job == "uv"]
        uv: dict[str, Any] = {}
        for phase in ("cold", "warm"):
            ok = [r for r in uv_runs if r.phase == phase and r.rc == 0]
            uv[phase] = _stats([r.wall for r in ok]) | {"failed": sum(1 for r in uv_runs if r.phase == phase and r.rc)}
        ok_uv = [r for r in uv_runs if r.rc == 0]
        uv["forks"] = ok_uv[0].forks if ok_uv else 0
        uv["pins"] = ok_uv[0].pins if ok_uv else []
        if uv_runs:
            per["uv"] = uv
        for strategy in strategies:
            entry: dict[str, Any] = {}
            for phase in ("cold", "warm"):
                uni = [r for r in mine if r.job == f"universal-{strategy}" and r.phase == phase]
                ok = [r for r in uni if r.rc == 0]
                phase_entry: dict[str, Any] = {"universal": _stats([r.wall for r in ok]), "failed": len(uni) - len(ok)}
                phase_entry["universal_seconds"] = _stats([r.seconds for r in ok])
                singles: dict[str, dict[str, float]] = {}
                single_seconds: dict[str, float] = {}
                for target in TARGETS:
                    rs = [r for r in mine if r.job == f"single-{strategy}" and r.target == target and r.phase == phase]
                    good = [r for r in rs if r.rc == 0]
                    phase_entry["failed"] += len(rs) - len(good)
                    if good:
                        singles[target] = _stats([r.wall for r in good])
                        single_seconds[target] = statistics.median(r.seconds for r in good)
                phase_entry["singles"] = singles
                if singles and ok:
                    slowest = max(singles, key=lambda t: singles[t]["median"])
                    phase_entry["slowest"] = slowest
                    phase_entry["slowest_median"] = singles[slowest]["median"]
                    phase_entry["sum_median"] = sum(s["median"] for s in singles.values())
                    phase_entry["ratio"] = phase_entry["universal"]["median"] / singles[slowest]["median"]
                    phase_entry["ratio_min"] = phase_entry["universal"]["min"] / max(s["min"] for s in singles.values())
                    phase_entry["seconds_ratio"] = (
                        phase_entry["universal_seconds"]["median"] / max(max(single_seconds.values()), 1e-9)
                    )
                    if "median" in uv.get(phase, {}):
                        phase_entry["uv_ratio"] = phase_entry["universal"]["median"] / uv[phase]["median"]
                entry[phase] = phase_entry
            ok_all = [r for r in mine if r.job == f"universal-{strategy}" and r.rc == 0]
            entry["forks"] = sorted({r.forks for r in ok_all})
            entry["solves"] = sorted({r.solves for r in ok_all})
            entry["pins_vary"] = any(r.pins != ok_all[0].pins for r in ok_all[1:]) if ok_all else False
            pins = set(ok_all[0].pins) if ok_all else set()
            if uv["pins"]:
                theirs = set(uv["pins"])
                entry["vs_uv"] = {"only_varsolve": sorted(pins - theirs), "only_uv": sorted(theirs - pins)}
            entry["packages"] = len(pins)
            per[strategy] = entry
        out[set_name] = per
    return out


# ---------------------------------------------------------------------------------------------
# (b) generated universes


def universe_text(name: str, split: bool) -> str:
    from varsolve.generate import ecosystem, layered

    family, _, size = name.partition("-")
    knobs: dict[str, Any] = dict(SPLIT) if split else {}
    if family == "layered":
        return layered.generate(seed=SEED, packages=int(size), universal=True, **knobs)
    if family == "ecosystem":
        return ecosystem.generate(seed=SEED, leaves=int(size), universal=True, **knobs)
    raise SystemExit(f"unknown universe {name!r} (family-size: layered-N, ecosystem-N)")


def time_universal(text: str, strategy: str) -> dict[str, Any]:
    from varsolve.generate import load
    from varsolve.strategies import get_strategy
    from varsolve.universal.driver import resolve_universal

    scenario = load(text)
    gc.collect()
    start = time.perf_counter()
    result = resolve_universal(scenario.problem, get_strategy(strategy), requires_python=scenario.requires_python)
    wall = time.perf_counter() - start
    return {
        "wall": wall, "seconds": float(result.stats.get("seconds", 0.0)), "forks": len(result.forks),
        "solves": int(result.stats.get("solves", 0)), "satisfiable": result.satisfiable,
        "violations": sorted({v.kind for _, _, v in result.violations}),
    }


def time_single(text: str, strategy: str, target: str) -> dict[str, Any]:
    from varsolve.generate import load
    from varsolve.pipeline import solve
    from varsolve.strategies import get_strategy

    scenario = load(text)
    python, plat = target.split("/")
    problem = replace(scenario.problem, target=scenario.problem.target.with_python(python).with_platform(plat))
    gc.collect()
    start = time.perf_counter()
    resolution = solve(problem, get_strategy(strategy))
    wall = time.perf_counter() - start
    return {
        "wall": wall, "seconds": float(resolution.stats.get("seconds", 0.0)), "satisfiable": resolution.satisfiable,
        "violations": sorted({v.kind for v in resolution.violations}),
    }


def run_generated(args: argparse.Namespace, universes: list[str], strategies: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in universes:
        for split in (True, False):
            text = universe_text(name, split)
            label = f"{name} {'split' if split else 'plain'}"
            for strategy in strategies:  # warm-up, not counted
                time_universal(text, strategy)
                time_single(text, strategy, TARGETS[0])
            for round_ in range(args.rounds):
                shift = round_ % len(strategies)
                for strategy in strategies[shift:] + strategies[:shift]:
                    u = time_universal(text, strategy)
                    rows.append({"universe": label, "strategy": strategy, "round": round_, "target": "universal", **u})
                    singles = []
                    for target in TARGETS:
                        s = time_single(text, strategy, target)
                        rows.append({"universe": label, "strategy": strategy, "round": round_, "target": target, **s})
                        singles.append(s["wall"])
                    print(f"round {round_ + 1} {label:<22} {strategy:<9} universal {u['wall']:7.3f} s "
                          f"({u['forks']} forks, {u['solves']} solves) slowest single {max(singles):7.3f} s "
                          f"load {os.getloadavg()[0]:.2f}", flush=True)
    return rows


def summarise_generated(rows: list[dict[str, Any]], universes: list[str], strategies: list[str]) -> list[dict[str, Any]]:
    out = []
    for label in dict.fromkeys(r["universe"] for r in rows):
        for strategy in strategies:
            mine = [r for r in rows if r["universe"] == label and r["strategy"] == strategy]
            uni = [r for r in mine if r["target"] == "universal"]
            if not uni:
                continue
            singles = {t: [r for r in mine if r["target"] == t] for t in TARGETS}
            medians = {t: statistics.median(r["wall"] for r in rs) for t, rs in singles.items()}
            seconds = {t: statistics.median(r["seconds"] for r in rs) for t, rs in singles.items()}
            slowest = max(medians, key=lambda t: medians[t])
            u_median = statistics.median(r["wall"] for r in uni)
            u_seconds = statistics.median(r["seconds"] for r in uni)
            out.append({
                "universe": label, "strategy": strategy, "forks": sorted({r["forks"] for r in uni}),
                "solves": sorted({r["solves"] for r in uni}),
                "satisfiable": all(r["satisfiable"] for r in mine),
                "violations": sorted({v for r in mine for v in r["violations"]}),
                "universal_median": u_median, "universal_min": min(r["wall"] for r in uni),
                "slowest": slowest, "slowest_median": medians[slowest], "sum_median": sum(medians.values()),
                "ratio": u_median / medians[slowest], "seconds_ratio": u_seconds / max(max(seconds.values()), 1e-9),
                "sum_ratio": u_median / sum(medians.values()),
            })
    return out


# ---------------------------------------------------------------------------------------------
# output


def _fmt(entry: dict[str, float]) -> str:
    return f"{entry['median']:.2f} ({entry['min']:.2f})" if entry else "failed"


def print_real(summary: dict[str, Any], strategies: list[str]) -> None:
    print("\n(a) Real index, requires-python >=3.10: medians over the rounds (min), seconds; ratio = universal / "
          "slowest of the 12 single targets (median / median), same phase, same run:\n")
    print("| set | strategy | phase | universal | slowest single (target) | sum of 12 singles | ratio | "
          "strategy-time ratio | uv lock | universal / uv lock |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for set_name, per in summary.items():
        uv = per.get("uv", {})
        for strategy in strategies:
            for phase in ("cold", "warm"):
                e = per[strategy][phase]
                if "ratio" not in e:
                    print(f"| `{set_name}` | {strategy} | {phase} | failed ({e['failed']}) | | | | | | |")
                    continue
                uv_cell = _fmt(uv.get(phase, {})) if uv else "-"
                uv_ratio = f"{e['uv_ratio']:.1f}" if "uv_ratio" in e else "-"
                print(f"| `{set_name}` | {strategy} | {phase} | {_fmt(e['universal'])} | {e['slowest_median']:.2f} "
                      f"({e['slowest']}) | {e['sum_median']:.2f} | **{e['ratio']:.1f}** | {e['seconds_ratio']:.1f} | "
                      f"{uv_cell} | {uv_ratio} |")
    print("\nSingle targets, median seconds (cold / warm):\n")
    header = "| set | strategy | " + " | ".join(TARGETS) + " |"
    print(header)
    print("|" + "---|" * (len(TARGETS) + 2))
    for set_name, per in summary.items():
        for strategy in strategies:
            cells = []
            for target in TARGETS:
                c = per[strategy]["cold"]["singles"].get(target)
                w = per[strategy]["warm"]["singles"].get(target)
                cells.append(f"{c['median']:.2f} / {w['median']:.2f}" if c and w else "failed")
            print(f"| `{set_name}` | {strategy} | " + " | ".join(cells) + " |")
    print("\nForks and pins:\n")
    for set_name, per in summary.items():
        uv = per.get("uv")
        if uv:
            print(f"  {set_name}: uv lock {len(uv['pins'])} packages, {uv['forks']} resolution-markers fork(s)")
        for strategy in strategies:
            e = per[strategy]
            same = ""
            if "vs_uv" in e:
                diff = e["vs_uv"]
                same = ("same pins as uv lock" if not diff["only_varsolve"] and not diff["only_uv"] else
                        f"differs from uv lock: only varsolve {diff['only_varsolve']}, only uv {diff['only_uv']}")
            vary = "; pins vary between rounds" if e["pins_vary"] else ""
            print(f"  {set_name}: {strategy}: {e['packages']} packages, forks {e['forks']}, solves {e['solves']}; {same}{vary}")


def print_generated(summary: list[dict[str, Any]]) -> None:
    print("\n(b) Generated universes (seed 0; split: marker_split=0.3 python_bumps=0.2; plain: neither), "
          "universal=true, medians over the rounds, seconds:\n")
    print("| universe | strategy | forks / solves | universal | slowest single (target) | sum of 12 | ratio | "
          "strategy-time ratio | universal / sum |")
    print("|---|---|---|---|---|---|---|---|---|")
    for e in summary:
        forks = ",".join(map(str, e["forks"]))
        solves = ",".join(map(str, e["solves"]))
        note = "" if e["satisfiable"] else " (unsatisfiable!)"
        if e["violations"]:
            note += " violations: " + ",".join(e["violations"])
        print(f"| {e['universe']} | {e['strategy']} | {forks} / {solves} | {e['universal_median']:.3f} | "
              f"{e['slowest_median']:.3f} ({e['slowest']}) | {e['sum_median']:.3f} | **{e['ratio']:.1f}** | "
              f"{e['seconds_ratio']:.1f} | {e['sum_ratio']:.2f}{note} |")


def run_on_snapshot(argv: list[str]) -> int:
    """This script, with ``argv``, on ``git archive HEAD``'s ``src`` (and a ``COMMIT`` file)."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="varsolve-snapshot-") as name:
        snap = Path(name)
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        archive = subprocess.run(["git", "-C", str(repo), "archive", "HEAD", "src"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(snap)], input=archive.stdout, check=True)
        (snap / "COMMIT").write_text(head.stdout.strip() + "\n", encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(snap / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]))
        return subprocess.run([sys.executable, str(Path(__file__).resolve()), *argv], env=env).returncode


def source_commit() -> str:
    """The commit of the varsolve being measured: a ``COMMIT`` file beside its ``src`` (a
    snapshot made by ``git archive``, put first on PYTHONPATH so that commits landing during a
    run do not change what is measured), else ``git rev-parse HEAD`` there (``+dirty`` when
    its sources differ from that commit)."""
    import varsolve

    root = Path(varsolve.__file__).resolve().parents[2]
    if (root / "COMMIT").is_file():
        return (root / "COMMIT").read_text(encoding="utf-8").strip() + f" (snapshot {root})"
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "src"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def tool_versions(uv: str) -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        try:
            r = subprocess.run(command, capture_output=True, text=True, env=clean_env(), timeout=60)
        except OSError:
            return "?"
        text = (r.stdout or r.stderr).strip()
        return text.splitlines()[0] if text else "?"

    script = Path(sys.executable).with_name("varsolve")
    varsolve = [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]
    return {"varsolve": first_line([*varsolve, "--version"]), "uv": first_line([uv, "--version"]),
            "python": platform.python_version()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--strategies", default="backtrack", help="real index: comma-separated, of " + ", ".join(STRATEGIES))
    parser.add_argument("--generated-strategies", default=",".join(STRATEGIES), help="generated universes")
    parser.add_argument("--universes", default=",".join(UNIVERSES), help="generated: comma-separated FAMILY-SIZE")
    parser.add_argument("--index-url", default=os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple")
    parser.add_argument("--uv", default=shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv") or "uv")
    parser.add_argument("--no-uv", action="store_true", help="no uv lock peer")
    parser.add_argument("--no-real", action="store_true", help="skip (a), the real index")
    parser.add_argument("--no-generated", action="store_true", help="skip (b), the generated universes")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per real-index run")
    parser.add_argument("--json", type=Path, help="write every run and the summaries here")
    parser.add_argument(
        "--snapshot", action="store_true",
        help="measure the committed sources (git archive HEAD) in a temporary directory put first on PYTHONPATH, "
        "so that commits landing during the run change nothing",
    )
    args = parser.parse_args(argv)
    if args.snapshot:
        return run_on_snapshot([a for a in (sys.argv[1:] if argv is None else argv) if a != "--snapshot"])
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    generated_strategies = [s.strip() for s in args.generated_strategies.split(",") if s.strip()]
    universes = [u.strip() for u in args.universes.split(",") if u.strip()]
    for s in sets:
        if s not in SETS:
            parser.error(f"unknown set {s!r}")
    for s in (*strategies, *generated_strategies):
        if s not in STRATEGIES:
            parser.error(f"unknown strategy {s!r}")
    info: dict[str, Any] = {
        "machine": machine(), "tools": tool_versions(args.uv), "index": args.index_url, "rounds": args.rounds,
        "load_start": os.getloadavg(), "commit": source_commit(), "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }
    print(f"Machine: {info['machine']}; load average {os.getloadavg()[0]:.2f} at start")
    print(f"Tools: {info['tools']}; varsolve at {info['commit']}; index {args.index_url}; rounds {args.rounds}")
    real_runs: list[Run] = []
    real_summary: dict[str, Any] = {}
    if not args.no_real:
        real_runs = run_real(args, sets, strategies)
        real_summary = summarise_real(real_runs, sets, strategies)
    generated_rows: list[dict[str, Any]] = []
    generated_summary: list[dict[str, Any]] = []
    if not args.no_generated:
        generated_rows = run_generated(args, universes, generated_strategies)
        generated_summary = summarise_generated(generated_rows, universes, generated_strategies)
    info["load_end"] = os.getloadavg()
    print(f"\nLoad average at the end: {info['load_end'][0]:.2f}")
    if real_summary:
        print_real(real_summary, strategies)
    if generated_summary:
        print_generated(generated_summary)
    if args.json:
        args.json.write_text(json.dumps({
            **info, "real": {"runs": [asdict(r) for r in real_runs], "summary": real_summary},
            "generated": {"runs": generated_rows, "summary": generated_summary},
        }, indent=1) + "\n")
    failed = any(r.rc != 0 for r in real_runs) or any(not e["satisfiable"] for e in generated_summary)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
