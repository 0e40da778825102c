"""Shared helpers for the core test suite.

``tests/`` has no ``__init__.py``: pytest puts this folder on ``sys.path``, so test files can
``import random_scenarios`` (the hypothesis strategy for random scenario problems) directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# -- hypothesis profiles ---------------------------------------------------------------------------
#
# ``ci`` (the default): every property test runs the budget it names with ``examples(n)`` (plain
# ``@given`` tests: 100), from a fixed seed (derandomize), so that CI is reproducible and a
# failure comes back on a rerun. ``dev``: the same budgets, random seeds and the example database.
# ``deep``: twenty times the budgets, random seeds: ``pytest --hypothesis-profile deep``.
# Hypothesis' pytest plugin loads ``--hypothesis-profile`` after this file and before the test
# modules are imported, so ``examples()`` sees the chosen profile.
_SUPPRESS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci", max_examples=100, derandomize=True, deadline=None, print_blob=True, suppress_health_check=_SUPPRESS
)
settings.register_profile("dev", max_examples=100, deadline=None, suppress_health_check=_SUPPRESS)
settings.register_profile("deep", max_examples=2000, deadline=None, suppress_health_check=_SUPPRESS)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Hypothesis' own files (the dev profile's example database, its constants cache) go to the test
# cache outside the repository, next to the packse sdist (tests/packse_data.py), not ./.hypothesis.
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(os.environ.get("VARSOLVE_TEST_CACHE", Path.home() / ".cache" / "varsolve-tests")) / "hypothesis")


def examples(ci: int) -> int:
    """A property test's ``max_examples``: ``ci`` under ``ci`` and ``dev``, scaled with the loaded
    profile's ``max_examples`` otherwise (20 times under ``deep``)."""
    return max(1, ci * settings.default.max_examples // 100)


@pytest.fixture(scope="session", autouse=True)
def _isolated_varsolve_cache(tmp_path_factory: pytest.TempPathFactory):
    """varsolve's HTTP cache for this test run, not the user's ~/.cache/varsolve: the tests'
    servers listen on ephemeral ports, and a page cached from an earlier run on the same port
    must not answer for today's index. Subprocesses inherit it; tests that set their own win."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VARSOLVE_CACHE_DIR", str(tmp_path_factory.mktemp("varsolve-cache")))
        yield


def varsolve_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m varsolve.cli``."""
    script = Path(sys.executable).with_name("varsolve")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "varsolve.cli"]


def run_varsolve(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    return subprocess.run(
        [*varsolve_command(), *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=env,
        timeout=120,
    )


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write a scenario TOML (dedented) to a file and return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture
def load(write_scenario):
    """Write and load a scenario; returns the :class:`~varsolve.sources.scenario.Scenario`."""
    from varsolve.sources.scenario import load_scenario

    def do(text: str, name: str = "scenario.toml"):
        return load_scenario(write_scenario(text, name))

    return do
