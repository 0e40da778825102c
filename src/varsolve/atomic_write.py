"""Every file varsolve writes (locks, pinned requirements, reports, provider files, generated
scenarios) goes through here: written beside its destination and renamed into place, so that a
failure or a killed process never leaves half a file, and with the permissions ``open()`` would
give it (the umask), not ``mkstemp``'s 0600."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import InputError

__all__ = ["write_text_atomically", "write_texts_atomically"]


def write_text_atomically(path: str | os.PathLike[str], text: str) -> None:
    write_texts_atomically({Path(path): text})


def write_texts_atomically(files: Mapping[Path, str]) -> None:
    """Write every file or none: all go to temporary siblings first, then are renamed."""
    staged: list[tuple[Path, str]] = []
    mode = 0o666 & ~_umask()
    try:
        for path, text in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            staged.append((path, tmp))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(tmp, mode)
        for path, tmp in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for _, tmp in staged:
            Path(tmp).unlink(missing_ok=True)
        where = next((str(p) for p, t in staged if t == exc.filename), None) or str(exc.filename or next(iter(files), ""))
        raise InputError(f"cannot write: {exc.strerror}", where=where) from None


def _umask() -> int:
    # The only way to read the umask is to set it; set it back at once.
    mask = os.umask(0)
    os.umask(mask)
    return mask
