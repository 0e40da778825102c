"""Run the hostile corpus (tests/hostile) and write its counts into docs/reliability.md.

    python scripts/reliability_report.py            # run every case, rewrite the table
    python scripts/reliability_report.py --check    # run every case, exit 1 if any is not clean

The table has one row per category: cases tried, and how many ended clean, with a traceback, in
a hang, as a wrong success or with data loss (tests/hostile/corpus.py says what each means).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- reliability-table: begin -->", "<!-- reliability-table: end -->"


def render_table(counts: Mapping[str, Mapping[str, int]], *, counts_only: bool = False, cases: Sequence[Any] = ()) -> str:
    """The Markdown table; with ``counts_only`` the outcome columns are those of a corpus in
    which every case is clean (what the test suite enforces), so only ``cases`` matter."""
    sys.path.insert(0, str(ROOT / "tests"))
    from hostile.corpus import CATEGORIES, CLEAN, OUTCOMES

    tried = {category: 0 for category in CATEGORIES}
    for case in cases:
        tried[case.category] += 1
    lines = ["| category | tried | " + " | ".join(OUTCOMES) + " |", "|---|---:|" + "---:|" * len(OUTCOMES)]
    totals = [0] * (len(OUTCOMES) + 1)
    for category in CATEGORIES:
        if counts_only:
            row = [tried[category]] + [tried[category] if o == CLEAN else 0 for o in OUTCOMES]
        else:
            seen = counts.get(category, {})
            row = [sum(seen.values())] + [seen.get(o, 0) for o in OUTCOMES]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        lines.append(f"| {category} | " + " | ".join(map(str, row)) + " |")
    lines.append("| **all** | " + " | ".join(f"**{n}**" for n in totals) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 unless every case is clean")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests"))
    from hostile.corpus import CLEAN, all_cases

    cases = all_cases()
    counts: dict[str, dict[str, int]] = {}
    failed = []
    for case in cases:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = case.run(Path(tmp))
        counts.setdefault(case.category, {}).setdefault(outcome.kind, 0)
        counts[case.category][outcome.kind] += 1
        if outcome.kind != CLEAN:
            failed.append(f"{case.id}: {outcome.kind}: {outcome.detail[:300]}")
    table = render_table(counts, cases=cases)
    print(table)
    for line in failed:
        print(line, file=sys.stderr)
    if not args.check:
        doc = ROOT / "docs" / "reliability.md"
        text = doc.read_text(encoding="utf-8")
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        doc.write_text(text[:start] + "\n" + table + "\n" + text[end:], encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
