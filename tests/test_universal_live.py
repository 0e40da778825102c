"""Opt-in (issue #14 §3): universal locks of two real requirement sets from a public index.

    pytest -m live tests/test_universal_live.py -n 0      # several minutes (four venvs per set)

For ``jupyter`` and for ``pandas scikit-learn matplotlib`` with ``requires-python >= 3.10``:

* ``varsolve lock --universal`` (backtrack) writes one pylock.toml;
* in every environment the markers of either answer tell apart (inside requires-python), the
  lock installs the same (name, version) set as ``uv lock`` 0.13.9 on the same input;
* ``varsolve install`` puts it into fresh venvs of Python 3.10, 3.11, 3.12 and 3.13 (pyenv's
  interpreters), the installed versions are what the lock says for that interpreter's
  environment, and the packages import.

The index is ``$VARSOLVE_LIVE_INDEX_URL``, else https://pypi.org/simple/.
"""

from __future__ import annotations

import json
import os
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker

from conftest import varsolve_command
from index_helpers import clean_env, uv
from uv_universal import export_entries
from varsolve.marker_algebra import MarkerSet, representative_environments

pytestmark = pytest.mark.live

INDEX_URL = os.environ.get("VARSOLVE_LIVE_INDEX_URL") or "https://pypi.org/simple/"
REQUIRES_PYTHON = ">=3.10"
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
SETS = {
    "jupyter": (["jupyter"], ["jupyter_core", "notebook", "jupyterlab", "ipykernel", "nbconvert"]),
    "pandas-sklearn-mpl": (["pandas", "scikit-learn", "matplotlib"], ["pandas", "sklearn", "matplotlib.pyplot"]),
}
Entry = tuple[str, str, str]  # (name, version, marker)


def interpreter(minor: str) -> Path:
    found = sorted(Path.home().glob(f".pyenv/versions/{minor}.*/bin/python"))
    if not found:
        pytest.skip(f"no Python {minor} here (pyenv)")
    return found[-1]


def uv_entries(requirements: list[str], workdir: Path) -> list[Entry]:
    """What ``uv lock`` installs where, from ``uv export`` (one line per package and marker)."""
    if uv() is None:
        pytest.skip("uv is not installed")
    workdir.mkdir()
    deps = ", ".join(json.dumps(r) for r in requirements)
    (workdir / "pyproject.toml").write_text(
        f'[project]\nname = "project"\nversion = "0.1.0"\nrequires-python = "{REQUIRES_PYTHON}"\ndependencies = [{deps}]\n',
        encoding="utf-8",
    )
    env = {**clean_env(), "UV_CACHE_DIR": str(workdir / "uv-cache")}
    python = str(interpreter("3.12"))
    run = [str(uv()), "lock", "--index-url", INDEX_URL, "--python", python]
    subprocess.run(run, cwd=workdir, env=env, check=True, capture_output=True, timeout=600)
    export = subprocess.run(
        [str(uv()), "export", "--frozen", "--no-hashes", "--no-header", "--no-annotate", "--no-emit-project"],
        cwd=workdir, env=env, check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    return list(export_entries(export))


def lock_entries(lock: Path) -> list[Entry]:
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    return [(p["name"], p["version"], p.get("marker", "")) for p in data["packages"]]


def installed_for(entries: list[Entry], env: dict[str, str]) -> set[tuple[str, str]]:
    return {(n, v) for n, v, m in entries if not m or Marker(m).evaluate(env)}


@pytest.mark.parametrize("name", sorted(SETS))
def test_universal_lock_matches_uv_and_installs_on_four_pythons(name: str, tmp_path: Path) -> None:
    requirements, imports = SETS[name]
    lock = tmp_path / "pylock.toml"
    env = {**os.environ, "VARSOLVE_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [*varsolve_command(), "lock", "--universal", "--python-requires", REQUIRES_PYTHON, "--index-url", INDEX_URL,
         *requirements, "-o", str(lock)],
        capture_output=True, text=True, env=env, timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr
    ours = lock_entries(lock)
    theirs = uv_entries(requirements, tmp_path / "uv")
    within = MarkerSet.python_range(REQUIRES_PYTHON)
    cells = representative_environments([MarkerSet.parse(m) for _, _, m in ours + theirs if m], within=within)
    differences = [
        (e["python_full_version"], e["sys_platform"], sorted(installed_for(ours, e) ^ installed_for(theirs, e)))
        for e in cells
        if installed_for(ours, e) != installed_for(theirs, e)
    ]
    assert differences == [], differences[:5]
    for minor in PYTHONS:
        venv = tmp_path / f"venv{minor}"
        subprocess.run([str(interpreter(minor)), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
        python = venv / "bin" / "python"
        proc = subprocess.run(
            [*varsolve_command(), "install", str(lock), "--python", str(python)],
            capture_output=True, text=True, env=env, timeout=1800,
        )
        assert proc.returncode == 0, proc.stderr
        probe = (
            "import importlib.metadata as m, json, sys\n"
            "from packaging.markers import default_environment\n"
            "print(json.dumps({'env': default_environment(), 'dists': sorted({(d.metadata['Name'].lower().replace('_', '-')"
            ".replace('.', '-'), d.version) for d in m.distributions()})}))\n"
        )
        # packaging is what the probe needs from the venv: it is in every lock here (jupyter and
        # matplotlib require it).
        out = json.loads(subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True).stdout)
        installed = {(n, v) for n, v in out["dists"]}
        assert installed == installed_for(ours, out["env"]), (minor, installed ^ installed_for(ours, out["env"]))
        subprocess.run([str(python), "-c", "; ".join(f"import {m}" for m in imports)], check=True, timeout=300)
