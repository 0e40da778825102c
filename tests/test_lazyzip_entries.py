"""sources/lazyzip.py reads only the central directory entries it needs: the same bytes as
``zipfile``, in one request (or two), and ``zipfile`` itself for anything unusual."""

from __future__ import annotations

import io
import os
import random
import re
import zipfile
from dataclasses import dataclass, field

import pytest

from varsolve.errors import InvalidDistribution, SourceError
from varsolve.sources import distmeta, lazyzip
from varsolve.sources.lazyzip import RemoteWheel

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: numpy>=1\n\n" + b"description " * 500


@dataclass
class Served:
    """What RemoteWheel needs of an HttpClient: Range answers out of ``data``."""

    data: bytes
    ranges: list[str] = field(default_factory=list)
    honour_ranges: bool = True

    def get_range(self, url: str, range_header: str, what: str = "") -> object:
        self.ranges.append(range_header)
        if not self.honour_ranges:
            return _Response(200, {}, self.data)
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header)
        assert match
        size = len(self.data)
        if match[1] == "":
            start, end = max(0, size - int(match[2])), size - 1
        else:
            start, end = int(match[1]), min(size - 1, int(match[2]))
        return _Response(206, {"content-range": f"bytes {start}-{end}/{size}"}, self.data[start : end + 1])

    def get(self, url: str, *, headers: dict[str, str] | None = None, what: str = "") -> object:
        return _Response(200, {}, self.data)


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    content: bytes


def wheel(
    files: int = 10, dist_info_first: bool = False, compression: int = zipfile.ZIP_DEFLATED, blob: int = 0,
    prefix: bytes = b"", force_zip64: bool = False, variant: bool = False,
) -> bytes:
    buf = io.BytesIO()
    buf.write(prefix)
    rng = random.Random(files)
    with zipfile.ZipFile(buf, "a" if prefix else "w", compression=compression) as z:
        def dist_info() -> None:
            z.writestr("demo-1.0.dist-info/METADATA", METADATA)
            z.writestr("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")
            if variant:
                z.writestr("demo-1.0.dist-info/variant.json", b'{"variants": {}}')
            z.writestr("demo-1.0.dist-info/RECORD", b"x,," * files)

        if dist_info_first:
            dist_info()
        for i in range(files):
            with z.open(f"demo/data/file_{i:05d}_{'x' * 30}.py", "w", force_zip64=force_zip64) as f:
                f.write(rng.randbytes(20))
        if blob:
            z.writestr("demo/blob.bin", os.urandom(blob), compress_type=zipfile.ZIP_STORED)
        if not dist_info_first:
            dist_info()
    return buf.getvalue()


def members(
    data: bytes, size: int | None = None, wanted: tuple[str, ...] = ("METADATA",), **kw: bool
) -> tuple[dict[str, bytes | None], Served]:
    served = Served(data, **kw)
    found = RemoteWheel(served, "https://example.invalid/demo.whl", size).dist_info_members(  # type: ignore[arg-type]
        "demo", wanted
    )
    return found, served


def with_zipfile(data: bytes, wanted: tuple[str, ...] = ("METADATA",)) -> dict[str, bytes | None]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {m: distmeta.read_wheel_member(archive, "demo", m, "x") for m in wanted}


@pytest.mark.parametrize(
    "shape",
    [
        {},  # small: the whole file in one tail
        {"files": 3000},  # directory larger than the tail: only its last entries are read
        {"files": 3000, "blob": 300_000},  # METADATA before the tail: a second request for it alone
        {"files": 3000, "dist_info_first": True, "blob": 300_000},  # dist-info first: the whole directory
        {"files": 50, "compression": zipfile.ZIP_STORED, "blob": 200_000},
        {"files": 50, "variant": True, "blob": 200_000},
        {"files": 20, "force_zip64": True, "blob": 200_000},  # zip64 extra fields: zipfile does it
        {"files": 20, "prefix": b"junk" * 100, "blob": 200_000},  # bytes before the archive: zipfile does it
    ],
)
def test_the_same_bytes_as_zipfile(shape: dict[str, int]) -> None:
    data = wheel(**shape)  # type: ignore[arg-type]
    wanted = ("METADATA", "variant.json") if shape.get("variant") else ("METADATA",)
    found, served = members(data, wanted=wanted)
    assert found == with_zipfile(data, wanted)
    assert found["METADATA"] == METADATA
    if "dist_info_first" not in shape and "force_zip64" not in shape and "prefix" not in shape:
        assert len(served.ranges) <= 2, served.ranges


def test_a_large_wheel_costs_the_tail_and_its_member_whatever_size_the_index_announces() -> None:
    # A 40th of a large wheel was asked for (up to 512 KiB), in the hope of one request: awscli's
    # 20 MB wheel cost 505 KiB, and its METADATA lay before them anyway.
    data = wheel(files=3000, blob=20_000_000)
    for size in (None, len(data)):
        found, served = members(data, size=size)
        assert found["METADATA"] == METADATA
        assert served.ranges[0] == f"bytes=-{lazyzip.TAIL}" and len(served.ranges) == 2


def test_a_server_that_ignores_ranges() -> None:
    data = wheel(files=3000)
    found, served = members(data, honour_ranges=False)
    assert found["METADATA"] == METADATA and served.ranges == [f"bytes=-{lazyzip.TAIL}"]


def test_a_missing_member_is_looked_for_in_the_whole_directory() -> None:
    data = wheel(files=3000, blob=300_000)
    found, served = members(data, wanted=("METADATA", "variant.json"))
    assert found == {"METADATA": METADATA, "variant.json": None}


def test_damaged_member_is_the_same_error_as_zipfile() -> None:
    data = bytearray(wheel(files=5, compression=zipfile.ZIP_STORED))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("demo-1.0.dist-info/METADATA")
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5
    data[at] ^= 0xFF  # the bytes no longer match their CRC
    with pytest.raises(InvalidDistribution, match="cannot read METADATA"):
        members(bytes(data))


def test_damaged_deflate_stream_is_an_unusable_wheel() -> None:
    """zlib.error, which zipfile lets through, is InvalidDistribution too (not a crash)."""
    data = bytearray(wheel(files=5))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("demo-1.0.dist-info/METADATA")
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 5] ^= 0xFF
    with pytest.raises(InvalidDistribution, match="cannot read METADATA"):
        members(bytes(data))


def test_not_a_zip_is_the_same_error_as_before() -> None:
    with pytest.raises(SourceError, match="not a valid wheel"):
        members(os.urandom(100_000))


def test_entries_that_do_not_chain_are_not_trusted() -> None:
    """A central directory signature inside a file name is no entry boundary."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(3000):
            z.writestr(f"demo/PK\x01\x02-{i:05d}-{'y' * 30}.py", b"")
        z.writestr("demo-1.0.dist-info/METADATA", METADATA)
    found, _ = members(buf.getvalue())
    assert found["METADATA"] == METADATA


def test_only_dist_info_entries_are_made_but_every_entry_is_checked() -> None:
    """The chain checks every entry of a large directory and makes only those in a
    ``.dist-info`` folder (names in either encoding); a damaged entry anywhere breaks it."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(2000):
            z.writestr(f"demo/m{i:04d}.py", b"")
        z.writestr("demo-1.0.dist-info/METADATA", METADATA)
        z.writestr("demo-1.0.dist-info/RECORD", b"")
        z.writestr("z\u00e9/after.py", b"")  # a UTF-8 name after the .dist-info folder
    data = buf.getvalue()
    end = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = lazyzip._END.unpack_from(data, end)[5:7]
    chained = lazyzip._chain(data, 0, cd_offset, cd_offset + cd_size)
    assert chained is not None
    entries, count = chained
    assert count == 2003 and [e.name for e in entries] == ["demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/RECORD"]
    assert members(data)[0]["METADATA"] == METADATA
    # An entry far from the .dist-info folder whose name length points past its name.
    damaged = bytearray(data)
    first = cd_offset + 10 * (lazyzip._ENTRY.size + len("demo/m0000.py"))
    assert damaged[first : first + 4] == b"PK\x01\x02"
    damaged[first + 28] += 1  # name length
    assert lazyzip._chain(bytes(damaged), 0, cd_offset, cd_offset + cd_size) is None
