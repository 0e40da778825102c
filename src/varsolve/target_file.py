"""Target files: one machine to resolve for, read by ``compare --target``, ``lock --target`` and
``install --variants``.

A target file is TOML; every key is optional::

    name = "gpu-box"                   # default: the file's stem
    python = "3.12"                    # a Python version
    platform = "x86_64-manylinux_2_39" # a platform name known to varsolve.target
    enable = ["debug"]                 # optional providers switched on (PEP 850)

    [[provider]]                       # what the machine supports, in the static provider
    namespace = "nvidia"               # file layout (varsolve.providers.static_file)
    [provider.properties]
    cuda_version_lower_bound = ["12.8", "12.6"]

so a file written by ``varsolve detect`` is a valid target as it is. :class:`TargetFile` keeps
which keys the file gives, so that a command can apply it over another target
(:meth:`TargetFile.over`, what ``compare`` does to each scenario's environment) or read it on
its own (:meth:`TargetFile.target`, the defaults of :meth:`Target.make` for the rest). Every
error is one line naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import InputError
from .target import SupportedMap, Target
from .textfile import read_text_file

TARGET_KEYS = ("name", "python", "platform", "enable")
STATIC_KEYS = ("provider", "metadata")  # the static provider file layout


@dataclass(frozen=True)
class TargetFile:
    """A parsed target file; None for a key the file does not give."""

    path: str  # names the file in error messages
    name: str
    python: str | None = None
    platform: str | None = None
    enable: tuple[str, ...] | None = None
    # None unless the file has a ``provider`` key; even ``provider = []`` replaces (with nothing).
    variants: SupportedMap | None = None

    def target(self) -> Target:
        """The target the file describes on its own."""
        return Target.make(self.python, self.platform, self.variants or {}, self.enable or (), where=self.path)

    def over(self, base: Target) -> Target:
        """``base`` with the parts this file gives replaced (provider policy kept)."""
        variants = base.variants if self.variants is None else self.variants
        enabled = sorted(base.enabled) if self.enable is None else list(self.enable)
        target = Target.make(
            self.python or str(base.python), self.platform or base.platform.name, variants, enabled, where=self.path
        )
        return replace(target, provider_policy=base.provider_policy)


def read_target_file(path: str | Path) -> tuple[TargetFile, str]:
    """The parsed file and its text (``compare`` tasks carry the text: remote workers need no files)."""
    where = str(path)
    text = read_text_file(path, "target file")
    return parse_target_text(text, where), text


def parse_target_text(text: str, path: str, default_name: str | None = None) -> TargetFile:
    """Parse a target file's text; ``default_name`` (default: the stem of ``path``) when it has no name."""
    from .structured import load_toml

    return parse_target_data(load_toml(text, path), path, default_name)


def parse_target_data(data: dict[str, Any], path: str, default_name: str | None = None) -> TargetFile:
    """Check a target file's TOML document and validate the target it describes."""
    from .providers.static_file import parse_static

    known = (*TARGET_KEYS, *STATIC_KEYS)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InputError(f"{unknown[0]}: unknown key (known: {', '.join(sorted(known))})", where=path)
    for key in ("name", "python", "platform"):
        if key in data and not isinstance(data[key], str):
            raise InputError(f"{key}: must be a string", where=path)
    enable = data.get("enable")
    if enable is not None and (not isinstance(enable, list) or not all(isinstance(x, str) for x in enable)):
        raise InputError("enable: must be a list of strings", where=path)
    variants = None
    if "provider" in data:
        variants = parse_static({k: v for k, v in data.items() if k in STATIC_KEYS}, path)
    parsed = TargetFile(
        path=path,
        name=data.get("name", Path(path).stem if default_name is None else default_name),
        python=data.get("python"),
        platform=data.get("platform"),
        enable=tuple(enable) if enable is not None else None,
        variants=variants,
    )
    parsed.target()  # an unknown platform or Python version fails here, naming the file
    return parsed
