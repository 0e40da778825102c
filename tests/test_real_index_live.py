"""Opt-in (issue #11 §5): the six real requirement sets of benchmarks/real_index.py resolve with
``pep825``, ``backtrack`` and ``sat`` against a public index, and ``backtrack`` chooses uv's
versions for the same target.

    pytest -m live tests/test_real_index_live.py        # a few minutes; -n 0 to watch it

The index is ``$VARSOLVE_LIVE_INDEX_URL``, else https://pypi.org/simple/. Target: CPython 3.11.7
on x86_64-manylinux_2_36 for all (uv: ``--python-version``, ``--python-platform``). Every tool
runs with builds off (varsolve ``--no-build``, uv ``--no-build``): each set resolves from wheels
alone, and a build of an sdist nobody chooses (``sat`` builds one when its relaxation prefers it,
see docs/benchmarks.md) would cost minutes. The three strategies share one cache per set, so
the second and third mostly read it.

``sat`` optimises its own objective (docs/strategies.md): newest root versions first, then
newest dependencies, then fewest packages. Where that explains a different choice from uv's,
the difference is listed in :data:`SAT_DIFFERENCES` (none today); any other difference fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, varsolve_command
from index_helpers import clean_env

INDEX_URL = os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/"
PYTHON = "3.11.7"
PLATFORM = "x86_64-manylinux_2_36"
SETS = {
    "requests": ["requests"],
    "pandas-sklearn-mpl": ["pandas", "scikit-learn", "matplotlib"],
    "jupyter": ["jupyter"],
    "boto3-urllib3": ["boto3", "urllib3<2"],
    "torch": ["torch"],
    "numpy-pandas": ["numpy==1.26.4", "pandas>=2.2"],
}
# set -> package -> why sat's objective takes another version than uv's
SAT_DIFFERENCES: dict[str, dict[str, str]] = {}
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")

pytestmark = [pytest.mark.live, pytest.mark.skipif(UV is None, reason="needs uv (the test extra installs it)")]


def _uv(requirements: list[str], cache: Path) -> dict[str, str]:
    assert UV is not None
    r = subprocess.run(
        [
            UV, "pip", "compile", "-", "--no-header", "--no-annotate", "-q", "--no-build", "--python", sys.executable,
            "--python-version", PYTHON, "--python-platform", PLATFORM, "--index-url", INDEX_URL, "--cache-dir", str(cache),
        ],
        input="\n".join(requirements) + "\n", capture_output=True, text=True, timeout=300,
        env=clean_env(UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never"),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    pins = {}
    for line in r.stdout.splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_canonical(name.split("[", 1)[0])] = version.split(";", 1)[0].strip()
    return pins


def _varsolve(requirements: list[str], strategy: str, cache: Path) -> dict[str, str]:
    r = subprocess.run(
        [
            *varsolve_command(), "-q", "resolve", *requirements, "--strategy", strategy, "--no-build", "--python", PYTHON,
            "--python-platform", PLATFORM, "--index-url", INDEX_URL, "--cache-dir", str(cache), "--format", "json",
        ],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=clean_env(),
    )
    assert r.returncode == 0, f"{strategy}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    doc = json.loads(r.stdout)
    assert doc["satisfiable"] and doc["violations"] == [], doc
    return {_canonical(name): pin["version"] for name, pin in doc["packages"].items()}


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _differences(mine: dict[str, str], theirs: dict[str, str]) -> dict[str, str]:
    return {n: f"{mine.get(n, '-')} vs uv {theirs.get(n, '-')}" for n in sorted(set(mine) | set(theirs)) if mine.get(n) != theirs.get(n)}


@pytest.mark.parametrize("name", list(SETS))
def test_real_set_resolves_with_every_strategy(name: str, tmp_path: Path) -> None:
    requirements = SETS[name]
    uv = _uv(requirements, tmp_path / "uv-cache")
    cache = tmp_path / "varsolve-cache"
    chosen = {strategy: _varsolve(requirements, strategy, cache) for strategy in ("backtrack", "pep825", "sat")}
    assert _differences(chosen["backtrack"], uv) == {}, "backtrack differs from uv"
    # pep825 is resolvelib over versions too: with no variant wheel in these sets, the same.
    assert _differences(chosen["pep825"], uv) == {}, "pep825 differs from uv"
    known = SAT_DIFFERENCES.get(name, {})
    unexplained = {n: d for n, d in _differences(chosen["sat"], uv).items() if n not in known}
    listed = "; ".join(f"{n}: {why}" for n, why in known.items())
    assert unexplained == {}, f"sat differs from uv beyond what its objective explains ({listed or 'nothing listed'})"
