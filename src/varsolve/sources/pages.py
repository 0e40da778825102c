"""Simple-repository project pages: PEP 691 JSON and PEP 503 HTML into :class:`Link` lists.

The HTML side is a small ``html.parser`` subclass (anchors and ``<base>`` only), written by hand
because the PEP 503 subset is tiny and a full HTML library would be a heavy dependency.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import SourceError
from . import jsoncodec

if TYPE_CHECKING:

    class _AnchorParser(Protocol):
        base: str | None
        anchors: list[dict[str, str | None]]
        api_version: str | None

        def feed(self, data: str) -> None: ...

        def close(self) -> None: ...

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
# What we ask for: JSON first; HTML (the only form some indexes, e.g. static mirrors, have) next.
ACCEPT = f"{JSON_TYPE}, {HTML_TYPE}; q=0.2, text/html; q=0.01"
SUPPORTED_MAJOR = 1
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_LOWER_HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Link:
    """One file of a project page, with absolute URL and the attributes the index announced."""

    filename: str
    url: str  # absolute, without fragment
    hashes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    # PEP 658/714: None when absent, else the hashes of the .metadata file ({} = present, no hash)
    core_metadata: dict[str, str] | None = field(default=None, compare=False, hash=False)
    size: int | None = None
    upload_time: str | None = None

    @property
    def metadata_url(self) -> str:
        return self.url + ".metadata"

    def row(self) -> Row:
        """The link as a :data:`Row` (``Link(*link.row()) == link``)."""
        return (
            self.filename, self.url, self.hashes, self.requires_python, self.yanked, self.yanked_reason,
            self.core_metadata, self.size, self.upload_time,
        )


# One file of a page as plain data, in :class:`Link`'s field order (``Link(*row)``): what the
# parsers produce and the parsed-page cache stores (:mod:`.files`), so that a file's Link is
# only built when the resolver reads its release.
Row = tuple[str, str, dict[str, str], str | None, bool, str | None, dict[str, str] | None, int | None, str | None]


_HTML_TYPES = (
    "text/html", "application/vnd.pypi.simple.v1+html", "application/vnd.pypi.simple.latest+html", "application/xhtml+xml"
)
_JSON_START = re.compile(rb"\s*[{\[]")
_READ_SUFFIXES = (".whl", ".tar.gz", ".zip", ".json")  # the links varsolve may read


def parse_page(content: bytes, content_type: str, url: str) -> list[Link]:
    """Parse a project page by its content type: JSON when it says so, HTML when it says so;
    any other type, or a JSON body served as HTML, is an error naming ``url`` (not a page
    without files, which would read as "no such package")."""
    return [Link(*row) for row in page_rows(content, content_type, url)]


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def is_json_page(content_type: str) -> bool:
    """A page served as ``content_type`` is read as JSON (PEP 691), not HTML."""
    return _media_type(content_type).endswith(("+json", "/json"))


def page_rows(content: bytes, content_type: str, url: str) -> list[Row]:
    """:func:`parse_page`, each file as a :data:`Row` (no :class:`Link` objects built)."""
    if is_json_page(content_type):
        return json_page_rows(content, url)
    media = _media_type(content_type)
    if media not in _HTML_TYPES:
        raise _fail(url, f"a project page served as {media or 'nothing'!r}, neither HTML nor JSON (PEP 503/691 types)")
    if _JSON_START.match(content):
        raise _fail(url, f"a JSON project page served as {media!r} (PEP 691 wants {JSON_TYPE})")
    charset = "utf-8"
    match = re.search(r"charset=([\w.-]+)", content_type, re.I)
    if match:
        charset = match[1]
    return html_page_rows(content, url, charset)


def _fail(url: str, message: str) -> SourceError:
    return SourceError(f"{url}: {message}")


def _check_link(page: str, link: str, filename: str) -> None:
    """A page served over http(s) may only link http(s) URLs to the files varsolve reads (never
    ``file://``: a remote page must not make varsolve read local files)."""
    if not filename.endswith(_READ_SUFFIXES):
        return
    page_scheme = urllib.parse.urlsplit(page).scheme.lower()
    if page_scheme in ("http", "https") and urllib.parse.urlsplit(link).scheme.lower() not in ("http", "https"):
        raise _fail(page, f"links {link[:200]}: a page served over {page_scheme} may only link http(s) URLs")


def _plain_url(link: str) -> bool:
    """An absolute http(s) URL without fragment that urljoin returns unchanged and that
    :func:`_check_link` accepts: what an index's pages hold for nearly every file, decided
    without parsing (tens of thousands of links on a large project's page)."""
    return (
        link.startswith(("https://", "http://"))
        and link.isascii()
        and "#" not in link
        and "[" not in link
        and "/." not in link
        and link.find("/", 8) > 0
    )


def _check_version(version: object, url: str) -> None:
    if version is None:
        return
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        raise _fail(url, f"malformed project page: api-version {version!r}") from None
    if major > SUPPORTED_MAJOR:
        raise _fail(url, f"simple API version {version} is not supported (major {SUPPORTED_MAJOR} only)")


def _hashes(value: object, url: str, filename: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(url, f"malformed project page: hashes of {filename} must be an object")
    out = {}
    for algo, digest in value.items():
        if not isinstance(algo, str) or not isinstance(digest, str):
            raise _fail(url, f"malformed project page: hashes of {filename} must be strings")
        _check_hash(algo.lower(), digest, url, filename)
        out[algo.lower()] = digest.lower()
    return out


def _check_hash(algo: str, digest: str, url: str, filename: str) -> None:
    expected = _HASH_LENGTHS.get(algo)
    if expected is not None and (len(digest) != expected or not _HEX.match(digest)):
        raise _fail(url, f"malformed {algo} hash {digest[:20]!r} for {filename}")


def parse_json_page(content: bytes, url: str) -> list[Link]:
    return [Link(*row) for row in json_page_rows(content, url)]


def json_page_rows(content: bytes, url: str) -> list[Row]:
    return [json_file_row(item, url) for item in json_page_files(content, url)]


def json_page_files(content: bytes, url: str) -> list[dict[str, Any]]:
    """The entries of a JSON project page's ``files``, each a dict with a string ``filename``
    and ``url``, not checked further: :func:`json_file_row` checks an entry and makes its row
    when its release is read (a large project lists tens of thousands of files; a resolution
    reads a few releases)."""
    try:
        doc = jsoncodec.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(url, f"malformed JSON project page ({exc})") from None
    except RecursionError:
        raise _fail(url, "malformed JSON project page (nested too deeply)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list):
        raise _fail(url, "malformed JSON project page: no 'files' list")
    meta = doc.get("meta")
    _check_version(meta.get("api-version") if isinstance(meta, dict) else None, url)
    files: list[dict[str, Any]] = doc["files"]
    for item in files:  # the strings and dicts json makes are exactly str and dict
        if type(item) is not dict or type(item.get("filename")) is not str or type(item.get("url")) is not str:
            raise _fail(url, "malformed JSON project page: a file without filename or url")
    return files


def json_file_row(item: dict[str, Any], url: str) -> Row:
    """The row of one entry of :func:`json_page_files` (served from page ``url``), checked as
    PEP 691 and the link rules want it; :class:`~varsolve.errors.SourceError` naming the page
    and the file when it does not check."""
    # Written for speed (a cold run reads every file of every release it reads): the check of
    # _hashes inlined for what nearly every file of an index has, one lower-case sha256;
    # anything else takes the general path.
    filename: str = item["filename"]
    absolute: str = item["url"]
    hashes = item.get("hashes", {})
    digest = hashes.get("sha256") if type(hashes) is dict and len(hashes) == 1 else None
    if type(digest) is not str or len(digest) != 64 or digest.strip(_LOWER_HEX):
        hashes = _hashes(hashes, url, filename)
    core_metadata = None
    if "core-metadata" in item or "dist-info-metadata" in item:
        core = item.get("core-metadata", item.get("dist-info-metadata"))
        if core is True:
            core_metadata = {}
        elif isinstance(core, dict):
            core_metadata = _hashes(core, url, filename + ".metadata")
    yanked = item.get("yanked", False)
    if yanked is not False and not isinstance(yanked, (bool, str)):
        raise _fail(url, f"malformed JSON project page: yanked of {filename} must be true, false or a reason (a string)")
    if not _plain_url(absolute):  # relative, or anything urljoin or the link check must see
        try:
            absolute = urllib.parse.urljoin(url, absolute).split("#", 1)[0]
        except ValueError:
            raise _fail(url, f"malformed JSON project page: the url of {filename} is not a URL") from None
        _check_link(url, absolute, filename)
    requires_python = item.get("requires-python")
    size = item.get("size")
    upload_time = item.get("upload-time")
    return (
        filename,
        absolute,
        hashes,
        requires_python if type(requires_python) is str and requires_python.strip() else None,
        bool(yanked),
        yanked if type(yanked) is str and yanked else None,
        core_metadata,
        size if type(size) is int and size >= 0 else None,  # a count of bytes, or unknown
        upload_time if type(upload_time) is str else None,
    )


def _anchor_parser() -> _AnchorParser:
    from html.parser import HTMLParser  # only for HTML pages

    class AnchorParser(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.base: str | None = None
            self.anchors: list[dict[str, str | None]] = []
            self.api_version: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.anchors.append(dict(attrs))
            elif tag == "base" and self.base is None:
                self.base = dict(attrs).get("href")
            elif tag == "meta":
                a = dict(attrs)
                if a.get("name") == "pypi:repository-version":
                    self.api_version = a.get("content")

    return AnchorParser()


def parse_html_page(content: bytes, url: str, charset: str = "utf-8") -> list[Link]:
    return [Link(*row) for row in html_page_rows(content, url, charset)]


def html_page_rows(content: bytes, url: str, charset: str = "utf-8") -> list[Row]:
    try:
        text = content.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise _fail(url, f"malformed HTML project page (not valid {charset})") from None
    parser = _anchor_parser()
    parser.feed(text)
    parser.close()
    _check_version(parser.api_version, url)
    try:
        base = urllib.parse.urljoin(url, parser.base) if parser.base else url
    except ValueError:
        raise _fail(url, "malformed HTML project page: <base href> is not a URL") from None
    rows: list[Row] = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        target, _, fragment = href.partition("#")
        if _plain_url(target) and "?" not in target:  # absolute: urljoin would return it as it is
            filename = urllib.parse.unquote(target.rsplit("/", 1)[-1])
            if not filename:
                continue
        else:
            try:
                absolute = urllib.parse.urljoin(base, href)
            except ValueError:
                raise _fail(url, f"malformed HTML project page: a link that is not a URL ({href[:100]!r})") from None
            target, _, fragment = absolute.partition("#")
            filename = urllib.parse.unquote(urllib.parse.urlsplit(target).path.rsplit("/", 1)[-1])
            if not filename:
                continue
            _check_link(url, target, filename)
        hashes = {}
        if fragment:
            algo, _, digest = fragment.partition("=")
            algo = algo.lower()
            if algo in _HASH_LENGTHS:
                _check_hash(algo, digest, url, filename)
                hashes[algo] = digest.lower()
        core_metadata = None
        core = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        if core is not None:
            if core.strip().lower() == "true":
                core_metadata = {}
            elif "=" in core:
                algo, _, digest = core.partition("=")
                _check_hash(algo.lower(), digest, url, filename + ".metadata")
                core_metadata = {algo.lower(): digest.lower()}
        yanked = "data-yanked" in attrs
        reason = attrs.get("data-yanked") or None
        requires_python = attrs.get("data-requires-python")
        rows.append((
            filename,
            target,
            hashes,
            requires_python if requires_python and requires_python.strip() else None,
            yanked,
            reason,
            core_metadata,
            None,
            None,
        ))
    return rows


def checked_row(row: object, page: str) -> Row | None:
    """``row`` as :func:`page_rows` makes them for a page served from ``page``, else ``None``:
    how a row read back from the parsed-page cache is checked before it becomes a
    :class:`Link` (a cache directory may be shared: an entry may have been planted). The
    rules are the parsers' own: strings where they give strings, hashes lower-case (and of
    known algorithms well-formed), and a page served over http(s) links only http(s) URLs to
    the files varsolve reads. (Written for speed: a warm run checks every file of every
    release the resolver reads.)"""
    if type(row) is not list or len(row) != 9:
        return None
    filename, url, hashes, requires_python, yanked, reason, core, size, upload_time = row
    if (
        type(filename) is not str
        or type(url) is not str
        or type(hashes) is not dict
        or type(yanked) is not bool
        or not (requires_python is None or (type(requires_python) is str and requires_python.strip()))
        or not (reason is None or (type(reason) is str and reason and yanked))
        or not (core is None or type(core) is dict)
        or not (size is None or (type(size) is int and size >= 0))
        or not (upload_time is None or type(upload_time) is str)
    ):
        return None
    if not (_hashes_ok(hashes) and (core is None or _hashes_ok(core))):
        return None
    if not _plain_url(url) or "?" in url:
        if "#" in url:
            return None
        try:
            _check_link(page, url, filename)
        except (SourceError, ValueError):
            return None
    return (filename, url, hashes, requires_python, yanked, reason, core, size, upload_time)


def _kept_as_is(url: str) -> bool:
    """An entry's URL the parsed-page cache keeps as the page gave it: absolute http(s), no
    fragment, no query (what an index such as PyPI lists)."""
    return _plain_url(url) and "?" not in url


def cacheable_entries(entries: list[dict[str, Any]]) -> bool:
    """The parsed-page cache may keep these JSON page entries as they are (each checked when
    read back, :func:`checked_entry`): every URL :func:`_kept_as_is`; else it keeps their rows."""
    return all(_kept_as_is(entry["url"]) for entry in entries)


def checked_entry(entry: object, page: str) -> Row | None:
    """The row of a JSON page entry read back from the parsed-page cache (kept there when
    :func:`cacheable_entries`), checked as :func:`json_file_row` checks a page's own, with a
    URL as :func:`cacheable_entries` wants it; ``None`` for anything else (a cache directory may
    be shared: an entry may have been planted)."""
    if type(entry) is not dict:
        return None
    url = entry.get("url")
    if type(entry.get("filename")) is not str or type(url) is not str or not _kept_as_is(url):
        return None
    try:
        return json_file_row(entry, page)
    except SourceError:
        return None


def _hashes_ok(hashes: dict[object, object]) -> bool:
    """Hashes as the parsers leave them: strings, lower-case, well-formed when the algorithm is
    known (:func:`_check_hash`)."""
    for algo, digest in hashes.items():
        if type(algo) is not str or type(digest) is not str:
            return False
        expected = _HASH_LENGTHS.get(algo)
        if expected is None:
            if algo != algo.lower() or digest != digest.lower():
                return False
        elif len(digest) != expected or digest.strip("0123456789abcdef"):  # not lower-case hex
            return False
    return True
