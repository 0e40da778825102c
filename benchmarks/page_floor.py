"""Benchmark: the least CPU any CPython resolver spends reading the project pages of a run
(docs/benchmarks.md, "Real index, session 9"): CPython's ``json.loads`` of every JSON page
body, one packaging ``Version`` per release of each project, and a sort of each project's
versions. Nothing varsolve-specific is timed, only what a resolver cannot skip when the index
serves PEP 691 JSON: the floor under issue 11's "solver + parsing" for the pages.

    python benchmarks/page_floor.py CACHE_DIR [--rounds 7]

``CACHE_DIR`` is a ``--cache-dir`` a cold ``varsolve resolve`` filled (its ``http`` folder
holds each response as a header line, a JSON head and the body). Prints the minimum and the
median of each step over the rounds, in seconds of this thread's CPU time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def page_bodies(cache: Path) -> list[bytes]:
    """The JSON project pages stored under ``cache``/http (wheel ranges and metadata left out)."""
    bodies = []
    for path in sorted((cache / "http").glob("*/*")):
        data = path.read_bytes()
        first = data.find(b"\n")
        second = data.find(b"\n", first + 1)
        if first < 0 or second < 0:
            continue
        head = json.loads(data[first + 1 : second])
        if "json" in str(head.get("headers", {}).get("content-type", "")):
            bodies.append(data[second + 1 :])
    return bodies


def version_texts(doc: dict[str, object]) -> list[str]:
    """Each release's version as its files name it (a wheel's second dash-separated part; an
    sdist's is left out: its name may hold dashes), once per project."""
    seen: dict[str, None] = {}
    files = doc.get("files")
    for item in files if isinstance(files, list) else []:
        filename = item.get("filename", "") if isinstance(item, dict) else ""
        if isinstance(filename, str) and filename.endswith(".whl") and filename.count("-") >= 4:
            seen.setdefault(filename.split("-")[1], None)
    return list(seen)


def main(argv: list[str] | None = None) -> int:
    from packaging.version import InvalidVersion, Version

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("cache", type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    bodies = page_bodies(args.cache)
    if not bodies:
        raise SystemExit(f"page_floor: no JSON project pages under {args.cache / 'http'}")
    steps: dict[str, list[float]] = {"json.loads": [], "Version()": [], "sort": []}
    count = 0
    for _ in range(args.rounds):
        start = time.thread_time()
        docs = [json.loads(body) for body in bodies]
        steps["json.loads"].append(time.thread_time() - start)
        texts = [version_texts(doc) for doc in docs]
        start = time.thread_time()
        parsed = []
        for project in texts:
            versions = []
            for text in project:
                try:
                    versions.append(Version(text))
                except InvalidVersion:
                    pass
            parsed.append(versions)
        steps["Version()"].append(time.thread_time() - start)
        start = time.thread_time()
        for versions in parsed:
            versions.sort(reverse=True)
        steps["sort"].append(time.thread_time() - start)
        count = sum(len(versions) for versions in parsed)
    size = sum(len(body) for body in bodies)
    print(f"{len(bodies)} JSON pages, {size / 1e6:.1f} MB, {count} versions; {args.rounds} rounds")
    for step, values in steps.items():
        print(f"{step:<11} min {min(values):.4f} s  median {statistics.median(values):.4f} s")
    floor = sum(min(values) for values in steps.values())
    print(f"{'sum':<11} min {floor:.4f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
