"""Resolutions -> pylock.toml documents (PEP 751 + PEP 825's ``[packages.variants-json]``).

Which wheels a package entry lists (docs/lock.md, "Which wheels"):

* the wheel the resolver chose for each target the entry covers (its best platform tag), and
* when that is a variant wheel, the release's best non-variant wheel for the target as a
  fallback for variant-unaware installers -- but only if the locked set of packages also
  satisfies that wheel's own dependencies, so that an installer picking it gets a working
  environment. PEP 825 orders non-variant wheels after every variant, so a variant-aware
  installer still selects the locked label.

Other compatible labels are deliberately not listed: an installer re-running PEP 825 selection
would pick the best of them, which is not the resolver's choice whenever unification or
variant-gated dependencies made it choose otherwise, and the lock would then install a different
environment from the one resolved and verified.

The document is built from packaging's ``Pylock`` model (``to_dict()``), then the PEP 825 table
is inserted and the result validated with :func:`varsolve.lockfile.document.validate` before any
byte is written.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ..errors import InputError, SourceError, VarsolveError
from ..problem import Problem, ResolverOptions
from ..repository import DistFile, Release, Repository
from ..resolution import Pin, Resolution
from ..variants.markers import NON_VARIANT, parse_requirement
from .targets import LockTarget, distinguishing_fields, lock_layout

log = logging.getLogger("varsolve")

CREATED_BY = "varsolve"
TOOL_FORMAT = 1


class Unsatisfiable(VarsolveError):
    """No resolution for a target: exit 1, like ``varsolve resolve``."""

    exit_code = 1


@dataclass(frozen=True)
class LockSource:
    """Where the files come from, as recorded in ``[tool.varsolve.source]``."""

    index_url: str | None = None
    find_links: Path | None = None

    def describe(self, lock_dir: Path) -> dict[str, str]:
        if self.index_url is not None:
            return {"index-url": self.index_url}
        if self.find_links is not None:
            return {"find-links": _relative(self.find_links, lock_dir)}
        return {}


@dataclass
class TargetResult:
    lock_target: LockTarget
    problem: Problem
    resolution: Resolution


@dataclass
class _Entry:
    """One ``[[packages]]`` element: a (name, version, chosen label) and the targets using it."""

    name: NormalizedName
    release: Release
    label: str | None
    targets: list[str] = field(default_factory=list)
    files: dict[str, DistFile] = field(default_factory=dict)  # filename -> file
    requires_python: str | None = None
    # target -> its non-variant fallback (None: no safe one); listed only if every target has one
    fallbacks: dict[str, DistFile | None] = field(default_factory=dict)


def resolve_targets(
    repository: Repository,
    requirements: Sequence[str],
    targets: Sequence[LockTarget],
    options: ResolverOptions,
    strategy: str,
) -> list[TargetResult]:
    from ..pipeline import solve
    from ..strategies import get_strategy

    results = []
    for lt in targets:
        problem = Problem(repository, lt.target, tuple(requirements), options)
        # ``strategy`` comes from the command line or a lock file: get_strategy checks the name.
        resolution = solve(problem, get_strategy(strategy))
        if not resolution.satisfiable:
            explanation = resolution.explanation.text if resolution.explanation is not None else ""
            raise Unsatisfiable(f"no solution for target {lt.name!r}:\n{explanation}".rstrip())
        hard = [v for v in resolution.violations if v.kind != "unify"]
        if hard:
            raise VarsolveError(f"target {lt.name!r}: the {strategy} resolution fails verification: {hard[0]}")
        for v in resolution.violations:
            log.warning("target %s: %s (strategy %s does not unify)", lt.name, v, strategy)
        results.append(TargetResult(lt, problem, resolution))
    return results


def lock_files(
    results: Sequence[TargetResult],
    repository: Repository,
    output: Path,
    source: LockSource,
    strategy: str,
    layout: str | None = None,
) -> dict[Path, dict[str, Any]]:
    """The lock documents to write: one shared file or one ``pylock.<target>.toml`` each."""
    layout = layout or lock_layout([r.lock_target for r in results])
    if layout == "shared":
        return {output: build_document(results, repository, output.parent, source, strategy, layout)}
    return {
        output.parent / f"pylock.{r.lock_target.name}.toml": build_document(
            [r], repository, output.parent, source, strategy, layout
        )
        for r in results
    }


def build_document(
    results: Sequence[TargetResult],
    repository: Repository,
    lock_dir: Path,
    source: LockSource,
    strategy: str,
    layout: str,
) -> dict[str, Any]:
    from packaging.markers import Marker

    lock_targets = [r.lock_target for r in results]
    fields = distinguishing_fields(lock_targets)
    marker_of = {lt.name: lt.marker(fields) for lt in lock_targets}
    entries = _entries(results, repository)
    all_targets = {lt.name for lt in lock_targets}

    packages = []
    for e in entries:
        marker = None
        if set(e.targets) != all_targets:
            parts = [marker_of[t] for t in sorted(e.targets)]
            marker = parts[0] if len(parts) == 1 else " or ".join(f"({p})" for p in parts)
        packages.append(
            locked_package(repository, e.release, e.files.values(), lock_dir, marker=marker,
                           requires_python=e.requires_python, index=source.index_url)
        )

    pythons = sorted({lt.target.python_version for lt in lock_targets}, key=lambda v: tuple(map(int, v.split("."))))
    return assemble_document(
        packages,
        lock_dir,
        requires_python=f">={pythons[0]}",
        environments=[Marker(lt.marker()) for lt in sorted(lock_targets, key=lambda t: t.marker())],
        tool=_tool_table(results, lock_dir, source, strategy, layout),
    )


# -- shared by every layout (docs/lock.md): one package entry, the document ----------------------


@dataclass(frozen=True)
class LockedPackage:
    """A ``[[packages]]`` element as packaging's model, with its PEP 825 table (None: no variant
    wheels listed)."""

    package: Any  # packaging.pylock.Package
    variants_json: dict[str, Any] | None


def locked_package(
    repository: Repository,
    release: Release,
    files: Iterable[DistFile],
    lock_dir: Path,
    *,
    marker: str | None,
    requires_python: str | None,
    index: str | None,
) -> LockedPackage:
    """One package entry listing ``files`` (wheels sorted by filename; at most one sdist) of
    ``release``, with ``[packages.variants-json]`` pruned to the labels listed."""
    from packaging.markers import Marker
    from packaging.pylock import Package, PackageSdist, PackageWheel
    from packaging.specifiers import SpecifierSet

    by_name = {f.filename: f for f in files}
    wheels = [f for _, f in sorted(by_name.items()) if f.is_wheel]
    sdists = [f for _, f in sorted(by_name.items()) if not f.is_wheel]
    package = Package(
        name=canonicalize_name(release.name),
        version=release.version,
        marker=Marker(marker) if marker else None,
        requires_python=SpecifierSet(requires_python) if requires_python else None,
        index=index,
        sdist=PackageSdist(**_file_fields(sdists[0], lock_dir, sdist=True)) if sdists else None,
        wheels=[PackageWheel(**_file_fields(f, lock_dir)) for f in wheels] or None,
    )
    labels = {f.label for f in wheels if f.label is not None}
    return LockedPackage(package, _variants_json(repository, release, labels) if labels else None)


def assemble_document(
    packages: Sequence[LockedPackage],
    lock_dir: Path,
    *,
    requires_python: str,
    environments: Sequence[Any] | None,
    tool: dict[str, Any],
) -> dict[str, Any]:
    """The lock document: packaging's ``Pylock`` model (``to_dict()``), each package's PEP 825
    table inserted, validated (:func:`varsolve.lockfile.document.validate`) before any byte is
    written."""
    from packaging.pylock import Pylock
    from packaging.specifiers import SpecifierSet

    from .document import VARIANTS_JSON, validate

    pylock = Pylock(
        lock_version=_lock_version(),
        environments=list(environments) if environments is not None else None,
        requires_python=SpecifierSet(requires_python),
        extras=[],
        dependency_groups=[],
        default_groups=[],
        created_by=CREATED_BY,
        packages=[p.package for p in packages],
        tool={"varsolve": tool},
    )
    data = dict(pylock.to_dict())
    data["packages"] = [
        _with_variants_json(p, lp.variants_json, VARIANTS_JSON) for p, lp in zip(data["packages"], packages, strict=True)
    ]
    validate(data, str(lock_dir / "pylock.toml"))
    return data


def release_finder(repository: Repository) -> Callable[[str, Version], Release]:
    """``find(name, version)``: the release in the source (cached); a SourceError when gone."""
    releases: dict[tuple[str, str], Release] = {}

    def find(name: str, version: Version) -> Release:
        key = (name, str(version))
        if key not in releases:
            found = [r for r in repository.releases(canonicalize_name(name)) if r.version == version]
            if not found:
                raise SourceError(f"{name} {version}: release not found in the source")
            releases[key] = found[0]
        return releases[key]

    return find


def _lock_version() -> Version:
    return Version("1.0")


def _with_variants_json(package: dict[str, Any], vj: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """PEP 825 places the table inside the package; packaging's model has no field for it."""
    if vj is None:
        return package
    out: dict[str, Any] = {}
    for k, v in package.items():
        if k == "tool":
            out[key] = vj
        out[k] = v
    out.setdefault(key, vj)
    return out


def _variants_json(repository: Repository, release: Release, labels: set[str]) -> dict[str, Any]:
    metadata = repository.variant_metadata(release)
    if metadata is None:
        raise SourceError(f"{release.name} {release.version}: variant wheels without variant metadata")
    missing = sorted(labels - set(metadata.variants))
    if missing:
        raise SourceError(f"{release.name} {release.version}: label {missing[0]!r} is not in the variant metadata")
    return metadata.prune(labels).to_json_dict()


# -- which files each package lists ------------------------------------------------------------


def _entries(results: Sequence[TargetResult], repository: Repository) -> list[_Entry]:
    find = release_finder(repository)
    entries: dict[tuple[str, str, str | None], _Entry] = {}
    for result in results:
        target = result.lock_target
        extras = _requested_extras(result)
        for name in sorted(result.resolution.packages):
            pin = result.resolution.packages[name]
            release = find(name, pin.version)
            chosen = locked_file(release, pin.filename)
            key = (name, str(pin.version), pin.variant)
            entry = entries.get(key)
            if entry is None:
                meta = repository.metadata(release, chosen)
                rp = str(meta.requires_python) if meta.requires_python else None
                entry = entries[key] = _Entry(canonicalize_name(name), release, pin.variant, requires_python=rp)
            entry.targets.append(target.name)
            entry.files[chosen.filename] = chosen
            if chosen.label is not None:
                entry.fallbacks[target.name] = _fallback(result, release, extras.get(name, set()))
    for entry in entries.values():
        if entry.fallbacks and all(f is not None for f in entry.fallbacks.values()):
            entry.files.update({f.filename: f for f in entry.fallbacks.values() if f is not None})
    return sorted(entries.values(), key=lambda e: (e.name, e.release.version, e.label or "", e.label is None))


def locked_file(release: Release, filename: str) -> DistFile:
    for f in release.files:
        if f.filename == filename:
            return f
    raise SourceError(f"{release.name} {release.version}: file {filename} not found in the source")


def _requested_extras(result: TargetResult) -> dict[str, set[str]]:
    """Extras requested of each pinned package: those of the resolution's edges into it."""
    extras: dict[str, set[str]] = {}
    for edge in result.resolution.graph:
        extras.setdefault(edge.child, set()).update(edge.extras)
    return extras


def _fallback(result: TargetResult, release: Release, extras: set[str]) -> DistFile | None:
    """The release's best non-variant wheel for the target, if the locked set satisfies it."""
    problem = result.problem
    target = problem.target
    rank = target.tag_rank()
    candidates = [
        (min(rank[t] for t in f.wheel.tags if t in rank), f.filename, f)
        for f in release.files
        if f.wheel is not None and f.label is None and any(t in rank for t in f.wheel.tags)
    ]
    if not candidates:
        return None
    file = min(candidates)[2]
    meta = problem.repository.metadata(release, file)
    for spec in (file.requires_python, meta.requires_python):
        if spec is not None and not spec.contains(target.python, prereleases=True):
            return None
    env = target.marker_environment()
    pins = result.resolution.packages
    for text in meta.requires_dist:
        req = parse_requirement(text)
        if not any(req.evaluate(env, NON_VARIANT, e) for e in ("", *sorted(extras))):
            continue
        pin = pins.get(req.name)
        if pin is None or not req.specifier.contains(pin.version, prereleases=True):
            log.info("not listing %s: it needs %s, which the lock does not satisfy", file.filename, text)
            return None
    return file


# -- one file entry ----------------------------------------------------------------------------


def _file_fields(file: DistFile, lock_dir: Path, sdist: bool = False) -> dict[str, Any]:
    url, path, local = _location(file, lock_dir)
    hashes = {k.lower(): v.lower() for k, v in sorted(file.hashes.items()) if k.lower() in hashlib.algorithms_guaranteed}
    size = file.size
    if not hashes or size is None:
        if local is None:
            raise SourceError(f"{file.filename}: the source gives no hash or size and the file is not local")
        data = _read(local)
        hashes = hashes or {"sha256": hashlib.sha256(data).hexdigest()}
        size = len(data) if size is None else size
    out: dict[str, Any] = {"name": file.filename}
    if file.upload_time:
        out["upload_time"] = _parse_time(file.upload_time, file.filename)
    out["url"], out["path"], out["size"], out["hashes"] = url, path, size, hashes
    return out


def _location(file: DistFile, lock_dir: Path) -> tuple[str | None, str | None, Path | None]:
    """(url, path relative to the lock, local file) -- exactly one of url/path is set."""
    raw = file.url
    if raw is None:
        raise SourceError(
            f"{file.filename}: the source has no real file to lock (scenario data); lock from "
            "--index-url or --find-links, e.g. over `varsolve index build`"
        )
    parsed = urlparse(raw)
    if parsed.scheme in ("http", "https"):
        return raw, None, None
    local = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(raw)
    return None, _relative(local, lock_dir), local


def _relative(path: Path, lock_dir: Path) -> str:
    """PEP 751: relative paths are relative to the lock file, POSIX separators."""
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(lock_dir))).as_posix()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from None


def _parse_time(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SourceError(f"{where}: invalid upload-time {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# -- [tool.varsolve] ---------------------------------------------------------------------------


def _tool_table(
    results: Sequence[TargetResult], lock_dir: Path, source: LockSource, strategy: str, layout: str
) -> dict[str, Any]:
    first = results[0].problem
    opts = first.options
    targets: dict[str, Any] = {}
    for r in sorted(results, key=lambda r: r.lock_target.name):
        described = r.lock_target.describe()
        described["unified"] = dict(sorted(r.resolution.unified.items()))
        described["packages"] = {
            name: _pin_table(r.resolution.packages[name]) for name in sorted(r.resolution.packages)
        }
        targets[r.lock_target.name] = described
    return {**tool_common(first.requirements, opts, lock_dir, source, strategy, layout), "targets": targets}


def tool_common(
    requirements: Sequence[str], options: ResolverOptions, lock_dir: Path, source: LockSource, strategy: str, layout: str
) -> dict[str, Any]:
    """The keys of ``[tool.varsolve]`` every layout writes, in their order."""
    return {
        "format": TOOL_FORMAT,
        "strategy": strategy,
        "layout": layout,
        "requirements": list(requirements),
        "source": source.describe(lock_dir),
        "options": options_table(options),
    }


def options_table(opts: ResolverOptions) -> dict[str, Any]:
    """Every resolver option, so that ``lock --check`` resolves under the same policy."""
    import dataclasses

    out: dict[str, Any] = {}
    for f in dataclasses.fields(opts):
        value = getattr(opts, f.name)
        if f.name == "unify":
            value = [str(feature) for feature in value]
        elif isinstance(value, (frozenset, set, tuple)):
            value = sorted(str(v) for v in value)
        out[f.name.replace("_", "-")] = value
    return out


def options_from_table(table: Any, where: str) -> ResolverOptions:
    import dataclasses

    from ..variants.properties import VariantFeature

    if not isinstance(table, dict):
        raise InputError("tool.varsolve.options: must be a table", where=where)
    known = {f.name: f for f in dataclasses.fields(ResolverOptions)}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            raise InputError(f"tool.varsolve.options.{key}: unknown option", where=where)
        if name == "unify":
            value = tuple(VariantFeature.parse(v) for v in value)
        elif isinstance(value, list):
            value = frozenset(value)
        kwargs[name] = value
    return ResolverOptions(**kwargs)


def _pin_table(pin: Pin) -> dict[str, str]:
    out = {"version": str(pin.version), "filename": pin.filename}
    if pin.variant is not None:
        out["variant"] = pin.variant
    return out
