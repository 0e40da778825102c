"""``--find-links DIR``: a folder of wheels, sdists and ``*-variants.json`` files as a source.

The folder is listed once; a project's files get ``file://`` URLs and sha256 hashes when the
project is first asked for. Metadata comes from the files themselves (``METADATA`` and
``variant.json`` of wheels, static ``PKG-INFO`` of sdists) through
:class:`~varsolve.sources.simple.SimpleRepository`, which also merges the folder's
``*-variants.json`` with the wheels' ``variant.json`` (PEP 825 PR #5100 allows both).
:class:`FindLinksRepository` is that repository over folders only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from packaging.utils import NormalizedName

from ..errors import SourceError
from .files import ProjectPage, project_of_filename
from .pages import Link
from .settings import SourceSettings
from .simple import SimpleRepository


class FindLinksSource:
    announces_requires_python = False  # files carry their Requires-Python inside

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.description = str(self.directory)
        self._by_project: dict[NormalizedName, list[Path]] | None = None

    def _scan(self) -> dict[NormalizedName, list[Path]]:
        if self._by_project is None:
            if not self.directory.is_dir():
                raise SourceError(f"{self.directory}: --find-links needs a directory")
            out: dict[NormalizedName, list[Path]] = {}
            try:
                entries = sorted(self.directory.iterdir())
            except OSError as exc:
                raise SourceError(f"{self.directory}: cannot list ({exc.strerror})") from None
            for path in entries:
                name = project_of_filename(path.name)
                if name is not None and path.is_file():
                    out.setdefault(name, []).append(path)
            self._by_project = out
        return self._by_project

    def project_links(self, name: NormalizedName) -> list[Link] | None:
        paths = self._scan().get(name)
        if not paths:
            return None
        links = []
        for path in paths:
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise SourceError(f"{path}: cannot read ({exc.strerror})") from None
            links.append(Link(path.name, path.resolve().as_uri(), {"sha256": digest}, size=path.stat().st_size))
        return links

    def project_page(self, name: NormalizedName) -> ProjectPage | None:
        links = self.project_links(name)
        if links is None:
            return None
        return ProjectPage.from_rows([link.row() for link in links], name, self.directory.resolve().as_uri(), False)


class FindLinksRepository(SimpleRepository):
    """A repository of one or more local folders (no network, no cache)."""

    def __init__(self, *directories: str | Path, settings: SourceSettings | None = None) -> None:
        # No prefetching by default: reading local files is faster than handing them to threads.
        super().__init__([FindLinksSource(d) for d in directories], None, settings or SourceSettings(workers=0))
