"""The hostile corpus: inputs an attacker or a careless user would give varsolve, each run for
real (the CLI in a subprocess, loopback servers, real files) and classified by what happened.

A case is a function ``case(tmp: Path) -> Outcome`` registered with :func:`case`; the modules
``cases_*.py`` in this folder hold them, by area. ``test_corpus.py`` runs every case and fails on
anything but :data:`CLEAN` (or :data:`OK` where a case expects a success);
``scripts/reliability_report.py`` counts the outcomes per category into docs/reliability.md,
which a test keeps equal to a fresh run's counts.

Outcomes (the columns of docs/reliability.md):

* ``clean`` — a one-line error naming the file, key or URL, a non-zero exit, no traceback (or,
  for a case that expects success, the right result);
* ``traceback`` — Python's traceback reached the user;
* ``hang`` — no answer within the case's time limit;
* ``wrong`` — bad input taken as good: exit 0 or a wrong result;
* ``data-loss`` — something was half-written, deleted, or written outside where it belongs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

CLEAN, TRACEBACK, HANG, WRONG, DATA_LOSS = "clean", "traceback", "hang", "wrong", "data-loss"
OUTCOMES = (CLEAN, TRACEBACK, HANG, WRONG, DATA_LOSS)
CATEGORIES = (
    "scenario files",
    "variant metadata",
    "provider and target files",
    "requirements and options",
    "HTTP and indexes",
    "wheels and sdists",
    "locks",
    "installs and interrupts",
    "plugins",
    "caches",
)


@dataclass(frozen=True)
class Outcome:
    kind: str  # one of OUTCOMES
    detail: str = ""  # what was seen, for the failure message

    def __post_init__(self) -> None:
        assert self.kind in OUTCOMES, self.kind


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    run: Callable[[Path], Outcome] = field(compare=False)

    @property
    def id(self) -> str:
        return f"{self.category}: {self.name}"


REGISTRY: list[Case] = []


def case(category: str, name: str) -> Callable[[Callable[[Path], Outcome]], Callable[[Path], Outcome]]:
    """Register ``function(tmp) -> Outcome`` as a case of ``category``."""
    assert category in CATEGORIES, category

    def register(function: Callable[[Path], Outcome]) -> Callable[[Path], Outcome]:
        REGISTRY.append(Case(category, name, function))
        return function

    return register


def all_cases() -> list[Case]:
    """Every case of every ``cases_*.py`` module, in a stable order."""
    import importlib

    here = Path(__file__).parent
    for module in sorted(p.stem for p in here.glob("cases_*.py")):
        importlib.import_module(f"hostile.{module}")
    ids = [c.id for c in REGISTRY]
    assert len(ids) == len(set(ids)), "duplicate case names"
    return sorted(REGISTRY, key=lambda c: (CATEGORIES.index(c.category), c.name))


# -- running the CLI --------------------------------------------------------------------------------


def varsolve(*args: str, cwd: Path, timeout: float = 30, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str] | None:
    """The CLI in a subprocess; None when it did not finish within ``timeout`` (it is killed)."""
    script = Path(sys.executable).with_name("varsolve")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "varsolve.cli"]
    environment = {**os.environ, "VARSOLVE_CACHE_DIR": str(cwd / ".cache"), **(env or {})}
    environment.pop("PYTHONWARNINGS", None)
    try:
        return subprocess.run(
            [*command, *args], capture_output=True, text=True, errors="replace", cwd=cwd, env=environment,
            timeout=timeout, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return None


def expect_clean_error(
    proc: subprocess.CompletedProcess[str] | None, *, names: Sequence[str] = (), codes: Sequence[int] = (2,)
) -> Outcome:
    """A one-line error on stderr that mentions each of ``names``, exit code in ``codes``."""
    if proc is None:
        return Outcome(HANG, "no answer within the time limit")
    output = proc.stdout + proc.stderr
    if "Traceback (most recent call last)" in output:
        return Outcome(TRACEBACK, output[-2000:])
    if proc.returncode == 0:
        return Outcome(WRONG, f"exit 0: {output[-500:]}")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("varsolve: error:")]
    if proc.returncode not in codes or len(errors) != 1:
        return Outcome(WRONG, f"exit {proc.returncode}, {len(errors)} error lines: {proc.stderr[-800:]}")
    missing = [n for n in names if n not in errors[0]]
    if missing:
        return Outcome(WRONG, f"the error does not name {missing}: {errors[0]}")
    return Outcome(CLEAN, errors[0])


def expect_success(proc: subprocess.CompletedProcess[str] | None, *, contains: Sequence[str] = ()) -> Outcome:
    """Exit 0 and every string of ``contains`` in stdout."""
    if proc is None:
        return Outcome(HANG, "no answer within the time limit")
    if "Traceback (most recent call last)" in proc.stdout + proc.stderr:
        return Outcome(TRACEBACK, (proc.stdout + proc.stderr)[-2000:])
    if proc.returncode != 0:
        return Outcome(WRONG, f"exit {proc.returncode}: {proc.stderr[-800:]}")
    missing = [c for c in contains if c not in proc.stdout]
    if missing:
        return Outcome(WRONG, f"stdout lacks {missing}: {proc.stdout[-800:]}")
    return Outcome(CLEAN, "")


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its content (for "nothing changed" checks)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}
