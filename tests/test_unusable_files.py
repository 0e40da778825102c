"""A file whose metadata cannot be used (malformed METADATA, an unreadable Requires-Dist) makes
that candidate unusable, never the run: a release the search does not need is never read, one
it does need is rejected with the reason the explanation shows. Real wheels, served on loopback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from index_helpers import repository
from varsolve.index.builder import build_index
from varsolve.index.server import IndexServer
from varsolve.pipeline import build_problem, solve
from varsolve.strategies.sat import SatStrategy
from varsolve.target import Target

SCENARIO = """
[root]
requires = ["app"]
[packages.app.versions."1.0.0"]
requires = ["lib"]
[packages.lib.versions."1.0.0"]
sdist = false
[packages.lib.versions."2.0.0"]
"""

# packaging cannot read a Requires-Dist that is not UTF-8: the dependency would vanish.
BROKEN_METADATA = b"Metadata-Version: 2.1\nName: lib\nVersion: 1.0.0\nRequires-Dist: caf\xe9-lib\n"


@pytest.fixture
def index_url(tmp_path: Path):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    root = tmp_path / "index"
    build_index(scenario, root)
    # Break lib 1.0.0's PEP 658 file (and announce its new hash, as an index would).
    [metadata] = (root / "files").glob("lib-1.0.0-*.whl.metadata")
    metadata.write_bytes(BROKEN_METADATA)
    page = root / "simple" / "lib" / "index.json"
    data = json.loads(page.read_text())
    for file in data["files"]:
        if file["filename"] == metadata.name.removesuffix(".metadata"):
            file["core-metadata"] = {"sha256": hashlib.sha256(BROKEN_METADATA).hexdigest()}
    page.write_text(json.dumps(data))
    (root / "simple" / "lib" / "index.html").unlink()  # the JSON page is the one to read
    with IndexServer(root) as server:
        yield server.index_url


STRATEGIES = ["pep825", "backtrack", "sat", SatStrategy(lazy=False)]


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["pep825", "backtrack", "sat", "sat-eager"])
def test_a_malformed_release_the_search_does_not_need_is_harmless(index_url: str, strategy) -> None:
    with repository(index_url, workers=0) as repo:
        resolution = solve(build_problem(["app"], repository=repo, target=Target.make("3.12")), strategy)
    assert resolution.satisfiable and resolution.violations == ()
    assert str(resolution.packages["lib"].version) == "2.0.0"


@pytest.mark.parametrize("strategy", STRATEGIES, ids=["pep825", "backtrack", "sat", "sat-eager"])
def test_a_malformed_release_the_search_needs_is_rejected_with_its_reason(index_url: str, strategy) -> None:
    with repository(index_url, workers=0) as repo:
        resolution = solve(build_problem(["app", "lib<2"], repository=repo, target=Target.make("3.12")), strategy)
    assert not resolution.satisfiable and resolution.violations == ()
    assert resolution.explanation is not None
    text = resolution.explanation.text
    assert "lib-1.0.0-py3-none-any.whl" in text and "malformed core metadata (unreadable requires-dist)" in text, text
