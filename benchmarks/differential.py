"""Benchmark: varsolve's ``uv`` and ``pip`` presets against uv 0.13.9 and pip 26.3 on many
generated plain scenarios (the comparison of tests/test_differential.py, with more examples).

    python benchmarks/differential.py [-n 500] [--seed 0] [--strategy backtrack|sat|pep825] [--show 5] [--json FILE]
    python benchmarks/differential.py --packse [--scenarios DIR]

Each scenario (tests/differential_helpers.py: 1-4 packages, 1-5 releases each with pre-, post-,
dev and local versions, yanked releases, Requires-Python bounds, extras, specifiers) is built
into an index served on loopback and resolved by both installers and by varsolve's
``--strategy`` (``backtrack`` unless given) under the matching preset (verified). Prints, per tool: how many scenarios the
tool solved, and how many varsolve's preset answered the same, differently only by search order
(both valid, neither preferred in every package) or differently (a disagreement: shown, with the
scenario, to keep under tests/fixtures/differential/). Exit status 1 when there is a disagreement.
``--packse``: the same over packse 0.3.59's single-target scenarios instead (fetched as the tests
do, tests/packse_data.py; those for another platform or with ``no_build``/``no_binary`` of their
own are skipped), where a disagreement is information, not a failure.
Results are recorded in docs/benchmarks.md, section "Differential".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def main(argv: list[str] | None = None) -> int:
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from differential_helpers import PRESETS, Comparison, Installers, ToolError, Unsupported, compare, plain_scenarios

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="scenarios to generate (default: 500)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default: 0)")
    parser.add_argument("--show", type=int, default=5, help="disagreements to print in full (default: 5)")
    parser.add_argument("--json", type=Path, help="also write the counts and disagreements to FILE")
    parser.add_argument("--strategy", default="backtrack", help="varsolve's strategy (default: backtrack)")
    parser.add_argument("--packse", action="store_true", help="packse's scenarios instead of generated ones")
    parser.add_argument("--scenarios", type=Path, help="with --packse: packse's scenarios folder (default: download)")
    args = parser.parse_args(argv)

    installers = Installers()
    versions = installers.versions()
    counts: Counter[str] = Counter()
    differing: list[Comparison] = []
    errors: list[str] = []
    start = time.perf_counter()

    def one(scenario: dict[str, object] | str) -> None:
        counts["scenarios"] += 1
        try:
            comparison = compare(installers, scenario, args.strategy)
        except Unsupported:
            counts["skipped"] += 1
            return
        except ToolError as exc:
            errors.append(str(exc))
            return
        for tool, verdict in comparison.verdicts.items():
            counts[f"{tool} {verdict}"] += 1
            counts[f"{tool} solved"] += comparison.tools[tool] is not None
        if comparison.disagreements():
            differing.append(comparison)

    @seed(args.seed)
    @settings(
        max_examples=args.n, database=None, deadline=None, phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(plain_scenarios())
    def generated(data: dict[str, object]) -> None:
        one(data)

    try:
        if args.packse:
            from packse_data import non_universal_scenarios, packse_scenarios_dir

            for path in non_universal_scenarios(args.scenarios or packse_scenarios_dir()):
                one(path.read_text(encoding="utf-8"))
        else:
            generated()
    finally:
        installers.close()
    seconds = time.perf_counter() - start

    n = counts["scenarios"]
    what = "packse 0.3.59 scenarios" if args.packse else f"scenarios, seed {args.seed}"
    skipped = f", {counts['skipped']} skipped" if counts["skipped"] else ""
    print(f"{n} {what}{skipped}, {seconds:.0f} s ({seconds / max(n, 1):.2f} s each); "
          + ", ".join(f"{tool} {version}" for tool, version in versions.items()))
    print(f"{'tool':<6} {'preset':<7} {'solved':>7} {'same':>6} {'order':>6} {'differ':>7}")
    for tool, preset in PRESETS.items():
        if counts[f"{tool} same"] + counts[f"{tool} order"] + counts[f"{tool} differ"] == 0:
            continue
        print(f"{tool:<6} {preset:<7} {counts[f'{tool} solved']:>7} {counts[f'{tool} same']:>6} "
              f"{counts[f'{tool} order']:>6} {counts[f'{tool} differ']:>7}")
    if errors:
        print(f"{len(errors)} installer errors; the first: {errors[0]}")
    for comparison in differing[: args.show]:
        print("\n=== disagreement ===\n" + comparison.describe())
    if args.json:
        args.json.write_text(json.dumps({
            "scenarios": n, "seed": args.seed, "seconds": round(seconds, 1), "versions": versions,
            "counts": dict(counts), "errors": errors, "disagreements": [c.describe() for c in differing],
        }, indent=2) + "\n", encoding="utf-8")
    return 1 if (differing and not args.packse) or errors else 0


if __name__ == "__main__":
    sys.exit(main())
