"""What ``uv lock`` decides for each of packse 0.3.59's universal scenarios, as JSON.

    python benchmarks/uv_universal_dump.py OUT.json [--scenarios DIR] [--timeout 60]

Every scenario with ``[resolver_options] universal = true`` (41 in packse 0.3.59, fetched as the
tests do, tests/packse_data.py) is built into an index, served on loopback and locked by uv
(tests/uv_universal.py). ``OUT.json`` maps each scenario's name to ``{"file", "satisfiable",
"message", "requires_python", "entries"}`` (entries: ``[name, version, marker]``, sorted), keys
sorted: the same input gives the same file. Prints one line per scenario, then the time taken and
how many uv could lock. Each scenario's ``uv.lock`` is checked against its export (the same
packages); a mismatch, a uv that does not finish in time or any other error exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def universal_scenarios(root: Path) -> list[Path]:
    return [
        path for path in sorted(root.rglob("*.toml"))
        if tomllib.loads(path.read_text(encoding="utf-8")).get("resolver_options", {}).get("universal", False)
    ]


def main(argv: list[str] | None = None) -> int:
    from packse_data import packse_scenarios_dir
    from uv_universal import locked_packages, served_scenario, uv_lock_universal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path, help="the JSON file to write")
    parser.add_argument("--scenarios", type=Path, help="packse's scenarios folder (default: fetched into the cache)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per uv run (default: 60)")
    args = parser.parse_args(argv)
    root = args.scenarios or packse_scenarios_dir()
    files = universal_scenarios(root)
    results: dict[str, dict] = {}
    failures = 0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="varsolve-uv-universal-") as tmp:
        for i, path in enumerate(files):
            name = tomllib.loads(path.read_text(encoding="utf-8"))["name"]
            workdir = Path(tmp) / f"s{i}"
            began = time.perf_counter()
            try:
                with served_scenario(path, workdir) as index_url:
                    result = uv_lock_universal(path, index_url, workdir / "project", timeout=args.timeout)
                if result.satisfiable:
                    exported = {(n, v) for n, v, _ in result.entries}
                    locked = locked_packages(workdir / "project")
                    if exported != locked:
                        raise AssertionError(f"uv export lists {sorted(exported)}, uv.lock {sorted(locked)}")
            except Exception as exc:  # noqa: BLE001 - reported, counted, and the run goes on
                failures += 1
                print(f"{name}: ERROR {type(exc).__name__}: {exc}", flush=True)
                continue
            results[name] = {
                "file": path.relative_to(root).as_posix(),
                "satisfiable": result.satisfiable,
                "message": result.message,
                "requires_python": result.requires_python,
                "entries": [list(entry) for entry in result.entries],
            }
            shown = "; ".join(f"{n}=={v}" + (f" [{m}]" if m else "") for n, v, m in result.entries)
            verdict = "locked" if result.satisfiable else "no lock: " + result.message.splitlines()[0]
            print(f"{name} ({time.perf_counter() - began:.2f} s): {verdict} {shown}", flush=True)
    elapsed = time.perf_counter() - start
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    locked_count = sum(r["satisfiable"] for r in results.values())
    print(
        f"{len(files)} universal scenarios in {elapsed:.1f} s: uv locked {locked_count}, "
        f"could not lock {len(results) - locked_count}, errors {failures}; wrote {args.output}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
