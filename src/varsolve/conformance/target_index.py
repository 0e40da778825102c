"""A scenario's index with its target written into the variant metadata, for installers.

An installer cannot read a scenario's ``[environment.variants]``: what a target supports reaches
uv 0.13.9 only through the providers of each release's ``*-variants.json`` (PEP 850 static
properties; its four vendored providers; plugins are never run). So the index an installer is
pointed at is the one ``varsolve index build`` writes, except that every ``*-variants.json``
is rewritten (PEP 850 schema 0.2.0, which uv accepts) with each namespace's provider made a
``static-properties`` provider listing exactly what varsolve gives that namespace for the
target:

* a provider with its own static properties keeps them (PEP 850: they come first, varsolve
  does the same);
* any other provider (none, a plugin, a vendored one) lists the target's values for the
  namespace, most preferred first, ``{}`` when the target supports nothing there (no host
  detection, no plugin, as varsolve by default);
* ``optional = true`` is kept: enabling an optional provider is the installer's business;
* ``abi_dependency`` is left alone (it has no provider).

A release whose metadata the scenario gives **as published** (``variants_json``) is served as
published, not rewritten (:mod:`varsolve.index.builder`): its file is what an index really serves,
0.0.3-era keys, unknown keys and all, and what the installer makes of it is what is tested (uv
0.13.9 refuses such a document and takes an older release, ecosystem section 2). The target
reaches the installer only through the rewritten releases.

The project pages are rewritten with the new files' hashes and sizes; the wheels themselves
are untouched (compile and ``--dry-run`` never open them).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from ..errors import InvalidVariantMetadata
from ..index import wheels
from ..index.builder import (
    FileEntry,
    IndexContents,
    index_contents,
    project_html,
    project_json,
    published_variants_json,
)
from ..repository import Release, Repository
from ..sources.scenario import Scenario
from ..target import Target
from ..variants.filenames import variants_json_filename
from ..variants.metadata import SCHEMA_850, Provider, VariantMetadata
from ..variants.properties import ABI_DEPENDENCY

__all__ = ["build_installer_index", "express_target"]


def express_target(metadata: VariantMetadata, target: Target) -> VariantMetadata:
    """``metadata`` with every provider a static one carrying what ``target`` supports."""
    providers: dict[str, Provider] = {}
    for ns in metadata.namespaces:
        provider = metadata.providers.get(ns, Provider())
        if ns != ABI_DEPENDENCY and provider.static_properties is None:
            values = {feature: tuple(order) for feature, order in target.variants.get(ns, {}).items()}
            provider = Provider(optional=provider.optional, static_properties=values)
        providers[ns] = provider
    return replace(metadata, schema=SCHEMA_850, providers=providers)


def _readable_metadata(repository: Repository, release: Release) -> VariantMetadata | None:
    """The release's variant metadata; None when it cannot be read (the builder's file, as
    published, is then served unchanged: what the installer makes of it is part of the test)."""
    try:
        return repository.variant_metadata(release)
    except InvalidVariantMetadata:
        return None


def build_installer_index(scenario: Scenario, output: str | Path) -> IndexContents:
    """Build ``scenario``'s index into ``output`` with its target expressed (module docs)."""
    repository = scenario.problem.repository
    published = published_variants_json(scenario.path)
    contents = index_contents(repository, name=scenario.name, published=published)
    for project, entries in list(contents.projects.items()):
        releases: dict[str, Release] = {
            variants_json_filename(r.name, r.version): r for r in repository.releases(project)
        }
        rewritten: list[FileEntry] = []
        for entry in entries:
            release = releases.get(entry.filename)
            rewrite = release is not None and not entry.is_dist and (release.name, release.version) not in published
            metadata = _readable_metadata(repository, release) if release is not None and rewrite else None
            if metadata is not None:
                data = wheels.json_bytes(express_target(metadata, scenario.problem.target).to_json_dict(SCHEMA_850))
                contents.files[f"files/{entry.filename}"] = data
                entry = replace(entry, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
            rewritten.append(entry)
        contents.projects[project] = rewritten
        contents.files[f"simple/{project}/index.html"] = project_html(project, rewritten)
        contents.files[f"simple/{project}/index.json"] = project_json(project, rewritten)
    contents.write(output)
    return contents
