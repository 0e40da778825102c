"""The files a project page lists: which links are distributions (and of which version), their
hashes, and reading the ones that are local (``file://``)."""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InvalidWheelFilename, SourceError
from ..repository import DistFile
from ..variants.filenames import WheelFilename, escaped_name, parse_sdist, parse_wheel
from . import jsoncodec
from .pages import Link, Row, cacheable_entries, checked_entry, checked_row, json_file_row

if TYPE_CHECKING:
    import zipfile

log = logging.getLogger("varsolve")
_F = TypeVar("_F")

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
    found = _plain_wheel(filename)
    if found is None:
        return parse_wheel(filename)  # a build tag or a label; or invalid: raises, naming this file
    return WheelFilename(found[0], found[1], (), found[2], None)


def _frozen(cls: type[_F], fields: dict[str, object]) -> _F:
    """``cls(**fields)`` for a frozen dataclass, given every field: what its generated
    ``__init__`` does (one ``object.__setattr__`` per field) in one dict update, when the class
    has a ``__dict__`` and no ``__post_init__`` (else its constructor). A cold run builds tens of
    thousands of files."""
    if not _plain_dataclass(cls):
        return cls(**fields)
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


_PLAIN: dict[type, bool] = {}


def _plain_dataclass(cls: type) -> bool:
    plain = _PLAIN.get(cls)
    if plain is None:
        plain = _PLAIN[cls] = "__slots__" not in cls.__dict__ and not hasattr(cls, "__post_init__")
    return plain


def _plain_wheel(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]] | None:
    """The name, version and tags of a plain ``name-version-py-abi-platform.whl`` (see
    :func:`wheel_of`), without building a :class:`WheelFilename`; ``None`` for any other."""
    parts = filename[:-4].split("-")
    if len(parts) != 5:
        return None
    head = parts[0] + "-" + parts[1]
    triple = parts[2] + "-" + parts[3] + "-" + parts[4]
    known = _WHEEL_HEADS.get(head)
    tags = _WHEEL_TAGS.get(triple)
    try:
        if known is None:
            known = _WHEEL_HEADS[head] = _wheel_head(parts[0], parts[1])
        if tags is None:
            tags = _WHEEL_TAGS[triple] = parse_wheel(f"x-0-{triple}.whl").tags
    except InvalidWheelFilename:
        return None
    return known[0], known[1], tags


_WHEEL_NAMES: dict[str, NormalizedName] = {}  # a wheel filename's name part, checked and normalized
_VERSIONS: dict[str, Version] = {}  # a wheel filename's version part


def _wheel_head(name_part: str, version_part: str) -> tuple[NormalizedName, Version]:
    """The name and version of a plain wheel filename whose first two parts these are, as
    :func:`~varsolve.variants.filenames.parse_wheel` gives them (``InvalidWheelFilename`` as
    it raises): the name checked once per project, the version parsed once per text (every
    version of a large project's page has a new head)."""
    name = _WHEEL_NAMES.get(name_part)
    if name is None:
        name = _WHEEL_NAMES[name_part] = parse_wheel(f"{name_part}-0-py3-none-any.whl").name
    version = _VERSIONS.get(version_part)
    if version is None:
        try:
            version = Version(version_part)  # packaging's own test of a wheel's version part
        except InvalidVersion:
            raise InvalidWheelFilename(f"invalid wheel filename {name_part}-{version_part}-...: invalid version") from None
        _VERSIONS[version_part] = version
    return name, version


_SDISTS: dict[str, tuple[NormalizedName, Version]] = {}


_SDIST_NAMES: dict[str, NormalizedName] = {}  # an sdist filename's name part, normalized


def sdist_of(filename: str) -> tuple[NormalizedName, Version]:
    """:func:`~varsolve.variants.filenames.parse_sdist`, once per filename and run (a project
    page's files are grouped by it, and then by version): packaging's split at the last dash,
    with each name part normalized and each version text parsed once per run; anything that
    does not parse goes to ``parse_sdist`` for its error."""
    known = _SDISTS.get(filename)
    if known is None:
        stem = filename[:-7] if filename.endswith(".tar.gz") else filename[:-4] if filename.endswith(".zip") else ""
        name_part, dash, version_part = stem.rpartition("-")
        version = _VERSIONS.get(version_part) if dash and name_part else None
        if version is None and dash and name_part:
            try:
                version = _VERSIONS[version_part] = Version(version_part)
            except InvalidVersion:
                version = None
        if version is None:
            known = parse_sdist(filename)  # raises, naming the file
        else:
            name = _SDIST_NAMES.get(name_part)
            if name is None:
                name = _SDIST_NAMES[name_part] = canonicalize_name(name_part)
            known = (name, version)
        _SDISTS[filename] = known
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
    return row_dist_file(link.row(), name, announced)


def row_dist_file(row: Row, name: NormalizedName, announced: bool) -> DistFile | None:
    """:func:`dist_file` of the link ``Link(*row)``, without building it."""
    filename, url, hashes, requires_python_text, yanked, _, _, size, upload_time = row
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
        log.debug("skipping %s: not a valid distribution filename", url)
        return None
    requires_python = specifier_set("") if announced else None
    if requires_python_text:
        try:
            requires_python = specifier_set(requires_python_text)
        except InvalidSpecifier:
            log.info("%s: ignoring invalid requires-python %r", url, requires_python_text)
    return _frozen(DistFile, {
        "filename": filename, "wheel": wheel, "url": url, "hashes": dict(hashes), "size": size, "upload_time": upload_time,
        "requires_python": requires_python, "yanked": yanked,
    })


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


# -- a project page grouped by version ------------------------------------------------------------


class BadEntry(Exception):
    """A page read back from the parsed-page cache holds a row that does not check."""


def _dist_version(filename: str, name: NormalizedName) -> Version | None:
    """The version of ``filename`` when it is one of ``name``'s wheels or sdists (the test
    :func:`dist_file` applies), else ``None``."""
    try:
        if filename.endswith(".whl"):
            plain = _plain_wheel(filename)  # a page is grouped by version: no WheelFilename needed
            if plain is not None:
                return plain[1] if plain[0] == name else None
            wheel = parse_wheel(filename)
            return wheel.version if wheel.name == name else None
        if filename.endswith((".tar.gz", ".zip")):
            sdist_name, version = sdist_of(filename)
            return version if sdist_name == name else None
    except InvalidWheelFilename:
        return None
    return None


def _wheel_tags_ok(filename: str, second: int) -> bool:
    """The part of wheel ``filename`` after its second dash (at ``second``) parses, as
    :func:`_dist_version` wants it: the tag triple of a plain wheel, each triple parsed once
    per run; a build tag or a variant label: the whole filename."""
    triple = filename[second + 1 : -4]
    if triple.count("-") == 2:
        if triple in _WHEEL_TAGS:
            return True
        try:
            _WHEEL_TAGS[triple] = parse_wheel(f"x-0-{triple}.whl").tags
        except InvalidWheelFilename:
            return False
        return True
    try:
        parse_wheel(filename)
    except InvalidWheelFilename:
        return False
    return True


def _head_version(head: str, name: NormalizedName) -> Version | None:
    """The version of a wheel filename whose ``name-version`` head this is, when it is one of
    ``name``'s (else, or when the head does not parse, ``None``)."""
    name_part, _, version_part = head.partition("-")
    try:
        found = _wheel_head(name_part, version_part)
    except InvalidWheelFilename:
        return None
    return found[1] if found[0] == name else None


def _entry_rows(entries: list[Any], row_of: Callable[[Any], Row]) -> list[Row]:
    """The rows of one version's JSON entries (``row_of`` checks each and makes its row), a
    filename listed twice once (the first time), in filename order."""
    rows: dict[str, Row] = {}
    for entry in entries:
        row = row_of(entry)
        rows.setdefault(row[0], row)
    return [rows[filename] for filename in sorted(rows)]


class ProjectPage:
    """One source's project page, grouped as a repository reads it: the distributions of each
    version (a filename listed twice counts once, the first time), ``*-variants.json`` links by
    version, and nothing else. A release's :class:`Link` and
    :class:`~varsolve.repository.DistFile` objects are built by :meth:`files`, when the
    resolver reads that release: a large project lists tens of thousands of files, and a
    resolution reads a few of its releases, the newest first.

    The page encodes itself (:meth:`encode`) for the parsed-page cache as one JSON line (the
    name, each version with where its files are, the variants links) followed by one JSON
    array of rows per version, and :meth:`decode` reads the line only; a version's array is
    decoded and checked the first time it is read. JSON rather than ``pickle`` or ``marshal``:
    the cache directory may be shared, and decoding JSON that someone planted runs no code (and
    cannot crash the interpreter); every row is then checked as the page parsers would make it
    (:func:`~.pages.checked_row`). A row that does not check makes the page parse its body again
    (``reload``), once: what the resolver sees then comes from the page itself.
    """

    def __init__(
        self,
        name: NormalizedName,
        url: str,
        announced: bool,
        groups: dict[Version, list[Row]],
        variants: dict[Version, list[Row]],
        *,
        entries: dict[Version, list[dict[str, Any]]] | None = None,
        spans: dict[Version, tuple[int, int]] | None = None,
        region: memoryview | None = None,
        reload: Callable[[], ProjectPage | None] | None = None,
    ) -> None:
        self.name = name
        self.url = url  # the page's own URL: links of decoded rows are checked against it
        self.announced = announced  # the source states Requires-Python (see dist_file)
        self.from_cache = spans is not None
        self.parses = 0 if self.from_cache else 1  # bodies parsed for it (a damaged cache entry: one more)
        self.releases_built = 0
        self._groups = groups
        self._entries = entries or {}  # a JSON page's entries, by version: checked when read
        self._spans = spans or {}
        self._region = region if region is not None else memoryview(b"")
        self._reload = reload
        self._lock = threading.Lock()
        self.versions: list[Version] = sorted([*groups, *self._entries, *self._spans], reverse=True)  # newest first
        self.variants: dict[Version, list[Link]] = {v: [Link(*row) for row in rows] for v, rows in variants.items()}

    @classmethod
    def from_rows(cls, rows: Iterable[Row], name: NormalizedName, url: str, announced: bool) -> ProjectPage:
        """Group the rows of a page just parsed (:func:`~.pages.page_rows`)."""
        escaped = escaped_name(name)
        variants: dict[Version, list[Row]] = {}
        variant_urls: set[str] = set()
        dists: dict[str, tuple[Version, Row]] = {}
        for row in rows:
            filename = row[0]
            if filename.endswith(VARIANTS_SUFFIX):
                version = variants_json_version(filename, escaped)
                if version is not None and row[1] not in variant_urls:
                    variant_urls.add(row[1])
                    variants.setdefault(version, []).append(row)
            elif filename not in dists:
                version = _dist_version(filename, name)
                if version is not None:
                    dists[filename] = (version, row)
        groups: dict[Version, list[Row]] = {}
        for filename in sorted(dists):  # a version is written as its first file (by name) writes it
            version, row = dists[filename]
            groups.setdefault(version, []).append(row)
        return cls(name, url, announced, groups, variants)

    @classmethod
    def from_json_files(cls, files: list[dict[str, Any]], name: NormalizedName, url: str, announced: bool) -> ProjectPage:
        """Group the entries of a JSON page (:func:`~.pages.json_page_files`) by version without
        checking them: by each filename's ``name-version`` head, parsed once per head (a wheel's
        head is the same for every file of its release), so that a cold run of a large project
        pays for the files of the releases it reads, not for all of them. An entry is checked
        (:func:`~.pages.json_file_row`), and a filename listed twice counted once, when its
        release is read (:meth:`files`); ``*-variants.json`` entries are checked here."""
        escaped = escaped_name(name)
        variants: dict[Version, list[Row]] = {}
        variant_urls: set[str] = set()
        by_head: dict[str, list[dict[str, Any]]] = {}
        for item in files:
            filename: str = item["filename"]
            if filename.endswith(".whl"):
                second = filename.find("-", filename.find("-") + 1)
                if second < 0 or not _wheel_tags_ok(filename, second):
                    continue  # not a wheel filename: skipped, as by _dist_version
                head = filename[:second]
            elif filename.endswith((".tar.gz", ".zip")):
                head = filename  # "name-version.tar.gz": the name may hold dashes
            elif filename.endswith(VARIANTS_SUFFIX):
                version = variants_json_version(filename, escaped)
                if version is not None:
                    row = json_file_row(item, url)
                    if row[1] not in variant_urls:
                        variant_urls.add(row[1])
                        variants.setdefault(version, []).append(row)
                continue
            else:
                continue  # eggs, installers, signatures: not for us
            group = by_head.get(head)
            if group is None:
                by_head[head] = [item]
            else:
                group.append(item)
        entries: dict[Version, list[dict[str, Any]]] = {}
        keys: dict[Version, Version] = {}
        mixed: set[Version] = set()
        for head, items in by_head.items():
            sdist = head.endswith((".tar.gz", ".zip"))
            version = _dist_version(items[0]["filename"], name) if sdist else _head_version(head, name)
            if version is None:
                continue
            known = keys.get(version)
            if known is None:
                keys[version] = version
                entries[version] = items
            else:
                if str(known) != str(version):
                    mixed.add(known)
                entries[known] += items
        for version in mixed:
            # Equal versions written differently ("1.0", "1.0.0"): a version is written as its
            # first file by name writes it, as ProjectPage.from_rows has it.
            items = entries.pop(version)
            first = min(items, key=lambda item: str(item["filename"]))
            written = _dist_version(first["filename"], name) or version
            entries[written] = items
        return cls(name, url, announced, {}, variants, entries=entries)

    # -- reading ----------------------------------------------------------------------------
    def parsed_rows(self) -> dict[Version, list[Row]]:
        """The rows of each version of a page parsed from its body (not read from the cache)."""
        return dict(self._groups)

    def parsed_entries(self) -> dict[Version, list[dict[str, Any]]]:
        """The unchecked JSON entries of each version of a page parsed from its body."""
        return dict(self._entries)

    def files(self, version: Version) -> list[tuple[Row, DistFile]]:
        """The distributions of ``version``, in filename order, each with its row (its
        :class:`Link` is ``Link(*row)``); ``[]`` for a version the page does not list."""
        with self._lock:
            self.releases_built += 1
            try:
                return self._files(version)
            except BadEntry:
                log.debug("%s: its parsed-page cache entry does not check: parsing the page again", self.url)
            if self._reload is None:  # not reached: rows are only decoded from a page that can reload
                return []
            fresh = self._reload()  # may raise (the index unreachable): the next read tries again
            self._reload = None
            self.parses += 1
            self._groups = fresh.parsed_rows() if fresh is not None else {}
            self._entries = fresh.parsed_entries() if fresh is not None else {}
            self._spans, self._region = {}, memoryview(b"")
            return self._files(version)

    def _files(self, version: Version) -> list[tuple[Row, DistFile]]:
        rows = self._groups.get(version)
        decoded = False
        if rows is None:
            entries = self._entries.get(version)
            if entries is not None:
                rows = self._groups[version] = _entry_rows(entries, partial(json_file_row, url=self.url))
            elif version in self._spans:
                rows, decoded = self._decoded(version), True
            else:
                return []
        out = []
        for row in rows:
            dist = row_dist_file(row, self.name, self.announced)
            if dist is None or ((found := dist_version(dist)) is not version and found != version):
                if decoded:
                    raise BadEntry(row[0])
                continue  # not reached: the page's rows (entries) were grouped by this very test
            out.append((row, dist))
        if decoded:
            if not out or str(dist_version(out[0][1])) != str(version):  # written as its first file writes it
                raise BadEntry(str(version))
            self._groups[version] = rows
        return out

    def _decoded(self, version: Version) -> list[Row]:
        start, end = self._spans[version]
        try:
            raw = jsoncodec.loads(self._region[start:end])
        except (ValueError, RecursionError):
            raise BadEntry(str(version)) from None
        if not isinstance(raw, list) or not raw:
            raise BadEntry(str(version))
        if type(raw[0]) is dict:  # a JSON page's entries (encode), as the page lists them

            def row_of(entry: object) -> Row:
                row = checked_entry(entry, self.url)
                if row is None:
                    raise BadEntry(str(version))
                return row

            return _entry_rows(raw, row_of)
        rows: list[Row] = []
        for item in raw:
            row = checked_row(item, self.url)
            if row is None or (rows and row[0] <= rows[-1][0]):  # written in filename order, each once
                raise BadEntry(str(version))
            rows.append(row)
        return rows

    # -- the parsed-page cache --------------------------------------------------------------
    def encode(self) -> bytes:
        """The cache entry's content (only for a page just parsed: all its rows are at hand)."""
        blobs: list[bytes] = []
        spans: list[tuple[str, int, int]] = []
        offset = 0
        for version in self.versions:
            # A JSON page's entries of the releases the run did not read are kept as they came,
            # each checked when read back (checked_entry): making their rows here cost a cold
            # jupyter run 0.15 s (the cache writer's thread holds the GIL while it does). The
            # resolver's thread adds the rows of those it reads to _groups meanwhile.
            rows: list[Row] | list[dict[str, Any]] | None = self._groups.get(version)
            if rows is None:
                entries = self._entries[version]
                rows = entries if cacheable_entries(entries) else _entry_rows(entries, partial(json_file_row, url=self.url))
            blob = jsoncodec.dumps(rows)
            spans.append((str(version), offset, offset + len(blob)))
            blobs.append(blob)
            offset += len(blob)
        variants = [(str(v), [link.row() for link in links]) for v, links in self.variants.items()]
        index = {"name": self.name, "versions": spans, "variants": variants}
        return jsoncodec.dumps(index) + b"\n" + b"".join(blobs)

    @classmethod
    def decode(
        cls, data: bytes, name: NormalizedName, url: str, announced: bool, reload: Callable[[], ProjectPage | None]
    ) -> ProjectPage | None:
        """A page from :meth:`encode`'s bytes; ``None`` when they are not such a page of ``name``
        (the versions' rows are checked when read, see :meth:`files`)."""
        newline = data.find(b"\n")
        try:
            index = jsoncodec.loads(data[:newline]) if newline >= 0 else None
        except (ValueError, RecursionError):
            return None
        region = memoryview(data)[newline + 1 :]  # each version's rows: read when asked for
        if not isinstance(index, dict) or index.get("name") != name:
            return None
        spans: dict[Version, tuple[int, int]] = {}
        variants: dict[Version, list[Row]] = {}
        try:
            for text, start, end in index["versions"]:
                version = Version(text)
                if str(version) != text or version in spans or not (type(start) is type(end) is int):
                    return None
                if not 0 <= start < end <= len(region):
                    return None
                spans[version] = (start, end)
            escaped = escaped_name(name)
            for text, raw_rows in index["variants"]:
                version = Version(text)
                rows = [checked_row(item, url) for item in raw_rows]
                checked = [row for row in rows if row is not None and variants_json_version(row[0], escaped) == version]
                if version in variants or not checked or len(checked) != len(rows):
                    return None
                variants[version] = checked
        except (KeyError, TypeError, ValueError, InvalidVersion):
            return None
        return cls(name, url, announced, {}, variants, spans=spans, region=region, reload=reload)

