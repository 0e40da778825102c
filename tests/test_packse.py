"""The packse 0.3.59 scenarios (astral-sh/packse), loaded unchanged and checked with every strategy.

The 107 scenarios that do not ask for universal resolution are resolved by each strategy and
compared with packse's ``[expected]`` by :func:`varsolve.scenario_check.check_scenario`, which also runs
the independent verifier. packse has no variants, so the status quo (``pep825``) is held to the
same expectations as the complete strategies. The sdist comes from the package registry at test
time (tests/packse_data.py); when it cannot be fetched these tests are skipped, with the reason.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from packse_data import PackseUnavailable, non_universal_scenarios, packse_scenarios_dir
from varsolve.scenario_check import check_scenario
from varsolve.sources.scenario import load_scenario
from varsolve.strategies import available
from varsolve.variants.markers import parse_requirement

pytestmark = pytest.mark.network

NON_UNIVERSAL = 107
ALL_SCENARIOS = 148


def _network_selected(config: pytest.Config) -> bool:
    """False when ``-m`` deselects ``network`` tests: then collection must not download."""
    markexpr = config.getoption("markexpr", default="") or ""
    if not markexpr:
        return True
    try:
        from _pytest.mark.expression import Expression

        return Expression.compile(markexpr).evaluate(lambda name, **_: name == "network")
    except Exception:  # a private API; when it changes, collect (the tests skip if offline)
        return True


def _scenario_root(config: pytest.Config) -> tuple[Path | None, str]:
    if not _network_selected(config):
        return None, "network tests are deselected"
    try:
        return packse_scenarios_dir(), ""
    except PackseUnavailable as exc:
        return None, f"packse scenarios unavailable: {exc}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "packse_root" in metafunc.fixturenames:
        root, reason = _scenario_root(metafunc.config)
        marks = [pytest.mark.skip(reason=reason)] if root is None else []
        metafunc.parametrize("packse_root", [pytest.param(root, marks=marks, id="packse")])
    if "scenario_file" not in metafunc.fixturenames:
        return
    root, reason = _scenario_root(metafunc.config)
    if root is None:
        metafunc.parametrize("scenario_file", [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="unavailable")])
    else:
        files = non_universal_scenarios(root)
        names = [tomllib.loads(f.read_text(encoding="utf-8"))["name"] for f in files]
        metafunc.parametrize("scenario_file", files, ids=names)
    metafunc.parametrize("strategy", available())


def test_packse_selection(packse_root: Path) -> None:
    """The sdist holds 148 scenarios, 107 of them for a single target: nothing silently dropped."""
    assert len(list(packse_root.rglob("*.toml"))) == ALL_SCENARIOS
    assert len(non_universal_scenarios(packse_root)) == NON_UNIVERSAL


def test_packse_scenario(scenario_file: Path, strategy: str) -> None:
    scenario = load_scenario(scenario_file)
    assert not scenario.universal
    # complete=True for every strategy: without variants, the status quo must meet packse too.
    result = check_scenario(scenario, strategy, complete=True)
    resolution = result.resolution
    assert resolution is not None
    assert result.status == "pass", "\n".join(result.problems)
    assert resolution.violations == ()
    expected = scenario.expected.complete
    if resolution.satisfiable and expected.packages is not None:
        # packse lists the whole resolution; check_scenario checks only the listed packages.
        got = {name: str(pin.version) for name, pin in resolution.packages.items()}
        assert got == expected.packages
    if not resolution.satisfiable:
        _check_explanation(scenario_file, resolution.explanation.text if resolution.explanation else "")


def _check_explanation(scenario_file: Path, explanation: str) -> None:
    """Readable: non-empty, no Python reprs, and it names a package of the scenario."""
    assert explanation.strip(), "unsatisfiable without an explanation"
    assert "<Candidate" not in explanation and "Requirement(" not in explanation, explanation
    data = tomllib.loads(scenario_file.read_text(encoding="utf-8"))
    names = set(data.get("packages", {}))
    names |= {parse_requirement(text).name for text in data.get("root", {}).get("requires", [])}
    assert any(re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", explanation) for name in names), (
        f"the explanation names none of {sorted(names)}: {explanation!r}"
    )
