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
import json, os, sys, sysconfig
sys.path.insert(0, sys.argv[1])
from packaging.markers import default_environment
from packaging.tags import sys_tags
import importlib.metadata as md
paths = sysconfig.get_paths()
headers = paths["include"]
if sys.prefix != sys.base_prefix:  # a venv: its own include/site, as pip does (not the base Python's)
    headers = os.path.join(sys.prefix, "include", "site", "python%d.%d" % sys.version_info[:2])
installed = {}
for dist in md.distributions(path=[paths["purelib"], paths["platlib"]]):
    name = dist.metadata["Name"]
    if name:
        installed[name] = {"version": dist.version, "path": str(dist._path)}
json.dump({
    "executable": sys.executable,
    "prefix": sys.prefix,
    "environment": default_environment(),
    "tags": [str(t) for t in sys_tags()],
    "paths": {"purelib": paths["purelib"], "platlib": paths["platlib"], "headers": headers,
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
    prefix: str = ""  # sys.prefix: the install journal lives there (default: the data path)

    @property
    def root(self) -> Path:
        """The environment's prefix, where ``varsolve install`` keeps its journal."""
        return Path(self.prefix or self.paths["data"])

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
    return Interpreter(
        data["executable"], data["environment"], tags, data["paths"], data["installed"], data.get("prefix", "")
    )


def installed_distributions(paths: dict[str, str]) -> dict[str, dict[str, str]]:
    """What is installed in ``paths``' purelib and platlib now (as the probe computes it, read by
    this process: under the install lock, the environment may have changed since the probe)."""
    import importlib.metadata as md

    installed: dict[str, dict[str, str]] = {}
    for dist in md.distributions(path=[paths["purelib"], paths["platlib"]]):
        name = dist.metadata["Name"]
        location = getattr(dist, "_path", None)
        if name and location is not None:
            installed[name] = {"version": dist.version, "path": str(location)}
    return installed


def environment_prefix(python: str | None = None) -> Path:
    """The prefix (``sys.prefix``) of ``python``'s environment, where the install journal lives:
    the directory of a venv's ``pyvenv.cfg`` without running anything, else asked (probe)."""
    python = python or default_python()
    here = Path(os.path.abspath(python)).parent
    for candidate in (here, here.parent):
        if (candidate / "pyvenv.cfg").is_file():
            return candidate
    return probe(python).root
