"""What an interpreter we install into is: marker environment, tags, install scheme, what is
installed. Asked in a subprocess of that interpreter, so that ``--python`` can name any venv.

The probe imports packaging from varsolve's own environment (the target may not have it):
``packaging.markers.default_environment`` and ``packaging.tags.sys_tags`` computed *by the target
interpreter* are the truth about it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import Tag

from ..errors import InputError

_PROBE = r"""
import json, sys, sysconfig
sys.path.insert(0, sys.argv[1])
from packaging.markers import default_environment
from packaging.tags import sys_tags
import importlib.metadata as md
paths = sysconfig.get_paths()
installed = {}
for dist in md.distributions(path=[paths["purelib"], paths["platlib"]]):
    name = dist.metadata["Name"]
    if name:
        installed[name] = {"version": dist.version, "path": str(dist._path)}
json.dump({
    "executable": sys.executable,
    "environment": default_environment(),
    "tags": [str(t) for t in sys_tags()],
    "paths": {"purelib": paths["purelib"], "platlib": paths["platlib"], "headers": paths["include"],
              "scripts": paths["scripts"], "data": paths["data"]},
    "installed": installed,
}, sys.stdout)
"""


@dataclass(frozen=True)
class Interpreter:
    executable: str
    environment: dict[str, str]
    tags: tuple[Tag, ...]
    paths: dict[str, str]
    installed: dict[str, dict[str, str]]  # distribution name -> version, dist-info path

    @property
    def python_full_version(self) -> str:
        return self.environment["python_full_version"]


def default_python() -> str:
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        candidate = Path(venv) / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        if candidate.exists():
            return str(candidate)
    return sys.executable


def probe(python: str | None = None) -> Interpreter:
    import packaging

    python = python or default_python()
    packaging_parent = str(Path(packaging.__file__).resolve().parent.parent)
    try:
        proc = subprocess.run(
            [python, "-I", "-c", _PROBE, packaging_parent],
            capture_output=True, text=True, timeout=120, check=False,
        )
    except OSError as exc:
        raise InputError(f"cannot run interpreter: {exc.strerror}", where=python) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"interpreter probe failed: {last}", where=python)
    data = json.loads(proc.stdout)
    from packaging.tags import parse_tag

    tags = tuple(t for text in data["tags"] for t in parse_tag(text))
    return Interpreter(data["executable"], data["environment"], tags, data["paths"], data["installed"])
