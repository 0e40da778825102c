"""Constraints (pip's and uv's ``-c FILE``): they limit the versions of packages that something
requires, without requiring them.

They are applied below the strategies: :class:`ConstrainedRepository` wraps a repository and
hides the releases that a constraint excludes, and delegates everything else. Every strategy and
the verifier see the same, smaller, index, so they stay consistent with each other without
knowing about constraints.

A constraint is a requirement without extras, URL or variant markers (``numpy<2``,
``scipy==1.16.0; python_version >= "3.12"``); constraints on one name intersect. A marker is
evaluated against the target once, when the constraints are parsed. Whether a pre-release may be
used is not a constraint's business: ``<2`` keeps ``1.9rc1`` and leaves it to the resolver's
pre-release policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from .errors import InputError
from .repository import RepositoryBase

if TYPE_CHECKING:
    from .problem import Problem
    from .repository import CoreMetadata, DistFile, Release, Repository
    from .target import Target
    from .variants.markers import VariantRequirement
    from .variants.metadata import VariantMetadata

__all__ = ["ConstrainedRepository", "check_constraint", "constrain", "parse_constraints"]


def check_constraint(text: str) -> VariantRequirement:
    """``text`` parsed, or an :class:`InputError` when it cannot be a constraint."""
    from .variants.markers import parse_requirement

    parsed = parse_requirement(text)
    if parsed.extras:
        raise InputError(f"constraint {text!r}: constraints cannot have extras")
    if parsed.url:
        raise InputError(f"constraint {text!r}: constraints cannot be URLs")
    if parsed.uses_variant_markers:
        raise InputError(f"constraint {text!r}: a constraint's marker cannot test variant properties")
    return parsed


def parse_constraints(
    texts: Iterable[str], environment: Mapping[str, str] | None = None
) -> dict[NormalizedName, SpecifierSet]:
    """Name -> the intersection of the constraints on it whose marker holds in ``environment``
    (a target's marker environment; ``None``: a constraint with a marker is an error)."""
    out: dict[NormalizedName, SpecifierSet] = {}
    for text in texts:
        parsed = check_constraint(text)
        if parsed.has_marker:
            if environment is None:
                raise InputError(f"constraint {text!r}: a marker needs a single target to evaluate it against")
            if not parsed.evaluate(environment):
                continue
        out[parsed.name] = out.get(parsed.name, SpecifierSet()) & parsed.specifier
    return out


class ConstrainedRepository(RepositoryBase):
    """``inner`` without the releases that ``constraints`` exclude; the rest is delegated."""

    def __init__(self, inner: Repository, constraints: Mapping[NormalizedName, SpecifierSet]) -> None:
        self.inner = inner
        self.constraints = dict(constraints)

    def releases(self, name: NormalizedName) -> list[Release]:
        found = self.inner.releases(name)
        spec = self.constraints.get(canonicalize_name(name))
        if spec is None:
            return found
        return [r for r in found if spec.contains(r.version, prereleases=True)]

    def metadata(self, release: Release, file: DistFile) -> CoreMetadata:
        return self.inner.metadata(release, file)

    def variant_metadata(self, release: Release) -> VariantMetadata | None:
        return self.inner.variant_metadata(release)

    def metadata_is_cheap(self, release: Release, file: DistFile) -> bool:
        return self.inner.metadata_is_cheap(release, file)

    # The lifecycle of the repository protocol, delegated (__enter__/__exit__ from the base).

    def names(self) -> Sequence[NormalizedName] | None:
        return self.inner.names()

    def hint_target(self, target: Target) -> None:
        self.inner.hint_target(target)

    def prefetch(self, names: Iterable[str]) -> None:
        self.inner.prefetch(names)

    def prefetch_metadata(self, files: Iterable[tuple[Release, DistFile]]) -> None:
        self.inner.prefetch_metadata(files)

    def close(self) -> None:
        self.inner.close()

    @property
    def counters(self) -> Mapping[str, int]:
        return self.inner.counters

    def __getattr__(self, name: str) -> Any:  # anything else a source offers
        if name == "inner":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"ConstrainedRepository({self.inner!r}, {len(self.constraints)} constraints)"


def constrain(problem: Problem, constraints: Sequence[str], *, single_target: bool = True) -> Problem:
    """``problem`` whose repository hides what ``constraints`` exclude (unchanged without any).

    Markers are evaluated against ``problem.target``; with ``single_target=False`` (a lock for
    several targets, which share the repository) a constraint with a marker is an error.
    """
    if not constraints:
        return problem
    environment = problem.target.marker_environment() if single_target else None
    parsed = parse_constraints(constraints, environment)
    return replace(problem, repository=ConstrainedRepository(problem.repository, parsed))
