"""``varsolve index build``: a scenario's packages as a static simple repository.

Layout of the output directory (every file is a function of the scenario, byte for byte)::

    simple/index.html, simple/index.json            project list (PEP 503 / PEP 691)
    simple/<name>/index.html, simple/<name>/index.json
    files/<wheel or sdist>                          real distributions (see wheels.py)
    files/<wheel or sdist>.metadata                 PEP 658/714 core metadata
    files/<name>-<version>-variants.json            PEP 825 index-level variant metadata
    varsolve-index.json                             marks the directory as ours

Project pages link files with relative URLs (``../../files/...``), announce sha256 hashes,
``requires-python``, ``yanked`` and ``core-metadata``; any static file server can serve the HTML
pages, and ``varsolve index serve`` also negotiates the JSON ones.

Variant-unaware installers read the non-variant wheels and sdists, so their metadata has the
variant markers evaluated for the non-variant state (PEP 825 allows builders to do so); variant
wheels keep the markers as written.

A release whose metadata the scenario gives **as published** (``variants_json = "FILE"``) is
served as published: its ``*-variants.json`` is that file byte for byte, and each of its variant
wheels' ``variant.json`` is that document with ``variants`` narrowed to the wheel's label. Nothing
is re-derived or validated (a 0.0.3-era document, one with unknown keys, one varsolve cannot
read at all): an installer meets the messy data an index really serves
(:func:`published_variants_json`). Every other release's files are derived from its metadata.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ..errors import InputError
from ..repository import CoreMetadata, DistFile, Release, Repository
from ..variants.filenames import variants_json_filename
from . import wheels

API_VERSION = "1.1"
JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
MARKER_FILE = "varsolve-index.json"


class _Sha256(TypedDict):
    sha256: str


# One file of a PEP 691 project page, keys in the order they are written.
_FileItem = TypedDict(
    "_FileItem",
    {
        "filename": str,
        "url": str,
        "hashes": _Sha256,
        "requires-python": NotRequired[str],
        "core-metadata": NotRequired[_Sha256],
        "dist-info-metadata": NotRequired[_Sha256],
        "yanked": NotRequired[bool],
        "size": NotRequired[int],
    },
)


@dataclass(frozen=True)
class FileEntry:
    """One file on a project page."""

    filename: str
    sha256: str
    size: int
    requires_python: str | None = None
    yanked: bool = False
    metadata_sha256: str | None = None  # PEP 658 file present
    is_dist: bool = True  # False for the *-variants.json file


@dataclass
class IndexContents:
    """The whole index in memory: relative path -> bytes."""

    files: dict[str, bytes] = field(default_factory=dict)
    projects: dict[NormalizedName, list[FileEntry]] = field(default_factory=dict)

    def write(self, directory: str | Path) -> Path:
        """Write to ``directory`` atomically: build next to it, then swap it in."""
        target = Path(directory)
        if target.exists() and any(target.iterdir()) and not (target / MARKER_FILE).exists():
            raise InputError("exists and is not an index built by varsolve; refusing to overwrite", where=str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for relative, data in sorted(self.files.items()):
                path = staging / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            os.chmod(staging, 0o755)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
                os.replace(target, old / "index")
                os.replace(staging, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target


def build_index(
    scenario: str | Path, output: str | Path, *, metadata_files: bool = True, json_pages: bool = True
) -> IndexContents:
    """Build the index of ``scenario`` into ``output`` and return what was written."""
    from ..sources.scenario import load_scenario

    loaded = load_scenario(scenario)
    contents = index_contents(
        loaded.problem.repository, metadata_files=metadata_files, json_pages=json_pages, name=loaded.name,
        published=published_variants_json(loaded.path),
    )
    contents.write(output)
    return contents


# A release (name, version) -> its ``*-variants.json`` as published, byte for byte.
PublishedMetadata = Mapping[tuple[NormalizedName, Version], bytes]


def published_variants_json(scenario: str | Path) -> dict[tuple[NormalizedName, Version], bytes]:
    """The ``*-variants.json`` of every release the scenario file gives as published
    (``variants_json``), byte for byte as its file has it; ``{}`` when there is no scenario
    file to read (a scenario loaded from text without a ``variants_json`` key)."""
    from ..limits import TooLarge, read_text_capped
    from ..structured import load_toml
    from ..textfile import read_text_file

    path = Path(scenario)
    if not path.is_file():
        return {}
    data = load_toml(read_text_file(path, "scenario"), str(path))
    out: dict[tuple[NormalizedName, Version], bytes] = {}
    packages = data.get("packages", {})
    for raw_name, package in packages.items() if isinstance(packages, dict) else ():
        versions = package.get("versions", {}) if isinstance(package, dict) else {}
        for raw_version, info in versions.items() if isinstance(versions, dict) else ():
            if not isinstance(info, dict) or not isinstance(info.get("variants_json"), str):
                continue
            file = path.parent / info["variants_json"]
            try:  # as the scenario loader reads it (it did, to load this scenario)
                out[(canonicalize_name(raw_name), Version(raw_version))] = read_text_capped(str(file))
            except (OSError, TooLarge) as exc:
                raise InputError(f"cannot read variants_json file: {exc}", where=str(file)) from None
    return out


def index_contents(
    repository: Repository,
    *,
    metadata_files: bool = True,
    json_pages: bool = True,
    name: str = "",
    published: PublishedMetadata | None = None,
) -> IndexContents:
    """Every file of the index of an in-memory repository (a ScenarioRepository); the releases
    in ``published`` get their variant metadata as published (module docs)."""
    contents = IndexContents()
    names = repository.names()
    if names is None:
        raise TypeError("index_contents needs a repository that lists its projects (names() gave None)")
    for project in names:
        entries: list[FileEntry] = []
        for release in sorted(repository.releases(project), key=lambda r: r.version):
            as_published = (published or {}).get((release.name, release.version))
            entries += _release_files(repository, release, contents, metadata_files, as_published)
        contents.projects[project] = entries
    for project, entries in contents.projects.items():
        contents.files[f"simple/{project}/index.html"] = project_html(project, entries)
        if json_pages:
            contents.files[f"simple/{project}/index.json"] = project_json(project, entries)
    contents.files["simple/index.html"] = root_html(sorted(contents.projects))
    if json_pages:
        contents.files["simple/index.json"] = root_json(sorted(contents.projects))
    marker = {"generator": wheels.GENERATOR, "scenario": name, "api-version": API_VERSION}
    contents.files[MARKER_FILE] = (json.dumps(marker, indent=2, sort_keys=True) + "\n").encode()
    return contents


def _release_files(
    repository: Repository, release: Release, contents: IndexContents, metadata_files: bool,
    as_published: bytes | None = None,
) -> list[FileEntry]:
    # As published: not read as variant metadata, it may be a document nobody can read.
    variant_md = repository.variant_metadata(release) if as_published is None else None
    published_doc = _published_document(release, as_published) if as_published is not None else None
    entries: list[FileEntry] = []
    for file in sorted(release.files, key=lambda f: f.filename):
        meta: CoreMetadata = repository.metadata(release, file)
        variant_json: dict[str, Any] | None = None
        if file.label is not None and published_doc is not None:
            variant_json = wheels.published_wheel_variant_json(published_doc, file.label)
        elif file.label is not None and variant_md is not None:
            variant_json = wheels.wheel_variant_json(variant_md, file.label)
        dist = _build(release, file, meta, variant_json)
        if dist.filename != file.filename:  # the builder and the scenario loader must agree
            raise AssertionError(f"built {dist.filename}, scenario names {file.filename}")
        requires_python = str(meta.requires_python) if meta.requires_python else None
        contents.files[f"files/{dist.filename}"] = dist.data
        metadata_sha256 = None
        if metadata_files:
            contents.files[f"files/{dist.filename}.metadata"] = dist.metadata
            metadata_sha256 = hashlib.sha256(dist.metadata).hexdigest()
        entries.append(FileEntry(dist.filename, dist.sha256, dist.size, requires_python, file.yanked, metadata_sha256))
    data = as_published
    if data is None and variant_md is not None:
        data = wheels.json_bytes(wheels.variants_json(variant_md))
    if data is not None:
        filename = variants_json_filename(release.name, release.version)
        contents.files[f"files/{filename}"] = data
        entries.append(FileEntry(filename, hashlib.sha256(data).hexdigest(), len(data), is_dist=False))
    return entries


def _published_document(release: Release, data: bytes) -> dict[str, Any]:
    """The JSON object of a published ``*-variants.json`` (the scenario loader has checked that
    it is one, with a ``variants`` table), only to give each wheel its part of it."""
    from ..structured import load_json

    where = f"{release.name} {release.version}: variants_json"
    doc = load_json(data, where)
    if not isinstance(doc, dict) or not isinstance(doc.get("variants"), dict):
        raise InputError("a published *-variants.json without a variants table", where=where)
    return doc


def _build(release: Release, file: DistFile, meta: CoreMetadata, variant_json: dict[str, Any] | None) -> wheels.Dist:
    requires_python = str(meta.requires_python) if meta.requires_python else None
    provides_extra = sorted(meta.provides_extra)
    if file.wheel is None:
        return wheels.build_sdist(
            release.name, release.version, requires_dist=wheels.specialise_requirements(meta.requires_dist),
            requires_python=requires_python, provides_extra=provides_extra,
        )
    # name-version(-build)?-python-abi-platform(-label)?.whl, as the scenario loader wrote it
    parts = file.filename[: -len(".whl")].split("-")
    if file.label is not None:
        parts.pop()
    tag_text = "-".join(parts[-3:])
    build = parts[2] if len(parts) == 6 else None
    if file.label is None:
        return wheels.build_wheel(
            release.name, release.version, tag_text, build=build,
            requires_dist=wheels.specialise_requirements(meta.requires_dist),
            requires_python=requires_python, provides_extra=provides_extra,
        )
    if variant_json is None:
        raise AssertionError(f"{file.filename}: a variant wheel of a release without variant metadata")
    return wheels.build_wheel(
        release.name, release.version, tag_text, build=build, label=file.label,
        variant_json=variant_json, requires_dist=meta.requires_dist,
        requires_python=requires_python, provides_extra=provides_extra,
    )


# -- pages ----------------------------------------------------------------------------------

def _file_url(filename: str) -> str:
    return f"../../files/{filename}"


def project_html(project: str, entries: list[FileEntry]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
        f"    <title>Links for {html.escape(project)}</title>",
        "  </head>",
        "  <body>",
        f"    <h1>Links for {html.escape(project)}</h1>",
    ]
    for e in entries:
        attrs = [f'href="{html.escape(_file_url(e.filename))}#sha256={e.sha256}"']
        if e.is_dist:
            if e.requires_python:
                attrs.append(f'data-requires-python="{html.escape(e.requires_python)}"')
            if e.metadata_sha256:
                attrs.append(f'data-core-metadata="sha256={e.metadata_sha256}"')
                attrs.append(f'data-dist-info-metadata="sha256={e.metadata_sha256}"')
            if e.yanked:
                attrs.append('data-yanked=""')
        lines.append(f"    <a {' '.join(attrs)}>{html.escape(e.filename)}</a><br/>")
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def project_json(project: str, entries: list[FileEntry]) -> bytes:
    from packaging.utils import parse_sdist_filename

    from ..variants.filenames import parse_wheel

    files: list[_FileItem] = []
    versions: set[Version] = set()
    for e in entries:
        item: _FileItem = {"filename": e.filename, "url": _file_url(e.filename), "hashes": {"sha256": e.sha256}}
        if e.is_dist:
            version = parse_wheel(e.filename).version if e.filename.endswith(".whl") else parse_sdist_filename(e.filename)[1]
            versions.add(version)
            if e.requires_python:
                item["requires-python"] = e.requires_python
            if e.metadata_sha256:
                item["core-metadata"] = {"sha256": e.metadata_sha256}
                item["dist-info-metadata"] = {"sha256": e.metadata_sha256}
            item["yanked"] = e.yanked
        item["size"] = e.size
        files.append(item)
    doc = {
        "meta": {"api-version": API_VERSION},
        "name": project,
        "versions": [str(v) for v in sorted(versions)],
        "files": files,
    }
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def root_html(projects: list[str]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html>",
        "  <head>",
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">',
        "    <title>Simple index</title>",
        "  </head>",
        "  <body>",
    ]
    lines += [f'    <a href="{html.escape(p)}/">{html.escape(p)}</a><br/>' for p in projects]
    lines += ["  </body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")


def root_json(projects: list[str]) -> bytes:
    doc = {"meta": {"api-version": API_VERSION}, "projects": [{"name": p} for p in projects]}
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")
