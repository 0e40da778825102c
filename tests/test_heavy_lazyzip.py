"""What reading a wheel's METADATA over Range requests costs (issue 15: download no more than uv,
which asks for a 16 KiB tail, then the whole central directory, then the member): a 16 KiB
tail, a member before it fetched exactly, a ``*.dist-info`` that is not among the last entries
found by fetching the rest of the directory at once (not by ``zipfile`` in 32 KiB chunks)."""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from dataclasses import dataclass, field

from varsolve.sources import lazyzip
from varsolve.sources.lazyzip import RemoteWheel

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: botocore>=1\n\n" + os.urandom(3000).hex().encode()


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    content: bytes


@dataclass
class Served:
    data: bytes
    spans: list[tuple[int, int]] = field(default_factory=list)

    def get_range(self, url: str, range_header: str, what: str = "") -> _Response:
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header)
        assert match
        size = len(self.data)
        if match[1] == "":
            start, end = max(0, size - int(match[2])), size - 1
        else:
            start, end = int(match[1]), min(size - 1, int(match[2]))
        self.spans.append((start, end + 1))
        return _Response(206, {"content-range": f"bytes {start}-{end}/{size}"}, self.data[start : end + 1])

    def get(self, url: str, *, headers: dict[str, str] | None = None, what: str = "") -> _Response:
        raise AssertionError("the whole wheel was asked for")

    @property
    def fetched(self) -> int:
        return sum(end - start for start, end in self.spans)


def wheel(files: int, blob: int = 0, dist_info_first: bool = False) -> bytes:
    """A wheel laid out as bdist_wheel writes one: package files, then ``*.dist-info``."""
    rng = random.Random(files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        def dist_info() -> None:
            z.writestr("demo-1.0.dist-info/METADATA", METADATA)
            z.writestr("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")
            z.writestr("demo-1.0.dist-info/RECORD", b"".join(b"demo/f%05d.py,sha256=%s,2000\n" % (i, b"x" * 43) for i in range(files)))

        if dist_info_first:
            dist_info()
        for i in range(files):
            z.writestr(f"demo/f{i:05d}.py", rng.randbytes(2000))
        if blob:
            z.writestr("demo/blob.bin", os.urandom(blob), compress_type=zipfile.ZIP_STORED)
        if not dist_info_first:
            dist_info()
    return buf.getvalue()


def read(data: bytes, size: int | None = None) -> Served:
    served = Served(data)
    found = RemoteWheel(served, "https://example.invalid/demo.whl", size).dist_info_members("demo", ["METADATA"])  # type: ignore[arg-type]
    assert found["METADATA"] == METADATA
    return served


def member_cost() -> int:
    """Bytes of METADATA's local header and compressed data."""
    info = zipfile.ZipFile(io.BytesIO(wheel(1))).getinfo("demo-1.0.dist-info/METADATA")
    return 30 + len(info.filename) + len(info.extra) + info.compress_size


def test_a_small_wheel_costs_one_request_of_the_tail():
    data = wheel(60)  # like a boto3 wheel: 140 kB, METADATA 10 kB from the end
    assert 100_000 < len(data) < 200_000
    served = read(data, size=len(data))
    assert served.spans == [(len(data) - lazyzip.TAIL, len(data))] and lazyzip.TAIL == 16 * 1024


def test_a_member_before_the_tail_is_fetched_exactly():
    data = wheel(400, blob=2_000_000)
    served = read(data)
    assert len(served.spans) == 2
    start, end = served.spans[1]
    assert end - start <= member_cost() + 64  # not a 32 KiB chunk
    assert served.fetched <= lazyzip.TAIL + member_cost() + 64


def test_dist_info_first_fetches_the_rest_of_the_directory_at_once():
    data = wheel(2000, blob=500_000, dist_info_first=True)  # a central directory of ~90 kB
    served = read(data)
    directory = zipfile.ZipFile(io.BytesIO(data)).infolist()
    cd_start = data.rfind(b"PK\x05\x06")
    cd_offset = int.from_bytes(data[cd_start + 16 : cd_start + 20], "little")
    assert len(directory) > 2000
    assert len(served.spans) == 3, served.spans  # tail, rest of the directory, the member
    assert served.spans[1][1] - served.spans[1][0] == len(data) - lazyzip.TAIL - cd_offset
