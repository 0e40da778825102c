"""Errors a user can act on.

Every error a user can cause derives from :class:`VarsolveError`; the CLI prints it as one line
and exits with its ``exit_code``. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class VarsolveError(Exception):
    """Base class of all errors caused by input, configuration or the outside world."""

    exit_code = 2


class InputError(VarsolveError):
    """Malformed or inconsistent input; the message names the file, key or URL."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InvalidProperty(InputError):
    """A variant property, feature or namespace that does not match PEP 825's grammar."""


class InvalidLabel(InputError):
    """A variant label that does not match PEP 825's grammar."""


class InvalidWheelFilename(InputError):
    """A wheel filename that cannot be parsed, variant label included."""


class InvalidVariantMetadata(InputError):
    """``variant.json`` / ``*-variants.json`` content that violates its schema."""


class InconsistentVariantMetadata(InvalidVariantMetadata):
    """Two metadata files of one release disagree (PEP 825 consistency rules)."""


class SourceError(VarsolveError):
    """A package source (index, folder, HTTP) failed in a way the user has to fix."""


class InvalidDistribution(SourceError):
    """A distribution file whose metadata cannot be used: malformed core metadata, not a valid
    wheel or sdist, or a failed build. It makes that one file unusable, not the run: the
    strategies reject the candidate with ``reason`` (the explanation shows it)."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = " ".join(reason.split()) or "unknown reason"  # always one line
        super().__init__(f"{filename}: {self.reason}")


class BuildError(InvalidDistribution):
    """An sdist whose metadata could not be had: its build failed or timed out, it is not a
    valid sdist, or it would need a build and builds are off.

    ``filename`` is the sdist's, ``reason`` one line saying why; the message is
    ``sdist FILENAME failed to build: REASON``. The strategies reject that candidate with this
    reason (the explanation shows it) instead of ending the run.
    """

    def __init__(self, filename: str, reason: str, *, url: str | None = None) -> None:
        super().__init__(filename, reason)
        self.url = url
        self.args = (f"sdist {filename} failed to build: {self.reason}",)
