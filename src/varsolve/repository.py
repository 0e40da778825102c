"""What every package source provides to the strategies: releases, their files, per-file core
metadata (dependencies, Requires-Python) and the combined variant metadata of a release.

Sources (scenario files, local wheel folders, HTTP simple indexes) implement :class:`Repository`;
strategies never see where the data came from. Methods may be slow (HTTP), so strategies ask
lazily and sources cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from .variants.filenames import WheelFilename
from .variants.metadata import VariantMetadata


@dataclass(frozen=True)
class DistFile:
    filename: str
    wheel: WheelFilename | None  # None for an sdist
    url: str | None = None
    hashes: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    size: int | None = None
    upload_time: str | None = None
    requires_python: SpecifierSet | None = None  # as announced by the index
    yanked: bool = False

    @property
    def is_wheel(self) -> bool:
        return self.wheel is not None

    @property
    def label(self) -> str | None:
        return self.wheel.label if self.wheel else None


@dataclass(frozen=True)
class Release:
    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...]

    @property
    def yanked(self) -> bool:
        return bool(self.files) and all(f.yanked for f in self.files)


@dataclass(frozen=True)
class CoreMetadata:
    requires_dist: tuple[str, ...]
    requires_python: SpecifierSet | None = None
    provides_extra: frozenset[str] = frozenset()


class Repository(Protocol):
    def releases(self, name: NormalizedName) -> list[Release]:
        """All releases of ``name`` (any order); ``[]`` when the source has no such project."""

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        """Core metadata of one file (wheels of one release may disagree, pip#13608)."""

    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        """Combined variant metadata of the release, ``None`` when it has no variant wheels.

        Raises :class:`~varsolve.errors.InvalidVariantMetadata` when it is invalid or
        inconsistent; callers then treat the release's variant wheels as unusable.
        """
