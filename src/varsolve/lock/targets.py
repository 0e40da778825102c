"""Lock targets: ``--target FILE`` and how standard markers tell targets apart.

A target file is TOML::

    name = "cuda"                        # optional; default: the file's stem
    python = "3.12"                      # default 3.12
    platform = "x86_64-manylinux_2_39"   # a platform name known to varsolve.target
    enable = ["debug"]                   # optional providers switched on (PEP 850)

    # what the machine supports, in the static provider layout of --variants files
    [[provider]]
    namespace = "nvidia"
    [provider.properties]
    cuda_version_lower_bound = ["12.8", "12.6"]

Two targets share a lock only when standard markers can tell them apart (PEP 825 forbids
variant markers in ``marker`` and ``environments``), see :func:`lock_layout`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..target import Target

# Marker variables that tell targets apart; all are derived from Target.marker_environment().
MARKER_FIELDS = ("python_version", "sys_platform", "platform_machine")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")  # PEP 751's pylock.<name>.toml: no dots
_TARGET_KEYS = {"name", "python", "platform", "enable", "provider", "metadata"}


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
    if not _NAME_RE.match(name):
        raise InputError(f"target name {name!r} must match {_NAME_RE.pattern} (it names pylock.<name>.toml)", where=where)
    return name


def load_target_file(path: str | Path) -> LockTarget:
    path = Path(path)
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read target file: {exc.strerror}", where=where) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"malformed TOML: {exc}", where=where) from None
    return parse_target(data, where, default_name=path.stem)


def parse_target(data: dict[str, Any], where: str, default_name: str = "default") -> LockTarget:
    from ..providers.static_file import parse_static

    unknown = sorted(set(data) - _TARGET_KEYS)
    if unknown:
        raise InputError(f"{unknown[0]}: unknown key (known: {', '.join(sorted(_TARGET_KEYS))})", where=where)
    name = data.get("name", default_name)
    if not isinstance(name, str):
        raise InputError("name: must be a string", where=where)
    validate_target_name(name, where)
    for key in ("python", "platform"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{key}: must be a string", where=where)
    enable = data.get("enable", [])
    if not isinstance(enable, list) or not all(isinstance(e, str) for e in enable):
        raise InputError("enable: must be a list of namespaces", where=where)
    variants = parse_static({k: v for k, v in data.items() if k in ("provider", "metadata")}, where)
    target = Target.make(data.get("python"), data.get("platform"), variants, enable, where=where)
    return LockTarget(name, target)


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
