"""Explanations a person can follow: why no resolution exists.

Two sources: the final conflict of a backtracking resolver (resolvelib's causes) and, for the
SAT strategy, a minimal unsatisfiable set of constraint groups. Both name the packages,
versions, variant labels and properties involved, e.g. ``numpy 2.0.0 has only the mkl variant;
scipy 1.5.0 has only openblas; blas_lapack :: library must take one value``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packaging.utils import canonicalize_name

from .candidates import CandidateFinder, Dependency
from .errors import InvalidVariantMetadata
from .providers import supported_for_release
from .variants.ordering import is_compatible


def why_no_candidate(finder: CandidateFinder, dep: Dependency) -> str:
    """One sentence on why nothing of ``dep.name`` satisfies ``dep``."""
    name = dep.name
    releases = finder.repo.releases(name)
    if not releases:
        return f"there is no package named {name}"
    matching = [r for r in releases if dep.contains(r.version)]
    if not matching:
        versions = ", ".join(str(v) for v in sorted({r.version for r in releases}, reverse=True)[:6])
        return f"no version of {name} matches {_spec(dep)} (available: {versions})"
    reasons = []
    for release in sorted(matching, key=lambda r: r.version, reverse=True)[:3]:
        reasons.append(f"{name} {release.version} {_why_release_unusable(finder, release, dep)}")
    return "; ".join(reasons)


def _why_release_unusable(finder: CandidateFinder, release: Any, dep: Dependency) -> str:
    target = finder.target
    opts = finder.options
    cands = [c for c in finder.candidates(release.name) if c.version == release.version]
    if cands:
        if all(c.yanked for c in cands):
            return "is yanked"
        if release.version.is_prerelease:
            return "is a pre-release"
        return "is excluded"
    py = target.python
    if release.files and all(f.requires_python and not f.requires_python.contains(py, prereleases=True) for f in release.files):
        return f"requires Python {release.files[0].requires_python} (target: {py})"
    meta = finder.repo.metadata(release, release.files[0]) if release.files else None
    if meta and meta.requires_python and not meta.requires_python.contains(py, prereleases=True):
        return f"requires Python {meta.requires_python} (target: {py})"
    wheels = [f for f in release.files if f.is_wheel]
    sdists = [f for f in release.files if not f.is_wheel]
    parts = []
    tags = set(target.tags())
    tagged = [w for w in wheels if w.wheel.tags & tags]
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


def _why_variants_unusable(finder: CandidateFinder, release: Any, wheels: list[Any]) -> str:
    try:
        metadata = finder.repo.variant_metadata(release)
    except InvalidVariantMetadata as exc:
        return f"has variant wheels whose metadata is invalid ({exc})"
    if metadata is None:
        return "has variant wheels without variant metadata"
    supported = supported_for_release(metadata, finder.target)
    labels = sorted({w.label for w in wheels})
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


def _spec(dep: Dependency) -> str:
    specs = [str(s) for s in dep.specifiers if str(s)]
    return " or ".join(specs) if specs else "any version"


def explain_conflict(finder: CandidateFinder, causes: Iterable[Any], one_per_version: bool = False) -> str:
    """Render resolvelib's final causes (RequirementInformation(requirement, parent))."""
    from .strategies.greedy import ExactRequirement, PackageRequirement, UnifyRequirement

    lines: list[str] = []
    unify_lines: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    seen: set[str] = set()
    for cause in causes:
        req, parent = cause.requirement, cause.parent
        who = _describe(parent) if parent is not None else "the root"
        if isinstance(req, UnifyRequirement):
            values = ", ".join(sorted(req.values))
            only = "only the value" if len(req.values) == 1 else "only the values"
            unify_lines.setdefault(str(req.feature), []).append(
                f"{req.source.describe()} has {only} {values} for {req.feature}"
            )
            continue
        if isinstance(req, ExactRequirement):
            text = f"{who} needs exactly {req.candidate.describe()}"
            name = req.candidate.name
        else:
            assert isinstance(req, PackageRequirement)
            text = f"{who} requires {req.dep.text or req.dep.name}"
            name = req.dep.name
        if text not in seen:
            seen.add(text)
            by_name.setdefault(name, []).append(text)
    for feature, items in sorted(unify_lines.items()):
        lines.extend(items)
        lines.append(f"{feature} must take one value across the environment")
    for name, items in sorted(by_name.items()):
        lines.extend(items)
        deps = [c.requirement.dep for c in causes if isinstance(c.requirement, PackageRequirement) and c.requirement.dep.name == name]
        if len(items) > 1:
            lines.append(f"no candidate of {name} satisfies all of these")
        elif deps:
            lines.append(why_no_candidate(finder, deps[0]) if not _has_candidates(finder, deps[0]) else f"no candidate of {name} fits the rest of the resolution")
    if one_per_version:
        lines.append("(the status quo considers only the best wheel of each version)")
    return "\n".join(lines)


def _has_candidates(finder: CandidateFinder, dep: Dependency) -> bool:
    return any(finder.matches(dep, c) for c in finder.candidates(dep.name))


def _describe(parent: Any) -> str:
    base = getattr(parent, "base", None)
    if base is not None:
        return f"{base.describe()} with extras [{','.join(sorted(parent.extras))}]"
    return parent.describe() if hasattr(parent, "describe") else str(parent)


def normalise(name: str) -> str:
    return canonicalize_name(name)
