"""The files a project page lists: which links are distributions (and of which version), their
hashes, and reading the ones that are local (``file://``)."""

from __future__ import annotations

import hashlib
import logging
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InvalidWheelFilename, SourceError
from ..repository import DistFile
from ..variants.filenames import WheelFilename, escaped_name, parse_sdist, parse_wheel
from .pages import Link

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger("varsolve")

VARIANTS_SUFFIX = "-variants.json"
# Strongest first: when an index announces several, the strongest is checked.
HASH_PREFERENCE = ("sha512", "sha384", "sha256", "sha224", "sha1", "md5")


# A project page of a large project lists tens of thousands of files, but only a few dozen
# Requires-Python texts and a few hundred tag triples: each is parsed once per run (and the
# files share the parsed objects, which are never changed).
_SPECIFIERS: dict[str, SpecifierSet] = {}
_WHEEL_HEADS: dict[str, tuple[NormalizedName, Version]] = {}  # "name-version" of a wheel filename
_WHEEL_TAGS: dict[str, frozenset[Tag]] = {}  # "py-abi-platform" of a wheel filename


def wheel_of(filename: str) -> WheelFilename:
    """:func:`~varsolve.variants.filenames.parse_wheel`, with the name and version, and the tags,
    of a plain ``name-version-py-abi-platform.whl`` (no build tag, no label: nearly every file)
    each parsed once per run. Every check of the parser looks at one of the two parts alone, so
    each part is checked by parsing it with a part known to be valid (``py3-none-any``,
    ``x-0``); a filename with a bad part is parsed whole, for the parser's own error."""
    parts = filename[:-4].split("-")
    if len(parts) != 5:
        return parse_wheel(filename)
    head = f"{parts[0]}-{parts[1]}"
    triple = f"{parts[2]}-{parts[3]}-{parts[4]}"
    known = _WHEEL_HEADS.get(head)
    tags = _WHEEL_TAGS.get(triple)
    try:
        if known is None:
            wheel = parse_wheel(f"{head}-py3-none-any.whl")
            known = _WHEEL_HEADS[head] = (wheel.name, wheel.version)
        if tags is None:
            tags = _WHEEL_TAGS[triple] = parse_wheel(f"x-0-{triple}.whl").tags
    except InvalidWheelFilename:
        return parse_wheel(filename)  # raises, naming this file
    return WheelFilename(known[0], known[1], (), tags, None)


_SDISTS: dict[str, tuple[NormalizedName, Version]] = {}


def sdist_of(filename: str) -> tuple[NormalizedName, Version]:
    """:func:`~varsolve.variants.filenames.parse_sdist`, once per filename and run (a project
    page's files are grouped by it, and then by version)."""
    known = _SDISTS.get(filename)
    if known is None:
        known = _SDISTS[filename] = parse_sdist(filename)
    return known


def specifier_set(text: str) -> SpecifierSet:
    """``SpecifierSet(text)``, one shared object per text (InvalidSpecifier as it does)."""
    spec = _SPECIFIERS.get(text)
    if spec is None:
        spec = _SPECIFIERS[text] = SpecifierSet(text)
    return spec


def dist_file(link: Link, name: NormalizedName, announced: bool) -> DistFile | None:
    """The distribution ``link`` is, ``None`` when it is none of ``name``'s wheels and sdists.

    ``announced``: the source states Requires-Python (an index does, PEP 503/691), so a file
    without one gets an empty specifier, "announced, no constraint".
    """
    filename = link.filename
    try:
        if filename.endswith(".whl"):
            wheel = wheel_of(filename)
            if wheel.name != name:
                return None
        elif filename.endswith((".tar.gz", ".zip")):
            wheel = None
            if sdist_of(filename)[0] != name:
                return None
        else:
            return None  # eggs, installers, signatures: not for us
    except InvalidWheelFilename:
        log.debug("skipping %s: not a valid distribution filename", link.url)
        return None
    requires_python = specifier_set("") if announced else None
    if link.requires_python:
        try:
            requires_python = specifier_set(link.requires_python)
        except InvalidSpecifier:
            log.info("%s: ignoring invalid requires-python %r", link.url, link.requires_python)
    return DistFile(
        filename=filename,
        wheel=wheel,
        url=link.url,
        hashes=dict(link.hashes),
        size=link.size,
        upload_time=link.upload_time,
        requires_python=requires_python,
        yanked=link.yanked,
    )


def dist_version(file: DistFile) -> Version:
    return file.wheel.version if file.wheel else sdist_of(file.filename)[1]


def project_of_filename(filename: str) -> NormalizedName | None:
    """The project a wheel, sdist or ``*-variants.json`` belongs to; ``None`` for other files."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel(filename).name
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist(filename)[0]
    except InvalidWheelFilename:
        return None
    if filename.endswith(VARIANTS_SUFFIX):
        name = filename[: -len(VARIANTS_SUFFIX)].rpartition("-")[0]
        return canonicalize_name(name) if name else None
    return None


def variants_json_version(filename: str, escaped: str) -> Version | None:
    """The version of ``{name}-{version}-variants.json`` when ``name`` escapes to ``escaped``."""
    stem = filename[: -len(VARIANTS_SUFFIX)]
    name, _, version = stem.rpartition("-")
    if escaped_name(name) != escaped:
        return None
    try:
        return Version(version)
    except InvalidVersion:
        return None


def hashes_match(hashes: dict[str, str], data: bytes) -> bool:
    for algo in HASH_PREFERENCE:
        if algo in hashes:
            return hashlib.new(algo, data).hexdigest() == hashes[algo]
    return True


def verify_hashes(hashes: dict[str, str], data: bytes, url: str) -> None:
    for algo in HASH_PREFERENCE:
        if algo in hashes:
            got = hashlib.new(algo, data).hexdigest()
            if got != hashes[algo]:
                raise SourceError(
                    f"{url}: {algo} mismatch (the index says {hashes[algo][:16]}..., the download has {got[:16]}...)"
                )
            return


def is_local(url: str) -> bool:
    return url.startswith("file:")


def local_path(url: str) -> Path:
    from urllib.request import url2pathname  # heavy module, rarely needed

    return Path(url2pathname(urllib.parse.urlsplit(url).path))


def read_local(path: Path, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{where}: cannot read ({exc.strerror})") from None


def open_local_zip(path: Path, where: str) -> zipfile.ZipFile:
    import zipfile  # with bz2 and lzma: only when a local wheel is read

    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{where}: not a valid wheel ({exc})") from None
