"""Read members of a remote wheel with HTTP Range requests, as pip's ``LazyZipOverHTTP`` does.

The first request asks for the last :data:`TAIL` bytes (a suffix range), which holds the
central directory of most wheels and, since ``*.dist-info`` comes last, usually ``METADATA``
too; :class:`RangeFile` fetches whatever else ``zipfile`` reads, in chunks of at least
:data:`CHUNK` bytes. A server that ignores ``Range`` answers 200 with the whole file, which is
then used (and hash-checked) as it is.

Written by hand because no maintained library reads zips over HTTP ranges; ``zipfile`` does all
the zip parsing.
"""

from __future__ import annotations

import bisect
import io
import re
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import SourceError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from .http import HttpClient, Response

TAIL = 64 * 1024
CHUNK = 32 * 1024
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


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

    def _ensure(self, start: int, end: int) -> None:
        pos = start
        while pos < end:
            s = self._covering(pos)
            if s is not None:
                pos = s + len(self._data[s])
                continue
            nxt = bisect.bisect_right(self._starts, pos)
            gap_end = self._starts[nxt] if nxt < len(self._starts) else self.size
            fetch_end = min(gap_end, max(end, pos + CHUNK), self.size)
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


class RemoteWheel:
    """A wheel on an HTTP server, read lazily. ``whole`` is set when the server sent it all."""

    def __init__(self, client: HttpClient, url: str) -> None:
        self.client = client
        self.url = url
        self.whole: bytes | None = None
        first = client.get_range(url, f"bytes=-{TAIL}", what="wheel")
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


def _zip_problem(exc: Exception) -> str:
    text = str(exc).strip()
    if isinstance(exc, zipfile.BadZipFile):
        return text.lower() if text else "not a zip file"
    return text or type(exc).__name__
