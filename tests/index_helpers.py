"""Helpers for the index tests: built indexes, clean subprocess environments, Python 3.12."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from varsolve.repository import Repository
from varsolve.sources import SourceSettings, open_repository


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without pip/uv configuration (this machine sets PIP_FIND_LINKS ...)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VARSOLVE_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONUNBUFFERED="1",
        UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never",  # uv would download a Python 3.12 otherwise
    )
    env.update(extra)
    return env


def repository(index_url: str, cache_dir: Path | None = None, **options) -> Repository:
    repo = open_repository(SourceSettings(index_urls=(index_url,), cache_dir=cache_dir, no_cache=cache_dir is None, **options))
    assert repo is not None
    return repo


def python312() -> str | None:
    """A Python 3.12 with pip, to run pip for the scenarios' target (they require >=3.12)."""
    candidates = [shutil.which("python3.12"), *sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python3.12"))]
    for path in candidates:
        if not path:
            continue
        try:
            r = subprocess.run([path, "-m", "pip", "--version"], capture_output=True, text=True, timeout=60, env=clean_env())
        except (OSError, subprocess.TimeoutExpired):
            continue
        if r.returncode == 0:
            return path
    return None


def uv() -> str | None:
    here = Path(os.sys.executable).with_name("uv")
    return str(here) if here.exists() else shutil.which("uv")


def tiny_scenario(name: str) -> str:
    """The smallest index scenario the source tests share: ``tinyutil`` 1.1.0 and 1.0.0 (both
    wheels and sdists, no Requires-Python), required by the root."""
    return f"""
name = "{name}"
[root]
requires = ["tinyutil"]
[packages.tinyutil.versions."1.1.0"]
requires_python = ""
[packages.tinyutil.versions."1.0.0"]
requires_python = ""
"""


def build_index_from_text(directory: Path, text: str) -> Path:
    """Build an index of the scenario ``text`` into ``directory`` (its TOML written next to it,
    so that rebuilding in place with a changed text is one call); returns ``directory``."""
    from varsolve.index.builder import build_index

    scenario = directory.with_suffix(".toml")
    scenario.write_text(text)
    build_index(scenario, directory)
    return directory
