"""Core metadata and ``variant.json`` out of distributions (wheel zips, sdist tarballs); whether
an sdist's PKG-INFO is final (PEP 643) or only a build can tell (:class:`DynamicMetadata`).

Shared by the HTTP index client and the ``--find-links`` folder source.
"""

from __future__ import annotations

import io
import logging
import re
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import BuildError, InputError, InvalidDistribution, SourceError
from ..repository import CoreMetadata
from ..variants.markers import parse_requirement

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger("varsolve")

# The end of a core metadata file's headers: its first empty line (what the email parser takes
# for it); the body after it is the long description.
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
# Fields an sdist must not mark Dynamic for its PKG-INFO to be its final metadata (PEP 643).
_STATIC_FIELDS = {"requires-dist", "requires-python", "provides-extra"}


def parse_core_metadata(raw: bytes, where: str) -> CoreMetadata:
    """Requires-Dist, Requires-Python and Provides-Extra of a METADATA / PKG-INFO file."""
    from packaging.metadata import parse_email  # 15 ms of imports: only when parsing

    # Only the headers: the email parser would read the body (often a README of thousands of
    # lines) line by line, for a Description no resolver needs.
    end = _END_OF_HEADERS.search(raw)
    try:
        fields, unparsed = parse_email(raw if end is None else raw[: end.end()])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDistribution(where, f"malformed core metadata ({exc})") from None
    # A field packaging could not read (not UTF-8, a second Requires-Python) would otherwise
    # vanish, and a dependency with it: the file is unusable instead.
    broken = sorted(set(unparsed) & {"requires-dist", "requires-python", "provides-extra"})
    if broken:
        raise InvalidDistribution(where, f"malformed core metadata (unreadable {', '.join(broken)})")
    requires = tuple(fields.get("requires_dist", []))
    for text in requires:
        try:
            parse_requirement(text)
        except InputError as exc:
            raise InvalidDistribution(where, f"invalid Requires-Dist {text!r} ({exc})") from None
    requires_python = None
    rp_text = fields.get("requires_python")
    if rp_text and rp_text.strip():
        try:
            requires_python = SpecifierSet(rp_text)
        except InvalidSpecifier:
            log.info("%s: ignoring invalid Requires-Python %r", where, rp_text)  # as pip does
    extras = frozenset(canonicalize_name(e) for e in fields.get("provides_extra", []))
    return CoreMetadata(requires, requires_python, extras)


def dist_info_member(names: list[str], project: str, member: str) -> str | None:
    """The path of ``<project>-<version>.dist-info/<member>`` in a wheel's name list."""
    candidates = [
        n for n in names
        if n.count("/") == 1 and n.endswith("/" + member) and n.split("/", 1)[0].endswith(".dist-info")
    ]
    wanted = canonicalize_name(project)
    for name in candidates:
        stem = name.split("/", 1)[0][: -len(".dist-info")]
        if canonicalize_name(stem.rsplit("-", 1)[0]) == wanted:
            return name
    return candidates[0] if len(candidates) == 1 else None


def read_wheel_member(archive: zipfile.ZipFile, project: str, member: str, where: str) -> bytes | None:
    """A ``*.dist-info/<member>`` file of a wheel, ``None`` when the wheel has none; one that
    decompresses past its limit (:mod:`varsolve.limits`: a zip bomb) makes the wheel unusable."""
    import zipfile
    import zlib  # a damaged deflate stream raises zlib.error, not BadZipFile

    from ..limits import MAX_METADATA, MAX_VARIANT_JSON, read_zip_member

    try:
        name = dist_info_member(archive.namelist(), project, member)
        if name is None:
            return None
        return read_zip_member(archive, name, MAX_VARIANT_JSON if member == "variant.json" else MAX_METADATA)
    except SourceError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError) as exc:
        raise InvalidDistribution(where, f"cannot read {member} from the wheel ({exc})") from None


def wheel_metadata(archive: zipfile.ZipFile, project: str, where: str) -> bytes:
    raw = read_wheel_member(archive, project, "METADATA", where)
    if raw is None:
        raise InvalidDistribution(where, f"not a valid wheel (no {project}-*.dist-info/METADATA)")
    return raw


class DynamicMetadata(Exception):
    """The sdist's metadata is only known after building it (PEP 643 says so, or its PKG-INFO
    is older than 2.2). Internal to the sources: the repository answers it by building the sdist
    (:mod:`.build`) or with a :class:`~varsolve.errors.BuildError` when builds are off.

    ``data``: the sdist's bytes when they were downloaded to find this out (so that the build
    need not download them again).
    """

    def __init__(self, why: str, data: bytes | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.data = data


def dynamic_fields(raw: bytes, where: str) -> str | None:
    """Why the PKG-INFO ``raw`` is not an sdist's final metadata (PEP 643), ``None`` when it is:
    Metadata-Version 2.2 or later and none of Requires-Dist, Requires-Python, Provides-Extra
    Dynamic."""
    from packaging.metadata import parse_email

    try:
        fields, _ = parse_email(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDistribution(where, f"malformed core metadata ({exc})") from None
    version = fields.get("metadata_version", "1.0")
    dynamic = {d.lower() for d in fields.get("dynamic", [])}
    try:
        too_old = Version(version) < Version("2.2")
    except InvalidVersion:
        too_old = True
    if too_old:
        return f"Metadata-Version {version}"
    if dynamic & _STATIC_FIELDS:
        return f"Dynamic: {', '.join(sorted(dynamic & _STATIC_FIELDS))}"
    return None


def sdist_pkg_info(data: bytes, filename: str, where: str) -> bytes:
    """The PKG-INFO of an sdist when it is the final metadata (:func:`dynamic_fields`).

    Raises :class:`DynamicMetadata` (carrying ``data``) when only a build can tell, and
    :class:`~varsolve.errors.BuildError` when ``data`` is not an sdist at all.
    """
    raw = _sdist_member(data, filename, where)
    if raw is None:  # an old sdist (before PEP 643 and 625) may still build, as pip finds
        raise DynamicMetadata("no PKG-INFO", data)
    try:
        why = dynamic_fields(raw, where)
    except SourceError as exc:
        raise BuildError(filename, f"its PKG-INFO is malformed ({exc})", url=where) from None
    if why is not None:
        raise DynamicMetadata(why, data)
    return raw


def _sdist_member(data: bytes, filename: str, where: str) -> bytes | None:
    """The sdist's PKG-INFO; past the limits of :mod:`varsolve.limits` (a PKG-INFO that
    decompresses to gigabytes, a tar of millions of members) it is no valid sdist."""
    import tarfile
    import zipfile

    from ..limits import MAX_METADATA, MAX_SDIST_MEMBERS, MAX_SDIST_SCAN, TooLarge, read_tar_member, read_zip_member

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [n for n in z.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")]
                if names:
                    return read_zip_member(z, names[0], MAX_METADATA)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
                for count, info in enumerate(tar, 1):
                    if info.isfile() and info.name.count("/") == 1 and info.name.endswith("/PKG-INFO"):
                        return read_tar_member(tar, info, MAX_METADATA)
                    if count >= MAX_SDIST_MEMBERS or info.offset_data > MAX_SDIST_SCAN:
                        raise TooLarge(f"no PKG-INFO among its first {count} members (limits: {MAX_SDIST_MEMBERS} members, "
                                       f"{MAX_SDIST_SCAN >> 30} GiB decompressed)")
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise BuildError(filename, f"not a valid sdist ({exc})", url=where) from None
    return None
