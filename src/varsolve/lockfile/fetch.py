"""Getting the files a lock names: copy a ``path`` or download a ``url``, then verify the size and
every hash the lock gives (PEP 751). Files land in a staging directory; nothing is installed here.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from ..errors import InputError, SourceError

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class LockedFile:
    filename: str
    url: str | None
    path: str | None
    size: int | None
    hashes: dict[str, str]
    where: str  # e.g. "pylock.toml: packages[3].wheels[0]"


def fetch(file: LockedFile, lock_dir: Path, staging: Path, client: httpx.Client | None = None) -> Path:
    """Copy or download ``file`` into ``staging`` and verify it; returns the staged path
    (``client`` is required for http(s) URLs)."""
    dest = staging / file.filename
    if file.path is not None:
        source = Path(file.path)
        source = source if source.is_absolute() else lock_dir / source
        _copy(source, dest, file)
    elif file.url is not None:
        parsed = urlparse(file.url)
        if parsed.scheme == "file":
            _copy(Path(unquote(parsed.path)), dest, file)
        elif parsed.scheme in ("http", "https"):
            if client is None:
                raise TypeError(f"fetch needs an HTTP client for {file.url}")
            _download(file, file.url, dest, client)
        else:
            raise InputError(f"unsupported URL scheme {parsed.scheme!r} in {file.url}", where=file.where)
    else:
        raise InputError("neither path nor url", where=file.where)
    verify(dest, file)
    return dest


def _copy(source: Path, dest: Path, file: LockedFile) -> None:
    try:
        shutil.copyfile(source, dest)
    except OSError as exc:
        raise SourceError(f"{file.where}: cannot read {source}: {exc.strerror}") from None


def _download(file: LockedFile, url: str, dest: Path, client: httpx.Client) -> None:
    import httpx

    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise SourceError(f"{file.where}: GET {url}: HTTP {response.status_code}")
            with dest.open("wb") as fh:
                for chunk in response.iter_bytes():
                    fh.write(chunk)
                    # A wrong size is known before the whole body arrives; stop early.
                    if file.size is not None and fh.tell() > file.size:
                        break
    except httpx.HTTPError as exc:
        raise SourceError(f"{file.where}: GET {url}: {exc}") from None


def verify(path: Path, file: LockedFile) -> None:
    size = path.stat().st_size
    if file.size is not None and size != file.size:
        raise SourceError(f"{file.where}: {file.filename}: size mismatch (lock says {file.size}, got {size})")
    known = {alg: digest for alg, digest in file.hashes.items() if alg in hashlib.algorithms_available}
    if not known:
        raise InputError(f"no hash algorithm varsolve knows among {sorted(file.hashes)}", where=file.where)
    hashers = {alg: hashlib.new(alg) for alg in known}
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            for h in hashers.values():
                h.update(chunk)
    for alg, digest in sorted(known.items()):
        got = hashers[alg].hexdigest()
        if got != digest.lower():
            raise SourceError(f"{file.where}: {file.filename}: {alg} mismatch (lock says {digest}, got {got})")
