"""benchmarks/page_floor.py (docs/benchmarks.md, "Real index, session 9") reads the JSON pages a
cold run stored: every page, every wheel version of it, nothing else."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from index_helpers import build_index_from_text
from varsolve.cli import main
from varsolve.index.server import IndexServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import page_floor  # noqa: E402  (a script of benchmarks/, not a package)

SCENARIO = """
name = "page-floor"
[root]
requires = ["app"]
[packages.app.versions."1.0.0"]
requires = ["lib>=2"]
[packages.lib.versions."1.0.0"]
[packages.lib.versions."2.0.0"]
[packages.lib.versions."2.1.0"]
[packages.lib.versions."3.0.0"]
wheel = false
"""


def test_it_reads_the_pages_of_a_cold_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = build_index_from_text(tmp_path / "index", SCENARIO)
    cache = tmp_path / "cache"
    with IndexServer(index) as server:
        code = main([
            "-q", "resolve", "app", "--python", "3.12", "--python-platform", "x86_64-manylinux_2_36",
            "--index-url", server.index_url, "--cache-dir", str(cache), "--format", "json",
        ])
    resolved = json.loads(capsys.readouterr().out)
    assert code == 0 and resolved["satisfiable"] and not resolved["violations"]  # the verifier's findings
    assert page_floor.main([str(cache), "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    # app and lib; app 1.0.0 and lib 1.0.0, 2.0.0 and 2.1.0 have wheels (3.0.0 an sdist only)
    assert out.startswith("2 JSON pages, ") and " 4 versions; 2 rounds" in out.splitlines()[0]
    assert {line.split()[0] for line in out.splitlines()[1:]} == {"json.loads", "Version()", "sort", "sum"}


def test_a_cache_without_pages_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "http").mkdir()
    with pytest.raises(SystemExit, match="no JSON project pages under"):
        page_floor.main([str(tmp_path)])
