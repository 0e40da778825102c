"""Every case of the hostile corpus (tests/hostile/cases_*.py) ends cleanly: a one-line error
naming what is wrong, or the right result; never a traceback, a hang, a wrong success or data
loss (tests/hostile/corpus.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostile.corpus import CLEAN, all_cases

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case(case, tmp_path: Path) -> None:
    outcome = case.run(tmp_path)
    assert outcome.kind == CLEAN, f"{case.id}: {outcome.kind}: {outcome.detail}"


def test_the_reliability_table_matches_a_fresh_count() -> None:
    """docs/reliability.md's table is what scripts/reliability_report.py writes: the cases per
    category (every case is run by the test above, which fails on anything but clean)."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("reliability_report", root / "scripts" / "reliability_report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    expected = report.render_table({c.category: {CLEAN: 0} for c in CASES}, counts_only=True, cases=CASES)
    assert expected in (root / "docs" / "reliability.md").read_text(encoding="utf-8")
