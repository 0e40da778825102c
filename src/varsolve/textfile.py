"""Reading the user's text files (scenarios, provider and target files, recorded machine
answers): UTF-8 of at most :data:`~varsolve.limits.MAX_TEXT_FILE` bytes, or a one-line error
that names the file and what it was read as."""

from __future__ import annotations

from pathlib import Path

from .errors import InputError

__all__ = ["read_text_file"]


def read_text_file(path: str | Path, what: str) -> str:
    """The text of ``path``; ``what`` names the kind of file in errors ("cannot read scenario")."""
    from .limits import TooLarge, read_text_capped

    try:
        text = read_text_capped(str(path)).decode("utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", where=str(path)) from None
    except UnicodeDecodeError:
        raise InputError(f"cannot read {what}: not UTF-8 text", where=str(path)) from None
    except ValueError as exc:  # TooLarge, a NUL byte in the path
        reason = str(exc) if isinstance(exc, TooLarge) else "not a valid path"
        raise InputError(f"cannot read {what}: {reason}", where=str(path)) from None
    # As Path.read_text does: universal newlines.
    return text.replace("\r\n", "\n").replace("\r", "\n")
