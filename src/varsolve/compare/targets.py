"""Target files for ``varsolve compare --target FILE``: a machine to resolve every scenario for.

A target file overrides the parts of a scenario's environment it names and keeps the rest::

    name = "gpu-box"                   # optional; default: the file stem
    python = "3.12"                    # optional: replaces the scenario's Python
    platform = "x86_64-manylinux_2_39" # optional: a platform name as in resolver_options
    enable = ["debug"]                 # optional: optional providers switched on

    [[provider]]                       # optional: the static provider file layout
    namespace = "nvidia"               # (varsolve.providers.static_file); when the file has
    [provider.properties]              # any provider key, even `provider = []`, it replaces
    cuda_version_lower_bound = ["12.8", "12.6"]   # the scenario's [environment.variants]

so a file written by ``varsolve detect`` (or by hand for ``resolve --variants``) is a valid
target as it is.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError
from ..problem import Problem
from ..target import Target

_TARGET_KEYS = {"name", "python", "platform", "enable"}
_STATIC_KEYS = {"provider", "metadata"}


@dataclass(frozen=True)
class TargetSpec:
    """A parsed target file: which parts of a scenario's target it replaces."""

    name: str
    path: str
    python: str | None = None
    platform: str | None = None
    enable: tuple[str, ...] | None = None
    variants: dict[str, dict[str, tuple[str, ...]]] | None = None

    def apply(self, problem: Problem) -> Problem:
        old = problem.target
        variants = old.variants if self.variants is None else self.variants
        enabled = sorted(old.enabled) if self.enable is None else list(self.enable)
        target = Target.make(
            self.python or str(old.python), self.platform or old.platform.name, variants, enabled, where=self.path
        )
        return replace(problem, target=target)


def parse_target(text: str, path: str) -> TargetSpec:
    """Parse a target file's text; errors name the file and key."""
    from ..providers.static_file import parse_static

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"malformed TOML: {exc}", where=path) from None
    unknown = sorted(set(data) - _TARGET_KEYS - _STATIC_KEYS)
    if unknown:
        raise InputError(f"{unknown[0]}: unknown key (known: {', '.join(sorted(_TARGET_KEYS | _STATIC_KEYS))})", where=path)
    for key in ("name", "python", "platform"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{key}: must be a string", where=path)
    enable = data.get("enable")
    if enable is not None and (not isinstance(enable, list) or not all(isinstance(x, str) for x in enable)):
        raise InputError("enable: must be a list of strings", where=path)
    variants = None
    if "provider" in data:
        variants = parse_static({k: v for k, v in data.items() if k in _STATIC_KEYS}, path)
    spec = TargetSpec(
        name=data.get("name") or Path(path).stem,
        path=path,
        python=data.get("python"),
        platform=data.get("platform"),
        enable=tuple(enable) if enable is not None else None,
        variants=variants,
    )
    # Fail now, in the main process, rather than once per task in a worker.
    Target.make(spec.python, spec.platform, spec.variants or {}, spec.enable or (), where=path)
    return spec


def load_target(path: str | Path) -> tuple[TargetSpec, str]:
    """The parsed target and its text (tasks carry the text so remote workers need no files)."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read target: {exc.strerror}", where=path) from None
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text", where=path) from None
    return parse_target(text, path), text
