"""Locks: a pylock.toml that ``lock --check`` (and ``install``) reads back, edited by hand or by
someone else: ``[tool.varsolve]`` of the wrong types, nesting bombs, endless files. The lock is a
real one, written by ``varsolve lock`` from an index that ``varsolve index build`` made."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from hostile.corpus import CLEAN, WRONG, Outcome, case, expect_clean_error, tree_snapshot, varsolve

CATEGORY = "locks"

SCENARIO = """
[packages.numpy.versions."2.3.0"]
wheel = false
sdist = false
[packages.numpy.versions."2.3.0".variants]
mkl = ["blas_lapack :: library :: mkl"]
openblas = ["blas_lapack :: library :: openblas"]
[packages.scipy.versions."1.16.0"]
sdist = false
"""
TARGET = 'python = "3.12"\nplatform = "linux"\n[[provider]]\nnamespace = "blas_lapack"\n[provider.properties]\nlibrary = ["openblas"]\n'

_TEMPLATE: list[Path] = []


def _template() -> Path:
    """A folder with an index (idx/) and the lock varsolve wrote from it (pylock.toml), built
    once per process."""
    if not _TEMPLATE:
        root = Path(tempfile.mkdtemp(prefix="varsolve-hostile-lock-"))
        atexit.register(shutil.rmtree, root, True)
        (root / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
        (root / "t.toml").write_text(TARGET, encoding="utf-8")
        script = Path(sys.executable).with_name("varsolve")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]
        env = {"VARSOLVE_CACHE_DIR": str(root / ".cache")}
        for args in (
            ["index", "build", "scenario.toml", "-o", "idx"],
            ["lock", "numpy", "scipy", "--find-links", "idx/files", "--target", "t.toml", "-o", "pylock.toml"],
        ):
            subprocess.run([*command, *args], cwd=root, check=True, capture_output=True, timeout=120, env={**os.environ, **env})
        _TEMPLATE.append(root)
    return _TEMPLATE[0]


def _lock(tmp: Path) -> Path:
    """A copy of the template's index and lock in ``tmp``; returns the lock."""
    template = _template()
    shutil.copytree(template / "idx", tmp / "idx")
    shutil.copy(template / "pylock.toml", tmp / "pylock.toml")
    return tmp / "pylock.toml"


def _edited(tmp: Path, edit: Callable[[dict[str, Any]], None], *names: str) -> Outcome:
    """``lock --check`` of the lock with ``[tool.varsolve]`` edited by ``edit``: one line naming
    the file and the key, exit 2; the lock is left as it was."""
    path = _lock(tmp)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    edit(data["tool"]["varsolve"])
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    before = tree_snapshot(tmp)
    outcome = expect_clean_error(varsolve("lock", "--check", str(path), cwd=tmp, timeout=60), names=[str(path), *names])
    if outcome.kind == CLEAN and tree_snapshot(tmp) != before:
        return Outcome(WRONG, "lock --check changed files")
    return outcome


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(table: dict[str, Any]) -> None:
        table[key] = value

    return edit


def _target(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(table: dict[str, Any]) -> None:
        table["targets"]["t"][key] = value

    return edit


@case(CATEGORY, "lock --check: tool.varsolve.source as a string")
def source_string(tmp: Path) -> Outcome:
    return _edited(tmp, _set("source", "idx/files"), "tool.varsolve.source")


@case(CATEGORY, "lock --check: tool.varsolve.source.find-links as an integer")
def find_links_integer(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["source"].update({"find-links": 3}), "tool.varsolve.source.find-links")


@case(CATEGORY, "lock --check: tool.varsolve.source.index-url as an array")
def index_url_array(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["source"].update({"index-url": ["http://127.0.0.1:9/simple"]}), "tool.varsolve.source.index-url")


@case(CATEGORY, "lock --check: tool.varsolve.targets as an array")
def targets_array(tmp: Path) -> Outcome:
    return _edited(tmp, _set("targets", ["t"]), "tool.varsolve.targets")


@case(CATEGORY, "lock --check: a target's packages as an array")
def packages_array(tmp: Path) -> Outcome:
    return _edited(tmp, _target("packages", ["numpy"]), "tool.varsolve.targets.t.packages")


@case(CATEGORY, "lock --check: a pinned package as a string")
def pin_string(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["targets"]["t"]["packages"].update({"numpy": "2.3.0"}), "tool.varsolve.targets.t.packages.numpy")


@case(CATEGORY, "lock --check: a pinned version as an integer")
def pin_version_integer(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["targets"]["t"]["packages"]["numpy"].update({"version": 2}), "packages.numpy.version")


@case(CATEGORY, "lock --check: a target's python as a float (3.12)")
def target_python_float(tmp: Path) -> Outcome:
    return _edited(tmp, _target("python", 3.12), "tool.varsolve.targets.t.python")


@case(CATEGORY, "lock --check: a target's variants as an array")
def target_variants_array(tmp: Path) -> Outcome:
    return _edited(tmp, _target("variants", ["blas_lapack"]), "tool.varsolve.targets.t.variants")


@case(CATEGORY, "lock --check: a target's name with a newline")
def target_name_newline(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["targets"].update({"t\n": t["targets"].pop("t")}), "target name")


@case(CATEGORY, "lock --check: options.no-build as a string")
def options_no_build_string(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["options"].update({"no-build": ":all:"}), "tool.varsolve.options.no-build")


@case(CATEGORY, "lock --check: options.prereleases as a string")
def options_prereleases_string(tmp: Path) -> Outcome:
    return _edited(tmp, lambda t: t["options"].update({"prereleases": "yes"}), "tool.varsolve.options.prereleases")


@case(CATEGORY, "lock --check: requirements holding an integer")
def requirements_integer(tmp: Path) -> Outcome:
    return _edited(tmp, _set("requirements", ["numpy", 1]), "tool.varsolve.requirements")


@case(CATEGORY, "lock --check: a requirement that is not one")
def requirements_invalid(tmp: Path) -> Outcome:
    return _edited(tmp, _set("requirements", ["numpy", "scipy >>> 1"]), "tool.varsolve.requirements[1]")


@case(CATEGORY, "lock --check: format as a string")
def format_string(tmp: Path) -> Outcome:
    return _edited(tmp, _set("format", "1"), "tool.varsolve.format")


@case(CATEGORY, "lock --check: layout that is neither shared nor per-target")
def layout_unknown(tmp: Path) -> Outcome:
    return _edited(tmp, _set("layout", "../../elsewhere"), "tool.varsolve.layout")


def _raw(tmp: Path, text: str, *names: str) -> Outcome:
    path = tmp / "pylock.toml"
    path.write_text(text, encoding="utf-8")
    return expect_clean_error(varsolve("lock", "--check", str(path), cwd=tmp, timeout=60), names=[str(path), *names])


@case(CATEGORY, "lock --check: a lock nested 100,000 arrays deep")
def nesting_bomb(tmp: Path) -> Outcome:
    return _raw(tmp, 'lock-version = "1.0"\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n", "nested too deeply")


@case(CATEGORY, "lock --check: a dotted key of 100,000 parts")
def dotted_key_bomb(tmp: Path) -> Outcome:
    return _raw(tmp, 'lock-version = "1.0"\n[tool' + ".a" * 100_000 + "]\n", "nested too deeply")


@case(CATEGORY, "lock --check: an endless lock (/dev/zero)")
def endless_lock(tmp: Path) -> Outcome:
    if not Path("/dev/zero").exists():
        return Outcome(CLEAN, "no /dev/zero here")
    return expect_clean_error(varsolve("lock", "--check", "/dev/zero", cwd=tmp, timeout=60), names=["/dev/zero", "larger than"])
