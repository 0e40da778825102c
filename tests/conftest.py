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

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
