"""The most varsolve reads from one input: far above any real file, so that only a broken or
hostile one meets them (docs/reliability.md, "Input limits"). Past a limit the input is refused
with a one-line error naming it; nothing larger than the limit is ever held in memory.

Network bodies have their own limits (:class:`varsolve.sources.settings.NetworkLimits`); these
are for what is read from files and out of archives.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import tarfile
    import zipfile

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

# A user's text file: a scenario, a requirements file, a provider or target file, a lock, a
# pyproject.toml, a recorded NVIDIA answer (the largest real ones are a few MB).
MAX_TEXT_FILE = 64 * MiB
# Nesting of TOML and JSON documents: arrays and tables inside each other, and the parts of one
# dotted key (``a.b.c = 1`` is three). Real files nest fewer than ten deep.
MAX_NESTING = 32
# One member read out of a distribution, decompressed: METADATA, PKG-INFO (a long description
# inflates them: the largest on PyPI are a few MB), variant.json.
MAX_METADATA = 16 * MiB
MAX_VARIANT_JSON = 16 * MiB
# Members an sdist's tarball may have before its PKG-INFO is found (a tar of millions of empty
# members is a memory bomb of its own: tarfile keeps every header it has read).
MAX_SDIST_MEMBERS = 200_000
# Decompressed bytes of an sdist's tarball read to find its PKG-INFO (a gzip bomb costs CPU time
# even when nothing is kept: about a second per GiB).
MAX_SDIST_SCAN = 4 * GiB

_CHUNK = 1 * MiB


class TooLarge(ValueError):
    """An input past its limit; the message says which limit."""


def read_capped(stream: IO[bytes], limit: int, what: str) -> bytes:
    """At most ``limit`` bytes of ``stream``, read in chunks; :class:`TooLarge` when it holds
    more (whatever its headers claimed)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise TooLarge(f"{what} is larger than {_size(limit)}")
        chunks.append(chunk)


def read_zip_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Member ``name`` of ``archive``: refused before decompressing when its declared size is past
    ``limit``, and when its data turn out larger than declared."""
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise TooLarge(f"{name} is larger than {_size(limit)} ({_size(info.file_size)} decompressed)")
    with archive.open(info) as stream:
        return read_capped(stream, limit, f"{name} (decompressed)")


def read_tar_member(archive: tarfile.TarFile, info: tarfile.TarInfo, limit: int) -> bytes | None:
    """The content of the regular file ``info`` of ``archive`` (None when it has none)."""
    if info.size > limit:
        raise TooLarge(f"{info.name} is larger than {_size(limit)} ({_size(info.size)} decompressed)")
    stream = archive.extractfile(info)
    if stream is None:
        return None
    with stream:
        return read_capped(stream, limit, f"{info.name} (decompressed)")


def read_text_capped(path: str, limit: int = MAX_TEXT_FILE) -> bytes:
    """The bytes of the file at ``path``, refused past ``limit`` (``/dev/zero`` included).
    Raises OSError as ``open`` does, :class:`TooLarge`."""
    with open(path, "rb") as f:
        return read_capped(f, limit, "it")


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", KiB)):
        if n >= factor:
            return f"{n / factor:.4g} {unit}"
    return f"{n} bytes"
