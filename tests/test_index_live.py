"""Opt-in: everyday requirement sets against a real public index.

    VARSOLVE_LIVE_INDEX_URL=https://pypi.org/simple/ pytest -m live tests/test_index_live.py

Each resolution is verified, compared with ``pip install --dry-run --report`` against the same
index (when a Python 3.12 with pip is at hand), and repeated with a warm cache, which must need
no metadata request.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from index_helpers import clean_env, python312, repository
from varsolve.api import build_problem, solve
from varsolve.target import Target

INDEX_URL = os.environ.get("VARSOLVE_LIVE_INDEX_URL")
SETS = [["requests"], ["flask<3"], ["numpy", "scipy"]]

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not INDEX_URL, reason="set VARSOLVE_LIVE_INDEX_URL (e.g. https://pypi.org/simple/)"),
]


def _resolve(requirements: list[str], cache: Path):
    with repository(INDEX_URL, cache, timeout=60.0) as repo:
        problem = build_problem(requirements, repository=repo, target=Target.make("3.12", "x86_64-manylinux_2_39"))
        repo.hint_target(problem.target)
        resolution = solve(problem, "backtrack")
        return resolution, repo.counters


@pytest.mark.parametrize("requirements", SETS, ids=" ".join)
def test_everyday_requirements(requirements: list[str], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    resolution, cold = _resolve(requirements, cache)
    assert resolution.satisfiable, resolution.explanation
    assert resolution.violations == ()
    pins = {name: str(pin.version) for name, pin in resolution.packages.items()}
    assert set(requirements[0].split("<")[0:1]) <= set(pins)
    if requirements == ["flask<3"]:
        assert pins["flask"].split(".")[0] == "2"
    assert all(pin.filename.endswith(".whl") for pin in resolution.packages.values())

    warm_resolution, warm = _resolve(requirements, cache)
    assert {n: str(p.version) for n, p in warm_resolution.packages.items()} == pins
    assert cold["metadata_fetched"] > 0 and warm["metadata_fetched"] == 0  # metadata of immutable files: cached

    python = python312()
    if python is None:
        return
    report = tmp_path / "report.json"
    r = subprocess.run(
        [python, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "--quiet", "--only-binary",
         ":all:", "--report", str(report), "--index-url", INDEX_URL, "--cache-dir", str(tmp_path / "pip"), *requirements],
        capture_output=True, text=True, env=clean_env(), timeout=600,
    )
    assert r.returncode == 0, r.stderr
    pip_pins = {item["metadata"]["name"].lower(): item["metadata"]["version"] for item in json.loads(report.read_text())["install"]}
    assert pip_pins == pins
