"""Lock targets: ``--target FILE`` and how standard markers tell targets apart.

A target file (:mod:`varsolve.target_file`) names the lock target by its ``name`` (default: the
file's stem); what it leaves out takes :meth:`~varsolve.target.Target.make`'s defaults.

Two targets share a lock only when standard markers can tell them apart (PEP 825 forbids
variant markers in ``marker`` and ``environments``), see :func:`lock_layout`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..target import Target

# Marker variables that tell targets apart; all are derived from Target.marker_environment().
MARKER_FIELDS = ("python_version", "sys_platform", "platform_machine")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")  # PEP 751's pylock.<name>.toml: no dots


@dataclass(frozen=True)
class LockTarget:
    name: str
    target: Target

    def marker_values(self) -> tuple[str, ...]:
        env = self.target.marker_environment()
        return tuple(env[f] for f in MARKER_FIELDS)

    def marker(self, fields: Sequence[str] = MARKER_FIELDS) -> str:
        env = self.target.marker_environment()
        return " and ".join(f'{f} == "{env[f]}"' for f in fields)

    def describe(self) -> dict[str, Any]:
        """The target as written in ``[tool.varsolve.targets.<name>]``."""
        t = self.target
        return {
            "python": t.python_version,
            "platform": t.platform.name,
            "marker": self.marker(),
            "enable": sorted(t.enabled),
            "variants": {ns: {f: list(v) for f, v in feats.items()} for ns, feats in t.variants.items()},
        }


def validate_target_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InputError(f"target name {name!r} must match {_NAME_RE.pattern} (it names pylock.<name>.toml)", where=where)
    return name


def load_target_file(path: str | Path) -> LockTarget:
    """A lock target from a target file; its name must suit ``pylock.<name>.toml``."""
    from ..target_file import read_target_file

    parsed, _ = read_target_file(path)
    return LockTarget(validate_target_name(parsed.name, parsed.path), parsed.target())


def check_unique_names(targets: Sequence[LockTarget]) -> None:
    seen: set[str] = set()
    for t in targets:
        if t.name in seen:
            raise InputError(f"two targets are named {t.name!r}; give each target file a distinct name")
        seen.add(t.name)


def lock_layout(targets: Sequence[LockTarget]) -> str:
    """``"shared"``: one lock for all targets; ``"per-target"``: one ``pylock.<name>.toml`` each.

    Targets share a lock only when every pair differs in a standard marker (Python version, OS,
    machine). When two targets agree on all of them (a CUDA and a CPU machine), no standard
    marker can choose between their entries, so every target gets its own lock. The rule looks
    at the targets only, never at the resolutions, so the set of files written is predictable.
    """
    values = [t.marker_values() for t in targets]
    return "shared" if len(set(values)) == len(values) else "per-target"


def distinguishing_fields(targets: Sequence[LockTarget]) -> tuple[str, ...]:
    """The marker fields whose values differ between targets (used for package markers)."""
    if len(targets) < 2:
        return ()
    envs = [t.target.marker_environment() for t in targets]
    return tuple(f for f in MARKER_FIELDS if len({e[f] for e in envs}) > 1)
