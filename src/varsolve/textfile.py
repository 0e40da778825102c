"""Reading the user's text files (scenarios, provider and target files, recorded machine
answers): UTF-8 or a one-line error that names the file and what it was read as."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

__all__ = ["read_text_file"]


def read_text_file(path: str | Path, what: str) -> str:
    """The text of ``path``; ``what`` names the kind of file in errors ("cannot read scenario")."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", where=str(path)) from None
    except UnicodeDecodeError:
        raise InputError(f"cannot read {what}: not UTF-8 text", where=str(path)) from None
