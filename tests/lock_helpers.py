"""Helpers for the lock tests: real wheels on disk, fresh venvs, site-packages snapshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest


def make_venv(path: Path) -> Path:
    """A fresh venv without pip (installs are ours); returns its python."""
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(path)
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert python.exists()
    return python


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    )
    return Path(out.stdout.strip())


def snapshot(python: Path) -> dict[str, tuple[int, int]]:
    """Every file under site-packages and bin with its size and mtime: 'unchanged' means equal."""
    root = python.parent.parent
    out = {}
    for base in (site_packages(python), python.parent):
        for p in sorted(base.rglob("*")):
            if p.is_file() or p.is_symlink():
                st = p.lstat()
                out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


_REPORT = r"""
import importlib.metadata as md, json, sys
out = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    text = dist.read_text("variant.json")
    label = None
    if text:
        label = next(iter(json.loads(text)["variants"]))
    out[name] = {"version": dist.version, "variant": label, "installer": (dist.read_text("INSTALLER") or "").strip()}
json.dump(out, sys.stdout, sort_keys=True)
"""


def installed(python: Path) -> dict[str, dict]:
    """What ``importlib.metadata`` in that interpreter reports: version, variant.json label."""
    out = subprocess.run([str(python), "-I", "-c", _REPORT], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        pytest.skip("uv is not installed (pip install uv)")
    return find_uv_bin()


def varsolve(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("varsolve")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, cwd=cwd, timeout=300)
