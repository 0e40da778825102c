"""Universal locks: one ``pylock.toml`` for every environment (docs/lock.md, "Universal locks").

A universal resolution (:mod:`varsolve.universal`) is a list of forks, each a region of
environments (and a variant target) with an ordinary resolution. The lock lists:

* one ``[[packages]]`` entry per pinned (name, version), all the labels chosen for that version
  in it (PEP 825 lists the variant wheels of a version in one entry), with the union of the
  markers where they are installed as ``marker`` (none when installed everywhere);
* the wheels of the chosen labels whose tags can serve some environment of the label's marker
  (``wheel_markers(...) & marker`` not empty: uv.lock's rule, packse's ``unreachable-wheels``),
  the non-variant wheels too (the chosen ones, or for a variant entry a fallback for
  variant-unaware installers, listed only when every environment that would install it has its
  dependencies in the lock), and the sdist when the release has one and it may be built;
* ``[tool.varsolve.universal]``: the universe (requires-python, environments) and every fork:
  its marker, variant target, unified values and packages (version, label, marker), which is
  what ``varsolve install`` installs, never a combination no fork resolved and verified.

The module also re-resolves a universal lock for ``lock --check`` and says what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, VarsolveError
from ..problem import Problem, ResolverOptions
from ..repository import DistFile, Release, Repository
from ..target import Target
from .targets import LockTarget, validate_target_name
from .writer import (
    LockedPackage,
    LockSource,
    Unsatisfiable,
    assemble_document,
    locked_file,
    locked_package,
    release_finder,
    tool_common,
)

if TYPE_CHECKING:
    from ..marker_algebra import MarkerSet
    from ..resolution import Pin
    from ..universal.result import Fork, UniversalEntry, UniversalResolution

log = logging.getLogger("varsolve")

LAYOUT = "universal"

__all__ = [
    "LAYOUT",
    "Universe",
    "is_universal",
    "resolve_for_lock",
    "universal_changes",
    "universal_document",
    "universe_from_tool",
]


@dataclass(frozen=True)
class Universe:
    """What a universal lock is resolved for: the Pythons, the required environments, the
    variant targets (in the order given: ``varsolve install`` tries them in this order) or,
    without any, the one ``base`` target whose supported properties apply everywhere.

    ``*_key``: how errors name the input (a flag, a scenario key, a lock key)."""

    requires_python: str
    environments: tuple[str, ...] = ()
    targets: tuple[LockTarget, ...] = ()
    requires_python_key: str = "requires_python"
    environments_key: str = "environments"


def is_universal(tool: Mapping[str, Any]) -> bool:
    """``[tool.varsolve]`` of a universal lock."""
    return tool.get("layout") == LAYOUT or "universal" in tool


# -- resolving ---------------------------------------------------------------------------------


def resolve_for_lock(problem: Problem, strategy: str, universe: Universe) -> UniversalResolution:
    """The universal resolution to lock: exit 1 (:class:`Unsatisfiable`) with the explanation
    when there is none, refused when the verifier rejects it in some environment; unification
    findings of a strategy that does not unify and packages without a file for an environment
    outside the required ones are warnings."""
    from ..strategies import get_strategy
    from ..universal.driver import resolve_universal

    result = resolve_universal(
        problem,
        get_strategy(strategy),
        requires_python=universe.requires_python,
        environments=universe.environments,
        targets=[(t.name, t.target) for t in universe.targets],
        requires_python_key=universe.requires_python_key,
        environments_key=universe.environments_key,
    )
    if not result.satisfiable:
        raise Unsatisfiable(result.to_text())
    for i, where, violation in result.violations:
        if violation.kind != "unify":
            fork = result.forks[i]
            region = str(fork.region) or "every environment"
            target = f", target {fork.target_name!r}" if fork.target_name else ""
            raise VarsolveError(
                f"the {strategy} universal resolution fails verification in {where} "
                f"(fork {region}{target}): {violation}"
            )
    for _, where, violation in result.violations:
        log.warning("%s: %s (strategy %s does not unify)", where, violation, strategy)
    for _, where, gap in result.gaps:
        log.warning("%s: %s", where, gap)
    return result


# -- the document ------------------------------------------------------------------------------


def universal_document(
    result: UniversalResolution,
    repository: Repository,
    lock_dir: Path,
    source: LockSource,
    strategy: str,
    *,
    problem: Problem,
    universe: Universe,
) -> dict[str, Any]:
    from packaging.markers import Marker

    find = release_finder(repository)
    groups: dict[tuple[str, str], list[UniversalEntry]] = {}
    for entry in result.entries():  # sorted by name, version, label
        groups.setdefault((entry.name, str(entry.pin.version)), []).append(entry)
    whole = result.universe
    packages: list[LockedPackage] = []
    for (name, _), entries in groups.items():
        release = find(name, entries[0].pin.version)
        packages.append(_package(result, repository, release, entries, lock_dir, source, whole))
    return assemble_document(
        packages,
        lock_dir,
        requires_python=result.requires_python,
        environments=[Marker(e) for e in result.environments] or None,
        tool=_tool_table(result, lock_dir, source, strategy, problem, universe),
    )


def _package(
    result: UniversalResolution,
    repository: Repository,
    release: Release,
    entries: list[UniversalEntry],
    lock_dir: Path,
    source: LockSource,
    whole: MarkerSet,
) -> LockedPackage:
    from ..marker_algebra import MarkerSet

    name = entries[0].name
    marker = MarkerSet.empty()
    files: dict[str, DistFile] = {}
    variant_only = True
    for entry in entries:
        marker = marker | entry.marker
        label = entry.pin.variant
        if label is None:  # the sdist was chosen
            files[entry.pin.filename] = locked_file(release, entry.pin.filename)
            variant_only = False
            continue
        variant_only &= label != ""
        for f in release.files:
            if f.wheel is not None and (f.wheel.label or "") == label and _serves(f, entry.marker):
                files[f.filename] = f
    options = _options(result)
    wheels = [f for f in release.files if f.wheel is not None and f.label is None and _serves(f, marker)]
    sdists = [f for f in release.files if f.wheel is None]
    fallbacks = (wheels if options.allows_binary(name) else []) + (sdists[:1] if options.allows_build(name) else [])
    if fallbacks and variant_only:
        # What a variant-unaware installer would take instead: read one of its files' metadata
        # (a wheel's; an sdist's only when that needs no build).
        probe = fallbacks[0] if fallbacks[0].wheel is not None or repository.metadata_is_cheap(release, fallbacks[0]) else None
        if probe is None or not _fallback_is_safe(result, repository, release, entries, probe):
            fallbacks = []
    files.update({f.filename: f for f in fallbacks})
    chosen = entries[0].pin
    requires_python = _requires_python(repository, release, locked_file(release, chosen.filename), marker)
    return locked_package(
        repository, release, files.values(), lock_dir,
        marker=marker_text(marker, whole) or None, requires_python=requires_python,
        index=source.index_url,
    )


def _serves(file: DistFile, marker: MarkerSet) -> bool:
    """Some environment of ``marker`` can install ``file`` (its tags; an sdist: any)."""
    if file.wheel is None:
        return True
    from ..universal.tags import wheel_markers

    return not (wheel_markers(file.filename, file.wheel.tags) & marker).is_empty()


def _options(result: UniversalResolution) -> ResolverOptions:
    return result.forks[0].problem.options if result.forks else ResolverOptions()


def _requires_python(repository: Repository, release: Release, file: DistFile, marker: MarkerSet) -> str | None:
    """The package's ``requires-python`` (the chosen file's core metadata) when every
    environment of the entry's marker satisfies it: PEP 751 installers raise an error where a
    selected package's requires-python fails, and a Requires-Python policy that reads only lower
    bounds may have chosen it where its upper bound fails."""
    from ..universal.region import python_markers

    spec = repository.metadata(release, file).requires_python
    if spec is None or not str(spec):
        return None
    return str(spec) if marker.implies(python_markers(str(spec))) else None


def _fallback_is_safe(
    result: UniversalResolution,
    repository: Repository,
    release: Release,
    entries: list[UniversalEntry],
    fallback: DistFile,
) -> bool:
    """For a version locked only as variant wheels: whether a variant-unaware installer that
    takes the non-variant wheel (or builds the sdist; ``fallback`` is one of those files) instead
    still gets a working environment, in every environment of every fork that installs this
    version (each environment the fork's markers tell apart): the fallback's own dependencies,
    read for the non-variant state, are satisfied by what the fork installs there."""
    from ..universal.verify import environments_of
    from ..variants.markers import NON_VARIANT, parse_requirement

    name = entries[0].name
    metadata = repository.metadata(release, fallback)
    for spec in (fallback.requires_python, metadata.requires_python):
        if spec is not None and str(spec) and not _python_ok(entries, str(spec)):
            return False
    requirements = [parse_requirement(text) for text in metadata.requires_dist]
    for fork in result.forks:
        pin = fork.resolution.packages.get(name)
        if pin is None or pin.version != release.version:
            continue
        extras = sorted({x for e in fork.resolution.graph if e.child == name for x in e.extras})
        for env in environments_of(fork):
            if not fork.markers[name].evaluate(env):
                continue
            installed = {n: p for n, p in fork.resolution.packages.items() if fork.markers[n].evaluate(env)}
            for req in requirements:
                if not any(req.evaluate(env, NON_VARIANT, extra) for extra in ("", *extras)):
                    continue
                have = installed.get(req.name)
                if have is None or not req.specifier.contains(have.version, prereleases=True):
                    log.info("not listing %s's non-variant files: they need %s", name, req.text)
                    return False
    return True


def _python_ok(entries: list[UniversalEntry], spec: str) -> bool:
    from ..universal.region import python_markers

    return all(e.marker.implies(python_markers(spec)) for e in entries)


# -- [tool.varsolve] ---------------------------------------------------------------------------


def describe_target(target: Target) -> dict[str, Any]:
    """A target as a universal lock records it (its markers are the forks' business)."""
    return {
        "python": target.python_version,
        "platform": target.platform.name,
        "enable": sorted(target.enabled),
        "variants": {ns: {f: list(v) for f, v in feats.items()} for ns, feats in target.variants.items()},
    }


def _tool_table(
    result: UniversalResolution, lock_dir: Path, source: LockSource, strategy: str, problem: Problem, universe: Universe
) -> dict[str, Any]:
    table: dict[str, Any] = {"requires-python": result.requires_python, "environments": list(result.environments)}
    if not universe.targets:
        table["target"] = describe_target(problem.target)
    whole = result.universe
    table["forks"] = [_fork_table(fork, whole) for fork in result.forks]
    out = tool_common(problem.requirements, problem.options, lock_dir, source, strategy, LAYOUT)
    out["universal"] = table
    if universe.targets:  # in the order given: install tries them in this order
        out["targets"] = {t.name: describe_target(t.target) for t in universe.targets}
    return out


def marker_text(marker: MarkerSet, universe: MarkerSet) -> str:
    """``marker`` as a lock writes it: packaging's form of :func:`varsolve.universal.result.
    relative_marker` ("" when it holds in the whole universe)."""
    from packaging.markers import Marker

    from ..universal.result import relative_marker

    text = relative_marker(marker, universe)
    return str(Marker(text)) if text else ""


def _fork_table(fork: Fork, universe: MarkerSet) -> dict[str, Any]:
    out: dict[str, Any] = {"marker": marker_text(fork.region, universe)}
    if fork.target_name is not None:
        out["target"] = fork.target_name
    out["unified"] = dict(sorted(fork.resolution.unified.items()))
    out["packages"] = {
        name: _pin_table(fork.resolution.packages[name], marker_text(fork.markers[name], universe))
        for name in sorted(fork.resolution.packages)
    }
    return out


def _pin_table(pin: Pin, marker: str) -> dict[str, str]:
    out = {"version": str(pin.version)}
    if pin.variant is None:
        out["filename"] = pin.filename  # the sdist
    else:
        out["variant"] = pin.variant
    out["marker"] = marker
    return out


# -- lock --check ------------------------------------------------------------------------------


def universe_from_tool(tool: Mapping[str, Any], where: str) -> tuple[Universe, Target]:
    """The universe and the base target a universal lock records."""
    table = tool.get("universal")
    if not isinstance(table, dict):
        raise InputError("tool.varsolve.universal: missing (not a universal lock)", where=where)
    requires_python = table.get("requires-python")
    if not isinstance(requires_python, str):
        raise InputError("tool.varsolve.universal.requires-python: missing", where=where)
    environments = tuple(str(e) for e in table.get("environments", []))
    targets = tuple(_target(name, info, where) for name, info in tool.get("targets", {}).items())
    base = _target("base", table.get("target", {}), where, key="tool.varsolve.universal.target").target
    universe = Universe(
        requires_python, environments, targets,
        requires_python_key=f"{where}: tool.varsolve.universal.requires-python",
        environments_key=f"{where}: tool.varsolve.universal.environments",
    )
    return universe, base


def _target(name: str, info: Any, where: str, key: str | None = None) -> LockTarget:
    key = key or f"tool.varsolve.targets.{name}"
    if not isinstance(info, dict):
        raise InputError(f"{key}: must be a table", where=where)
    if key.startswith("tool.varsolve.targets."):
        validate_target_name(name, where)
    target = Target.make(
        info.get("python"), info.get("platform"), info.get("variants", {}), info.get("enable", []), where=f"{where}: {key}"
    )
    return LockTarget(name, target)


def universal_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What changed between two universal ``[tool.varsolve]`` tables: the universe, the forks
    (by target and marker), each fork's pins and unified values, one line each."""
    changes: list[str] = []
    was, now = old.get("universal", {}), new.get("universal", {})
    for key in ("requires-python", "environments"):
        if was.get(key) != now.get(key):
            changes.append(f"universal {key}: locked {was.get(key)!r}, now {now.get(key)!r}")
    old_forks = {_fork_key(f): f for f in was.get("forks", []) if isinstance(f, dict)}
    new_forks = {_fork_key(f): f for f in now.get("forks", []) if isinstance(f, dict)}
    several = len(old_forks) > 1 or len(new_forks) > 1
    for fork_key in [*old_forks, *(k for k in new_forks if k not in old_forks)]:
        a, b = old_forks.get(fork_key), new_forks.get(fork_key)
        prefix = _fork_prefix(fork_key, several)
        if a is None:
            changes.append(f"{prefix}new fork")
            continue
        if b is None:
            changes.append(f"{prefix}fork no longer there")
            continue
        pa, pb = a.get("packages", {}), b.get("packages", {})
        for pkg in sorted(set(pa) | set(pb)):
            x, y = pa.get(pkg), pb.get(pkg)
            if x == y:
                continue
            if x is None:
                changes.append(f"{prefix}{pkg}: new, {_pin_text(y)}")
            elif y is None:
                changes.append(f"{prefix}{pkg}: no longer needed (locked {_pin_text(x)})")
            else:
                changes.append(f"{prefix}{pkg}: locked {_pin_text(x)}, now {_pin_text(y)}")
        ua, ub = a.get("unified", {}), b.get("unified", {})
        for feature in sorted(set(ua) | set(ub)):
            if ua.get(feature) != ub.get(feature):
                changes.append(f"{prefix}unified {feature}: locked {ua.get(feature)!r}, now {ub.get(feature)!r}")
    return changes


def _fork_key(fork: Mapping[str, Any]) -> tuple[str, str]:
    return (str(fork.get("target", "")), str(fork.get("marker", "")))


def _fork_prefix(key: tuple[str, str], several: bool) -> str:
    target, marker = key
    parts = []
    if target:
        parts.append(f"target {target}")
    if several:
        parts.append(f"where {marker}" if marker else "everywhere")
    return f"{', '.join(parts)}: " if parts else ""


def _pin_text(pin: Mapping[str, Any]) -> str:
    variant = pin.get("variant")
    label = f" [{variant}]" if variant else (" (sdist)" if variant is None else "")
    marker = pin.get("marker")
    return f"{pin.get('version')}{label}" + (f" ; {marker}" if marker else "")

