"""Why nothing of a package can be used: one sentence naming the versions, files, tags,
policies or variant properties in the way, e.g. ``c 2.0b2 (and 2.0b1) is a pre-release``."""

from __future__ import annotations

from collections.abc import Sequence

from ..candidates import CandidateFinder, Dependency
from ..errors import InvalidVariantMetadata
from ..providers import supported_for_release
from ..repository import DistFile, Release
from ..variants.ordering import is_compatible


def why_no_candidate(finder: CandidateFinder, dep: Dependency) -> str:
    """One sentence on why nothing of ``dep.name`` satisfies ``dep``."""
    name = dep.name
    releases = finder.repo.releases(name)
    if not releases:
        return f"there is no package named {name}"
    matching = [r for r in releases if dep.contains(r.version)]
    if not matching:
        return f"no version of {name} matches {spec_phrase(dep)} (available: {_versions(releases)})"
    return _unusable(finder, matching, [dep])


def why_no_common_candidate(finder: CandidateFinder, deps: Sequence[Dependency]) -> str:
    """One sentence on why nothing of ``deps[0].name`` satisfies all of ``deps`` together."""
    name = deps[0].name
    releases = finder.repo.releases(name)
    if not releases:
        return f"there is no package named {name}"
    common = [r for r in releases if all(d.contains(r.version) for d in deps)]
    if not common:
        return f"no version of {name} satisfies all of these (available: {_versions(releases)})"
    return _unusable(finder, common, deps)


def _versions(releases: Sequence[Release]) -> str:
    return ", ".join(str(v) for v in sorted({r.version for r in releases}, reverse=True)[:6])


def _unusable(finder: CandidateFinder, releases: Sequence[Release], deps: Sequence[Dependency]) -> str:
    """Why the newest few ``releases`` (each within every range of ``deps``) cannot be used;
    releases with the same reason share one clause: ``c 2.0b2 (and 2.0b1) is a pre-release``."""
    name = deps[0].name
    by_reason: dict[str, list[str]] = {}
    for release in sorted(releases, key=lambda r: r.version, reverse=True)[:6]:
        cands = [c for c in finder.candidates(name) if c.version == release.version]
        usable = [c for c in cands if finder.rejection(c) is None]
        rejections = [r for c in cands if (r := finder.rejection(c)) is not None]
        if any(finder.admissible(c, deps) for c in usable):
            reason = "conflicts with the rest of the resolution"
        elif rejections and not usable:
            reason = f"cannot be used ({'; '.join(dict.fromkeys(rejections))})"
        else:
            reason = _why_release_unusable(finder, release, deps[0])
        by_reason.setdefault(reason, []).append(str(release.version))
    clauses = []
    for reason, versions in by_reason.items():
        others = f" (and {', '.join(versions[1:])})" if len(versions) > 1 else ""
        clauses.append(f"{name} {versions[0]}{others} {reason}")
    return "; ".join(clauses)


def _why_release_unusable(finder: CandidateFinder, release: Release, dep: Dependency) -> str:
    target = finder.target
    opts = finder.options
    cands = [c for c in finder.candidates(release.name) if c.version == release.version]
    if cands:
        if all(c.yanked for c in cands):
            return "is yanked" + _YANKED_WHY.get(opts.yanked, "")
        if release.version.is_prerelease:
            return "is a pre-release" + _prerelease_why(finder, release)
        return "is excluded"
    py = target.python
    if release.files and all(not opts.allows_python(f.requires_python, py) for f in release.files):
        return f"requires Python {release.files[0].requires_python} (target: {py})"
    # The metadata of a file that needs no build (an sdist is never built just to explain).
    readable = [f for f in release.files if finder.repo.metadata_is_cheap(release, f)]
    meta = finder.repo.metadata(release, readable[0]) if readable else None
    if meta and not opts.allows_python(meta.requires_python, py):
        return f"requires Python {meta.requires_python} (target: {py})"
    wheels = [f for f in release.files if f.is_wheel]
    sdists = [f for f in release.files if not f.is_wheel]
    parts = []
    tags = set(target.tags())
    tagged = [w for w in wheels if w.wheel is not None and w.wheel.tags & tags]
    if wheels and not tagged:
        parts.append(f"has no wheel for {target.platform.name} / Python {target.python_version}")
    variant_wheels = [w for w in tagged if w.label is not None]
    if variant_wheels and not any(w.label is None for w in tagged):
        parts.append(_why_variants_unusable(finder, release, variant_wheels))
    if not wheels:
        parts.append("has no wheels")
    elif not opts.allows_binary(release.name):
        parts.append("may not use wheels (no-binary)")
    if sdists and not opts.allows_build(release.name):
        parts.append("may not be built from source (no-build)")
    elif not sdists:
        parts.append("has no sdist")
    return " and ".join(parts) or "cannot be installed on the target"


_YANKED_WHY = {
    "packse": " (a yanked version is used only when a root requirement pins it with ==)",
    "pip": " (a yanked version is used only when a requirement pins it with ==)",
    "pinned": " (a yanked version is used only when a requirement pins it with ==)",
    "never": " (yanked versions are never used)",
}


def _prerelease_why(finder: CandidateFinder, release: Release) -> str:
    if finder.options.prerelease_policy == "packse":
        name = release.name
        newest = max(r.version for r in finder.repo.releases(name) if r.version.is_prerelease)
        return (
            f" (pre-releases of {name} are used only if a root requirement names one,"
            f" e.g. {name}>={newest}, or if {name} has no final release)"
        )
    return " (no requirement on it names a pre-release and a final release satisfies them)"


def _why_variants_unusable(finder: CandidateFinder, release: Release, wheels: Sequence[DistFile]) -> str:
    try:
        metadata = finder.repo.variant_metadata(release)
    except InvalidVariantMetadata as exc:
        return f"has variant wheels whose metadata is invalid ({exc})"
    if metadata is None:
        return "has variant wheels without variant metadata"
    supported = supported_for_release(metadata, finder.target)
    labels = sorted({w.label for w in wheels if w.label is not None})
    descs = []
    for label in labels:
        props = metadata.variants.get(label, {})
        if not is_compatible(props, supported):
            needs = ", ".join(
                f"{ns} :: {f} :: {'|'.join(v)}" for ns, fs in sorted(props.items()) for f, v in sorted(fs.items())
            )
            descs.append(f"{label} ({needs})")
    if not descs:
        return "has variant wheels"
    return "has only variants the target does not support: " + "; ".join(descs)


def spec_phrase(dep: Dependency) -> str:
    specs = [str(s) for s in dep.specifiers if str(s)]
    return " or ".join(specs) if specs else "any version"
