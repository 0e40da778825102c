"""Variant-unaware installers (pip, uv) against built indexes: they skip the variant wheels
(their filenames do not parse) and the *-variants.json files, and install the non-variant
fallback, or fail with "nothing matches" when there is none.

The oracle is varsolve itself with variant support off, binaries only and pip's policies for
yanked releases, pre-releases and Requires-Python: what a variant-unaware installer must do.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import SCENARIOS
from index_helpers import clean_env, python312, uv
from varsolve.api import solve
from varsolve.index.builder import build_index
from varsolve.index.server import IndexServer
from varsolve.index.wheels import specialise_requirements
from varsolve.sources.scenario import load_scenario
from varsolve.variants.filenames import parse_wheel

BUNDLED = sorted((SCENARIOS / "variants").glob("*.toml"))
PYTHON312 = python312()
UV = uv()
NOTHING_MATCHES = ("No matching distribution", "ResolutionImpossible", "Cannot install", "conflicting dependencies")


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("installer-indexes")
    for scenario in BUNDLED:
        build_index(scenario, root / scenario.stem)
    return {scenario.stem: root / scenario.stem for scenario in BUNDLED}


def _oracle(scenario: Path):
    """What a variant-unaware installer must pick: None when nothing fits."""
    loaded = load_scenario(scenario)
    options = replace(
        loaded.problem.options, variants=False, no_build=frozenset({":all:"}),
        yanked="pip", prerelease_policy="pip", requires_python_policy="pip",
    )
    problem = replace(loaded.problem, options=options)
    resolution = solve(problem, "backtrack")
    assert resolution.violations == ()
    if not resolution.satisfiable:
        return problem, None
    pins = {(name, str(pin.version), pin.filename) for name, pin in resolution.packages.items()}
    assert all(pin.variant == "" for pin in resolution.packages.values())
    return problem, pins


def _requirements(problem) -> list[str]:
    return specialise_requirements(problem.requirements)


@pytest.mark.skipif(PYTHON312 is None, reason="needs a Python 3.12 with pip (the scenarios' target)")
@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
def test_pip_installs_the_non_variant_fallback(scenario: Path, indexes, tmp_path: Path) -> None:
    problem, want = _oracle(scenario)
    report = tmp_path / "report.json"
    with IndexServer(indexes[scenario.stem]) as server:
        r = subprocess.run(
            [PYTHON312, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed", "--quiet",
             "--only-binary", ":all:", "--no-cache-dir", "--report", str(report), "--index-url", server.index_url,
             *_requirements(problem)],
            capture_output=True, text=True, env=clean_env(), timeout=120,
        )
        asked = set(server.stats.by_path)
    assert not any(parse_wheel(p.rsplit("/", 1)[1]).label for p in asked if p.endswith(".whl"))
    assert not any(p.endswith("-variants.json") for p in asked)  # pip never looks at variant files
    if want is None:
        assert r.returncode != 0 and any(s in r.stderr for s in NOTHING_MATCHES), r.stderr
        return
    assert r.returncode == 0, r.stderr
    got = {
        (item["metadata"]["name"], item["metadata"]["version"], item["download_info"]["url"].rsplit("/", 1)[1])
        for item in json.loads(report.read_text())["install"]
    }
    assert got == want


@pytest.mark.skipif(UV is None, reason="needs uv")
@pytest.mark.parametrize("scenario", BUNDLED, ids=lambda p: p.stem)
def test_uv_resolves_the_non_variant_fallback(scenario: Path, indexes, tmp_path: Path) -> None:
    problem, want = _oracle(scenario)
    with IndexServer(indexes[scenario.stem]) as server:
        r = subprocess.run(
            [UV, "pip", "compile", "-", *(["--python", PYTHON312] if PYTHON312 else []),
             "--index-url", server.index_url, "--python-version", "3.12", "--no-cache",
             "--only-binary", ":all:", "--quiet", "--format", "pylock.toml", "--python-platform", "x86_64-manylinux_2_39"],
            input="\n".join(_requirements(problem)) + "\n", capture_output=True, text=True,
            env=clean_env(UV_CACHE_DIR=str(tmp_path / "uv-cache")), timeout=120, cwd=tmp_path,
        )
    if want is None:
        assert r.returncode != 0 and ("No solution found" in r.stderr or "unsatisfiable" in r.stderr), r.stderr
        return
    assert r.returncode == 0, r.stderr
    lock = tomllib.loads(r.stdout)
    got = {
        (p["name"], p["version"], w["url"].rsplit("/", 1)[1]) for p in lock.get("packages", []) for w in p.get("wheels", [])
    }
    assert got == want


@pytest.mark.skipif(PYTHON312 is None or UV is None, reason="needs a Python 3.12 with pip, and uv")
def test_pip_and_uv_install_real_packages_into_a_venv(indexes, tmp_path: Path) -> None:
    """null-variant-fallback: variant-aware tools pick torch's null variant; pip and uv install
    the fat non-variant wheel and nvidia-cudnn (its marker, evaluated for the non-variant
    wheel at build time, holds)."""
    scenario = SCENARIOS / "variants" / "null-variant-fallback.toml"
    problem, want = _oracle(scenario)
    assert {name for name, _, _ in want} == {"torch", "filelock", "nvidia-cudnn"}
    check = "import torch, filelock, nvidia_cudnn; print(torch.__version__, torch.__variant_label__)"
    with IndexServer(indexes[scenario.stem]) as server:
        for installer in ("pip", "uv"):
            venv = tmp_path / installer
            subprocess.run([PYTHON312, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
            python = str(venv / "bin" / "python")
            if installer == "pip":
                command = [PYTHON312, "-m", "pip", "--python", python, "install", "--isolated", "--no-cache-dir", "--quiet"]
            else:
                command = [UV, "pip", "install", "--python", python, "--no-cache", "--quiet"]
            r = subprocess.run(
                [*command, "--index-url", server.index_url, *_requirements(problem)],
                capture_output=True, text=True, env=clean_env(), timeout=180,
            )
            assert r.returncode == 0, (installer, r.stderr)
            out = subprocess.run([python, "-c", check], capture_output=True, text=True, timeout=60, check=True)
            assert out.stdout.split() == ["2.9.0", "None"], installer
            installed = sorted(p.name for p in (venv / "lib").glob("python3.12/site-packages/*.dist-info"))
            assert installed == ["filelock-3.20.0.dist-info", "nvidia_cudnn-9.10.0.dist-info", "torch-2.9.0.dist-info"]
