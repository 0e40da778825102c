"""Read members of a remote wheel with HTTP Range requests, as pip's ``LazyZipOverHTTP`` does.

The first request asks for the last bytes of the file (a suffix range), which hold the end of
the central directory and, since ``*.dist-info`` comes last, often ``METADATA`` itself: the
first wheel of a project :data:`TAIL` bytes; the next ones what the previous wheel's
:class:`Layout` says they need (:func:`tail_for`; the releases of one project are laid out
alike): ``METADATA`` and what follows it, in one request, when that is small (a boto3 wheel:
10 KiB, not 16), else only the last directory entries, ``METADATA`` then costing a second
request of exactly its own bytes (a botocore wheel: 224 KiB lie after its ``METADATA``, 4 KiB
of it are needed). :meth:`RemoteWheel.dist_info_members` reads only the directory entries it
needs: those in the tail, parsed from the end record backwards (the entries of ``*.dist-info``
are the last ones), then the member's own bytes, exactly those, in one request when they lie
before the tail. So a wheel costs one request, or two, whatever the size of its central
directory (a torch or botocore wheel lists thousands of files, which ``zipfile`` would read and
parse whole). A ``*.dist-info`` that is not among the last entries costs one more request: the
rest of the directory, at once.

Anything unusual (zip64, an archive with a prefix, a compression other than deflate, entries
that do not chain up) goes to ``zipfile`` over :class:`RangeFile`, which fetches whatever it
reads in chunks of at least :data:`CHUNK` bytes. A server that ignores ``Range`` answers 200
with the whole file, which is then used (and hash-checked) as it is.

Written by hand because no maintained library reads zips over HTTP ranges.
"""

from __future__ import annotations

import bisect
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SourceError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from .http import HttpClient, Response

TAIL = 16 * 1024  # uv's first range too; a small wheel's METADATA lies within (boto3's: 10 KiB from the end)
MAX_TAIL = 512 * 1024  # the most a first request asks for, whatever a Layout says
# A second request (a round trip, ~1 KB of headers, CPU) is made when it saves more bytes than
# this: one request of 24 KiB for urllib3 (METADATA is 17 KiB), two of 1 + 4 KiB for botocore.
SECOND_REQUEST_WORTH = 16 * 1024
MAX_MEMBER = 16 * 1024 * 1024  # a METADATA or variant.json larger than this goes to zipfile
CHUNK = 32 * 1024
_SLACK = 64  # bytes read past a member's expected end: a local extra field longer than the central one
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_END = struct.Struct("<4s4H2LH")  # end of central directory record
_ENTRY = struct.Struct("<4s6H3L5H2L")  # central directory file header
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the members read lay in a wheel, as distances from its end: what the first
    request for the next wheel of the same project asks for (:func:`tail_for`)."""

    members: int  # from the first member's local header to the end: one request reads them
    entries: int  # from the first of their central directory entries to the end
    member_bytes: int  # their local headers and compressed data: what a second request reads


def _margin(n: int) -> int:
    """Room for the next release's files being a little larger (boto3's METADATA and RECORD
    vary by ~100 bytes between releases): a miss costs a request for the missing bytes."""
    return 512 + n // 32


def tail_for(layout: Layout | None) -> int:
    """Bytes of the first request: :data:`TAIL` without a layout; else the members and all
    after them, unless reading only the directory's last entries, then the members exactly,
    saves more than :data:`SECOND_REQUEST_WORTH` (at most :data:`MAX_TAIL`)."""
    if layout is None:
        return TAIL
    one = layout.members + _margin(layout.members)
    two = layout.entries + _margin(layout.entries)
    if one - (two + layout.member_bytes) > SECOND_REQUEST_WORTH:
        return min(MAX_TAIL, two)
    return min(MAX_TAIL, one)


@dataclass(frozen=True, slots=True)
class ZipEntry:
    """A central directory entry: what reading the member needs."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int
    extra_length: int
    position: int = 0  # of the entry itself, in the central directory


class _Unusual(Exception):
    """Not the plain zip the fast path reads: let ``zipfile`` do it."""


class RangeFile(io.RawIOBase):
    """A read-only, seekable file of ``size`` bytes; missing bytes come from ``fetch(start, end)``
    (inclusive ``end``), which returns the bytes of that span."""

    def __init__(self, size: int, fetch: Callable[[int, int], bytes], chunks: dict[int, bytes] | None = None) -> None:
        super().__init__()
        self.size = size
        self._fetch = fetch
        self._starts: list[int] = []
        self._data: dict[int, bytes] = {}
        self._pos = 0
        self.requests = 0
        for start, data in (chunks or {}).items():
            self._add(start, data)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self._pos + n)
        if self._pos >= end:
            return b""
        self._ensure(self._pos, end)
        out = self._slice(self._pos, end)
        self._pos = end
        return out

    def read_span(self, start: int, length: int) -> bytes:
        """The bytes ``[start, start + length)`` (fewer at the end of the file), fetching only
        what is missing, exactly (no :data:`CHUNK` rounding: the caller knows what it needs)."""
        end = min(self.size, start + length)
        if start >= end:
            return b""
        self._ensure(start, end, chunk=0)
        return self._slice(start, end)

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    # -- bookkeeping of fetched spans ------------------------------------------------------------
    def _add(self, start: int, data: bytes) -> None:
        # Merge with overlapping or adjacent spans so lookups stay a single bisect.
        end = start + len(data)
        i = bisect.bisect_left(self._starts, start)
        if i > 0:
            prev = self._starts[i - 1]
            if prev + len(self._data[prev]) >= start:
                i -= 1
        while i < len(self._starts) and self._starts[i] <= end:
            s = self._starts.pop(i)
            d = self._data.pop(s)
            if s < start:
                data = d[: start - s] + data
                start = s
            if s + len(d) > end:
                data = data + d[end - s :]
                end = s + len(d)
        bisect.insort(self._starts, start)
        self._data[start] = data

    def _covering(self, pos: int) -> int | None:
        i = bisect.bisect_right(self._starts, pos) - 1
        if i >= 0:
            s = self._starts[i]
            if pos < s + len(self._data[s]):
                return s
        return None

    def _ensure(self, start: int, end: int, chunk: int = CHUNK) -> None:
        pos = start
        while pos < end:
            s = self._covering(pos)
            if s is not None:
                pos = s + len(self._data[s])
                continue
            nxt = bisect.bisect_right(self._starts, pos)
            gap_end = self._starts[nxt] if nxt < len(self._starts) else self.size
            fetch_end = min(gap_end, max(end, pos + chunk), self.size)
            data = self._fetch(pos, fetch_end - 1)
            self.requests += 1
            if len(data) != fetch_end - pos:
                raise OSError(f"asked for {fetch_end - pos} bytes at {pos}, got {len(data)}")
            self._add(pos, data)
            pos = fetch_end

    def _slice(self, start: int, end: int) -> bytes:
        s = self._covering(start)
        assert s is not None
        data = self._data[s]
        return data[start - s : end - s]

    def loaded_tail(self) -> int:
        """Where the span of fetched bytes that ends the file starts (``size``: none)."""
        s = self._covering(self.size - 1) if self.size else None
        return self.size if s is None or s + len(self._data[s]) < self.size else s


class RemoteWheel:
    """A wheel on an HTTP server, read lazily. ``whole`` is set when the server sent it all;
    ``layout`` once :meth:`dist_info_members` found the members by range reads. ``tail``: the
    bytes of the first request (:func:`tail_for`); ``size``, the size the index announced, no
    longer changes it (a 40th of a large wheel was asked for: 505 KiB of awscli's 20 MB for 4
    KiB of METADATA, which lay before them anyway)."""

    def __init__(self, client: HttpClient, url: str, size: int | None = None, tail: int = TAIL) -> None:
        self.client = client
        self.url = url
        self.whole: bytes | None = None
        self.layout: Layout | None = None
        first = client.get_range(url, f"bytes=-{max(1, tail)}", what="wheel")
        if first.status == 200:
            self.whole = first.content
            self.file: io.IOBase = io.BytesIO(first.content)
            return
        start, _, total = self._content_range(first)
        if total is None:
            self.whole = self._whole()
            self.file = io.BytesIO(self.whole)
            return
        if start == 0 and len(first.content) == total:
            self.whole = first.content
            self.file = io.BytesIO(first.content)
            return
        self.file = RangeFile(total, self._fetch, {start: first.content})

    def _content_range(self, r: Response) -> tuple[int, int, int | None]:
        match = _CONTENT_RANGE.match(r.headers.get("content-range", ""))
        if not match:
            raise SourceError(f"{self.url}: partial response without a usable Content-Range")
        total = None if match[3] == "*" else int(match[3])
        start, end = int(match[1]), int(match[2])
        if len(r.content) != end - start + 1:
            raise SourceError(f"{self.url}: partial response of {len(r.content)} bytes for range {start}-{end}")
        return start, end, total

    def _whole(self) -> bytes:
        r = self.client.get(self.url, what="wheel")
        if r.status != 200:
            raise SourceError(f"{self.url}: HTTP {r.status}")
        return r.content

    def _fetch(self, start: int, end: int) -> bytes:
        r = self.client.get_range(self.url, f"bytes={start}-{end}", what="wheel")
        if r.status == 200:  # the server stopped honouring ranges: keep the whole file
            self.whole = r.content
            return r.content[start : end + 1]
        got_start, got_end, _ = self._content_range(r)
        if got_start != start or got_end != end:
            raise SourceError(f"{self.url}: asked for bytes {start}-{end}, got {got_start}-{got_end}")
        return r.content

    def zipfile(self) -> zipfile.ZipFile:
        try:
            return zipfile.ZipFile(self.file)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
            raise SourceError(f"{self.url}: not a valid wheel ({_zip_problem(exc)})") from None

    # -- reading only the entries needed --------------------------------------------------------
    def dist_info_members(self, project: str, members: Sequence[str]) -> dict[str, bytes | None]:
        """``<project>-<version>.dist-info/<member>`` for each of ``members`` (``None``: the wheel
        has none), reading as little of the central directory as it can; errors as
        :func:`~varsolve.sources.distmeta.read_wheel_member` over :meth:`zipfile` raises them."""
        from . import distmeta

        try:
            return self._fast_members(project, members)
        except _Unusual:
            archive = self.zipfile()
            return {m: distmeta.read_wheel_member(archive, project, m, self.url) for m in members}

    def _read(self, start: int, length: int) -> bytes:
        if isinstance(self.file, RangeFile):
            data = self.file.read_span(start, length)
        else:
            self.file.seek(start)
            data = self.file.read(length)
        if len(data) != length:
            raise _Unusual
        return data

    def _size(self) -> int:
        return self.file.size if isinstance(self.file, RangeFile) else len(self.whole or b"")

    def _fast_members(self, project: str, members: Sequence[str]) -> dict[str, bytes | None]:
        from .distmeta import dist_info_member

        entries, complete = self._entries()
        names = [e.name for e in entries]
        found: dict[str, bytes | None] = {}
        read: list[ZipEntry] = []
        for member in members:
            name = dist_info_member(names, project, member)
            if name is None and not complete:
                # Maybe among the entries before the tail: read them all, in one request.
                entries, complete = self._entries(whole=True)
                names = [e.name for e in entries]
                name = dist_info_member(names, project, member)
            found[member] = None if name is None else self._member(entries[names.index(name)])
            if name is not None:
                read.append(entries[names.index(name)])
        if read and isinstance(self.file, RangeFile):
            size = self._size()
            self.layout = Layout(
                members=size - min(e.header_offset for e in read),
                entries=size - min(e.position for e in read),
                member_bytes=sum(_LOCAL.size + len(e.raw_name) + e.extra_length + e.compressed_size for e in read),
            )
        return found

    def _entries(self, whole: bool = False) -> tuple[list[ZipEntry], bool]:
        """The central directory entries in ``.dist-info`` folders (:func:`_chain`) in the fetched
        tail (all of them when the whole directory is there, or ``whole`` asks for it: then the
        rest of it is fetched) and whether the whole directory was read."""
        size = self._size()
        loaded = self.file.loaded_tail() if isinstance(self.file, RangeFile) else 0
        tail = self._read(loaded, size - loaded)
        end = tail.rfind(b"PK\x05\x06", max(0, len(tail) - _END.size - 0xFFFF))
        if end < 0 or len(tail) - end < _END.size:
            raise _Unusual
        _, disk, cd_disk, on_disk, count, cd_size, cd_offset, _ = _END.unpack_from(tail, end)
        if disk or cd_disk or on_disk != count or count == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
            raise _Unusual  # several disks or zip64
        if cd_offset + cd_size != loaded + end:
            raise _Unusual  # bytes before the archive, or a broken end record
        if whole and cd_offset < loaded:
            tail = self._read(cd_offset, size - cd_offset)
            end -= cd_offset - loaded
            loaded = cd_offset
        if cd_offset >= loaded:
            chained = _chain(tail, loaded, cd_offset, loaded + end)
            if chained is None or chained[1] != count:
                raise _Unusual
            return chained[0], True
        # Only the last entries are here: the first position from which whole entries chain
        # up to the end record exactly is an entry boundary.
        pos = tail.find(b"PK\x01\x02")
        while pos >= 0 and pos < end:
            chained = _chain(tail, loaded, loaded + pos, loaded + end)
            if chained is not None:
                return chained[0], False
            pos = tail.find(b"PK\x01\x02", pos + 1)
        raise _Unusual

    def _member(self, entry: ZipEntry) -> bytes:
        if entry.flags & 0x1 or entry.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or entry.size > MAX_MEMBER:
            raise _Unusual  # encrypted, another compression, or larger than any metadata file
        # One read for the local header and the data (its extra field is usually the entry's, or
        # shorter; a little more in case it is longer).
        guess = _LOCAL.size + len(entry.raw_name) + entry.extra_length + entry.compressed_size + _SLACK
        head = self._read(entry.header_offset, min(guess, self._size() - entry.header_offset))
        if len(head) < _LOCAL.size:
            raise _Unusual
        signature, _, _, _, _, _, _, _, _, name_length, extra_length = _LOCAL.unpack_from(head)
        start = entry.header_offset + _LOCAL.size + name_length + extra_length
        if signature != b"PK\x03\x04" or head[_LOCAL.size : _LOCAL.size + name_length] != entry.raw_name:
            raise _Unusual
        data = self._read(start, entry.compressed_size)
        if entry.method == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            try:
                data = inflater.decompress(data, entry.size + 1)  # never more than the entry says
            except zlib.error:
                raise _Unusual from None
            if not inflater.eof:
                raise _Unusual
        if len(data) != entry.size or zlib.crc32(data) != entry.crc:
            raise _Unusual
        return data


def _chain(buf: bytes, base: int, start: int, end: int) -> tuple[list[ZipEntry], int] | None:
    """The central directory entries from ``start`` to ``end`` (file positions; ``buf`` holds
    the bytes from ``base`` on) that are in a ``.dist-info`` folder, and how many entries there
    are in all; ``None`` unless whole entries lead exactly to ``end``. Every entry is checked;
    only those the fast path can read (:func:`~.distmeta.dist_info_member` wants nothing else)
    are made: torch's wheel has 13,187 entries, and making each took 0.03 s of a cold run."""
    entries = []
    count = 0
    pos = start
    while pos < end:
        off = pos - base
        if off + _ENTRY.size > len(buf) or buf[off : off + 4] != b"PK\x01\x02":
            return None
        fields = _ENTRY.unpack_from(buf, off)
        compressed, size, name_length, extra_length, comment_length, offset = (
            fields[8], fields[9], fields[10], fields[11], fields[12], fields[16]
        )
        raw = buf[off + _ENTRY.size : off + _ENTRY.size + name_length]
        if len(raw) != name_length or 0xFFFFFFFF in (compressed, size, offset):
            return None
        if b".dist-info/" in raw:  # ASCII: in the name exactly when in its bytes, either encoding
            flags, method, crc = fields[3], fields[4], fields[7]
            name = raw.decode("utf-8" if flags & 0x800 else "cp437", errors="replace")
            entries.append(ZipEntry(name, raw, flags, method, crc, compressed, size, offset, extra_length, pos))
        count += 1
        pos += _ENTRY.size + name_length + extra_length + comment_length
    return (entries, count) if pos == end else None


def _zip_problem(exc: Exception) -> str:
    text = str(exc).strip()
    if isinstance(exc, zipfile.BadZipFile):
        return text.lower() if text else "not a zip file"
    return text or type(exc).__name__
