"""Wheel filenames with the optional variant label (PEP 825, digest section 2.2).

packaging's ``parse_wheel_filename`` knows nothing of labels (pypa/packaging#1148), so we split
the label off by hand and let packaging validate the remaining classic wheel name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.utils import InvalidWheelFilename as _PackagingInvalidWheel
from packaging.version import Version

from ..errors import InvalidWheelFilename
from .labels import LABEL_RE


@dataclass(frozen=True, slots=True)
class WheelFilename:
    name: NormalizedName
    version: Version
    build: tuple[int, str] | tuple[()]
    tags: frozenset[Tag]
    label: str | None  # None for a non-variant wheel

    @property
    def is_variant(self) -> bool:
        return self.label is not None


def parse_wheel(filename: str) -> WheelFilename:
    if not filename.endswith(".whl"):
        raise InvalidWheelFilename(f"not a wheel filename (must end in .whl): {filename!r}")
    parts = filename[: -len(".whl")].split("-")
    label: str | None = None
    if len(parts) == 7 or (len(parts) == 6 and not parts[2][:1].isdigit()):
        label = parts.pop()
        if not LABEL_RE.fullmatch(label):
            raise InvalidWheelFilename(f"invalid variant label {label!r} in wheel filename {filename!r}")
    elif len(parts) not in (5, 6):
        raise InvalidWheelFilename(f"invalid wheel filename {filename!r}: wrong number of parts")
    if parts[-3][:1].isdigit():
        raise InvalidWheelFilename(f"invalid wheel filename {filename!r}: python tag starts with a digit")
    try:
        name, version, build, tags = parse_wheel_filename("-".join(parts) + ".whl")
    except _PackagingInvalidWheel as exc:
        # packaging saw the name without its label; name the file the user gave.
        raise InvalidWheelFilename(f"invalid wheel filename {filename!r}: {exc}") from None
    return WheelFilename(name, version, build, tags, label)


def parse_sdist(filename: str) -> tuple[NormalizedName, Version]:
    try:
        return parse_sdist_filename(filename)
    except InvalidSdistFilename as exc:
        raise InvalidWheelFilename(f"invalid sdist filename {filename!r}: {exc}") from None


_ESCAPE = re.compile(r"[-_.]+")


def escaped_name(name: str) -> str:
    """Distribution name as it appears in wheel and ``*-variants.json`` filenames."""
    return _ESCAPE.sub("_", canonicalize_name(name))


def wheel_filename(
    name: str, version: Version | str, tag: str, label: str | None = None, build: str | None = None
) -> str:
    parts = [escaped_name(name), str(Version(str(version)))]
    if build:
        parts.append(build)
    parts.append(tag)
    if label is not None:
        parts.append(label)
    return "-".join(parts) + ".whl"


def variants_json_filename(name: str, version: Version | str) -> str:
    return f"{escaped_name(name)}-{Version(str(version))}-variants.json"
