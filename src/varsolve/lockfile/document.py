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


def check_tool_table(data: dict[str, Any], where: str) -> None:
    """The types of ``[tool.varsolve]`` as varsolve writes it (format 1), when there is one: a
    lock is a file anyone can edit, and ``lock --check`` and ``install`` read these keys."""
    from ..toml_fields import TomlFields, key_part
    from ..variants.markers import parse_requirement

    fields = TomlFields(Path(where))
    tool = data.get("tool")
    if tool is None:
        return
    tool = fields.table(tool, "tool")
    if "varsolve" not in tool:
        return
    table = fields.table(tool["varsolve"], "tool.varsolve")
    key = "tool.varsolve"
    if "format" in table and (not isinstance(table["format"], int) or isinstance(table["format"], bool)):
        raise fields.err(f"{key}.format", "must be an integer")
    for name in ("strategy", "layout"):
        if name in table:
            fields.string(table[name], f"{key}.{name}")
    if table.get("layout", "shared") not in ("shared", "per-target", "universal"):
        raise fields.err(f"{key}.layout", "must be \"shared\", \"per-target\" or \"universal\"")
    for i, text in enumerate(fields.strings(table.get("requirements", []), f"{key}.requirements")):
        try:
            parse_requirement(text)
        except InputError as exc:
            raise fields.err(f"{key}.requirements[{i}]", str(exc)) from None
    source = fields.table(table.get("source", {}), f"{key}.source", {"index-url", "find-links"})
    for name, value in source.items():
        fields.string(value, f"{key}.source.{name}")
    options = fields.table(table.get("options", {}), f"{key}.options")
    for name, value in options.items():
        okey = f"{key}.options.{key_part(name)}"
        if name in ("unify", "no-build", "no-binary"):
            fields.strings(value, okey)
        elif name in ("prereleases", "variants"):
            fields.boolean(value, okey)
        else:
            fields.string(value, okey)
    for target, info in fields.table(table.get("targets", {}), f"{key}.targets").items():
        tkey = f"{key}.targets.{key_part(target)}"
        info = fields.table(info, tkey)
        for name in ("python", "platform", "marker"):
            if name in info:
                fields.string(info[name], f"{tkey}.{name}")
        fields.strings(info.get("enable", []), f"{tkey}.enable")
        for ns, features in fields.table(info.get("variants", {}), f"{tkey}.variants").items():
            for feature, values in fields.table(features, f"{tkey}.variants.{key_part(ns)}").items():
                fields.strings(values, f"{tkey}.variants.{key_part(ns)}.{key_part(feature)}")
        for feature, value in fields.table(info.get("unified", {}), f"{tkey}.unified").items():
            fields.string(value, f"{tkey}.unified.{key_part(feature, quote=True)}")
        _check_pins(fields, info.get("packages", {}), f"{tkey}.packages")
    if table.get("layout") == "universal" or "universal" in table:
        _check_universal_table(fields, table)


def _check_pins(fields: Any, packages: Any, key: str, extra: frozenset[str] = frozenset()) -> None:
    from ..toml_fields import key_part

    for package, pin in fields.table(packages, key).items():
        pkey = f"{key}.{key_part(package)}"
        for name, value in fields.table(pin, pkey, {"version", "filename", "variant", *extra}).items():
            fields.string(value, f"{pkey}.{name}")


def _check_universal_table(fields: Any, tool: dict[str, Any]) -> None:
    """``[tool.varsolve.universal]`` (docs/lock.md, "Universal locks"): the universe, the base
    target, the forks; every fork's target is one of ``[tool.varsolve.targets]``."""
    from ..toml_fields import key_part

    key = "tool.varsolve.universal"
    if tool.get("layout", "universal") != "universal":
        raise fields.err(f"{key}", "a universal lock has tool.varsolve.layout = \"universal\"")
    table = fields.table(tool.get("universal"), key, {"requires-python", "environments", "target", "forks"})
    fields.string(table.get("requires-python"), f"{key}.requires-python")
    fields.strings(table.get("environments", []), f"{key}.environments")
    if "target" in table:
        target = fields.table(table["target"], f"{key}.target", {"python", "platform", "enable", "variants"})
        for name in ("python", "platform"):
            if name in target:
                fields.string(target[name], f"{key}.target.{name}")
        fields.strings(target.get("enable", []), f"{key}.target.enable")
        for ns, features in fields.table(target.get("variants", {}), f"{key}.target.variants").items():
            for feature, values in fields.table(features, f"{key}.target.variants.{key_part(ns)}").items():
                fields.strings(values, f"{key}.target.variants.{key_part(ns)}.{key_part(feature)}")
    targets = tool.get("targets", {})
    forks = table.get("forks", [])
    if not isinstance(forks, list) or not forks:
        raise fields.err(f"{key}.forks", "must be a non-empty list of tables")
    for i, fork in enumerate(forks):
        fkey = f"{key}.forks[{i}]"
        fork = fields.table(fork, fkey, {"marker", "target", "unified", "packages"})
        _check_marker(fields, fork.get("marker"), f"{fkey}.marker")
        if "target" in fork:
            name = fields.string(fork["target"], f"{fkey}.target")
            if name not in targets:
                raise fields.err(f"{fkey}.target", f"{name!r} is not in tool.varsolve.targets")
        elif targets:
            raise fields.err(f"{fkey}.target", "missing (the lock has variant targets)")
        for feature, value in fields.table(fork.get("unified", {}), f"{fkey}.unified").items():
            fields.string(value, f"{fkey}.unified.{key_part(feature, quote=True)}")
        _check_pins(fields, fork.get("packages", {}), f"{fkey}.packages", frozenset({"marker"}))
        for package, pin in fork.get("packages", {}).items():
            pkey = f"{fkey}.packages.{key_part(package)}"
            _check_marker(fields, pin.get("marker", ""), f"{pkey}.marker")
            try:
                Version(fields.string(pin.get("version"), f"{pkey}.version"))
            except InvalidVersion:
                raise fields.err(f"{pkey}.version", f"invalid version {pin.get('version')!r}") from None


def _check_marker(fields: Any, value: Any, key: str) -> None:
    """A marker string (``""``: every environment) packaging can parse."""
    from packaging.markers import InvalidMarker, Marker

    text = fields.string(value, key)
    if text:
        try:
            Marker(text)
        except InvalidMarker as exc:
            raise fields.err(key, f"invalid marker: {str(exc).splitlines()[0]}") from None


def validate(data: dict[str, Any], where: str) -> LockDocument:
    """Validate a parsed lock; raises InputError naming the file and key."""
    from packaging.pylock import Pylock, PylockValidationError

    check_lock_version(data, where)
    check_tool_table(data, where)
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
