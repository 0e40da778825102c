"""What every package source provides to the strategies: releases, their files, per-file core
metadata (dependencies, Requires-Python) and the combined variant metadata of a release.

Sources (scenario files, local wheel folders, HTTP simple indexes) implement :class:`Repository`;
strategies never see where the data came from. Methods may be slow (HTTP), so strategies ask
lazily and sources cache.

Besides the three data methods a repository has a lifecycle (hints before a resolution,
:meth:`~Repository.close` after it, usable as a context manager) and counters. Concrete
repositories inherit :class:`RepositoryBase`, which does nothing for each of those, so callers
call them on any repository instead of probing for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from .variants.filenames import WheelFilename
from .variants.metadata import VariantMetadata

if TYPE_CHECKING:
    from typing import Self

    from .target import Target


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
    """A package source as the resolver sees it; implement it by inheriting
    :class:`RepositoryBase` and writing the three data methods."""

    def releases(self, name: NormalizedName) -> list[Release]:
        """All releases of ``name`` (any order); ``[]`` when the source has no such project."""

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        """Core metadata of one file (wheels of one release may disagree, pip#13608).

        For an sdist whose metadata is dynamic this builds it (PEP 517) when the source's
        settings allow builds, and raises :class:`~varsolve.errors.BuildError` when it cannot.
        """

    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        """Combined variant metadata of the release, ``None`` when it has no variant wheels.

        Raises :class:`~varsolve.errors.InvalidVariantMetadata` when it is invalid or
        inconsistent; callers then treat the release's variant wheels as unusable.
        """

    def metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
        """Whether :meth:`metadata` of ``file`` needs no build: True for wheels, sdists with
        static PKG-INFO, metadata built before (cached) and scenario data; False for an sdist
        whose metadata may only be known by running its build backend (or that has not been
        read yet and would have to be downloaded whole to find out).

        A strategy may then treat such a candidate as a relaxation and ask :meth:`metadata`
        only when the search needs it; :meth:`metadata` raises
        :class:`~varsolve.errors.BuildError` when the build fails (reject that candidate).
        """

    def names(self) -> Sequence[NormalizedName] | None:
        """Every project of the source, when it can list them cheaply; else ``None``."""

    def hint_target(self, target: Target) -> None:
        """The target about to be resolved for: which files the resolver will pick."""

    def prefetch(self, names: Iterable[str]) -> None:
        """The root requirements' names: a source may start fetching them in the background."""

    def prefetch_metadata(self, files: Iterable[tuple[Release, DistFile]]) -> None:
        """The strategy is about to ask :meth:`metadata` of each of ``files`` (a batch it reads
        in one go): a source may fetch them in parallel now. Never builds anything."""

    def close(self) -> None:
        """Release connections and threads; the repository is not used afterwards."""

    @property
    def counters(self) -> Mapping[str, int]:
        """What the source did so far (requests, bytes, cache hits ...), for statistics."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class RepositoryBase:
    """The lifecycle of :class:`Repository` with nothing to do: no names, hints ignored,
    nothing to close, no counters. Subclasses write the data methods and override what they
    need."""

    def metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
        return True

    def names(self) -> Sequence[NormalizedName] | None:
        return None

    def hint_target(self, target: Target) -> None:
        return None

    def prefetch(self, names: Iterable[str]) -> None:
        return None

    def prefetch_metadata(self, files: Iterable[tuple[Release, DistFile]]) -> None:
        return None

    def close(self) -> None:
        return None

    @property
    def counters(self) -> Mapping[str, int]:
        return {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
