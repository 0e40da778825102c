"""Reading and validating a pylock.toml that may list variant wheels.

packaging 26.3's ``Pylock.from_dict`` rejects every variant wheel: its ``parse_wheel_filename``
reads the label as a bad build tag (pypa/packaging#1148). We therefore validate a *label-blind
view* of the document with packaging: the same document with each variant wheel's ``name`` set
to the classic filename without the label. Everything PEP 751 checks (keys, types, hashes,
source exclusivity, name/version consistency, lock-version) is thus packaging's; what it cannot
see -- labels and ``[packages.variants-json]`` (PEP 825) -- is checked here.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from ..errors import InputError, VarsolveError
from ..variants.filenames import WheelFilename, parse_wheel
from ..variants.metadata import VariantMetadata, parse_metadata

SUPPORTED_LOCK_MAJOR = 1
VARIANTS_JSON = "variants-json"


@dataclass
class LockDocument:
    path: Path
    data: dict[str, Any]
    pylock: Any  # packaging.pylock.Pylock of the label-blind view
    # package index -> wheel index -> parsed filename (label included)
    wheels: dict[int, list[WheelFilename]] = field(default_factory=dict)
    # package index -> combined variant metadata from [packages.variants-json]
    variants: dict[int, VariantMetadata] = field(default_factory=dict)

    @property
    def tool(self) -> dict[str, Any]:
        tool = self.data.get("tool", {})
        out = tool.get("varsolve", {}) if isinstance(tool, dict) else {}
        return out if isinstance(out, dict) else {}

    @property
    def directory(self) -> Path:
        return self.path.parent


def check_lock_version(data: dict[str, Any], where: str) -> Version:
    raw = data.get("lock-version")
    if not isinstance(raw, str):
        raise InputError("lock-version: missing or not a string", where=where)
    try:
        version = Version(raw)
    except InvalidVersion:
        raise InputError(f"lock-version: invalid version {raw!r}", where=where) from None
    if version.major != SUPPORTED_LOCK_MAJOR:
        raise InputError(
            f"lock-version {raw} is not supported (varsolve reads lock-version {SUPPORTED_LOCK_MAJOR}.x)",
            where=where,
        )
    return version


def label_blind_view(data: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[int, list[WheelFilename]]]:
    """A copy where variant wheels carry their label-less name, plus every parsed filename."""
    view = copy.deepcopy(data)
    parsed: dict[int, list[WheelFilename]] = {}
    packages = view.get("packages")
    if not isinstance(packages, list):
        return view, parsed  # packaging reports the problem
    for i, package in enumerate(packages):
        wheels = package.get("wheels") if isinstance(package, dict) else None
        if not isinstance(wheels, list):
            continue
        parsed[i] = []
        for j, wheel in enumerate(wheels):
            if not isinstance(wheel, dict):
                continue
            filename = wheel_file_name(wheel)
            if filename is None:
                continue
            try:
                wf = parse_wheel(filename)
            except VarsolveError as exc:
                raise InputError(str(exc), where=f"{where}: packages[{i}].wheels[{j}]") from None
            parsed[i].append(wf)
            if wf.label is not None:
                wheel["name"] = filename[: -len(f"-{wf.label}.whl")] + ".whl"
    return view, parsed


def wheel_file_name(wheel: dict[str, Any]) -> str | None:
    """A wheel entry's file name: its ``name``, else the last part of its ``path`` or ``url``."""
    for key in ("name", "path", "url"):
        value = wheel.get(key)
        if isinstance(value, str) and value:
            return value if key == "name" else value.replace("\\", "/").rsplit("/", 1)[-1].split("#")[0].split("?")[0]
    return None


def validate(data: dict[str, Any], where: str) -> LockDocument:
    """Validate a parsed lock; raises InputError naming the file and key."""
    from packaging.pylock import Pylock, PylockValidationError

    check_lock_version(data, where)
    view, parsed = label_blind_view(data, where)
    try:
        pylock = Pylock.from_dict(view)
    except PylockValidationError as exc:
        raise InputError(f"invalid lock: {exc}", where=where) from None
    doc = LockDocument(Path(where), data, pylock, parsed)
    for i, package in enumerate(data["packages"]):
        key = f"packages[{i}]"
        labels = {wf.label for wf in parsed.get(i, []) if wf.label is not None}
        raw = package.get(VARIANTS_JSON)
        if raw is None:
            if labels:
                raise InputError(
                    f"{key}: lists variant wheels ({', '.join(sorted(labels))}) but has no [packages.variants-json]",
                    where=where,
                )
            continue
        metadata = parse_metadata(raw, f"{where}: {key}.variants-json")
        missing = sorted(labels - set(metadata.variants))
        if missing:
            raise InputError(f"{key}.variants-json: no entry for listed label {missing[0]!r}", where=where)
        doc.variants[i] = metadata
    return doc


def load(path: str | Path) -> LockDocument:
    from .tomlio import loads_file

    path = Path(path)
    doc = validate(loads_file(path), str(path))
    doc.path = path
    return doc
